// Goal: the election rules hold under everything the network can do at once, and the cluster
// recovers from it (src/sim/chaos.ts): partitions into groups, isolations, one-way cuts, slow
// links, loss, duplication, long reordering, and replies that arrive after the election they
// answer. Method: about twenty seconds of random faults on 3, 4 and 5 nodes, safety checked on
// every event; then heal and require one leader that every node follows. Under `pnpm test` each
// size runs seeds 1 to 3, and the trace of the three runs must show that the faults did their
// work; a chosen seed (RAFT_SEED, or the seed sweep) runs alone, and may draw a quiet run.
// Each run prints its liveness (src/sim/liveness.ts), and a stable leader must come after the
// final heal.

import { describe, expect } from "vitest";
import { type ChaosSummary, chaosNetwork, type FaultCounts, runChaos } from "../src/sim/chaos.ts";
import { describeLiveness } from "../src/sim/liveness.ts";
import { Cluster, chosenSeed, test } from "./harness.ts";

describe("chaos", () => {
  for (const n of [3, 4, 5]) {
    test(`${n} nodes: twenty seconds of faults, then one leader that everyone follows`, async () => {
      const chosen = chosenSeed();
      const runs: ChaosSummary[] = [];
      for (const seed of chosen === undefined ? [1, 2, 3] : [chosen]) {
        const cluster = Cluster.start(n, { seed, network: chaosNetwork });
        const run = await runChaos(cluster, cluster.randomStream());
        runs.push(run);
        const { duringFaults, afterHealMs } = run.liveness;
        console.log(
          `chaos, ${n} nodes, seed ${seed}: ${describeLiveness(duringFaults)} of faults; a stable leader ${afterHealMs} ms after the final heal`,
        );
        expect(afterHealMs).not.toBeNull();
      }
      if (chosen !== undefined) return;
      // What the trace shows the faults did (counted while they went on), over the three runs:
      // links that changed, leaders deposed and elected again, and replies that came back after
      // their call had given up on them.
      const total = (count: keyof FaultCounts) => runs.reduce((sum, run) => sum + run[count], 0);
      expect(total("networkChanges")).toBeGreaterThanOrEqual(5);
      expect(total("leadersElected")).toBeGreaterThan(runs.length);
      expect(total("lateReplies")).toBeGreaterThan(0);
    });
  }
});
