// Goal: the replicated state machine alone (src/kv/state-machine.ts): what each operation answers
// (the value it read or replaced, whether the key existed, whether a cas swapped); exactly-once
// execution per client session (a duplicate answered with the first answer without running
// again, an older request superseded); sessions opened by an entry of their own and numbered by
// it, forgotten by log position after the window, the same way on every replica that applies the
// same entries, and a request of a forgotten session answered "expired", never run again; the
// snapshot, the sessions in it, the same text on every replica, and a replica restored from it
// going on as one that applied every entry; and entries that are not key/value requests (a new
// leader's no-op) ignored. Method: a KvStateMachine fed entries by hand, index after index, as a
// node's apply loop feeds it. Nothing here depends on the seed.

import { describe, expect, test } from "vitest";
import type { KvCommand, KvEntry } from "../src/kv/commands.ts";
import { type Applied, type KvSnapshot, KvStateMachine } from "../src/kv/state-machine.ts";

/** Feeds entries to a state machine at consecutive log indices, as a node's apply loop does. */
class Feeder {
  readonly machine: KvStateMachine;
  index = 0;
  constructor(sessionWindow?: number) {
    this.machine = new KvStateMachine(sessionWindow);
  }
  apply(entry: unknown): Applied {
    return this.machine.apply(++this.index, entry);
  }
  /** Opens a session for `client`; returns its number (the entry's index). */
  open(client: string): number {
    expect(this.apply({ kind: "kv", client, open: true } satisfies KvEntry)).toEqual({
      kind: "opened",
      session: this.index,
    });
    return this.index;
  }
  /** A request in session `session` numbered `seq`. */
  request(session: number, seq: number, command: KvCommand): Applied {
    return this.apply({ kind: "kv", client: "c", session, seq, command } satisfies KvEntry);
  }
  /** A request without a session: it runs each time it is applied. */
  anonymous(command: KvCommand): Applied {
    return this.apply({ kind: "kv", command } satisfies KvEntry);
  }
  /** `count` leader no-ops: log positions that carry no request. */
  noops(count: number): void {
    for (let i = 0; i < count; i++) this.apply(null);
  }
}

const result = (value: string | null, extra: { ok?: boolean } = {}): Applied => ({
  kind: "result",
  result: { value, existed: value !== null, ...extra },
  duplicate: false,
});

describe("each operation's answer", () => {
  test("get reads; put, append and delete answer the value they replaced", () => {
    const f = new Feeder();
    expect(f.anonymous({ op: "get", key: "k" })).toEqual(result(null));
    expect(f.anonymous({ op: "put", key: "k", value: "a" })).toEqual(result(null));
    expect(f.anonymous({ op: "get", key: "k" })).toEqual(result("a"));
    expect(f.anonymous({ op: "put", key: "k", value: "b" })).toEqual(result("a"));
    expect(f.anonymous({ op: "append", key: "k", value: "c" })).toEqual(result("b"));
    expect(f.machine.read("k")).toBe("bc");
    expect(f.anonymous({ op: "delete", key: "k" })).toEqual(result("bc"));
    expect(f.machine.read("k")).toBeUndefined();
    expect(f.anonymous({ op: "delete", key: "k" })).toEqual(result(null));
    expect(f.machine.size).toBe(0);
  });

  test("append to a missing key creates it; the empty string is a value, not absence", () => {
    const f = new Feeder();
    expect(f.anonymous({ op: "append", key: "k", value: "x" })).toEqual(result(null));
    expect(f.machine.read("k")).toBe("x");
    f.anonymous({ op: "put", key: "e", value: "" });
    expect(f.anonymous({ op: "get", key: "e" })).toEqual(result(""));
    expect(f.machine.size).toBe(2);
  });

  test("cas swaps only when the key holds the expected value; null expects no key", () => {
    const f = new Feeder();
    const cas = (expected: string | null, value: string) =>
      f.anonymous({ op: "cas", key: "k", expected, value });
    expect(cas("x", "y")).toEqual(result(null, { ok: false }));
    expect(f.machine.read("k")).toBeUndefined();
    expect(cas(null, "a")).toEqual(result(null, { ok: true }));
    expect(cas(null, "b")).toEqual(result("a", { ok: false }));
    expect(cas("b", "c")).toEqual(result("a", { ok: false }));
    expect(f.machine.read("k")).toBe("a");
    expect(cas("a", "c")).toEqual(result("a", { ok: true }));
    expect(f.machine.read("k")).toBe("c");
  });

  test("keys are independent", () => {
    const f = new Feeder();
    f.anonymous({ op: "put", key: "a", value: "1" });
    f.anonymous({ op: "put", key: "b", value: "2" });
    f.anonymous({ op: "delete", key: "a" });
    expect(f.anonymous({ op: "get", key: "b" })).toEqual(result("2"));
    expect(f.anonymous({ op: "get", key: "a" })).toEqual(result(null));
  });
});

describe("exactly once", () => {
  test("a duplicate gets the first answer and does not run again", () => {
    const f = new Feeder();
    const c1 = f.open("c1"); // index 1
    const append: KvCommand = { op: "append", key: "k", value: "x" };
    expect(f.request(c1, 1, append)).toEqual(result(null));
    // The same request again (a retry that reached the log twice): answered, not run.
    expect(f.request(c1, 1, append)).toEqual({ ...result(null), duplicate: true });
    expect(f.machine.read("k")).toBe("x");
    expect(f.machine.sessionOf(c1)).toEqual({
      client: "c1",
      seq: 1,
      result: { value: null, existed: false },
      lastIndex: 3,
    });
    // Even if its copy differs (it cannot, from our client, but the rule is by number only).
    expect(f.request(c1, 1, { op: "put", key: "k", value: "other" })).toMatchObject({
      duplicate: true,
    });
    expect(f.machine.read("k")).toBe("x");
    expect(f.request(c1, 2, append)).toEqual(result("x"));
    expect(f.machine.read("k")).toBe("xx");
  });

  test("a request older than the client's last is superseded and does not run", () => {
    const f = new Feeder();
    const c1 = f.open("c1");
    f.request(c1, 1, { op: "put", key: "k", value: "1" });
    f.request(c1, 2, { op: "put", key: "k", value: "2" });
    expect(f.request(c1, 1, { op: "put", key: "k", value: "1" })).toEqual({
      kind: "superseded",
      latestSeq: 2,
    });
    expect(f.machine.read("k")).toBe("2");
    // A duplicate of the latest is still answered with its first answer.
    expect(f.request(c1, 2, { op: "put", key: "k", value: "2" })).toEqual({
      ...result("1"),
      duplicate: true,
    });
  });
});

describe("exactly once, between sessions and without a session", () => {
  test("sessions are numbered by their entry: the same number in another session runs", () => {
    const f = new Feeder();
    const [c1, c2] = [f.open("c1"), f.open("c2")];
    expect([c1, c2]).toEqual([1, 2]);
    f.request(c1, 1, { op: "append", key: "k", value: "a" });
    expect(f.request(c2, 1, { op: "append", key: "k", value: "b" })).toEqual(result("a"));
    expect(f.machine.read("k")).toBe("ab");
    // Opening twice (an open sent again) opens two sessions; the one not used is just idle.
    expect(f.open("c1")).toBe(5);
    expect(f.machine.sessionCount).toBe(3);
  });

  test("a request without client and seq runs each time it is applied", () => {
    const f = new Feeder();
    f.anonymous({ op: "append", key: "k", value: "a" });
    f.anonymous({ op: "append", key: "k", value: "a" });
    expect(f.machine.read("k")).toBe("aa");
    expect(f.machine.sessionCount).toBe(0);
  });

  test("a client may skip numbers: only the order matters", () => {
    const f = new Feeder();
    const c1 = f.open("c1");
    f.request(c1, 1, { op: "put", key: "k", value: "1" });
    expect(f.request(c1, 5, { op: "put", key: "k", value: "5" })).toEqual(result("1"));
    expect(f.request(c1, 3, { op: "put", key: "k", value: "3" })).toEqual({
      kind: "superseded",
      latestSeq: 5,
    });
  });

  test("a session that was never opened is not open: its requests do not run", () => {
    const f = new Feeder();
    f.noops(3);
    expect(f.request(2, 1, { op: "put", key: "k", value: "v" })).toEqual({
      kind: "expired",
      session: 2,
    });
    expect(f.machine.read("k")).toBeUndefined();
  });
});

describe("sessions forgotten by log position", () => {
  test("an idle session goes once it is older than the window, not before", () => {
    // A window of 10 entries: expiry runs at every index (every window/10 = 1).
    const f = new Feeder(10);
    const c1 = f.open("c1"); // index 1
    f.request(c1, 1, { op: "append", key: "k", value: "x" }); // index 2
    f.noops(10); // indices 3..12: 2 < 12 - 10 is false, so it stays
    expect(f.machine.sessionOf(c1)?.lastIndex).toBe(2);
    f.noops(1); // index 13: 2 < 13 - 10
    expect(f.machine.sessionOf(c1)).toBeUndefined();
  });

  test("a retry older than the window is answered 'expired' and does not run again (thesis §6.3)", () => {
    const f = new Feeder(10);
    const c1 = f.open("c1");
    const append: KvCommand = { op: "append", key: "k", value: "x" };
    f.request(c1, 1, append);
    f.noops(11);
    // Part 4 ran it again here; the session is forgotten for good, so the retry cannot run.
    expect(f.request(c1, 1, append)).toEqual({ kind: "expired", session: c1 });
    expect(f.request(c1, 2, append)).toEqual({ kind: "expired", session: c1 });
    expect(f.machine.read("k")).toBe("x");
    // A new session has a new number: the old one is never open again.
    const again = f.open("c1");
    expect(again).not.toBe(c1);
    expect(f.request(c1, 1, append)).toEqual({ kind: "expired", session: c1 });
    expect(f.request(again, 2, append)).toEqual(result("x"));
    expect(f.machine.read("k")).toBe("xx");
  });

  test("any request of the session, a duplicate included, keeps it alive", () => {
    const f = new Feeder(10);
    const c1 = f.open("c1"); // index 1
    f.request(c1, 1, { op: "get", key: "k" }); // index 2
    f.noops(7);
    f.request(c1, 1, { op: "get", key: "k" }); // index 10: a duplicate, lastIndex 10
    f.noops(10); // up to index 20: 10 < 20 - 10 is false
    expect(f.machine.sessionOf(c1)).toMatchObject({ seq: 1, lastIndex: 10 });
    f.noops(1);
    expect(f.machine.sessionOf(c1)).toBeUndefined();
  });

  test("with the default window, expiry runs every tenth of it, at the same indices", () => {
    const f = new Feeder(100);
    const c1 = f.open("c1"); // index 1
    f.noops(108); // index 109: idle long enough since index 102, but no expiry since 100
    expect(f.machine.sessionOf(c1)).toBeDefined();
    f.noops(1); // index 110: the next expiry
    expect(f.machine.sessionOf(c1)).toBeUndefined();
  });

  test("replicas that apply the same entries keep the same sessions at every index", () => {
    const log = mixedLog();
    const [a, b] = [new Feeder(30), new Feeder(30)];
    for (const entry of log) {
      expect(b.apply(entry)).toEqual(a.apply(entry));
      expect(b.machine.snapshot()).toEqual(a.machine.snapshot());
    }
    // A replica that starts over (a restart replays the log from index 1) ends the same.
    const again = new Feeder(30);
    for (const entry of log) again.apply(entry);
    expect(JSON.stringify(again.machine.snapshot())).toBe(JSON.stringify(a.machine.snapshot()));
  });
});

describe("the snapshot (§7)", () => {
  test("it holds the map and the sessions; restored, the store answers as the original", () => {
    const f = new Feeder();
    const c1 = f.open("c1");
    f.request(c1, 1, { op: "put", key: "b", value: "2" });
    f.request(c1, 2, { op: "put", key: "a", value: "1" });
    const snapshot = f.machine.snapshot();
    expect(snapshot).toEqual({
      data: [
        ["a", "1"],
        ["b", "2"],
      ],
      sessions: [
        [c1, { client: "c1", seq: 2, result: { value: null, existed: false }, lastIndex: 3 }],
      ],
      lastExpiry: 0,
    } satisfies KvSnapshot);
    // A node restored from it (through JSON, as Raft keeps it) answers a retry from the session.
    const restored = new KvStateMachine();
    restored.restore(JSON.parse(JSON.stringify(snapshot)));
    expect(
      restored.apply(4, {
        kind: "kv",
        client: "c1",
        session: c1,
        seq: 2,
        command: { op: "put", key: "a", value: "1" },
      }),
    ).toEqual({
      ...result(null),
      duplicate: true,
    });
    expect(restored.read("a")).toBe("1");
    expect(
      restored.apply(5, {
        kind: "kv",
        client: "c1",
        session: c1,
        seq: 1,
        command: { op: "get", key: "a" },
      }),
    ).toEqual({
      kind: "superseded",
      latestSeq: 2,
    });
  });

  test("restoring replaces the whole state, sessions included", () => {
    const f = new Feeder();
    f.open("old");
    f.anonymous({ op: "put", key: "gone", value: "x" });
    f.machine.restore({ data: [["k", "v"]], sessions: [], lastExpiry: 0 });
    expect(f.machine.read("gone")).toBeUndefined();
    expect(f.machine.read("k")).toBe("v");
    expect(f.machine.sessionCount).toBe(0);
  });

  test("a replica restored at any index goes on exactly as one that applied every entry", () => {
    const log = mixedLog();
    const whole = new Feeder(30);
    for (const [i, entry] of log.entries()) {
      whole.apply(entry);
      if (i % 37 !== 0) continue;
      // Restored from the snapshot at index i + 1, it applies the rest and ends the same.
      const restored = new KvStateMachine(30);
      restored.restore(JSON.parse(JSON.stringify(whole.machine.snapshot())));
      const rest = new Feeder(30);
      for (const [j, later] of log.entries()) {
        if (j > i) expect(restored.apply(j + 1, later)).toEqual(rest.apply(later));
        else rest.apply(later);
      }
      expect(restored.snapshot()).toEqual(rest.machine.snapshot());
    }
  });

  test("what is not a snapshot of this store is refused with the reason", () => {
    const machine = new KvStateMachine();
    expect(() => machine.restore([])).toThrow(/"data" is not a list/);
    expect(() => machine.restore({ data: [], sessions: [[1, {}]], lastExpiry: 0 })).toThrow(
      /"sessions"/,
    );
    expect(() => machine.restore({ data: [], sessions: [] })).toThrow(/"lastExpiry"/);
  });
});

describe("entries that are not key/value requests", () => {
  test("a leader's no-op and foreign entries are ignored, and still count as log positions", () => {
    const f = new Feeder(10);
    const c1 = f.open("c1"); // index 1
    f.request(c1, 1, { op: "put", key: "k", value: "v" }); // index 2
    for (const entry of [null, undefined, "c42", 7, { kind: "other" }, { command: "x" }, []]) {
      expect(f.apply(entry)).toEqual({ kind: "none" });
    }
    expect(f.machine.read("k")).toBe("v");
    expect(f.machine.size).toBe(1);
    f.noops(4); // index 13: the no-ops moved the log on, so c1's session has expired
    expect(f.machine.sessionOf(c1)).toBeUndefined();
  });
});

/**
 * A mixed log: three clients' sessions, retries, no-ops, superseded copies, a session forgotten
 * and its requests expired, reopened sessions (with a window of 30).
 */
function mixedLog(): unknown[] {
  const log: unknown[] = [];
  const sessions = [0, 0, 0];
  for (let i = 0; i < 300; i++) {
    const c = i % 3;
    const client = `c${c}`;
    // c2 falls silent for longer than the window: its session is forgotten, its next requests
    // are answered "expired" until it opens a new one.
    if (c === 2 && i >= 120 && i < 180) {
      log.push(null);
      continue;
    }
    if (sessions[c] === 0 || i % 97 === c) {
      log.push({ kind: "kv", client, open: true });
      sessions[c] = log.length;
      continue;
    }
    const seq = 1 + Math.floor(i / 7) - (i % 11 === 0 ? 1 : 0);
    if (i % 5 === 0) log.push(null);
    else if (i % 13 === 0 && client !== "c2") continue;
    else
      log.push({
        kind: "kv",
        client,
        session: sessions[c],
        seq,
        command: { op: "append", key: client, value: "." },
      });
  }
  return log;
}
