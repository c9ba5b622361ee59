// The command line: finds trace files, renders them, and reports where the pages are.
// Kept apart from cli.ts (which only wires it to the process) so tests can call it directly.

import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { Chalk, type ChalkInstance } from "chalk";
import { errorReport, UsageError, userPath } from "./cli-support.ts";
import { renderIndex, renderPage, type TestWithoutTrace } from "./html.ts";
import { mergeTraces, type ReadFile, splitRuns } from "./merge.ts";
import { buildTimeline, type Timeline } from "./model.ts";
import { type ReportedTest, readReport, withoutTrace } from "./report.ts";
import { renderText } from "./text.ts";
import { assemble, passed, readEvents, resultLabel, type Trace, testName } from "./trace.ts";

export const HELP = `testlog-viz: turn raft-ts test traces into colour-coded timelines

Usage:
  pnpm viz [options] <trace.jsonl | folder> ...

Inputs:
  Trace files written by a part's tests when RAFT_TRACE_DIR is set (JSON lines, see
  docs/trace-format.md). A folder stands for every *.jsonl file directly inside it, and
  each of its subfolders that holds *.jsonl files for one run of real processes (part4's
  real tests keep a run's files so), merged as --merge does. Unreadable lines are skipped
  and reported in a warning banner; a trace without its test.end line counts as failed
  ("trace cut short"), except the files of real processes that no test drove
  (pnpm kv:cluster), which make a RUN. A file in which no line is a trace event is not a
  trace: that is an error (exit 2), not a page.

Outputs (--format html, the default):
  One self-contained page per trace, <trace name>.html, and index.html listing every test
  with PASS / FAIL. Pages inline all their CSS and script: open them straight from disk.
  One line per test is printed: PASS or FAIL, the test's name as vitest -t and dotest.sh
  accept it, and the file:// address of its page; the last line gives the index.

Options:
  -o, --out <folder>    where pages go (default: the folder of the first input)
  -f, --format <fmt>    html (default) or text: print each timeline to the terminal, one
                        line per event, tinted by role when the output is a terminal
      --report <file>   vitest's JSON report of the run: tests that ran but started no
                        cluster (so wrote no trace) are listed in the index as such, and a
                        test vitest expects to fail (test.fails) counts as passed
      --hide-heartbeats text format: leave out heartbeats (empty AppendEntries and replies)
      --exit-code       exit with 1 if any test failed or its trace was cut short
      --merge           the inputs are the files of one run (part4's processes each write
                        their own, t in wall-clock ms): one timeline of all their events in
                        time order, every node's and client's column, messages linked across
                        files by id. Assumes the files' clocks are one machine's clock. Files
                        of different runs (their process.start names the run) make one page
                        per run, never one cluster of both.
  -h, --help            show this help

Exit status: 0 when everything was rendered, 1 with --exit-code and a failed test (or
when writing failed), 2 for a usage error (unknown option, missing input, no traces
found, a file that is not a trace). Relative paths are read from the folder the command
was typed in.

Examples:
  pnpm viz .traces/part1-election                 # pages + index next to the traces
  pnpm viz -f text --hide-heartbeats run.jsonl    # quick look in the terminal
  pnpm viz --merge run-7/                         # one run's process files, one timeline
  ./dotest.sh part1-election "basic election"     # run tests with tracing, then render
`;

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** chalk colour level for the terminal: 0 = plain text */
  color: 0 | 1 | 2 | 3;
}

/** Runs the command line; a usage error is status 2 with a hint, any other error status 1. */
export function main(argv: string[], io: Io): number {
  try {
    return run(argv, io);
  } catch (error) {
    const { text, status } = errorReport(error);
    io.err(text);
    return status;
  }
}

const OPTIONS = {
  out: { type: "string", short: "o" },
  format: { type: "string", short: "f", default: "html" },
  report: { type: "string" },
  "hide-heartbeats": { type: "boolean", default: false },
  "exit-code": { type: "boolean", default: false },
  merge: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

function run(argv: string[], io: Io): number {
  const { values, positionals: typed } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: OPTIONS,
  });
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  if (values.format !== "html" && values.format !== "text") {
    throw new UsageError(`unknown format "${values.format}" (html or text)`);
  }
  if (typed.length === 0) throw new UsageError("no input: give trace files or folders");
  const positionals = typed.map((input) => userPath(input));
  const reported = values.report === undefined ? [] : reportedTests(userPath(values.report));
  const traces = readInputs(positionals, values.merge);
  if (traces.length === 0 && reported.length === 0) {
    throw new UsageError(`no .jsonl traces in ${positionals.join(", ")}`);
  }
  expectedFailures(traces, reported);
  const timelines = traces.map(buildTimeline);
  const chalk = new Chalk({ level: io.color });
  if (values.format === "text") {
    for (const timeline of timelines) {
      io.out(renderText(timeline, { chalk, hideHeartbeats: values["hide-heartbeats"] }));
    }
  } else {
    const outDir = values.out === undefined ? defaultOut(positionals[0]!) : userPath(values.out);
    const without = withoutTrace(
      reported,
      timelines.map((t) => t.trace),
    ).map((test) => ({ ...test, file: relative(process.cwd(), test.file) }));
    writePages(timelines, without, outDir, { io, chalk });
  }
  const failed =
    timelines.some((t) => !passed(t.trace.result)) || reported.some((t) => t.result !== "pass");
  return values["exit-code"] && failed ? 1 : 0;
}

/**
 * The traces of the inputs: each file, and each folder's files; a subfolder of a folder that
 * holds trace files is a run of real processes (part4's real tests keep a run's files in
 * <RAFT_TRACE_DIR>/<test>/), merged. With --merge, all the files given are one run.
 */
function readInputs(inputs: string[], merge: boolean): Trace[] {
  const files = inputs.flatMap(traceFiles);
  if (merge) return files.length === 0 ? [] : readMerged(files, inputs);
  const runs = inputs.flatMap(runFolders);
  return [...files.map(readTrace), ...runs.flatMap((dir) => readMerged(traceFiles(dir), [dir]))];
}

/** The subfolders of a folder that hold trace files: one run of real processes each. */
function runFolders(input: string): string[] {
  if (!statSync(input).isDirectory()) return [];
  return readdirSync(input, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(input, entry.name))
    .filter((dir) => readdirSync(dir).some((name) => name.endsWith(".jsonl")))
    .sort(naturally);
}

/** A trace, or a usage error for a file in which no line is a trace event. */
function readTrace(file: string): Trace {
  const { events, warnings } = readFile(file);
  return assemble(file, events, warnings);
}

function readFile(file: string): ReadFile {
  const { events, warnings } = readEvents(readFileSync(file, "utf8"));
  if (events.length === 0) {
    throw new UsageError(
      `${file} is not a trace: none of its lines is a trace event (see docs/trace-format.md)`,
    );
  }
  return { source: file, events, warnings };
}

/**
 * --merge: the files of one run as one trace, named after the run's folder when the input is
 * one folder, else "merged" (its page is then merged.html, beside the first file). Files of
 * several runs (their process.start names the run) make one trace per run, `<folder>-<run>`.
 */
function readMerged(files: string[], inputs: string[]): Trace[] {
  const [input] = inputs;
  const folder = inputs.length === 1 && input !== undefined && statSync(input).isDirectory();
  const base = folder ? resolve(input) : join(dirname(files[0]!), "merged");
  const runs = splitRuns(files.map(readFile));
  return runs.map(({ run, files: group }) => {
    const source = runs.length === 1 ? base : `${base}-${run ?? "without-run-id"}`;
    const others = runs.filter((r) => r.run !== run).map((r) => r.run ?? "(no run id)");
    return mergeTraces(group, source, others);
  });
}

/**
 * A test vitest counts as passed whose trace ends in a failure was meant to fail (vitest's
 * `test.fails`): the harness wrote its trace before vitest turned the failure into a pass.
 */
function expectedFailures(traces: Trace[], reported: ReportedTest[]): void {
  for (const trace of traces) {
    if (trace.result !== "fail" || trace.start === null) continue;
    const { test, file } = trace.start;
    const verdict = reported.find(
      (r) => r.path.join(" > ") === test && r.file.endsWith(`/${file}`),
    );
    if (verdict?.result === "pass") trace.result = "expected fail";
  }
}

function reportedTests(file: string): ReportedTest[] {
  try {
    return readReport(readFileSync(file, "utf8"));
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new UsageError(`cannot read the vitest report ${file}: ${why}`);
  }
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
    .sort(naturally)
    .map((name) => join(input, name));
}

/**
 * File names in the order a person counts them: a test's clusters write `<stem>.jsonl`,
 * `<stem>-2.jsonl` … `<stem>-41.jsonl`, which sorted as strings put `-10` before `-2` and the
 * first cluster last.
 */
export function naturally(a: string, b: string): number {
  const stem = (name: string) => name.replace(/\.jsonl$/, "");
  return stem(a).localeCompare(stem(b), "en", { numeric: true });
}

function defaultOut(firstInput: string): string {
  return statSync(firstInput).isDirectory() ? firstInput : dirname(firstInput);
}

function writePages(
  timelines: Timeline[],
  without: TestWithoutTrace[],
  outDir: string,
  { io, chalk }: { io: Io; chalk: ChalkInstance },
): void {
  mkdirSync(outDir, { recursive: true });
  const taken = new Set<string>(["index.html"]);
  const clusters = clusterLabels(timelines);
  const entries = timelines.map((timeline, i) => {
    const name = uniqueName(basename(timeline.trace.source).replace(/\.jsonl$/, ""), taken);
    const path = join(outDir, name);
    const cluster = clusters[i];
    const historyHref = historyOf(timeline.trace, outDir);
    writeFileSync(path, renderPage(timeline, { indexHref: "index.html", cluster, historyHref }));
    const words = resultLabel(timeline.trace);
    const label = passed(timeline.trace.result) ? chalk.green(words) : chalk.red(words);
    const test = `${testName(timeline.trace)}${cluster ? ` (${cluster})` : ""}`;
    io.out(`${label}  ${test}  ${pathToFileURL(path).href}\n`);
    return { href: encodeURIComponent(name), timeline, cluster, historyHref };
  });
  for (const test of without) {
    const label = test.result === "pass" ? chalk.green("PASS") : chalk.red("FAIL");
    io.out(`${label}  ${test.name}  (started no cluster: no timeline)\n`);
  }
  const index = join(outDir, "index.html");
  writeFileSync(index, renderIndex(`tests in ${basename(outDir)}`, entries, without));
  io.out(`index  ${pathToFileURL(index).href}\n`);
}

/**
 * "cluster 2 of 3" for each trace of a test that started several clusters. Their files are
 * named <stem>, <stem>-2, <stem>-3, …, so the shorter name came first.
 */
function clusterLabels(timelines: Timeline[]): (string | undefined)[] {
  const groups = new Map<string, string[]>();
  const keys = timelines.map(({ trace }) => {
    const key = trace.start === null ? trace.source : `${trace.start.file}\n${trace.start.test}`;
    groups.set(key, [...(groups.get(key) ?? []), trace.source]);
    return key;
  });
  return timelines.map(({ trace, summary }, i) => {
    const group = groups.get(keys[i]!)!;
    if (group.length < 2) return undefined;
    const order = group.slice().sort((a, b) => naturally(basename(a), basename(b)));
    // the cluster's first note usually says what this one does differently
    const note = summary.notes[0]?.[1];
    const what =
      note === undefined ? "" : `: ${note.length > 100 ? `${note.slice(0, 99)}…` : note}`;
    return `cluster ${order.indexOf(trace.source) + 1} of ${group.length}${what}`;
  });
}

/**
 * part4-kv writes lincheck's page of a test's client operations beside its trace when their
 * history is not linearizable (`<trace>.history.html`); the test's page and the index link it.
 */
function historyOf(trace: Trace, outDir: string): string | undefined {
  // a real test's run keeps its history.html in the run's folder, beside the files merged
  const page =
    trace.merged === null
      ? trace.source.replace(/\.jsonl$/, ".history.html")
      : join(trace.source, "history.html");
  if (page === trace.source || !existsSync(page)) return undefined;
  return relative(outDir, resolve(page)).split(sep).map(encodeURIComponent).join("/");
}

function uniqueName(stem: string, taken: Set<string>): string {
  let name = `${stem}.html`;
  for (let n = 2; taken.has(name); n++) name = `${stem}-${n}.html`;
  taken.add(name);
  return name;
}
