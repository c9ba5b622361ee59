// The replicated state machine (§8): the key/value map, and a table of client sessions that
// makes each client's requests take effect exactly once. Every node applies the same committed
// entries in the same order to its own copy, so every copy is the same, sessions included: the
// table is part of the replicated state, and travels with the map in the state machine's
// snapshot (§7), which a restarted node restores before it applies the entries after it.
//
// A session is opened by an entry of its own, and its number is that entry's index (as the
// thesis, §6.3, numbers them): a session forgotten is never opened again, so a request that
// names it is answered "session expired" instead of running (a retry of a request that ran before
// the session was forgotten would otherwise run twice). Sessions are forgotten deterministically:
// by log position, never by a local clock (whose reading would differ from node to node). A
// session silent for `sessionWindow` entries is forgotten.

import type { KvCommand, KvEntry, KvResult } from "./commands.ts";

export interface Session {
  /** Who opened it: the client's name, for the trace and the status page. */
  client: string;
  /** The client's last request number in this session (0 before the first), and its answer. */
  seq: number;
  result: KvResult | null;
  /** The log index that last heard from the client. */
  lastIndex: number;
}

/** What applying one entry produced: a result for its client, or why there is none. */
export type Applied =
  | { kind: "result"; result: KvResult; duplicate: boolean }
  /** A session opened: its number is the entry's index. */
  | { kind: "opened"; session: number }
  /** The request names a session that is not open (forgotten, or never opened): it did not run. */
  | { kind: "expired"; session: number }
  /** The client has already moved past this request: nobody waits for its answer. */
  | { kind: "superseded"; latestSeq: number }
  /** A no-op of a new leader (§8), or an entry that is not a KV request: nothing to answer. */
  | { kind: "none" };

export const DEFAULT_SESSION_WINDOW = 100_000;

/**
 * The state machine's snapshot (§7): its whole state as a JSON value, keys and sessions in
 * order, so that the same state gives the same text on every node.
 */
export interface KvSnapshot {
  data: [string, string][];
  sessions: [number, Session][];
  lastExpiry: number;
}

export class KvStateMachine {
  private readonly data = new Map<string, string>();
  /** The open sessions, by number (the index of the entry that opened each). */
  private readonly sessions = new Map<number, Session>();
  private readonly sessionWindow: number;
  private lastExpiry = 0;

  constructor(sessionWindow = DEFAULT_SESSION_WINDOW) {
    this.sessionWindow = sessionWindow;
  }

  /** Applies the committed entry at `index`. Must be called for every index, in order. */
  apply(index: number, entry: unknown): Applied {
    this.expireSessions(index);
    if (!isKvEntry(entry)) return { kind: "none" };
    if (entry.open === true) {
      this.sessions.set(index, { client: entry.client, seq: 0, result: null, lastIndex: index });
      return { kind: "opened", session: index };
    }
    if (entry.session === undefined || entry.seq === undefined) {
      return { kind: "result", result: this.execute(entry.command), duplicate: false };
    }
    const session = this.sessions.get(entry.session);
    if (session === undefined) return { kind: "expired", session: entry.session };
    session.lastIndex = index;
    if (entry.seq < session.seq) return { kind: "superseded", latestSeq: session.seq };
    if (entry.seq === session.seq && session.result !== null) {
      return { kind: "result", result: session.result, duplicate: true };
    }
    const result = this.execute(entry.command);
    session.seq = entry.seq;
    session.result = result;
    return { kind: "result", result, duplicate: false };
  }

  /** The whole state as of the last entry applied, for a snapshot (§7). */
  snapshot(): KvSnapshot {
    const byKey = (a: [string, unknown], b: [string, unknown]) => (a[0] < b[0] ? -1 : 1);
    return {
      data: [...this.data].sort(byKey),
      sessions: [...this.sessions].sort((a, b) => a[0] - b[0]).map(([n, s]) => [n, { ...s }]),
      lastExpiry: this.lastExpiry,
    };
  }

  /** Replaces the whole state with a snapshot's (at start, or installed by a leader). */
  restore(snapshot: unknown): void {
    const problem = snapshotProblem(snapshot);
    if (problem !== undefined) throw new Error(`not a key/value snapshot: ${problem}`);
    const { data, sessions, lastExpiry } = snapshot as KvSnapshot;
    this.data.clear();
    for (const [key, value] of data) this.data.set(key, value);
    this.sessions.clear();
    for (const [number, session] of sessions) this.sessions.set(number, { ...session });
    this.lastExpiry = lastExpiry;
  }

  /** Reads without changing anything, for tests and the status page. */
  read(key: string): string | undefined {
    return this.data.get(key);
  }

  get size(): number {
    return this.data.size;
  }

  /** How many sessions are open. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  sessionOf(session: number): Session | undefined {
    return this.sessions.get(session);
  }

  private execute(c: KvCommand): KvResult {
    const before = this.data.get(c.key);
    const was: KvResult = { value: before ?? null, existed: before !== undefined };
    switch (c.op) {
      case "get":
        return was;
      case "put":
        this.data.set(c.key, c.value);
        return was;
      case "append":
        this.data.set(c.key, (before ?? "") + c.value);
        return was;
      case "delete":
        this.data.delete(c.key);
        return was;
      case "cas": {
        const ok = (before ?? null) === c.expected;
        if (ok) this.data.set(c.key, c.value);
        return { ...was, ok };
      }
    }
  }

  /** Every so many entries, drops the sessions idle for a whole window: the same on every node. */
  private expireSessions(index: number): void {
    const every = Math.max(1, Math.floor(this.sessionWindow / 10));
    if (index - this.lastExpiry < every) return;
    this.lastExpiry = index;
    for (const [number, session] of this.sessions) {
      if (session.lastIndex < index - this.sessionWindow) this.sessions.delete(number);
    }
  }
}

function isKvEntry(entry: unknown): entry is KvEntry {
  return typeof entry === "object" && entry !== null && (entry as { kind?: unknown }).kind === "kv";
}

/** Why `value` is not a KvSnapshot, or undefined. */
function snapshotProblem(value: unknown): string | undefined {
  const s = value as Partial<KvSnapshot> | null;
  if (typeof s !== "object" || s === null) return "it is not an object";
  const pairs = (list: unknown, ok: (pair: unknown[]) => boolean) =>
    Array.isArray(list) && list.every((pair) => Array.isArray(pair) && ok(pair));
  if (!pairs(s.data, ([k, v]) => typeof k === "string" && typeof v === "string")) {
    return '"data" is not a list of [key, value] strings';
  }
  const isSession = (v: unknown) =>
    typeof v === "object" &&
    v !== null &&
    typeof (v as Session).seq === "number" &&
    typeof (v as Session).lastIndex === "number";
  if (!pairs(s.sessions, ([n, v]) => Number.isSafeInteger(n) && isSession(v))) {
    return '"sessions" is not a list of [number, session]';
  }
  if (!Number.isSafeInteger(s.lastExpiry)) return '"lastExpiry" is not a whole number';
  return undefined;
}
