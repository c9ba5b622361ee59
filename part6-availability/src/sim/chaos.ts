// The chaos scenario: about twenty seconds of everything the network can do, and of crashes and
// restarts (some in the middle of a save), drawn from the seed, with the safety checks on every
// event, while a client submits a command every few
// milliseconds to every node that believes it leads; then the network heals and the cluster must
// settle on one leader that every node follows, and every node must apply every entry that any
// node committed. It reaches what hand-written scenarios reach
// only by luck: replies that arrive after the election they answer (slow links and an RPC
// timeout longer than an election), partitions into several groups, one-way cuts, loss,
// duplication and long reordering, all at once. The seed sweep runs it under many seeds.

import type { NodeId } from "../raft.ts";
import type { SeededRandom } from "../random.ts";
import type { SimCluster } from "./cluster.ts";
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

export interface ChaosSummary {
  faults: number;
  leadersElected: number;
  highestTerm: number;
  staleReplies: number;
  /** Commands submitted (to every leader at the time), and entries committed in the end. */
  submitted: number;
  committed: number;
}

/** Runs the scenario on a started cluster; throws at the first violation or if it never settles. */
export async function runChaos(
  cluster: SimCluster,
  random: SeededRandom,
  options: ChaosOptions = defaultChaosOptions,
): Promise<ChaosSummary> {
  const summary: ChaosSummary = {
    faults: 0,
    leadersElected: 0,
    highestTerm: 0,
    staleReplies: 0,
    submitted: 0,
    committed: 0,
  };
  cluster.tracer.subscribe((e) => {
    if (e.kind === "role" && e.details.to === "leader") summary.leadersElected++;
    if (e.kind === "reply.stale") summary.staleReplies++;
  });
  crashSomeSaves(cluster, random.fork());
  const end = cluster.clock.now() + options.durationMs;
  while (cluster.clock.now() < end) {
    if (!applyNodeFault(cluster, random)) applyFault(cluster, random);
    summary.faults++;
    const until = cluster.clock.now() + random.int(50, 800);
    while (cluster.clock.now() < until) {
      // Leaders of old terms get commands too: theirs must never commit.
      for (const { id } of cluster.leaders()) cluster.submitToServer(id, `c${summary.submitted++}`);
      await cluster.advance(Math.min(25, until - cluster.clock.now()));
    }
  }
  cluster.note(
    "chaos over: every node restarts, every link heals, no message is lost from now on; the cluster must settle",
  );
  for (const id of cluster.ids) {
    cluster.storage.get(id)!.faults = () => undefined;
    if (cluster.state(id).role === "dead") cluster.restart(id);
  }
  cluster.network.makeReliable();
  cluster.heal();
  await cluster.checkSettled(options.settleMs);
  // An entry of the leader's term commits every earlier one (§5.4.2), and every node must then
  // apply them all. It goes to whoever leads, again if leadership changes before it commits.
  summary.committed = await cluster.one("settled", cluster.ids.length, true);
  summary.highestTerm = Math.max(...cluster.ids.map((id) => cluster.state(id).currentTerm));
  return summary;
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
function crashSomeSaves(cluster: SimCluster, random: SeededRandom): void {
  for (const id of cluster.ids) {
    cluster.storage.get(id)!.faults = () =>
      random.chance(0.005)
        ? random.chance(0.5)
          ? "crash before durable"
          : "crash after durable"
        : undefined;
  }
}

/** One fault, drawn at random; most change the network, a few undo what earlier ones did. */
function applyFault(cluster: SimCluster, random: SeededRandom): void {
  const ids = cluster.ids;
  const pick = () => ids[random.int(0, ids.length - 1)]!;
  const other = (a: NodeId) => ids.filter((id) => id !== a)[random.int(0, ids.length - 2)]!;
  const roll = random.int(1, 100);
  if (roll <= 15) cluster.partition(...randomGroups(ids, random));
  else if (roll <= 30) cluster.isolate(pick());
  else if (roll <= 50) cluster.reconnect(pick());
  else if (roll <= 62) {
    const a = pick();
    cluster.cut(a, other(a));
  } else if (roll <= 72) {
    const a = pick();
    cluster.uncut(a, other(a));
  } else if (roll <= 85) {
    const a = pick();
    cluster.slow(a, other(a), random.chance(0.3) ? 0 : random.int(200, 1500));
  } else cluster.heal();
}

/** Two or three non-empty groups, each node in one. */
function randomGroups(ids: readonly NodeId[], random: SeededRandom): NodeId[][] {
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
