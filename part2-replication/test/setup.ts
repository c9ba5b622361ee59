// Runs around every test file: after the file, no cluster may leave virtual timers behind and
// the file may not leave real handles (timers, sockets) open. The consensus code never touches
// real time, so any real handle is a leak; why-is-node-running says where it was created.

import { afterAll, beforeAll, expect } from "vitest";
import whyIsNodeRunning from "why-is-node-running";
import { startedClusters } from "./harness.ts";

let baseline = new Map<string, number>();

beforeAll(() => {
  baseline = countResources();
});

afterAll(async () => {
  for (const cluster of startedClusters) await cluster.shutdown();
  const leakedTimers = startedClusters
    .filter((cluster) => cluster.clock.pendingTimers() > 0)
    .map((cluster) => `seed ${cluster.seed}: ${cluster.clock.pendingTimers()} virtual timers`);
  expect(leakedTimers, "virtual timers still pending after shutdown").toEqual([]);
  const leaked = [...countResources()].filter(([type, n]) => n > (baseline.get(type) ?? 0));
  if (leaked.length > 0) whyIsNodeRunning({ error: (line: string) => console.error(line) });
  expect(leaked, "real handles left open by this test file").toEqual([]);
});

function countResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo())
    counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}
