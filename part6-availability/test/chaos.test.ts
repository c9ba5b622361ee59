// Goal: the election and log rules hold under everything the network can do at once, and under
// crashes and restarts, some in the middle of a save, and the cluster recovers from it
// (src/sim/chaos.ts): partitions into groups, isolations, one-way cuts, slow links, loss,
// duplication, long reordering, and replies that arrive after the election or term they answer,
// while commands keep coming to every node that believes it leads. Method:
// about twenty seconds of random faults on 3, 4 and 5 nodes, safety checked on every event; then
// heal and require one leader that every node follows, and every committed entry on every node. Under `pnpm test` each
// size runs seeds 1 to 3; a chosen seed (RAFT_SEED, or the seed sweep) runs alone.

import { describe, expect } from "vitest";
import { chaosNetwork, runChaos } from "../src/sim/chaos.ts";
import { Cluster, chosenSeed, test } from "./harness.ts";

const seeds = (): number[] => {
  const chosen = chosenSeed();
  return chosen === undefined ? [1, 2, 3] : [chosen];
};

describe("chaos", () => {
  for (const n of [3, 4, 5]) {
    test(`${n} nodes: twenty seconds of faults, then one leader and every entry everywhere`, async () => {
      for (const seed of seeds()) {
        const cluster = Cluster.start(n, { seed, network: chaosNetwork });
        const summary = await runChaos(cluster, cluster.randomStream());
        // A run with no faults would test nothing. (With crashes, a run may well elect only once:
        // whole stretches without a quorum are part of what it tests.)
        expect(summary.faults).toBeGreaterThan(20);
      }
    });
  }
});
