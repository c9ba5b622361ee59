// Starts one of this part's commands fast: `pnpm kv`, `pnpm kv:node` and `pnpm kv:cluster` run
// scripts/kv.ts, kv-node.ts and kv-cluster.ts through here, as does every node process that
// kv:cluster, the tests and the benchmark spawn (src/real/spawn.ts).
//
//   node scripts/launch.mjs <kv | kv-node | kv-cluster> [arguments...]
//   node scripts/launch.mjs --build       only bring the bundles up to date
//
// Each command is bundled by esbuild, with everything it imports (part 3 included), into one file
// of plain JavaScript in out/bundle/, which Node loads in a fraction of the time tsx takes to
// compile the TypeScript on every start (a node serves within about a fifth of a second). The
// bundles are rebuilt, all at once, whenever a file they were made from, or this one, is newer
// than they are: they are never stale, there is no build step to remember, and nothing generated
// is kept in git. Stack traces point into the TypeScript (source maps). This file is plain
// JavaScript so that plain Node can run it.

import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const partDir = path.resolve(import.meta.dirname, "..");
// Two folders below the part, as src/real/ is: `import.meta.dirname + "../.."` is the part's
// folder in the sources and in the bundles alike (src/real/command-line.ts).
const outDir = path.join(partDir, "out", "bundle");
const COMMANDS = ["kv", "kv-node", "kv-cluster"];
const INPUTS = path.join(outDir, "inputs.json");

const bundleOf = (command) => path.join(outDir, `${command}.mjs`);

/** Whether every bundle exists and is newer than each file it was made from, and this one. */
function fresh() {
  let built;
  try {
    built = JSON.parse(readFileSync(INPUTS, "utf8"));
  } catch {
    return false;
  }
  const sources = [
    fileURLToPath(import.meta.url),
    ...built.inputs.map((f) => path.resolve(partDir, f)),
  ];
  try {
    if (COMMANDS.some((command) => statSync(bundleOf(command)).mtimeMs < built.at)) return false;
    return sources.every((file) => statSync(file).mtimeMs < built.at);
  } catch {
    return false; // a file that is gone: something was renamed or removed
  }
}

/** Bundles every command. Several processes may do so at once: each file is replaced whole. */
async function build() {
  const { buildSync } = await import("esbuild");
  const at = Date.now(); // before reading: a file changed while building makes the next start rebuild
  const result = buildSync({
    entryPoints: COMMANDS.map((command) => ({ in: `scripts/${command}.ts`, out: command })),
    absWorkingDir: partDir,
    outdir: outDir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: "linked",
    metafile: true,
    write: false,
    logLevel: "error",
  });
  mkdirSync(outDir, { recursive: true });
  for (const file of result.outputFiles) replace(file.path, file.contents);
  replace(INPUTS, JSON.stringify({ at, inputs: Object.keys(result.metafile.inputs) }));
}

function replace(file, contents) {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, file);
}

const [command, ...args] = process.argv.slice(2);
if (command !== "--build" && !COMMANDS.includes(command)) {
  console.error(`usage: node scripts/launch.mjs <${COMMANDS.join(" | ")}> [arguments...]`);
  process.exit(2);
}
if (!fresh()) await build();
if (command !== "--build") {
  process.argv = [process.argv[0], bundleOf(command), ...args];
  process.setSourceMapsEnabled(true);
  await import(pathToFileURL(bundleOf(command)).href);
}
