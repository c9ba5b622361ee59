// The Raft RPCs on the wire between real nodes: each request and each reply is one JSON object in
// an envelope that names the message (its id, for the traces) and, for a request, who sends it to
// whom. Everything that arrives is checked field by field before the consensus module sees it:
// a malformed message from anywhere (a bug, another program on the port, a test) is refused with
// the reason, never handed to RaftNode, which trusts its arguments.
//
//   request  {"msg": 100010000000007, "from": 1, "to": 0, "payload": {RequestVoteArgs}}
//   reply    {"msg": 10000000012, "request": 100010000000007, "payload": {RequestVoteReply}}

import type {
  AppendEntriesArgs,
  AppendEntriesReply,
  InstallSnapshotArgs,
  InstallSnapshotReply,
  LogEntry,
  RequestVoteArgs,
  RequestVoteReply,
} from "part5-snapshots";
import { isObject, parseRequest } from "../kv/commands.ts";

export interface RequestEnvelope<P> {
  msg: number;
  from: number;
  to: number;
  payload: P;
}

export interface ReplyEnvelope<P> {
  msg: number;
  request: number;
  payload: P;
}

/** Who may send to whom: the receiving node and its peers. */
export interface Membership {
  self: number;
  peers: readonly number[];
}

/** A check of one field: why the value is wrong, or undefined. */
type Check = (value: unknown) => string | undefined;

const whole: Check = (v) =>
  Number.isSafeInteger(v) && (v as number) >= 0 ? undefined : "must be a whole number from 0";
const positive: Check = (v) =>
  Number.isSafeInteger(v) && (v as number) >= 1 ? undefined : "must be a whole number from 1";
const bool: Check = (v) => (typeof v === "boolean" ? undefined : "must be true or false");
const anything: Check = () => undefined;
const optional =
  (check: Check): Check =>
  (v) =>
    v === undefined ? undefined : check(v);

/** Checks that `value` is an object with exactly these fields (optional ones may be missing). */
function shape(value: unknown, what: string, checks: Record<string, Check>): string | undefined {
  if (!isObject(value)) return `${what} must be a JSON object`;
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(checks, key)) return `${what} has an unknown field "${key}"`;
  }
  for (const [key, check] of Object.entries(checks)) {
    const problem = check(value[key]);
    if (problem !== undefined) {
      return value[key] === undefined ? `${what}.${key} is missing` : `${what}.${key} ${problem}`;
    }
  }
  return undefined;
}

/** The envelope of a request to `self`, from one of its peers. */
function requestEnvelope(value: unknown, members: Membership): string | undefined {
  const problem = shape(value, "the request", {
    msg: positive,
    from: whole,
    to: whole,
    payload: anything,
  });
  if (problem !== undefined) return problem;
  const { from, to } = value as { from: number; to: number };
  if (to !== members.self)
    return `the request is addressed to n${to}, but this is n${members.self}`;
  if (!members.peers.includes(from)) {
    return `n${from} is not a peer of n${members.self} (peers: ${members.peers.map((p) => `n${p}`).join(", ")})`;
  }
  return undefined;
}

/**
 * A request of RPC `name`: its envelope, the fields of its arguments, the sender named in them
 * (`sender`) being the one in the envelope, a last log position (`index`, `logTerm`) that is
 * empty or holds an entry no later than the request's term, and what `more` checks besides.
 */
function parseRpc<P extends { term: number }>(
  value: unknown,
  members: Membership,
  rpc: {
    name: string;
    fields: Record<string, Check>;
    sender: keyof P;
    index: keyof P;
    logTerm: keyof P;
  },
  more: (args: P) => string | undefined = () => undefined,
): RequestEnvelope<P> | string {
  const { name, fields, sender, index, logTerm } = rpc;
  const problem =
    requestEnvelope(value, members) ?? shape((value as { payload: unknown }).payload, name, fields);
  if (problem !== undefined) return problem;
  const { from, payload: args } = value as RequestEnvelope<P>;
  if (args[sender] !== from)
    return `${name}.${String(sender)} ${args[sender]} is not the sender n${from}`;
  if ((args[logTerm] as number) > args.term) return `${name}.${String(logTerm)} is after its term`;
  if ((args[index] === 0) !== (args[logTerm] === 0)) {
    return `${name}: ${String(index)} and ${String(logTerm)} must both be 0 (the empty log) or neither`;
  }
  return more(args) ?? (value as RequestEnvelope<P>);
}

export function parseRequestVote(
  value: unknown,
  members: Membership,
): RequestEnvelope<RequestVoteArgs> | string {
  return parseRpc<RequestVoteArgs>(value, members, {
    name: "RequestVote",
    fields: { term: positive, candidateId: whole, lastLogIndex: whole, lastLogTerm: whole },
    sender: "candidateId",
    index: "lastLogIndex",
    logTerm: "lastLogTerm",
  });
}

export function parseAppendEntries(
  value: unknown,
  members: Membership,
): RequestEnvelope<AppendEntriesArgs> | string {
  const fields = {
    term: positive,
    leaderId: whole,
    prevLogIndex: whole,
    prevLogTerm: whole,
    entries: (v: unknown) => (Array.isArray(v) ? undefined : "must be an array"),
    leaderCommit: whole,
  };
  return parseRpc<AppendEntriesArgs>(
    value,
    members,
    {
      name: "AppendEntries",
      fields,
      sender: "leaderId",
      index: "prevLogIndex",
      logTerm: "prevLogTerm",
    },
    (args) => entriesProblem(args.entries, args.prevLogTerm, args.term),
  );
}

/**
 * One chunk of a snapshot (Figure 13). Its text is the state machine's JSON, which only the whole
 * snapshot can be checked as (the state machine refuses, when restoring, what is not its state):
 * a chunk is checked for what it says about the snapshot and where it goes.
 */
export function parseInstallSnapshot(
  value: unknown,
  members: Membership,
): RequestEnvelope<InstallSnapshotArgs> | string {
  const fields = {
    term: positive,
    leaderId: whole,
    lastIncludedIndex: positive,
    lastIncludedTerm: positive,
    offset: whole,
    data: (v: unknown) => (typeof v === "string" ? undefined : "must be a string"),
    done: bool,
  };
  return parseRpc<InstallSnapshotArgs>(value, members, {
    name: "InstallSnapshot",
    fields,
    sender: "leaderId",
    index: "lastIncludedIndex",
    logTerm: "lastIncludedTerm",
  });
}

/** Each entry: a term between the previous entry's and the leader's, and a command this store makes. */
function entriesProblem(entries: unknown[], prevLogTerm: number, term: number): string | undefined {
  let previous = prevLogTerm;
  for (const [i, entry] of entries.entries()) {
    const where = `AppendEntries.entries[${i}]`;
    const problem = shape(entry, where, { term: positive, command: commandProblem });
    if (problem !== undefined) return problem;
    const entryTerm = (entry as LogEntry).term;
    if (entryTerm < previous || entryTerm > term) {
      return `${where}.term ${entryTerm} is not between the term before it (${previous}) and the leader's (${term})`;
    }
    previous = entryTerm;
  }
  return undefined;
}

/** What this store puts in the log: a key/value request (src/kv/commands.ts) or a leader's no-op. */
function commandProblem(command: unknown): string | undefined {
  if (command === null) return undefined;
  const problem = shape(command, "command", {
    kind: (v) => (v === "kv" ? undefined : 'must be "kv"'),
    client: anything,
    session: anything,
    seq: anything,
    command: anything,
    open: anything,
  });
  const request = problem ?? parseRequest(command);
  return typeof request === "string" ? `is not a key/value request: ${request}` : undefined;
}

/** A reply to request #`request` whose payload has exactly `fields`. */
function parseReply<P>(
  value: unknown,
  request: number,
  name: string,
  fields: Record<string, Check>,
): ReplyEnvelope<P> | string {
  const problem =
    shape(value, "the reply", { msg: positive, request: positive, payload: anything }) ??
    shape((value as { payload: unknown }).payload, name, fields);
  if (problem !== undefined) return problem;
  const answers = (value as { request: number }).request;
  return answers === request
    ? (value as ReplyEnvelope<P>)
    : `the reply answers #${answers}, not #${request}`;
}

export function parseRequestVoteReply(
  value: unknown,
  request: number,
): ReplyEnvelope<RequestVoteReply> | string {
  return parseReply(value, request, "RequestVote reply", { term: whole, voteGranted: bool });
}

export function parseAppendEntriesReply(
  value: unknown,
  request: number,
): ReplyEnvelope<AppendEntriesReply> | string {
  return parseReply(value, request, "AppendEntries reply", {
    term: whole,
    success: bool,
    conflictTerm: optional(positive),
    conflictIndex: optional(positive),
  });
}

export function parseInstallSnapshotReply(
  value: unknown,
  request: number,
): ReplyEnvelope<InstallSnapshotReply> | string {
  return parseReply(value, request, "InstallSnapshot reply", { term: whole, success: bool });
}
