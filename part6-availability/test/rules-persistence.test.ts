// Goal: each rule of Figure 2's persistent state, one test per rule: currentTerm, votedFor and
// the log are "updated on stable storage before responding to RPCs", and nothing leaves a node
// before what it depends on is durable; a restarted node comes back with what it saved and
// nothing else; a refused AppendEntries says where the logs part, so the leader catches up a
// term per round trip (§5.3); and what a client-facing service needs (§8, options off by
// default). Method: a single node whose peers the test plays (node-under-test.ts), whose storage
// records every write, plus whole clusters where the rule is about the cluster.

import { describe, expect } from "vitest";
import { Cluster, currentSeed, test } from "./harness.ts";
import {
  appendArgs,
  candidate,
  entry,
  follower,
  leader,
  leaderWithLog,
  nodeUnderTest,
  runUntil,
  voteArgs,
} from "./node-under-test.ts";

describe("persistence: nothing leaves a node before it is durable", () => {
  test("a candidate's new term and its own vote are saved, together, before a RequestVote leaves", async () => {
    const t = await candidate();
    expect(t.peers.voteRequests.map((c) => [c.durable.currentTerm, c.durable.votedFor])).toEqual([
      [1, 0],
      [1, 0],
    ]);
    // One write holds both: a crash can never keep the term without the vote.
    expect(t.storage.writes).toEqual([{ hardState: { currentTerm: 1, votedFor: 0 } }]);
  });

  test("a vote is durable before the reply that grants it", () => {
    const t = nodeUnderTest();
    expect(t.node.handleRequestVote(voteArgs(3, 2)).voteGranted).toBe(true);
    expect(t.storage.load()).toMatchObject({ currentTerm: 3, votedFor: 2 });
    expect(t.storage.writes).toEqual([{ hardState: { currentTerm: 3, votedFor: 2 } }]);
  });

  test("stepping down on a higher term seen in a reply saves the term before anything else leaves", async () => {
    const t = await leader();
    t.peers.appendRequests.shift()!.reply({ term: 7, success: false });
    await t.clock.runFor(0);
    expect(t.storage.load()).toMatchObject({ currentTerm: 7, votedFor: null });
    await runUntil(t, () => t.node.getState().role === "candidate");
    // The election it then starts asks for votes in term 8 from a durable term 8.
    expect(t.peers.voteRequests.at(-1)!.durable.currentTerm).toBe(8);
  });

  test("entries are durable before the follower says it holds them; only new ones are written", () => {
    const t = nodeUnderTest();
    const first = appendArgs(1, 1, { entries: [entry(1, "a"), entry(1, "b")] });
    expect(t.node.handleAppendEntries(first).success).toBe(true);
    expect(t.storage.load().log).toEqual([entry(1, "a"), entry(1, "b")]);
    const next = appendArgs(1, 1, { prevLogIndex: 2, prevLogTerm: 1, entries: [entry(1, "c")] });
    t.node.handleAppendEntries(next);
    expect(t.storage.writes.at(-1)).toEqual({ log: { from: 3, entries: [entry(1, "c")] } });
  });

  test("a follower's truncation at a conflict is saved with the entries that replace it", () => {
    const t = nodeUnderTest();
    t.node.handleAppendEntries(appendArgs(1, 1, { entries: [entry(1, "a"), entry(1, "b")] }));
    const repair = appendArgs(2, 2, { prevLogIndex: 1, prevLogTerm: 1, entries: [entry(2, "x")] });
    t.node.handleAppendEntries(repair);
    expect(t.storage.writes.at(-1)).toEqual({
      hardState: { currentTerm: 2, votedFor: null },
      log: { from: 2, entries: [entry(2, "x")] },
    });
    expect(t.storage.load().log).toEqual([entry(1, "a"), entry(2, "x")]);
  });

  test("a heartbeat that changes nothing writes nothing", () => {
    const t = nodeUnderTest();
    t.node.handleAppendEntries(appendArgs(1, 1, { entries: [entry(1, "a")] }));
    const writes = t.storage.writes.length;
    const heartbeat = appendArgs(1, 1, { prevLogIndex: 1, prevLogTerm: 1 });
    for (let i = 0; i < 5; i++) t.node.handleAppendEntries(heartbeat);
    expect(t.storage.writes).toHaveLength(writes);
  });

  test("a leader counts its own entry only once it is durable: a failed save commits nothing", async () => {
    const cluster = Cluster.start(1);
    const { leader } = await cluster.checkSingleLeader();
    const storage = cluster.storage.get(leader)!;
    const failing = storage.saves + 1;
    storage.faults = (n) => (n === failing ? "disk full" : undefined);
    cluster.submitToServer(leader, "x");
    await cluster.advance(10);
    expect(cluster.state(leader)).toMatchObject({ role: "dead", commitIndex: 0 });
    expect(cluster.applied.get(leader)).toEqual([]);
    const halt = cluster.tracer.events.find((e) => e.kind === "halt");
    expect(halt?.kind === "halt" && halt.details.reason).toMatch(/no space left/);
  });

  test("a node whose storage fails stops: no reply, no message, no timer", () => {
    const t = nodeUnderTest();
    t.storage.faults = () => "disk full";
    expect(() => t.node.handleRequestVote(voteArgs(2, 1))).toThrow(/has stopped/);
    expect(t.node.getState().role).toBe("dead");
    expect(t.clock.pendingTimers()).toBe(0);
    expect(t.peers.voteRequests).toEqual([]);
  });

  test("a restarted node comes back with its term, vote and log, and commitIndex 0", () => {
    const before = nodeUnderTest();
    before.node.handleRequestVote(voteArgs(2, 1));
    before.node.handleAppendEntries(
      appendArgs(2, 1, { entries: [entry(2, "a")], leaderCommit: 1 }),
    );
    expect(before.node.getState().commitIndex).toBe(1);
    before.node.stop();
    const after = nodeUnderTest(2, {}, currentSeed(), before.storage);
    expect(after.node.getState()).toMatchObject({
      currentTerm: 2,
      votedFor: 1,
      lastLogIndex: 1,
      commitIndex: 0,
      lastApplied: 0,
    });
    // It remembers its vote: no second one in term 2.
    expect(after.node.handleRequestVote(voteArgs(2, 2)).voteGranted).toBe(false);
  });
});

describe("§5.3: catching up a term at a time (the conflict hint)", () => {
  test("a follower with a shorter log says so: no conflict term, its length + 1", () => {
    const t = follower([entry(1, "a")]);
    const reply = t.node.handleAppendEntries(appendArgs(2, 1, { prevLogIndex: 5, prevLogTerm: 2 }));
    expect(reply).toEqual({ term: 2, success: false, conflictIndex: 2 });
  });

  test("a follower with another term at prevLogIndex names it and its first index of it", () => {
    const t = follower([entry(1, "a"), entry(2, "b"), entry(2, "c"), entry(2, "d")], 2);
    const reply = t.node.handleAppendEntries(appendArgs(3, 1, { prevLogIndex: 4, prevLogTerm: 3 }));
    expect(reply).toEqual({ term: 3, success: false, conflictTerm: 2, conflictIndex: 2 });
  });

  test("the leader probes after its own last entry of that term, or where the follower's log ends", async () => {
    // n0 holds terms 1 1 2 2 3 from a leader of term 3, then wins term 4.
    const t = nodeUnderTest();
    const terms = [1, 1, 2, 2, 3];
    t.node.handleAppendEntries(
      appendArgs(3, 1, { entries: terms.map((term) => entry(term, "x")) }),
    );
    await runUntil(t, () => t.node.getState().role === "candidate");
    for (const call of t.peers.voteRequests.splice(0)) call.reply({ term: 4, voteGranted: true });
    await t.clock.runFor(0);
    const probe = () => t.peers.appendRequests.filter((c) => c.to === 1).at(-1)!;
    expect(probe().args.prevLogIndex).toBe(5);
    // n1 has a term-2 entry at 5, its first term-2 entry at 3: n0 has term 2 up to 4, so the
    // logs may match up to there.
    probe().reply({ term: 4, success: false, conflictTerm: 2, conflictIndex: 3 });
    await t.clock.runFor(0);
    expect(probe().args.prevLogIndex).toBe(4);
    // n1's log ends at 1: the next probe is there, not one entry further back.
    probe().reply({ term: 4, success: false, conflictIndex: 2 });
    await t.clock.runFor(0);
    expect(probe().args.prevLogIndex).toBe(1);
  });
});

describe("§8: what a client-facing service needs (options off by default)", () => {
  test("with noopOnElection, a new leader's no-op commits the entries earlier terms left", async () => {
    const t = await leaderWithLog([entry(1, "a")], { noopOnElection: true });
    expect(t.node.getLog()).toEqual([entry(1, "a"), entry(2, null)]);
    for (const peer of [1, 2]) {
      const call = t.pending(peer).find((c) => c.args.entries.length > 0)!;
      call.reply({ term: 2, success: true });
    }
    await t.clock.runFor(0);
    expect(t.applied.map((e) => e.command)).toEqual(["a", null]);
  });

  test("without it, a new leader appends nothing of its own", async () => {
    const t = await leaderWithLog([entry(1, "a")]);
    expect(t.node.getLog()).toEqual([entry(1, "a")]);
  });

  test("a node knows who leads its term from AppendEntries, and forgets it when the term moves", () => {
    const t = nodeUnderTest();
    expect(t.node.getState().leaderId).toBeNull();
    t.node.handleAppendEntries(appendArgs(1, 2));
    expect(t.node.getState().leaderId).toBe(2);
    t.node.handleRequestVote(voteArgs(2, 1));
    expect(t.node.getState().leaderId).toBeNull();
  });
});
