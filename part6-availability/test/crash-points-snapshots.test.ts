// Goal: persistence holds at every moment with snapshots too (§7): a crash at any single save of
// a scenario that takes snapshots, compacts logs and installs a snapshot on a follower that fell
// behind leaves the node with the old snapshot and log or the new ones, and the cluster goes on.
// Method: as crash-points.test.ts (its machinery in crash-points.ts): the scenario is run once to
// count every save, as the file loads; then once per save, crashing the node that makes it at
// that save, before the save is durable and after; the node restarts 200 ms later on the same
// storage. The safety checks (snapshots against the entries they stand for, the bound on each
// log) and the conformance checks (nothing sent before its snapshot is durable) hold on every
// event, and every command ends up on every node.

import { describe, expect, test } from "vitest";
import type { SimCluster } from "../src/sim/cluster.ts";
import { crashAtSave, crashPoints, dryRun, savesMade } from "./crash-points.ts";
import { Cluster } from "./harness.ts";

const SEED = 1;
/** A snapshot every 2 applied entries, sent 64 characters at a time. */
const raft = { snapshotAfterEntries: 2, snapshotChunkSize: 64 };

/** The scenario: snapshots taken everywhere, then one installed on a follower back from a cut. */
async function scenario(cluster: SimCluster): Promise<void> {
  for (const command of ["a", "b"]) await cluster.one(command, 3, true);
  const { leader } = await cluster.checkSingleLeader(5000);
  const away = (leader + 1) % 3;
  cluster.isolate(away);
  for (const command of ["c", "d", "e"]) await cluster.one(command, 2, true);
  cluster.reconnect(away);
  await cluster.one("done", 3, true);
}

// Counted as the file loads, so that each crash point is a test of its own, with its own name,
// trace and replay command (vitest names every test before it runs any).
const dry = await dryRun(scenario, { seed: SEED, raft });
const SAVES = savesMade(dry);
const POINTS = crashPoints(SAVES);

describe("crash points with snapshots", () => {
  test("the scenario takes snapshots, installs one, and makes enough saves to crash at", () => {
    const kinds = new Set(dry.tracer.events.map((e) => e.kind));
    expect([...kinds].filter((k) => k.startsWith("snapshot."))).toEqual(
      expect.arrayContaining(["snapshot.take", "snapshot.install"]),
    );
    expect(SAVES).toBeGreaterThan(20); // fewer than part 5's: PreVote spares the cut-off follower its elections
  });

  test.for(POINTS)(`save %i of ${SAVES} crashes its node (%s)`, async ([at, fault]) => {
    const cluster = Cluster.start(3, { seed: SEED, raft });
    cluster.note(`save number ${at} of the cluster crashes its node (${fault})`);
    const cancel = crashAtSave(cluster, at, fault);
    await scenario(cluster);
    cancel();
    // The planned crash happened (a run can differ from the dry run after its crash, but the
    // crash itself comes at the same save).
    expect(cluster.tracer.events.some((e) => e.kind === "halt")).toBe(true);
    for (const id of cluster.ids) {
      expect(cluster.applied.get(id)!.map((e) => e.command)).toContain("done");
    }
  });
});
