// "Why did this fail" (src/failure.ts): the first violation of a real failing trace, its rule
// and section, and the events that led there; a failed check; nothing for a test that passed.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { firstFailure, RULES } from "../src/failure.ts";
import { end, harness, onNode, start, timelineOf } from "./build.ts";
import { realTimeline } from "./real.ts";

describe("the first failure of a trace", () => {
  test("two leaders of one term (a mutant that counts a tie as a majority): the rule, and both elections", () => {
    const timeline = realTimeline("part1-mutant-two-leaders.jsonl");
    const failure = firstFailure(timeline)!;
    const events = timeline.trace.events;
    expect(events[failure.row]!.kind).toBe("violation");
    expect(failure).toMatchObject({
      what: "violation",
      name: "Election Safety",
      message: "n0 and n1 are both leaders of term 1",
      rule: RULES["Election Safety"],
      expected: false,
      nodes: [0, 1],
    });
    expect(failure.rule!.section).toBe("§5.2, Figure 3");
    // every node's way to leadership in term 1 is among the causes, the culprit last
    const leaders = events.flatMap((e, i) =>
      e.kind === "role" && e.role === "leader" && e.term === 1 ? [i] : [],
    );
    expect(leaders).toHaveLength(2);
    for (const i of leaders) expect(failure.causes).toContain(i);
    expect(failure.causes.at(-1)).toBe(failure.row - 1);
    expect(failure.causes.every((i) => i < failure.row)).toBe(true);
    expect(
      failure.causes.every((i) => ["role", "vote", "vote.reply"].includes(events[i]!.kind)),
    ).toBe(true);
  });

  test("a violation the test provokes on purpose is found too, marked expected", () => {
    const timeline = timelineOf(
      start([0, 1]),
      onNode(1, 0, 1, "leader", "role", { from: "candidate", to: "leader", reason: "won" }),
      harness(2, "violation", { invariant: "Log Matching", message: "n0 and n1 differ at [3]" }),
      end(3, "pass", { expectedViolation: true }),
    );
    expect(firstFailure(timeline)).toMatchObject({ row: 2, expected: true, name: "Log Matching" });
  });

  test("no violation: the first failed check, else the failing end; a test that passed has none", () => {
    const check = timelineOf(
      start([0]),
      harness(1, "check", { name: "checkSingleLeader", ok: false, error: "no leader" }),
      end(2, "fail", { error: "no leader" }),
    );
    expect(firstFailure(check)).toMatchObject({ row: 1, what: "check", name: "checkSingleLeader" });
    const ended = timelineOf(start([0]), end(1, "fail", { error: "expected 3 to be 2" }));
    expect(firstFailure(ended)).toMatchObject({
      row: 1,
      what: "end",
      message: "expected 3 to be 2",
    });
    expect(firstFailure(realTimeline("part2-story.jsonl"))).toBeNull();
  });

  test("every invariant the parts' checkers name has its rule and section", () => {
    // read from the checkers themselves, so a new invariant without a rule fails here
    const root = new URL("../../../", import.meta.url);
    const names = new Set<string>();
    for (const part of readdirSync(root).filter((name) => /^part\d/.test(name))) {
      for (const file of ["safety.ts", "conformance.ts"]) {
        const path = new URL(`${part}/src/sim/${file}`, root);
        if (!existsSync(path)) continue;
        const text = readFileSync(path, "utf8");
        for (const m of text.matchAll(/violation\(\s*\w+,\s*"([^"]+)"/g)) names.add(m[1]!);
        for (const m of text.matchAll(/invariant = [^;]*;/g)) {
          for (const q of m[0].matchAll(/"([^"]+)"/g)) if (q[1] !== "leader") names.add(q[1]!);
        }
      }
    }
    expect(names.size).toBeGreaterThanOrEqual(15);
    for (const name of names) expect(RULES[name]?.section, name).toMatch(/§|Figure/);
  });
});
