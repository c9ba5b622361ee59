// How fast the simulation runs: simulated seconds per wall-clock second for a 5-node cluster with
// the default configuration, once idle (one leader, heartbeats only) and once with leadership
// churn. This is the number that says how many scenarios a test run or a seed sweep can afford.

import type { NodeId } from "../src/raft.ts";
import { SimCluster } from "../src/sim/cluster.ts";
import { CLUSTER_SIZE } from "./figure16.ts";

export const THROUGHPUT_SEED = 1;
/** How often the churn run takes the leader off the network. */
export const CHURN_EVERY_MS = 3000;

export interface Throughput {
  simSeconds: number;
  wallSeconds: number;
  /** Timers fired, i.e. message deliveries, RPC timeouts, election timeouts and heartbeats. */
  steps: number;
  /** Times some node became leader. */
  elections: number;
  /** Leaders taken off the network (churn run only). */
  isolations: number;
  violations: number;
}

/** A default-configured cluster with its elections counted and its trace safety-checked. */
function instrumentedCluster(): { cluster: SimCluster; counts: Throughput } {
  const cluster = new SimCluster(CLUSTER_SIZE, { seed: THROUGHPUT_SEED });
  const counts: Throughput = {
    simSeconds: 0,
    wallSeconds: 0,
    steps: 0,
    elections: 0,
    isolations: 0,
    violations: 0,
  };
  // The cluster checks safety on every event itself; a long run keeps no trace in memory.
  cluster.tracer.keep = false;
  cluster.tracer.subscribe((e) => {
    if (e.kind === "violation") counts.violations++;
    if (e.kind === "role" && e.details.to === "leader") counts.elections++;
  });
  return { cluster, counts };
}

/** Runs `drive` on a fresh cluster and times it with the wall clock. */
async function timed(
  simMs: number,
  drive: (cluster: SimCluster, counts: Throughput) => Promise<void>,
): Promise<Throughput> {
  const { cluster, counts } = instrumentedCluster();
  const started = performance.now();
  cluster.startNodes();
  await drive(cluster, counts);
  counts.wallSeconds = (performance.now() - started) / 1000;
  counts.simSeconds = cluster.clock.now() / 1000;
  counts.steps = cluster.clock.stepsTaken();
  if (cluster.clock.now() !== simMs) throw new Error(`ran to ${cluster.clock.now()}, not ${simMs}`);
  return counts;
}

export function measureIdle(simMs: number): Promise<Throughput> {
  return timed(simMs, async (cluster) => {
    await cluster.clock.runFor(simMs);
  });
}

/**
 * Every CHURN_EVERY_MS, takes the current leader off the network and brings back the one taken
 * off last time. Part 1 cannot restart a stopped node (nothing is persisted), so isolation stands
 * in for a crash; with one node away at a time, four of five remain and can always elect.
 */
export function measureChurn(simMs: number): Promise<Throughput> {
  return timed(simMs, async (cluster, counts) => {
    let away: NodeId | null = null;
    while (cluster.clock.now() < simMs) {
      await cluster.clock.runFor(Math.min(CHURN_EVERY_MS, simMs - cluster.clock.now()));
      const leader = connectedLeader(cluster, away);
      if (leader === null) continue; // mid-election: try again at the next tick
      if (away !== null) cluster.network.reconnect(away);
      cluster.network.isolate(leader);
      away = leader;
      counts.isolations++;
    }
  });
}

/**
 * The leader the connected nodes follow. The isolated node keeps believing it leads its old
 * term, so it is skipped, and of any others the highest term is the real one.
 */
function connectedLeader(cluster: SimCluster, away: NodeId | null): NodeId | null {
  const leaders = cluster
    .leaders()
    .filter((s) => s.id !== away)
    .sort((a, b) => b.currentTerm - a.currentTerm);
  return leaders[0]?.id ?? null;
}
