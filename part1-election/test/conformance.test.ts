// Goal: show that each check of src/sim/conformance.ts can fail, so a chaos run that passes
// means the rules held. Method: hand-made traces, each breaking one rule of Figure 2 the way a
// buggy node would, and one that keeps them all.

import { describe, expect, test } from "vitest";
import type { NodeId } from "../src/raft.ts";
import { ConformanceChecker } from "../src/sim/conformance.ts";
import type { TraceEvent } from "../src/trace.ts";
import { event, voted } from "./events.ts";

const common = { heartbeat: false, bytes: 10 };
/** n0 asks n1 for its vote in `term` (message 1), and n1 answers (message 2). */
const voteAsked = (term: number) =>
  event(0, 0, term, "candidate", "send", {
    ...common,
    msg: 1,
    to: 1,
    rpc: "RequestVote",
    type: "request",
    payload: { term, candidateId: 0 },
  });
const voteAnswered = (t: number, term: number, voteGranted: boolean) =>
  event(t, 1, term, "follower", "send", {
    ...common,
    msg: 2,
    to: 0,
    rpc: "RequestVote",
    type: "reply",
    request: 1,
    payload: { term, voteGranted },
  });
const timeout = (t: number, node: NodeId, term: number, timeoutMs: number) =>
  event(t, node, term, "follower", "election.timeout", { timeoutMs });

function check(events: TraceEvent[]) {
  const checker = new ConformanceChecker();
  for (const e of events) checker.observe(e);
  return checker.violations.map((v) => [v.invariant, v.event.t]);
}

describe("conformance checks (Figure 2 rules seen in the trace)", () => {
  test("accept a run that keeps the rules", () => {
    const legal = [
      voteAsked(2),
      event(1, 1, 1, "follower", "deliver", {
        ...common,
        msg: 1,
        from: 0,
        rpc: "RequestVote",
        type: "request",
        payload: { term: 2, candidateId: 0 },
      }),
      event(1, 1, 2, "follower", "term", { from: 1, to: 2, reason: "" }),
      voted(1, 1, 0, 2),
      voteAnswered(1, 2, true),
      timeout(201, 1, 2, 200), // exactly 200 ms after the granted vote restarted it
    ];
    expect(check(legal)).toEqual([]);
  });

  test("report a vote granted for a request of an earlier term (RequestVote receiver rule 1)", () => {
    expect(check([voteAsked(2), voteAnswered(1, 3, true)])).toEqual([["Reply terms", 1]]);
  });

  test("report a reply in a term lower than the request's (a higher term not adopted)", () => {
    expect(check([voteAsked(5), voteAnswered(1, 3, false)])).toEqual([["Reply terms", 1]]);
  });

  test("report a node that goes on in its old term after being handed a higher one", () => {
    const details = {
      ...common,
      msg: 2,
      from: 1,
      rpc: "RequestVote",
      type: "reply",
      request: 1,
      payload: { term: 4, voteGranted: false },
    } as const;
    const reply = event(3, 0, 2, "candidate", "deliver", details);
    const goesOn = event(3, 0, 2, "candidate", "vote.reply", {
      from: 1,
      granted: false,
      votes: 1,
      needed: 2,
    });
    expect(check([reply, goesOn])).toEqual([["Higher terms are adopted", 3]]);
    // The same reply, arriving after its call is over, is never seen by the node: no violation.
    const late = event(3, 0, 2, "candidate", "deliver", { ...details, late: true });
    expect(check([late, goesOn])).toEqual([]);
  });

  test("report an election timer that a granted vote did not restart", () => {
    expect(check([voted(10, 1, 1, 1), voted(50, 1, 0, 2), timeout(160, 1, 2, 150)])).toEqual([
      ["Election timer", 160],
    ]);
  });

  test("report an election timer restarted by something Figure 2 does not name", () => {
    expect(check([voted(10, 1, 1, 1), timeout(250, 1, 1, 150)])).toEqual([["Election timer", 250]]);
  });
});
