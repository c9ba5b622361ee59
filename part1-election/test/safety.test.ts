// Goal: show that each safety check can fail, so a green run means something. Method: feed the
// checker hand-made traces with a double vote, two leaders in one term and a term going down,
// and check it names each violation; then break a live cluster's trace on purpose and check that
// the harness stops the run at that event with the seed.

import { describe, expect, test } from "vitest";
import { SafetyChecker } from "../src/sim/safety.ts";
import type { TraceEvent } from "../src/trace.ts";
import { event, voted } from "./events.ts";
import { Cluster } from "./harness.ts";

const becameLeader = (t: number, node: number, term: number) =>
  event(t, node, term, "leader", "role", { from: "candidate", to: "leader", reason: "won" });

function check(events: TraceEvent[]) {
  const checker = new SafetyChecker();
  for (const e of events) checker.observe(e);
  return checker.violations.map((v) => [v.invariant, v.event.t]);
}

describe("safety checker", () => {
  test("accepts a legal history: one leader per term, one vote per node per term", () => {
    const legal = [
      voted(1, 0, 0, 1),
      voted(2, 1, 0, 1),
      voted(2, 1, 0, 1), // the same vote again (a retried request) is still one vote
      becameLeader(3, 0, 1),
      voted(10, 2, 2, 2),
      voted(11, 1, 2, 2),
      becameLeader(12, 2, 2),
    ];
    expect(check(legal)).toEqual([]);
  });

  test("reports two leaders in one term (Election Safety)", () => {
    expect(check([becameLeader(5, 0, 3), becameLeader(9, 1, 3)])).toEqual([["Election Safety", 9]]);
  });

  test("reports a second vote in one term", () => {
    expect(check([voted(1, 2, 0, 4), voted(7, 2, 1, 4)])).toEqual([["One vote per term", 7]]);
  });

  test("reports a vote for another after voting for itself", () => {
    const selfVote = event(1, 1, 2, "candidate", "vote", {
      candidate: 1,
      candidateTerm: 2,
      granted: true,
      reason: "votes for itself",
    });
    expect(check([selfVote, voted(4, 1, 0, 2)])).toEqual([["One vote per term", 4]]);
  });

  test("ignores refused votes", () => {
    const refused = event(4, 1, 2, "follower", "vote", {
      candidate: 0,
      candidateTerm: 2,
      granted: false,
      reason: "already voted",
    });
    expect(check([voted(1, 1, 2, 2), refused])).toEqual([]);
  });

  test("reports a term going down", () => {
    const events = [
      event(1, 0, 3, "follower", "term", { from: 2, to: 3, reason: "" }),
      voted(2, 0, 1, 2),
    ];
    expect(check(events)).toEqual([["Term monotonicity", 2]]);
  });

  test("a restarted node is held to what it did before it crashed (ready for part 3)", () => {
    const checker = new SafetyChecker();
    const vote = voted(1, 0, 1, 3);
    checker.observe(vote);
    // Its persistent state came back as it was: nothing to report.
    expect(checker.restarted(0, { currentTerm: 3, votedFor: 1 }, vote)).toBeUndefined();
    // A vote forgotten for the term in which it was given would allow a second one.
    expect(checker.restarted(0, { currentTerm: 3, votedFor: null }, vote)?.message).toMatch(
      /restarted in term 3 with votedFor null, but it voted for n1 in that term/,
    );
    // Votes from before the crash still count: a second vote in term 3 is caught.
    expect(checker.observe(voted(9, 0, 2, 3))?.invariant).toBe("One vote per term");
    // A term lower than one reached before the crash is a term going down.
    const later = event(10, 0, 5, "follower", "term", { from: 3, to: 5, reason: "" });
    checker.observe(later);
    expect(checker.restarted(0, { currentTerm: 4, votedFor: null }, later)?.invariant).toBe(
      "Term monotonicity",
    );
  });

  test("a violation in a live cluster fails the run at that event, with the seed", async () => {
    const cluster = Cluster.start(3, { seed: 42 });
    cluster.expectViolation();
    const { leader, term } = await cluster.checkSingleLeader();
    const other = (leader + 1) % 3;
    // Forge what a broken node would emit: a second leader for the same term.
    cluster.tracer.emit(other, "role", { from: "candidate", to: "leader", reason: "forged" });
    await expect(cluster.advance(100)).rejects.toThrow(
      new RegExp(
        `Election Safety violated .* n${other} and n${leader} are both leaders of term ${term}[^]*seed 42`,
      ),
    );
    expect(cluster.tracer.events.some((e) => e.kind === "violation")).toBe(true);
  });
});
