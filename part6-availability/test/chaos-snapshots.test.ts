// Goal: part 3's chaos scenario (src/sim/chaos.ts: partitions, one-way cuts, slow links, loss,
// duplication, reordering, crashes and restarts, some in the middle of a save) with log
// compaction on (§7): snapshots taken every few entries, InstallSnapshot in small chunks that the
// network loses, duplicates and reorders, followers and restarted nodes catching up by snapshot.
// Method: the same twenty seconds of faults on 3, 4 and 5 nodes, with every safety and
// conformance check on every event, now also State Machine Safety on snapshots (each one checked
// against the entries it stands for) and the bound on each log (no node keeps more applied
// entries than the policy allows); then heal and require one leader that every node follows, and
// every committed entry applied (or restored) on every node. Then, however little the faults let
// commit, one node cut off while three snapshots' worth of entries commit must catch up by an
// InstallSnapshot. Under `pnpm test` each size runs seeds 1 to 3, and the trace of the three runs
// must show that the faults met snapshots (taken, installed, restored at a restart); a chosen seed
// (RAFT_SEED, or the seed sweep) runs alone.

import { describe, expect } from "vitest";
import { chaosNetwork, runChaos } from "../src/sim/chaos.ts";
import { Cluster, chosenSeed, test } from "./harness.ts";

/** Snapshots every 20 applied entries, sent 2,048 characters at a time (10 or more chunks). */
const compaction = { snapshotAfterEntries: 20, snapshotChunkSize: 2048 };

describe("chaos with log compaction", () => {
  for (const n of [3, 4, 5]) {
    test(`${n} nodes: twenty seconds of faults with snapshots, then one leader and every entry everywhere`, async () => {
      const chosen = chosenSeed();
      let [takes, installs, loads] = [0, 0, 0];
      for (const seed of chosen === undefined ? [1, 2, 3] : [chosen]) {
        const cluster = Cluster.start(n, { seed, network: chaosNetwork, raft: compaction });
        await runChaos(cluster, cluster.randomStream());
        for (const e of cluster.tracer.events) {
          if (e.kind === "snapshot.take") takes++;
          if (e.kind === "snapshot.install") installs++;
          if (e.kind === "snapshot.restore" && e.details.reason.startsWith("loaded")) loads++;
        }
        // However little the faults let commit, a node cut off while three snapshots' worth of
        // entries commit must then catch up by one.
        const { leader } = await cluster.checkSettled();
        const behind = (leader + 1) % n;
        cluster.isolate(behind);
        for (let i = 0; i < 3 * compaction.snapshotAfterEntries; i++) {
          await cluster.one(`after ${i}`, n - 1, true);
        }
        cluster.reconnect(behind);
        const last = await cluster.one("everyone", n, true);
        const installed = cluster.tracer.events.some(
          (e) => e.kind === "snapshot.install" && e.node === behind,
        );
        expect(installed).toBe(true);
        // No storage lost what it saved, so no leader may have reported lost data.
        expect(cluster.tracer.events.filter((e) => e.kind === "data.lost")).toEqual([]);
        for (const id of cluster.ids) expect(cluster.applied.get(id)!.length).toBe(last);
      }
      if (chosen !== undefined) return;
      // In the chaos runs (the faults and the settling after them), over the three seeds:
      // snapshots taken, one installed on a node that fell behind, one loaded by a restart.
      expect(takes).toBeGreaterThan(3);
      expect(installs).toBeGreaterThan(0);
      expect(loads).toBeGreaterThan(0);
    });
  }
});
