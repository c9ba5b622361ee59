// Bundles one part for the playground with esbuild: the part's own source (imported by package
// name), its test files as they are, and the engine, into one script for the browser (or one
// module for Node). Nothing of a part is rewritten; the bundle only
// - resolves "vitest" to engine/vitest-shim.ts, node:fs and node:path to small in-memory
//   stand-ins (shims/), and lincheck to its checker without its page (shims/lincheck.ts);
// - gives the free identifiers setImmediate, process and (browser) Buffer the playground's
//   (shims/globals.ts, shims/buffer.ts): setImmediate is the gate the session keeps;
// - replaces `import.meta.dirname` in the parts' files by their folder under /repo, a
//   virtual root where the harness finds its part's name and the test files' paths;
// - serves src/raft.ts (and any other file of src/ a mutant edits) as a switch between the real
//   module and each mutant the part defines in scripts/mutants.ts (one find/replace edit each,
//   made here, at bundle time): a session picks one before it creates its first node.
// Test files that need Node (a disk, processes, sockets) cannot run in a browser and are left out
// by one rule, testFiles() below; the page lists them with the reason.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Metafile, type OnLoadResult, type Plugin, type PluginBuild } from "esbuild";
import { applyMutant, type Mutant, readMutants } from "./mutants.ts";

export const TOOL_DIR = path.resolve(fileURLToPath(import.meta.url), "../../..");
export const REPO = path.resolve(TOOL_DIR, "../..");
const SRC = path.join(TOOL_DIR, "src");

export type Platform = "browser" | "node";

/** The Node built-ins a test file may reach: only through its harness, which the shims serve. */
const SHIMMED_IMPORTERS = /^part[^/]*\/test\/(harness|replay)\.ts$/;
const SHIMMED_BUILTINS = new Set(["node:fs", "node:path"]);

export interface TestFileList {
  included: string[];
  excluded: { file: string; reason: string }[];
}

/** The part's src/raft.ts, or (part 4) that of the part it builds on. */
export function raftPartOf(part: string): string {
  if (existsSync(path.join(REPO, part, "src", "raft.ts"))) return part;
  const pkg = JSON.parse(readFileSync(path.join(REPO, part, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  const base = Object.keys(pkg.dependencies ?? {}).find((d) => /^part\d/.test(d));
  if (base === undefined) throw new Error(`${part} has no src/raft.ts and builds on no part`);
  return raftPartOf(base);
}

export function mutantsOf(part: string): Mutant[] {
  return readMutants(path.join(REPO, raftPartOf(part)));
}

/** The file a mutant of `part` edits, absolute: its `file`, or the part's src/raft.ts. */
export function mutatedFile(part: string, mutant: Pick<Mutant, "file">): string {
  return path.join(REPO, raftPartOf(part), mutant.file ?? path.join("src", "raft.ts"));
}

function listTests(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".test.ts"))
    .map((e) => path.relative(REPO, path.join(e.parentPath, e.name)))
    .sort();
}

/**
 * The rule: a test file runs in the playground unless something it imports (itself, or any file
 * it reaches) imports a Node built-in, other than node:fs and node:path in the part's
 * test/harness.ts and test/replay.ts (the few calls there are served by the shims). So part 3's
 * disk-storage tests (node:fs), the trace-format tests (they read docs/ from disk) and part 4's
 * real-process tests (test/real/: processes, HTTP) are left out, each with its reason.
 */
export async function testFiles(part: string): Promise<TestFileList> {
  const candidates = listTests(path.join(REPO, part, "test"));
  const result = await build({
    absWorkingDir: REPO,
    entryPoints: candidates,
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    format: "esm",
    outdir: "out",
    logLevel: "silent",
    plugins: [
      {
        name: "externals",
        setup(b) {
          b.onResolve({ filter: /^(vitest|why-is-node-running)$/ }, (a) => ({
            path: a.path,
            external: true,
          }));
          // as in the bundle: lincheck without its page (which reads its template from disk)
          b.onResolve({ filter: /^lincheck$/ }, () => ({
            path: path.join(SRC, "shims", "lincheck.ts"),
          }));
        },
      },
    ],
  });
  const inputs = result.metafile.inputs;
  const included: string[] = [];
  const excluded: TestFileList["excluded"] = [];
  for (const file of candidates) {
    const reason = nodeImportIn(inputs, file);
    if (reason === undefined) included.push(file);
    else excluded.push({ file, reason });
  }
  return { included, excluded };
}

/** The first Node built-in reached from `entry` against the rule, as a reason; else undefined. */
function nodeImportIn(inputs: Metafile["inputs"], entry: string): string | undefined {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const imported of inputs[file]?.imports ?? []) {
      const builtin = imported.path.startsWith("node:") || imported.external;
      if (!builtin) {
        stack.push(imported.path);
        continue;
      }
      if (!imported.path.startsWith("node:")) continue; // vitest: the shim serves it
      if (SHIMMED_IMPORTERS.test(file) && SHIMMED_BUILTINS.has(imported.path)) continue;
      return file === entry
        ? `imports ${imported.path}`
        : `imports ${imported.path} through ${file}`;
    }
  }
  return undefined;
}

/**
 * Files the tests read, by their path under the virtual /repo: the part's package.json (the
 * harness names a test's package from it, in the trace and the replay commands) and test/golden/.
 */
function embeddedFiles(part: string): Record<string, string> {
  const files: Record<string, string> = {
    [`/repo/${part}/package.json`]: readFileSync(path.join(REPO, part, "package.json"), "utf8"),
  };
  const dir = path.join(REPO, part, "test", "golden");
  if (!existsSync(dir)) return files;
  for (const name of readdirSync(dir)) {
    files[`/repo/${part}/test/golden/${name}`] = readFileSync(path.join(dir, name), "utf8");
  }
  return files;
}

export interface PartBundle {
  code: string;
  tests: TestFileList;
  mutants: Mutant[];
}

/**
 * One part's bundle. Browser: a classic script (pages opened from file:// may not load modules)
 * that leaves `raftPlaygroundPart`, a promise of the engine (engine/api.ts) with `runtime` (a
 * promise of the engine's Runtime for this part). Node: an ES module exporting the same.
 */
export async function bundlePart(part: string, platform: Platform): Promise<PartBundle> {
  const tests = await testFiles(part);
  const mutants = mutantsOf(part);
  // Each file a mutant edits becomes a switch (raft.ts always: it is where mutants usually go).
  const switched = new Map<string, number[]>([[mutatedFile(part, {}), []]]);
  mutants.forEach((m, i) => {
    const file = mutatedFile(part, m);
    switched.set(file, [...(switched.get(file) ?? []), i]);
  });
  const result = await build({
    absWorkingDir: REPO,
    entryPoints: ["playground:entry"],
    bundle: true,
    write: false,
    // ES modules (the parts' test files may await at their top level), run in the browser as a
    // classic script (below): pages opened from file:// may not load modules.
    format: "esm",
    platform: platform === "browser" ? "browser" : "node",
    target: "es2022",
    charset: "utf8",
    legalComments: "none",
    logLevel: "silent",
    inject: [
      path.join(SRC, "shims", "globals.ts"),
      ...(platform === "browser" ? [path.join(SRC, "shims", "buffer.ts")] : []),
    ],
    plugins: [playgroundPlugin({ part, tests, mutants, switched })],
  });
  const code = result.outputFiles[0]!.text;
  return { code: platform === "browser" ? asClassicScript(code) : code, tests, mutants };
}

/**
 * An ES module bundle (it imports nothing) as a classic script: its body runs in an async
 * function, so awaits at its top level still work, and what it exports is left out (the entry
 * leaves the engine on globalThis as well). `raftPlaygroundPart` is the promise of that engine.
 */
function asClassicScript(code: string): string {
  const body = code.replace(/^export\s*\{[^}]*\};?\s*$/m, "");
  if (/^\s*(import|export)\b/m.test(body))
    throw new Error("the browser bundle still imports or exports");
  return `globalThis.raftPlaygroundPart = (async () => {\n"use strict";\n${body}\nreturn globalThis.__raftPlaygroundEngine;\n})();\n`;
}

interface PluginInput {
  part: string;
  tests: TestFileList;
  mutants: Mutant[];
  /** The files served as switches, each with the indices of the mutants that edit it. */
  switched: Map<string, number[]>;
}

function playgroundPlugin(input: PluginInput): Plugin {
  return {
    name: "playground",
    setup(b) {
      resolveForTheBrowser(b);
      b.onLoad({ filter: /.*/, namespace: "playground" }, (a) => ({
        resolveDir: a.path === "playground:entry" ? SRC : REPO,
        loader: a.path === "playground:entry" ? "ts" : "js",
        contents: a.path === "playground:entry" ? entryModule(input) : testsModule(input),
      }));
      b.onLoad({ filter: /.*/, namespace: "raft-variant" }, (a) => variantOf(a.path, input));
      b.onLoad({ filter: /\.ts$/ }, (a) => partFile(a.path, input));
    },
  };
}

/**
 * Where the bundle's imports go: vitest, fs, path and lincheck to the playground's stand-ins, any
 * other node: module to an error naming its importer, the bundle's own modules to its namespaces.
 */
function resolveForTheBrowser(b: PluginBuild): void {
  const shim = (name: string) => path.join(SRC, "shims", `${name}.ts`);
  b.onResolve({ filter: /^vitest$/ }, () => ({
    path: path.join(SRC, "engine", "vitest-shim.ts"),
  }));
  b.onResolve({ filter: /^(node:)?(fs|path)$/ }, (a) => ({
    path: shim(a.path.replace(/^node:/, "")),
  }));
  b.onResolve({ filter: /^lincheck$/ }, () => ({ path: shim("lincheck") }));
  b.onResolve({ filter: /^node:/ }, (a) => ({
    errors: [
      {
        text: `${a.path} (imported by ${path.relative(REPO, a.importer)}) cannot run in a browser`,
      },
    ],
  }));
  b.onResolve({ filter: /^playground:/ }, (a) => ({ path: a.path, namespace: "playground" }));
  b.onResolve({ filter: /^raft-variant:/ }, (a) => ({
    path: a.path.slice("raft-variant:".length),
    namespace: "raft-variant",
  }));
}

/** The bundle's entry: the engine for this part, with a way to choose a mutant in every switch. */
function entryModule({ part, mutants, switched }: PluginInput): string {
  const js = JSON.stringify;
  return [
    `import { part } from ${js(path.join(SRC, "parts", `${part}.ts`))};`,
    `import { makeRuntime } from ${js(path.join(SRC, "engine", "runtime.ts"))};`,
    `export * from ${js(path.join(SRC, "engine", "api.ts"))};`,
    `import * as engine from ${js(path.join(SRC, "engine", "api.ts"))};`,
    `import * as tests from "playground:tests";`,
    ...[...switched.keys()].map(
      (file, i) => `import { __playgroundSelect as select${i} } from ${js(file)};`,
    ),
    `const mutants = ${js(mutants.map(({ name, rule, file, chaosCannotReach }) => ({ name, rule, file, chaosCannotReach })))};`,
    `function selectMutant(name) {`,
    `  if (name !== null && !mutants.some((m) => m.name === name)) throw new Error("no mutant " + JSON.stringify(name) + ": the mutants are " + mutants.map((m) => m.name).join(", "));`,
    ...[...switched.keys()].map((_, i) => `  select${i}(name);`),
    `}`,
    `export const runtime = makeRuntime({ part, mutants, selectMutant, tests });`,
    `globalThis.__raftPlaygroundEngine = { ...engine, runtime };`,
  ].join("\n");
}

/** `playground:tests`: the part's test files, each loaded when run, and the files they read. */
function testsModule({ part, tests }: PluginInput): string {
  const js = JSON.stringify;
  return [
    `export const files = [`,
    ...tests.included.map(
      (file) => `  { file: ${js(file)}, load: () => import(${js(path.join(REPO, file))}) },`,
    ),
    `];`,
    `export const excluded = ${js(tests.excluded)};`,
    `export const embedded = ${js(embeddedFiles(part))};`,
  ].join("\n");
}

/** `raft-variant:<file>#real` is the file as it is; `#<i>`, the file as mutant i edits it. */
function variantOf(variant: string, { mutants }: PluginInput): OnLoadResult {
  const [file, which] = variant.split("#") as [string, string];
  const source = readFileSync(file, "utf8");
  const mutant = which === "real" ? undefined : mutants[Number(which)];
  return {
    resolveDir: path.dirname(file),
    loader: "ts",
    contents:
      mutant === undefined ? source : applyMutant(source, mutant, path.relative(REPO, file)),
  };
}

/**
 * A TypeScript file: a switch if mutants edit it; a part's file with `import.meta.dirname`
 * replaced by where the page's embedded files put that folder; anything else as esbuild reads it.
 */
async function partFile(
  file: string,
  { mutants, switched }: PluginInput,
): Promise<OnLoadResult | undefined> {
  const edits = switched.get(file);
  if (edits !== undefined)
    return { loader: "ts", contents: await fileSwitch(file, edits, mutants) };
  const relative = path.relative(REPO, file);
  if (!/^part[^/]*\//.test(relative)) return undefined;
  const source = readFileSync(file, "utf8");
  if (!source.includes("import.meta.dirname")) return undefined;
  return {
    loader: "ts",
    contents: source.replaceAll(
      "import.meta.dirname",
      JSON.stringify(`/repo/${path.dirname(relative)}`),
    ),
  };
}

/**
 * A file mutants edit (src/raft.ts, mostly) as the bundle serves it: each export is a binding
 * that `__playgroundSelect` points at the real module or at the mutant chosen, if that mutant
 * edits this file (modules that import it see the change, as ES module bindings are live). The
 * entry calls every file's switch with the name chosen; it has checked the name.
 */
async function fileSwitch(file: string, edits: number[], mutants: Mutant[]): Promise<string> {
  const names = await exportsOf(file);
  const js = JSON.stringify;
  const variant = (which: string) => js(`raft-variant:${file}#${which}`);
  return [
    `import * as real from ${variant("real")};`,
    ...edits.map((i) => `import * as m${i} from ${variant(String(i))};`),
    `const variants = new Map([${edits.map((i) => `[${js(mutants[i]!.name)}, m${i}]`).join(", ")}]);`,
    ...names.map((n) => `export let ${n} = real.${n};`),
    `export function __playgroundSelect(name) {`,
    `  const chosen = variants.get(name ?? "") ?? real;`,
    ...names.map((n) => `  ${n} = chosen.${n};`),
    `}`,
  ].join("\n");
}

async function exportsOf(file: string): Promise<string[]> {
  const result = await build({
    entryPoints: [file],
    bundle: false,
    write: false,
    metafile: true,
    format: "esm",
    outdir: "out",
    logLevel: "silent",
  });
  return Object.values(result.metafile.outputs)[0]?.exports ?? [];
}
