import { describe, expect, test } from "vitest";
import { filterName, parseTrace, testName } from "../src/trace.ts";
import { end, harness, onNode, start } from "./build.ts";
import { fixture } from "./real.ts";

describe("parseTrace", () => {
  test("reads a well-formed trace: events, nodes, start, result, no warnings", () => {
    const trace = parseTrace(fixture("handmade-election.jsonl"), "f.jsonl");
    expect(trace.events).toHaveLength(57);
    expect(trace.nodes).toEqual([0, 1, 2]);
    expect(trace.start?.seed).toBe(42);
    expect(trace.result).toBe("pass");
    expect(trace.warnings).toEqual([]);
    expect(trace.events[2]).toMatchObject({
      line: 3,
      t: 163,
      node: 1,
      term: 0,
      role: "follower",
      kind: "election.timeout",
    });
  });

  test("skips malformed lines with a warning naming each, and never throws", () => {
    const text = [
      start([0]),
      "not json at all",
      "[1,2,3]",
      JSON.stringify({ t: "soon", node: 0, kind: "x", details: {} }),
      JSON.stringify({ t: 5, node: 0, term: 1, role: "follower", details: {} }),
      JSON.stringify({ t: 5, node: 1.5, kind: "x", details: {} }),
      JSON.stringify({ t: 5, node: 0, kind: "x", details: [1] }),
      onNode(6, 0, 1, "follower", "fine"),
      '{"t":7,"node":0,"term":1,"ro', // a run that crashed mid-write
    ].join("\n");
    const trace = parseTrace(text, "bad.jsonl");
    expect(trace.events.map((e) => e.kind)).toEqual(["test.start", "fine"]);
    expect(trace.warnings).toEqual([
      expect.stringMatching(/^line 2: not valid JSON/),
      "line 3: not a JSON object, skipped",
      expect.stringMatching(/^line 4: t is not a number/),
      expect.stringMatching(/^line 5: kind is missing/),
      expect.stringMatching(/^line 6: node is neither an integer nor null/),
      expect.stringMatching(/^line 7: details is not an object/),
      expect.stringMatching(/^line 9: not valid JSON \(truncated\?\)/),
      expect.stringMatching(/no test.end line: the trace was cut short/),
    ]);
    expect(trace.result).toBe("cut short");
  });

  test("counts bad lines beyond twenty instead of listing them all", () => {
    const text = [start([0]), ...Array.from({ length: 25 }, () => "garbage"), end(1)].join("\n");
    const { warnings } = parseTrace(text, "many.jsonl");
    expect(warnings).toHaveLength(21);
    expect(warnings[20]).toBe("… and 5 more lines with problems");
  });
});

describe("parseTrace: missing lines, node ids, time order", () => {
  test("an empty file gives an empty, failed trace with both lines reported missing", () => {
    const trace = parseTrace("", "empty.jsonl");
    expect(trace.events).toEqual([]);
    expect(trace.result).toBe("cut short");
    expect(trace.warnings).toHaveLength(2);
    expect(trace.warnings[0]).toMatch(/no test.start line/);
  });

  test("node ids need not be contiguous: declared and seen ids, ascending", () => {
    const trace = parseTrace(
      [start([10, 3, 7]), onNode(1, 12, 0, "follower", "x"), end(2)].join("\n"),
      "ids",
    );
    expect(trace.nodes).toEqual([3, 7, 10, 12]);
  });

  test("a failed test.end gives fail; missing term and role become null", () => {
    const trace = parseTrace(
      [start([0]), JSON.stringify({ t: 1, node: 0, kind: "x" }), end(2, "fail")].join("\n"),
      "f",
    );
    expect(trace.result).toBe("fail");
    expect(trace.events[1]).toMatchObject({ term: null, role: null, details: {} });
  });

  test("events out of time order are sorted, keeping file order for equal times, with a warning", () => {
    const text = [start([0]), harness(9, "b"), harness(5, "a"), harness(9, "c"), end(10)].join(
      "\n",
    );
    const trace = parseTrace(text, "order");
    expect(trace.events.map((e) => e.kind)).toEqual(["test.start", "a", "b", "c", "test.end"]);
    expect(trace.warnings).toEqual(["line 3: time goes backwards; rows were re-sorted by time"]);
  });
});

describe("typed events", () => {
  test("events whose details fit their kind are known and typed; test.start and test.end are read", () => {
    const trace = parseTrace(fixture("handmade-election.jsonl"), "f.jsonl");
    expect(trace.events.every((e) => e.known)).toBe(true);
    expect(trace.start?.nodes).toEqual([0, 1, 2]);
    expect(trace.end).toEqual({ result: "pass" });
  });

  test("every event of the real fixtures fits the part's types", () => {
    for (const name of [
      "part1-old-leader-reconnects.jsonl",
      "part2-story.jsonl",
      "part2-batches.jsonl",
    ]) {
      const trace = parseTrace(fixture(name), name);
      expect(trace.warnings, name).toEqual([]);
      expect(
        trace.events.filter((e) => !e.known).map((e) => e.kind),
        name,
      ).toEqual([]);
    }
  });

  test("part 5's store answers are known (opened, session-expired); a status no store gives is not", () => {
    const answer = (status: string) =>
      JSON.stringify({
        t: 1,
        node: null,
        term: null,
        role: null,
        kind: "client.answer",
        details: { client: "a", seq: 1, from: 0, status },
      });
    const lines = ["opened", "session-expired", "ok", "expired-ish"].map(answer).join("\n");
    const trace = parseTrace(lines, "answers.jsonl");
    const known = trace.events.map((e) => [(e.details as { status?: string }).status, e.known]);
    expect(known).toEqual([
      ["opened", true],
      ["session-expired", true],
      ["ok", true],
      ["expired-ish", false],
    ]);
  });

  test("a malformed test.start leaves name and seed unknown, with warnings", () => {
    const trace = parseTrace([harness(0, "test.start", { test: 7 }), end(1)].join("\n"), "s");
    expect(trace.start).toBeNull();
    expect(trace.warnings).toEqual([
      "line 1: test.start event shown as it is: details.test is missing or of the wrong type",
      "no test.start line: test name, seed and replay command are unknown",
    ]);
  });

  test("the test's name as vitest -t accepts it: spaces between describe names, specials escaped", () => {
    const trace = parseTrace(
      `${start([0], { test: "Go series > old leader keeps its term (3 nodes) a.b" })}\n`,
      "n",
    );
    expect(testName(trace)).toBe("Go series old leader keeps its term \\(3 nodes\\) a\\.b");
    expect(filterName(["a", "b [x]"])).toBe("a b \\[x\\]");
  });
});
