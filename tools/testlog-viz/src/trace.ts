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

export type Result = "pass" | "fail" | "cut short";

export interface Trace {
  /** where the trace came from (a file path, or a label in tests) */
  source: string;
  /** a trace merged from several files (merge.ts): the files, and the earliest `t` among them */
  merged: { files: string[]; origin: number } | null;
  events: TraceEvent[];
  /** node ids in ascending order: from test.start and from every event */
  nodes: number[];
  /** the details of test.start and test.end, when the trace has them and they are well-formed */
  start: TraceKinds["test.start"] | null;
  end: TraceKinds["test.end"] | null;
  result: Result;
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
  if (!start) warnings.push("no test.start line: test name, seed and replay command are unknown");
  if (!end)
    warnings.push("no test.end line: the trace was cut short, so the test counts as failed");
  return {
    source,
    merged,
    events,
    nodes: collectNodes(events, start),
    start,
    end,
    result: end?.result ?? "cut short",
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
  if (!isObject(value)) return `line ${line}: not a JSON object, skipped`;
  const { t, node, term, role, kind, details = {} } = value;
  const problem = (why: string) => `line ${line}: ${why}, skipped: ${clip(raw)}`;
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
  return trace.start === null ? trace.source : filterName(trace.start.test.split(" > "));
}
