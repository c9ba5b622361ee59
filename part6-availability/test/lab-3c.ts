// The MIT 6.824 Raft lab 3C's test pieces in virtual time, for mit-3c.test.ts and
// mit-3c-figure8.test.ts: random commands, clients submitting in the background, the lab's long
// reordering, a crash right after a save, the Figure 8 sleeps, churn, and the backup scenario.

import { expect } from "vitest";
import type { NodeId, RaftConfig } from "../src/raft.ts";
import type { SeededRandom } from "../src/random.ts";
import { longReorderingNetwork } from "../src/sim/network.ts";
import { Cluster } from "./harness.ts";

/** The lab's RaftElectionTimeout: comfortably more than one election. */
export const ELECTION_TIMEOUT = 1000;

/** The lab's rand.Int(): a random command, from the test's seed. */
export function randomCommand(random: SeededRandom): number {
  return random.int(0, 2 ** 31 - 1);
}

/** Submits `command` to every live node, as the lab's clients do; the index of the last that took it. */
export function submitToAll(
  cluster: Cluster,
  command: unknown,
): { leader: NodeId; index: number } | undefined {
  let taken: { leader: NodeId; index: number } | undefined;
  for (const id of cluster.liveIds()) {
    const result = cluster.submitToServer(id, command);
    if (result.isLeader) taken = { leader: id, index: result.index };
  }
  return taken;
}

/** The lab's wait-for-a-goroutine: a client running on the virtual clock, finished or not. */
export interface Client {
  finished: boolean;
  failure?: string;
}

/**
 * The lab's one(command, expected, true) run in a goroutine beside the test: submits to a
 * connected leader, polls every 20 ms whether `expected` servers applied it at that index, tries
 * again after 2 s, and fails after 10 s. Timers on the virtual clock drive it, so it makes
 * progress while the test advances time (the harness's own `one` runs the clock, and two of
 * those at once would both try to).
 */
export function oneInBackground(cluster: Cluster, command: number, expected: number): Client {
  const client: Client = { finished: false };
  const deadline = cluster.clock.now() + 10_000;
  const attempt = () => {
    if (cluster.clock.now() >= deadline) {
      client.finished = true;
      client.failure = `${command} did not reach agreement`;
      return;
    }
    const leader = cluster.connectedIds().find((id) => cluster.state(id).role === "leader");
    const result = leader === undefined ? undefined : cluster.submitToServer(leader, command);
    if (result === undefined || !result.isLeader) {
      cluster.clock.setTimer(50, attempt);
      return;
    }
    const giveUp = cluster.clock.now() + 2000;
    const poll = () => {
      const found = cluster.nCommitted(result.index);
      if (found.count >= expected && found.command === command) client.finished = true;
      else if (cluster.clock.now() >= giveUp) attempt();
      else cluster.clock.setTimer(20, poll);
    };
    poll();
  };
  cluster.clock.setTimer(0, attempt);
  return client;
}

/** Runs until every client has finished, and fails with the first that failed. */
export async function joinClients(cluster: Cluster, clients: Client[], deadlineMs = 20_000) {
  await cluster.runUntil(cluster.clock.now() + deadlineMs, () => clients.every((c) => c.finished));
  expect(clients.filter((c) => !c.finished)).toEqual([]);
  expect(clients.flatMap((c) => (c.failure === undefined ? [] : [c.failure]))).toEqual([]);
}

/**
 * The lab's setlongreordering(true) in the middle of a test: from now on the network holds back
 * most messages for a long time (the preset's settings). The network is chosen when the cluster
 * is built and has `makeReliable` but no way back, so this changes its settings in place.
 */
export function setLongReordering(cluster: Cluster): void {
  const { reorderRate, reorderDelayMs, reorderRepliesOnly, rpcTimeoutMs } = longReorderingNetwork;
  Object.assign(cluster.network.config, {
    reorderRate,
    reorderDelayMs,
    reorderRepliesOnly,
    rpcTimeoutMs,
  });
  cluster.note("long reordering from now on (the lab's setlongreordering)");
}

/** The node's next save makes its changes durable and then crashes it. */
export function crashAfterNextSave(cluster: Cluster, id: NodeId): void {
  const storage = cluster.storage.get(id)!;
  const next = storage.saves + 1;
  storage.faults = (n) => (n === next ? "crash after durable" : undefined);
}

/** The lab's sleep in the Figure 8 loops: mostly under 13 ms, one time in ten up to 500 ms. */
export function figure8Sleep(random: SeededRandom): number {
  return random.int(0, 999) < 100 ? random.int(0, ELECTION_TIMEOUT / 2 - 1) : random.int(0, 12);
}

/**
 * One of the churn test's clients (the lab's cfn), on the virtual clock: over and over, submits a
 * random number to every live node; if one took it, looks whether its index is committed after
 * 0, 10, 30, 80 and 180 ms, and keeps the number if it was committed there; if none took it,
 * sleeps 79 + 17 * me ms. It stops at its next round once `stop` is set.
 */
class ChurnClient implements Client {
  finished = false;
  failure?: string;
  /** The numbers it saw committed at the index it was given. */
  readonly values: number[] = [];
  stop = false;
  private readonly cluster: Cluster;
  private readonly me: number;
  private readonly random: SeededRandom;

  constructor(cluster: Cluster, me: number, random: SeededRandom) {
    this.cluster = cluster;
    this.me = me;
    this.random = random;
    cluster.clock.setTimer(0, () => this.round());
  }

  private round(): void {
    if (this.stop) {
      this.finished = true;
      return;
    }
    const x = randomCommand(this.random);
    const taken = submitToAll(this.cluster, x);
    if (taken === undefined) this.cluster.clock.setTimer(79 + this.me * 17, () => this.round());
    else this.look(x, taken.index, 0);
  }

  private look(x: number, index: number, attempt: number): void {
    const waits = [10, 20, 50, 100, 200];
    const found = this.cluster.nCommitted(index);
    if (found.count > 0) {
      if (typeof found.command !== "number") this.failure = `index ${index} holds a non-number`;
      if (found.command === x) this.values.push(x);
      this.cluster.clock.setTimer(0, () => this.round());
      return;
    }
    const next =
      attempt + 1 < waits.length ? () => this.look(x, index, attempt + 1) : () => this.round();
    this.cluster.clock.setTimer(waits[attempt]!, next);
  }
}

/** The lab's internalChurn: clients submit while servers are cut off, crash and restart. */
export async function churn(cluster: Cluster, rounds = 20): Promise<void> {
  const random = cluster.randomStream();
  const clients = [0, 1, 2].map((me) => new ChurnClient(cluster, me, random.fork()));
  for (let iters = 0; iters < rounds; iters++) {
    if (random.int(0, 999) < 200) cluster.isolate(random.int(0, 4));
    if (random.int(0, 999) < 500) {
      const i = random.int(0, 4);
      if (cluster.state(i).role === "dead") cluster.restart(i);
      cluster.reconnect(i);
    }
    if (random.int(0, 999) < 200) {
      const i = random.int(0, 4);
      if (cluster.state(i).role !== "dead") cluster.crash(i);
    }
    await cluster.advance((ELECTION_TIMEOUT * 7) / 10);
  }
  await cluster.advance(ELECTION_TIMEOUT);
  cluster.network.makeReliable();
  for (const id of cluster.ids) {
    if (cluster.state(id).role === "dead") cluster.restart(id);
    cluster.reconnect(id);
  }
  for (const client of clients) client.stop = true;
  await joinClients(cluster, clients);
  await cluster.advance(ELECTION_TIMEOUT);
  const lastIndex = await cluster.one(randomCommand(random), 5, true);
  // Every server applied everything up to lastIndex; the safety checks saw that they agree.
  const really = cluster.applied
    .get(0)!
    .slice(0, lastIndex)
    .map((entry) => entry.command);
  const values = clients.flatMap((client) => client.values);
  expect(values.length).toBeGreaterThan(0);
  expect(values.filter((v) => !really.includes(v))).toEqual([]);
}

/**
 * AppendEntries each follower refused for a mismatch, by follower and leader term: each is an RPC
 * spent finding where that follower's log diverges from that leader's.
 */
export function refusals(cluster: Cluster): number[] {
  const byCatchUp = new Map<string, number>();
  for (const e of cluster.tracer.events) {
    if (e.kind !== "send" || e.details.rpc !== "AppendEntries" || e.details.type !== "reply")
      continue;
    const { success, conflictIndex } = e.details.payload;
    if (success || conflictIndex === undefined) continue;
    const key = `n${e.node}@T${e.details.payload.term}`;
    byCatchUp.set(key, (byCatchUp.get(key) ?? 0) + 1);
  }
  return [...byCatchUp.values()];
}

/**
 * The lab's TestBackup3B: a leader and one follower collect 50 entries that never commit, the
 * other three commit 50 of their own, then their leader and one follower collect 50 more that
 * never commit; then leaders must overwrite 50 or more conflicting entries on several followers.
 */
export async function backup(raft: Partial<RaftConfig>): Promise<number[]> {
  const cluster = Cluster.start(5, { raft });
  const random = cluster.randomStream();
  await cluster.one(randomCommand(random), 5, true);
  const first = (await cluster.checkSingleLeader()).leader;
  const peer = (k: number) => (first + k) % 5;
  cluster.partition([first, peer(1)], [peer(2), peer(3), peer(4)]);
  for (let i = 0; i < 50; i++) cluster.submitToServer(first, randomCommand(random));
  await cluster.advance(ELECTION_TIMEOUT / 2);
  cluster.partition([peer(2), peer(3), peer(4)], [first, peer(1)]);
  for (let i = 0; i < 50; i++) await cluster.one(randomCommand(random), 3, true);
  const second = (await cluster.checkSingleLeader()).leader;
  const [other, partner] = [peer(2), peer(3), peer(4)].filter((id) => id !== second);
  cluster.partition([second, partner!], [other!]);
  for (let i = 0; i < 50; i++) cluster.submitToServer(second, randomCommand(random));
  await cluster.advance(ELECTION_TIMEOUT / 2);
  cluster.partition([first, peer(1), other!]);
  for (let i = 0; i < 50; i++) await cluster.one(randomCommand(random), 3, true);
  cluster.heal();
  await cluster.one(randomCommand(random), 5, true);
  return refusals(cluster);
}
