// The experiment of Figure 16 of the Raft paper (§9.3): how long a 5-server cluster is without a
// leader after the leader crashes, for several election timeout ranges. One trial: boot, elect a
// leader, let it settle, wait until the leader has just sent a round of heartbeats (so every
// follower's timer was reset at nearly the same moment), crash it at a uniformly random point of
// its heartbeat interval and time how long the survivors take to elect a new leader.

import type { NodeId } from "../src/raft.ts";
import { SeededRandom } from "../src/random.ts";
import { SimCluster } from "../src/sim/cluster.ts";
import type { LatencyModel } from "../src/sim/network.ts";
import { SafetyChecker } from "../src/sim/safety.ts";
import type { TraceEvent } from "../src/trace.ts";
import type { Downtime } from "./stats.ts";

export const CLUSTER_SIZE = 5;

export interface TimeoutRange {
  min: number;
  max: number;
  /** Which panels of the plot show it; 150-300 appears in both, as in the paper. */
  panels: readonly ("top" | "bottom")[];
  /** The identical-timeout case is mostly capped trials, so it gets a tenth of the trials. */
  trialShare: number;
}

export const TIMEOUT_RANGES: readonly TimeoutRange[] = [
  { min: 150, max: 150, panels: ["top"], trialShare: 0.1 },
  { min: 150, max: 151, panels: ["top"], trialShare: 1 },
  { min: 150, max: 155, panels: ["top"], trialShare: 1 },
  { min: 150, max: 175, panels: ["top"], trialShare: 1 },
  { min: 150, max: 200, panels: ["top"], trialShare: 1 },
  { min: 150, max: 300, panels: ["top", "bottom"], trialShare: 1 },
  { min: 12, max: 24, panels: ["bottom"], trialShare: 1 },
  { min: 25, max: 50, panels: ["bottom"], trialShare: 1 },
  { min: 50, max: 100, panels: ["bottom"], trialShare: 1 },
  { min: 100, max: 200, panels: ["bottom"], trialShare: 1 },
];

export function rangeLabel(range: TimeoutRange): string {
  return `${range.min}–${range.max} ms`;
}

/** Half the minimum election timeout, as in the paper; whole ms because timers are whole ms. */
export function heartbeatFor(range: TimeoutRange): number {
  return Math.floor(range.min / 2);
}

export interface TrialOutcome {
  seed: number;
  /** `null` when no new leader was elected within the cap. */
  downtime: Downtime;
  /** No crash happened: the cluster never had a settled leader to crash (trial not counted). */
  setupFailed: boolean;
  /** Crashes planned; more than one when the leader lost office before its planned crash. */
  attempts: number;
  violations: string[];
}

/** What the trial watches in the trace while virtual time runs. */
interface Watch {
  round: { leader: NodeId; at: number } | null;
  crash: { node: NodeId; at: number } | null;
  newLeaderAt: number | null;
}

export async function runTrial(
  range: TimeoutRange,
  seed: number,
  capMs: number,
  latency: LatencyModel,
): Promise<TrialOutcome> {
  const heartbeat = heartbeatFor(range);
  const cluster = new SimCluster(CLUSTER_SIZE, {
    seed,
    raft: {
      electionTimeoutMinMs: range.min,
      electionTimeoutMaxMs: range.max,
      heartbeatIntervalMs: heartbeat,
    },
    network: { latency },
  });
  const watch: Watch = { round: null, crash: null, newLeaderAt: null };
  const violations = watchTrace(cluster, watch);
  const random = new SeededRandom(benchSeed(seed));
  const settleAt = bootStaggered(cluster, random, range.max) + range.max;
  const giveUpAt = settleAt + capMs;
  for (let attempts = 1; ; attempts++) {
    const leader = await awaitSettledRound(cluster, watch, settleAt, giveUpAt);
    if (leader === null) return { seed, downtime: null, setupFailed: true, attempts, violations };
    const crashAt = await crashAfter(cluster, watch, leader, random.int(0, heartbeat - 1));
    if (crashAt === null) continue; // the leader lost office first: nothing to measure
    await cluster.clock.runUntil(crashAt + capMs, () => watch.newLeaderAt !== null);
    const downtime = watch.newLeaderAt === null ? null : watch.newLeaderAt - crashAt;
    return { seed, downtime, setupFailed: false, attempts, violations };
  }
}

/** Runs until a settled leader has just sent a heartbeat round; returns it, or null at `until`. */
async function awaitSettledRound(
  cluster: SimCluster,
  watch: Watch,
  settleAt: number,
  until: number,
): Promise<NodeId | null> {
  const settled = await cluster.clock.runUntil(
    until,
    () => watch.round?.at === cluster.clock.now() && isSettled(cluster, watch.round, settleAt),
  );
  return settled && watch.round !== null ? watch.round.leader : null;
}

/**
 * Crashes `leader` after `delayMs` and returns the crash time, or null without crashing anything
 * if by then it is no longer the only leader. A timeout can depose a leader between its round and
 * the crash (with short timeouts or a slow message), and crashing a deposed leader would time an
 * election that had already happened.
 */
async function crashAfter(
  cluster: SimCluster,
  watch: Watch,
  leader: NodeId,
  delayMs: number,
): Promise<number | null> {
  let crashAt: number | null = null;
  cluster.clock.setTimer(delayMs, () => {
    const leaders = cluster.leaders();
    if (leaders.length !== 1 || leaders[0]!.id !== leader) return;
    crashAt = cluster.clock.now();
    watch.crash = { node: leader, at: crashAt };
    cluster.stopNode(leader);
  });
  await cluster.clock.runFor(delayMs);
  return crashAt;
}

/** Feeds the trace to the safety checks and records heartbeat rounds and the first new leader. */
function watchTrace(cluster: SimCluster, watch: Watch): string[] {
  const safety = new SafetyChecker();
  const violations: string[] = [];
  cluster.tracer.subscribe((e: TraceEvent) => {
    const found = safety.observe(e);
    if (found) violations.push(`${found.invariant}: ${found.message} at t=${e.t}`);
    if (e.node === null) return;
    if (e.kind === "send" && e.details.heartbeat === true && e.details.type === "request") {
      watch.round = { leader: e.node, at: e.t };
    }
    const crash = watch.crash;
    if (e.kind === "role" && e.details.to === "leader" && crash !== null && e.node !== crash.node) {
      watch.newLeaderAt ??= e.t;
    }
  });
  return violations;
}

/**
 * Brings each node up (on the network and started) at its own random time in [0, 4 x max
 * timeout]. Started together, nodes with identical timeouts (150-150) would all stand for
 * election at once and split the vote forever, and the trial would never reach the crash it is
 * about. A node joins the network only when it starts: one that answered RPCs before `start()`
 * could win an election and then have `start()` arm an election timer under its leadership.
 * Returns when the last node starts.
 */
function bootStaggered(cluster: SimCluster, random: SeededRandom, maxTimeout: number): number {
  let last = 0;
  for (const id of cluster.ids) {
    const at = random.int(0, 4 * maxTimeout);
    cluster.clock.setTimer(at, () => {
      cluster.network.attach(id, cluster.node(id));
      cluster.node(id).start();
    });
    last = Math.max(last, at);
  }
  return last;
}

/** A leader just sent heartbeats, everyone has started, and all others follow it in its term. */
function isSettled(
  cluster: SimCluster,
  round: { leader: NodeId; at: number },
  settleAt: number,
): boolean {
  if (round.at < settleAt) return false;
  const leader = cluster.state(round.leader);
  if (leader.role !== "leader") return false;
  return cluster.ids.every((id) => {
    const s = cluster.state(id);
    return id === round.leader || (s.role === "follower" && s.currentTerm === leader.currentTerm);
  });
}

/**
 * The bench's own draws (boot times, crash delay) come from a stream derived from the trial seed
 * but distinct from the cluster's: SimCluster seeds its generator with the seed itself, and a
 * SplitMix32 seeded with a nearby value would replay the same numbers shifted by one step.
 */
function benchSeed(seed: number): number {
  return Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) >>> 0;
}
