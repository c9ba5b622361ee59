// Builds what every view draws: one row per event, each with the state of every node's lane
// at that moment, the message it belongs to, and a summary of the whole run.
// Both the HTML page and the terminal view use this, so they always agree.

import { type Description, describe } from "./describe.ts";
import type { Trace, TraceEvent } from "./trace.ts";

/** One node's column at one moment. Lane objects are shared between rows until they change. */
export interface Lane {
  role: string;
  term: number | null;
  /** cannot reach every other live node (harness `cutOff`) */
  cut: boolean;
  /** stopped by the harness (harness `dead`), or its own role says so */
  dead: boolean;
}

export interface Row extends Description {
  t: number;
  node: number | null;
  kind: string;
  /** the message this event is about (send, deliver, drop, …) */
  msg: number | null;
  /** the request a message belongs to: its own id for a request, `request` for a reply */
  conv: number | null;
  heartbeat: boolean;
  /** in the order of Trace.nodes */
  lanes: Lane[];
}

export interface Summary {
  /** term → nodes that were leader in it; more than one is an Election Safety violation */
  leaders: [number, number[]][];
  elections: number;
  sent: number;
  delivered: number;
  dropped: number;
  heartbeats: number;
  failures: number;
  duration: number;
}

export interface Timeline {
  trace: Trace;
  rows: Row[];
  summary: Summary;
  /** every kind in the trace with its count, in order of first appearance */
  kinds: [string, number][];
}

/** Raft §5.2: every server starts as a follower in term 0, until its first event says more. */
const START: Lane = { role: "follower", term: 0, cut: false, dead: false };

export function buildTimeline(trace: Trace): Timeline {
  const column = new Map(trace.nodes.map((id, i) => [id, i]));
  let lanes: Lane[] = trace.nodes.map(() => START);
  const convOfMsg = new Map<number, number>();
  const rows = trace.events.map((event) => {
    lanes = nextLanes(lanes, event, column, trace.nodes);
    return toRow(event, lanes, convOfMsg);
  });
  return { trace, rows, summary: summarize(rows, column), kinds: countKinds(rows) };
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
  const { cutOff, dead } = e.details;
  if (!Array.isArray(cutOff) && !Array.isArray(dead)) return lanes;
  return lanes.map((lane, i) => {
    const id = ids[i];
    const cut = Array.isArray(cutOff) ? cutOff.includes(id) : lane.cut;
    const isDead = Array.isArray(dead) ? dead.includes(id) : lane.dead;
    return cut === lane.cut && isDead === lane.dead ? lane : { ...lane, cut, dead: isDead };
  });
}

/**
 * Only a reply's send and deliver name its request; a drop or an rpc.error names just the
 * message, so each message remembers its conversation from the first event that told it.
 */
function toRow(event: TraceEvent, lanes: Lane[], convOfMsg: Map<number, number>): Row {
  const { msg, request, heartbeat } = event.details;
  const msgId = typeof msg === "number" ? msg : null;
  let conv = typeof request === "number" ? request : null;
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
  };
}

function summarize(rows: Row[], column: Map<number, number>): Summary {
  const leaders = new Map<number, Set<number>>();
  const count = (kind: string) => rows.filter((r) => r.kind === kind).length;
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
    leaders: [...leaders].sort((a, b) => a[0] - b[0]).map(([term, set]) => [term, [...set]]),
    elections,
    sent: count("send"),
    delivered: count("deliver"),
    dropped: count("drop"),
    heartbeats: rows.filter((r) => r.heartbeat && r.kind === "send").length,
    failures: rows.filter((r) => r.tone === "bad").length,
    duration: rows.at(-1)?.t ?? 0,
  };
}

function countKinds(rows: Row[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.kind, (counts.get(row.kind) ?? 0) + 1);
  return [...counts];
}
