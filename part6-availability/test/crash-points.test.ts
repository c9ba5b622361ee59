// Goal: persistence holds at every moment, not only at the moments a scenario happens to crash a
// node. Method: one scenario (elections, commands, a leader cut off and back), run once to count
// every save its nodes make; then run again once per save, crashing the node that makes it,
// at that save only: once before the save is durable (it is lost) and once after (it is kept
// but the node dies before acting on it). The node restarts 200 ms later on the same storage.
// In every run the safety and conformance checks hold on every event, and the scenario still
// ends with every command committed on every node.

import { describe, expect, test } from "vitest";
import type { SimCluster } from "../src/sim/cluster.ts";
import { crashAtSave, crashPoints, dryRun, savesMade } from "./crash-points.ts";
import { Cluster } from "./harness.ts";

const SEED = 1;

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

// Counted as the file loads, so that each crash point is a test of its own, with its own name,
// trace and replay command (vitest names every test before it runs any).
const SAVES = savesMade(await dryRun(scenario, { seed: SEED }));
const POINTS = crashPoints(SAVES);

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
