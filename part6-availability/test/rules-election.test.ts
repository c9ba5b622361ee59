// Goal: each election rule of Figure 2 and §5.1-5.2, one test per rule, including the traps
// other implementations fall into (a second vote in a term after a same-term step-down, stale
// vote replies counted, a term going down). Method: a single node whose peers the test plays
// (node-under-test.ts), so each rule is exercised on purpose, plus whole clusters where the rule
// is about the cluster (randomized timeouts).

import { describe, expect } from "vitest";
import { Cluster, test } from "./harness.ts";
import {
  appendArgs,
  candidate,
  leader,
  nodeUnderTest,
  runUntil,
  voteArgs,
} from "./node-under-test.ts";

describe("starting and stopping", () => {
  test("a node starts once: a second start() would run a second set of timers", async () => {
    const t = nodeUnderTest();
    expect(() => t.node.start()).toThrow(/start\(\) may be called once/);
    t.node.stop();
    expect(() => t.node.start()).toThrow(/start\(\) may be called once/);
    expect(t.clock.pendingTimers()).toBe(0);
  });
});

describe("§5.1: terms", () => {
  test("a leader that sees a higher term in a request becomes a follower of that term", async () => {
    const t = await leader();
    const reply = t.node.handleRequestVote(voteArgs(5, 2));
    expect(reply).toEqual({ term: 5, voteGranted: true });
    expect(t.node.getState()).toMatchObject({ role: "follower", currentTerm: 5, votedFor: 2 });
  });

  test("a leader that sees a higher term in a reply becomes a follower of that term", async () => {
    const t = await leader();
    const heartbeat = t.peers.appendRequests.shift()!;
    heartbeat.reply({ term: 3, success: false });
    await t.clock.runFor(0);
    expect(t.node.getState()).toMatchObject({ role: "follower", currentTerm: 3, votedFor: null });
  });

  test("a candidate that sees a higher term in a vote reply becomes a follower of that term", async () => {
    const t = await candidate();
    t.peers.voteRequests[0]!.reply({ term: 3, voteGranted: false });
    await t.clock.runFor(0);
    expect(t.node.getState()).toMatchObject({ role: "follower", currentTerm: 3, votedFor: null });
    // The other voter's grant, for the election of term 1, now changes nothing.
    t.peers.voteRequests[1]!.reply({ term: 1, voteGranted: true });
    await t.clock.runFor(0);
    expect(t.node.getState()).toMatchObject({ role: "follower", currentTerm: 3 });
  });

  test("a leader that steps down stops its heartbeats and runs an election timer again", async () => {
    const t = await leader();
    t.node.handleAppendEntries(appendArgs(4, 2));
    expect(t.node.getState()).toMatchObject({ role: "follower", currentTerm: 4 });
    t.peers.appendRequests.splice(0);
    await runUntil(t, () => t.node.getState().role === "candidate");
    expect(t.peers.appendRequests).toEqual([]); // no heartbeat after stepping down
    expect(t.node.getState()).toMatchObject({ role: "candidate", currentTerm: 5 });
  });

  test("a request with a lower term is refused and the term does not go down", async () => {
    const t = nodeUnderTest();
    t.node.handleAppendEntries(appendArgs(4, 1));
    expect(t.node.handleRequestVote(voteArgs(3, 2))).toEqual({
      term: 4,
      voteGranted: false,
    });
    expect(t.node.handleAppendEntries(appendArgs(2, 2))).toEqual({
      term: 4,
      success: false,
    });
    expect(t.node.getState()).toMatchObject({ currentTerm: 4, votedFor: null });
    expect(t.safety.violations).toEqual([]);
  });
});

describe("§5.2: voting (Figure 2, RequestVote receiver)", () => {
  test("rule 2: one vote per term, first come first served; asking again gets the same answer", () => {
    const t = nodeUnderTest();
    expect(t.node.handleRequestVote(voteArgs(1, 1)).voteGranted).toBe(true);
    expect(t.node.handleRequestVote(voteArgs(1, 2)).voteGranted).toBe(false);
    // A retried or duplicated request from the same candidate is granted again: same vote.
    expect(t.node.handleRequestVote(voteArgs(1, 1)).voteGranted).toBe(true);
    // A new term is a new vote.
    expect(t.node.handleRequestVote(voteArgs(2, 2)).voteGranted).toBe(true);
    expect(t.safety.violations).toEqual([]);
  });

  test("a candidate has voted for itself and refuses other candidates of its term", async () => {
    const t = await candidate();
    expect(t.node.handleRequestVote(voteArgs(1, 2))).toEqual({
      term: 1,
      voteGranted: false,
    });
  });

  test("a candidate that steps down on AppendEntries of its own term keeps its vote", async () => {
    const t = await candidate();
    expect(t.node.handleAppendEntries(appendArgs(1, 1))).toEqual({
      term: 1,
      success: true,
    });
    expect(t.node.getState()).toMatchObject({ role: "follower", currentTerm: 1, votedFor: 0 });
    // The trap: clearing votedFor on this same-term step-down would allow a second vote here.
    expect(t.node.handleRequestVote(voteArgs(1, 2)).voteGranted).toBe(false);
    expect(t.safety.violations).toEqual([]);
  });

  test("granting a vote restarts the election timer; refusing one does not", async () => {
    const t = nodeUnderTest();
    await t.clock.runFor(10);
    t.node.handleRequestVote(voteArgs(1, 1)); // granted at t=10: timer restarts
    await t.clock.runFor(40);
    t.node.handleRequestVote(voteArgs(1, 2)); // refused at t=50: timer keeps running
    await t.clock.runFor(1000);
    const timeout = t.tracer.events.find((e) => e.kind === "election.timeout")!;
    expect(timeout.t).toBe(10 + Number(timeout.details.timeoutMs));
  });
});

describe("heartbeats (Figure 2, AppendEntries receiver and Rules for Servers, Followers)", () => {
  /** The time of the node's first election timeout, and the timeout it drew. */
  async function firstTimeout(t: ReturnType<typeof nodeUnderTest>) {
    await t.clock.runFor(2000);
    const e = t.tracer.events.find((x) => x.kind === "election.timeout");
    if (e?.kind !== "election.timeout") throw new Error("no election timeout");
    return { at: e.t, timeoutMs: e.details.timeoutMs };
  }

  test("AppendEntries from the current leader restarts the election timer", async () => {
    const t = nodeUnderTest();
    await t.clock.runFor(100);
    expect(t.node.handleAppendEntries(appendArgs(1, 1)).success).toBe(true);
    const { at, timeoutMs } = await firstTimeout(t);
    expect(at).toBe(100 + timeoutMs);
  });

  test("a stale AppendEntries (lower term) is refused and does not restart the timer", async () => {
    const t = nodeUnderTest();
    t.node.handleAppendEntries(appendArgs(4, 1)); // at t=0: the timer restarts here
    await t.clock.runFor(100);
    expect(t.node.handleAppendEntries(appendArgs(2, 2))).toEqual({
      term: 4,
      success: false,
    });
    const { at, timeoutMs } = await firstTimeout(t);
    expect(at).toBe(timeoutMs); // from t=0, not from the stale request at t=100
  });

  test("a leader refuses AppendEntries of its own term and stays leader", async () => {
    const t = await leader();
    expect(t.node.handleAppendEntries(appendArgs(1, 2))).toEqual({
      term: 1,
      success: false,
    });
    expect(t.node.getState()).toMatchObject({ role: "leader", currentTerm: 1 });
  });
});

describe("§5.2: counting votes", () => {
  test("a refused vote is not counted", async () => {
    const t = await candidate();
    for (const call of t.peers.voteRequests) call.reply({ term: 1, voteGranted: false });
    await t.clock.runFor(0);
    expect(t.node.getState().role).toBe("candidate");
  });

  test("votes that arrive after a candidate stepped down in its own term are not counted", async () => {
    const t = await candidate();
    // Another node won term 1 first; this candidate hears from it and steps down.
    t.node.handleAppendEntries(appendArgs(1, 2));
    for (const call of t.peers.voteRequests) call.reply({ term: 1, voteGranted: true });
    await t.clock.runFor(0);
    expect(t.node.getState()).toMatchObject({ role: "follower", currentTerm: 1 });
    expect(t.tracer.events.filter((e) => e.kind === "reply.stale")).toHaveLength(2);
    expect(t.safety.violations).toEqual([]);
  });

  test("a leader ignores the votes that come after it won", async () => {
    const t = await candidate(4);
    const [a, b, c, d] = t.peers.voteRequests;
    for (const call of [a!, b!]) call.reply({ term: 1, voteGranted: true });
    await t.clock.runFor(0);
    expect(t.node.getState().role).toBe("leader");
    for (const call of [c!, d!]) call.reply({ term: 1, voteGranted: true });
    await t.clock.runFor(0);
    expect(t.tracer.events.filter((e) => e.kind === "reply.stale")).toHaveLength(2);
    expect(
      t.tracer.events.filter((e) => e.kind === "role" && e.details.to === "leader"),
    ).toHaveLength(1);
  });

  for (const size of [2, 4, 6]) {
    test(`in a cluster of ${size}, half the votes are not a majority`, async () => {
      const t = await candidate(size - 1);
      const half = size / 2 - 1; // granted by others; with its own vote, exactly half
      for (const call of t.peers.voteRequests.slice(0, half)) {
        call.reply({ term: 1, voteGranted: true });
      }
      await t.clock.runFor(0);
      expect(t.node.getState().role).toBe("candidate");
      t.peers.voteRequests[half]!.reply({ term: 1, voteGranted: true });
      await t.clock.runFor(0);
      expect(t.node.getState().role).toBe("leader");
    });
  }
});

describe("§5.2: elections (Figure 2, Rules for Servers, Candidates)", () => {
  test("an election that times out starts another, in a higher term, asking everyone again", async () => {
    const t = await candidate();
    const first = t.peers.voteRequests.splice(0);
    await runUntil(t, () => t.node.getState().currentTerm === 2);
    expect(t.node.getState()).toMatchObject({ role: "candidate", currentTerm: 2, votedFor: 0 });
    expect(first.map((c) => c.args.term)).toEqual([1, 1]);
    expect(t.peers.voteRequests.map((c) => [c.to, c.args.term])).toEqual([
      [1, 2],
      [2, 2],
    ]);
  });

  test("a candidate asks every peer, with its new term", async () => {
    const t = await candidate(4);
    expect(t.peers.voteRequests.map((c) => c.to)).toEqual([1, 2, 3, 4]);
    expect(t.peers.voteRequests.every((c) => c.args.term === 1 && c.args.candidateId === 0)).toBe(
      true,
    );
  });

  test("votes from a majority make a leader, which sends heartbeats at once", async () => {
    const t = await candidate(4); // 5 nodes: 3 votes needed, its own included
    t.peers.voteRequests[0]!.reply({ term: 1, voteGranted: true });
    await t.clock.runFor(0);
    expect(t.node.getState().role).toBe("candidate");
    t.peers.voteRequests[1]!.reply({ term: 1, voteGranted: true });
    await t.clock.runFor(0);
    expect(t.node.getState().role).toBe("leader");
    expect(t.peers.appendRequests.map((c) => c.to)).toEqual([1, 2, 3, 4]);
  });

  test("with every message delivered twice, a minority still cannot elect a leader", async () => {
    const cluster = Cluster.start(5, { network: { duplicateRate: 1 } });
    cluster.partition([2, 3, 4], [0, 1]);
    await cluster.advance(2000);
    const minorityLeaders = cluster.tracer.events.filter(
      (e) => (e.node === 0 || e.node === 1) && e.kind === "role" && e.details.to === "leader",
    );
    expect(minorityLeaders).toEqual([]);
    expect(cluster.tracer.events.some((e) => e.kind === "deliver" && e.details.duplicate)).toBe(
      true,
    );
    await cluster.checkSingleLeader(); // the majority side elects as usual
  });

  test("stale vote replies from an earlier election are not counted", async () => {
    const t = await candidate();
    const firstElection = t.peers.voteRequests.splice(0);
    // No answers: the election times out and a new one starts.
    await runUntil(t, () => t.node.getState().currentTerm === 2);
    expect(t.node.getState()).toMatchObject({ role: "candidate", currentTerm: 2 });
    for (const call of firstElection) call.reply({ term: 1, voteGranted: true });
    await t.clock.runFor(0);
    expect(t.node.getState().role).toBe("candidate");
    expect(t.tracer.events.filter((e) => e.kind === "reply.stale")).toHaveLength(2);
  });

  test("a leader sends heartbeats every heartbeat interval", async () => {
    const t = await leader();
    const start = t.clock.now();
    await t.clock.runFor(200);
    const sentAt = t.tracer.events.filter((e) => e.kind === "election.timeout").length;
    expect(sentAt).toBe(1); // a leader has no election timer: only the one that made it candidate
    // One round on election, then one at +50, +100, +150 and +200 ms, to both peers.
    expect(t.peers.appendRequests.length).toBe(2 * 5);
    expect(t.peers.appendRequests.every((c) => c.args.term === 1 && c.args.leaderId === 0)).toBe(
      true,
    );
    expect(start).toBeGreaterThan(0);
  });

  test("a cluster of one elects itself", async () => {
    const cluster = Cluster.start(1);
    const { leader, term } = await cluster.checkSingleLeader();
    expect([leader, term]).toEqual([0, 1]);
  });
});

describe("§5.2: randomized election timeouts", () => {
  test("identical timeouts split the vote forever; randomized ones elect a leader", async () => {
    // Without PreVote: the pre-votes' round trip of varying latency would set the candidates apart.
    const identical = Cluster.start(5, {
      raft: { electionTimeoutMinMs: 150, electionTimeoutMaxMs: 150, preVote: false },
    });
    await identical.advance(3000);
    expect(identical.leaders()).toEqual([]);
    expect(identical.state(0).currentTerm).toBeGreaterThanOrEqual(19); // one failed election per timeout
    await identical.shutdown();

    const randomized = Cluster.start(5);
    await randomized.checkSingleLeader(1000);
  });
});
