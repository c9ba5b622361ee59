// Builds what every view draws: one row per event, each with the state of every node's lane
// at that moment, the message it belongs to, what it changes in the cluster's state (state.ts),
// and a summary of the whole run. The HTML page and the terminal view both use this, so they
// always agree.

import { type Description, describe } from "./describe.ts";
import { payloadEntries } from "./kinds.ts";
import type { Entry, Op } from "./state.ts";
import { isKind, type Trace, type TraceEvent } from "./trace.ts";

/** One node's column at one moment. Lane objects are shared between rows until they change. */
export interface Lane {
  role: string;
  term: number | null;
  /** cut off by the test (the harness's `network.cutOff`) */
  cut: boolean;
  /** stopped by the harness (`network.dead`), or its own role says so */
  dead: boolean;
  /** while the network is split: the index of this node's group in `network.groups` */
  group: number | null;
}

/** A message or append carrying many entries: its row shows this instead of every entry. */
export interface Batch {
  count: number;
  first: number;
  last: number;
  terms: [number, number];
}

export interface Row extends Description {
  t: number;
  node: number | null;
  /** index into Timeline.columns */
  column: number;
  kind: string;
  /** the message this event is about (send, deliver, drop, …) */
  msg: number | null;
  /** the request a message belongs to: its own id for a request, `request` for a reply */
  conv: number | null;
  heartbeat: boolean;
  /** in the order of Trace.nodes */
  lanes: Lane[];
  /** what this event changes in the cluster's state; null when nothing */
  ops: Op[] | null;
  batch: Batch | null;
  /** after the harness's shutdown: the nodes stopping, not part of the test */
  afterShutdown: boolean;
}

export interface Summary {
  /** term → nodes that were leader in it; more than one is an Election Safety violation */
  leaders: [number, number[]][];
  elections: number;
  sent: number;
  delivered: number;
  /** drops and RPC errors before the shutdown */
  dropped: number;
  rpcErrors: number;
  /** drops and RPC errors of the messages still in flight when the test shut the nodes down */
  atShutdown: number;
  heartbeats: number;
  /** failed checks, violations the test did not expect, a failing end */
  failures: number;
  /** violations the test provoked on purpose (test.end says expectedViolation) */
  expectedViolations: number;
  submitted: number;
  refused: number;
  /** the highest commitIndex any node reached */
  committed: number;
  duration: number;
  /** the test's own notes, with their rows: the story it tells */
  notes: [number, string][];
}

export interface Timeline {
  trace: Trace;
  /** column headings: the harness first, then one per node (later parts may add more) */
  columns: string[];
  rows: Row[];
  summary: Summary;
  /** every kind in the trace with its count, in order of first appearance */
  kinds: [string, number][];
}

/** Raft §5.2: every server starts as a follower in term 0, until its first event says more. */
const START: Lane = { role: "follower", term: 0, cut: false, dead: false, group: null };
/** Entries a row lists in full; more become a batch summary that expands on demand. */
export const BATCH_FROM = 5;

export function buildTimeline(trace: Trace): Timeline {
  const column = new Map(trace.nodes.map((id, i) => [id, i]));
  let lanes: Lane[] = trace.nodes.map(() => START);
  const convOfMsg = new Map<number, number>();
  let afterShutdown = false;
  const rows = trace.events.map((event) => {
    const before = lanes;
    lanes = nextLanes(lanes, event, column, trace.nodes);
    const row: Row = {
      ...toRow(event, lanes, convOfMsg),
      column: event.node === null ? 0 : column.get(event.node)! + 1,
      ops: opsOf(event, before, lanes, column),
      afterShutdown,
    };
    afterShutdown ||= event.kind === "shutdown";
    return row;
  });
  if (trace.end?.expectedViolation) {
    for (const row of rows) if (row.kind === "violation") row.tone = "expected";
  }
  return {
    trace,
    columns: ["TEST", ...trace.nodes.map((id) => `n${id}`)],
    rows,
    summary: summarize(rows, trace.events, column),
    kinds: countKinds(rows),
  };
}

function nextLanes(
  lanes: Lane[],
  e: TraceEvent,
  column: Map<number, number>,
  ids: number[],
): Lane[] {
  if (e.node !== null) {
    const i = column.get(e.node)!;
    const old = lanes[i]!;
    const role = e.role ?? old.role;
    const term = e.term ?? old.term;
    if (role === old.role && term === old.term) return lanes;
    const next = lanes.slice();
    // A dead role marks the lane dead; leaving it clears the mark. A harness crash mark stays
    // until the harness says otherwise, so an event from a crashed node stands out.
    const dead = role === "dead" || (old.role === "dead" ? false : old.dead);
    next[i] = { ...old, role, term, dead };
    return next;
  }
  if (!e.known || !("network" in e.details)) return lanes;
  const { groups, cutOff, dead } = e.details.network;
  const split = groups.length > 1;
  return lanes.map((lane, i) => {
    const id = ids[i]!;
    const index = groups.findIndex((g) => g.includes(id));
    const next = {
      ...lane,
      cut: cutOff.includes(id),
      dead: dead.includes(id),
      group: split && index >= 0 ? index : null,
    };
    const same = next.cut === lane.cut && next.dead === lane.dead && next.group === lane.group;
    return same ? lane : next;
  });
}

/**
 * Only a reply's send and deliver name its request; a drop or an rpc.error names just the
 * message, so each message remembers its conversation from the first event that told it.
 */
function toRow(
  event: TraceEvent,
  lanes: Lane[],
  convOfMsg: Map<number, number>,
): Omit<Row, "column" | "ops" | "afterShutdown"> {
  const { msg: msgId, request, heartbeat } = messageOf(event);
  let conv = request;
  if (msgId !== null) {
    conv ??= convOfMsg.get(msgId) ?? msgId;
    if (!convOfMsg.has(msgId)) convOfMsg.set(msgId, conv);
  }
  const { text, tone } = describe(event);
  return {
    text,
    tone,
    t: event.t,
    node: event.node,
    kind: event.kind,
    msg: msgId,
    conv,
    heartbeat: heartbeat === true,
    lanes,
    batch: batchOf(event),
  };
}

/**
 * The message an event is about. Kinds the viz does not know (a later part's messages) are read
 * by the same field names, so their rows still link.
 */
function messageOf(e: TraceEvent): {
  msg: number | null;
  request: number | null;
  heartbeat: boolean;
} {
  if (!e.known) {
    const number = (v: unknown) => (typeof v === "number" ? v : null);
    const d = e.details;
    return { msg: number(d.msg), request: number(d.request), heartbeat: d.heartbeat === true };
  }
  if (e.kind === "send" || e.kind === "deliver" || e.kind === "drop") {
    const { msg, heartbeat } = e.details;
    return {
      msg,
      request: e.details.type === "reply" ? (e.details.request ?? null) : null,
      heartbeat,
    };
  }
  if (e.kind === "rpc.error") return { msg: e.details.msg, request: null, heartbeat: false };
  return { msg: null, request: null, heartbeat: false };
}

/** Short JSON of a command for the log strip's tooltips. */
function commandText(command: unknown): string {
  const json = JSON.stringify(command) ?? String(command);
  return json.length > 40 ? `${json.slice(0, 39)}…` : json;
}

function opsOf(e: TraceEvent, before: Lane[], after: Lane[], column: Map<number, number>) {
  if (e.node === null) return null;
  const i = column.get(e.node)!;
  const ops: Op[] = [];
  // a new term: the vote of the old one is void (Figure 2, votedFor is per term)
  if ((after[i]!.term ?? 0) > (before[i]!.term ?? 0)) ops.push(["vote", e.node, null]);
  if (before[i]!.role === "leader" && after[i]!.role !== "leader") ops.push(["unlead", e.node]);
  if (e.known) {
    const op = stateOp(e, e.node);
    if (op) ops.push(op);
  }
  return ops.length > 0 ? ops : null;
}

function stateOp(e: Extract<TraceEvent, { known: true }>, node: number): Op | null {
  switch (e.kind) {
    case "vote":
      return e.details.granted ? ["vote", node, e.details.candidate] : null;
    case "log.append": {
      const entries = e.details.entries.map((x): Entry => [x.term, commandText(x.command)]);
      return ["append", node, e.details.index, entries];
    }
    case "log.truncate":
      return ["truncate", node, e.details.from];
    case "commit":
      return ["commit", node, e.details.to];
    case "apply":
      return ["apply", node, e.details.index];
    case "progress": {
      const { peer, nextIndex, matchIndex } = e.details;
      return ["progress", node, peer, nextIndex, matchIndex];
    }
    default:
      return null;
  }
}

function batchOf(e: TraceEvent): Batch | null {
  if (!e.known) return null;
  let found: { first: number; terms: number[] } | null = null;
  if (e.kind === "log.append") {
    found = { first: e.details.index, terms: e.details.entries.map((x) => x.term) };
  } else if (e.kind === "send" || e.kind === "deliver" || e.kind === "drop") {
    found = payloadEntries(e.details.payload);
  }
  if (found === null || found.terms.length < BATCH_FROM) return null;
  const { first, terms } = found;
  return {
    count: terms.length,
    first,
    last: first + terms.length - 1,
    terms: [Math.min(...terms), Math.max(...terms)],
  };
}

function summarize(rows: Row[], events: TraceEvent[], column: Map<number, number>): Summary {
  const count = (kind: string) => rows.filter((r) => r.kind === kind && !r.afterShutdown).length;
  const commits = rows
    .flatMap((r) => r.ops ?? [])
    .flatMap((op) => (op[0] === "commit" ? [op[2]] : []));
  const submits = events.filter(isKind("submit"));
  return {
    ...leadersAndElections(rows, column),
    sent: count("send"),
    delivered: count("deliver"),
    dropped: count("drop"),
    rpcErrors: count("rpc.error"),
    atShutdown: rows.filter((r) => r.afterShutdown && (r.kind === "drop" || r.kind === "rpc.error"))
      .length,
    heartbeats: rows.filter((r) => r.heartbeat && r.kind === "send").length,
    failures: rows.filter((r) => r.tone === "bad").length,
    expectedViolations: rows.filter((r) => r.tone === "expected").length,
    submitted: submits.length,
    refused: submits.filter((e) => "refused" in e.details).length,
    committed: Math.max(0, ...commits),
    duration: rows.at(-1)?.t ?? 0,
    notes: rows.flatMap((r, i): [number, string][] => (r.kind === "note" ? [[i, r.text]] : [])),
  };
}

function leadersAndElections(rows: Row[], column: Map<number, number>) {
  const leaders = new Map<number, Set<number>>();
  let elections = 0;
  let before: Lane[] = rows[0]?.lanes ?? [];
  for (const row of rows) {
    const lane = row.node === null ? undefined : row.lanes[column.get(row.node)!];
    if (lane && row.node !== null) {
      const prev = before[column.get(row.node)!];
      if (lane.role === "candidate" && lane !== prev) {
        // a new election: becoming candidate, or starting over in a higher term
        if (prev?.role !== "candidate" || prev.term !== lane.term) elections++;
      }
      // Counted when a node becomes leader: a leader that sees a higher term may log the new
      // term a moment before it logs stepping down, and was never leader in that term.
      if (lane.role === "leader" && prev?.role !== "leader" && lane.term !== null) {
        const set = leaders.get(lane.term) ?? new Set();
        leaders.set(lane.term, set.add(row.node));
      }
    }
    before = row.lanes;
  }
  return {
    leaders: [...leaders]
      .sort((a, b) => a[0] - b[0])
      .map(([term, set]): [number, number[]] => [term, [...set]]),
    elections,
  };
}

function countKinds(rows: Row[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.kind, (counts.get(row.kind) ?? 0) + 1);
  return [...counts];
}
