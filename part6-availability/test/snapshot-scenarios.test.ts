// Goal: the catch-up scenarios §7 exists for, on whole clusters: etcd-io/raft's
// slow_follower_after_compaction (a follower whose entries in flight were lost while its leader
// compacted past them); a follower cut off while thousands of entries commit, which comes back
// by one snapshot and a short tail instead of thousands of entries; and a follower that crashes
// in the middle of receiving a snapshot's chunks, which must get the whole snapshot again after
// its restart. Method: simulated clusters in virtual time, every safety and conformance check on
// every event (snapshots compared with the entries they stand for, logs bounded by the policy).

import { describe, expect } from "vitest";
import type { NodeId } from "../src/raft.ts";
import type { EventOf, Kind } from "../src/trace.ts";
import { Cluster, test } from "./harness.ts";

/** The events of `kind` on node `node` from event number `from` on. */
function eventsOn<K extends Kind>(cluster: Cluster, node: NodeId, kind: K, from = 0): EventOf<K>[] {
  const found = cluster.tracer.events.slice(from).filter((e) => e.kind === kind && e.node === node);
  return found as unknown as EventOf<K>[];
}

/** Entries sent to `to` in AppendEntries from event number `from` on. */
function entriesSentTo(cluster: Cluster, to: NodeId, from: number): number {
  let count = 0;
  for (const e of cluster.tracer.events.slice(from)) {
    const d = e.kind === "send" ? e.details : undefined;
    if (d?.to === to && d.rpc === "AppendEntries" && d.type === "request") {
      count += d.payload.entries.length;
    }
  }
  return count;
}

describe("catching up after compaction", () => {
  test("etcd's slow_follower_after_compaction: entries in flight lost, the leader compacts past them, a snapshot catches the follower up", async () => {
    // Long election timeouts: as in etcd's test, nobody stands for election meanwhile.
    const raft = {
      snapshotAfterEntries: 5,
      maxEntriesPerAppend: 2,
      electionTimeoutMinMs: 2000,
      electionTimeoutMaxMs: 3000,
    };
    const cluster = Cluster.start(3, { raft });
    for (let i = 12; i <= 14; i++) await cluster.one(`prop_1_${i}`, 3, true);
    const { leader, term } = await cluster.checkSingleLeader(10_000);
    const slow = (leader + 2) % 3;
    // What the leader sends the slow follower is lost while more commit, until the leader has
    // compacted past the follower's last entry.
    cluster.cut(leader, slow);
    let proposal = 15;
    while (cluster.state(leader).lastIncludedIndex <= cluster.state(slow).lastLogIndex) {
      await cluster.one(`prop_1_${proposal++}`, 2, true);
    }
    expect(proposal).toBeLessThan(30);
    const mark = cluster.tracer.events.length;
    cluster.uncut(leader, slow);
    expect(cluster.state(slow).role).toBe("follower");
    const last = cluster.state(leader).lastLogIndex;
    const progress = () =>
      eventsOn(cluster, leader, "progress", mark)
        .filter((e) => e.details.peer === slow)
        .at(-1)?.details;
    await cluster.runUntil(cluster.clock.now() + 2000, () => progress()?.matchIndex === last);
    expect(eventsOn(cluster, slow, "snapshot.install", mark)).toHaveLength(1);
    // All caught up, under the same leader.
    expect(progress()).toMatchObject({ matchIndex: last, nextIndex: last + 1 });
    expect(cluster.state(slow)).toMatchObject({ commitIndex: last, currentTerm: term });
  });

  test("a follower cut off while thousands of entries commit comes back by one snapshot and a short tail", async () => {
    const cluster = Cluster.start(3, { raft: { snapshotAfterEntries: 500 } });
    await cluster.one("first", 3, true);
    const { leader } = await cluster.checkSingleLeader();
    const away = (leader + 1) % 3;
    cluster.isolate(away);
    for (let batch = 0; batch < 30; batch++) {
      for (let i = 0; i < 100; i++) cluster.submitToServer(leader, `c${batch * 100 + i}`);
      await cluster.advance(10);
    }
    const last = await cluster.one("last of many", 2, true);
    expect(last).toBeGreaterThan(3000);
    const mark = cluster.tracer.events.length;
    cluster.reconnect(away);
    await cluster.one("back", 3, true);
    const installed = eventsOn(cluster, away, "snapshot.install", mark);
    expect(installed).toHaveLength(1);
    const through = installed[0]!.details.lastIncludedIndex;
    expect(through).toBeGreaterThanOrEqual(3000);
    // The snapshot stood for the first [through] entries; only the tail went as entries.
    expect(entriesSentTo(cluster, away, mark)).toBeLessThan(last + 2 - through + 10);
    expect(cluster.applied.get(away)).toEqual(cluster.applied.get(leader));
  });

  test("a follower that crashes in the middle of receiving chunks gets the whole snapshot again after its restart", async () => {
    const cluster = Cluster.start(3, {
      raft: { snapshotAfterEntries: 50, snapshotChunkSize: 512 },
    });
    await cluster.one("first", 3, true);
    const { leader } = await cluster.checkSingleLeader();
    const away = (leader + 1) % 3;
    cluster.isolate(away);
    for (let i = 0; i < 200; i++) await cluster.one(`while away ${i}`, 2, true);
    const mark = cluster.tracer.events.length;
    cluster.reconnect(away);
    // It takes a few chunks (the snapshot is over 8,000 characters: more than 15 of them)...
    await cluster.runUntil(cluster.clock.now() + 2000, () => {
      return (
        eventsOn(cluster, away, "snapshot.chunk", mark).filter((e) => e.details.taken).length >= 3
      );
    });
    expect(eventsOn(cluster, away, "snapshot.install", mark)).toEqual([]);
    // ... and crashes, losing them: they were in memory only.
    cluster.crash(away);
    await cluster.advance(300);
    const restartMark = cluster.tracer.events.length;
    cluster.restart(away);
    await cluster.one("back", 3, true);
    const after = eventsOn(cluster, away, "snapshot.chunk", restartMark);
    // The leader's next chunk continued what the follower no longer had: refused, and the
    // snapshot went again from offset 0.
    expect(after.find((e) => !e.details.taken)?.details.offset).toBeGreaterThan(0);
    expect(after.find((e) => e.details.taken)?.details.offset).toBe(0);
    expect(eventsOn(cluster, away, "snapshot.install", restartMark)).toHaveLength(1);
    expect(cluster.applied.get(away)).toEqual(cluster.applied.get(leader));
  });
});
