// The package's own name: what part4-kv imports, once it depends on "lincheck": "workspace:*".
import {
  type CheckResult,
  check,
  explain,
  HistoryError,
  historyFrom,
  type KvInput,
  type KvOutput,
  kvModel,
  type Recorded,
  renderHtml,
} from "lincheck";
import { describe, expect, it } from "vitest";

type KvRecord = Recorded<KvInput, KvOutput>;

/** A kv history as a store's test harness records it: times from its own clock. */
const records: KvRecord[] = [
  { client: "c1", call: 0, return: 10, input: { op: "put", key: "x", value: "1" }, output: {} },
  // Timed out: no return, no output. It may have happened.
  { client: "c2", call: 1, input: { op: "append", key: "x", value: "2" } },
  { client: "c3", call: 11, return: 12, input: { op: "get", key: "x" }, output: { value: "12" } },
  {
    client: "c1",
    call: 11,
    return: 13,
    input: { op: "cas", key: "y", expected: null, value: "a" },
    output: { ok: true },
  },
  { client: "c4", call: 14, return: 15, input: { op: "delete", key: "y" }, output: {} },
  { client: "c4", call: 16, return: 17, input: { op: "get", key: "y" }, output: { value: "" } },
];

describe("the library API, as part4-kv uses it", () => {
  it("checks a history built in code, pending operations included", () => {
    const history = historyFrom(kvModel, records, "store run 1");
    const result: CheckResult = check(history.model, history.operations);
    expect(result.verdict).toBe("linearizable");
    expect(result.partitions.map((p) => [p.key, p.verdict, p.order])).toEqual([
      ["x", "linearizable", [0, 1, 2]],
      ["y", "linearizable", [3, 4, 5]],
    ]);
    expect(explain(history, result)).toContain(
      "store run 1: LINEARIZABLE (kv model, 6 operations, 2 partitions)",
    );
  });

  it("explains a violation: the prefix, what could go next, and what breaks it", () => {
    // The get now misses the timed-out append that an earlier get saw: a stale read.
    const stale: KvRecord = {
      client: "c5",
      call: 20,
      return: 21,
      input: { op: "get", key: "x" },
      output: { value: "1" },
    };
    const history = historyFrom(kvModel, [...records, stale]);
    const result = check(history.model, history.operations);
    expect(result.verdict).toBe("not-linearizable");
    const x = result.partitions.find((p) => p.key === "x")!;
    expect(x).toMatchObject({
      verdict: "not-linearizable",
      order: [0, 1, 2],
      stuck: [6],
      breaker: 6,
    });
    expect(explain(history, result)).toContain(
      '#6 client c5: get("x") -> "1"   <- returned first: the history breaks here',
    );
    expect(renderHtml(history, result)).toContain('data-op="6"');
  });

  it("rejects a bad record with an error naming it, never a verdict", () => {
    const bad = (r: KvRecord) => () => historyFrom(kvModel, [r]);
    const get: KvInput = { op: "get", key: "x" };
    expect(bad({ client: 1, call: 0, return: 1, input: get })).toThrow(
      'history: operation #0: "output" is missing: an operation with a "return" needs the output the client saw',
    );
    expect(bad({ client: 1, call: 5, return: 1, input: get, output: { value: "" } })).toThrow(
      '"return" (1) is before "call" (5)',
    );
    expect(bad({ client: 1, call: 0, input: get, output: { value: "" } })).toThrow(
      'cannot have "output"',
    );
    expect(bad({ client: 1, call: Number.NaN, input: get })).toThrow('"call" must be a number');
    expect(() => historyFrom(kvModel, [])).toThrow(HistoryError);
  });
});
