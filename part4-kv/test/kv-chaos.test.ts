// Goal: the store stays linearizable, and every client can finish, through everything part 3's
// chaos does (partitions, isolations, one-way cuts, slow links, loss, duplication, long
// reordering, crashes and restarts, some in the middle of a save) while five clients work on
// three shared keys and are now and then cut off from nodes on the client network
// (src/sim/kv-chaos.ts). Method: about twenty seconds of random faults on 3 and 5 nodes; then
// heal, restart every node, and require each client to end its operation and read every key;
// the harness checks the whole history with lincheck when the test ends. Under `pnpm test` each
// size runs seeds 1 to 3, and the trace of the three runs must show that the faults did their
// work; a chosen seed (RAFT_SEED, or the seed sweep) runs alone, and may draw a quiet run.
// Each run prints its liveness (src/sim/liveness.ts of part3-persistence), and a stable leader
// must come after the final heal.

import { describeLiveness } from "part3-persistence/sim/liveness";
import { describe, expect } from "vitest";
import { type KvChaosSummary, kvChaosCluster, runKvChaos } from "../src/sim/kv-chaos.ts";
import { Cluster, chosenSeed, test } from "./harness.ts";

describe("key/value chaos", () => {
  for (const n of [3, 5]) {
    test(`${n} nodes: twenty seconds of faults under five clients, then every client finishes`, async () => {
      const chosen = chosenSeed();
      const runs: KvChaosSummary[] = [];
      for (const seed of chosen === undefined ? [1, 2, 3] : [chosen]) {
        const cluster = Cluster.start(n, { seed, ...kvChaosCluster });
        const run = await runKvChaos(cluster, cluster.randomStream());
        runs.push(run);
        const { duringFaults, afterHealMs } = run.liveness;
        console.log(
          `key/value chaos, ${n} nodes, seed ${seed}: ${describeLiveness(duringFaults)} of faults; a stable leader ${afterHealMs} ms after the final heal`,
        );
        expect(afterHealMs).not.toBeNull();
      }
      if (chosen !== undefined) return;
      // What the trace shows the faults did while they went on, over the three runs: links that
      // changed, crashes (some in a save) and restarts, leaders deposed and elected again,
      // replies that came back too late, clients cut off from nodes and back; and operations
      // that went through all the same, during the faults, not only the reads at the end.
      const total = (count: Exclude<keyof KvChaosSummary, "liveness">) =>
        runs.reduce((sum, run) => sum + run[count], 0);
      expect(total("networkChanges")).toBeGreaterThanOrEqual(5);
      expect(total("crashes") + total("halts")).toBeGreaterThanOrEqual(3);
      expect(total("restarts")).toBeGreaterThanOrEqual(3);
      expect(total("leadersElected")).toBeGreaterThan(runs.length);
      expect(total("lateReplies")).toBeGreaterThan(0);
      expect(total("reachChanges")).toBeGreaterThan(0);
      for (const run of runs) expect(run.completedDuringFaults).toBeGreaterThan(25);
    });
  }
});
