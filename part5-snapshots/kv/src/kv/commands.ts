// What clients ask of the store, and what it answers: the protocol shared by the replicated state
// machine, the service on each node, the client, the simulation and the HTTP API. Everything here
// travels as JSON (through the Raft log and over HTTP), so everything is plain data.

/** Keys and values are strings; these bounds keep one request from filling a log entry. */
export const MAX_KEY_BYTES = 1024;
export const MAX_VALUE_BYTES = 64 * 1024;

/** One operation on one key (§8: every operation, reads included, goes through the log). */
export type KvCommand =
  | { op: "get"; key: string }
  | { op: "put"; key: string; value: string }
  | { op: "append"; key: string; value: string }
  /** Sets the key to `value` if it holds `expected` now (null: if it does not exist). */
  | { op: "cas"; key: string; expected: string | null; value: string }
  | { op: "delete"; key: string };

export type KvOp = KvCommand["op"];

/**
 * What an operation saw: `value` is the value it read (get) or the value it replaced (the
 * writes), null when the key did not exist; `ok` says whether a cas swapped.
 */
export interface KvResult {
  value: string | null;
  existed: boolean;
  ok?: boolean;
}

/**
 * A request as a client sends it. In a session (`client`, `session` and `seq`, numbered from 1,
 * one at a time per session), the store executes it at most once however often it is retried,
 * and answers every retry with the first answer (exactly once, §8). Without them, each copy runs
 * anew. A session is opened first by a request of its own (`KvOpen`).
 */
export interface KvOperation {
  /** Who sends it, by name (the trace's); the session is what counts. */
  client?: string;
  /** The session's number, as the store gave it when it opened the session. */
  session?: number;
  seq?: number;
  command: KvCommand;
  open?: undefined;
}

/**
 * Opens a session for `client` (the thesis's RegisterClient, §6.3): its number is the index of
 * this request's entry. It changes nothing else, so it is safe to send again and again: each copy
 * that is applied opens a session, and those no one uses are forgotten like any idle one.
 */
export interface KvOpen {
  client: string;
  open: true;
  session?: undefined;
  seq?: undefined;
  command?: undefined;
}

export type KvRequest = KvOperation | KvOpen;

/** What a node answers. */
export type KvResponse =
  | { status: "ok"; result: KvResult; index: number }
  /** A session is open: its number (the index of the entry that opened it) goes with each request. */
  | { status: "opened"; session: number; index: number }
  /** This node is not the leader: try `leaderHint` if known. The command did not run here. */
  | { status: "not-leader"; leaderHint: number | null }
  /**
   * It failed. `definite`: the command did not take effect and never will (another entry took its
   * place, or the request was malformed). Otherwise it may have, or may still.
   */
  | { status: "failed"; definite: boolean; error: string }
  /**
   * The request names a session the store does not hold (idle too long, §6.3): it did not run
   * now and never will, but a copy of it may have run before the session was forgotten.
   */
  | { status: "session-expired"; session: number; error: string };

/** The entry a request becomes in the Raft log. */
export type KvEntry = { kind: "kv" } & KvRequest;

/** A request as received (over HTTP, or from a test): checked field by field, with the reason. */
export function parseRequest(value: unknown): KvRequest | string {
  if (!isObject(value)) return "the request must be a JSON object";
  const { client, session, seq, open } = value;
  if (
    client !== undefined &&
    (typeof client !== "string" || client === "" || client.length > 128)
  ) {
    return '"client" must be a non-empty string of at most 128 characters';
  }
  if (open !== undefined) {
    if (open !== true) return '"open" must be true';
    if (client === undefined) return '"open" needs "client": who opens the session';
    const extra = [session, seq, value.command].some((field) => field !== undefined);
    return extra
      ? '"open" goes with "client" alone, not "session", "seq" or "command"'
      : { client: client as string, open: true };
  }
  for (const [name, n] of [
    ["session", session],
    ["seq", seq],
  ] as const) {
    if (n !== undefined && (!Number.isSafeInteger(n) || (n as number) < 1)) {
      return `"${name}" must be a whole number from 1`;
    }
  }
  const given = [client, session, seq].filter((field) => field !== undefined).length;
  if (given % 3 !== 0) return '"client", "session" and "seq" go together';
  const command = parseCommand(value.command);
  if (typeof command === "string") return command;
  return {
    ...(client === undefined
      ? {}
      : { client: client as string, session: session as number, seq: seq as number }),
    command,
  };
}

export function parseCommand(value: unknown): KvCommand | string {
  if (!isObject(value)) return '"command" must be a JSON object';
  const { op, key } = value;
  const keyProblem = textProblem(key, "key", MAX_KEY_BYTES);
  if (keyProblem !== undefined) return keyProblem;
  const k = key as string;
  if (op === "get" || op === "delete") return { op, key: k };
  if (op !== "put" && op !== "append" && op !== "cas") {
    return '"op" must be one of get, put, append, cas, delete';
  }
  const valueProblem = textProblem(value.value, "value", MAX_VALUE_BYTES);
  if (valueProblem !== undefined) return valueProblem;
  const v = value.value as string;
  if (op !== "cas") return { op, key: k, value: v };
  const expected = value.expected;
  if (expected !== null && textProblem(expected, "expected", MAX_VALUE_BYTES) !== undefined) {
    return '"expected" must be a string of at most 64 KiB, or null for a key that must not exist';
  }
  return { op, key: k, expected: expected as string | null, value: v };
}

function textProblem(value: unknown, field: string, maxBytes: number): string | undefined {
  if (typeof value !== "string") return `"${field}" must be a string`;
  if (Buffer.byteLength(value) > maxBytes) return `"${field}" is longer than ${maxBytes} bytes`;
  return undefined;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A one-line description, for traces and the command-line client. */
export function describeCommand(c: KvCommand): string {
  const q = JSON.stringify;
  switch (c.op) {
    case "get":
    case "delete":
      return `${c.op} ${q(c.key)}`;
    case "put":
    case "append":
      return `${c.op} ${q(c.key)} ${q(c.value)}`;
    case "cas":
      return `cas ${q(c.key)} ${q(c.expected)} → ${q(c.value)}`;
  }
}
