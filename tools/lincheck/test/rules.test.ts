import { describe, expect, it } from "vitest";
import { type CheckResult, check } from "../src/check.ts";
import type { Operation } from "../src/history.ts";
import type { Model } from "../src/model.ts";
import { kvModel } from "../src/models/kv.ts";
import { registerModel } from "../src/models/register.ts";
import { ops } from "./build.ts";

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

describe("the time budget", () => {
  /** n overlapping appends that never return and a read nobody could produce: n! orders to refute. */
  function hard(n: number): Operation[] {
    const rows: [string, number, number | undefined, unknown, unknown?][] = [];
    for (let i = 0; i < n; i++)
      rows.push([`c${i}`, i, undefined, append("k", String.fromCharCode(97 + i))]);
    rows.push(["r", n, n + 1, get("k"), { value: "impossible" }]);
    return ops(rows);
  }

  // No assertion on how long it took: speed is the benchmark's business, never a test's. That
  // the search stopped for lack of time, not memory, shows the budget is what ended it.
  it("gives up with unknown when the budget is spent", () => {
    const result = check(kvModel, hard(14), { budgetMs: 100 });
    expect(result.verdict).toBe("unknown");
    expect(result.partitions[0]!.gaveUp).toBe("time");
  });

  it("gives up with unknown when the memory bound is reached", () => {
    const result = check(kvModel, hard(14), { maxStates: 10_000 });
    expect(result.verdict).toBe("unknown");
    expect(result.partitions[0]!.gaveUp).toBe("memory");
  });

  it("answers the same small history definitely when the budget allows", () => {
    expect(check(kvModel, hard(5), { budgetMs: 5_000 }).verdict).toBe("not-linearizable");
  });
});
