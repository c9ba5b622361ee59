// The replicated state machine (§8): the key/value map, and a table of client sessions that
// makes each client's requests take effect exactly once. Every node applies the same committed
// entries in the same order to its own copy, so every copy is the same, sessions included: the
// table is part of the replicated state, rebuilt like the map by replaying the log after a restart.
//
// Sessions are forgotten deterministically: by log position, never by a local clock (whose
// reading would differ from node to node). A client silent for `sessionWindow` entries loses its
// session; a retry older than that runs again, which a client that waits at most its deadline
// never sees, as long as the window is wider than the entries committed during one deadline.

import type { KvCommand, KvEntry, KvResult } from "./commands.ts";

export interface Session {
  /** The client's last request number, and what it was answered. */
  seq: number;
  result: KvResult;
  /** The log index that last heard from the client. */
  lastIndex: number;
}

/** What applying one entry produced: a result for its client, or why there is none. */
export type Applied =
  | { kind: "result"; result: KvResult; duplicate: boolean }
  /** The client has already moved past this request: nobody waits for its answer. */
  | { kind: "superseded"; latestSeq: number }
  /** A no-op of a new leader (§8), or an entry that is not a KV request: nothing to answer. */
  | { kind: "none" };

export const DEFAULT_SESSION_WINDOW = 100_000;

export class KvStateMachine {
  private readonly data = new Map<string, string>();
  private readonly sessions = new Map<string, Session>();
  private readonly sessionWindow: number;
  private lastExpiry = 0;

  constructor(sessionWindow = DEFAULT_SESSION_WINDOW) {
    this.sessionWindow = sessionWindow;
  }

  /** Applies the committed entry at `index`. Must be called for every index, in order. */
  apply(index: number, entry: unknown): Applied {
    this.expireSessions(index);
    if (!isKvEntry(entry)) return { kind: "none" };
    if (entry.client === undefined || entry.seq === undefined) {
      return { kind: "result", result: this.execute(entry.command), duplicate: false };
    }
    const session = this.sessions.get(entry.client);
    if (session !== undefined && entry.seq <= session.seq) {
      session.lastIndex = index;
      if (entry.seq < session.seq) return { kind: "superseded", latestSeq: session.seq };
      return { kind: "result", result: session.result, duplicate: true };
    }
    const result = this.execute(entry.command);
    this.sessions.set(entry.client, { seq: entry.seq, result, lastIndex: index });
    return { kind: "result", result, duplicate: false };
  }

  /** Reads without changing anything, for tests and the status page. */
  read(key: string): string | undefined {
    return this.data.get(key);
  }

  get size(): number {
    return this.data.size;
  }

  sessionOf(client: string): Session | undefined {
    return this.sessions.get(client);
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
    for (const [client, session] of this.sessions) {
      if (session.lastIndex < index - this.sessionWindow) this.sessions.delete(client);
    }
  }
}

function isKvEntry(entry: unknown): entry is KvEntry {
  return typeof entry === "object" && entry !== null && (entry as { kind?: unknown }).kind === "kv";
}
