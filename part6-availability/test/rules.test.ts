// Goal: each rule of Figure 2 (§5.1-5.4), one test per rule, including the traps other
// implementations fall into: a second vote in a term after a same-term step-down, stale vote
// replies counted, a term going down; and for the log, a stale request truncating entries it
// matches, a follower committing past what the request verified, matchIndex going backwards on
// reordered replies, and an earlier term's entry committed by counting replicas (Figure 8).
// Method: a single node whose peers the test plays (node-under-test.ts), so each rule is
// exercised on purpose, plus whole clusters where the rule is about the cluster (randomized
// timeouts, a cluster of one).

import { describe, expect } from "vitest";
import type { AppliedEntry, LogEntry, RaftConfig } from "../src/raft.ts";
import { Cluster, currentSeed, test } from "./harness.ts";
import { appendArgs, nodeUnderTest, voteArgs } from "./node-under-test.ts";

/** Runs the node's clock until `done` holds (at most one second of virtual time). */
async function runUntil(t: ReturnType<typeof nodeUnderTest>, done: () => boolean) {
  await t.clock.runUntil(t.clock.now() + 1000, done);
}

/** Runs a node until its first election and returns it as a candidate of term 1. */
async function candidate(peerCount = 2) {
  const t = nodeUnderTest(peerCount);
  await runUntil(t, () => t.node.getState().role === "candidate");
  expect(t.node.getState()).toMatchObject({ role: "candidate", currentTerm: 1, votedFor: 0 });
  return t;
}

/** Elects the node leader of term 1 by granting it the votes it asks for. */
async function leader() {
  const t = await candidate();
  for (const call of t.peers.voteRequests.splice(0)) call.reply({ term: 1, voteGranted: true });
  await t.clock.runFor(0);
  expect(t.node.getState().role).toBe("leader");
  return t;
}

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

// ---- Part 2: the log rules of Figure 2 (§5.3-5.4), each with the trap it guards against ----

const entry = (term: number, command: unknown): LogEntry => ({ term, command });

/** A follower whose log holds `entries`, sent by n1 as leader of `term` in one request. */
function follower(entries: LogEntry[], term = 1, leaderCommit = 0) {
  const t = nodeUnderTest();
  const reply = t.node.handleAppendEntries(appendArgs(term, 1, { entries, leaderCommit }));
  expect(reply.success).toBe(true);
  const applied: AppliedEntry[] = [];
  t.node.onApply((e) => applied.push(e));
  return { ...t, applied };
}

/** Node 0 elected leader of term 2 with `entries` (from a leader of term 1) in its log. */
async function leaderWithLog(entries: LogEntry[], config: Partial<RaftConfig> = {}) {
  const t = nodeUnderTest(2, config);
  t.node.handleAppendEntries(appendArgs(1, 1, { entries }));
  await runUntil(t, () => t.node.getState().role === "candidate");
  const votesAsked = t.peers.voteRequests.splice(0);
  for (const call of votesAsked) call.reply({ term: 2, voteGranted: true });
  await t.clock.runFor(0);
  expect(t.node.getState()).toMatchObject({ role: "leader", currentTerm: 2 });
  const applied: AppliedEntry[] = [];
  t.node.onApply((e) => applied.push(e));
  /** The AppendEntries calls to `peer` not answered yet, oldest first. */
  const pending = (peer: number) => t.peers.appendRequests.filter((c) => c.to === peer);
  /** Removes and returns the oldest unanswered AppendEntries to `peer`. */
  const next = (peer: number) => {
    const i = t.peers.appendRequests.findIndex((c) => c.to === peer);
    return t.peers.appendRequests.splice(i, 1)[0]!;
  };
  return { ...t, applied, pending, next, votesAsked: votesAsked.map((c) => c.args) };
}

describe("§5.3: AppendEntries receiver (Figure 2)", () => {
  test("rule 2: refuses if the log has no entry at prevLogIndex with prevLogTerm, storing nothing", () => {
    const t = follower([entry(1, "a")]);
    const lacks = appendArgs(1, 1, { prevLogIndex: 2, prevLogTerm: 1, entries: [entry(1, "c")] });
    expect(t.node.handleAppendEntries(lacks).success).toBe(false);
    const differs = appendArgs(2, 1, { prevLogIndex: 1, prevLogTerm: 2, entries: [entry(2, "c")] });
    expect(t.node.handleAppendEntries(differs).success).toBe(false);
    expect(t.node.getLog()).toEqual([entry(1, "a")]);
  });

  test("rules 3 and 4: deletes from the first conflicting entry on, then appends", () => {
    const t = follower([entry(1, "a"), entry(1, "b"), entry(1, "c")]);
    const args = appendArgs(2, 1, {
      prevLogIndex: 1,
      prevLogTerm: 1,
      entries: [entry(1, "b"), entry(2, "x")],
    });
    expect(t.node.handleAppendEntries(args).success).toBe(true);
    expect(t.node.getLog()).toEqual([entry(1, "a"), entry(1, "b"), entry(2, "x")]);
    const cuts = t.tracer.events.filter((e) => e.kind === "log.truncate");
    expect(cuts.map((e) => e.details)).toEqual([{ from: 3, removed: 1 }]);
  });

  test("a delayed or duplicated request whose entries match cuts nothing off", () => {
    const t = follower([entry(1, "a"), entry(1, "b"), entry(1, "c")]);
    const old = appendArgs(1, 1, { entries: [entry(1, "a")] });
    expect(t.node.handleAppendEntries(old).success).toBe(true);
    expect(t.node.getLog()).toHaveLength(3);
    expect(t.tracer.events.filter((e) => e.kind === "log.truncate")).toEqual([]);
  });

  test("rule 5: commitIndex goes only as far as this request verified, not to leaderCommit", () => {
    // Entries 2 and 3 came from a leader of term 1 that was then deposed; the leader of term 2
    // committed entries of its own at 2 and 3. Its heartbeat verifies entry 1 only.
    const t = follower([entry(1, "a"), entry(1, "b"), entry(1, "c")]);
    const heartbeat = appendArgs(2, 2, { prevLogIndex: 1, prevLogTerm: 1, leaderCommit: 3 });
    expect(t.node.handleAppendEntries(heartbeat).success).toBe(true);
    expect(t.node.getState().commitIndex).toBe(1);
    expect(t.applied.map((e) => e.command)).toEqual(["a"]);
    expect(t.safety.violations).toEqual([]);
  });

  test("a stale request that verifies less than is committed leaves commitIndex alone", () => {
    const t = follower([entry(1, "a"), entry(1, "b"), entry(1, "c")], 1, 2);
    const stale = appendArgs(1, 1, { prevLogIndex: 1, prevLogTerm: 1, leaderCommit: 3 });
    expect(t.node.handleAppendEntries(stale).success).toBe(true);
    expect(t.node.getState().commitIndex).toBe(2);
    expect(t.safety.violations).toEqual([]);
  });

  test("applies committed entries in index order, each once, with its own term", () => {
    const t = follower([entry(1, "a"), entry(1, "b")], 1, 1);
    const args = appendArgs(3, 2, {
      prevLogIndex: 2,
      prevLogTerm: 1,
      entries: [entry(3, "c")],
      leaderCommit: 3,
    });
    t.node.handleAppendEntries(args);
    t.node.handleAppendEntries(args); // the same request again applies nothing twice
    expect(t.applied).toEqual([
      { index: 2, term: 1, command: "b" },
      { index: 3, term: 3, command: "c" },
    ]);
    expect(t.node.getState()).toMatchObject({ commitIndex: 3, lastApplied: 3 });
  });
});

describe("§5.4.1: election restriction", () => {
  test("votes only for a candidate whose log is at least as up to date", () => {
    const t = follower([entry(1, "a"), entry(2, "b")], 2);
    // A longer log with an older last term is less up to date.
    expect(t.node.handleRequestVote(voteArgs(3, 1, 5, 1)).voteGranted).toBe(false);
    // The same last term and a shorter log is less up to date.
    expect(t.node.handleRequestVote(voteArgs(4, 1, 1, 2)).voteGranted).toBe(false);
    expect(t.node.handleRequestVote(voteArgs(5, 1, 2, 2)).voteGranted).toBe(true);
    expect(t.node.handleRequestVote(voteArgs(6, 2, 1, 3)).voteGranted).toBe(true);
  });

  test("a candidate sends the index and term of its last entry", async () => {
    const t = await leaderWithLog([entry(1, "a"), entry(1, "b")]);
    expect(t.votesAsked).toEqual([voteArgs(2, 0, 2, 1), voteArgs(2, 0, 2, 1)]);
  });
});

describe("§5.3-5.4: the leader (Figure 2, Rules for Servers, Leaders)", () => {
  test("submit appends at once and replicates in the same instant, once durable; others refuse", async () => {
    const t = await leaderWithLog([entry(1, "a")]);
    t.peers.appendRequests.splice(0);
    expect(t.node.submit("b")).toEqual({ isLeader: true, index: 2, term: 2 });
    expect(t.pending(1)).toEqual([]); // not before the flush that ends this turn
    await t.clock.runFor(0);
    expect(t.clock.now()).toBe(t.tracer.events.find((e) => e.kind === "submit")!.t);
    expect(t.storage.load().log.at(-1)).toEqual(entry(2, "b"));
    expect(t.pending(1).map((c) => c.args.entries)).toEqual([[entry(2, "b")]]);
    expect(nodeUnderTest().node.submit("x")).toEqual({ isLeader: false });
  });

  test("nextIndex starts after the last entry and backs up one entry per refusal", async () => {
    const t = await leaderWithLog([entry(1, "a"), entry(1, "b"), entry(1, "c")]);
    const probes: number[] = [];
    for (const accept of [false, false, true]) {
      const call = t.next(1);
      probes.push(call.args.prevLogIndex);
      call.reply({ term: 2, success: accept });
      await t.clock.runFor(0);
    }
    expect(probes).toEqual([3, 2, 1]);
    // After the refusal at 2 the leader sent [2] and [3]; once accepted, it is all caught up.
    t.peers.appendRequests.splice(0);
    await t.clock.runFor(50);
    expect(t.pending(1).map((c) => [c.args.prevLogIndex, c.args.entries.length])).toEqual([[3, 0]]);
  });

  test("each request carries the entries from nextIndex on, up to the batch limit", async () => {
    const t = await leaderWithLog([], { maxEntriesPerAppend: 2 });
    t.peers.appendRequests.splice(0);
    for (const command of ["c1", "c2", "c3", "c4", "c5"]) t.node.submit(command);
    await t.clock.runFor(0);
    const batches: unknown[][] = [];
    for (let round = 0; round < 3; round++) {
      const call = t.next(1);
      batches.push(call.args.entries.map((e) => e.command));
      call.reply({ term: 2, success: true });
      await t.clock.runFor(0);
    }
    // All five were submitted in one turn and saved in one write; then they went out in batches,
    // one request with entries in flight at a time.
    expect(batches).toEqual([["c1", "c2"], ["c3", "c4"], ["c5"]]);
  });

  test("matchIndex does not move backwards when an old reply arrives late", async () => {
    const t = await leaderWithLog([]);
    const heartbeat = t.next(1); // prevLogIndex 0, no entries; its reply will come last
    t.node.submit("a");
    await t.clock.runFor(0);
    t.next(1).fail(); // lost: the next heartbeat carries "a" again
    await t.clock.runFor(0);
    t.node.submit("b");
    await t.clock.runFor(0);
    const both = t.next(1);
    expect(both.args.entries.map((e) => e.command)).toEqual(["a", "b"]);
    both.reply({ term: 2, success: true });
    await t.clock.runFor(0);
    heartbeat.reply({ term: 2, success: true }); // says only "matches up to 0"
    await t.clock.runFor(0);
    t.peers.appendRequests.splice(0);
    await t.clock.runFor(50);
    expect(t.pending(1).map((c) => c.args.prevLogIndex)).toEqual([2]);
    expect(t.node.getState().commitIndex).toBe(2);
  });

  test("an entry of an earlier term is not committed by counting replicas (Figure 8)", async () => {
    const t = await leaderWithLog([entry(1, "a")]);
    for (const peer of [1, 2]) t.next(peer).reply({ term: 2, success: true });
    await t.clock.runFor(0);
    // Both peers hold [1] T1: a majority, but of an older term, so it could still be replaced.
    expect(t.node.getState().commitIndex).toBe(0);
    t.node.submit("b");
    await t.clock.runFor(0);
    t.next(1).reply({ term: 2, success: true });
    await t.clock.runFor(0);
    // [2] T2 on a majority commits, and [1] with it.
    expect(t.node.getState().commitIndex).toBe(2);
    expect(t.applied).toEqual([
      { index: 1, term: 1, command: "a" },
      { index: 2, term: 2, command: "b" },
    ]);
  });

  test("a cluster of one commits on its own", async () => {
    const cluster = Cluster.start(1);
    const { leader } = await cluster.checkSingleLeader();
    expect(cluster.submitToServer(leader, "x")).toMatchObject({ isLeader: true, index: 1 });
    expect(await cluster.checkCommittedN("x", 1)).toEqual({ count: 1, index: 1 });
  });
});

describe("§5.3-5.4: the leader, across terms and late replies", () => {
  /** The leader's last recorded nextIndex and matchIndex for `peer`, from its progress events. */
  function progressOf(t: ReturnType<typeof nodeUnderTest>, peer: number) {
    const last = t.tracer.events.findLast((e) => e.kind === "progress" && e.details.peer === peer);
    return last?.kind === "progress"
      ? [last.details.nextIndex, last.details.matchIndex]
      : undefined;
  }

  /** Deposes the leader (a higher-term request) and elects it again in a later term. */
  async function reelect(t: Awaited<ReturnType<typeof leaderWithLog>>) {
    t.node.handleRequestVote(voteArgs(t.node.getState().currentTerm + 1, 2, 0, 0));
    t.peers.voteRequests.splice(0);
    await runUntil(t, () => t.node.getState().role === "candidate");
    const term = t.node.getState().currentTerm;
    for (const call of t.peers.voteRequests.splice(0)) call.reply({ term, voteGranted: true });
    await t.clock.runFor(0);
    expect(t.node.getState()).toMatchObject({ role: "leader", currentTerm: term });
    return term;
  }

  test("a leader elected again starts over: nextIndex after its log, matchIndex 0", async () => {
    const t = await leaderWithLog([entry(1, "a")]);
    t.node.submit("b");
    await t.clock.runFor(0);
    for (const peer of [1, 2]) t.next(peer);
    for (const call of t.pending(1)) call.reply({ term: 2, success: true });
    await t.clock.runFor(0);
    expect(progressOf(t, 1)).toEqual([3, 2]);
    expect(t.node.getState().commitIndex).toBe(2); // [2] T2 on n0 and n1: a majority
    await reelect(t);
    // What it knew of n1 in term 2 says nothing of n1's log now: it starts from scratch.
    expect(progressOf(t, 1)).toEqual([3, 0]);
    expect(progressOf(t, 2)).toEqual([3, 0]);
    t.node.submit("c"); // [3]: needs n1 or n2 to accept it in this term before it commits
    await t.clock.runFor(0);
    expect(t.node.getState().commitIndex).toBe(2);
  });

  test("a reply from an earlier term changes nothing, even when it says success", async () => {
    const t = await leaderWithLog([entry(1, "a")]);
    t.node.submit("b");
    await t.clock.runFor(0);
    const old = t.pending(1).at(-1)!; // carries [2] in term 2; its reply will come late
    t.peers.appendRequests.splice(t.peers.appendRequests.indexOf(old), 1);
    await reelect(t);
    old.reply({ term: 2, success: true });
    await t.clock.runFor(0);
    expect(progressOf(t, 1)).toEqual([3, 0]);
    expect(
      t.tracer.events
        .filter((e) => e.kind === "reply.stale")
        .map((e) => e.kind === "reply.stale" && e.details.rpc),
    ).toContain("AppendEntries");
  });

  test("a late refusal of an earlier probe does not back nextIndex up a second time", async () => {
    const t = await leaderWithLog([entry(1, "a"), entry(1, "b"), entry(1, "c")]);
    const first = t.next(1); // the election's heartbeat, probing at prevLogIndex 3
    await t.clock.runFor(50);
    const second = t.next(1); // the next heartbeat: the same probe
    first.reply({ term: 2, success: false });
    await t.clock.runFor(0);
    expect(progressOf(t, 1)).toEqual([3, 0]);
    second.reply({ term: 2, success: false }); // answers the probe at 3, no longer the current one
    await t.clock.runFor(0);
    expect(progressOf(t, 1)).toEqual([3, 0]);
  });

  test("nextIndex never backs up to matchIndex or below", async () => {
    const t = await leaderWithLog([entry(1, "a"), entry(1, "b")]);
    t.next(1).reply({ term: 2, success: true }); // n1 matches up to [2]
    await t.clock.runFor(0);
    expect(progressOf(t, 1)).toEqual([3, 2]);
    t.node.submit("c");
    await t.clock.runFor(0);
    t.next(1).reply({ term: 2, success: false }); // a refusal at 2 would be a broken follower's
    await t.clock.runFor(0);
    expect(progressOf(t, 1)).toEqual([3, 2]);
  });
});

describe("commands", () => {
  test("submit refuses a command that JSON cannot carry, and the log is unchanged", async () => {
    const t = await leaderWithLog([]);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const refused: [unknown, RegExp][] = [
      [undefined, /the command is undefined/],
      [{ a: () => 1 }, /the command\.a is a function/],
      [[1, Number.NaN], /the command\[1\] is NaN/],
      [new Date(0), /is a Date object/],
      [new Map(), /is a Map object/],
      [cyclic, /contains itself/],
      [10n, /is a bigint/],
      // biome-ignore lint/suspicious/noSparseArray: a hole is the point
      [[1, , 3], /\[1\] is a hole/],
      [{ [Symbol("s")]: 1 }, /symbol keys/],
    ];
    for (const [command, reason] of refused) {
      expect(() => t.node.submit(command)).toThrow(reason);
    }
    expect(t.node.getLog()).toEqual([]);
    expect(t.node.submit({ ok: [1, "two", null, { three: true }] })).toMatchObject({
      isLeader: true,
    });
  });

  test("every node stores its own copy of each entry, as over a real network", async () => {
    const cluster = Cluster.start(3);
    const { leader } = await cluster.checkSingleLeader();
    const command = { key: "x", values: [1, 2] };
    cluster.submitToServer(leader, command);
    await cluster.checkCommittedN(command, 3);
    const stored = cluster.ids.map((id) => cluster.node(id).getLog()[0]!.command);
    expect(stored).toEqual([command, command, command]);
    expect(new Set(stored).size).toBe(3);
    command.values.push(3); // the client's object changing later changes no log
    expect(cluster.node((leader + 1) % 3).getLog()[0]!.command).toEqual({
      key: "x",
      values: [1, 2],
    });
  });

  test("a state machine may submit from inside onApply: entries still go out in order, once", async () => {
    for (const n of [1, 3]) {
      const cluster = Cluster.start(n);
      const { leader } = await cluster.checkSingleLeader();
      const node = cluster.node(leader);
      node.onApply((e) => {
        if (typeof e.command === "number" && e.command < 3) node.submit(e.command + 1);
      });
      cluster.submitToServer(leader, 0);
      await cluster.checkCommittedN(3, n);
      const applied = cluster.applied.get(leader)!.map((e) => [e.index, e.command]);
      expect(applied).toEqual([
        [1, 0],
        [2, 1],
        [3, 2],
        [4, 3],
      ]);
    }
  });
});

// ---- Part 3: persistent state (Figure 2: "updated on stable storage before responding to RPCs")

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
