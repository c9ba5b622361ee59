// Renders a timeline as one self-contained HTML page, and a run's tests as an index page.
// The page's rows are drawn by its inlined script from a compact JSON copy of the timeline,
// a screenful at a time, so a trace of 100,000 events still opens quickly.

import { readFileSync } from "node:fs";
import ejs from "ejs";
import type { Lane, Timeline } from "./model.ts";

const templates = new URL("./templates/", import.meta.url);
const read = (name: string) => readFileSync(new URL(name, templates), "utf8");

// Compiled once per process: a run renders many pages.
let compiled: { page: ejs.TemplateFunction; index: ejs.TemplateFunction } | undefined;
function compiledTemplates() {
  compiled ??= {
    page: ejs.compile(read("page.ejs")),
    index: ejs.compile(read("index.ejs")),
  };
  return compiled;
}

/** What a page's script receives; see page.js for how each field is used. */
export interface PageData {
  nodes: number[];
  kinds: string[];
  /** distinct lane states; rows point at them, since lanes rarely change between rows */
  lanes: [string, number | null, 0 | 1, 0 | 1][][];
  /** [t, column (-1 = TEST), kind index, text, tone, msg, conv, heartbeat, lane-state index] */
  rows: [number, number, number, string, string, number, number, 0 | 1, number][];
}

export function pageData(timeline: Timeline): PageData {
  const { nodes } = timeline.trace;
  const column = new Map(nodes.map((id, i) => [id, i]));
  const kinds = timeline.kinds.map(([kind]) => kind);
  const kindIndex = new Map(kinds.map((kind, i) => [kind, i]));
  const laneIndex = new Map<Lane[], number>();
  const lanes: PageData["lanes"] = [];
  const rows = timeline.rows.map((row): PageData["rows"][number] => {
    let state = laneIndex.get(row.lanes);
    if (state === undefined) {
      state = lanes.push(row.lanes.map((l) => [l.role, l.term, l.cut ? 1 : 0, l.dead ? 1 : 0])) - 1;
      laneIndex.set(row.lanes, state);
    }
    const col = row.node === null ? -1 : column.get(row.node)!;
    const tone = row.tone === "plain" ? "" : row.tone;
    const hb = row.heartbeat ? 1 : 0;
    return [
      row.t,
      col,
      kindIndex.get(row.kind)!,
      row.text,
      tone,
      row.msg ?? -1,
      row.conv ?? -1,
      hb,
      state,
    ];
  });
  return { nodes, kinds, lanes, rows };
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

export function renderPage(timeline: Timeline, indexHref?: string): string {
  const { trace } = timeline;
  const start = trace.start ?? {};
  const text = (key: string) => (start[key] === undefined ? "" : String(start[key]));
  return compiledTemplates().page({
    title: text("test") || trace.source,
    part: text("part"),
    seed: text("seed"),
    file: text("file"),
    replay: text("replay"),
    render: text("render"),
    error: trace.end?.error === undefined ? "" : String(trace.end.error),
    result: trace.result,
    events: timeline.rows.length,
    nodes: trace.nodes,
    kinds: timeline.kinds,
    summary: timeline.summary,
    warnings: trace.warnings,
    indexHref,
    css: read("page.css"),
    script: read("page.js"),
    data: scriptJson(pageData(timeline)),
  });
}

export interface IndexEntry {
  href: string;
  timeline: Timeline;
}

export function renderIndex(title: string, entries: IndexEntry[]): string {
  const tests = entries.map(({ href, timeline }) => ({
    href,
    name:
      timeline.trace.start?.test === undefined
        ? timeline.trace.source
        : String(timeline.trace.start.test),
    part: String(timeline.trace.start?.part ?? ""),
    seed: String(timeline.trace.start?.seed ?? ""),
    result: timeline.trace.result,
    events: timeline.rows.length,
    warnings: timeline.trace.warnings.length,
    duration: timeline.summary.duration,
  }));
  const failed = tests.filter((t) => t.result !== "pass").length;
  return compiledTemplates().index({ title, tests, failed, css: read("page.css") });
}
