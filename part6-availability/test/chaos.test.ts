// Goal: the election and log rules hold under everything the network can do at once, and under
// crashes and restarts, some in the middle of a save, and the cluster recovers from it
// (src/sim/chaos.ts): partitions into groups, isolations, one-way cuts, slow links, loss,
// duplication, long reordering, and replies that arrive after the election or term they answer,
// while commands keep coming to every node that believes it leads. Method: about twenty seconds
// of random faults on 3, 4 and 5 nodes, safety checked on every event; then heal and require one
// leader that every node follows, and every committed entry on every node. Under `pnpm test` each
// size runs seeds 1 to 3, and the trace of the three runs must show that the faults did their
// work; a chosen seed (RAFT_SEED, or the seed sweep) runs alone, and may draw a quiet run.
// Each run prints its liveness (src/sim/liveness.ts), and a stable leader must come after the
// final heal.
// Part 6 also hands each run's liveness to the seed sweep (liveness-meta.ts).

import { describe, expect } from "vitest";
import {
  type ChaosSummary,
  chaosDiskWriteMs,
  chaosNetwork,
  type FaultCounts,
  runChaos,
} from "../src/sim/chaos.ts";
import { describeLiveness } from "../src/sim/liveness.ts";
import { Cluster, chosenSeed, test } from "./harness.ts";
import { recordLiveness } from "./liveness-meta.ts";

describe("chaos", () => {
  for (const n of [3, 4, 5]) {
    test(`${n} nodes: twenty seconds of faults, then one leader and every entry everywhere`, async () => {
      const chosen = chosenSeed();
      const runs: ChaosSummary[] = [];
      for (const seed of chosen === undefined ? [1, 2, 3] : [chosen]) {
        const options = { seed, network: chaosNetwork, diskWriteMs: chaosDiskWriteMs };
        const cluster = Cluster.start(n, options);
        const run = await runChaos(cluster, cluster.randomStream());
        runs.push(run);
        const { duringFaults, afterHealMs } = run.liveness;
        console.log(
          `chaos, ${n} nodes, seed ${seed}: ${describeLiveness(duringFaults)} of faults; a stable leader ${afterHealMs} ms after the final heal`,
        );
        recordLiveness({ seed, ...duringFaults, afterHealMs });
        expect(afterHealMs).not.toBeNull();
      }
      if (chosen !== undefined) return;
      // What the trace shows the faults did (counted while they went on), over the three runs:
      // links that changed, crashes (some in a save) and restarts, leaders deposed and elected
      // again, replies that came back after their call had given up on them, and entries
      // committed all the same.
      const total = (count: keyof FaultCounts) => runs.reduce((sum, run) => sum + run[count], 0);
      expect(total("networkChanges")).toBeGreaterThanOrEqual(5);
      expect(total("crashes") + total("halts")).toBeGreaterThanOrEqual(3);
      expect(total("restarts")).toBeGreaterThanOrEqual(3);
      expect(total("leadersElected")).toBeGreaterThan(runs.length);
      expect(total("lateReplies")).toBeGreaterThan(0);
      for (const run of runs) expect(run.highestCommit).toBeGreaterThan(0);
    });
  }
});
