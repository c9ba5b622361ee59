// The one place where the viz meets a part's trace: its kinds, their typed details and their
// sentences. It reads the newest part's: part6-availability's Raft core (part 5's kinds, which
// hold parts 1-3's and log compaction and InstallSnapshot, plus PreVote, the vote lease,
// leadership transfer with TimeoutNow, ReadIndex, the leader's background write and the clock
// drift fault) and part 6's key/value store's clients and real processes (part6-availability/kv:
// part 4's store with sessions opened first and answers "opened" and "session-expired", and a
// test's faults that stop a node cleanly or transfer its leadership). Traces of earlier parts use a subset of these kinds and
// fields, so they read the same way. Pointing the viz at a later part means changing the imports
// below; tsc then names every kind the new part adds, and each needs one line in `specs`.
//
// Nothing the viz reads from an event is trusted before `isKnown` has checked it against the
// spec of its kind: a trace is a file, and a file can say anything.

import { describeCommand, type KvCommand } from "part6-availability/kv/kv/commands";
// The key/value store's trace: its clients' kinds and its real processes'. Its Raft kinds are
// its part's core's, imported below as the core's own.
import * as kv from "part6-availability/kv/trace";
import * as core from "part6-availability/trace";

/** Every kind of the newest part: the Raft core's, the clients' and the real processes'. */
export interface TraceKinds extends core.TraceKinds, kv.ClientKinds, kv.RealKinds {}
export type Kind = keyof TraceKinds;
export type Role = NonNullable<core.TraceEvent["role"]>;
export type LogEntry = TraceKinds["log.append"]["entries"][number];
export type NetworkView = TraceKinds["crash"]["network"];

/** An event of the part, as its types describe it. */
type PartEvent = {
  [K in Kind]: {
    t: number;
    node: number | null;
    term: number | null;
    role: Role | null;
    kind: K;
    details: TraceKinds[K];
  };
}[Kind];

/** Each kind's sentence, written once in the parts: the store's, with the core's for Raft's kinds. */
const sentences: { [K in Kind]: (details: TraceKinds[K]) => string } = {
  ...kv.sentences,
  ...core.sentences,
};

export type Details = Record<string, unknown>;

/** A line of the file as read, before anything is known about its kind. */
export interface RawEvent {
  /** position of the line in the file, 1-based, so warnings and rows can point back to it */
  line: number;
  t: number;
  node: number | null;
  term: number | null;
  role: string | null;
  kind: string;
  details: Details;
}

/**
 * Message payloads as traces of every part carry them: part1's have none of the log fields that
 * part2's types declare, so the viz checks only that a payload is an object and reads its fields
 * through `payloadEntries`, never through the part's payload types. Other details are read as
 * they are, as plain objects (a part's interface, such as part 5's SnapshotSummary, made one).
 */
type LoosePayload<D> = D extends { payload: unknown }
  ? Omit<D, "payload"> & { payload: Details }
  : { [P in keyof D]: D[P] };

/** An event of a kind the part defines, whose details match that kind's type. */
export type KnownEvent = {
  [K in Kind]: Omit<PartEvent & { kind: K }, "details"> & {
    kind: K;
    details: LoosePayload<TraceKinds[K]>;
    line: number;
  };
}[Kind];

// ---- Checks: one line per kind, in the order of the part's trace.ts ----

type Check = (value: unknown) => boolean;
type Shape = Record<string, Check>;
/** The fields of a kind, and for union types the rule that picks a valid combination. */
type Spec = Shape | [Shape, (details: Details) => boolean];

export const isObject = (v: unknown): v is Details =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const int: Check = (v) => Number.isInteger(v);
const num: Check = (v) => typeof v === "number" && Number.isFinite(v);
const str: Check = (v) => typeof v === "string";
const bool: Check = (v) => typeof v === "boolean";
const anything: Check = () => true;
const opt =
  (check: Check): Check =>
  (v) =>
    v === undefined || check(v);
const list =
  (check: Check): Check =>
  (v) =>
    Array.isArray(v) && v.every(check);
const nullable =
  (check: Check): Check =>
  (v) =>
    v === null || check(v);
const oneOf =
  (...values: unknown[]): Check =>
  (v) =>
    values.includes(v);
const shaped =
  (shape: Shape): Check =>
  (v) =>
    isObject(v) && mismatch(shape, v) === undefined;

const role = oneOf("follower", "candidate", "leader", "dead");
const rpc = oneOf(
  ...["RequestVote", "AppendEntries", "InstallSnapshot"],
  // part 6: the thesis's RPCs
  ...["PreVote", "TimeoutNow", "ReadIndex"],
);
const isEntry = (v: unknown): v is LogEntry => shaped({ term: int, command: anything })(v);
const network = shaped({ groups: list(list(int)), cutOff: list(int), dead: list(int) });
/** A snapshot as part 5's trace names it: its last entry, its size, a digest of its contents. */
const SNAPSHOT: Shape = { lastIncludedIndex: int, lastIncludedTerm: int, size: int, digest: num };

/** A client's command, by its `op`: the fields part4-kv's KvCommand gives each. */
const COMMANDS = new Map<unknown, Shape>([
  ["get", { key: str }],
  ["delete", { key: str }],
  ["put", { key: str, value: str }],
  ["append", { key: str, value: str }],
  ["cas", { key: str, expected: nullable(str), value: str }],
]);
const command: Check = (v) => {
  const shape = isObject(v) ? COMMANDS.get(v.op) : undefined;
  return shape !== undefined && shaped(shape)(v);
};
const result = shaped({ value: nullable(str), existed: bool, ok: opt(bool) });
const CLIENT: Shape = { client: str, seq: int };

const MESSAGE: Shape = {
  msg: int,
  rpc,
  type: oneOf("request", "reply"),
  request: opt(int),
  payload: isObject,
  heartbeat: bool,
  bytes: num,
};
/** A reply names its request; a request does not. */
const message = (extra: Shape): Spec => [
  { ...MESSAGE, ...extra },
  (d: Details) => (d.type === "reply") === (d.request !== undefined),
];
const link = { from: int, to: int, network };

const specs: { [K in Kind]: Spec } = {
  role: { from: role, to: role, reason: str },
  term: { from: int, to: int, reason: str },
  "election.timeout": { timeoutMs: num },
  vote: { candidate: int, candidateTerm: int, granted: bool, reason: str },
  "vote.reply": { from: int, granted: bool, votes: int, needed: int },
  // requestTerm: part2 added it after some traces of ours were written
  "reply.stale": { rpc, from: int, requestTerm: opt(int), replyTerm: int, reason: str },
  submit: [
    { command: anything, index: opt(int), term: opt(int), refused: opt(str) },
    (d: Details) => (d.refused === undefined) === (d.index !== undefined && d.term !== undefined),
  ],
  "log.append": { index: int, entries: list(isEntry) },
  "log.truncate": { from: int, removed: int },
  commit: { from: int, to: int, reason: str },
  progress: { peer: int, nextIndex: int, matchIndex: int, reason: str },
  apply: { index: int, term: int, command: anything },
  persist: [
    {
      currentTerm: int,
      votedFor: nullable(int),
      hardState: bool,
      snapshotIndex: opt(int),
      logFrom: opt(int),
      entries: opt(int),
      lastLogIndex: int,
      // part 6 (§10.2.1): a leader's write that ran while its messages travelled
      background: opt(oneOf(true)),
    },
    (d: Details) => (d.logFrom === undefined) === (d.entries === undefined),
  ],
  halt: { reason: str },
  "log.compact": { through: int, term: int, removed: int },
  "snapshot.take": { ...SNAPSHOT, reason: str },
  "snapshot.chunk": {
    from: int,
    lastIncludedIndex: int,
    offset: int,
    size: int,
    done: bool,
    taken: bool,
    reason: str,
  },
  "snapshot.install": { ...SNAPSHOT, from: int, kept: int },
  "snapshot.restore": { ...SNAPSHOT, reason: str },
  "data.lost": { peer: int, acknowledged: int, refused: int, holds: opt(int) },
  // part 6: PreVote (§9.6), the vote lease (§4.2.3), leadership transfer (§3.10), ReadIndex (§6.4)
  "prevote.start": { term: int },
  prevote: { candidate: int, candidateTerm: int, granted: bool, reason: str },
  "prevote.reply": { from: int, granted: bool, votes: int, needed: int },
  lease: {
    rpc: oneOf("RequestVote", "PreVote"),
    candidate: int,
    candidateTerm: int,
    leader: int,
    heardMsAgo: opt(num),
  },
  "leader.forget": { leader: int },
  "transfer.start": { target: int },
  "transfer.end": { target: int, reason: str },
  "read.start": { read: int, follower: opt(int) },
  "read.index": { read: int, readIndex: int },
  "read.ready": { read: int, readIndex: int },
  "read.fail": { read: int, reason: str },
  // a read the leader answers on its lease (§6.4.1), without a heartbeat round
  "read.lease": { readIndex: int, expiresInMs: num },
  send: message({ to: int }),
  deliver: message({ from: int, duplicate: opt(oneOf(true)), late: opt(oneOf(true)) }),
  drop: message({ to: int, reason: oneOf("lost", "link cut", "receiver dead") }),
  "rpc.error": { rpc, to: int, msg: int, error: str },
  "test.start": {
    test: str,
    file: str,
    part: str,
    seed: int,
    nodes: list(int),
    replay: str,
    render: str,
    // the simulation's tests give { raft, network }; part4's real tests the nodes' flags
    config: isObject,
  },
  "test.end": { result: oneOf("pass", "fail"), error: opt(str), expectedViolation: opt(bool) },
  isolate: { node: int, network },
  reconnect: { node: int, network },
  partition: { groups: list(list(int)), network },
  heal: { network },
  cut: link,
  uncut: link,
  slow: { from: int, to: int, extraMs: num },
  // part 6: a node's clock runs `rate` ms for every ms of the trace's time
  drift: { node: int, rate: num },
  crash: { node: int, network },
  restart: {
    node: int,
    network,
    currentTerm: int,
    votedFor: nullable(int),
    log: list(isEntry),
    // part 5: when storage held a snapshot; `log` is then the entries after it
    snapshot: opt(shaped(SNAPSHOT)),
  },
  check: { name: str, ok: bool, result: anything, error: opt(str) },
  violation: { invariant: str, message: str },
  note: { text: str },
  shutdown: {},
  "client.invoke": { ...CLIENT, command },
  "client.send": { ...CLIENT, to: int, attempt: int },
  "client.answer": {
    ...CLIENT,
    from: int,
    status: oneOf("ok", "opened", "not-leader", "failed", "session-expired", "no answer"),
    detail: opt(str),
  },
  "client.complete": [
    { ...CLIENT, result: opt(result), error: opt(str), definite: opt(bool) },
    (d: Details) => (d.result === undefined) !== (d.error === undefined),
  ],
  // Real processes (part4's src/real): each file's first line, a clean stop, fault injection.
  // program: "node", "client", "test", and "supervisor" for kv:cluster's own file (cluster.jsonl)
  "process.start": {
    program: oneOf("node", "client", "test", "supervisor"),
    pid: int,
    clock: oneOf("wall"),
    started: str,
  },
  "process.stop": { reason: str },
  "process.exit": { pid: int, code: nullable(int), signal: nullable(str), expected: bool },
  "process.restart": { pid: int },
  faults: { drop: list(int) },
  fault: {
    action: oneOf("kill", "stop", "restart", "pause", "resume", "cut", "heal", "transfer"),
    node: int,
  },
};

const specOf = new Map<string, Spec>(Object.entries(specs));

/** The first field of `shape` that `details` gets wrong. */
function mismatch(shape: Shape, details: Details): string | undefined {
  for (const key in shape) if (!shape[key]!(details[key])) return key;
  return undefined;
}

/**
 * Why an event cannot be read as its kind's type: undefined when it can, "unknown kind" for a
 * kind the part does not define, else the first field that does not match.
 */
export function problemOf(event: RawEvent): string | undefined {
  // A Map, not an object: a kind spelled like an Object.prototype member is just unknown.
  const spec = specOf.get(event.kind);
  if (spec === undefined) return "unknown kind";
  if (event.role !== null && !role(event.role)) return `"${event.role}" is not a role`;
  const [shape, rule] = Array.isArray(spec) ? spec : [spec, undefined];
  const wrong = mismatch(shape, event.details);
  if (wrong !== undefined) return `details.${wrong} is missing or of the wrong type`;
  if (rule && !rule(event.details)) return "its details mix the fields of two variants";
  return undefined;
}

/** The type guard: a raw event whose kind and details the part's types describe. */
export function isKnown(event: RawEvent): event is RawEvent & KnownEvent {
  return problemOf(event) === undefined;
}

/** The detail fields a kind declares; anything else in an event is shown as key=value. */
export function declaredFields(kind: Kind): string[] {
  const spec = specs[kind];
  return Object.keys(Array.isArray(spec) ? spec[0] : spec);
}

/**
 * The part's sentence for an event. The part types payloads precisely and prints them as JSON;
 * `LoosePayload` only widened them for reading, so handing the event back is safe (and a
 * sentence that throws all the same is caught by the caller).
 */
export function sentence(event: KnownEvent): string {
  const say = sentences[event.kind] as (details: PartEvent["details"]) => string;
  return say((event as PartEvent).details);
}

/** The entries an AppendEntries payload carries, if it carries a list of them. */
export function payloadEntries(payload: Details): { first: number; terms: number[] } | null {
  const { entries, prevLogIndex } = payload;
  if (!Array.isArray(entries) || !entries.every(isEntry)) return null;
  const first = typeof prevLogIndex === "number" && int(prevLogIndex) ? prevLogIndex + 1 : 1;
  return { first, terms: entries.map((e) => e.term) };
}

/** How a process ended, as the supervisor saw it (cluster.jsonl); see `processExitOf`. */
export interface ProcessExit {
  pid: number;
  /** the exit status, or null when a signal ended it */
  code: number | null;
  signal: string | null;
  /** the supervisor stopped it (Ctrl-C): not a failure */
  expected: boolean;
}

const exitShape: Shape = { pid: int, code: nullable(int), signal: nullable(str), expected: bool };

/**
 * A `process.exit` event's details: kv:cluster's supervisor writes one, with `node` the node's
 * id, at the moment a node's process ends (the process itself cannot say so when SIGKILL ends
 * it). Read by field names through a check, whether or not the part's types declare the kind
 * yet, so the lane is dead from that moment either way.
 */
export function processExitOf(event: { kind: string; details: Details }): ProcessExit | null {
  if (event.kind !== "process.exit" || mismatch(exitShape, event.details) !== undefined) {
    return null;
  }
  return event.details as unknown as ProcessExit;
}

/** A client's operation: the client's name and its request's number, as the store numbers them. */
export interface ClientOp {
  client: string;
  seq: number;
}

/**
 * The client operation a log entry's command carries, if it is one: part4-kv puts each request
 * in the log as `{kind: "kv", client, seq, command}`, so a node's `submit` and `apply` rows can be
 * tied to the client's attempt. Read through a check: a command is whatever the test submitted.
 */
export function clientOpOf(entryCommand: unknown): (ClientOp & { command: unknown }) | null {
  if (!isObject(entryCommand) || entryCommand.kind !== "kv") return null;
  const { client, seq } = entryCommand;
  if (!str(client) || !int(seq)) return null;
  return { client: client as string, seq: seq as number, command: entryCommand.command };
}

/** A key/value command in part4-kv's own words (`put "x" "1"`), if it is one. */
export function kvCommandText(value: unknown): string | null {
  return command(value) ? describeCommand(value as KvCommand) : null;
}
