// The crash-point machinery of crash-points.test.ts and crash-points-snapshots.test.ts: run a
// scenario once to count the saves its nodes make, then crash the node that makes one chosen save,
// before or after it is durable, and restart it a little later on the same storage.

import type { Timer } from "../src/clock.ts";
import { SimCluster, type SimOptions } from "../src/sim/cluster.ts";
import type { SaveFault } from "../src/storage.ts";

const RESTART_AFTER_MS = 200;

/**
 * Crashes the node making save number `at` (counted over the whole cluster) with `fault`, and
 * restarts it a little later. Returns what cancels a restart still to come.
 */
export function crashAtSave(cluster: SimCluster, at: number, fault: SaveFault): () => void {
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

export function savesMade(cluster: SimCluster): number {
  return cluster.ids.reduce((sum, id) => sum + cluster.storage.get(id)!.saves, 0);
}

/** The scenario run once with nothing crashing, on 3 nodes: its saves are the crash points. */
export async function dryRun(
  scenario: (cluster: SimCluster) => Promise<void>,
  options: SimOptions,
): Promise<SimCluster> {
  const dry = new SimCluster(3, options);
  dry.startNodes();
  await scenario(dry);
  await dry.shutdown();
  return dry;
}

/** Each save of `saves`, crashed before it is durable and after. */
export function crashPoints(saves: number): [number, SaveFault][] {
  const faults = ["crash before durable", "crash after durable"] as const;
  return Array.from({ length: saves }, (_, i) => i + 1).flatMap((at) =>
    faults.map((fault): [number, SaveFault] => [at, fault]),
  );
}
