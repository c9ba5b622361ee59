// Values as a reader would write them. The parts' sentences embed a message's payload and a log
// entry's command as JSON (`{"term":1,"candidateId":2,"lastLogIndex":0,"lastLogTerm":0}`),
// which is exact but hard to read in a row; here the same values read as words
// (`term 1, candidate n2, log empty`). describe.ts swaps each JSON value in the part's sentence
// for its reading, so the sentence itself stays the part's, written once. Runs in Node and in
// the page (the cluster view's tooltips use it too).

import { clientOpOf, isObject, kvCommandText } from "./kinds.ts";

type Fields = Record<string, unknown>;

const int = (v: unknown): v is number => Number.isInteger(v);

/** Any value in a few words: strings bare, objects as `key value` pairs. */
export function plain(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return `[${value.map(nested).join(", ")}]`;
  if (isObject(value)) {
    return Object.entries(value)
      .map(([k, v]) => `${k} ${nested(v)}`)
      .join(", ");
  }
  return String(value);
}

function nested(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  return isObject(value) ? `{${plain(value)}}` : plain(value);
}

/**
 * A log entry's command: a new leader's no-op, a client's request in part4-kv's words
 * (`a #2: put "x" "1"`; one without a client session, as curl sends, is just `put "x" "1"`),
 * else its JSON.
 */
export function readableCommand(command: unknown): string {
  if (command === null) return "no-op";
  if (isObject(command) && command.kind === "kv" && isObject(command.command)) {
    const said = kvCommandText(command.command);
    const op = clientOpOf(command);
    if (said !== null) return op === null ? said : `${op.client} #${op.seq}: ${said}`;
  }
  return JSON.stringify(command) ?? String(command);
}

/** `[3] T1` for an index and its term; `[0]` is the empty log's start. */
const at = (index: unknown, term: unknown) =>
  index === 0 ? "the start" : `[${plain(index)}] T${plain(term)}`;

/** The fields a payload reading already said; the rest are added as `key value`. */
function rest(payload: Fields, said: string[]): string[] {
  return Object.entries(payload)
    .filter(([key]) => !said.includes(key))
    .map(([key, value]) => `${key} ${nested(value)}`);
}

/** The words of the fields a payload has (part 1's carry no log fields), in order. */
const present = (words: [unknown, () => string][]): string[] =>
  words.filter(([field]) => field !== undefined).map(([, say]) => say());

function requestVote(p: Fields, reply: boolean): string[] {
  if (reply) return [`term ${plain(p.term)}`, p.voteGranted ? "granted" : "refused"];
  return present([
    [p.term, () => `term ${plain(p.term)}`],
    [p.candidateId, () => `candidate n${plain(p.candidateId)}`],
    [
      p.lastLogIndex,
      () => (p.lastLogIndex === 0 ? "log empty" : `log ends ${at(p.lastLogIndex, p.lastLogTerm)}`),
    ],
    // part 6 (§3.10): the target of a leadership transfer asks voters to set their lease aside
    [p.leadershipTransfer || undefined, () => "a leadership transfer: leases set aside"],
  ]);
}

/**
 * Part 6's PreVote (§9.6): RequestVote's question for a term the candidate would campaign in,
 * with nothing changed by it; a grant answers with that term, a refusal with the voter's own.
 */
function preVote(p: Fields, reply: boolean): string[] {
  if (reply) return [`term ${plain(p.term)}`, p.voteGranted ? "would vote" : "would not vote"];
  return [`would-be term ${plain(p.term)}`, ...requestVote(p, false).slice(1)];
}

/** Part 6's TimeoutNow (§3.10): the leader tells a transfer's target to campaign now. */
function timeoutNow(p: Fields, reply: boolean): string[] {
  if (reply) return [`term ${plain(p.term)}`];
  return present([
    [p.term, () => `term ${plain(p.term)}`],
    [p.leaderId, () => `from leader n${plain(p.leaderId)}: campaign now`],
  ]);
}

/** Part 6's ReadIndex (§6.4): a follower asks its leader for a read index. */
function readIndex(p: Fields, reply: boolean): string[] {
  if (reply) {
    return [
      `term ${plain(p.term)}`,
      p.success ? `read index ${plain(p.readIndex)}` : "not confirmed as leader",
    ];
  }
  return present([
    [p.term, () => `term ${plain(p.term)}`],
    [p.followerId, () => `read for n${plain(p.followerId)}`],
  ]);
}

function appendEntries(p: Fields, reply: boolean): string[] {
  if (reply) {
    const words = [`term ${plain(p.term)}`, p.success ? "success" : "refused"];
    if (p.conflictTerm !== undefined) {
      words.push(`conflict: T${plain(p.conflictTerm)} from [${plain(p.conflictIndex)}]`);
    } else if (p.conflictIndex !== undefined) {
      words.push(`its log ends before [${plain(p.conflictIndex)}]`);
    }
    return words;
  }
  const entries = Array.isArray(p.entries) ? p.entries : [];
  const first = int(p.prevLogIndex) ? p.prevLogIndex + 1 : 1;
  const listed = entries.map((e, i) =>
    isObject(e) ? `[${first + i}] T${plain(e.term)} ${readableCommand(e.command)}` : plain(e),
  );
  return present([
    [p.term, () => `term ${plain(p.term)}`],
    [p.leaderId, () => `leader n${plain(p.leaderId)}`],
    [p.prevLogIndex, () => `after ${at(p.prevLogIndex, p.prevLogTerm)}`],
    [p.entries, () => (listed.length === 0 ? "no entries" : `entries ${listed.join(", ")}`)],
    [p.leaderCommit, () => `commit ${plain(p.leaderCommit)}`],
  ]);
}

/**
 * Part 5's InstallSnapshot (Figure 13): which snapshot and which chunk of its text. The chunk's
 * characters are left out (up to 64 KiB of JSON); its place and length say what it is.
 */
function installSnapshot(p: Fields, reply: boolean): string[] {
  if (reply) return [`term ${plain(p.term)}`, p.success ? "chunk taken" : "chunk refused"];
  const size = typeof p.data === "string" ? p.data.length : null;
  const offset = int(p.offset) ? p.offset : null;
  return present([
    [p.term, () => `term ${plain(p.term)}`],
    [p.leaderId, () => `leader n${plain(p.leaderId)}`],
    [p.lastIncludedIndex, () => `snapshot through ${at(p.lastIncludedIndex, p.lastIncludedTerm)}`],
    [
      p.offset,
      () =>
        size === null || offset === null
          ? `chunk at ${plain(p.offset)}`
          : `chunk ${offset}..${offset + size} of its text`,
    ],
    [p.done, () => (p.done ? "the last" : "more to come")],
  ]);
}

/** Each RPC's words, and the fields they say of a request and of a reply; the rest are listed. */
const RPCS: Record<
  string,
  { words: (payload: Fields, reply: boolean) => string[]; said: [string[], string[]] }
> = {
  RequestVote: {
    words: requestVote,
    said: [
      ["term", "candidateId", "lastLogIndex", "lastLogTerm", "leadershipTransfer"],
      ["term", "voteGranted"],
    ],
  },
  PreVote: {
    words: preVote,
    said: [
      ["term", "candidateId", "lastLogIndex", "lastLogTerm"],
      ["term", "voteGranted"],
    ],
  },
  TimeoutNow: { words: timeoutNow, said: [["term", "leaderId"], ["term"]] },
  ReadIndex: {
    words: readIndex,
    said: [
      ["term", "followerId"],
      ["term", "success", "readIndex"],
    ],
  },
  AppendEntries: {
    words: appendEntries,
    said: [
      ["term", "leaderId", "prevLogIndex", "prevLogTerm", "entries", "leaderCommit"],
      ["term", "success", "conflictTerm", "conflictIndex"],
    ],
  },
  InstallSnapshot: {
    words: installSnapshot,
    said: [
      ["term", "leaderId", "lastIncludedIndex", "lastIncludedTerm", "offset", "data", "done"],
      ["term", "success"],
    ],
  },
};

/** A message's payload in words: `term 1, candidate n2, log empty`. */
export function readablePayload(rpc: string, type: string, payload: unknown): string {
  if (!isObject(payload)) return plain(payload);
  const reply = type === "reply";
  const known = RPCS[rpc];
  if (known === undefined) return plain(payload);
  const words = known.words(payload, reply);
  return [...words, ...rest(payload, known.said[reply ? 1 : 0])].join(", ");
}
