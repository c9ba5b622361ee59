// Goal: each rule part 6 adds, one test per rule and condition, with the option on and (where it
// changes behaviour) off: PreVote (§9.6), CheckQuorum and the vote lease (§6.2, §4.2.3),
// leadership transfer (§3.10), ReadIndex (§6.4), the leader's parallel write (§10.2.1), and the
// simulation's clock drift. Method: a single node whose peers the test plays
// (node-under-test.ts), each option turned on explicitly (the node under test runs Figure 2's
// elections unless told otherwise); whole clusters where the rule is about the cluster.

import { describe, expect } from "vitest";
import { DriftingClock, VirtualClock } from "../src/clock.ts";
import type { RaftConfig, ReadResult } from "../src/raft.ts";
import { MemoryStorage } from "../src/storage.ts";
import { Cluster, test } from "./harness.ts";
import { appendArgs, nodeUnderTest, runUntil, voteArgs } from "./node-under-test.ts";

type Tested = ReturnType<typeof nodeUnderTest>;

/** Node 0 of 3 with `config`, run until its election timer has fired once. */
async function timedOut(config: Partial<RaftConfig>): Promise<Tested> {
  const t = nodeUnderTest(2, config);
  await runUntil(t, () => t.tracer.events.some((e) => e.kind === "election.timeout"));
  return t;
}

/** Node 0 elected leader of term 1, by pre-votes (if on) and votes granted by its peers. */
async function elected(config: Partial<RaftConfig> = {}): Promise<Tested> {
  const t = await timedOut(config);
  for (const call of t.peers.preVoteRequests.splice(0)) call.reply({ term: 1, voteGranted: true });
  await t.clock.runFor(0);
  for (const call of t.peers.voteRequests.splice(0)) call.reply({ term: 1, voteGranted: true });
  await t.clock.runFor(0);
  expect(t.node.getState()).toMatchObject({ role: "leader", currentTerm: 1 });
  return t;
}

/** Answers every AppendEntries the node has sent so far with success in term 1. */
async function acceptAll(t: Tested): Promise<void> {
  for (const call of t.peers.appendRequests.splice(0)) call.reply({ term: 1, success: true });
  await t.clock.runFor(0);
}

/** A follower of n1 in term 1 (it heard a heartbeat just now). */
function follower(config: Partial<RaftConfig>): Tested {
  const t = nodeUnderTest(2, config);
  expect(t.node.handleAppendEntries(appendArgs(1, 1)).success).toBe(true);
  return t;
}

describe("§9.6: PreVote", () => {
  test("a timeout asks for pre-votes for the next term, and changes no term, vote or storage", async () => {
    const t = await timedOut({ preVote: true });
    expect(t.node.getState()).toMatchObject({ role: "follower", currentTerm: 0, votedFor: null });
    expect(t.peers.preVoteRequests.map((c) => [c.to, c.args.term])).toEqual(
      [[1, 2].map((to) => [to, 1])][0],
    );
    expect(t.peers.voteRequests).toEqual([]);
    expect(t.storage.writes).toEqual([]);
  });

  test("without PreVote, a timeout makes a candidate at once (Figure 2)", async () => {
    const t = await timedOut({ preVote: false });
    expect(t.node.getState()).toMatchObject({ role: "candidate", currentTerm: 1 });
    expect(t.peers.preVoteRequests).toEqual([]);
  });

  test("a majority of pre-votes starts the election: term + 1, its own vote, RequestVote", async () => {
    const t = await timedOut({ preVote: true });
    t.peers.preVoteRequests[0]!.reply({ term: 1, voteGranted: true });
    await t.clock.runFor(0);
    expect(t.node.getState()).toMatchObject({ role: "candidate", currentTerm: 1, votedFor: 0 });
    expect(t.peers.voteRequests.map((c) => c.args.term)).toEqual([1, 1]);
  });

  test("refusals keep it a follower; a refusal from a later term is adopted", async () => {
    const t = await timedOut({ preVote: true });
    t.peers.preVoteRequests[0]!.reply({ term: 0, voteGranted: false });
    await t.clock.runFor(0);
    expect(t.node.getState()).toMatchObject({ role: "follower", currentTerm: 0 });
    t.peers.preVoteRequests[1]!.reply({ term: 4, voteGranted: false });
    await t.clock.runFor(0);
    expect(t.node.getState()).toMatchObject({ role: "follower", currentTerm: 4, votedFor: null });
  });

  test("a grant that comes after the pre-vote is over (a leader was heard) is not counted", async () => {
    const t = await timedOut({ preVote: true });
    t.node.handleAppendEntries(appendArgs(0, 1));
    t.peers.preVoteRequests[0]!.reply({ term: 1, voteGranted: true });
    await t.clock.runFor(0);
    expect(t.node.getState()).toMatchObject({ role: "follower", currentTerm: 0 });
    expect(t.tracer.events.some((e) => e.kind === "reply.stale" && e.details.rpc === "PreVote"));
  });

  test("a candidate whose election times out asks for pre-votes again, as a follower", async () => {
    const t = await elected({ preVote: true });
    t.node.handleAppendEntries(appendArgs(2, 1)); // deposed: now a follower of term 2
    await runUntil(t, () => t.peers.preVoteRequests.length > 0);
    for (const call of t.peers.preVoteRequests.splice(0))
      call.reply({ term: 3, voteGranted: true });
    await t.clock.runFor(0);
    expect(t.node.getState()).toMatchObject({ role: "candidate", currentTerm: 3 });
    await runUntil(t, () => t.peers.preVoteRequests.length > 0);
    expect(t.node.getState()).toMatchObject({ role: "follower", currentTerm: 3, votedFor: 0 });
    expect(t.peers.preVoteRequests[0]!.args.term).toBe(4);
  });

  test("a voter grants a pre-vote for a later term to an up-to-date log, and changes nothing", async () => {
    const t = nodeUnderTest(2, { preVote: true });
    const before = t.tracer.events.length;
    expect(t.node.handlePreVote(voteArgs(1, 2))).toEqual({ term: 1, voteGranted: true });
    expect(t.node.getState()).toMatchObject({ currentTerm: 0, votedFor: null });
    expect(t.storage.writes).toEqual([]);
    // Granting a pre-vote does not restart the election timer (no vote was given).
    expect(t.tracer.events.slice(before).map((e) => e.kind)).toEqual(["prevote"]);
  });

  test("a voter refuses a pre-vote for a term it has reached, and a log behind its own", async () => {
    const t = follower({ preVote: true });
    t.node.handleAppendEntries(appendArgs(1, 1, { entries: [{ term: 1, command: "x" }] }));
    expect(t.node.handlePreVote(voteArgs(1, 2, 1, 1))).toEqual({ term: 1, voteGranted: false });
    expect(t.node.handlePreVote(voteArgs(2, 2, 0, 0))).toEqual({ term: 1, voteGranted: false });
    expect(t.node.handlePreVote(voteArgs(2, 2, 1, 1))).toEqual({ term: 2, voteGranted: true });
    expect(t.node.getState().currentTerm).toBe(1);
  });
});

describe("§6.2 and §4.2.3: CheckQuorum and the vote lease", () => {
  test("a leader no majority answered in a minimum election timeout steps down, in its term", async () => {
    const t = await elected({ checkQuorum: true });
    await t.clock.runFor(149);
    expect(t.node.getState().role).toBe("leader");
    await t.clock.runFor(1);
    expect(t.node.getState()).toMatchObject({ role: "follower", currentTerm: 1, leaderId: null });
    const reason = t.tracer.events.findLast((e) => e.kind === "role")!.details;
    expect(reason).toMatchObject({ to: "follower", reason: expect.stringMatching(/CheckQuorum/) });
  });

  test("a leader that one follower of two answers in each interval leads on", async () => {
    const t = await elected({ checkQuorum: true });
    for (let i = 0; i < 10; i++) {
      for (const call of t.peers.appendRequests.splice(0)) {
        if (call.to === 1) call.reply({ term: 1, success: true });
      }
      await t.clock.runFor(50);
    }
    expect(t.node.getState().role).toBe("leader");
  });

  test("without CheckQuorum a leader nobody answers leads on (Figure 2)", async () => {
    const t = await elected({ checkQuorum: false });
    await t.clock.runFor(1000);
    expect(t.node.getState().role).toBe("leader");
  });

  test("a follower that heard from its leader within the minimum timeout ignores a later term's RequestVote", async () => {
    // With PreVote its own timer, if it runs out meanwhile, changes neither its term nor its vote.
    const t = follower({ checkQuorum: true, preVote: true });
    await t.clock.runFor(149);
    expect(t.node.handleRequestVote(voteArgs(2, 2))).toEqual({ term: 1, voteGranted: false });
    expect(t.node.getState()).toMatchObject({ currentTerm: 1, votedFor: null });
    expect(t.tracer.events.at(-1)).toMatchObject({ kind: "lease", details: { heardMsAgo: 149 } });
    expect(t.node.handlePreVote(voteArgs(2, 2))).toEqual({ term: 1, voteGranted: false });
    await t.clock.runFor(1);
    expect(t.node.handleRequestVote(voteArgs(2, 2))).toEqual({ term: 2, voteGranted: true });
  });

  test("a leader ignores a later term's RequestVote while it leads", async () => {
    const t = await elected({ checkQuorum: true });
    expect(t.node.handleRequestVote(voteArgs(2, 2))).toEqual({ term: 1, voteGranted: false });
    expect(t.node.getState()).toMatchObject({ role: "leader", currentTerm: 1 });
  });

  test("the RequestVote of a leadership transfer's target is not ignored", async () => {
    const t = follower({ checkQuorum: true });
    const args = { ...voteArgs(2, 2), leadershipTransfer: true as const };
    expect(t.node.handleRequestVote(args)).toEqual({ term: 2, voteGranted: true });
  });

  test("without CheckQuorum there is no lease: the follower votes (Figure 2)", async () => {
    const t = follower({ checkQuorum: false });
    expect(t.node.handleRequestVote(voteArgs(2, 2))).toEqual({ term: 2, voteGranted: true });
  });
});

describe("§3.10: leadership transfer", () => {
  test("to a follower that holds every entry: TimeoutNow at once, no commands meanwhile", async () => {
    const t = await elected();
    await acceptAll(t);
    expect(t.node.transferLeadership(2)).toEqual({ started: true, target: 2 });
    await t.clock.runFor(0);
    expect(t.peers.timeoutNowRequests.map((c) => [c.to, c.args])).toEqual([
      [2, { term: 1, leaderId: 0 }],
    ]);
    expect(t.node.submit("x")).toEqual({ isLeader: false });
    // The target answers from the term it now campaigns in: the leader steps down.
    t.peers.timeoutNowRequests[0]!.reply({ term: 2 });
    await t.clock.runFor(0);
    expect(t.node.getState()).toMatchObject({ role: "follower", currentTerm: 2 });
  });

  test("to a follower behind: its log is brought up to date first", async () => {
    const t = await elected();
    await acceptAll(t);
    t.node.submit("x");
    await t.clock.runFor(0);
    t.node.transferLeadership(1);
    await t.clock.runFor(0);
    expect(t.peers.timeoutNowRequests).toEqual([]);
    await acceptAll(t);
    expect(t.peers.timeoutNowRequests.map((c) => c.to)).toEqual([1]);
  });

  test("by default, to the follower furthest along", async () => {
    const t = await elected();
    t.node.submit("x");
    await t.clock.runFor(0);
    for (const call of t.peers.appendRequests.splice(0)) {
      call.reply({ term: 1, success: call.to === 2 || call.args.entries.length === 0 });
    }
    await t.clock.runFor(0);
    expect(t.node.transferLeadership()).toEqual({ started: true, target: 2 });
  });

  test("a transfer not done within an election timeout is given up: commands are taken again", async () => {
    const t = await elected();
    t.node.transferLeadership(1);
    await t.clock.runFor(150);
    expect(t.tracer.events.findLast((e) => e.kind === "transfer.end")?.details).toMatchObject({
      target: 1,
      reason: expect.stringMatching(/given up/),
    });
    expect(t.node.submit("x")).toMatchObject({ isLeader: true });
  });

  test("refused: by a follower, to itself, to a stranger, and with the option off", async () => {
    expect(nodeUnderTest().node.transferLeadership(1)).toMatchObject({ started: false });
    const t = await elected();
    expect(t.node.transferLeadership(0)).toMatchObject({ started: false });
    expect(t.node.transferLeadership(7)).toMatchObject({ started: false });
    const off = await elected({ leadershipTransfer: false });
    expect(off.node.transferLeadership(1)).toEqual({
      started: false,
      reason: "leadershipTransfer is off",
    });
  });

  test("the target campaigns at once, without a pre-vote, asking voters to disregard their lease", async () => {
    const t = follower({ preVote: true, checkQuorum: true });
    expect(t.node.handleTimeoutNow({ term: 1, leaderId: 1 })).toEqual({ term: 2 });
    expect(t.node.getState()).toMatchObject({ role: "candidate", currentTerm: 2, votedFor: 0 });
    await t.clock.runFor(0);
    expect(t.peers.preVoteRequests).toEqual([]);
    expect(t.peers.voteRequests.map((c) => c.args.leadershipTransfer)).toEqual([true, true]);
  });

  test("a TimeoutNow from an earlier term is refused", async () => {
    const t = follower({});
    t.node.handleAppendEntries(appendArgs(3, 2));
    expect(t.node.handleTimeoutNow({ term: 1, leaderId: 1 })).toEqual({ term: 3 });
    expect(t.node.getState()).toMatchObject({ role: "follower", currentTerm: 3 });
  });
});

describe("§6.4: ReadIndex", () => {
  /** Starts a read on the node; its result, once there is one. */
  function read(t: Tested): () => ReadResult | undefined {
    let result: ReadResult | undefined;
    void t.node.readIndex().then((r) => {
      result = r;
    });
    return () => result;
  }

  test("a leader waits for an entry of its term to commit, then for a heartbeat round a majority answers", async () => {
    const t = await elected();
    await acceptAll(t);
    const result = read(t);
    await t.clock.runFor(0);
    expect(result()).toBeUndefined(); // nothing of term 1 is committed yet
    t.node.submit("x");
    await t.clock.runFor(0);
    await acceptAll(t); // "x" commits; the read's round of heartbeats leaves
    expect(result()).toBeUndefined();
    const round = t.peers.appendRequests.splice(0);
    expect(round.map((c) => c.args.entries.length)).toEqual([0, 0]);
    round[0]!.reply({ term: 1, success: true });
    await t.clock.runFor(0);
    expect(result()).toEqual({ ok: true, readIndex: 1 });
  });

  test("answers to heartbeats sent before the read arrived confirm nothing", async () => {
    const t = await elected();
    t.node.submit("x");
    await t.clock.runFor(0);
    await acceptAll(t);
    await t.clock.runFor(50); // a periodic heartbeat goes out
    const before = t.peers.appendRequests.splice(0);
    const result = read(t);
    await t.clock.runFor(0);
    for (const call of before) call.reply({ term: 1, success: true });
    await t.clock.runFor(0);
    expect(result()).toBeUndefined();
    await acceptAll(t);
    expect(result()).toEqual({ ok: true, readIndex: 1 });
  });

  test("a leader that steps down fails its reads", async () => {
    const t = await elected();
    const result = read(t);
    await t.clock.runFor(0);
    t.node.handleAppendEntries(appendArgs(2, 1));
    await t.clock.runFor(0);
    expect(result()).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no longer leader/),
    });
  });

  test("a follower asks its leader, then applies through the read index itself", async () => {
    const t = follower({});
    const result = read(t);
    await t.clock.runFor(0);
    const [ask] = t.peers.readIndexRequests;
    expect([ask!.to, ask!.args]).toEqual([1, { term: 1, followerId: 0 }]);
    ask!.reply({ term: 1, success: true, readIndex: 1 });
    await t.clock.runFor(0);
    expect(result()).toBeUndefined(); // it has not applied [1] yet
    const entries = [{ term: 1, command: "x" }];
    t.node.handleAppendEntries(appendArgs(1, 1, { entries, leaderCommit: 1 }));
    await t.clock.runFor(0);
    expect(result()).toEqual({ ok: true, readIndex: 1 });
  });

  test("refused: a follower that knows no leader, and with the option off", async () => {
    const t = nodeUnderTest();
    const none = read(t);
    await t.clock.runFor(0);
    expect(none()).toMatchObject({ ok: false });
    const off = read(await elected({ readIndex: false }));
    await Promise.resolve();
    expect(off()).toEqual({ ok: false, reason: "readIndex is off", leaderId: 0 });
  });

  test("a deposed leader that still believes it leads serves no stale read", async () => {
    // Without CheckQuorum the cut-off leader leads on in its term; the others elect another and
    // commit "y". A read at the old leader would miss "y" (the Read index check would fail it).
    const cluster = Cluster.start(3, { raft: { noopOnElection: true, checkQuorum: false } });
    await cluster.one("x", 3, true);
    const { leader } = await cluster.checkSettled();
    cluster.isolate(leader);
    await cluster.one("y", 2, true);
    expect(cluster.state(leader).role).toBe("leader");
    expect(await cluster.read(leader)).toMatchObject({ ok: false });
  });

  test("a cluster reads on the leader and on a follower; a cut-off leader serves no read", async () => {
    const cluster = Cluster.start(3, { raft: { noopOnElection: true } });
    await cluster.one("x", 3, true);
    const { leader } = await cluster.checkSettled();
    expect(await cluster.read(leader)).toEqual({ ok: true, readIndex: 2 });
    expect(await cluster.read((leader + 1) % 3)).toEqual({ ok: true, readIndex: 2 });
    cluster.isolate(leader);
    expect(await cluster.read(leader)).toMatchObject({ ok: false });
  });
});

describe("§10.2.1: the leader writes its log in parallel with replication", () => {
  test("its entries leave before its write is durable; it counts itself only once they are", async () => {
    const cluster = Cluster.start(3, { diskWriteMs: 20 });
    const { leader } = await cluster.checkSettled();
    // One follower away: the other's copy and the leader's own make the majority.
    cluster.isolate((leader + 1) % 3);
    cluster.submitToServer(leader, "x");
    const submitted = cluster.clock.now();
    await cluster.checkCommitted("x");
    const events = cluster.tracer.events.filter((e) => e.t >= submitted && e.node === leader);
    const sent = events.find((e) => e.kind === "send" && e.details.rpc === "AppendEntries");
    const saved = events.find((e) => e.kind === "persist")!;
    const committed = events.find((e) => e.kind === "commit")!;
    expect(sent!.t).toBe(submitted);
    expect(saved).toMatchObject({ t: submitted + 20, details: { background: true } });
    // The follower's answer arrives within 10 ms: no majority until the leader's own write is done.
    expect(committed.t).toBe(saved.t);
  });

  test("with four followers answering, an entry commits before the leader's own write is done", async () => {
    const cluster = Cluster.start(5, { diskWriteMs: 50 });
    const { leader } = await cluster.checkSettled();
    cluster.submitToServer(leader, "x");
    const submitted = cluster.clock.now();
    await cluster.checkCommitted("x");
    const mine = cluster.tracer.events.filter((e) => e.t >= submitted && e.node === leader);
    const committed = mine.find((e) => e.kind === "commit")!;
    expect(committed.t).toBeLessThan(submitted + 50);
  });

  test("without the option, its messages wait for the write, as in part 5", async () => {
    const cluster = Cluster.start(3, { diskWriteMs: 20, raft: { parallelLeaderWrite: false } });
    const { leader } = await cluster.checkSettled();
    cluster.submitToServer(leader, "x");
    const submitted = cluster.clock.now();
    await cluster.checkCommitted("x");
    const sent = cluster.tracer.events.find(
      (e) =>
        e.t >= submitted &&
        e.node === leader &&
        e.kind === "send" &&
        e.details.rpc === "AppendEntries" &&
        e.details.type === "request" &&
        e.details.payload.entries.length > 0,
    )!;
    expect(sent.t).toBe(submitted + 20);
  });

  test("a leader that crashes with its write in flight comes back without those entries", async () => {
    const cluster = Cluster.start(3, { diskWriteMs: 20, raft: { noopOnElection: true } });
    const { leader } = await cluster.checkSettled();
    await cluster.advance(50); // the no-op is durable everywhere
    cluster.submitToServer(leader, "x");
    await cluster.advance(5); // the followers hold "x"; the leader's write is still on its way
    cluster.crash(leader);
    cluster.restart(leader);
    expect(
      cluster
        .node(leader)
        .getLog()
        .map((e) => e.command),
    ).toEqual([null]);
    await cluster.checkCommitted("x"); // the followers' copies are a majority: "x" survives
  });

  test("the simulated disk finishes earlier background writes before a save", async () => {
    const clock = new VirtualClock();
    const storage = new MemoryStorage({ clock, writeMs: 10 });
    const done: string[] = [];
    const entry = { term: 1, command: "a" };
    void storage.saveInBackground!({ log: { from: 1, entries: [entry] } }).then(() => {
      done.push("background");
    });
    storage.save({ hardState: { currentTerm: 2, votedFor: null } });
    await clock.runFor(0);
    expect(done).toEqual(["background"]);
    expect(storage.load()).toMatchObject({ currentTerm: 2, log: [entry] });
  });
});

describe("the simulation's clock drift", () => {
  test("a clock at rate 2 fires its timers in half the time and reads twice the elapsed time", async () => {
    const real = new VirtualClock();
    const clock = new DriftingClock(real);
    await real.runFor(100);
    clock.setRate(2);
    const fired: number[] = [];
    clock.setTimer(100, () => fired.push(real.now()));
    await real.runFor(60);
    expect(fired).toEqual([150]);
    expect(clock.now()).toBe(100 + 2 * 60);
    expect(() => clock.setRate(0)).toThrow(/positive/);
  });

  test("a fast node's election timer runs out first, and the checks hold it to its own clock", async () => {
    const cluster = Cluster.start(3);
    const { leader, term } = await cluster.checkSettled();
    const fast = (leader + 1) % 3;
    cluster.drift(fast, 3); // its timeouts of 150-300 ms take 50-100 ms
    await cluster.advance(60); // a heartbeat restarts its timer, on its new clock
    const from = cluster.tracer.events.length;
    cluster.isolate(leader);
    const next = await cluster.checkSingleLeader();
    expect(next.term).toBeGreaterThan(term);
    const first = cluster.tracer.events.slice(from).find((e) => e.kind === "election.timeout");
    expect(first?.node).toBe(fast);
  });
});
