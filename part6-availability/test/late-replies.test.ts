// Goal: replies that come back after the election or term they answer. On a real network a
// reply can be held up for longer than an election takes; with the default RPC timeout (100 ms,
// below the shortest election timeout) the simulation would never show one. Method: whole
// clusters with an RPC timeout of seconds and slow links or long reordering, so replies outlive
// their elections; the safety checks must hold on every event, stale replies must be seen and
// ignored, and the cluster must still elect one leader.

import { describe, expect } from "vitest";
import type { SimCluster } from "../src/sim/cluster.ts";
import { Cluster, test } from "./harness.ts";

/** Stale replies that answer a request of an earlier term than the one the caller is in now. */
function repliesFromEarlierTerms(cluster: SimCluster) {
  return cluster.tracer.events.filter(
    (e) => e.kind === "reply.stale" && e.node !== null && e.details.requestTerm < e.term!,
  );
}

describe("replies that arrive after their election", () => {
  test("slow voters: their votes come back after the terms they were for, and do not count", async () => {
    const cluster = Cluster.start(5, { network: { rpcTimeoutMs: 5000 } });
    // Everything n3 and n4 send takes a second longer: their votes arrive elections later.
    for (const slow of [3, 4]) {
      for (const to of cluster.ids) if (to !== slow) cluster.slow(slow, to, 1000);
    }
    // Leader changes until some reply has come back to a node that moved on (a few suffice).
    for (let round = 0; round < 20 && repliesFromEarlierTerms(cluster).length === 0; round++) {
      const { leader } = await cluster.checkSingleLeader(5000);
      cluster.isolate(leader);
      await cluster.advance(1500);
      cluster.reconnect(leader);
    }
    expect(repliesFromEarlierTerms(cluster).length).toBeGreaterThan(0);
    await cluster.checkSingleLeader(5000);
  });

  test("long reordering: replies overtake each other and outlive elections", async () => {
    const cluster = Cluster.start(5, {
      network: { reorderRate: 0.3, reorderDelayMs: { min: 200, max: 1500 }, rpcTimeoutMs: 3000 },
    });
    for (let round = 0; round < 20 && repliesFromEarlierTerms(cluster).length === 0; round++) {
      const { leader } = await cluster.checkSingleLeader(5000);
      cluster.isolate(leader);
      await cluster.advance(800);
      cluster.reconnect(leader);
    }
    expect(repliesFromEarlierTerms(cluster).length).toBeGreaterThan(0);
    await cluster.checkSingleLeader(5000);
  });
});
