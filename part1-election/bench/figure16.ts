// The experiment of Figure 16 of the Raft paper (§9.3): how long a 5-server cluster is without a
// leader after the leader crashes, for several election timeout ranges. One trial, as the paper
// describes it: boot, elect a leader, let it settle; when the leader has just sent a round of
// heartbeats, crash it at a uniformly random point of its heartbeat interval (half the minimum
// timeout) and time how long the survivors take to elect a new leader. That heartbeat round is
// the last the followers hear, so it sets when their timers run out; how closely together it
// reaches them depends on the network setup (setups.ts).

import type { NodeId } from "../src/raft.ts";
import { SeededRandom } from "../src/random.ts";
import { describeViolation, SimCluster } from "../src/sim/cluster.ts";
import { attachServer, type NetworkSetup } from "./setups.ts";
import type { Downtime } from "./stats.ts";

export const CLUSTER_SIZE = 5;

export interface TimeoutRange {
  min: number;
  max: number;
  /** Which panels of the plot show it; 150-300 appears in both, as in the paper. */
  panels: readonly ("top" | "bottom")[];
  /** The identical-timeout case is mostly capped trials, so it gets a tenth of the trials. */
  trialShare: number;
  /** What §9.3 reports for this range in its text; the other ranges are only plotted. */
  paper?: string;
}

export const TIMEOUT_RANGES: readonly TimeoutRange[] = [
  { min: 150, max: 150, panels: ["top"], trialShare: 0.1, paper: "all > 10 s" },
  { min: 150, max: 151, panels: ["top"], trialShare: 1 },
  { min: 150, max: 155, panels: ["top"], trialShare: 1, paper: "median 287" },
  { min: 150, max: 175, panels: ["top"], trialShare: 1 },
  { min: 150, max: 200, panels: ["top"], trialShare: 1, paper: "max 513" },
  { min: 150, max: 300, panels: ["top", "bottom"], trialShare: 1 },
  { min: 12, max: 24, panels: ["bottom"], trialShare: 1, paper: "mean 35, max 152" },
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

/**
 * When in its heartbeat interval the leader crashes: `random` as in the paper, or always at the
 * start or the end, to show what the crash's timing alone does.
 */
export const CRASH_TIMINGS = ["random", "early", "late"] as const;
export type CrashTiming = (typeof CRASH_TIMINGS)[number];

export interface TrialSetup {
  /** Give up on an election after this much virtual time. */
  capMs: number;
  network: NetworkSetup;
  crash: CrashTiming;
}

export interface TrialOutcome {
  seed: number;
  /** `null` when no new leader was elected within the cap. */
  downtime: Downtime;
  /** No crash happened: the cluster never had a settled leader to crash (trial not counted). */
  setupFailed: boolean;
  /** Crashes planned; more than one when the leader lost office before its planned crash. */
  attempts: number;
  /** The first safety violation the cluster saw, if any. */
  violation: string | null;
}

interface Round {
  leader: NodeId;
  at: number;
  leaderSince: number;
}

/** What the trial watches in the trace while virtual time runs. */
interface Watch {
  /** The last heartbeat round: who sent it, when, and since when it has been leader. */
  round: Round | null;
  /** When each node last became leader. */
  electedAt: Map<NodeId, number>;
  crash: { node: NodeId; at: number } | null;
  newLeaderAt: number | null;
}

export async function runTrial(
  range: TimeoutRange,
  seed: number,
  setup: TrialSetup,
): Promise<TrialOutcome> {
  const heartbeat = heartbeatFor(range);
  const cluster = new SimCluster(CLUSTER_SIZE, {
    seed,
    raft: {
      electionTimeoutMinMs: range.min,
      electionTimeoutMaxMs: range.max,
      heartbeatIntervalMs: heartbeat,
    },
    network: { latency: setup.network.latency },
  });
  const watch = watchTrace(cluster);
  const random = new SeededRandom(benchSeed(seed));
  // Forked first, so every setup and crash timing leaves the boot order and crash delays alone.
  const serverRandom = random.fork();
  const attach = (id: NodeId) => attachServer(cluster, id, setup.network, serverRandom);
  const bootedAt = bootStaggered(cluster, random, range.min, attach);
  const settled = { bootedAt, tenureMs: range.max };
  const giveUpAt = bootedAt + range.max + setup.capMs;
  const outcome = (downtime: Downtime, setupFailed: boolean, attempts: number) => {
    const v = cluster.firstViolation;
    return { seed, downtime, setupFailed, attempts, violation: v ? describeViolation(v) : null };
  };
  for (let attempts = 1; ; attempts++) {
    const leader = await awaitSettledRound(cluster, watch, settled, giveUpAt);
    if (leader === null) return outcome(null, true, attempts);
    const delay = crashDelay(setup.crash, random.int(0, heartbeat - 1), heartbeat);
    const crashAt = await crashAfter(cluster, watch, leader, delay);
    if (crashAt === null) continue; // the leader lost office first: nothing to measure
    await cluster.clock.runUntil(crashAt + setup.capMs, () => watch.newLeaderAt !== null);
    return outcome(
      watch.newLeaderAt === null ? null : watch.newLeaderAt - crashAt,
      false,
      attempts,
    );
  }
}

/** The crash's delay after the heartbeat round; `drawn` is drawn for every timing alike. */
function crashDelay(timing: CrashTiming, drawn: number, heartbeat: number): number {
  if (timing === "early") return 0;
  if (timing === "late") return heartbeat - 1;
  return drawn;
}

/** Runs until a settled leader has just sent a heartbeat round; returns it, or null at `until`. */
async function awaitSettledRound(
  cluster: SimCluster,
  watch: Watch,
  settled: Settled,
  until: number,
): Promise<NodeId | null> {
  const found = await cluster.clock.runUntil(
    until,
    () => watch.round?.at === cluster.clock.now() && isSettled(cluster, watch.round, settled),
  );
  return found && watch.round !== null ? watch.round.leader : null;
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

/**
 * Records heartbeat rounds and the first new leader after the crash. The cluster checks safety
 * itself; the trace is only listened to, not kept, so a long run stays small.
 */
function watchTrace(cluster: SimCluster): Watch {
  const watch: Watch = { round: null, electedAt: new Map(), crash: null, newLeaderAt: null };
  cluster.tracer.keep = false;
  cluster.tracer.subscribe((e) => {
    if (e.node === null) return;
    if (e.kind === "send" && e.details.heartbeat === true && e.details.type === "request") {
      watch.round = { leader: e.node, at: e.t, leaderSince: watch.electedAt.get(e.node) ?? e.t };
    }
    if (e.kind !== "role" || e.details.to !== "leader") return;
    watch.electedAt.set(e.node, e.t);
    if (watch.crash !== null && e.node !== watch.crash.node) watch.newLeaderAt ??= e.t;
  });
  return watch;
}

/**
 * Brings the nodes up (on the network and started) one by one in a random order, evenly spaced
 * within the minimum timeout. All are up before the first can time out, and with identical
 * timeouts (150-150) the first to start times out alone and wins. Started together, they would
 * split the vote forever; started further apart, the first ones campaign without a quorum and
 * the voters they reset time out in step with them, and the trial never reaches its crash. A
 * node joins the network only when it starts: one that answered RPCs before `start()` could win
 * an election and then have `start()` arm an election timer under its leadership. Returns when
 * the last node starts.
 */
function bootStaggered(
  cluster: SimCluster,
  random: SeededRandom,
  minTimeout: number,
  attach: (id: NodeId) => void,
): number {
  const order = [...cluster.ids];
  for (let i = order.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const spacing = Math.floor(minTimeout / order.length);
  order.forEach((id, k) => {
    cluster.clock.setTimer(k * spacing, () => {
      attach(id);
      cluster.node(id).start();
    });
  });
  return (order.length - 1) * spacing;
}

/** When a leader counts as settled: after the last boot, and after a tenure in office. */
interface Settled {
  bootedAt: number;
  tenureMs: number;
}

/**
 * A leader just sent heartbeats, all others follow it in its term, and it has led for a whole
 * maximum timeout since everyone started. Then every follower's timer was last reset by its
 * heartbeats; just after an election, a voter's timer still runs from when it granted its vote,
 * and with short timeouts it can fire before the new leader's first heartbeat arrives: crashing
 * the leader then would time an election that had already begun.
 */
function isSettled(cluster: SimCluster, round: Round, settled: Settled): boolean {
  const since = Math.max(round.leaderSince, settled.bootedAt);
  if (round.at < since + settled.tenureMs) return false;
  const leader = cluster.state(round.leader);
  if (leader.role !== "leader") return false;
  return cluster.ids.every((id) => {
    const s = cluster.state(id);
    return id === round.leader || (s.role === "follower" && s.currentTerm === leader.currentTerm);
  });
}

/**
 * The bench's own draws (boot order, crash delay, server delays) come from a stream derived from
 * the trial seed but distinct from the cluster's: SimCluster seeds its generator with the seed
 * itself, and a SplitMix32 seeded with a nearby value would replay the same numbers shifted by
 * one step.
 */
function benchSeed(seed: number): number {
  return Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) >>> 0;
}
