// Goal: majorities in clusters of even size. Half the servers are not a majority, so a 2/2 or
// 3/3 split elects no one on either side; a majority counted with `>=` instead of `>` would elect
// a leader on both sides of it, two leaders in one term. Method: whole clusters of 2, 4 and 6
// nodes split down the middle; no election may succeed until the split heals.

import { describe, expect } from "vitest";
import type { NodeId } from "../src/raft.ts";
import { Cluster, test } from "./harness.ts";

/** Leaders elected from trace position `from` on. */
function electedSince(cluster: Cluster, from: number): NodeId[] {
  return cluster.tracer.events
    .slice(from)
    .filter((e) => e.kind === "role" && e.details.to === "leader")
    .map((e) => e.node!);
}

describe("even-sized clusters", () => {
  for (const n of [2, 4, 6]) {
    test(`${n} nodes split in halves elect no one until the split heals`, async () => {
      const cluster = Cluster.start(n);
      const { term } = await cluster.checkSingleLeader();
      const half = cluster.ids.slice(0, n / 2);
      const rest = cluster.ids.slice(n / 2);
      const from = cluster.tracer.events.length;
      cluster.partition(half, rest);
      await cluster.advance(3000);
      // Each side keeps asking for pre-votes and never hears yes from a majority: no one wins,
      // and with PreVote (§9.6) no term rises either.
      expect(electedSince(cluster, from)).toEqual([]);
      expect(Math.max(...cluster.ids.map((id) => cluster.state(id).currentTerm))).toBe(term);
      cluster.heal();
      await cluster.checkSingleLeader();
    });
  }

  test("4 nodes: a leader and one follower cut off leave two, who cannot elect", async () => {
    const cluster = Cluster.start(4);
    const { leader } = await cluster.checkSingleLeader();
    const follower = (leader + 1) % 4;
    cluster.isolate(leader);
    cluster.isolate(follower);
    const from = cluster.tracer.events.length;
    await cluster.advance(3000);
    expect(electedSince(cluster, from)).toEqual([]);
    cluster.reconnect(follower);
    const next = await cluster.checkSingleLeader();
    expect(next.leader).not.toBe(leader);
  });
});
