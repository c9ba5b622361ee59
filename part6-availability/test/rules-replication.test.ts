// Goal: each log rule of Figure 2 (§5.3-5.4), one test per rule, including the traps other
// implementations fall into: a stale request truncating entries it matches, a follower
// committing past what the request verified, matchIndex going backwards on reordered replies,
// and an earlier term's entry committed by counting replicas (Figure 8). Method: a single node
// whose peers the test plays (node-under-test.ts), so each rule is exercised on purpose, plus
// whole clusters where the rule is about the cluster (a cluster of one).

import { describe, expect } from "vitest";
import { Cluster, test } from "./harness.ts";
import {
  appendArgs,
  entry,
  follower,
  leaderWithLog,
  nodeUnderTest,
  runUntil,
  voteArgs,
} from "./node-under-test.ts";

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
