// Reads one trace file (JSON lines, see docs/trace-format.md) into events.
// A reader of a crashed run must still get a page, so nothing here throws on bad input:
// every line that cannot be used becomes a warning and is skipped.

export type Details = Record<string, unknown>;

export interface TraceEvent {
  /** position of the line in the file, 1-based, so warnings and rows can point back to it */
  line: number;
  t: number;
  node: number | null;
  term: number | null;
  role: string | null;
  kind: string;
  details: Details;
}

export type Result = "pass" | "fail" | "cut short";

export interface Trace {
  /** where the trace came from (a file path, or a label in tests) */
  source: string;
  events: TraceEvent[];
  /** node ids in ascending order: from test.start and from every event */
  nodes: number[];
  start: Details | null;
  end: Details | null;
  result: Result;
  warnings: string[];
}

/** Shown in full; beyond this many bad lines the banner only counts the rest. */
const MAX_LINE_WARNINGS = 20;

export function parseTrace(text: string, source: string): Trace {
  const events: TraceEvent[] = [];
  const bad: string[] = [];
  const lines = text.split("\n");
  lines.forEach((raw, index) => {
    if (raw.trim() === "") return;
    const parsed = parseLine(raw, index + 1);
    if (typeof parsed === "string") bad.push(parsed);
    else events.push(parsed);
  });
  const warnings = bad.slice(0, MAX_LINE_WARNINGS);
  if (bad.length > MAX_LINE_WARNINGS) {
    warnings.push(`… and ${bad.length - MAX_LINE_WARNINGS} more unreadable lines skipped`);
  }
  warnings.push(...sortByTime(events));
  const start = events.find((e) => e.kind === "test.start")?.details ?? null;
  const end = events.findLast((e) => e.kind === "test.end")?.details ?? null;
  if (!start) warnings.push("no test.start line: test name, seed and replay command are unknown");
  if (!end)
    warnings.push("no test.end line: the trace was cut short, so the test counts as failed");
  return {
    source,
    events,
    nodes: collectNodes(events, start),
    start,
    end,
    result: end ? (end.result === "pass" ? "pass" : "fail") : "cut short",
    warnings,
  };
}

/** One event, or the reason the line was skipped. */
function parseLine(raw: string, line: number): TraceEvent | string {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return `line ${line}: not valid JSON (truncated?), skipped: ${clip(raw)}`;
  }
  if (!isObject(value)) return `line ${line}: not a JSON object, skipped`;
  const { t, node, term, role, kind, details } = value;
  const problem =
    typeof t !== "number" || !Number.isFinite(t)
      ? "t is not a number"
      : typeof kind !== "string" || kind === ""
        ? "kind is missing"
        : node !== null && !Number.isInteger(node)
          ? "node is neither an integer nor null"
          : details !== undefined && !isObject(details)
            ? "details is not an object"
            : null;
  if (problem) return `line ${line}: ${problem}, skipped: ${clip(raw)}`;
  return {
    line,
    t: t as number,
    node: node as number | null,
    term: typeof term === "number" ? term : null,
    role: typeof role === "string" ? role : null,
    kind: kind as string,
    details: (details as Details | undefined) ?? {},
  };
}

/** Rows are shown in time order; the file should already be in that order, so say if it is not. */
function sortByTime(events: TraceEvent[]): string[] {
  const backwards = events.findIndex((e, i) => i > 0 && e.t < events[i - 1]!.t);
  if (backwards < 0) return [];
  const { line } = events[backwards]!;
  events.sort((a, b) => a.t - b.t || a.line - b.line);
  return [`line ${line}: time goes backwards; rows were re-sorted by time`];
}

function collectNodes(events: TraceEvent[], start: Details | null): number[] {
  const ids = new Set<number>();
  const declared = start?.nodes;
  if (Array.isArray(declared)) {
    for (const id of declared) if (Number.isInteger(id)) ids.add(id as number);
  }
  for (const e of events) if (e.node !== null) ids.add(e.node);
  return [...ids].sort((a, b) => a - b);
}

export function isObject(value: unknown): value is Details {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
