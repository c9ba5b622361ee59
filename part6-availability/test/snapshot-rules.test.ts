// Goal: each rule of §7 and Figure 13, one test per rule and condition: when a snapshot is taken
// and what it holds; what the log keeps after it; AppendEntries that reach into it; the follower's
// InstallSnapshot receiver rules 1-8, with chunks duplicated, reordered, lost, and a receiver
// that restarted in the middle; the leader's side, chunk by chunk, including etcd's
// snapshot_succeed_via_app_resp cases; durability before any reply; and a leader reporting a
// follower that lost what it had acknowledged. Method: one node whose peers the test plays
// (node-under-test.ts), with the list of commands it applied as its state machine.

import { describe, expect } from "vitest";
import type { InstallSnapshotArgs, LogEntry, RaftConfig } from "../src/raft.ts";
import { test } from "./harness.ts";
import { appendArgs, entry, nodeUnderTest, RecordingStorage, runUntil } from "./node-under-test.ts";

/** `n` entries of `term`: "c1", "c2", … */
const commands = (n: number, term = 1): LogEntry[] =>
  Array.from({ length: n }, (_, i) => entry(term, `c${i + 1}`));

/** Node 0 with peers 1 and 2, no snapshot policy unless `config` sets one; its state: the commands applied. */
function withState(config: Partial<RaftConfig> = {}, storage = new RecordingStorage()) {
  const state: unknown[] = [];
  const policy = { snapshotAfterEntries: 0, snapshotAfterBytes: 0, ...config };
  const t = nodeUnderTest(2, policy, undefined, storage, (node) => {
    node.onApply((e) => state.push(e.command));
    node.onRestore((s) => state.splice(0, state.length, ...(s.data as unknown[])));
    node.snapshotSource(() => state);
  });
  const kinds = () => t.tracer.events.map((e) => e.kind);
  return { ...t, state, kinds };
}

/** A follower of n1 in term 1 that holds `entries`, the first `committed` of them committed. */
function follower(entries: LogEntry[], committed: number, config: Partial<RaftConfig> = {}) {
  const t = withState(config);
  t.node.handleAppendEntries(appendArgs(1, 1, { entries, leaderCommit: committed }));
  return t;
}

/** The follower above, elected leader of term 2 by its peers' votes. */
async function leader(entries: LogEntry[], committed: number, config: Partial<RaftConfig> = {}) {
  const t = follower(entries, committed, config);
  await runUntil(t, () => t.node.getState().role === "candidate");
  for (const call of t.peers.voteRequests.splice(0)) call.reply({ term: 2, voteGranted: true });
  await t.clock.runFor(0);
  expect(t.node.getState()).toMatchObject({ role: "leader", currentTerm: 2 });
  /** Removes and returns the oldest unanswered call of `kind` to `peer`. */
  const take = <C extends { to: number }>(calls: C[], peer: number): C => {
    const i = calls.findIndex((c) => c.to === peer);
    if (i < 0) throw new Error(`no call to n${peer} waiting`);
    return calls.splice(i, 1)[0]!;
  };
  const nextAppend = (peer: number) => take(t.peers.appendRequests, peer);
  const nextChunk = (peer: number) => take(t.peers.snapshotRequests, peer);
  const progress = (peer: number) => {
    const last = t.tracer.events.findLast((e) => e.kind === "progress" && e.details.peer === peer)
      ?.details as { nextIndex: number; matchIndex: number };
    return [last.nextIndex, last.matchIndex];
  };
  return { ...t, nextAppend, nextChunk, progress };
}

/** The chunks of a snapshot's text, as the leader would cut them. */
function chunks(
  data: string,
  size: number,
  fields: Partial<InstallSnapshotArgs> = {},
): InstallSnapshotArgs[] {
  const all: InstallSnapshotArgs[] = [];
  for (let offset = 0; offset === 0 || offset < data.length; offset += size) {
    const piece = data.slice(offset, offset + size);
    const done = offset + piece.length >= data.length;
    all.push({
      term: 2,
      leaderId: 1,
      lastIncludedIndex: 0,
      lastIncludedTerm: 0,
      offset,
      data: piece,
      done,
      ...fields,
    });
  }
  return all;
}

describe("§7: taking a snapshot", () => {
  test("the policy: after snapshotAfterEntries applied entries, the state as of the last one; the log keeps what follows", () => {
    const t = follower(commands(25), 25, { snapshotAfterEntries: 10 });
    const taken = t.tracer.events.filter((e) => e.kind === "snapshot.take").map((e) => e.details);
    expect(taken.map((d) => [d.lastIncludedIndex, d.lastIncludedTerm, d.reason])).toEqual([
      [10, 1, "10 entries applied since the last snapshot"],
      [20, 1, "10 entries applied since the last snapshot"],
    ]);
    expect(JSON.parse(t.node.getSnapshot()!.data)).toEqual(t.state.slice(0, 20));
    expect(t.node.getLog()).toEqual(commands(25).slice(20));
    expect(t.node.getState()).toMatchObject({
      lastIncludedIndex: 20,
      lastLogIndex: 25,
      commitIndex: 25,
    });
  });

  test("the policy by size: after snapshotAfterBytes bytes of commands applied", () => {
    const big = Array.from({ length: 6 }, (_, i) => entry(1, "x".repeat(98) + i)); // 101 bytes of JSON each
    const t = follower(big, 6, { snapshotAfterBytes: 300 });
    const taken = t.tracer.events.filter((e) => e.kind === "snapshot.take").map((e) => e.details);
    expect(taken.map((d) => [d.lastIncludedIndex, d.reason])).toEqual([
      [3, "303 bytes of commands applied since the last snapshot"],
      [6, "303 bytes of commands applied since the last snapshot"],
    ]);
  });

  test("without a source the policy takes none; the state machine's own snapshot(index, data) does", () => {
    const t = nodeUnderTest(2, { snapshotAfterEntries: 2 });
    t.node.handleAppendEntries(appendArgs(1, 1, { entries: commands(5), leaderCommit: 4 }));
    expect(t.node.getSnapshot()).toBeUndefined();
    t.node.snapshot(3, ["c1", "c2", "c3"]);
    expect(t.node.getSnapshot()).toEqual({
      lastIncludedIndex: 3,
      lastIncludedTerm: 1,
      data: '["c1","c2","c3"]',
    });
    expect(t.node.getLog()).toEqual(commands(5).slice(3));
    t.node.snapshot(2, ["c1", "c2"]); // older than the one kept: nothing changes
    expect(t.node.getSnapshot()!.lastIncludedIndex).toBe(3);
    expect(() => t.node.snapshot(5, [])).toThrow(
      /\[5\] is not an entry this node has applied \(lastApplied 4\)/,
    );
    expect(() => t.node.snapshot(4, { at: new Date(0) })).toThrow(
      /the snapshot\.at is a Date object/,
    );
    expect(t.node.getSnapshot()!.lastIncludedIndex).toBe(3);
  });

  test("snapshot() may be called from inside onApply, for the entry being applied", () => {
    const t = nodeUnderTest(2, { snapshotAfterEntries: 0, snapshotAfterBytes: 0 });
    const state: unknown[] = [];
    t.node.onApply((e) => {
      state.push(e.command);
      if (e.index % 3 === 0) t.node.snapshot(e.index, state);
    });
    t.node.handleAppendEntries(appendArgs(1, 1, { entries: commands(7), leaderCommit: 7 }));
    expect(state).toEqual(commands(7).map((e) => e.command));
    expect(t.node.getSnapshot()).toEqual({
      lastIncludedIndex: 6,
      lastIncludedTerm: 1,
      data: JSON.stringify(state.slice(0, 6)),
    });
    expect(t.storage.load()).toMatchObject({
      log: [entry(1, "c7")],
      snapshot: { lastIncludedIndex: 6 },
    });
  });

  test("a snapshot and the log's compaction are durable in one save, before the reply that follows them", () => {
    const t = withState({ snapshotAfterEntries: 3 });
    const reply = t.node.handleAppendEntries(
      appendArgs(1, 1, { entries: commands(4), leaderCommit: 4 }),
    );
    expect(reply.success).toBe(true);
    // One save: the new term, the snapshot, and the log after it (from [4]: storage discards
    // what the snapshot holds, and keeps no entry it never saw).
    expect(t.storage.writes).toHaveLength(1);
    expect(t.storage.writes[0]).toMatchObject({
      hardState: { currentTerm: 1, votedFor: null },
      snapshot: { lastIncludedIndex: 3, lastIncludedTerm: 1 },
      log: { from: 4, entries: [entry(1, "c4")] },
    });
    expect(t.storage.load()).toMatchObject({
      log: [entry(1, "c4")],
      snapshot: { lastIncludedIndex: 3 },
    });
    const persist = t.tracer.events.findLast((e) => e.kind === "persist")!.details;
    expect(persist).toMatchObject({ snapshotIndex: 3, logFrom: 4, lastLogIndex: 4 });
  });

  test("a restarted node loads its snapshot, hands it to the state machine at start, and applies only what follows", () => {
    const storage = new RecordingStorage();
    storage.save({
      hardState: { currentTerm: 3, votedFor: null },
      snapshot: { lastIncludedIndex: 5, lastIncludedTerm: 2, data: '["a","b","c","d","e"]' },
      log: { from: 6, entries: [entry(3, "f")] },
    });
    const t = withState({}, storage);
    expect(t.state).toEqual(["a", "b", "c", "d", "e"]);
    expect(t.node.getState()).toMatchObject({
      commitIndex: 5,
      lastApplied: 5,
      lastIncludedIndex: 5,
      lastLogIndex: 6,
    });
    expect(t.kinds()).toEqual(["snapshot.restore"]);
    t.node.handleAppendEntries(
      appendArgs(3, 1, { prevLogIndex: 6, prevLogTerm: 3, leaderCommit: 6 }),
    );
    expect(t.tracer.events.filter((e) => e.kind === "apply").map((e) => e.details.index)).toEqual([
      6,
    ]);
  });
});

describe("§7: AppendEntries and the snapshot", () => {
  test("a request reaching into the snapshot is read from its last entry on: what it holds is skipped, the rest stored", () => {
    const t = follower(commands(6), 6, { snapshotAfterEntries: 5 });
    expect(t.node.getState()).toMatchObject({ lastIncludedIndex: 5, lastLogIndex: 6 });
    // A late copy of an old request: entries [3..8], after [2].
    const late = appendArgs(1, 1, {
      prevLogIndex: 2,
      prevLogTerm: 1,
      entries: commands(8).slice(2),
      leaderCommit: 6,
    });
    expect(t.node.handleAppendEntries(late)).toEqual({ term: 1, success: true });
    expect(t.node.getLog()).toEqual(commands(8).slice(5));
    // One entirely inside it verifies nothing new and changes nothing.
    const inside = appendArgs(1, 1, {
      prevLogIndex: 1,
      prevLogTerm: 1,
      entries: commands(3).slice(1),
    });
    expect(t.node.handleAppendEntries(inside)).toEqual({ term: 1, success: true });
    expect(t.node.getState()).toMatchObject({
      lastIncludedIndex: 5,
      lastLogIndex: 8,
      commitIndex: 6,
    });
  });

  test("the conflict hint never names an index inside the snapshot", () => {
    const t = follower([...commands(5), entry(2, "x"), entry(2, "y")], 5, {
      snapshotAfterEntries: 5,
    });
    const probe = appendArgs(3, 1, { prevLogIndex: 7, prevLogTerm: 3 });
    expect(t.node.handleAppendEntries(probe)).toEqual({
      term: 3,
      success: false,
      conflictTerm: 2,
      conflictIndex: 6,
    });
  });
});

describe("Figure 13: InstallSnapshot receiver", () => {
  const state = ["s1", "s2", "s3", "s4", "s5", "s6"];
  const data = JSON.stringify(state);
  const of6 = { lastIncludedIndex: 6, lastIncludedTerm: 2 };

  test("rule 1: a request of a lower term is refused, and nothing is stored", () => {
    const t = follower(commands(2), 1);
    t.node.handleAppendEntries(appendArgs(3, 1)); // now in term 3
    for (const chunk of chunks(data, 100, { ...of6, term: 2 })) {
      expect(t.node.handleInstallSnapshot(chunk)).toEqual({ term: 3, success: false });
    }
    expect(t.node.getSnapshot()).toBeUndefined();
  });

  test("rules 2-4: chunks written at their offsets, taken, and the last installs; duplicates and late copies change nothing", () => {
    const t = follower(commands(2), 1);
    const [first, second, third, last] = chunks(data, 10, of6);
    expect(last!.done).toBe(true);
    for (const chunk of [first!, second!, first!, third!, second!, last!]) {
      expect(t.node.handleInstallSnapshot(chunk)).toEqual({ term: 2, success: true });
    }
    expect(t.node.getSnapshot()).toEqual({ ...of6, data });
    expect(t.state).toEqual(state);
    const taken = t.tracer.events
      .filter((e) => e.kind === "snapshot.chunk")
      .map((e) => e.details.taken);
    expect(taken).toEqual([true, true, true, true, true, true]);
  });

  test("a chunk that continues nothing held is refused: a gap, a restart in the middle, another snapshot", () => {
    const t = follower(commands(2), 1);
    const [first, second, third] = chunks(data, 10, of6);
    expect(t.node.handleInstallSnapshot(second!)).toEqual({ term: 2, success: false }); // a gap
    expect(t.node.handleInstallSnapshot(first!).success).toBe(true);
    expect(t.node.handleInstallSnapshot(third!).success).toBe(false); // the second went missing
    // Another leader's (term 3) snapshot starts over: the first one's chunks no longer continue it.
    const other = chunks(data, 10, { ...of6, term: 3, leaderId: 2 });
    expect(t.node.handleInstallSnapshot(other[0]!).success).toBe(true);
    expect(t.node.handleInstallSnapshot(second!).success).toBe(false);
    // A restarted receiver lost what it held (it lives in memory only): the next chunk is refused.
    const restarted = withState({}, t.storage);
    expect(restarted.node.handleInstallSnapshot({ ...other[1]! }).success).toBe(false);
    const reasons = restarted.tracer.events.filter((e) => e.kind === "snapshot.chunk");
    expect(reasons.map((e) => e.details.reason)).toEqual([
      "a chunk at offset 10 of the snapshot through [6], of which it holds no part of it",
    ]);
  });

  test("rules 5-6: an entry with the snapshot's last index and term keeps the entries after it", () => {
    const t = follower([...commands(6, 2), entry(2, "c7"), entry(2, "c8")], 3);
    for (const chunk of chunks(data, 1000, of6)) t.node.handleInstallSnapshot(chunk);
    expect(t.node.getLog()).toEqual([entry(2, "c7"), entry(2, "c8")]);
    expect(t.node.getState()).toMatchObject({
      lastIncludedIndex: 6,
      lastLogIndex: 8,
      commitIndex: 6,
      lastApplied: 6,
    });
    expect(t.tracer.events.find((e) => e.kind === "snapshot.install")?.details).toMatchObject({
      kept: 2,
    });
  });

  test("rule 7: otherwise the whole log goes, whether it is shorter or has another term there", () => {
    const shorter = follower(commands(3), 1);
    for (const chunk of chunks(data, 1000, of6)) shorter.node.handleInstallSnapshot(chunk);
    expect(shorter.node.getLog()).toEqual([]);
    expect(shorter.node.getState()).toMatchObject({ lastIncludedIndex: 6, lastLogIndex: 6 });

    const conflicting = follower(commands(9, 1), 2); // [6] is of term 1, the snapshot's of term 2
    for (const chunk of chunks(data, 1000, of6)) conflicting.node.handleInstallSnapshot(chunk);
    expect(conflicting.node.getLog()).toEqual([]);
    expect(conflicting.tracer.events.find((e) => e.kind === "log.truncate")?.details).toEqual({
      from: 7,
      removed: 3,
    });
    expect(conflicting.storage.load()).toMatchObject({
      log: [],
      snapshot: { lastIncludedIndex: 6 },
    });
  });

  test("rule 8: the state machine resets to the snapshot; commitIndex and lastApplied move to it; the entries after it apply next", () => {
    const t = follower(commands(2), 2);
    expect(t.state).toEqual(["c1", "c2"]);
    for (const chunk of chunks(data, 1000, of6)) t.node.handleInstallSnapshot(chunk);
    expect(t.state).toEqual(state);
    expect(t.node.getState()).toMatchObject({ commitIndex: 6, lastApplied: 6 });
    t.node.handleAppendEntries(
      appendArgs(2, 1, {
        prevLogIndex: 6,
        prevLogTerm: 2,
        entries: [entry(2, "c7")],
        leaderCommit: 7,
      }),
    );
    expect(t.state).toEqual([...state, "c7"]);
  });

  test("a snapshot through an entry already committed changes nothing, and is answered yes", () => {
    const t = follower(commands(8, 2), 8);
    for (const chunk of chunks(data, 10, of6)) {
      expect(t.node.handleInstallSnapshot(chunk)).toEqual({ term: 2, success: true });
    }
    expect(t.node.getSnapshot()).toBeUndefined();
    expect(t.node.getLog()).toEqual(commands(8, 2));
  });

  test("the installed snapshot is durable before the reply that says so", () => {
    const t = follower(commands(2), 1);
    const [first, last] = chunks(data, 30, of6);
    t.node.handleInstallSnapshot(first!);
    expect(t.storage.load().snapshot).toBeUndefined(); // a partial snapshot is not saved
    const writes = t.storage.writes.length;
    t.node.handleInstallSnapshot(last!);
    // The snapshot alone: storage drops its log through [6], all there is.
    expect(t.storage.writes.slice(writes)).toEqual([{ snapshot: { ...of6, data } }]);
  });

  test("InstallSnapshot from the leader of the term restarts the election timer; a candidate of that term steps down", async () => {
    const t = follower(commands(2), 1);
    await runUntil(t, () => t.node.getState().role === "candidate");
    const { currentTerm } = t.node.getState();
    const chunk = chunks(data, 10, { ...of6, term: currentTerm })[0]!;
    t.node.handleInstallSnapshot(chunk);
    expect(t.node.getState()).toMatchObject({ role: "follower", currentTerm, leaderId: 1 });
    const before = t.tracer.events.filter((e) => e.kind === "election.timeout").length;
    for (let i = 0; i < 10; i++) {
      await t.clock.runFor(100);
      t.node.handleInstallSnapshot(chunk);
    }
    expect(t.tracer.events.filter((e) => e.kind === "election.timeout").length).toBe(before);
  });
});

describe("Figure 13: the leader's side", () => {
  /** A leader of term 2 whose snapshot is through [20] (of 25 entries), with chunks of 30 characters. */
  async function snapshotLeader() {
    const t = await leader(commands(25), 25, { snapshotAfterEntries: 10, snapshotChunkSize: 30 });
    expect(t.node.getState()).toMatchObject({ lastIncludedIndex: 20, lastLogIndex: 25 });
    const text = t.node.getSnapshot()!.data;
    // n1 refuses the probe at [25]: its log is empty. [0] is in the snapshot: it gets the snapshot.
    t.nextAppend(1).reply({ term: 2, success: false, conflictIndex: 1 });
    await t.clock.runFor(0);
    return { ...t, text };
  }

  test("a follower whose next entry is gone gets the snapshot in chunks, in order, one at a time, then the entries after it", async () => {
    const t = await snapshotLeader();
    const offsets: number[] = [];
    let received = "";
    for (;;) {
      expect(t.peers.snapshotRequests.filter((c) => c.to === 1)).toHaveLength(1);
      const call = t.nextChunk(1);
      expect(call.args).toMatchObject({
        term: 2,
        leaderId: 0,
        lastIncludedIndex: 20,
        lastIncludedTerm: 1,
      });
      expect(call.args.data.length).toBeLessThanOrEqual(30);
      offsets.push(call.args.offset);
      received += call.args.data;
      call.reply({ term: 2, success: true });
      await t.clock.runFor(0);
      if (call.args.done) break;
    }
    expect(received).toBe(t.text);
    expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, i) => i * 30));
    expect(offsets.length).toBeGreaterThan(3);
    expect(t.progress(1)).toEqual([21, 20]);
    const after = t.nextAppend(1);
    expect(after.args).toMatchObject({
      prevLogIndex: 20,
      prevLogTerm: 1,
      entries: commands(25).slice(20),
    });
  });

  test("a refused chunk starts the snapshot over at offset 0; a lost one goes again with a heartbeat", async () => {
    const t = await snapshotLeader();
    t.nextChunk(1).reply({ term: 2, success: true });
    await t.clock.runFor(0);
    t.nextChunk(1).reply({ term: 2, success: false }); // the follower restarted in between
    await t.clock.runFor(0);
    expect(t.nextChunk(1).args.offset).toBe(0);
    expect(t.peers.snapshotRequests).toEqual([]); // that one is lost: no answer ever comes
    await t.clock.runFor(100); // at the first heartbeat a whole interval later, it goes again
    expect(t.nextChunk(1).args.offset).toBe(0);
  });

  test("late and duplicated answers to earlier chunks change nothing", async () => {
    const t = await snapshotLeader();
    const first = t.nextChunk(1);
    await t.clock.runFor(100); // no answer: the chunk goes again with a heartbeat
    const copies = t.peers.snapshotRequests.splice(0);
    expect(copies.map((c) => c.args.offset)).toEqual(copies.map(() => 0));
    copies[0]!.reply({ term: 2, success: true });
    await t.clock.runFor(0);
    const second = t.nextChunk(1);
    expect(second.args.offset).toBe(30);
    first.reply({ term: 2, success: false }); // late, and a refusal: must not restart anything
    for (const copy of copies.slice(1)) copy.reply({ term: 2, success: true }); // duplicates
    await t.clock.runFor(0);
    expect(t.peers.snapshotRequests).toEqual([]);
    second.reply({ term: 2, success: true });
    await t.clock.runFor(0);
    expect(t.nextChunk(1).args.offset).toBe(60);
  });

  test("a newer snapshot in the middle starts over with it; the older one's last chunk still counts (etcd: snapshot_succeed_via_app_resp_behind)", async () => {
    const t = await leader(commands(25), 25, {
      snapshotAfterEntries: 10,
      snapshotChunkSize: 10_000,
    });
    t.nextAppend(1).reply({ term: 2, success: false, conflictIndex: 1 });
    await t.clock.runFor(0);
    const older = t.nextChunk(1); // the whole snapshot through [20], in one chunk
    expect(older.args).toMatchObject({ lastIncludedIndex: 20, offset: 0, done: true });
    // Ten more entries commit on n2's word, and the leader takes a snapshot through [30].
    for (let i = 26; i <= 30; i++) t.node.submit(`c${i}`);
    await t.clock.runFor(0);
    t.nextAppend(2).reply({ term: 2, success: true });
    await t.clock.runFor(0);
    for (const call of t.peers.appendRequests.splice(0).filter((c) => c.to === 2)) {
      call.reply({ term: 2, success: true });
    }
    await t.clock.runFor(0);
    expect(t.node.getState()).toMatchObject({ commitIndex: 30, lastIncludedIndex: 30 });
    // The answer for [20] comes: n1 holds [20], so it needs [21..] — inside the new snapshot.
    older.reply({ term: 2, success: true });
    await t.clock.runFor(0);
    expect(t.progress(1)).toEqual([21, 20]);
    expect(t.nextChunk(1).args).toMatchObject({ lastIncludedIndex: 30, offset: 0 });
  });

  test("a snapshot through the leader's last entry catches the follower up: heartbeats follow, no more snapshots (etcd: snapshot_succeed_via_app_resp)", async () => {
    const t = await leader(commands(20), 20, {
      snapshotAfterEntries: 10,
      snapshotChunkSize: 10_000,
    });
    expect(t.node.getState()).toMatchObject({ lastIncludedIndex: 20, lastLogIndex: 20 });
    t.nextAppend(1).reply({ term: 2, success: false, conflictIndex: 1 });
    await t.clock.runFor(0);
    t.nextChunk(1).reply({ term: 2, success: true });
    await t.clock.runFor(0);
    expect(t.progress(1)).toEqual([21, 20]);
    await t.clock.runFor(200);
    expect(t.peers.snapshotRequests).toEqual([]);
    const heartbeats = t.peers.appendRequests.filter((c) => c.to === 1);
    expect(heartbeats.length).toBeGreaterThan(2);
    expect(heartbeats.every((c) => c.args.prevLogIndex === 20 && c.args.entries.length === 0)).toBe(
      true,
    );
  });
});

describe("a follower that lost data", () => {
  test("refusing what it acknowledged in this term is reported, once, and nothing is sent again", async () => {
    const t = await leader(commands(3), 3);
    t.nextAppend(1).reply({ term: 2, success: true }); // n1 holds [3]
    await t.clock.runFor(0);
    expect(t.progress(1)).toEqual([4, 3]);
    for (let beat = 0; beat < 3; beat++) {
      await t.clock.runFor(50);
      // Its disk was wiped: it holds nothing, and says so to every heartbeat.
      t.nextAppend(1).reply({ term: 2, success: false, conflictIndex: 1 });
      await t.clock.runFor(0);
    }
    const lost = t.tracer.events.filter((e) => e.kind === "data.lost");
    expect(lost.map((e) => e.details)).toEqual([
      { peer: 1, acknowledged: 3, refused: 3, holds: 0 },
    ]);
    expect(t.progress(1)).toEqual([4, 3]);
    expect(t.peers.snapshotRequests).toEqual([]);
  });

  test("a refusal of a request sent before the follower acknowledged is no loss", async () => {
    const t = await leader(commands(3), 3);
    const early = t.nextAppend(1); // the election's heartbeat, probing [3]
    await t.clock.runFor(50);
    t.nextAppend(1).reply({ term: 2, success: true }); // a later one is accepted
    await t.clock.runFor(0);
    early.reply({ term: 2, success: false, conflictIndex: 1 }); // sent before, answered late
    await t.clock.runFor(0);
    expect(t.tracer.events.filter((e) => e.kind === "data.lost")).toEqual([]);
  });
});
