// Goal: the key/value scenarios of the MIT 6.824 (6.5840) lab 4A, kvraft: one client and many,
// an unreliable network, many clients appending to one key, progress in a majority partition
// and none in a minority, repeated random partitions, whole-cluster restarts, and all of these
// together with random keys; plus the speed test. Method: the lab's GenericTest in virtual time:
// rounds in which each client appends "x <client> <j> y" to its own key (or, with random keys,
// works on any client's key) and checks every get against what it appended, while a partitioner
// splits the servers at random every election timeout or so; after each round the network heals,
// the servers crash and restart if the test says so, and each client's key must hold all of its
// appends, once each, in order. lincheck then checks every operation of the run, as the lab's
// Porcupine does (harness.ts). As in the lab, a client is partitioned only in the one-partition
// test (setClientReach); the partitioner splits servers only, and clients reach every server.
//
// Counts reduced to keep each test near a second of wall time for one seed: rounds of 1.5 s of
// virtual time where the lab has 5 s, 0.3 s of quiet before the partitioner where it has 1 s, and
// the random-keys test with 7 clients where the lab has 15. The lab's unreliable network loses a
// message in ten each way, clients' included, and delays each 0 to 27 ms.

import type { Timer } from "part3-persistence/clock";
import type { SeededRandom } from "part3-persistence/random";
import { uniformLatency, unreliableNetwork } from "part3-persistence/sim/network";
import { describe, expect } from "vitest";
import type { ClientOptions } from "../src/kv/client.ts";
import type { SimKvClient } from "../src/sim/kv-cluster.ts";
import { Cluster, type ClusterOptions, test } from "./harness.ts";
import { expectGet, inBackground, watched } from "./kv-helpers.ts";

/** The lab's electionTimeout: it allows an election a whole second. */
const ELECTION_TIMEOUT = 1000;
const ROUNDS = 3;
const ROUND_MS = 1500;
const QUIET_MS = 300;

interface Generic {
  clients: number;
  servers: number;
  unreliable?: boolean;
  crash?: boolean;
  partitions?: boolean;
  randomKeys?: boolean;
}

function options(unreliable: boolean | undefined): ClusterOptions {
  if (!unreliable) return {};
  return {
    network: unreliableNetwork,
    clientNetwork: { latency: uniformLatency(0, 27), lossRate: 0.1 },
  };
}

/**
 * A client gives up on one attempt after 300 ms, as the lab's RPCs to a lost or cut-off server
 * fail fast: a client that waits a whole second on a leader left in a minority would make little
 * progress between the partitioner's splits.
 */
const clientOptions: Partial<ClientOptions> = { attemptTimeoutMs: 300 };

/** The element client `cli` appends as its `j`-th. */
const element = (cli: number, j: number) => `x ${cli} ${j} y`;

/** The lab's checkClntAppends: each of the client's `count` appends once, in order. */
function checkClientAppends(cli: number, value: string, count: number): void {
  let last = -1;
  for (let j = 0; j < count; j++) {
    const wanted = element(cli, j);
    const at = value.indexOf(wanted);
    expect(at, `client ${cli}: ${wanted} missing in ${JSON.stringify(value)}`).toBeGreaterThan(-1);
    expect(value.lastIndexOf(wanted), `${wanted} appended twice`).toBe(at);
    expect(at, `${wanted} out of order`).toBeGreaterThan(last);
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
      if (!o.randomKeys) expect(got, `client ${cli} get ${key}`).toBe(last);
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

async function genericTest(o: Generic): Promise<void> {
  const cluster = Cluster.start(o.servers, options(o.unreliable));
  const random = cluster.randomStream();
  const ck = cluster.client("ck", clientOptions);
  let appended = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const counts = await round(cluster, o, r, random);
    for (let cli = 0; cli < o.clients; cli++) {
      const value = (await cluster.settle(ck.get(String(cli)))).value ?? "";
      if (!o.randomKeys) checkClientAppends(cli, value, counts[cli]!);
    }
    appended += counts.reduce((a, b) => a + b, 0);
  }
  // A run that wrote nothing would test nothing.
  expect(appended).toBeGreaterThanOrEqual(o.clients);
}

describe("MIT 6.824 lab 4A, key/value service", () => {
  test("one client", () => genericTest({ clients: 1, servers: 5 }));
  test("many clients", () => genericTest({ clients: 5, servers: 5 }));
  test("unreliable net, many clients", () =>
    genericTest({ clients: 5, servers: 5, unreliable: true }));
  test("partitions, one client", () => genericTest({ clients: 1, servers: 5, partitions: true }));
  test("partitions, many clients", () => genericTest({ clients: 5, servers: 5, partitions: true }));
  test("restarts, one client", () => genericTest({ clients: 1, servers: 5, crash: true }));
  test("restarts, many clients", () => genericTest({ clients: 5, servers: 5, crash: true }));
  test("unreliable net, restarts, many clients", () =>
    genericTest({ clients: 5, servers: 5, unreliable: true, crash: true }));
  test("restarts, partitions, many clients", () =>
    genericTest({ clients: 5, servers: 5, crash: true, partitions: true }));
  test("unreliable net, restarts, partitions, many clients", () =>
    genericTest({ clients: 5, servers: 5, unreliable: true, crash: true, partitions: true }));
  test("unreliable net, restarts, partitions, random keys, many clients (linearizable)", () =>
    genericTest({
      clients: 7,
      servers: 7,
      unreliable: true,
      crash: true,
      partitions: true,
      randomKeys: true,
    }));
});

describe("MIT 6.824 lab 4A, key/value service: speed and one key", () => {
  test("ops complete fast enough: well under a heartbeat interval each", async () => {
    const cluster = Cluster.start(3);
    const ck = cluster.client("ck");
    await cluster.settle(ck.get("x")); // a leader is elected and serving
    const start = cluster.clock.now();
    for (let i = 0; i < 1000; i++) await cluster.settle(ck.append("x", element(0, i)));
    const perOp = (cluster.clock.now() - start) / 1000;
    checkClientAppends(0, (await cluster.settle(ck.get("x"))).value ?? "", 1000);
    // The lab's bound: three operations per heartbeat interval (ours is 50 ms).
    expect(perOp).toBeLessThan(50 / 3);
  });

  test("concurrent append to same key, unreliable", async () => {
    const cluster = Cluster.start(3, options(true));
    const ck = cluster.client("ck", clientOptions);
    await cluster.settle(ck.put("k", ""));
    const upto = 10;
    const replaced: [string, string][] = [];
    const appends = Array.from({ length: 5 }, async (_, cli) => {
      const c = cluster.client(`c${cli}`, clientOptions);
      for (let n = 0; n < upto; n++) {
        const { value } = await c.append("k", element(cli, n));
        replaced.push([value ?? "", element(cli, n)]);
        // Not in the lab, which logs none of this test's operations for Porcupine. Here every
        // operation goes to lincheck, and the value an append replaced is not in the history it
        // reads: appends alone would leave their order open and the search would run out of
        // budget. A read after each append pins the order.
        expect((await c.get("k")).value).toContain(element(cli, n));
      }
    });
    await cluster.settle(Promise.all(appends));
    const value = (await cluster.settle(ck.get("k"))).value ?? "";
    for (let cli = 0; cli < 5; cli++) checkClientAppends(cli, value, upto);
    // What each append answered is what the key held just before it (the checks above cannot
    // see those answers).
    for (const [before, appended] of replaced)
      expect(value.startsWith(before + appended)).toBe(true);
  });
});

describe("MIT 6.824 lab 4A, key/value service: partitioned clients", () => {
  test("progress in majority, none in minority, completion after heal", async () => {
    const cluster = Cluster.start(5);
    const ck = cluster.client("ck");
    await cluster.settle(ck.put("1", "13"));
    const { p1, p2 } = await makePartition(cluster);
    cluster.partition(p1, p2);
    const client = (id: string, reach: number[]) => {
      cluster.setClientReach(id, reach);
      return cluster.client(id);
    };
    const [ckp1, ckp2a, ckp2b] = [client("p1", p1), client("p2a", p2), client("p2b", p2)];
    await cluster.settle(ckp1.put("1", "14"));
    await expectGet(cluster, ckp1, "1", "14");
    const put = watched(ckp2a.put("1", "15"));
    const get = watched(ckp2b.get("1"));
    await cluster.advance(ELECTION_TIMEOUT);
    expect(put.settled() || get.settled(), "an operation completed in the minority").toBe(false);
    await expectGet(cluster, ckp1, "1", "14");
    await cluster.settle(ckp1.put("1", "16"));
    await expectGet(cluster, ckp1, "1", "16");
    cluster.heal();
    for (const id of ["p2a", "p2b"]) cluster.setClientReach(id, cluster.ids);
    await cluster.advance(ELECTION_TIMEOUT);
    await cluster.settle(put.promise, 3000);
    await cluster.settle(get.promise, 3000);
    await expectGet(cluster, ck, "1", "15");
  });
});

/** The lab's make_partition: a majority without the leader, and the leader in the minority. */
async function makePartition(cluster: Cluster): Promise<{ p1: number[]; p2: number[] }> {
  const { leader } = await cluster.checkSingleLeader();
  const others = cluster.ids.filter((id) => id !== leader);
  const majority = Math.floor(cluster.ids.length / 2) + 1;
  return { p1: others.slice(0, majority), p2: [...others.slice(majority), leader] };
}
