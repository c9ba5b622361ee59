// Goal: the store stays linearizable, and every client can finish, through everything part 3's
// chaos does (partitions, isolations, one-way cuts, slow links, loss, duplication, long
// reordering, crashes and restarts, some in the middle of a save) while five clients work on
// three shared keys and are now and then cut off from nodes on the client network
// (src/sim/kv-chaos.ts). Method: about twenty seconds of random faults on 3 and 5 nodes; then
// heal, restart every node, and require each client to end its operation and read every key;
// the harness checks the whole history with lincheck when the test ends. Under `pnpm test` each
// size runs seeds 1 to 3, and the trace of the three runs must show that the faults did their
// work; a chosen seed (RAFT_SEED, or the seed sweep) runs alone, and may draw a quiet run. With
// compaction (§7), on 3, 4 and 5 nodes: a snapshot every 30 entries, sent in chunks of 64
// characters, so that crashed and cut-off nodes come back by InstallSnapshot and by restoring
// their own snapshots; the trace must show that they did. Each run prints its liveness
// (src/sim/liveness.ts of part5-snapshots), and a stable leader must come after the final heal.

import { describeLiveness } from "part6-availability/sim/liveness";
import { describe, expect } from "vitest";
import { type KvChaosSummary, kvChaosCluster, runKvChaos } from "../src/sim/kv-chaos.ts";
import { Cluster, type ClusterOptions, chosenSeed, test } from "./harness.ts";

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

describe("key/value chaos with compaction", () => {
  const compaction: ClusterOptions = {
    ...kvChaosCluster,
    raft: { snapshotAfterEntries: 30, snapshotChunkSize: 64 },
  };
  for (const n of [3, 4, 5]) {
    test(`${n} nodes: twenty seconds of faults under five clients, snapshots every 30 entries`, async () => {
      const chosen = chosenSeed();
      const counts = { take: 0, install: 0, restore: 0, completed: 0 };
      for (const seed of chosen === undefined ? [1, 2, 3] : [chosen]) {
        const cluster = Cluster.start(n, { seed, ...compaction });
        const run = await runKvChaos(cluster, cluster.randomStream());
        counts.completed += run.completedDuringFaults;
        for (const e of cluster.events) {
          if (e.kind === "snapshot.take") counts.take++;
          else if (e.kind === "snapshot.install") counts.install++;
          else if (e.kind === "snapshot.restore") counts.restore++;
        }
      }
      if (chosen !== undefined) return;
      // Snapshots were taken, installed by leaders on nodes that had fallen behind, and
      // restored by restarted nodes; operations went through all the same.
      expect(counts.take).toBeGreaterThan(30);
      expect(counts.install).toBeGreaterThan(3);
      expect(counts.restore).toBeGreaterThan(10);
      expect(counts.completed).toBeGreaterThan(150);
    });
  }
});
