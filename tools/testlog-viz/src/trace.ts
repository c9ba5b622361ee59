// Reads one trace file (JSON lines, see docs/trace-format.md) into events.
// A reader of a crashed run must still get a page, so nothing here throws on bad input:
// every line that cannot be used becomes a warning and is skipped, and an event whose details
// do not match its kind is kept, shown as it is, with a warning.

import {
  isKnown,
  isObject,
  type Kind,
  type KnownEvent,
  problemOf,
  type RawEvent,
  type TraceKinds,
} from "./kinds.ts";

export type { Details } from "./kinds.ts";

/**
 * One event: `known` ones are typed by the part's trace types (checked by `isKnown`), the rest
 * (kinds of later parts, malformed details) are shown as key=value.
 */
export type TraceEvent = (KnownEvent & { known: true }) | (RawEvent & { known: false });

/**
 * How a trace's test ended: its `test.end` (or none: "cut short"); "expected fail" when vitest's
 * report says the test passed although its trace ends in a failure (a `test.fails` test, which
 * is meant to fail); "no test" for the files of a run of real processes that no test drove
 * (`pnpm kv:cluster`): there is no verdict to give.
 */
export type Result = "pass" | "fail" | "cut short" | "expected fail" | "no test";

/** Whether a result counts as a success (for the exit status, the index's counts, colours). */
export const passed = (result: Result): boolean => result !== "fail" && result !== "cut short";

/** The words a page, the index and the terminal give a trace's result. */
export function resultLabel(trace: Pick<Trace, "result" | "end">): string {
  switch (trace.result) {
    case "pass":
      return trace.end?.expectedViolation ? "PASS (violation expected)" : "PASS";
    case "expected fail":
      return "PASS (expected to fail)";
    case "fail":
      return "FAIL";
    case "cut short":
      return "FAIL (trace cut short)";
    case "no test":
      return "RUN";
  }
}

export interface Trace {
  /** where the trace came from (a file path, or a label in tests) */
  source: string;
  /** a trace merged from several files (merge.ts): the files, and the earliest `t` among them */
  merged: {
    files: string[];
    origin: number;
    /** the other runs whose files were given with this one's: each has a page of its own */
    otherRuns: string[];
  } | null;
  events: TraceEvent[];
  /** node ids in ascending order: from test.start and from every event */
  nodes: number[];
  /** the details of test.start and test.end, when the trace has them and they are well-formed */
  start: TraceKinds["test.start"] | null;
  end: TraceKinds["test.end"] | null;
  result: Result;
  /** the run's id (`process.start`'s `run`) when real processes wrote the trace */
  run: string | null;
  warnings: string[];
}

/** Shown in full; beyond this many bad lines the banner only counts the rest. */
const MAX_LINE_WARNINGS = 20;

export function parseTrace(text: string, source: string): Trace {
  const { events, warnings } = readEvents(text);
  return assemble(source, events, warnings);
}

/** The events of one file in time order, and what was wrong with its lines. */
export function readEvents(text: string): { events: TraceEvent[]; warnings: string[] } {
  const events: TraceEvent[] = [];
  const bad: string[] = [];
  const lines = text.split("\n");
  lines.forEach((raw, index) => {
    if (raw.trim() === "") return;
    const parsed = parseLine(raw, index + 1);
    if (typeof parsed === "string") bad.push(parsed);
    else events.push(classify(parsed, bad));
  });
  const warnings = bad.slice(0, MAX_LINE_WARNINGS);
  if (bad.length > MAX_LINE_WARNINGS) {
    warnings.push(`… and ${bad.length - MAX_LINE_WARNINGS} more lines with problems`);
  }
  warnings.push(...sortByTime(events));
  return { events, warnings };
}

/** A trace of events in time order: its test's start and end, its nodes, what is missing. */
export function assemble(
  source: string,
  events: TraceEvent[],
  warnings: string[],
  merged: Trace["merged"] = null,
): Trace {
  const start = events.find(isKind("test.start"))?.details ?? null;
  const end = events.findLast(isKind("test.end"))?.details ?? null;
  const processes = events.filter(isKind("process.start"));
  // real processes that no test drove (pnpm kv:cluster): no test, so nothing is missing
  const untested = start === null && processes.length > 0;
  if (!start && !untested) {
    warnings.push("no test.start line: test name, seed and replay command are unknown");
  }
  if (!end && !untested) {
    warnings.push("no test.end line: the trace was cut short, so the test counts as failed");
  }
  const run = processes.map((e) => e.details.run).find((id) => typeof id === "string");
  return {
    source,
    merged,
    events,
    nodes: collectNodes(events, start),
    start,
    end,
    result: end?.result ?? (untested ? "no test" : "cut short"),
    run: (run as string | undefined) ?? null,
    warnings,
  };
}

/** An event of one known kind, typed. */
export type EventOf<K extends Kind> = Extract<TraceEvent, { known: true; kind: K }>;

/** A filter for the events of one known kind. */
export const isKind =
  <K extends Kind>(kind: K) =>
  (event: TraceEvent): event is EventOf<K> =>
    event.known && event.kind === kind;

/** Types an event by its kind; a known kind with details that do not fit is reported. */
function classify(raw: RawEvent, bad: string[]): TraceEvent {
  if (isKnown(raw)) return { ...raw, known: true };
  const problem = problemOf(raw);
  if (problem !== "unknown kind") {
    bad.push(`line ${raw.line}: ${raw.kind} event shown as it is: ${problem}`);
  }
  return { ...raw, known: false };
}

/** One event, or the reason the line was skipped. */
function parseLine(raw: string, line: number): RawEvent | string {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return `line ${line}: not valid JSON (truncated?), skipped: ${clip(raw)}`;
  }
  return rawEvent(value, line, raw);
}

/**
 * One event from a value that is already parsed (the cluster view is fed objects, not lines),
 * typed by its kind; or why it cannot be used. `line` numbers it for warnings.
 */
export function eventOf(value: unknown, line: number, problems: string[]): TraceEvent | null {
  const raw = rawEvent(value, line, () => JSON.stringify(value) ?? String(value));
  if (typeof raw !== "string") return classify(raw, problems);
  problems.push(raw);
  return null;
}

function rawEvent(value: unknown, line: number, text: string | (() => string)): RawEvent | string {
  if (!isObject(value)) return `line ${line}: not a JSON object, skipped`;
  const { t, node, term, role, kind, details = {} } = value;
  const problem = (why: string) =>
    `line ${line}: ${why}, skipped: ${clip(typeof text === "string" ? text : text())}`;
  if (typeof t !== "number" || !Number.isFinite(t)) return problem("t is not a number");
  if (typeof kind !== "string" || kind === "") return problem("kind is missing");
  if (node !== null && !isId(node)) return problem("node is neither an integer nor null");
  if (!isObject(details)) return problem("details is not an object");
  return {
    line,
    t,
    node,
    term: typeof term === "number" ? term : null,
    role: typeof role === "string" ? role : null,
    kind,
    details,
  };
}

const isId = (value: unknown): value is number => Number.isInteger(value);

/** Rows are shown in time order; the file should already be in that order, so say if it is not. */
function sortByTime(events: TraceEvent[]): string[] {
  const backwards = events.findIndex((e, i) => i > 0 && e.t < events[i - 1]!.t);
  if (backwards < 0) return [];
  const { line } = events[backwards]!;
  events.sort((a, b) => a.t - b.t || a.line - b.line);
  return [`line ${line}: time goes backwards; rows were re-sorted by time`];
}

function collectNodes(events: TraceEvent[], start: TraceKinds["test.start"] | null): number[] {
  const ids = new Set<number>(start?.nodes);
  for (const e of events) if (e.node !== null) ids.add(e.node);
  return [...ids].sort((a, b) => a - b);
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/**
 * A test's name as vitest's -t (and so dotest.sh) accepts it: describe and test names joined by
 * spaces, as vitest matches them, with the characters a regular expression treats specially
 * escaped, so that the name matches itself.
 */
export function filterName(path: readonly string[]): string {
  return path.join(" ").replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The trace's test by its -t name; the trace itself joins describe and test names by " > ". */
export function testName(trace: Trace): string {
  if (trace.start !== null) return filterName(trace.start.test.split(" > "));
  return trace.result === "no test"
    ? `run ${trace.run ?? "without an id"} of real processes`
    : trace.source;
}
