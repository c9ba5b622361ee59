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
  LogEntry,
  RequestVoteArgs,
  RequestVoteReply,
} from "part3-persistence";
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

export function parseRequestVote(
  value: unknown,
  members: Membership,
): RequestEnvelope<RequestVoteArgs> | string {
  const envelope = requestEnvelope(value, members);
  if (envelope !== undefined) return envelope;
  const { from, payload } = value as RequestEnvelope<unknown>;
  const problem = shape(payload, "RequestVote", {
    term: positive,
    candidateId: whole,
    lastLogIndex: whole,
    lastLogTerm: whole,
  });
  if (problem !== undefined) return problem;
  const args = payload as RequestVoteArgs;
  if (args.candidateId !== from)
    return `RequestVote.candidateId ${args.candidateId} is not the sender n${from}`;
  if (args.lastLogTerm > args.term) return "RequestVote.lastLogTerm is after its term";
  if ((args.lastLogIndex === 0) !== (args.lastLogTerm === 0)) {
    return "RequestVote: lastLogIndex and lastLogTerm must both be 0 (an empty log) or neither";
  }
  return value as RequestEnvelope<RequestVoteArgs>;
}

export function parseAppendEntries(
  value: unknown,
  members: Membership,
): RequestEnvelope<AppendEntriesArgs> | string {
  const envelope = requestEnvelope(value, members);
  if (envelope !== undefined) return envelope;
  const { from, payload } = value as RequestEnvelope<unknown>;
  const problem = shape(payload, "AppendEntries", {
    term: positive,
    leaderId: whole,
    prevLogIndex: whole,
    prevLogTerm: whole,
    entries: (v) => (Array.isArray(v) ? undefined : "must be an array"),
    leaderCommit: whole,
  });
  if (problem !== undefined) return problem;
  const args = payload as AppendEntriesArgs;
  if (args.leaderId !== from)
    return `AppendEntries.leaderId ${args.leaderId} is not the sender n${from}`;
  if (args.prevLogTerm > args.term) return "AppendEntries.prevLogTerm is after its term";
  if ((args.prevLogIndex === 0) !== (args.prevLogTerm === 0)) {
    return "AppendEntries: prevLogIndex and prevLogTerm must both be 0 (the empty prefix) or neither";
  }
  const entries = entriesProblem(args.entries, args.prevLogTerm, args.term);
  if (entries !== undefined) return entries;
  return value as RequestEnvelope<AppendEntriesArgs>;
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
    seq: anything,
    command: anything,
  });
  const request = problem ?? parseRequest(command);
  return typeof request === "string" ? `is not a key/value request: ${request}` : undefined;
}

function replyEnvelope(value: unknown, request: number): string | undefined {
  const problem = shape(value, "the reply", {
    msg: positive,
    request: positive,
    payload: anything,
  });
  if (problem !== undefined) return problem;
  const answers = (value as { request: number }).request;
  return answers === request ? undefined : `the reply answers #${answers}, not #${request}`;
}

export function parseRequestVoteReply(
  value: unknown,
  request: number,
): ReplyEnvelope<RequestVoteReply> | string {
  const problem =
    replyEnvelope(value, request) ??
    shape((value as { payload: unknown }).payload, "RequestVote reply", {
      term: whole,
      voteGranted: bool,
    });
  return problem ?? (value as ReplyEnvelope<RequestVoteReply>);
}

export function parseAppendEntriesReply(
  value: unknown,
  request: number,
): ReplyEnvelope<AppendEntriesReply> | string {
  const problem =
    replyEnvelope(value, request) ??
    shape((value as { payload: unknown }).payload, "AppendEntries reply", {
      term: whole,
      success: bool,
      conflictTerm: optional(positive),
      conflictIndex: optional(positive),
    });
  return problem ?? (value as ReplyEnvelope<AppendEntriesReply>);
}
