// The structured trace: one event per state change, vote, message and harness action. It is the
// contract between this code, the safety checks and tools/testlog-viz; the format is described
// in docs/trace-format.md at the repository root, and the types below are that description in
// code (test/trace-format.test.ts holds the two together). Each kind's human sentence is written
// once, in `sentences` below; the terminal log and the timelines both use it.

import type { Clock } from "./clock.ts";
import type {
  AppendEntriesArgs,
  AppendEntriesReply,
  InstallSnapshotArgs,
  InstallSnapshotReply,
  LogEntry,
  NodeId,
  PreVoteArgs,
  PreVoteReply,
  ReadIndexArgs,
  ReadIndexReply,
  RequestVoteArgs,
  RequestVoteReply,
  Role,
  TimeoutNowArgs,
  TimeoutNowReply,
} from "./raft.ts";

export type RpcName =
  | "RequestVote"
  | "AppendEntries"
  | "InstallSnapshot"
  | "PreVote"
  | "TimeoutNow"
  | "ReadIndex";

/** A message as the wire carries it: which RPC, which way, and the arguments or the reply. */
export type RpcMessage =
  | { rpc: "RequestVote"; type: "request"; payload: RequestVoteArgs }
  | { rpc: "RequestVote"; type: "reply"; request: number; payload: RequestVoteReply }
  | { rpc: "AppendEntries"; type: "request"; payload: AppendEntriesArgs }
  | { rpc: "AppendEntries"; type: "reply"; request: number; payload: AppendEntriesReply }
  | { rpc: "InstallSnapshot"; type: "request"; payload: InstallSnapshotArgs }
  | { rpc: "InstallSnapshot"; type: "reply"; request: number; payload: InstallSnapshotReply }
  | { rpc: "PreVote"; type: "request"; payload: PreVoteArgs }
  | { rpc: "PreVote"; type: "reply"; request: number; payload: PreVoteReply }
  | { rpc: "TimeoutNow"; type: "request"; payload: TimeoutNowArgs }
  | { rpc: "TimeoutNow"; type: "reply"; request: number; payload: TimeoutNowReply }
  | { rpc: "ReadIndex"; type: "request"; payload: ReadIndexArgs }
  | { rpc: "ReadIndex"; type: "reply"; request: number; payload: ReadIndexReply };

/** What every message event says about its message. */
export type MessageDetails = RpcMessage & {
  /** Unique within the trace; a reply's `request` names the request it answers. */
  msg: number;
  /** An AppendEntries that carries no entries, and its reply. */
  heartbeat: boolean;
  /** Size of the payload's JSON encoding, as a real transport would send it. */
  bytes: number;
};

/** The network as it is after a harness action, so a reader need not replay it. */
export interface NetworkView {
  /** Live nodes that reach each other both ways, directly or through others; one array a group. */
  groups: NodeId[][];
  /** Nodes the test has cut off: the harness's checks leave them out. */
  cutOff: NodeId[];
  /** Stopped nodes. */
  dead: NodeId[];
}

/** A snapshot as the trace names it (§7): its last entry, its size and a digest of its contents. */
export interface SnapshotSummary {
  lastIncludedIndex: number;
  lastIncludedTerm: number;
  /** Characters of its JSON text. */
  size: number;
  /** snapshot.ts's digestOf its text: equal digests at one index, equal states. */
  digest: number;
}

/** Kinds a consensus module emits about itself. */
export interface NodeKinds {
  role: { from: Role; to: Role; reason: string };
  term: { from: number; to: number; reason: string };
  "election.timeout": { timeoutMs: number };
  vote: { candidate: NodeId; candidateTerm: number; granted: boolean; reason: string };
  "vote.reply": { from: NodeId; granted: boolean; votes: number; needed: number };
  "reply.stale": {
    rpc: RpcName;
    from: NodeId;
    requestTerm: number;
    replyTerm: number;
    reason: string;
  };
  submit: { command: unknown; index: number; term: number } | { command: unknown; refused: string };
  "log.append": { index: number; entries: readonly LogEntry[] };
  "log.truncate": { from: number; removed: number };
  commit: { from: number; to: number; reason: string };
  progress: { peer: NodeId; nextIndex: number; matchIndex: number; reason: string };
  apply: { index: number; term: number; command: unknown };
  persist: {
    /** What is durable now; `hardState` says whether this save wrote term and vote. */
    currentTerm: number;
    votedFor: NodeId | null;
    hardState: boolean;
    /** Present when this save wrote a new snapshot: its last entry. */
    snapshotIndex?: number;
    /** Present when the log changed: entries from this index on were replaced by `entries` of them. */
    logFrom?: number;
    entries?: number;
    lastLogIndex: number;
    /** §10.2.1: a leader's write that ran while its messages were on their way. */
    background?: true;
  };
  halt: { reason: string };
  /** §7: the entries through `through` are discarded, a snapshot holds them; `term` is that entry's. */
  "log.compact": { through: number; term: number; removed: number };
  /** The state machine's state became this node's snapshot (it asked, or the policy did). */
  "snapshot.take": SnapshotSummary & { reason: string };
  /** A follower's handling of one InstallSnapshot chunk (Figure 13, receiver rules 2-4). */
  "snapshot.chunk": {
    from: NodeId;
    lastIncludedIndex: number;
    offset: number;
    size: number;
    done: boolean;
    taken: boolean;
    reason: string;
  };
  /** A follower installed a leader's snapshot (rules 5-7): `kept` entries after it stayed (rule 6). */
  "snapshot.install": SnapshotSummary & { from: NodeId; kept: number };
  /** The state machine was handed the snapshot to reset to: at start, or after an install. */
  "snapshot.restore": SnapshotSummary & { reason: string };
  /** A leader saw a follower lack what it had acknowledged in this term. */
  "data.lost": { peer: NodeId; acknowledged: number; refused: number; holds?: number };
  /** §9.6: a node asks whether a majority would vote for it in `term` (its currentTerm + 1). */
  "prevote.start": { term: number };
  /** §9.6: a voter's answer to a PreVote: whether it would vote for the candidate in that term. */
  prevote: { candidate: NodeId; candidateTerm: number; granted: boolean; reason: string };
  /** §9.6: a pre-candidate counts an answer. */
  "prevote.reply": { from: NodeId; granted: boolean; votes: number; needed: number };
  /**
   * §4.2.3: a RequestVote or PreVote for a later term ignored, because this node believes
   * `leader` leads: it heard from it `heardMsAgo` ms ago, or it is that leader (no heardMsAgo).
   */
  lease: {
    rpc: "RequestVote" | "PreVote";
    candidate: NodeId;
    candidateTerm: number;
    leader: NodeId;
    heardMsAgo?: number;
  };
  /** A follower forgets the leader of its term (etcd's ForgetLeader): no lease from now on. */
  "leader.forget": { leader: NodeId };
  /** §3.10: a leader starts handing its leadership to `target`. */
  "transfer.start": { target: NodeId };
  /** §3.10: a transfer ends without this leader stepping down for the target's term, and why. */
  "transfer.end": { target: NodeId; reason: string };
  /** §6.4: a read arrives (from this node's state machine, or from `follower` by ReadIndex). */
  "read.start": { read: number; follower?: NodeId };
  /** §6.4: the leader confirmed with a majority that it still leads: the read index is final. */
  "read.index": { read: number; readIndex: number };
  /** §6.4: this node has applied through the read index: the state machine may answer. */
  "read.ready": { read: number; readIndex: number };
  "read.fail": { read: number; reason: string };
}

/** Kinds the simulated network emits, on the node that sends or receives. */
export interface NetworkKinds {
  send: MessageDetails & { to: NodeId };
  deliver: MessageDetails & {
    from: NodeId;
    /** A second copy made by the network. */
    duplicate?: true;
    /** A reply whose caller no longer waits for it (its call timed out, is answered, or its node crashed). */
    late?: true;
  };
  drop: MessageDetails & { to: NodeId; reason: "lost" | "link cut" | "receiver dead" };
  "rpc.error": { rpc: RpcName; to: NodeId; msg: number; error: string };
}

/** Kinds the test harness emits (`node` is null). */
export interface HarnessKinds {
  "test.start": {
    test: string;
    file: string;
    part: string;
    seed: number;
    nodes: NodeId[];
    replay: string;
    render: string;
    config: { raft: Record<string, unknown>; network: Record<string, unknown> };
  };
  "test.end": { result: "pass" | "fail"; error?: string; expectedViolation?: boolean };
  isolate: { node: NodeId; network: NetworkView };
  reconnect: { node: NodeId; network: NetworkView };
  partition: { groups: NodeId[][]; network: NetworkView };
  heal: { network: NetworkView };
  cut: { from: NodeId; to: NodeId; network: NetworkView };
  uncut: { from: NodeId; to: NodeId; network: NetworkView };
  slow: { from: NodeId; to: NodeId; extraMs: number };
  /** `node`'s clock runs at `rate` times real time from now on (1: exact; 1.1: 10% fast). */
  drift: { node: NodeId; rate: number };
  crash: { node: NodeId; network: NetworkView };
  restart: {
    node: NodeId;
    network: NetworkView;
    /** The persistent state the new module loaded from the node's storage. */
    currentTerm: number;
    votedFor: NodeId | null;
    /** The entries after the snapshot, if there is one. */
    log: readonly LogEntry[];
    snapshot?: SnapshotSummary;
  };
  check: { name: string; ok: boolean; result?: unknown; error?: string };
  violation: { invariant: string; message: string };
  note: { text: string };
  shutdown: Record<string, never>;
}

export interface TraceKinds extends NodeKinds, NetworkKinds, HarnessKinds {}
export type Kind = keyof TraceKinds;

/** One event of a given kind. */
export interface EventOf<K extends Kind> {
  /** Virtual milliseconds since the cluster started. */
  t: number;
  /** The node it happened on, or null for the test harness. */
  node: NodeId | null;
  /** The node's currentTerm and role just after the event (null for the harness). */
  term: number | null;
  role: Role | null;
  kind: K;
  details: TraceKinds[K];
}

/** Any event: a union discriminated by `kind`, so `details` is typed once `kind` is known. */
export type TraceEvent = { [K in Kind]: EventOf<K> }[Kind];

/** An event of kind K as a TraceEvent, which it is (TypeScript cannot see it for a generic K). */
export function asTraceEvent<K extends Kind>(event: EventOf<K>): TraceEvent {
  return event as unknown as TraceEvent;
}

export type TraceListener = (event: TraceEvent) => void;

/** Records events in order and hands each one to the listeners (safety checks, live log). */
export class Tracer {
  readonly events: TraceEvent[] = [];
  private readonly listeners: TraceListener[] = [];
  private readonly clock: Clock;
  private readonly stateOf: (node: NodeId) => { term: number; role: Role };
  /** Keep events in `events` (a long benchmark turns this off and only listens). */
  keep = true;

  /** `stateOf` reads a node's term and role, so callers need not pass them with every event. */
  constructor(clock: Clock, stateOf: (node: NodeId) => { term: number; role: Role }) {
    this.clock = clock;
    this.stateOf = stateOf;
  }

  emit<K extends Kind>(node: NodeId | null, kind: K, details: TraceKinds[K]): void {
    const state = node === null ? null : this.stateOf(node);
    const event = asTraceEvent<K>({
      t: this.clock.now(),
      node,
      term: state?.term ?? null,
      role: state?.role ?? null,
      kind,
      details,
    });
    if (this.keep) this.events.push(event);
    for (const listener of this.listeners) listener(event);
  }

  subscribe(listener: TraceListener): void {
    this.listeners.push(listener);
  }
}

/** The file form: one JSON object per line. */
export function toJsonLines(events: readonly TraceEvent[]): string {
  return events.map((e) => `${JSON.stringify(e)}\n`).join("");
}

// ---- Sentences: how each kind reads, written once ----

const node = (id: NodeId) => `n${id}`;
const json = (value: unknown) => JSON.stringify(value);

function message(d: MessageDetails): string {
  const what = `${d.rpc} ${d.type} #${d.msg}`;
  return d.type === "reply" ? `${what} (to #${d.request})` : what;
}

/** `[40] T2 (3120 characters, digest 1234)`: a snapshot's last entry and what it holds. */
function snapshot(d: SnapshotSummary): string {
  return `[${d.lastIncludedIndex}] T${d.lastIncludedTerm} (${d.size} characters, digest ${d.digest})`;
}

/** `[3] T1 "x", [4] T1 "y"`: each entry with its index and term. */
function entries(first: number, list: readonly LogEntry[]): string {
  return list.map((e, i) => `[${first + i}] T${e.term} ${json(e.command)}`).join(", ");
}

function groups(list: NodeId[][]): string {
  return list.map((g) => `{${g.map(node).join(" ")}}`).join(" ");
}

type Sentences = { [K in Kind]: (details: TraceKinds[K]) => string };

/** The human sentence of every kind; testlog-viz shows the same words. */
export const sentences: Sentences = {
  role: (d) => `${d.from} → ${d.to} (${d.reason})`,
  term: (d) => `term ${d.from} → ${d.to} (${d.reason})`,
  "election.timeout": (d) => `election timeout after ${d.timeoutMs} ms`,
  vote: (d) =>
    d.granted
      ? `votes for ${node(d.candidate)} in term ${d.candidateTerm} (${d.reason})`
      : `refuses ${node(d.candidate)} for term ${d.candidateTerm}: ${d.reason}`,
  "vote.reply": (d) =>
    `${d.granted ? "vote granted" : "vote refused"} by ${node(d.from)}: ${d.votes} of ${d.needed} needed`,
  "reply.stale": (d) => `ignores a stale ${d.rpc} reply from ${node(d.from)}: ${d.reason}`,
  submit: (d) =>
    "refused" in d
      ? `a client submits ${json(d.command)}: refused, ${d.refused}`
      : `a client submits ${json(d.command)}: it will be [${d.index}] T${d.term} if committed`,
  "log.append": (d) => `log += ${entries(d.index, d.entries)}`,
  "log.truncate": (d) =>
    `log cut from [${d.from}] (${d.removed} ${d.removed === 1 ? "entry" : "entries"} removed)`,
  commit: (d) => `commitIndex ${d.from} → ${d.to} (${d.reason})`,
  progress: (d) =>
    `${node(d.peer)}: nextIndex ${d.nextIndex}, matchIndex ${d.matchIndex} (${d.reason})`,
  apply: (d) => `applies [${d.index}] T${d.term} ${json(d.command)}`,
  persist: (d) => {
    const state = `term ${d.currentTerm}, vote ${d.votedFor === null ? "none" : node(d.votedFor)}`;
    const snap = d.snapshotIndex === undefined ? "" : `the snapshot through [${d.snapshotIndex}]`;
    const log =
      d.logFrom === undefined
        ? ""
        : `the log from [${d.logFrom}] (${d.entries} ${d.entries === 1 ? "entry" : "entries"}, now to [${d.lastLogIndex}])`;
    const background = d.background ? ", written while its messages travelled (§10.2.1)" : "";
    return `persists ${[d.hardState ? state : "", snap, log].filter((s) => s !== "").join(" and ")}${background}`;
  },
  halt: (d) => `stops: ${d.reason}`,
  "log.compact": (d) =>
    `log compacted through [${d.through}] T${d.term} (${d.removed} ${d.removed === 1 ? "entry" : "entries"} removed): a snapshot holds them`,
  "snapshot.take": (d) => `takes a snapshot through ${snapshot(d)} (${d.reason})`,
  "snapshot.chunk": (d) =>
    `${d.taken ? "takes" : "refuses"} chunk ${d.offset}..${d.offset + d.size}${d.done ? " (the last)" : ""} of ${node(d.from)}'s snapshot through [${d.lastIncludedIndex}]: ${d.reason}`,
  "snapshot.install": (d) =>
    `installs ${node(d.from)}'s snapshot through ${snapshot(d)}; ${d.kept === 0 ? "no entry after it" : `the ${d.kept} ${d.kept === 1 ? "entry" : "entries"} after it stay`}; commitIndex and lastApplied ${d.lastIncludedIndex}`,
  "snapshot.restore": (d) =>
    `the state machine restores the snapshot through ${snapshot(d)} (${d.reason})`,
  "data.lost": (d) =>
    `${node(d.peer)} HAS LOST DATA: it had acknowledged [${d.acknowledged}] in this term, and now refuses [${d.refused}]${d.holds === undefined ? "" : ` (its log ends at [${d.holds}])`}. A server must never forget what it acknowledged, so ${node(d.peer)} cannot simply rejoin: restore its data folder from a backup, or replace it as a new member`,
  "prevote.start": (d) => `asks for pre-votes: would a majority vote for it in term ${d.term}?`,
  prevote: (d) =>
    d.granted
      ? `would vote for ${node(d.candidate)} in term ${d.candidateTerm} (${d.reason})`
      : `would not vote for ${node(d.candidate)} in term ${d.candidateTerm}: ${d.reason}`,
  "prevote.reply": (d) =>
    `pre-vote ${d.granted ? "granted" : "refused"} by ${node(d.from)}: ${d.votes} of ${d.needed} needed`,
  lease: (d) =>
    `ignores ${node(d.candidate)}'s ${d.rpc} for term ${d.candidateTerm}: ${d.heardMsAgo === undefined ? "it leads" : `it heard from leader ${node(d.leader)} ${d.heardMsAgo} ms ago`}, within the minimum election timeout (§4.2.3)`,
  "leader.forget": (d) =>
    `forgets leader ${node(d.leader)}: it grants pre-votes and votes for a later term from now on`,
  "transfer.start": (d) =>
    `hands leadership to ${node(d.target)}: takes no new commands until it has (§3.10)`,
  "transfer.end": (d) => `leadership transfer to ${node(d.target)} ${d.reason}`,
  "read.start": (d) =>
    `read #${d.read} arrives${d.follower === undefined ? "" : ` from ${node(d.follower)} (ReadIndex)`}`,
  "read.index": (d) =>
    `read #${d.read}: a majority confirmed this leader; read index ${d.readIndex} (§6.4)`,
  "read.ready": (d) => `read #${d.read} served: applied through its read index ${d.readIndex}`,
  "read.fail": (d) => `read #${d.read} refused: ${d.reason}`,
  send: (d) => `→ ${node(d.to)} ${message(d)} ${json(d.payload)}`,
  deliver: (d) =>
    `← ${node(d.from)} ${message(d)}${d.duplicate ? " (duplicate)" : ""}${d.late ? " (too late: its call is over)" : ""} ${json(d.payload)}`,
  drop: (d) => `✗ ${message(d)} to ${node(d.to)} dropped: ${d.reason}`,
  "rpc.error": (d) => `${d.rpc} #${d.msg} to ${node(d.to)} failed: ${d.error}`,
  "test.start": (d) => `test "${d.test}" starts: seed ${d.seed}, nodes ${d.nodes.map(node)}`,
  "test.end": (d) =>
    d.result === "pass"
      ? d.expectedViolation
        ? "PASS (the safety violation above was the point of this test)"
        : "PASS"
      : `FAIL: ${d.error ?? "failed"}`,
  isolate: (d) => `isolate ${node(d.node)}: it reaches no one`,
  reconnect: (d) => `reconnect ${node(d.node)}: groups now ${groups(d.network.groups)}`,
  partition: (d) => `partition into ${groups(d.groups)}`,
  heal: () => "heal: every link restored",
  cut: (d) => `cut the link ${node(d.from)} → ${node(d.to)} (one way)`,
  uncut: (d) => `restore the link ${node(d.from)} → ${node(d.to)}`,
  slow: (d) =>
    d.extraMs === 0
      ? `the link ${node(d.from)} → ${node(d.to)} is fast again`
      : `the link ${node(d.from)} → ${node(d.to)} is ${d.extraMs} ms slower`,
  drift: (d) =>
    d.rate === 1
      ? `${node(d.node)}'s clock runs true again`
      : `${node(d.node)}'s clock runs ${d.rate > 1 ? "fast" : "slow"}: ${d.rate} ms for every real ms`,
  crash: (d) => `crash ${node(d.node)}`,
  restart: (d) => {
    const base = d.snapshot?.lastIncludedIndex ?? 0;
    const from = d.snapshot === undefined ? "" : `snapshot through ${snapshot(d.snapshot)}, `;
    return `restart ${node(d.node)} from its storage: term ${d.currentTerm}, vote ${d.votedFor === null ? "none" : node(d.votedFor)}, ${from}log to [${base + d.log.length}]`;
  },
  check: (d) =>
    d.ok
      ? `✓ ${d.name}${d.result === undefined ? "" : `: ${json(d.result)}`}`
      : `✗ ${d.name}: ${d.error ?? "failed"}`,
  violation: (d) => `VIOLATION of ${d.invariant}: ${d.message}`,
  note: (d) => d.text,
  shutdown: () => "shutdown: the test is over, every node stops",
};

/** The sentence for one event. */
export function describe(event: TraceEvent): string {
  return sentenceOf(event.kind, event.details as never);
}

function sentenceOf<K extends Kind>(kind: K, details: TraceKinds[K]): string {
  return sentences[kind](details);
}

// ---- The terminal line ----

const ansi = {
  reset: "\x1b[0m",
  red: "\x1b[31m",
  yellow: "\x1b[33m",
  green: "\x1b[32m",
  cyan: "\x1b[36m",
  grey: "\x1b[90m",
};

const roleColour: Record<Role, string> = {
  follower: "",
  candidate: ansi.yellow,
  leader: ansi.green,
  dead: ansi.grey,
};

/**
 * One human-readable line for an event, e.g.
 * `   153 ms  n2 T1 candidate  → n0 RequestVote request #17 {"term":1,"candidateId":2}`.
 * With `colour`, the line takes the node's role colour (harness lines cyan, violations red).
 */
export function formatEvent(event: TraceEvent, colour = false): string {
  const time = `${String(event.t).padStart(6)} ms`;
  const who =
    event.node === null
      ? "TEST".padEnd(16)
      : `n${event.node} T${event.term} ${event.role ?? ""}`.padEnd(16);
  const line = `${time}  ${who}  ${describe(event)}`;
  if (!colour) return line;
  const tint =
    event.kind === "violation"
      ? ansi.red
      : event.node === null
        ? ansi.cyan
        : roleColour[event.role ?? "follower"];
  return tint ? `${tint}${line}${ansi.reset}` : line;
}
