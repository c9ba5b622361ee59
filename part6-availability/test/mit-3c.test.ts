// Goal: the persistence scenarios of the MIT 6.824 Raft lab 3C (basic and more persistence, a
// partitioned leader with a crashed follower, unreliable agreement, reliable and unreliable
// churn), and the lab's 3B backup scenario held to an RPC budget that fast backtracking makes
// possible. (The lab's two Figure 8 scenarios are mit-3c-figure8.test.ts.) Method: as in the lab,
// but in virtual time (lab-3c.ts): its sleeps become `advance`, every random choice (commands,
// servers, sleeps) comes from the test's seed, its one() is the harness's `one`, and its
// goroutines (concurrent clients) are clients driven by the same virtual clock. The lab's crash
// (shutdown) and restart become the cluster's `crash` and `restart` on the same storage; its
// disconnect and connect become `isolate` and `reconnect`. The lab's iteration counts are kept,
// except in the reliable churn (said there). The Figure 3 properties, and every rule the
// conformance checks know, are checked on every event, not only when the test looks.

import { describe, expect } from "vitest";
import { unreliableNetwork } from "../src/sim/network.ts";
import { Cluster, test } from "./harness.ts";
import {
  backup,
  type Client,
  churn,
  ELECTION_TIMEOUT,
  joinClients,
  oneInBackground,
} from "./lab-3c.ts";

describe("MIT 6.824 lab 3C", () => {
  test("basic persistence: everyone, the leader, then a follower crash and restart", async () => {
    const cluster = Cluster.start(3);
    await cluster.one(11, 3, true);
    for (const id of cluster.ids) cluster.crash(id);
    for (const id of cluster.ids) cluster.restart(id);
    await cluster.one(12, 3, true);
    const leader1 = (await cluster.checkSingleLeader()).leader;
    cluster.crash(leader1);
    cluster.restart(leader1);
    await cluster.one(13, 3, true);
    const leader2 = (await cluster.checkSingleLeader()).leader;
    cluster.crash(leader2);
    await cluster.one(14, 2, true);
    cluster.restart(leader2);
    // The lab waits for leader2 to have index 4 before it crashes the next one.
    await cluster.runUntil(cluster.clock.now() + 10_000, () => cluster.nCommitted(4).count === 3);
    expect(cluster.nCommitted(4)).toEqual({ count: 3, command: 14 });
    const i3 = ((await cluster.checkSingleLeader()).leader + 1) % 3;
    cluster.crash(i3);
    await cluster.one(15, 2, true);
    cluster.restart(i3);
    await cluster.one(16, 3, true);
    expect(cluster.applied.get(i3)!.map((e) => e.command)).toEqual([11, 12, 13, 14, 15, 16]);
  });

  test("more persistence: five rounds of crashes that leave only restarted nodes a majority", async () => {
    const cluster = Cluster.start(5);
    let index = 1;
    for (let iters = 0; iters < 5; iters++) {
      await cluster.one(10 + index++, 5, true);
      const leader1 = (await cluster.checkSingleLeader()).leader;
      const peer = (k: number) => (leader1 + k) % 5;
      cluster.crash(peer(1));
      cluster.crash(peer(2));
      await cluster.one(10 + index++, 3, true);
      for (const k of [0, 3, 4]) cluster.crash(peer(k));
      cluster.restart(peer(1));
      cluster.restart(peer(2));
      await cluster.advance(ELECTION_TIMEOUT);
      cluster.restart(peer(3));
      // Of the three up, only peer(3) holds the entry peers 1 and 2 missed: it alone can win.
      await cluster.one(10 + index++, 3, true);
      cluster.restart(peer(4));
      cluster.restart(peer(0));
    }
    await cluster.one(1000, 5, true);
  });

  test("partitioned leader and one follower crash, leader restarts", async () => {
    const cluster = Cluster.start(3);
    await cluster.one(101, 3, true);
    const { leader } = await cluster.checkSingleLeader();
    cluster.isolate((leader + 2) % 3);
    await cluster.one(102, 2, true);
    cluster.crash(leader);
    cluster.crash((leader + 1) % 3);
    cluster.reconnect((leader + 2) % 3);
    cluster.restart(leader);
    // The old leader holds 102, the isolated node does not: only the old leader can win.
    await cluster.one(103, 2, true);
    cluster.restart((leader + 1) % 3);
    await cluster.one(104, 3, true);
    expect((await cluster.checkCommitted(102)).index).toBe(2);
  });

  test("unreliable agreement: concurrent clients on a lossy, slow network", async () => {
    const cluster = Cluster.start(5, { network: unreliableNetwork });
    const clients: Client[] = [];
    for (let iters = 1; iters < 50; iters++) {
      for (let j = 0; j < 4; j++) clients.push(oneInBackground(cluster, 100 * iters + j, 1));
      await cluster.one(iters, 1, true);
    }
    cluster.network.makeReliable();
    await joinClients(cluster, clients);
    await cluster.one(100, 5, true);
  });

  test("churn: clients submit while servers are cut off, crash and restart (20 rounds)", async () => {
    await churn(Cluster.start(5), 20);
  });

  test("unreliable churn: the same on a lossy, slow network", async () => {
    await churn(Cluster.start(5, { network: unreliableNetwork }));
  });

  test("3B backup at its RPC budget: fast backtracking skips a term per refused AppendEntries", async () => {
    // At least two followers (the first leader's partner and the first leader itself) must have
    // 50 entries of one term overwritten, and one or two more (the second leader's side) 50 of
    // another. With the conflict hint a leader skips a whole term per refusal: one refused
    // AppendEntries per follower and leader, two when a heartbeat is refused beside the probe.
    // Backing up one entry per refusal (Figure 2 as written) costs 50 or more.
    const fast = await backup({ fastBacktracking: true });
    expect(fast.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...fast)).toBeLessThanOrEqual(2);
    const slow = await backup({ fastBacktracking: false });
    expect(slow.filter((refused) => refused >= 50).length).toBeGreaterThanOrEqual(2);
  });
});
