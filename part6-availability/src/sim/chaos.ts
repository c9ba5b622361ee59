// The chaos scenario: about twenty seconds of everything the network can do, and of crashes and
// restarts (some in the middle of a save), drawn from the seed, with the safety checks on every
// event, while a client submits a command every few
// milliseconds to every node that believes it leads; then the network heals and the cluster must
// settle on one leader that every node follows, and every node must apply every entry that any
// node committed. It reaches what hand-written scenarios reach
// only by luck: replies that arrive after the election they answer (slow links and an RPC
// timeout longer than an election), partitions into several groups, one-way cuts, loss,
// duplication and long reordering, all at once. The seed sweep runs it under many seeds.
// It measures liveness too (liveness.ts), from the trace: the share of the faults' stretch during
// which a client's operation could complete, and the time from each heal, reconnection or loss
// of a leader to a stable leader that a majority follows and that commits.
// In part 6 a client also reads every few milliseconds (ReadIndex, §6.4) from every node that
// believes it leads and from one more at random, so the Read index check sees reads served
// through every fault, by leaders deposed without knowing it too; now and then a leader hands its
// leadership to a peer (§3.10); and `chaosDiskWriteMs` gives the leader's writes a disk that
// takes time, for the parallel write (§10.2.1).

import type { NodeId } from "../raft.ts";
import type { SeededRandom } from "../random.ts";
import type { NetworkView } from "../trace.ts";
import type { SimCluster } from "./cluster.ts";
import { LivenessMeter, type LivenessReport, type Recovery } from "./liveness.ts";
import type { NetworkConfig } from "./network.ts";

/** The network a chaos cluster starts with: unreliable, and slow enough for late replies. */
export const chaosNetwork: Partial<NetworkConfig> = {
  lossRate: 0.05,
  duplicateRate: 0.02,
  reorderRate: 0.05,
  reorderDelayMs: { min: 100, max: 600 },
  // Longer than any election timeout: a reply can come back to a node that has since moved on.
  rpcTimeoutMs: 2000,
};

export interface ChaosOptions {
  /** How long the faults go on, in virtual ms. */
  durationMs: number;
  /** After healing, how long the cluster has to settle, in virtual ms. */
  settleMs: number;
}

export const defaultChaosOptions: ChaosOptions = { durationMs: 20_000, settleMs: 10_000 };

/** A chaos cluster's disk: a leader's write of its new entries takes this long (SimOptions). */
export const chaosDiskWriteMs = 3;

/** What the trace shows that the faults did: what a run must show to have tested anything. */
export interface FaultCounts {
  /** Faults after which the nodes reach each other differently (the trace's network view changed). */
  networkChanges: number;
  leadersElected: number;
  /** Replies a node ignored because the election or term they answer was over. */
  staleReplies: number;
  /** Replies that arrived after their call had given up on them (timed out, or answered before). */
  lateReplies: number;
  /** The highest commitIndex any node has reached. */
  highestCommit: number;
  /** Crashes, halts (a save that crashed its node) and restarts. */
  crashes: number;
  halts: number;
  restarts: number;
}

/** What a run did: the counts are of the faults' stretch, before every node restarts and heals. */
export interface ChaosSummary extends FaultCounts {
  /** Faults drawn, one per pass of the loop; some change nothing (reconnecting a connected node). */
  faults: number;
  highestTerm: number;
  /** Commands submitted (to every leader at the time), and entries committed in the end. */
  submitted: number;
  committed: number;
  /** Liveness from the trace: over the faults' stretch, and each recovery to the end of the run. */
  liveness: ChaosLiveness;
}

export interface ChaosLiveness {
  duringFaults: LivenessReport;
  /** After each heal, reconnection or lost leader, the final heal included, to the end of the run. */
  recoveries: Recovery[];
  /** From the final heal; null if no leader that a majority follows, and that commits, came. */
  afterHealMs: number | null;
}

/** Runs the scenario on a started cluster; throws at the first violation or if it never settles. */
export async function runChaos(
  cluster: SimCluster,
  random: SeededRandom,
  options: ChaosOptions = defaultChaosOptions,
): Promise<ChaosSummary> {
  const counts = countFaults(cluster);
  const start = cluster.clock.now();
  const meter = new LivenessMeter(cluster.ids.length, {}, start);
  cluster.tracer.subscribe((e) => meter.observe(e));
  let faults = 0;
  let submitted = 0;
  crashSomeSaves(cluster, random.fork());
  const client = random.fork();
  const end = cluster.clock.now() + options.durationMs;
  while (cluster.clock.now() < end) {
    if (!applyNodeFault(cluster, random)) networkFault(cluster, random);
    faults++;
    const until = cluster.clock.now() + random.int(50, 800);
    while (cluster.clock.now() < until) {
      // Leaders of old terms get commands too: theirs must never commit.
      for (const { id } of cluster.leaders()) cluster.submitToServer(id, `c${submitted++}`);
      readAndTransfer(cluster, client);
      await cluster.advance(Math.min(25, until - cluster.clock.now()));
    }
  }
  const duringFaults = { ...counts };
  cluster.note(
    "chaos over: every node restarts, every link heals, no message is lost from now on; the cluster must settle",
  );
  for (const id of cluster.ids) {
    cluster.storage.get(id)!.faults = () => undefined;
    if (cluster.state(id).role === "dead") cluster.restart(id);
  }
  cluster.network.makeReliable();
  const faultsEnd = cluster.clock.now();
  cluster.heal();
  await cluster.checkSettled(options.settleMs);
  // An entry of the leader's term commits every earlier one (§5.4.2), and every node must then
  // apply them all. It goes to whoever leads, again if leadership changes before it commits.
  const committed = await cluster.one("settled", cluster.ids.length, true);
  const highestTerm = Math.max(...cluster.ids.map((id) => cluster.state(id).currentTerm));
  const liveness = chaosLiveness(meter, start, faultsEnd, cluster.clock.now());
  return { ...duringFaults, faults, highestTerm, submitted, committed, liveness };
}

/** What `meter` measured of a run: over the faults' stretch, and each recovery to `end`. */
export function chaosLiveness(
  meter: LivenessMeter,
  start: number,
  faultsEnd: number,
  end: number,
): ChaosLiveness {
  const { recoveries } = meter.report(end, start);
  const heal = recoveries.findLast((r) => r.cause === "heal" && r.at === faultsEnd);
  return {
    duringFaults: meter.report(faultsEnd, start),
    recoveries,
    afterHealMs: heal?.afterMs ?? null,
  };
}

/**
 * Counts from the trace, from now on, what the faults do to `cluster`: the returned counts grow
 * as the run goes. A fault that changes nothing (isolating an isolated node) is not counted.
 */
export function countFaults(cluster: SimCluster): FaultCounts {
  const counts: FaultCounts = {
    networkChanges: 0,
    leadersElected: 0,
    staleReplies: 0,
    lateReplies: 0,
    highestCommit: 0,
    crashes: 0,
    halts: 0,
    restarts: 0,
  };
  let view = cluster.networkView();
  cluster.tracer.subscribe((e) => {
    if (e.kind === "role" && e.details.to === "leader") counts.leadersElected++;
    else if (e.kind === "reply.stale") counts.staleReplies++;
    else if (e.kind === "deliver" && e.details.late) counts.lateReplies++;
    else if (e.kind === "commit")
      counts.highestCommit = Math.max(counts.highestCommit, e.details.to);
    else if (e.kind === "halt") counts.halts++;
    else if (e.kind === "crash") counts.crashes++;
    else if (e.kind === "restart") counts.restarts++;
    if (e.node !== null || !("network" in e.details)) return;
    if (reachChanged(view, e.details.network)) counts.networkChanges++;
    view = e.details.network;
  });
  return counts;
}

/**
 * Whether the nodes live before and after reach each other differently: who reaches whom, not
 * who runs (a crash, a halt or a restart changes that without a fault of the network).
 */
function reachChanged(before: NetworkView, after: NetworkView): boolean {
  const dead = new Set([...before.dead, ...after.dead]);
  const reach = (view: NetworkView) =>
    JSON.stringify(
      view.groups.map((group) => group.filter((id) => !dead.has(id))).filter((g) => g.length > 0),
    );
  return reach(before) !== reach(after);
}

/**
 * Reads (ReadIndex, §6.4) asked of every node that believes it leads and of a live node drawn at
 * random; what they answer does not matter here: the safety checks hold every read served to the
 * index it must have. About once in five seconds, a leader hands over to a peer (§3.10).
 */
function readAndTransfer(cluster: SimCluster, random: SeededRandom): void {
  const live = cluster.liveIds();
  if (live.length === 0) return;
  for (const { id } of cluster.leaders()) void cluster.node(id).readIndex();
  void cluster.node(live[random.int(0, live.length - 1)]!).readIndex();
  const leader = cluster.leaders()[0];
  if (leader === undefined || !random.chance(0.005)) return;
  const peers = cluster.ids.filter((id) => id !== leader.id);
  cluster.node(leader.id).transferLeadership(peers[random.int(0, peers.length - 1)]);
}

/** Now and then a crash of a live node or the restart of a dead one; false when neither came up. */
function applyNodeFault(cluster: SimCluster, random: SeededRandom): boolean {
  const roll = random.int(1, 100);
  if (roll > 20) return false;
  const dead = cluster.ids.filter((id) => cluster.state(id).role === "dead");
  const live = cluster.ids.filter((id) => !dead.includes(id));
  const from = roll <= 8 ? live : dead;
  if (from.length === 0) return false;
  const id = from[random.int(0, from.length - 1)]!;
  if (roll <= 8) cluster.crash(id);
  else cluster.restart(id);
  return true;
}

/** One save in two hundred crashes its node: half before the write is durable, half after. */
export function crashSomeSaves(cluster: SimCluster, random: SeededRandom): void {
  for (const id of cluster.ids) {
    cluster.storage.get(id)!.faults = () =>
      random.chance(0.005)
        ? random.chance(0.5)
          ? "crash before durable"
          : "crash after durable"
        : undefined;
  }
}

/** How often each fault of the network is drawn, out of the sum of them all. */
export interface FaultWeights {
  partition: number;
  isolate: number;
  reconnect: number;
  cut: number;
  uncut: number;
  slow: number;
  heal: number;
}

/** This scenario's mix: most faults break links, a few undo what earlier ones did. */
export const chaosFaultWeights: FaultWeights = {
  partition: 15,
  isolate: 15,
  reconnect: 20,
  cut: 12,
  uncut: 10,
  slow: 13,
  heal: 15,
};

/** One fault of the network between nodes, drawn at random with `weights`. */
export function networkFault(
  cluster: SimCluster,
  random: SeededRandom,
  weights: FaultWeights = chaosFaultWeights,
): void {
  const ids = cluster.ids;
  const pick = () => ids[random.int(0, ids.length - 1)]!;
  const other = (a: NodeId) => ids.filter((id) => id !== a)[random.int(0, ids.length - 2)]!;
  const fault = drawFault(weights, random);
  if (fault === "partition") cluster.partition(...randomGroups(ids, random));
  else if (fault === "heal") cluster.heal();
  else {
    const a = pick();
    if (fault === "isolate") cluster.isolate(a);
    else if (fault === "reconnect") cluster.reconnect(a);
    else if (fault === "cut") cluster.cut(a, other(a));
    else if (fault === "uncut") cluster.uncut(a, other(a));
    else cluster.slow(a, other(a), random.chance(0.3) ? 0 : random.int(200, 1500));
  }
}

/** A kind of fault, drawn with `weights`. */
function drawFault(weights: FaultWeights, random: SeededRandom): keyof FaultWeights {
  const faults = Object.keys(weights) as (keyof FaultWeights)[];
  let roll = random.int(
    1,
    faults.reduce((sum, fault) => sum + weights[fault], 0),
  );
  for (const fault of faults) {
    roll -= weights[fault];
    if (roll <= 0) return fault;
  }
  return "heal";
}

/** Two or three non-empty groups, each node in one. */
export function randomGroups(ids: readonly NodeId[], random: SeededRandom): NodeId[][] {
  const count = Math.min(ids.length, random.int(2, 3));
  const groups: NodeId[][] = Array.from({ length: count }, () => []);
  shuffle([...ids], random).forEach((id, i) => {
    const g = i < count ? i : random.int(0, count - 1);
    groups[g]!.push(id);
  });
  return groups;
}

/** Fisher-Yates, from the seed. */
function shuffle<T>(items: T[], random: SeededRandom): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
