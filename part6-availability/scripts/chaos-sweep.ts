// `pnpm --filter part6-availability test:chaos [<count>]`: the chaos scenario (src/sim/chaos.ts)
// under many seeds, on 3, 4 and 5 nodes, run directly in worker threads (scripts/sweep.ts), with
// every check the chaos test (test/chaos.test.ts) makes under a chosen seed: safety and
// conformance on every event, the scenario's own checks (the cluster settles, every entry
// everywhere; part 6: a stable leader after the final heal), the harness's budget of virtual
// time and timers, and no virtual timer left after shutdown. A failing run prints the command
// that replays it under the test runner. The summary ends with the runs' liveness
// (src/sim/liveness.ts).
//
//   pnpm --filter part6-availability test:chaos 10000              seeds 1..10000, 3, 4 and 5 nodes
//   pnpm --filter part6-availability test:chaos 500 --from 7001 --sizes 5

import { isMainThread } from "node:worker_threads";
import { chaosDiskWriteMs, chaosNetwork, runChaos } from "../src/sim/chaos.ts";
import { SimCluster } from "../src/sim/cluster.ts";
import { budgeted } from "../test/budget.ts";
import { renderCommand, replayCommand, type TestId } from "../test/replay.ts";
import { type RunLiveness, type Scenario, sweep } from "./sweep.ts";

/** The chaos test on `size` nodes, as test/chaos.test.ts names it. */
function chaosTest(size: number): TestId {
  return {
    name: `chaos > ${size} nodes: twenty seconds of faults, then one leader and every entry everywhere`,
    file: "part6-availability/test/chaos.test.ts",
  };
}

/** A cluster held to the budget the harness holds a test's clusters to (test/budget.ts). */
const BudgetedCluster = budgeted(SimCluster);

export const scenario: Scenario = {
  part: "part6-availability",
  script: "test:chaos",
  what: "the chaos scenario (src/sim/chaos.ts)",
  sizes: [3, 4, 5],
  async run(seed, size) {
    // What test/chaos.test.ts does under a chosen seed, on the cluster its harness would start,
    // minus the kept trace. A run past its budget is not drained (its loop may never end).
    const cluster = new BudgetedCluster(size, {
      seed,
      network: chaosNetwork,
      diskWriteMs: chaosDiskWriteMs,
    });
    cluster.tracer.keep = false;
    cluster.startNodes();
    let liveness: RunLiveness;
    try {
      const summary = await runChaos(cluster, cluster.randomStream());
      // Part 6: every run reaches a stable leader after the final heal.
      if (summary.liveness.afterHealMs === null)
        throw new Error("no stable leader after the final heal");
      const { duringFaults, recoveries } = summary.liveness;
      liveness = {
        available: duringFaults.available,
        recoveries: recoveries.map((r) => r.afterMs),
      };
    } finally {
      if (!cluster.ranAway) await cluster.shutdown();
    }
    const pending = cluster.clock.pendingTimers();
    if (pending > 0) throw new Error(`${pending} virtual timers still pending after shutdown`);
    return liveness;
  },
  replay: (seed, size) => ({
    replay: replayCommand(chaosTest(size), seed),
    timeline: renderCommand(chaosTest(size), seed),
  }),
};

if (isMainThread) await sweep(import.meta.url, scenario);
