// `pnpm --filter part6-availability kv:chaos [<count>]`: the key/value chaos scenario
// (src/sim/kv-chaos.ts) under many seeds, on 3 and 5 nodes, run directly in worker threads by
// the core's sweep (part6-availability/scripts/sweep.ts), with every check the key/value chaos test
// (test/kv-chaos.test.ts) makes under a chosen seed: safety and conformance on every event, the
// scenario's own checks (every client finishes), the harness's budget of virtual time and timers,
// the history of client operations checked with lincheck as the test harness checks it, and no
// virtual timer left after shutdown. A failing run prints the command that replays it under the
// test runner; that run writes the history's page. The summary ends with the runs' liveness.
//
//   pnpm --filter part6-availability kv:chaos 2000                seeds 1..2000, 3 and 5 nodes
//   pnpm --filter part6-availability kv:chaos 500 --from 7001 --sizes 5

import { isMainThread } from "node:worker_threads";
import { type RunLiveness, type Scenario, sweep } from "part6-availability/scripts/sweep";
import { budgeted } from "part6-availability/test/budget";
import { kvChaosCluster, runKvChaos } from "../src/sim/kv-chaos.ts";
import { KvSimCluster } from "../src/sim/kv-cluster.ts";
import { renderCommand, replayCommand, type TestId } from "../test/replay.ts";

/** The key/value chaos test on `size` nodes, as test/kv-chaos.test.ts names it. */
function kvChaosTest(size: number): TestId {
  return {
    name: `key/value chaos > ${size} nodes: twenty seconds of faults under five clients, then every client finishes`,
    file: "part6-availability/kv/test/kv-chaos.test.ts",
  };
}

/** A cluster held to the budget the harness holds a test's clusters to (the core's budget.ts). */
const BudgetedCluster = budgeted(KvSimCluster);

export const scenario: Scenario = {
  part: "part6-availability",
  script: "kv:chaos",
  what: "the key/value chaos scenario (src/sim/kv-chaos.ts)",
  sizes: [3, 5],
  async run(seed, size) {
    // What test/kv-chaos.test.ts does under a chosen seed, on the cluster its harness would
    // start, minus the kept trace. A run past its budget is not drained (its loop may never end).
    const cluster = new BudgetedCluster(size, { seed, ...kvChaosCluster });
    cluster.tracer.keep = false;
    cluster.startNodes();
    let liveness: RunLiveness;
    try {
      const { duringFaults, recoveries } = (await runKvChaos(cluster, cluster.randomStream()))
        .liveness;
      liveness = {
        available: duringFaults.available,
        recoveries: recoveries.map((r) => r.afterMs),
      };
    } finally {
      if (!cluster.ranAway) await cluster.shutdown();
    }
    // The harness's check when the test ends (test/harness.ts): one copy of the store could
    // have produced this history.
    const { result } = cluster.history.check(kvChaosTest(size).name);
    if (result !== undefined && result.verdict !== "linearizable") {
      const why =
        result.verdict === "not-linearizable"
          ? "is not linearizable"
          : "could not be decided within the budget";
      throw new Error(`the history of ${cluster.history.size} client operations ${why}`);
    }
    const pending = cluster.clock.pendingTimers();
    if (pending > 0) throw new Error(`${pending} virtual timers still pending after shutdown`);
    return liveness;
  },
  replay: (seed, size) => ({
    replay: replayCommand(kvChaosTest(size), seed),
    timeline: renderCommand(kvChaosTest(size), seed),
  }),
};

if (isMainThread) await sweep(import.meta.url, scenario);
