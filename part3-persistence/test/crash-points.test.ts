// Goal: persistence holds at every moment, not only at the moments a scenario happens to crash a
// node. Method: one scenario (elections, commands, a leader cut off and back), run once to count
// every save its nodes make; then run again once per save, crashing the node that makes it,
// at that save only: once before the save is durable (it is lost) and once after (it is kept
// but the node dies before acting on it). The node restarts 200 ms later on the same storage.
// In every run the safety and conformance checks hold on every event, and the scenario still
// ends with every command committed on every node.

import { describe, expect, test } from "vitest";
import type { Timer } from "../src/clock.ts";
import { SimCluster } from "../src/sim/cluster.ts";
import type { SaveFault } from "../src/storage.ts";
import { Cluster } from "./harness.ts";

const SEED = 1;
const RESTART_AFTER_MS = 200;

/** The scenario; it ends with `done` committed on every node. */
async function scenario(cluster: SimCluster): Promise<void> {
  await cluster.one("a", 3, true);
  await cluster.one("b", 3, true);
  const { leader } = await cluster.checkSingleLeader(5000);
  cluster.isolate(leader);
  cluster.submitToServer(leader, "lost"); // never commits: the leader is cut off
  await cluster.one("c", 2, true);
  cluster.reconnect(leader);
  await cluster.one("done", 3, true);
}

/**
 * Crashes the node making save number `at` (counted over the whole cluster) with `fault`, and
 * restarts it a little later. Returns what cancels a restart still to come.
 */
function crashAtSave(cluster: SimCluster, at: number, fault: SaveFault): () => void {
  let saves = 0;
  for (const id of cluster.ids) {
    cluster.storage.get(id)!.faults = () => (++saves === at ? fault : undefined);
  }
  const restarts: Timer[] = [];
  cluster.tracer.subscribe((e) => {
    if (e.kind !== "halt" || e.node === null) return;
    const node = e.node;
    restarts.push(cluster.clock.setTimer(RESTART_AFTER_MS, () => cluster.restart(node)));
  });
  return () => {
    for (const timer of restarts) timer.cancel();
  };
}

function savesMade(cluster: SimCluster): number {
  return cluster.ids.reduce((sum, id) => sum + cluster.storage.get(id)!.saves, 0);
}

/** The saves the scenario makes when nothing crashes: each is a crash point. */
async function countSaves(): Promise<number> {
  const dry = new SimCluster(3, { seed: SEED });
  dry.startNodes();
  await scenario(dry);
  await dry.shutdown();
  return savesMade(dry);
}

// Counted as the file loads, so that each crash point is a test of its own, with its own name,
// trace and replay command (vitest names every test before it runs any).
const SAVES = await countSaves();
const FAULTS = ["crash before durable", "crash after durable"] as const;
const POINTS = Array.from({ length: SAVES }, (_, i) => i + 1).flatMap((at) =>
  FAULTS.map((fault): [number, SaveFault] => [at, fault]),
);

describe("crash points", () => {
  test("the scenario makes enough saves to crash at", () => {
    expect(SAVES).toBeGreaterThan(15);
  });

  test.for(POINTS)(`save %i of ${SAVES} crashes its node (%s)`, async ([at, fault]) => {
    const cluster = Cluster.start(3, { seed: SEED });
    cluster.note(`save number ${at} of the cluster crashes its node (${fault})`);
    const cancel = crashAtSave(cluster, at, fault);
    await scenario(cluster);
    cancel();
    // The planned crash happened (a run can differ from the dry run after its crash, but the
    // crash itself comes at the same save).
    expect(cluster.tracer.events.some((e) => e.kind === "halt")).toBe(true);
  });
});
