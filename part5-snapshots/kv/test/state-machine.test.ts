// Goal: the replicated state machine alone (src/kv/state-machine.ts): what each operation answers
// (the value it read or replaced, whether the key existed, whether a cas swapped); exactly-once
// execution per client session (a duplicate answered with the first answer without running
// again, an older request superseded); sessions forgotten by log position after the window, the
// same way on every replica that applies the same entries; and entries that are not key/value
// requests (a new leader's no-op) ignored. Method: a KvStateMachine fed entries by hand, index
// after index, as a node's apply loop feeds it. Nothing here depends on the seed.

import { describe, expect, test } from "vitest";
import type { KvCommand, KvEntry } from "../src/kv/commands.ts";
import { type Applied, KvStateMachine } from "../src/kv/state-machine.ts";

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
  /** A request from `client` numbered `seq`. */
  request(client: string, seq: number, command: KvCommand): Applied {
    return this.apply({ kind: "kv", client, seq, command } satisfies KvEntry);
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
    const append: KvCommand = { op: "append", key: "k", value: "x" };
    expect(f.request("c1", 1, append)).toEqual(result(null));
    // The same request again (a retry that reached the log twice): answered, not run.
    expect(f.request("c1", 1, append)).toEqual({ ...result(null), duplicate: true });
    expect(f.machine.read("k")).toBe("x");
    expect(f.machine.sessionOf("c1")).toEqual({
      seq: 1,
      result: { value: null, existed: false },
      lastIndex: 2,
    });
    // Even if its copy differs (it cannot, from our client, but the rule is by number only).
    expect(f.request("c1", 1, { op: "put", key: "k", value: "other" })).toMatchObject({
      duplicate: true,
    });
    expect(f.machine.read("k")).toBe("x");
    expect(f.request("c1", 2, append)).toEqual(result("x"));
    expect(f.machine.read("k")).toBe("xx");
  });

  test("a request older than the client's last is superseded and does not run", () => {
    const f = new Feeder();
    f.request("c1", 1, { op: "put", key: "k", value: "1" });
    f.request("c1", 2, { op: "put", key: "k", value: "2" });
    expect(f.request("c1", 1, { op: "put", key: "k", value: "1" })).toEqual({
      kind: "superseded",
      latestSeq: 2,
    });
    expect(f.machine.read("k")).toBe("2");
    // A duplicate of the latest is still answered with its first answer.
    expect(f.request("c1", 2, { op: "put", key: "k", value: "2" })).toEqual({
      ...result("1"),
      duplicate: true,
    });
  });
});

describe("exactly once, between clients and without a session", () => {
  test("sessions are per client: the same number from another client runs", () => {
    const f = new Feeder();
    f.request("c1", 1, { op: "append", key: "k", value: "a" });
    expect(f.request("c2", 1, { op: "append", key: "k", value: "b" })).toEqual(result("a"));
    expect(f.machine.read("k")).toBe("ab");
  });

  test("a request without client and seq runs each time it is applied", () => {
    const f = new Feeder();
    f.anonymous({ op: "append", key: "k", value: "a" });
    f.anonymous({ op: "append", key: "k", value: "a" });
    expect(f.machine.read("k")).toBe("aa");
    expect(f.machine.sessionOf("undefined")).toBeUndefined();
  });

  test("a client may skip numbers: only the order matters", () => {
    const f = new Feeder();
    f.request("c1", 1, { op: "put", key: "k", value: "1" });
    expect(f.request("c1", 5, { op: "put", key: "k", value: "5" })).toEqual(result("1"));
    expect(f.request("c1", 3, { op: "put", key: "k", value: "3" })).toEqual({
      kind: "superseded",
      latestSeq: 5,
    });
  });
});

describe("sessions forgotten by log position", () => {
  test("an idle client's session goes once it is older than the window, not before", () => {
    // A window of 10 entries: expiry runs at every index (every window/10 = 1).
    const f = new Feeder(10);
    f.request("c1", 1, { op: "append", key: "k", value: "x" }); // index 1
    f.noops(10); // indices 2..11: 1 < 11 - 10 is false, so it stays
    expect(f.machine.sessionOf("c1")?.lastIndex).toBe(1);
    f.noops(1); // index 12: 1 < 12 - 10
    expect(f.machine.sessionOf("c1")).toBeUndefined();
    // A retry that old runs again: the window must be wider than a client's deadline.
    expect(f.request("c1", 1, { op: "append", key: "k", value: "x" })).toEqual(result("x"));
    expect(f.machine.read("k")).toBe("xx");
  });

  test("any request of the client, a duplicate included, keeps its session alive", () => {
    const f = new Feeder(10);
    f.request("c1", 1, { op: "get", key: "k" }); // index 1
    f.noops(8);
    f.request("c1", 1, { op: "get", key: "k" }); // index 10: a duplicate, lastIndex 10
    f.noops(10); // up to index 20: 10 < 20 - 10 is false
    expect(f.machine.sessionOf("c1")).toMatchObject({ seq: 1, lastIndex: 10 });
    f.noops(1);
    expect(f.machine.sessionOf("c1")).toBeUndefined();
  });

  test("with the default window, expiry runs every tenth of it, at the same indices", () => {
    const f = new Feeder(100);
    f.request("c1", 1, { op: "get", key: "k" }); // index 1
    f.noops(108); // index 109: idle long enough since index 102, but no expiry since 100
    expect(f.machine.sessionOf("c1")).toBeDefined();
    f.noops(1); // index 110: the next expiry
    expect(f.machine.sessionOf("c1")).toBeUndefined();
  });

  test("replicas that apply the same entries keep the same sessions at every index", () => {
    // A mixed log: three clients, retries, no-ops, superseded copies; long enough for expiry.
    const log: unknown[] = [];
    for (let i = 0; i < 300; i++) {
      const client = `c${i % 3}`;
      const seq = 1 + Math.floor(i / 7) - (i % 11 === 0 ? 1 : 0);
      if (i % 5 === 0) log.push(null);
      else if (i % 13 === 0 && client !== "c2") continue;
      else
        log.push({ kind: "kv", client, seq, command: { op: "append", key: client, value: "." } });
    }
    const [a, b] = [new Feeder(30), new Feeder(30)];
    for (const entry of log) {
      expect(b.apply(entry)).toEqual(a.apply(entry));
      for (const client of ["c0", "c1", "c2"]) {
        expect(b.machine.sessionOf(client)).toEqual(a.machine.sessionOf(client));
        expect(b.machine.read(client)).toBe(a.machine.read(client));
      }
    }
    // A replica that starts over (a restart replays the log from index 1) ends the same.
    const again = new Feeder(30);
    for (const entry of log) again.apply(entry);
    expect(again.machine.sessionOf("c0")).toEqual(a.machine.sessionOf("c0"));
    expect(again.machine.read("c1")).toBe(a.machine.read("c1"));
  });
});

describe("entries that are not key/value requests", () => {
  test("a leader's no-op and foreign entries are ignored, and still count as log positions", () => {
    const f = new Feeder(10);
    f.request("c1", 1, { op: "put", key: "k", value: "v" }); // index 1
    for (const entry of [null, undefined, "c42", 7, { kind: "other" }, { command: "x" }, []]) {
      expect(f.apply(entry)).toEqual({ kind: "none" });
    }
    expect(f.machine.read("k")).toBe("v");
    expect(f.machine.size).toBe(1);
    f.noops(4); // index 12: the no-ops moved the log on, so c1's session has expired
    expect(f.machine.sessionOf("c1")).toBeUndefined();
  });
});
