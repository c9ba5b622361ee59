// Goal: show that each safety check can fail, so a green run means something. Method: feed the
// checker hand-made traces with a double vote, two leaders in one term and a term going down,
// and check it names each violation; then break a live cluster's trace on purpose and check that
// the harness stops the run at that event with the seed.

import { describe, expect, test } from "vitest";
import type { Role } from "../src/raft.ts";
import type { TraceEvent } from "../src/trace.ts";
import { Cluster } from "./harness.ts";
import { SafetyChecker } from "./safety.ts";

function event(
  t: number,
  node: number,
  term: number,
  role: Role,
  kind: string,
  details = {},
): TraceEvent {
  return { t, node, term, role, kind, details };
}

const becameLeader = (t: number, node: number, term: number) =>
  event(t, node, term, "leader", "role", { from: "candidate", to: "leader", reason: "won" });
const voted = (t: number, node: number, candidate: number, term: number) =>
  event(t, node, term, "follower", "vote", {
    candidate,
    candidateTerm: term,
    granted: true,
    reason: "",
  });

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
    });
    expect(check([selfVote, voted(4, 1, 0, 2)])).toEqual([["One vote per term", 4]]);
  });

  test("ignores refused votes", () => {
    const refused = event(4, 1, 2, "follower", "vote", {
      candidate: 0,
      candidateTerm: 2,
      granted: false,
    });
    expect(check([voted(1, 1, 2, 2), refused])).toEqual([]);
  });

  test("reports a term going down", () => {
    const events = [event(1, 0, 3, "follower", "term"), event(2, 0, 2, "follower", "vote")];
    expect(check(events)).toEqual([["Term monotonicity", 2]]);
  });

  test("a violation in a live cluster fails the run at that event, with the seed", async () => {
    const cluster = Cluster.start(3, { seed: 42 });
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
