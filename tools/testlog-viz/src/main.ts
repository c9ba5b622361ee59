// The command line: finds trace files, renders them, and reports where the pages are.
// Kept apart from cli.ts (which only wires it to the process) so tests can call it directly.

import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { Chalk, type ChalkInstance } from "chalk";
import { renderIndex, renderPage } from "./html.ts";
import { buildTimeline, type Timeline } from "./model.ts";
import { renderText } from "./text.ts";
import { parseTrace } from "./trace.ts";

export const HELP = `testlog-viz: turn raft-ts test traces into colour-coded timelines

Usage:
  pnpm viz [options] <trace.jsonl | folder> ...

Inputs:
  Trace files written by a part's tests when RAFT_TRACE_DIR is set (JSON lines, see
  docs/trace-format.md). A folder stands for every *.jsonl file directly inside it.
  Unreadable lines are skipped and reported in a warning banner; a trace without its
  test.end line counts as failed ("trace cut short").

Outputs (--format html, the default):
  One self-contained page per trace, <trace name>.html, and index.html listing every test
  with PASS / FAIL. Pages inline all their CSS and script: open them straight from disk.
  One line per test is printed: PASS or FAIL, the test's name and the file:// address of
  its page; the last line gives the index.

Options:
  -o, --out <folder>    where pages go (default: the folder of the first input)
  -f, --format <fmt>    html (default) or text: print each timeline to the terminal, one
                        line per event, tinted by role when the output is a terminal
      --hide-heartbeats text format: leave out heartbeats (empty AppendEntries and replies)
      --exit-code       exit with 1 if any test failed or its trace was cut short
  -h, --help            show this help

Exit status: 0 when everything was rendered, 1 with --exit-code and a failed test,
2 for a usage error (unknown option, missing input, no traces found).

Examples:
  pnpm viz .traces/part1-election                 # pages + index next to the traces
  pnpm viz -f text --hide-heartbeats run.jsonl    # quick look in the terminal
  ./dotest.sh part1-election "basic election"     # run tests with tracing, then render
`;

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** chalk colour level for the terminal: 0 = plain text */
  color: 0 | 1 | 2 | 3;
}

class UsageError extends Error {}

export function main(argv: string[], io: Io): number {
  try {
    return run(argv, io);
  } catch (error) {
    if (!(error instanceof UsageError) && !(error instanceof TypeError)) throw error;
    // parseArgs reports unknown options as TypeErrors with a readable message
    io.err(`testlog-viz: ${error.message}\nTry --help.\n`);
    return 2;
  }
}

function run(argv: string[], io: Io): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: "string", short: "o" },
      format: { type: "string", short: "f", default: "html" },
      "hide-heartbeats": { type: "boolean", default: false },
      "exit-code": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  if (values.format !== "html" && values.format !== "text") {
    throw new UsageError(`unknown format "${values.format}" (html or text)`);
  }
  if (positionals.length === 0) throw new UsageError("no input: give trace files or folders");
  const files = positionals.flatMap(traceFiles);
  if (files.length === 0) throw new UsageError(`no .jsonl traces in ${positionals.join(", ")}`);
  const timelines = files.map((file) =>
    buildTimeline(parseTrace(readFileSync(file, "utf8"), file)),
  );
  const chalk = new Chalk({ level: io.color });
  if (values.format === "text") {
    for (const timeline of timelines) {
      io.out(renderText(timeline, { chalk, hideHeartbeats: values["hide-heartbeats"] }));
    }
  } else {
    const outDir = resolve(values.out ?? defaultOut(positionals[0]!));
    writePages(timelines, outDir, io, chalk);
  }
  const failed = timelines.some((t) => t.trace.result !== "pass");
  return values["exit-code"] && failed ? 1 : 0;
}

function traceFiles(input: string): string[] {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(input);
  } catch {
    throw new UsageError(`no such file or folder: ${input}`);
  }
  if (!stat.isDirectory()) return [input];
  return readdirSync(input)
    .filter((name) => name.endsWith(".jsonl"))
    .sort()
    .map((name) => join(input, name));
}

function defaultOut(firstInput: string): string {
  return statSync(firstInput).isDirectory() ? firstInput : dirname(firstInput);
}

function writePages(timelines: Timeline[], outDir: string, io: Io, chalk: ChalkInstance): void {
  mkdirSync(outDir, { recursive: true });
  const taken = new Set<string>(["index.html"]);
  const entries = timelines.map((timeline) => {
    const name = uniqueName(basename(timeline.trace.source).replace(/\.jsonl$/, ""), taken);
    const path = join(outDir, name);
    writeFileSync(path, renderPage(timeline, "index.html"));
    const result = timeline.trace.result;
    const label =
      result === "pass"
        ? chalk.green("PASS")
        : chalk.red(result === "fail" ? "FAIL" : "FAIL (trace cut short)");
    const test = String(timeline.trace.start?.test ?? timeline.trace.source);
    io.out(`${label}  ${test}  ${pathToFileURL(path).href}\n`);
    return { href: encodeURIComponent(name), timeline };
  });
  const index = join(outDir, "index.html");
  writeFileSync(index, renderIndex(`tests in ${basename(outDir)}`, entries));
  io.out(`index  ${pathToFileURL(index).href}\n`);
}

function uniqueName(stem: string, taken: Set<string>): string {
  let name = `${stem}.html`;
  for (let n = 2; taken.has(name); n++) name = `${stem}-${n}.html`;
  taken.add(name);
  return name;
}
