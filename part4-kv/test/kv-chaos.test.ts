// Goal: the store stays linearizable, and every client can finish, through everything part 3's
// chaos does (partitions, isolations, one-way cuts, slow links, loss, duplication, long
// reordering, crashes and restarts, some in the middle of a save) while five clients work on
// three shared keys and are now and then cut off from nodes on the client network
// (src/sim/kv-chaos.ts). Method: about twenty seconds of random faults on 3 and 5 nodes; then
// heal, restart every node, and require each client to end its operation and read every key;
// the harness checks the whole history with lincheck when the test ends. Under `pnpm test` each
// size runs seeds 1 to 3; a chosen seed (RAFT_SEED, or the seed sweep) runs alone.

import { describe, expect } from "vitest";
import { kvChaosCluster, runKvChaos } from "../src/sim/kv-chaos.ts";
import { Cluster, chosenSeed, test } from "./harness.ts";

const seeds = (): number[] => {
  const chosen = chosenSeed();
  return chosen === undefined ? [1, 2, 3] : [chosen];
};

describe("key/value chaos", () => {
  for (const n of [3, 5]) {
    test(`${n} nodes: twenty seconds of faults under five clients, then every client finishes`, async () => {
      for (const seed of seeds()) {
        const cluster = Cluster.start(n, { seed, ...kvChaosCluster });
        const summary = await runKvChaos(cluster, cluster.randomStream());
        // A run without faults, or without operations that went through, would test nothing.
        expect(summary.faults).toBeGreaterThan(20);
        expect(summary.reachChanges).toBeGreaterThan(0);
        expect(summary.completed).toBeGreaterThan(25);
      }
    });
  }
});
