// Node runs a session from the part's Node bundle (the same source, engine and shims as the
// browser's, with Node's own setImmediate behind the gate and its own Buffer): any link plays,
// test scenarios and mutants included.

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { bundlePart, TOOL_DIR } from "../build/bundle.ts";

import type { Engine } from "../engine/api.ts";

const loaded = new Map<string, Promise<Engine>>();

/** The part's Node bundle, built into out/node/ and imported (once per process). */
export function nodeEngine(part: string): Promise<Engine> {
  let engine = loaded.get(part);
  if (engine === undefined) {
    engine = (async () => {
      const { code } = await bundlePart(part, "node");
      const dir = path.join(TOOL_DIR, "out", "node");
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `${part}.mjs`);
      writeFileSync(file, code);
      return (await import(pathToFileURL(file).href)) as Engine;
    })();
    loaded.set(part, engine);
  }
  return engine;
}
