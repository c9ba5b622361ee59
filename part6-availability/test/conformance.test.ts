// Goal: show that each check of src/sim/conformance.ts can fail, so a chaos run that passes
// means the rules held. Method: hand-made traces, each breaking one rule of Figure 2 the way a
// buggy node would, and one that keeps them all.

import { describe, expect, test } from "vitest";
import type { NodeId, Role } from "../src/raft.ts";
import { ConformanceChecker } from "../src/sim/conformance.ts";
import { SafetyChecker } from "../src/sim/safety.ts";
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
    payload: { term, candidateId: 0, lastLogIndex: 0, lastLogTerm: 0 },
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
/** `node` saved term, vote and a log of `length` entries: what it may send with (part 3). */
const durable = (t: number, node: NodeId, term: number, votedFor: NodeId | null, length = 0) =>
  event(t, node, term, "follower", "persist", {
    currentTerm: term,
    votedFor,
    hardState: true,
    lastLogIndex: length,
  });

/** The conformance violations of `events` in a cluster of `size`. */
function check(events: TraceEvent[], size = 3) {
  const logs = new SafetyChecker();
  const checker = new ConformanceChecker(logs, size);
  for (const e of events) {
    logs.observe(e);
    checker.observe(e);
  }
  return checker.violations.map((v) => [v.invariant, v.event.t]);
}

describe("conformance checks (Figure 2 rules seen in the trace)", () => {
  test("accept a run that keeps the rules", () => {
    const legal = [
      durable(0, 0, 2, null),
      voteAsked(2),
      event(1, 1, 1, "follower", "deliver", {
        ...common,
        msg: 1,
        from: 0,
        rpc: "RequestVote",
        type: "request",
        payload: { term: 2, candidateId: 0, lastLogIndex: 0, lastLogTerm: 0 },
      }),
      event(1, 1, 2, "follower", "term", { from: 1, to: 2, reason: "" }),
      voted(1, 1, 0, 2),
      durable(1, 1, 2, 0),
      voteAnswered(1, 2, true),
      timeout(201, 1, 2, 200), // exactly 200 ms after the granted vote restarted it
    ];
    expect(check(legal)).toEqual([]);
  });

  test("report a vote granted for a request of an earlier term (RequestVote receiver rule 1)", () => {
    const sends = [durable(0, 0, 2, null), voteAsked(2), durable(1, 1, 3, null)];
    expect(check([...sends, voteAnswered(1, 3, true)])).toEqual([["Reply terms", 1]]);
  });

  test("report a reply in a term lower than the request's (a higher term not adopted)", () => {
    const sends = [durable(0, 0, 5, null), voteAsked(5), durable(1, 1, 3, null)];
    expect(check([...sends, voteAnswered(1, 3, false)])).toEqual([["Reply terms", 1]]);
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

  // ---- Part 2: the log ----

  const appended = (
    t: number,
    node: NodeId,
    term: number,
    role: Role,
    index: number,
    terms: number[],
  ) =>
    event(t, node, term, role, "log.append", {
      index,
      entries: terms.map((entryTerm) => ({ term: entryTerm, command: `${entryTerm}` })),
    });
  const committed = (t: number, node: NodeId, term: number, role: Role, from: number, to: number) =>
    event(t, node, term, role, "commit", { from, to, reason: "" });
  /** n0, leader of `term`, sends n1 entries [from..from+count-1] (message `msg`). */
  const appendSent = (t: number, msg: number, term: number, from: number, count: number) =>
    event(t, 0, term, "leader", "send", {
      ...common,
      msg,
      to: 1,
      rpc: "AppendEntries",
      type: "request",
      payload: {
        term,
        leaderId: 0,
        prevLogIndex: from - 1,
        prevLogTerm: 1,
        entries: Array.from({ length: count }, () => ({ term, command: "x" })),
        leaderCommit: 0,
      },
    });
  /** n0, leader of `term`, hears n1 accept (or refuse) its request `request`. */
  const appendAnswered = (t: number, msg: number, request: number, term: number, success = true) =>
    event(t, 0, term, "leader", "deliver", {
      ...common,
      msg,
      from: 1,
      rpc: "AppendEntries",
      type: "reply",
      request,
      payload: { term, success },
    });

  /** n0, leader of `term`, holds one entry of term 2, n1 accepts it, and n0 commits it. */
  const oneAcceptanceCommits = (term: number) => [
    appended(1, 0, term, "leader", 1, [2]),
    durable(1, 0, term, null, 1),
    appendSent(1, 7, term, 1, 1),
    appendAnswered(3, 8, 7, term),
    committed(3, 0, term, "leader", 0, 1),
  ];

  test("accept a leader that commits its own term's entry once a majority accepted it", () => {
    expect(check(oneAcceptanceCommits(2))).toEqual([]);
  });

  test("report a leader that commits an earlier term's entry by counting (Figure 8)", () => {
    expect(check(oneAcceptanceCommits(3))).toEqual([["Commitment by a leader", 3]]);
  });

  test("report a leader that commits without a majority of this term's acceptances", () => {
    // n1 accepted [1] in term 2; n0 leads term 3 now and has heard nothing from it yet.
    const events = [
      appended(1, 0, 2, "leader", 1, [2]),
      durable(1, 0, 2, null, 1),
      appendSent(1, 7, 2, 1, 1),
      appendAnswered(3, 8, 7, 2),
      appended(9, 0, 3, "leader", 2, [3]),
      committed(9, 0, 3, "leader", 0, 2),
    ];
    expect(check(events)).toEqual([["Commitment by a leader", 9]]);
  });

  test("report a follower that commits past what the request it handles verified (rule 5)", () => {
    const request = event(5, 1, 2, "follower", "deliver", {
      ...common,
      msg: 3,
      from: 0,
      rpc: "AppendEntries",
      type: "request",
      payload: {
        term: 2,
        leaderId: 0,
        prevLogIndex: 1,
        prevLogTerm: 2,
        entries: [],
        leaderCommit: 3,
      },
    });
    const events = [
      appended(1, 1, 2, "follower", 1, [1, 1, 1]),
      request,
      committed(5, 1, 2, "follower", 0, 3),
    ];
    expect(check(events)).toEqual([["Commitment by a follower", 5]]);
  });

  test("report a leader whose matchIndex or nextIndex moves in ways Figure 2 does not allow", () => {
    const progress = (t: number, nextIndex: number, matchIndex: number) =>
      event(t, 0, 2, "leader", "progress", { peer: 1, nextIndex, matchIndex, reason: "" });
    const refused = (t: number, msg: number, request: number) =>
      appendAnswered(t, msg, request, 2, false);
    // n1 accepted [1]..[3] in term 2 (request 7 carried three entries after [0]).
    const accepted = [
      durable(1, 0, 2, null),
      appendSent(1, 7, 2, 1, 3),
      appendAnswered(2, 8, 7, 2),
      progress(2, 4, 3),
    ];
    expect(check(accepted)).toEqual([]);
    expect(check([...accepted, progress(5, 4, 2)])).toEqual([["Leader progress", 5]]); // went down
    expect(check([...accepted, progress(5, 5, 4)])).toEqual([["Leader progress", 5]]); // not accepted
    expect(check([...accepted, progress(5, 3, 3)])).toEqual([["Leader progress", 5]]); // next ≤ match
    // A probe at prevLogIndex 5 refused: nextIndex may back up to 5, or further with the
    // follower's conflict hint (part 3), but a second refusal of that same probe, late, moves
    // nothing: the current probe is at 4 by then.
    const probe = [appendSent(3, 9, 2, 6, 0), progress(3, 6, 3), refused(4, 10, 9)];
    expect(check([...accepted, ...probe, progress(4, 5, 3)])).toEqual([]);
    expect(check([...accepted, ...probe, progress(4, 4, 3)])).toEqual([]);
    const again = [progress(4, 5, 3), refused(5, 11, 9), progress(5, 4, 3)];
    expect(check([...accepted, ...probe, ...again])).toEqual([["Leader progress", 5]]);
  });
});
