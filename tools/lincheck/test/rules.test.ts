import { describe, expect, it } from "vitest";
import { type CheckResult, check } from "../src/check.ts";
import type { Operation } from "../src/history.ts";
import type { Model } from "../src/model.ts";
import { kvModel } from "../src/models/kv.ts";
import { registerModel } from "../src/models/register.ts";
import { ops, type Row } from "./build.ts";

const read = { op: "read" };
const write = (value: number) => ({ op: "write", value });
const cas = (from: number | null, to: number) => ({ op: "cas", from, to });
const get = (key: string) => ({ op: "get", key });
const put = (key: string, value: string) => ({ op: "put", key, value });
const append = (key: string, value: string) => ({ op: "append", key, value });
const del = (key: string) => ({ op: "delete", key });

/** A returned order must really be a linearization: legal for the model, and respecting real time. */
function expectValidOrder(model: Model, history: Operation[], result: CheckResult): void {
  for (const p of result.partitions) {
    const byId = new Map(history.map((o) => [o.id, o]));
    expect([...p.order].sort((a, b) => a - b)).toEqual(p.operations.map((o) => o.id));
    let state = model.init();
    p.order.forEach((id, i) => {
      const op = byId.get(id)!;
      const step = model.step(state, op.input, op.output);
      expect(step.ok).toBe(true);
      state = step.next;
      for (const later of p.order.slice(i + 1)) {
        expect(byId.get(later)!.ret ?? Number.POSITIVE_INFINITY).toBeGreaterThanOrEqual(op.call);
      }
    });
  }
}

function verdict(model: Model, history: Operation[]) {
  const result = check(model, history);
  if (result.verdict === "linearizable") expectValidOrder(model, history, result);
  return result.verdict;
}

describe("register rules", () => {
  it("concurrent writes may take effect in either order", () => {
    const writes: [string, number, number, unknown, unknown][] = [
      ["a", 0, 10, write(1), {}],
      ["b", 0, 10, write(2), {}],
    ];
    for (const seen of [1, 2]) {
      expect(verdict(registerModel, ops([...writes, ["c", 11, 12, read, { value: seen }]]))).toBe(
        "linearizable",
      );
    }
    expect(verdict(registerModel, ops([...writes, ["c", 11, 12, read, { value: 3 }]]))).toBe(
      "not-linearizable",
    );
  });

  it("a read concurrent with a write may see the old or the new value", () => {
    for (const seen of [null, 1]) {
      const h = ops([
        ["a", 0, 10, write(1), {}],
        ["b", 5, 15, read, { value: seen }],
      ]);
      expect(verdict(registerModel, h)).toBe("linearizable");
    }
  });

  it("a stale read after a completed write is illegal", () => {
    const h = ops([
      ["a", 0, 1, write(1), {}],
      ["b", 2, 3, read, { value: null }],
    ]);
    expect(verdict(registerModel, h)).toBe("not-linearizable");
  });

  it("a pending write may have happened, or not", () => {
    const pending: [string, number, undefined, unknown] = ["a", 0, undefined, write(1)];
    expect(verdict(registerModel, ops([pending, ["b", 5, 6, read, { value: 1 }]]))).toBe(
      "linearizable",
    );
    expect(verdict(registerModel, ops([pending, ["b", 5, 6, read, { value: null }]]))).toBe(
      "linearizable",
    );
    const flickers = ops([
      pending,
      ["b", 5, 6, read, { value: 1 }],
      ["b", 7, 8, read, { value: null }],
    ]);
    expect(verdict(registerModel, flickers)).toBe("not-linearizable");
  });

  it("a pending write cannot take effect before it was invoked", () => {
    const h = ops([
      ["b", 0, 1, read, { value: 1 }],
      ["a", 2, undefined, write(1)],
    ]);
    expect(verdict(registerModel, h)).toBe("not-linearizable");
  });
});

describe("register rules: cas", () => {
  it("cas succeeds exactly when the value matches", () => {
    const ok = ops([
      ["a", 0, 1, write(1), {}],
      ["b", 2, 3, cas(1, 2), { ok: true }],
      ["c", 4, 5, cas(1, 3), { ok: false }],
      ["a", 6, 7, read, { value: 2 }],
    ]);
    expect(verdict(registerModel, ok)).toBe("linearizable");
    const wrongFailure = ops([
      ["a", 0, 1, write(1), {}],
      ["b", 2, 3, cas(1, 2), { ok: false }],
    ]);
    expect(verdict(registerModel, wrongFailure)).toBe("not-linearizable");
    const wrongSuccess = ops([["b", 0, 1, cas(1, 2), { ok: true }]]);
    expect(verdict(registerModel, wrongSuccess)).toBe("not-linearizable");
  });

  it("a pending cas took effect only if its value matched", () => {
    const h = ops([
      ["a", 0, 1, write(1), {}],
      ["b", 2, undefined, cas(5, 2)],
      ["c", 3, 4, read, { value: 2 }],
    ]);
    expect(verdict(registerModel, h)).toBe("not-linearizable");
  });
});

describe("key/value rules", () => {
  it("concurrent appends land in either order, each exactly once", () => {
    const appends: [string, number, number, unknown, unknown][] = [
      ["a", 0, 10, append("k", "x"), {}],
      ["b", 0, 10, append("k", "y"), {}],
    ];
    for (const seen of ["xy", "yx"]) {
      expect(verdict(kvModel, ops([...appends, ["c", 11, 12, get("k"), { value: seen }]]))).toBe(
        "linearizable",
      );
    }
    for (const seen of ["x", "xyx", ""]) {
      expect(verdict(kvModel, ops([...appends, ["c", 11, 12, get("k"), { value: seen }]]))).toBe(
        "not-linearizable",
      );
    }
  });

  it("a deleted key reads as empty and is absent for cas", () => {
    const h = ops([
      ["a", 0, 1, put("k", "v"), {}],
      ["a", 2, 3, del("k"), {}],
      ["b", 4, 5, get("k"), { value: "" }],
      ["b", 6, 7, { op: "cas", key: "k", expected: "", value: "w" }, { ok: false }],
      ["b", 8, 9, { op: "cas", key: "k", expected: null, value: "w" }, { ok: true }],
      ["c", 10, 11, get("k"), { value: "w" }],
    ]);
    expect(verdict(kvModel, h)).toBe("linearizable");
    const stale = ops([
      ["a", 0, 1, put("k", "v"), {}],
      ["a", 2, 3, del("k"), {}],
      ["b", 4, 5, get("k"), { value: "v" }],
    ]);
    expect(verdict(kvModel, stale)).toBe("not-linearizable");
  });
});

describe("key/value rules: what a write says it replaced", () => {
  it("concurrent appends that say what they replaced land only in the order they say", () => {
    // No read at all, yet the answers fix the order: y came second, after x.
    const both = (x: string | null, y: string | null) =>
      ops([
        ["a", 0, 10, append("k", "x"), { previous: x }],
        ["b", 0, 10, append("k", "y"), { previous: y }],
      ]);
    expect(verdict(kvModel, both(null, "x"))).toBe("linearizable");
    expect(verdict(kvModel, both("y", null))).toBe("linearizable");
    expect(verdict(kvModel, both(null, null))).toBe("not-linearizable");
    expect(verdict(kvModel, both("y", "x"))).toBe("not-linearizable");
  });

  it("put, delete and cas are held to the value they say they replaced; absent is null", () => {
    const h = (previous: string | null) =>
      ops([
        ["a", 0, 1, put("k", "v"), { previous: null }],
        ["a", 2, 3, put("k", "w"), { previous: "v" }],
        ["a", 4, 5, del("k"), { previous }],
        [
          "a",
          6,
          7,
          { op: "cas", key: "k", expected: null, value: "z" },
          { ok: true, previous: null },
        ],
      ]);
    expect(verdict(kvModel, h("w"))).toBe("linearizable");
    expect(verdict(kvModel, h("v"))).toBe("not-linearizable");
    expect(verdict(kvModel, h(null))).toBe("not-linearizable");
  });

  it("an empty value is not an absent key", () => {
    const h = ops([
      ["a", 0, 1, put("k", ""), { previous: null }],
      ["a", 2, 3, put("k", "v"), { previous: null }],
    ]);
    expect(verdict(kvModel, h)).toBe("not-linearizable");
  });
});

describe("key/value rules: keys and evidence", () => {
  it("keys are checked independently, and the failing one is explained", () => {
    const h = ops([
      ["a", 0, 1, put("good", "1"), {}],
      ["a", 2, 3, put("bad", "1"), {}],
      ["b", 4, 5, get("good"), { value: "1" }],
      ["b", 6, 7, get("bad"), { value: "2" }],
    ]);
    const result = check(kvModel, h);
    expect(result.verdict).toBe("not-linearizable");
    expect(result.partitions.map((p) => [p.key, p.verdict])).toEqual([
      ["good", "linearizable"],
      ["bad", "not-linearizable"],
    ]);
    const bad = result.partitions[1]!;
    expect(bad.order).toEqual([1]);
    expect(bad.stuck).toEqual([3]);
    expect(bad.breaker).toBe(3);
    expect(result.partitions[0]!.order).toEqual([0, 2]);
  });

  it("names the operation whose response breaks a dead end", () => {
    // Reads of 1, 2, 1 in sequence, but each put takes effect once: the third read breaks it.
    const h = ops([
      ["a", 0, 10, put("k", "1"), {}],
      ["b", 0, 10, put("k", "2"), {}],
      ["c", 1, 2, get("k"), { value: "1" }],
      ["c", 3, 4, get("k"), { value: "2" }],
      ["c", 5, 6, get("k"), { value: "1" }],
    ]);
    const result = check(kvModel, h);
    expect(result.verdict).toBe("not-linearizable");
    const [p] = result.partitions;
    expect(p!.order.length).toBe(4);
    expect(p!.breaker).toBe(4);
  });
});

/** n overlapping appends that never return and a read nobody could produce: n! orders to refute. */
function hard(n: number, key = "k"): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < n; i++)
    rows.push([`c${i}`, i, undefined, append(key, String.fromCharCode(97 + i))]);
  rows.push(["r", n, n + 1, get(key), { value: "impossible" }]);
  return rows;
}

describe("the budget", () => {
  it("gives up with unknown after exploring maxStates states, and says so", () => {
    const result = check(kvModel, ops(hard(14)), { maxStates: 10_000 });
    expect(result.verdict).toBe("unknown");
    const [p] = result.partitions;
    expect(p!.gaveUp).toBe("states");
    expect(p!.explored).toBe(10_000);
  });

  it("is a count: the same history and budget give the same answer, order and count every time", () => {
    const runs = [1, 2, 3].map(() => check(kvModel, ops(hard(9)), { maxStates: 5_000 }));
    const seen = runs.map((r) =>
      JSON.stringify(r.partitions.map((p) => [p.verdict, p.order, p.explored])),
    );
    expect(new Set(seen).size).toBe(1);
  });

  it("answers a small history definitely when the budget allows", () => {
    expect(check(kvModel, ops(hard(5))).verdict).toBe("not-linearizable");
  });

  // A time limit is an extra guard, off unless asked for. With a limit of 0 the search stops after
  // its first slice whatever the machine: no assertion depends on how fast that slice ran.
  it("gives up with unknown when a time limit is set and passed", () => {
    const result = check(kvModel, ops(hard(14)), { timeLimitMs: 0 });
    expect(result.verdict).toBe("unknown");
    expect(result.partitions[0]!.gaveUp).toBe("time");
  });
});

describe("partitions", () => {
  // Key "a" (2 operations) and key "b" (3) are not linearizable; "h" could not be decided soon.
  const rows: Row[] = [
    ...hard(14, "h"),
    ["a", 100, 101, put("a", "1"), {}],
    ["a", 102, 103, get("a"), { value: "" }],
    ["b", 100, 101, put("b", "1"), {}],
    ["b", 102, 103, put("b", "2"), {}],
    ["b", 104, 105, get("b"), { value: "1" }],
  ];
  const verdicts = (r: CheckResult) => r.partitions.map((p) => [p.key, p.verdict]);

  it.each([
    [
      "by default, stop at the first partition that is not linearizable (smallest first)",
      {},
      ["unchecked", "not-linearizable", "unchecked"],
    ],
    [
      "with allPartitions, check them all for the full report",
      { allPartitions: true, maxStates: 2_000 },
      ["unknown", "not-linearizable", "not-linearizable"],
    ],
  ] as const)("%s", (_, options, expected) => {
    const result = check(kvModel, ops(rows), options);
    expect(result.verdict).toBe("not-linearizable");
    expect(verdicts(result)).toEqual([
      ["h", expected[0]],
      ["a", expected[1]],
      ["b", expected[2]],
    ]);
  });

  it("a cheap violation is found even behind a partition that would take the whole budget", () => {
    // "h" has fewer operations than "long", so it goes first; the partitions share the steps.
    const long: Row[] = Array.from(
      { length: 20 },
      (_, i): Row => ["w", 100 + 2 * i, 101 + 2 * i, put("long", `${i}`), {}],
    );
    long.push(["r", 200, 201, get("long"), { value: "0" }]);
    const result = check(kvModel, ops([...hard(14, "h"), ...long]));
    expect(verdicts(result)).toEqual([
      ["h", "unchecked"],
      ["long", "not-linearizable"],
    ]);
  });
});
