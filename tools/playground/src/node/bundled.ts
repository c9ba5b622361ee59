// Node runs a session from the part's Node bundle (the same source, engine and shims as the
// browser's, with Node's own setImmediate behind the gate and its own Buffer): any link plays,
// test scenarios and mutants included.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { bundlePart } from "../build/bundle.ts";
import type { Engine } from "../engine/api.ts";

const loaded = new Map<string, Promise<Engine>>();

/**
 * The part's Node bundle, imported once per process. It is written to a folder of this process's
 * own (test files running side by side must not read each other's half-written bundle) and
 * removed once imported: the bundle imports nothing.
 */
export function nodeEngine(part: string): Promise<Engine> {
  let engine = loaded.get(part);
  if (engine === undefined) {
    engine = (async () => {
      const { code } = await bundlePart(part, "node");
      const dir = mkdtempSync(path.join(tmpdir(), "playground-node-"));
      try {
        const file = path.join(dir, `${part}.mjs`);
        writeFileSync(file, code);
        return (await import(pathToFileURL(file).href)) as Engine;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    })();
    loaded.set(part, engine);
  }
  return engine;
}
