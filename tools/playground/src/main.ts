// The command line: builds the site and prints its address, or plays a session's link in Node.
// Kept apart from cli.ts (which only wires it to the process) so tests can call it directly.

import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { TOOL_DIR } from "./build/bundle.ts";
import { buildSite, type SiteReport } from "./build/site.ts";
import { downloadText, traceHash } from "./engine/hash.ts";
import { fromFragment, type SessionSpec, toFragment } from "./engine/spec.ts";

export const HELP = `playground: the parts' real Raft code in the browser, driven by you

Usage:
  pnpm playground [--open] [--out <folder>] [--part <part>] [--nodes <n>] [--seed <n>]
  pnpm playground:build [--out <folder>]
  pnpm playground --replay '<link>' [--trace <file>] [--for <ms>] [--direct]

Without --replay: builds the page (a static folder: index.html, its script and style, one
script per part) and prints the file:// address to open; --open also opens it in the
system's browser. --part, --nodes and --seed choose what the address starts with.
pnpm playground:build only writes the folder, ready to publish as it is (default
tools/playground/out/site).

--replay plays a session's link (the page's "link" button gives it; the part of it after
"#" is enough) in Node, prints the hash of its trace (the page shows the same hash for the
same link) and, with --trace, writes the trace as JSON lines that \`pnpm viz\` renders.
A link made at some moment ends there; one without that moment runs --for ms of virtual
time (default 3000). --direct runs a free session from the parts' source without a bundle
(no scenarios, no mutants).

Options:
      --out <folder>    where the site goes (default tools/playground/out/site)
      --open            open the page in the browser (xdg-open, open or start)
      --part <part>     part1-election, part2-replication, part3-persistence, part4-kv,
                        part5-snapshots, part6-availability
      --nodes <n>       cluster size, 1 to 7 (default 3)
      --seed <n>        the seed (default 1)
      --replay <link>   play this link in Node
      --trace <file>    with --replay: write the trace here
      --for <ms>        with --replay, for a link without an end: virtual ms to run
      --direct          with --replay: no bundle, the parts' source as tsx imports it
  -h, --help            show this help

Exit status: 0 when done, 1 when something failed (a build error, a link whose session
fails: its violation or its test's failure is printed), 2 for a usage error.

Examples:
  pnpm playground --part part3-persistence --nodes 5
  pnpm playground --replay '#part=part1-election&n=4&mutant=majority-counted-with-%3E%3D&a=2.partition.0-1_2-3&at=40'
  pnpm playground --replay '<link>' --trace session.jsonl && pnpm viz session.jsonl
`;

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Where the user typed the command: relative paths resolve against it. */
  cwd: string;
}

export class UsageError extends Error {}

const PROG = "playground";

export async function main(argv: string[], io: Io): Promise<number> {
  try {
    return await run(argv, io);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const usage =
      error instanceof UsageError ||
      (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"));
    const message = error instanceof Error ? error.message : String(error);
    if (!usage) {
      io.err(`${PROG}: ${message}\n`);
      return 1;
    }
    io.err(`${PROG}: ${message}\nTry 'pnpm playground --help'.\n`);
    return 2;
  }
}

async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv.filter((a) => a !== "--"),
    allowPositionals: true,
    options: {
      out: { type: "string" },
      open: { type: "boolean", default: false },
      part: { type: "string" },
      nodes: { type: "string" },
      seed: { type: "string" },
      replay: { type: "string" },
      trace: { type: "string" },
      for: { type: "string" },
      direct: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  const [command, ...extra] = positionals;
  if (extra.length > 0 || (command !== undefined && command !== "build")) {
    throw new UsageError(`unexpected argument "${extra[0] ?? command}"`);
  }
  if (values.replay !== undefined) {
    if (command === "build") throw new UsageError("build and --replay do not go together");
    return replay(values.replay, values, io);
  }
  const dir = path.resolve(io.cwd, values.out ?? path.join(TOOL_DIR, "out", "site"));
  const spec = startSpec(values);
  const report = await buildSite(dir, (line) => io.err(`${line}…\n`));
  printReport(report, io);
  if (command === "build") return 0;
  const address = `${pathToFileURL(report.index).href}#${toFragment(spec)}`;
  io.out(`\nopen ${address}\n`);
  if (values.open) openInBrowser(address, io);
  return 0;
}

/** The session the printed address starts: --part, --nodes, --seed over the defaults. */
function startSpec(values: { part?: string; nodes?: string; seed?: string }): SessionSpec {
  const spec = fromFragment("");
  try {
    return fromFragment(
      toFragment({
        ...spec,
        part: values.part ?? spec.part,
        nodes: values.nodes === undefined ? spec.nodes : whole("--nodes", values.nodes, 1, 7),
        seed: values.seed === undefined ? spec.seed : whole("--seed", values.seed, 0, 2 ** 32 - 1),
      }),
    );
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError((error as Error).message);
  }
}

/** One parser for every number on this command line. */
export function whole(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${name} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

function printReport(report: SiteReport, io: Io): void {
  io.out(`the playground is in ${report.dir}\n`);
  for (const p of report.parts) {
    const left = p.excluded.length === 0 ? "" : `, ${p.excluded.length} left out (need Node)`;
    io.out(
      `  ${p.name.padEnd(18)} ${(p.bytes / 1024).toFixed(0).padStart(5)} KB  ${p.testFiles} test files${left}, ${p.mutants} mutants\n`,
    );
  }
}

async function replay(
  link: string,
  values: { trace?: string; for?: string; direct?: boolean },
  io: Io,
): Promise<number> {
  let spec: SessionSpec;
  try {
    spec = fromFragment(link);
  } catch (error) {
    throw new UsageError(`--replay: ${(error as Error).message}`);
  }
  const forMs = values.for === undefined ? 3000 : whole("--for", values.for, 1, 10_000_000);
  const session = values.direct
    ? await (await import("./node/direct.ts")).playDirect(spec, forMs)
    : await playBundled(spec, forMs);
  const events = session.events;
  const failed = session.violation !== null || session.test?.state === "fail";
  const error = session.violation
    ? `${session.violation.invariant}: ${session.violation.message}`
    : session.test?.errors[0];
  if (values.trace !== undefined) {
    const file = path.resolve(io.cwd, values.trace);
    writeFileSync(file, downloadText(events, { failed, error }));
    io.out(`trace: ${file}\n`);
  }
  io.out(`${events.length} events, ${session.gateNow()} gates, ${session.phase}\n`);
  io.out(`sha256 ${await traceHash(events)}\n`);
  if (failed) io.err(`${PROG}: the session failed: ${error}\n`);
  return failed ? 1 : 0;
}

async function playBundled(spec: SessionSpec, forMs: number) {
  const { nodeEngine } = await import("./node/bundled.ts");
  const engine = await nodeEngine(spec.part);
  const session = new engine.Session(await engine.runtime, spec);
  if (spec.at === null) session.holdAtTime = forMs;
  session.start();
  await session.settledNow();
  session.close();
  return session;
}

function openInBrowser(address: string, io: Io): void {
  const opener =
    process.platform === "darwin" ? "open" : process.platform === "win32" ? "start" : "xdg-open";
  const child = spawn(opener, [address], { stdio: "ignore", detached: true });
  child.on("error", () =>
    io.err(`${PROG}: could not run ${opener}; open the address above yourself\n`),
  );
  child.unref();
}
