// The static site: index.html, the page's script and style, and one script per part (bundle.ts).
// No server is needed: open index.html from disk, or publish the folder as it is. The page
// loads only its own files.

import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { PARTS } from "../parts.ts";
import { bundlePart, REPO, TOOL_DIR } from "./bundle.ts";

const PAGE = path.join(TOOL_DIR, "src", "page");
/** What a build writes: a folder holding only these is an earlier build, replaced as a whole. */
const OURS = new Set([
  "index.html",
  "playground.js",
  "playground.css",
  "cluster-view.css",
  "parts",
]);

export interface SiteReport {
  dir: string;
  index: string;
  parts: {
    name: string;
    bytes: number;
    testFiles: number;
    excluded: { file: string; reason: string }[];
    mutants: number;
  }[];
}

/** Writes the site into `dir` (emptied first), one part at a time; `progress` hears each step. */
export async function buildSite(
  dir: string,
  progress: (line: string) => void = () => {},
): Promise<SiteReport> {
  const foreign = existsSync(dir) ? readdirSync(dir).filter((name) => !OURS.has(name)) : [];
  if (foreign.length > 0) {
    throw new Error(
      `${dir} holds other files (${foreign.slice(0, 3).join(", ")}): choose a new or empty folder for the playground`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, "parts"), { recursive: true });
  const report: SiteReport = { dir, index: path.join(dir, "index.html"), parts: [] };
  for (const part of PARTS) {
    if (!existsSync(path.join(REPO, part.name))) continue;
    progress(`bundling ${part.name} (its code, its test files, its mutants)`);
    const bundle = await bundlePart(part.name, "browser");
    writeFileSync(path.join(dir, "parts", `${part.name}.js`), bundle.code);
    report.parts.push({
      name: part.name,
      bytes: Buffer.byteLength(bundle.code),
      testFiles: bundle.tests.included.length,
      excluded: bundle.tests.excluded,
      mutants: bundle.mutants.length,
    });
  }
  progress("bundling the page");
  await build({
    entryPoints: [path.join(PAGE, "main.ts")],
    outfile: path.join(dir, "playground.js"),
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    charset: "utf8",
    legalComments: "none",
    logLevel: "silent",
  });
  copyFileSync(path.join(PAGE, "page.css"), path.join(dir, "playground.css"));
  // testlog-viz's cluster view, which the page draws the cluster with, and its style as it is
  copyFileSync(
    path.join(REPO, "tools", "testlog-viz", "src", "page", "cluster-view.css"),
    path.join(dir, "cluster-view.css"),
  );
  writeFileSync(report.index, readFileSync(path.join(PAGE, "index.html"), "utf8"));
  return report;
}
