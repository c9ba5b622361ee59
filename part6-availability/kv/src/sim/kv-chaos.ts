// The key/value chaos scenario: clients of the store at work through about twenty seconds of
// random faults, drawn from the seed as part 3's chaos draws them (part6-availability/src/sim/
// chaos.ts): partitions into groups, isolations, one-way cuts, slow links, loss, duplication,
// long reordering, crashes and restarts (some in the middle of a save), and here also clients cut
// off from some of the nodes on the client network. Five clients do random operations (get, put,
// append, cas, delete) on three shared keys, one after another with a short pause between them.
// Operations may fail while the faults go on; then every node restarts, the network between
// nodes heals and loses nothing more, the cluster must settle, and every client must finish what it was doing
// and complete one more operation on every key. The history of all of it must be linearizable:
// the test harness checks it with lincheck when the test ends.
//
// The faults are part 3's, drawn with more repairs among them (reconnect, uncut, heal), a crashed
// or halted node restarted 0.3 to 3 s later, and an RPC timeout of 400 ms where part 3's chaos
// has 2 s: under part 3's own mix (runChaos) the cluster has a quorum so rarely that the clients
// complete a few dozen operations in twenty seconds, too few to say much about linearizability.
// 400 ms is still longer than an election timeout, so replies still come back after the
// election they answer. The client network keeps losing one message in twenty to the end.
//
// The run measures the cluster's liveness as the chaos of part6-availability does (its src/sim/
// liveness.ts): from the trace of the nodes, not from the clients, who may also be cut off from them.

import type { NodeId } from "part6-availability";
import type { Timer } from "part6-availability/clock";
import type { SeededRandom } from "part6-availability/random";
import {
  type ChaosLiveness,
  chaosLiveness,
  chaosNetwork,
  countFaults,
  crashSomeSaves,
  type FaultCounts,
  type FaultWeights,
  networkFault,
} from "part6-availability/sim/chaos";
import { LivenessMeter } from "part6-availability/sim/liveness";
import { uniformLatency } from "part6-availability/sim/network";
import { ClientError, type ClientOptions } from "../kv/client.ts";
import type { KvCommand, KvResult } from "../kv/commands.ts";
import type { KvSimCluster, KvSimOptions, SimKvClient } from "./kv-cluster.ts";

export interface KvChaosOptions {
  /** How long the faults go on, in virtual ms. */
  durationMs: number;
  /** After healing, how long the cluster has to settle, in virtual ms. */
  settleMs: number;
  clients: number;
  /** How many keys the clients share. */
  keys: number;
  /** The longest pause of a client between two operations, in virtual ms. */
  maxPauseMs: number;
  /** The clients' timeouts: short, so that a client moves on to its next operation sooner. */
  client: Pick<ClientOptions, "attemptTimeoutMs" | "deadlineMs">;
  /**
   * Each client sends its gets first to a node of its own (client i to node i mod n): where the
   * store serves reads on followers, followers serve them (§6.4).
   */
  readFromNodes: boolean;
}

export const defaultKvChaosOptions: KvChaosOptions = {
  durationMs: 20_000,
  settleMs: 10_000,
  clients: 5,
  keys: 3,
  maxPauseMs: 60,
  client: { attemptTimeoutMs: 300, deadlineMs: 3000 },
  readFromNodes: false,
};

/** The cluster a chaos run starts with: part 3's chaos network, and a lossy client network. */
export const kvChaosCluster: Pick<KvSimOptions, "network" | "clientNetwork"> = {
  network: { ...chaosNetwork, rpcTimeoutMs: 400 },
  clientNetwork: { latency: uniformLatency(1, 10), lossRate: 0.05 },
};

/** Part 3's faults of the network between nodes, with more repairs: two in five. */
export const kvFaultWeights: FaultWeights = {
  partition: 12,
  isolate: 12,
  reconnect: 20,
  cut: 10,
  uncut: 10,
  slow: 12,
  heal: 24,
};

/**
 * What a run did. Part 3's counts from the trace, and the clients' operations, are of the faults'
 * stretch, before every node restarts and heals; `completed` counts every operation that went
 * through, the reads at the end included.
 */
export interface KvChaosSummary extends FaultCounts {
  /** Faults drawn, one per pass of the loop; some change nothing (reconnecting a connected node). */
  faults: number;
  /** Client operations: completed, failed without effect, failed perhaps with effect. */
  completed: number;
  failedDefinite: number;
  failedIndefinite: number;
  /** Client operations that completed while the faults went on. */
  completedDuringFaults: number;
  /** Times a client's reach on the client network changed. */
  reachChanges: number;
  /** Liveness from the trace: over the faults' stretch, and each recovery to the end of the run. */
  liveness: ChaosLiveness;
}

/** Runs the scenario on a started cluster; throws at the first violation, or if a client cannot finish. */
export async function runKvChaos(
  cluster: KvSimCluster,
  random: SeededRandom,
  options: KvChaosOptions = defaultKvChaosOptions,
): Promise<KvChaosSummary> {
  const counts = countFaults(cluster);
  const start = cluster.clock.now();
  const meter = new LivenessMeter(cluster.ids.length, {}, start);
  cluster.tracer.subscribe((e) => meter.observe(e));
  const tally = {
    faults: 0,
    completed: 0,
    failedDefinite: 0,
    failedIndefinite: 0,
    reachChanges: 0,
  };
  const clients = Array.from({ length: options.clients }, (_, i) => {
    const readFrom = cluster.ids[i % cluster.ids.length]!;
    return cluster.client(`c${i}`, {
      ...options.client,
      ...(options.readFromNodes && { readFrom }),
    });
  });
  const keys = Array.from({ length: options.keys }, (_, i) => `k${i}`);
  let stopped = false;
  const workers = clients.map((c) => {
    const worker = work(cluster, c, keys, random.fork(), options, () => stopped, tally);
    worker.catch(() => undefined); // handled now: awaited, and so thrown, after the chaos
    return worker;
  });
  try {
    await faults(cluster, clients, random.fork(), options, tally);
  } finally {
    stopped = true;
  }
  const duringFaults = { ...counts, completedDuringFaults: tally.completed };
  const faultsEnd = cluster.clock.now();
  await recover(cluster, clients, options);
  // What a client started during the chaos ends by its deadline; then it must read every key,
  // one at a time (a client's requests are numbered in order).
  await cluster.settle(Promise.all(workers));
  const readAll = async (c: SimKvClient) => {
    for (const key of keys) await c.get(key);
  };
  await cluster.settle(Promise.all(clients.map(readAll)));
  tally.completed += clients.length * keys.length;
  const liveness = chaosLiveness(meter, start, faultsEnd, cluster.clock.now());
  return { ...duringFaults, ...tally, liveness };
}

/**
 * The faults, one every 50 to 800 ms of virtual time, for `options.durationMs`. A node that
 * crashes (or halts when a save fails) comes back 0.3 to 3 s later: long enough to miss entries
 * and elections, short enough that the cluster is not left without a quorum for most of the run.
 */
async function faults(
  cluster: KvSimCluster,
  clients: readonly SimKvClient[],
  random: SeededRandom,
  options: KvChaosOptions,
  tally: { faults: number; reachChanges: number },
): Promise<void> {
  const restarts = new Set<Timer>();
  let over = false;
  const restartLater = (id: NodeId) => {
    const timer = cluster.clock.setTimer(random.int(300, 3000), () => {
      restarts.delete(timer);
      if (!over && cluster.state(id).role === "dead") cluster.restart(id);
    });
    restarts.add(timer);
  };
  cluster.tracer.subscribe((e) => {
    if (!over && (e.kind === "halt" || e.kind === "crash"))
      restartLater(e.kind === "crash" ? e.details.node : e.node!);
  });
  crashSomeSaves(cluster, random.fork());
  const end = cluster.clock.now() + options.durationMs;
  while (cluster.clock.now() < end) {
    if (random.chance(0.08)) crashOne(cluster, random);
    else networkFault(cluster, random, kvFaultWeights);
    if (random.chance(0.25)) changeReach(cluster, clients, random, tally);
    tally.faults++;
    await cluster.advance(Math.min(random.int(50, 800), end - cluster.clock.now()));
  }
  over = true;
  for (const timer of restarts) timer.cancel();
}

/** Every node runs, no save fails, every link heals and loses nothing, every client reaches every node. */
async function recover(
  cluster: KvSimCluster,
  clients: readonly SimKvClient[],
  options: KvChaosOptions,
): Promise<void> {
  cluster.note(
    "chaos over: every node restarts, every link heals, no message between nodes is lost from now on, every client reaches every node; the cluster must settle and every client finish",
  );
  for (const id of cluster.ids) {
    cluster.storage.get(id)!.faults = () => undefined;
    if (cluster.state(id).role === "dead") cluster.restart(id);
  }
  cluster.network.makeReliable();
  cluster.clientNetwork.makeReliable();
  cluster.heal();
  for (const c of clients) cluster.setClientReach(c.id, cluster.ids);
  await cluster.checkSettled(options.settleMs);
}

/** One client: random operations, one at a time, until `stop()`; failures are counted. */
async function work(
  cluster: KvSimCluster,
  client: SimKvClient,
  keys: readonly string[],
  random: SeededRandom,
  options: KvChaosOptions,
  stop: () => boolean,
  tally: { completed: number; failedDefinite: number; failedIndefinite: number },
): Promise<void> {
  /** What the client last saw in each key: a cas expects it, so that some cas swap. */
  const seen = new Map<string, string | null>();
  for (let n = 1; !stop(); n++) {
    const key = keys[random.int(0, keys.length - 1)]!;
    const command = randomCommand(key, `${client.id}.${n}`, seen.get(key) ?? null, random);
    try {
      seen.set(key, valueAfter(command, await client.run(command)));
      tally.completed++;
    } catch (error) {
      if (!(error instanceof ClientError)) throw error;
      if (error.definite) tally.failedDefinite++;
      else tally.failedIndefinite++;
    }
    const pause = random.int(0, options.maxPauseMs);
    await new Promise<void>((resolve) => cluster.clock.setTimer(pause, resolve));
  }
}

/** What the key held after `command` ran and answered `result`, as far as its client knows. */
function valueAfter(command: KvCommand, result: KvResult): string | null {
  switch (command.op) {
    case "get":
      return result.value;
    case "put":
      return command.value;
    case "append":
      return (result.value ?? "") + command.value;
    case "cas":
      return result.ok ? command.value : result.value;
    case "delete":
      return null;
  }
}

/** get 30%, put 20%, append 25%, cas 15%, delete 10%; every value written is unique. */
function randomCommand(
  key: string,
  value: string,
  expected: string | null,
  random: SeededRandom,
): KvCommand {
  const roll = random.int(1, 100);
  if (roll <= 30) return { op: "get", key };
  if (roll <= 50) return { op: "put", key, value };
  if (roll <= 75) return { op: "append", key, value: `,${value}` };
  if (roll <= 90) return { op: "cas", key, expected, value };
  return { op: "delete", key };
}

/** Crashes one live node, if any. */
function crashOne(cluster: KvSimCluster, random: SeededRandom): void {
  const live = cluster.liveIds();
  if (live.length > 0) cluster.crash(live[random.int(0, live.length - 1)]!);
}

/**
 * A client now reaches every node (two times in five), or a random set of them, maybe none.
 * Counted when that is not what it reached already.
 */
function changeReach(
  cluster: KvSimCluster,
  clients: readonly SimKvClient[],
  random: SeededRandom,
  tally: { reachChanges: number },
): void {
  const client = clients[random.int(0, clients.length - 1)]!;
  const reach = random.chance(0.4)
    ? [...cluster.ids]
    : cluster.ids.filter(() => random.chance(0.5));
  if (`${cluster.clientReach(client.id)}` !== `${reach}`) tally.reachChanges++;
  cluster.setClientReach(client.id, reach);
  cluster.note(`${client.id} now reaches [${reach.map((id) => `n${id}`).join(", ")}]`);
}
