// Builds what every view draws: one row per event, each with the state of every node's lane
// and every client's lane at that moment, the message or client operation it belongs to, what it
// changes in the cluster's state (state.ts), and a summary of the whole run (summary.ts). The
// HTML page and the terminal view both use this, so they always agree.

import {
  type ClientLane,
  clientOf,
  clientsOf,
  nextClientLanes,
  OpConversations,
  peerOf,
} from "./clients.ts";
import { type Description, describe } from "./describe.ts";
import { type LogEntry, payloadEntries, processExitOf, type TraceKinds } from "./kinds.ts";
import { readableCommand } from "./readable.ts";
import type { Entry, Op } from "./state.ts";
import { type Summary, summarize } from "./summary.ts";
import type { Trace, TraceEvent } from "./trace.ts";

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
  /** in the order of Timeline.clients */
  clients: (ClientLane | null)[];
  /** a client's attempt: the node it went to (or whose answer it is), and what that cell says */
  peer: { node: number; text: string } | null;
  /** what this event changes in the cluster's state; null when nothing */
  ops: Op[] | null;
  batch: Batch | null;
  /** after the harness's shutdown: the nodes stopping, not part of the test */
  afterShutdown: boolean;
}

export interface Timeline {
  trace: Trace;
  /** column headings: the harness first, then one per node, then one per client */
  columns: string[];
  /** the clients (part 4), in the order they first act */
  clients: string[];
  /** the trace's part keeps its state on disk (part 3 on): persist, halt or restart events */
  storage: boolean;
  rows: Row[];
  summary: Summary;
  /** every kind in the trace with its count, in order of first appearance */
  kinds: [string, number][];
  /** part 6 on: what its state panel needs to know of the nodes' options; null before part 6 */
  availability: AvailabilityConfig | null;
}

/** Raft §5.2: every server starts as a follower in term 0, until its first event says more. */
export const START: Lane = { role: "follower", term: 0, cut: false, dead: false, group: null };
/** Entries a row lists in full; more become a batch summary that expands on demand. */
export const BATCH_FROM = 5;

export function buildTimeline(trace: Trace): Timeline {
  const column = new Map(trace.nodes.map((id, i) => [id, i]));
  const clients = clientsOf(trace.events);
  const clientColumn = new Map(clients.map((name, i) => [name, i]));
  const conversations = new Conversations(trace.events);
  let lanes: Lane[] = trace.nodes.map(() => START);
  let clientLanes: (ClientLane | null)[] = clients.map(() => null);
  let afterShutdown = false;
  const availability = new AvailabilityWatch();
  const rows = trace.events.map((event) => {
    const before = lanes;
    availability.see(event);
    lanes = nextLanes(lanes, event, column, trace.nodes);
    clientLanes = nextClientLanes(clientLanes, event, clientColumn);
    const client = clientOf(event);
    const row = toRow(event, conversations, {
      column:
        event.node !== null
          ? column.get(event.node)! + 1
          : client !== null
            ? 1 + trace.nodes.length + clientColumn.get(client)!
            : 0,
      lanes,
      clients: clientLanes,
      ops: opsOf(event, before, lanes, column, availability.on),
      afterShutdown,
    });
    afterShutdown ||= event.kind === "shutdown";
    return row;
  });
  if (trace.end?.expectedViolation) {
    for (const row of rows) if (row.kind === "violation") row.tone = "expected";
  }
  return {
    trace,
    columns: ["TEST", ...trace.nodes.map((id) => `n${id}`), ...clients],
    clients,
    storage: trace.events.some((e) => STORAGE_KINDS.has(e.kind)),
    rows,
    summary: summarize(rows, trace.events, column),
    kinds: countKinds(rows),
    availability: availability.on ? availabilityConfig(trace) : null,
  };
}

/** Part 6's kinds: a trace that has one is read for part 6's state (availabilityOps). */
export const AVAILABILITY_KINDS = new Set([
  ...["prevote.start", "prevote", "prevote.reply", "lease", "leader.forget"],
  ...["transfer.start", "transfer.end", "read.start", "read.index", "read.ready", "read.fail"],
  "drift",
]);

/**
 * Whether a trace is of part 6 on, as far as its events so far tell: its test.start names such
 * a part, or one of part 6's kinds came. Fed every event in order, by the timeline and by the
 * cluster model alike, so both turn part 6's state on at the same event.
 */
export class AvailabilityWatch {
  on = false;

  see(e: TraceEvent): void {
    if (this.on) return;
    if (AVAILABILITY_KINDS.has(e.kind)) this.on = true;
    else if (e.known && e.kind === "test.start") this.on = /^part([6-9]|\d\d)/.test(e.details.part);
  }
}

/** Part 6's options that the viz draws, as a test configured them (part 6's defaults: on). */
export interface AvailabilityConfig {
  /** §4.2.3: a follower that heard from its leader this recently ignores later terms' votes */
  leaseMs: number | null;
}

/** The lease (CheckQuorum's, §4.2.3) a trace's nodes keep: its length, or null when it is off. */
export function availabilityConfig(trace: Trace): AvailabilityConfig {
  const start = trace.events.find((e) => e.known && e.kind === "test.start");
  const raft = start?.known && start.kind === "test.start" ? start.details.config.raft : undefined;
  return leaseOf(raft);
}

/** The lease of a node configuration (`config.raft`): part 6's defaults where it says nothing. */
export function leaseOf(raft: unknown): AvailabilityConfig {
  const config = typeof raft === "object" && raft !== null ? (raft as Record<string, unknown>) : {};
  if (config.checkQuorum === false) return { leaseMs: null };
  const min = config.electionTimeoutMinMs;
  return { leaseMs: typeof min === "number" ? min : DEFAULT_MIN_TIMEOUT_MS };
}

/** The parts' minimum election timeout when a test sets none (§5.2's 150-300 ms). */
const DEFAULT_MIN_TIMEOUT_MS = 150;

export const STORAGE_KINDS = new Set(["persist", "halt", "restart"]);

export function nextLanes(
  lanes: Lane[],
  e: TraceEvent,
  column: Map<number, number>,
  ids: number[],
): Lane[] {
  if (e.node !== null) return nodeLanes(lanes, e, column.get(e.node)!);
  if (e.known && e.kind === "fault" && e.details.action === "kill") {
    // a real test killed the node's process (SIGKILL): it writes nothing more, so say it here
    const i = column.get(e.details.node);
    if (i === undefined || lanes[i]!.dead) return lanes;
    const next = lanes.slice();
    next[i] = { ...lanes[i]!, dead: true };
    return next;
  }
  if (!e.known || e.kind === "process.start" || !("network" in e.details)) return lanes;
  const { groups, cutOff, dead } = e.details.network;
  const split = groups.length > 1;
  const next = lanes.map((lane, i) => {
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
  const i = e.kind === "restart" ? column.get(e.details.node) : undefined;
  if (e.kind === "restart" && i !== undefined) {
    // §5.2: a server starts as a follower; this one in the term its storage gave back
    next[i] = { ...next[i]!, role: "follower", term: e.details.currentTerm, dead: false };
  }
  return next;
}

/** The lanes after an event on node lane `i`: its role and term, dead once it stops. */
function nodeLanes(lanes: Lane[], e: TraceEvent, i: number): Lane[] {
  const old = lanes[i]!;
  const role = e.role ?? old.role;
  const term = e.term ?? old.term;
  // A halt stops the node before its role says so (part 3: storage failed); a real process's
  // exit (the supervisor's process.exit, kv:cluster) ends it whatever its last role was, since a
  // SIGKILLed node writes nothing more; a process starting on the node brings it back.
  const stops = e.kind === "halt" || processExitOf(e) !== null;
  const starts = e.kind === "process.start";
  const dead = stops || role === "dead" || (starts || old.role === "dead" ? false : old.dead);
  if (role === old.role && term === old.term && dead === old.dead) return lanes;
  const next = lanes.slice();
  // A dead role marks the lane dead; leaving it clears the mark. A harness crash mark stays
  // until the harness says otherwise, so an event from a crashed node stands out.
  next[i] = { ...old, role, term, dead };
  return next;
}

/**
 * The conversation of each row: a message's request for messages, and one per client operation.
 * Only a reply's send and deliver name its request; a drop or an rpc.error names just the
 * message, so each message remembers its conversation from the first event that told it.
 */
class Conversations {
  private readonly ofMsg = new Map<number, number>();
  private readonly ops: OpConversations;

  constructor(events: readonly TraceEvent[]) {
    let last = 0;
    for (const e of events) last = Math.max(last, messageOf(e).msg ?? 0);
    this.ops = new OpConversations(last + 1);
  }

  of(e: TraceEvent, msg: number | null, request: number | null): number | null {
    if (msg === null) return request ?? this.ops.of(e);
    const conv = request ?? this.ofMsg.get(msg) ?? msg;
    if (!this.ofMsg.has(msg)) this.ofMsg.set(msg, conv);
    return conv;
  }
}

/** A row: the event's text and message, and what the caller worked out about its moment. */
function toRow(
  event: TraceEvent,
  conversations: Conversations,
  at: Pick<Row, "column" | "lanes" | "clients" | "ops" | "afterShutdown">,
): Row {
  const { msg, request, heartbeat } = messageOf(event);
  const { text, tone } = describe(event);
  // one object per row, built once: a trace may have 100,000 rows
  return {
    text,
    tone,
    t: event.t,
    node: event.node,
    column: at.column,
    kind: event.kind,
    msg,
    conv: conversations.of(event, msg, request),
    heartbeat,
    lanes: at.lanes,
    clients: at.clients,
    peer: peerOf(event),
    ops: at.ops,
    batch: batchOf(event),
    afterShutdown: at.afterShutdown,
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

export function opsOf(
  e: TraceEvent,
  before: Lane[],
  after: Lane[],
  column: Map<number, number>,
  availability = false,
): Op[] | null {
  if (e.node === null) {
    if (e.known && e.kind === "restart") return [restartOp(e.details)];
    // part 6: the drift fault, the harness's
    if (e.known && e.kind === "drift") return [["drift", e.details.node, e.details.rate]];
    return null;
  }
  const i = column.get(e.node)!;
  const ops: Op[] = [];
  // a new term: the vote of the old one is void (Figure 2, votedFor is per term)
  if ((after[i]!.term ?? 0) > (before[i]!.term ?? 0)) ops.push(["vote", e.node, null]);
  if (before[i]!.role === "leader" && after[i]!.role !== "leader") ops.push(["unlead", e.node]);
  // a real node's process starts again: it reads its storage, as a harness restart does
  if (e.kind === "process.start" && before[i]!.dead) ops.push(["reload", e.node]);
  if (e.known) {
    const op = stateOp(e, e.node);
    if (op) ops.push(op);
  }
  if (availability) ops.push(...availabilityOps(e, e.node, before[i]!, after[i]!));
  return ops.length > 0 ? ops : null;
}

/** The requests by which a leader speaks to its followers (part 6: TimeoutNow too). */
const FROM_LEADER = new Set(["AppendEntries", "InstallSnapshot", "TimeoutNow"]);

/**
 * Part 6's state from an event on `node`: a pre-vote asked for and counted, the leader it knows
 * and when it heard from it (§4.2.3's lease), a transfer, its reads. A new term ends a pre-vote
 * and forgets the leader, as the code does (setTerm); so do a leader's election and step-down.
 */
function availabilityOps(e: TraceEvent, node: number, was: Lane, now: Lane): Op[] {
  const ops: Op[] = [];
  const newTerm = (now.term ?? 0) > (was.term ?? 0);
  if (newTerm || (now.role !== was.role && now.role !== "follower")) {
    ops.push(["prevote", node, null, 0]);
  }
  if (now.role === "leader" && was.role !== "leader") {
    ops.push(["leader", node, node, null, now.term ?? 0]);
  } else if (was.role === "leader" && now.role !== "leader") {
    ops.push(["leader", node, null, null, null]);
  } else if (newTerm) ops.push(["leader", node, null, null, now.term ?? 0]);
  if (was.role === "leader" && now.role !== "leader") ops.push(["transfer", node, null]);
  if (!e.known) return ops;
  // §6.2: a leader that heard from no majority steps down, in its term, saying why
  if (e.kind === "role" && was.role === "leader" && e.details.reason.startsWith("CheckQuorum")) {
    ops.push(["quorum", node, true]);
  } else if (now.role !== "follower" && was.role === "follower") ops.push(["quorum", node, false]);
  switch (e.kind) {
    case "prevote.start":
      // the node gives up the leader it knew (no lease) and asks, its own would-be vote counted
      return [...ops, ["leader", node, null, null, null], ["prevote", node, e.details.term, 1]];
    case "prevote.reply":
      // counted only while it asks: for the term after its own
      return [...ops, ["prevote", node, (e.term ?? 0) + 1, e.details.votes]];
    case "leader.forget":
      return [...ops, ["leader", node, null, null, null]];
    case "transfer.start":
      return [...ops, ["transfer", node, e.details.target]];
    case "transfer.end":
      return [...ops, ["transfer", node, null]];
    case "read.start": {
      const step = was.role === "leader" ? "confirm" : "forward";
      return [...ops, ["read", node, e.details.read, step, null, e.details.follower ?? null]];
    }
    case "read.index":
      return [...ops, ["read", node, e.details.read, "apply", e.details.readIndex, null]];
    case "read.ready":
    case "read.fail":
      return [...ops, ["read", node, e.details.read, null, null, null]];
    case "deliver":
      return [...ops, ...heardFromLeader(e.details, e.t, node, was)];
    default:
      return ops;
  }
}

/** What `heardFromLeader` reads of a delivered message. */
interface Delivered {
  rpc: string;
  type: string;
  payload: { term?: unknown; leaderId?: unknown };
}

/**
 * A request delivered to `node` at `t` from the leader it names: Figure 2's current leader (its term not
 * behind this node's), unless this node leads that term itself; it is heard now (§4.2.3) and ends
 * a pre-vote (§9.6).
 */
function heardFromLeader(d: Delivered, t: number, node: number, was: Lane): Op[] {
  const term = d.payload.term;
  const leader = d.payload.leaderId;
  if (!FROM_LEADER.has(d.rpc) || d.type !== "request" || typeof leader !== "number") return [];
  if (typeof term !== "number" || term < (was.term ?? 0)) return [];
  if (was.role === "leader" && term === was.term) return [];
  return [
    ["leader", node, leader, t, term],
    ["prevote", node, null, 0],
    ["quorum", node, false],
  ];
}

const entriesOf = (entries: readonly LogEntry[]): Entry[] =>
  entries.map((x): Entry => [x.term, clip(readableCommand(x.command))]);

/** Short text of a command for the log strip's tooltips. */
function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

function restartOp({ node, currentTerm, votedFor, log, snapshot }: TraceKinds["restart"]): Op {
  if (snapshot === undefined) return ["restart", node, currentTerm, votedFor, entriesOf(log)];
  // part 5: the log it loaded starts after its snapshot
  const { lastIncludedIndex, lastIncludedTerm } = snapshot;
  const after = { lastIncludedIndex, lastIncludedTerm };
  return ["restart", node, currentTerm, votedFor, entriesOf(log), after];
}

function stateOp(e: Extract<TraceEvent, { known: true }>, node: number): Op | null {
  switch (e.kind) {
    case "vote":
      return e.details.granted ? ["vote", node, e.details.candidate] : null;
    case "log.append":
      return ["append", node, e.details.index, entriesOf(e.details.entries)];
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
    case "persist": {
      const { currentTerm, votedFor, lastLogIndex, snapshotIndex } = e.details;
      // part 5: a save that wrote a snapshot says so (left out otherwise: pages carry every op)
      return snapshotIndex === undefined
        ? ["persist", node, currentTerm, votedFor, lastLogIndex]
        : ["persist", node, currentTerm, votedFor, lastLogIndex, snapshotIndex];
    }
    case "log.compact":
      return ["compact", node, e.details.through, e.details.term];
    case "snapshot.install":
      return ["install", node, e.details.lastIncludedIndex];
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

function countKinds(rows: Row[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.kind, (counts.get(row.kind) ?? 0) + 1);
  return [...counts];
}
