// The MIT 6.824 (6.5840) lab 4A's GenericTest in virtual time, for mit-kv.test.ts and
// mit-kv-restarts.test.ts: rounds in which each client appends "x <client> <j> y" to its own key (or,
// with random keys, works on any client's key) and checks every get against what it appended,
// while a partitioner splits the servers at random every election timeout or so; after each round
// the network heals, the servers crash and restart if the test says so, and each client's key must
// hold all of its appends, once each, in order.
//
// Counts reduced to keep each test near a second of wall time for one seed: rounds of 1.5 s of
// virtual time where the lab has 5 s, 0.3 s of quiet before the partitioner where it has 1 s, and
// the random-keys test with 7 clients where the lab has 15. The lab's unreliable network loses a
// message in ten each way, clients' included, and delays each 0 to 27 ms.
//
// With `maxraftstate` (the lab 4B tests), a server snapshots once the commands applied since its
// last snapshot come to that many bytes (RaftConfig's snapshotAfterBytes, and no bound by count),
// and after each round no server's log may hold more than 8 times that many bytes, as the lab's
// LogSize check says.

import type { Timer } from "part6-availability/clock";
import type { SeededRandom } from "part6-availability/random";
import { uniformLatency, unreliableNetwork } from "part6-availability/sim/network";
import { expect } from "vitest";
import type { ClientOptions } from "../src/kv/client.ts";
import type { SimKvClient } from "../src/sim/kv-cluster.ts";
import { Cluster, type ClusterOptions } from "./harness.ts";
import { inBackground } from "./kv-helpers.ts";

/** The lab 4B's maxraftstate: a server snapshots once its commands since the last reach 1000 bytes. */
export const MAXRAFTSTATE = 1000;
/** The lab's electionTimeout: it allows an election a whole second. */
export const ELECTION_TIMEOUT = 1000;
const ROUNDS = 3;
const ROUND_MS = 1500;
const QUIET_MS = 300;

/** What the lab's GenericTest varies. */
export interface Generic {
  clients: number;
  servers: number;
  unreliable?: boolean;
  crash?: boolean;
  partitions?: boolean;
  randomKeys?: boolean;
  /** Lab 4B: snapshot after this many bytes of commands, and bound the logs by 8 times it. */
  maxraftstate?: number;
}

export function options(unreliable: boolean | undefined, maxraftstate?: number): ClusterOptions {
  const snapshots: ClusterOptions =
    maxraftstate === undefined
      ? {}
      : { raft: { snapshotAfterBytes: maxraftstate, snapshotAfterEntries: 0 } };
  if (!unreliable) return snapshots;
  return {
    ...snapshots,
    network: unreliableNetwork,
    clientNetwork: { latency: uniformLatency(0, 27), lossRate: 0.1 },
  };
}

/** The lab's LogSize: the most bytes (as JSON) any server's log holds after its snapshot. */
export function logBytes(cluster: Cluster): number {
  return Math.max(...cluster.ids.map((id) => JSON.stringify(cluster.node(id).getLog()).length));
}

/** The lab's SnapshotSize: the largest snapshot any server keeps, in characters of JSON. */
export function snapshotChars(cluster: Cluster): number {
  return Math.max(...cluster.ids.map((id) => cluster.node(id).getSnapshot()?.data.length ?? 0));
}

/** The lab's check after each round of GenericTest: the logs were trimmed. */
export function checkLogsTrimmed(cluster: Cluster, maxraftstate: number): void {
  const size = logBytes(cluster);
  expect(size, `logs were not trimmed (${size} > 8*${maxraftstate})`).toBeLessThanOrEqual(
    8 * maxraftstate,
  );
}

/**
 * A client gives up on one attempt after 300 ms, as the lab's RPCs to a lost or cut-off server
 * fail fast: a client that waits a whole second on a leader left in a minority would make little
 * progress between the partitioner's splits.
 */
export const clientOptions: Partial<ClientOptions> = { attemptTimeoutMs: 300 };

/** The element client `cli` appends as its `j`-th. */
export const element = (cli: number, j: number) => `x ${cli} ${j} y`;

/**
 * The lab's checkClntAppends: each of the client's `count` appends once, in order. The checks
 * are made plainly and handed to `expect` (for its message) only when one fails: a round's value
 * holds hundreds of appends, and an assertion with the value in its message, three per append,
 * took a large share of the test's time.
 */
export function checkClientAppends(cli: number, value: string, count: number): void {
  let last = -1;
  for (let j = 0; j < count; j++) {
    const wanted = element(cli, j);
    const at = value.indexOf(wanted);
    if (at === -1 || value.lastIndexOf(wanted) !== at || !(at > last)) {
      expect(at, `client ${cli}: ${wanted} missing in ${JSON.stringify(value)}`).toBeGreaterThan(
        -1,
      );
      expect(value.lastIndexOf(wanted), `${wanted} appended twice`).toBe(at);
      expect(at, `${wanted} out of order`).toBeGreaterThan(last);
    }
    last = at;
  }
}

/** One client of a round: until `stop()`, appends half the time, else gets (or puts). */
async function runClient(
  c: SimKvClient,
  cli: number,
  o: Generic,
  random: SeededRandom,
  stop: () => boolean,
): Promise<number> {
  let j = 0;
  let last = "";
  if (!o.randomKeys) await c.put(String(cli), last);
  while (!stop()) {
    const key = o.randomKeys ? String(random.int(0, o.clients - 1)) : String(cli);
    const value = element(cli, j);
    if (random.int(0, 999) < 500) {
      await c.append(key, value);
      if (!o.randomKeys) last += value;
      j++;
    } else if (o.randomKeys && random.int(0, 999) < 100) {
      await c.put(key, value);
      j++;
    } else {
      const got = (await c.get(key)).value ?? "";
      // Through expect only when it fails (see checkClientAppends).
      if (!o.randomKeys && got !== last) expect(got, `client ${cli} get ${key}`).toBe(last);
    }
  }
  return j;
}

/** The lab's partitioner: every election timeout or so, each server goes to one of two sides. */
function startPartitioner(cluster: Cluster, random: SeededRandom): () => void {
  let timer: Timer | undefined;
  const repartition = () => {
    const sides: number[][] = [[], []];
    for (const id of cluster.ids) sides[random.int(0, 1)]!.push(id);
    cluster.partition(sides[0]!, sides[1]!);
    timer = cluster.clock.setTimer(ELECTION_TIMEOUT + random.int(0, 199), repartition);
  };
  repartition();
  return () => timer?.cancel();
}

async function round(cluster: Cluster, o: Generic, r: number, random: SeededRandom) {
  let stopped = false;
  const clients = Array.from({ length: o.clients }, (_, cli) =>
    cluster.client(`r${r}c${cli}`, clientOptions),
  );
  const runs = clients.map((c, cli) =>
    inBackground(runClient(c, cli, o, random.fork(), () => stopped)),
  );
  let stopPartitioner: (() => void) | undefined;
  if (o.partitions) {
    await cluster.advance(QUIET_MS);
    stopPartitioner = startPartitioner(cluster, random);
  }
  await cluster.advance(ROUND_MS);
  stopped = true;
  if (stopPartitioner !== undefined) {
    stopPartitioner();
    // A client may have sent to a minority leader; it answers once it learns of the new term.
    cluster.heal();
    await cluster.advance(ELECTION_TIMEOUT);
  }
  if (o.crash) {
    for (const id of cluster.ids) cluster.crash(id);
    await cluster.advance(ELECTION_TIMEOUT);
    for (const id of cluster.ids) cluster.restart(id);
  }
  return cluster.settle(Promise.all(runs));
}

export async function genericTest(o: Generic): Promise<void> {
  const cluster = Cluster.start(o.servers, options(o.unreliable, o.maxraftstate));
  const random = cluster.randomStream();
  const ck = cluster.client("ck", clientOptions);
  let appended = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const counts = await round(cluster, o, r, random);
    for (let cli = 0; cli < o.clients; cli++) {
      const value = (await cluster.settle(ck.get(String(cli)))).value ?? "";
      if (!o.randomKeys) checkClientAppends(cli, value, counts[cli]!);
    }
    if (o.maxraftstate !== undefined) checkLogsTrimmed(cluster, o.maxraftstate);
    appended += counts.reduce((a, b) => a + b, 0);
  }
  // A run that wrote nothing would test nothing; one with snapshots must have taken them, and
  // with crashes, restarted from them.
  expect(appended).toBeGreaterThanOrEqual(o.clients);
  if (o.maxraftstate === undefined) return;
  const kinds = new Set(cluster.events.map((e) => e.kind));
  expect(kinds.has("snapshot.take")).toBe(true);
  if (o.crash) expect(kinds.has("snapshot.restore")).toBe(true);
}
