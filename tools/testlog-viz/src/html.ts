// Renders a timeline as one self-contained HTML page, and a run's tests as an index page.
// The page's rows are drawn by its inlined script from a compact JSON copy of the timeline,
// a screenful at a time, so a trace of 100,000 events still opens quickly.

import { readFileSync } from "node:fs";
import { basename } from "node:path";
import ejs from "ejs";
import { pageScript } from "./bundle.ts";
import type { ClientLane } from "./clients.ts";
import { formatValue } from "./describe.ts";
import { firstFailure } from "./failure.ts";
import type { Batch, Lane, Timeline } from "./model.ts";
import type { ClientLaneTuple, LaneTuple, PageData, RowTuple } from "./page-data.ts";
import { passed, resultLabel, testName } from "./trace.ts";

const templates = new URL("./templates/", import.meta.url);
const read = (name: string) => readFileSync(new URL(name, templates), "utf8");
/** The page's styles, then the cluster view's own (which the playground includes as they are). */
const pageCss = () =>
  `${read("page.css")}\n${readFileSync(new URL("./page/cluster-view.css", import.meta.url), "utf8")}`;

// Compiled once per process: a run renders many pages.
let compiled: { page: ejs.TemplateFunction; index: ejs.TemplateFunction } | undefined;
function compiledTemplates() {
  compiled ??= {
    page: ejs.compile(read("page.ejs")),
    index: ejs.compile(read("index.ejs")),
  };
  return compiled;
}

export function pageData(timeline: Timeline, failure = firstFailure(timeline)): PageData {
  const { nodes } = timeline.trace;
  const kinds = timeline.kinds.map(([kind]) => kind);
  const kindIndex = new Map(kinds.map((kind, i) => [kind, i]));
  const column = new Map(nodes.map((id, i) => [id, i + 1]));
  const lanes = interned((row: Lane[]) => row.map(laneTuple));
  const clientLanes = interned((row: (ClientLane | null)[]) => row.map(clientLaneTuple));
  const rows = timeline.rows.map((row): RowTuple => {
    const peer = row.peer === null ? undefined : column.get(row.peer.node);
    return [
      row.t,
      row.column,
      kindIndex.get(row.kind)!,
      row.text,
      row.tone === "plain" ? "" : row.tone,
      row.msg ?? -1,
      row.conv ?? -1,
      row.heartbeat ? 1 : 0,
      lanes.index(row.lanes),
      row.ops ?? 0,
      row.batch ? batchText(row.batch) : 0,
      row.afterShutdown ? 1 : 0,
      clientLanes.index(row.clients),
      row.peer !== null && peer !== undefined ? [peer, row.peer.text] : 0,
    ];
  });
  const { merged } = timeline.trace;
  return {
    nodes,
    clients: timeline.clients,
    storage: timeline.storage,
    logs: timeline.rows.some((row) => row.ops?.some((op) => LOG_OPS.has(op[0]))),
    clock: merged === null ? "virtual" : "wall",
    origin: merged?.origin ?? 0,
    availability: timeline.availability,
    failure: failure && {
      row: failure.row,
      causes: failure.causes,
      nodes: failure.nodes,
      expected: failure.expected,
    },
    columns: timeline.columns,
    kinds,
    lanes: lanes.list,
    clientLanes: clientLanes.list,
    rows,
  };
}

/** State operations that only a trace with logs has (part 2 on). */
const LOG_OPS = new Set(["append", "truncate", "commit", "apply", "restart"]);

/** The trace's events as the cluster view reads them: the JSON-lines objects, without `line`. */
export function eventsData(timeline: Timeline): object[] {
  return timeline.trace.events.map(({ t, node, term, role, kind, details }) => ({
    t,
    node,
    term,
    role,
    kind,
    details,
  }));
}

/**
 * Distinct lane states, each written once: rows share their lane arrays until a lane changes
 * (model.ts), so the array itself is the key, and rows point at the state by its position.
 */
function interned<K extends object, T>(make: (key: K) => T) {
  const seen = new Map<K, number>();
  const list: T[] = [];
  const index = (key: K): number => {
    let at = seen.get(key);
    if (at === undefined) {
      at = list.push(make(key)) - 1;
      seen.set(key, at);
    }
    return at;
  };
  return { list, index };
}

const clientLaneTuple = (lane: ClientLane | null): ClientLaneTuple =>
  lane === null ? 0 : [lane.seq, lane.op, lane.state];

const laneTuple = (l: Lane): LaneTuple => [
  l.role,
  l.term,
  l.cut ? 1 : 0,
  l.dead ? 1 : 0,
  l.group ?? -1,
];

/** "50 entries [2]–[51], terms 1–3": what a collapsed batch says about itself. */
export function batchText({ count, first, last, terms: [low, high] }: Batch): string {
  const terms = low === high ? `term ${low}` : `terms ${low}–${high}`;
  return `${count} entries [${first}]–[${last}], ${terms}`;
}

/**
 * JSON that is safe inside a <script> element: no "<" can close it early, whatever the
 * event text says (test names and commands come from the trace, so they are untrusted).
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

export interface PageOptions {
  /** the index page, relative to this one */
  indexHref?: string;
  /** "cluster 2 of 3" when the test started several clusters */
  cluster?: string;
  /** lincheck's page of the test's client operations (part4-kv writes it when they fail) */
  historyHref?: string;
}

export function renderPage(timeline: Timeline, options: PageOptions = {}): string {
  const { trace } = timeline;
  const start = trace.start;
  const failure = firstFailure(timeline);
  return compiledTemplates().page({
    title: testName(trace),
    cluster: options.cluster ?? "",
    start,
    config: start ? formatValue(start.config) : "",
    error: trace.end?.error ?? "",
    result: trace.result,
    expectedViolation: trace.end?.expectedViolation === true,
    events: timeline.rows.length,
    columns: timeline.columns,
    nodes: trace.nodes.length,
    clients: timeline.clients.length,
    storage: timeline.storage,
    // part 5: the legend explains snapshots and InstallSnapshot when the trace has them
    snapshots: timeline.kinds.some(([kind]) => kind === "log.compact" || kind === "snapshot.chunk"),
    // part 6: the legend explains pre-votes, TimeoutNow, ReadIndex and the badges
    availability: timeline.availability !== null,
    kinds: timeline.kinds,
    summary: timeline.summary,
    warnings: trace.warnings,
    merged: trace.merged && {
      files: trace.merged.files.map((file) => basename(file)),
      origin: new Date(trace.merged.origin).toISOString(),
      otherRuns: trace.merged.otherRuns,
      run: trace.run,
      processes: processesOf(trace),
    },
    indexHref: options.indexHref,
    historyHref: options.historyHref ?? "",
    css: pageCss(),
    script: pageScript(),
    data: scriptJson(pageData(timeline, failure)),
    eventsJson: scriptJson(eventsData(timeline)),
    failure,
    resultLabel: resultLabel(trace),
    passed: passed(trace.result),
  });
}

/** The processes of a real run, as their first lines name them: `n1 pid 4242 (start 2)`. */
function processesOf(trace: Timeline["trace"]): string[] {
  return trace.events.flatMap((e) => {
    if (e.kind !== "process.start") return [];
    const d = e.details as Record<string, unknown>;
    const who = e.node === null ? String(d.program) : `n${e.node}`;
    const start =
      typeof d.incarnation === "number" && d.incarnation > 1 ? ` (start ${d.incarnation})` : "";
    return [`${who} pid ${String(d.pid)}${start}`];
  });
}

/** A test that ran (vitest's report says so) but started no cluster, so it has no trace. */
export interface TestWithoutTrace {
  name: string;
  file: string;
  result: "pass" | "fail";
}

export interface IndexEntry {
  href: string;
  timeline: Timeline;
  cluster?: string;
  historyHref?: string | undefined;
}

export function renderIndex(
  title: string,
  entries: IndexEntry[],
  without: TestWithoutTrace[] = [],
): string {
  const tests = entries.map(({ href, timeline, cluster, historyHref }) => ({
    href,
    historyHref: historyHref ?? "",
    name: testName(timeline.trace),
    cluster: cluster ?? "",
    part: timeline.trace.start?.part ?? "",
    seed: String(timeline.trace.start?.seed ?? ""),
    result: timeline.trace.result,
    label: resultLabel(timeline.trace),
    passed: passed(timeline.trace.result),
    events: timeline.rows.length,
    warnings: timeline.trace.warnings.length,
    duration: timeline.summary.duration,
  }));
  const failed =
    tests.filter((t) => !t.passed).length + without.filter((t) => t.result !== "pass").length;
  const total = tests.length + without.length;
  return compiledTemplates().index({ title, tests, without, failed, total, css: pageCss() });
}
