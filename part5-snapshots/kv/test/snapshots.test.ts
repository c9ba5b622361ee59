// Goal: the store's state in Raft's snapshots (§7): a follower cut off while hundreds of entries
// commit comes back by InstallSnapshot, in chunks, with the leader's map and session table; a
// node restarted after compaction restores its snapshot and applies only the entries after it;
// a whole cluster restarted likewise; a request that waits for an entry a snapshot then replaces
// is answered "maybe" (its own entry may be in the snapshot). Method: simulated clusters whose
// policy takes a snapshot every 50 entries, sent in chunks of 200 characters; the states are
// compared whole (machine.snapshot(): the map and the sessions); each test's history goes
// through lincheck when it ends (harness.ts).

import { describe, expect } from "vitest";
import type { KvTraceEvent } from "../src/trace.ts";
import { Cluster, type ClusterOptions, test } from "./harness.ts";
import { expectGet, watched } from "./kv-helpers.ts";

const SNAPSHOTS: ClusterOptions = { raft: { snapshotAfterEntries: 50, snapshotChunkSize: 200 } };

/** The events of `kind` on node `id`, from the `from`-th event of the run on. */
function eventsOf<K extends KvTraceEvent["kind"]>(
  cluster: Cluster,
  id: number,
  kind: K,
  from = 0,
): Extract<KvTraceEvent, { kind: K }>[] {
  return cluster.events
    .slice(from)
    .filter((e): e is Extract<KvTraceEvent, { kind: K }> => e.node === id && e.kind === kind);
}

/** Waits until every node has applied everything the leader committed, and returns that index. */
async function allApplied(cluster: Cluster, leader: number): Promise<number> {
  const done = () =>
    cluster.ids.every((id) => cluster.state(id).lastApplied === cluster.state(leader).commitIndex);
  await cluster.runUntil(cluster.clock.now() + 10_000, done);
  expect(done(), "every node applied what the leader committed").toBe(true);
  return cluster.state(leader).commitIndex;
}

/** Every node's state machine, whole: the map and the session table. */
function states(cluster: Cluster): string[] {
  return cluster.ids.map((id) => JSON.stringify(cluster.services.get(id)!.machine.snapshot()));
}

describe("the store's snapshots", () => {
  test("a follower cut off for 300 entries comes back by InstallSnapshot, sessions included", async () => {
    const cluster = Cluster.start(3, SNAPSHOTS);
    const { leader } = await cluster.checkSingleLeader();
    const follower = (leader + 1) % 3;
    const c1 = cluster.client("c1");
    await cluster.settle(c1.put("k", ""));
    cluster.isolate(follower);
    for (let i = 0; i < 300; i++) await cluster.settle(c1.append("k", "."));
    expect(cluster.state(leader).lastIncludedIndex).toBeGreaterThan(250);
    const before = cluster.events.length;
    cluster.reconnect(follower);
    const applied = await allApplied(cluster, leader);
    // The entries it lacked are gone from the leader's log: it got the snapshot, in chunks.
    expect(eventsOf(cluster, follower, "snapshot.install", before)).toHaveLength(1);
    expect(eventsOf(cluster, follower, "snapshot.chunk", before).length).toBeGreaterThan(1);
    // Every node has the same state at the same index: the map, and c1's session with it.
    const [first, ...rest] = states(cluster);
    for (const other of rest) expect(other).toBe(first);
    const machine = cluster.services.get(follower)!.machine;
    expect(machine.read("k")).toBe(".".repeat(300));
    expect(machine.sessionCount).toBe(1);
    expect(applied).toBeGreaterThan(300);
    await expectGet(cluster, c1, "k", ".".repeat(300));
  });

  test("a restarted node restores its snapshot and applies only the entries after it", async () => {
    const cluster = Cluster.start(3, SNAPSHOTS);
    const { leader } = await cluster.checkSingleLeader();
    const follower = (leader + 1) % 3;
    const c1 = cluster.client("c1");
    for (let i = 0; i < 120; i++) await cluster.settle(c1.put(`k${i % 7}`, String(i)));
    await allApplied(cluster, leader);
    const kept = cluster.state(follower).lastIncludedIndex;
    expect(kept).toBeGreaterThanOrEqual(100);
    cluster.crash(follower);
    const before = cluster.events.length;
    cluster.restart(follower);
    await allApplied(cluster, leader);
    const [restore] = eventsOf(cluster, follower, "snapshot.restore", before);
    expect(restore?.details.lastIncludedIndex).toBe(kept);
    const reapplied = eventsOf(cluster, follower, "apply", before).map((e) => e.details.index);
    expect(reapplied.length).toBeGreaterThan(0);
    expect(Math.min(...reapplied)).toBe(kept + 1);
    const [first, ...rest] = states(cluster);
    for (const other of rest) expect(other).toBe(first);
  });

  test("a whole cluster restarted after compaction serves what it held, exactly once", async () => {
    const cluster = Cluster.start(5, SNAPSHOTS);
    const c1 = cluster.client("c1");
    for (let i = 0; i < 130; i++) await cluster.settle(c1.append("log", `${i};`));
    for (const id of cluster.ids) cluster.crash(id);
    await cluster.advance(500);
    for (const id of cluster.ids) cluster.restart(id);
    const expected = Array.from({ length: 130 }, (_, i) => `${i};`).join("");
    await expectGet(cluster, c1, "log", expected);
    await cluster.settle(c1.append("log", "after;"));
    await expectGet(cluster, cluster.client("c2"), "log", `${expected}after;`);
    for (const id of cluster.ids) {
      expect(eventsOf(cluster, id, "snapshot.restore").length).toBeGreaterThan(0);
    }
  });

  test("a request waiting for an entry that a snapshot replaces is answered 'maybe'", async () => {
    const cluster = Cluster.start(3, { ...SNAPSHOTS, service: { requestTimeoutMs: 60_000 } });
    const { leader } = await cluster.checkSingleLeader();
    await cluster.settle(cluster.client("c0").put("k", "before"));
    cluster.isolate(leader);
    const request = { command: { op: "put", key: "k", value: "lost" } } as const;
    const answer = watched(cluster.services.get(leader)!.handle(request));
    // The others go on for 200 entries; the old leader's entry there is not theirs.
    const c1 = cluster.client("c1");
    for (let i = 0; i < 200; i++) await cluster.settle(c1.put("j", String(i)));
    expect(answer.settled()).toBe(false);
    const before = cluster.events.length;
    cluster.reconnect(leader);
    // It gets the new leader's snapshot, which stands for the index its request waited at: which
    // entry is there, the snapshot does not say. The answer is "maybe" (here it did not run).
    expect(await cluster.settle(answer.promise, 5000)).toMatchObject({
      status: "failed",
      definite: false,
      error: expect.stringContaining("a snapshot through"),
    });
    expect(eventsOf(cluster, leader, "snapshot.install", before)).toHaveLength(1);
    await expectGet(cluster, c1, "k", "before");
  });
});
