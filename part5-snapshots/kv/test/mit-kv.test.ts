// Goal: the key/value scenarios of the MIT 6.824 (6.5840) lab 4A, kvraft: one client and many,
// an unreliable network, many clients appending to one key, progress in a majority partition
// and none in a minority, repeated random partitions; plus the speed test. (The lab's tests with
// whole-cluster restarts are mit-kv-restarts.test.ts.) Method: the lab's GenericTest in virtual
// time (mit-kv-generic.ts), and the lab's own tests for speed, one key and partitioned clients.
// lincheck then checks every operation of each run, as the lab's Porcupine does (harness.ts). As
// in the lab, a client is partitioned only in the one-partition test (setClientReach); the
// partitioner splits servers only, and clients reach every server.

import { describe, expect } from "vitest";
import { Cluster, test } from "./harness.ts";
import { expectGet, watched } from "./kv-helpers.ts";
import {
  checkClientAppends,
  clientOptions,
  ELECTION_TIMEOUT,
  element,
  genericTest,
  options,
} from "./mit-kv-generic.ts";

describe("MIT 6.824 lab 4A, key/value service", () => {
  test("one client", () => genericTest({ clients: 1, servers: 5 }));
  test("many clients", () => genericTest({ clients: 5, servers: 5 }));
  test("unreliable net, many clients", () =>
    genericTest({ clients: 5, servers: 5, unreliable: true }));
  test("partitions, one client", () => genericTest({ clients: 1, servers: 5, partitions: true }));
  test("partitions, many clients", () => genericTest({ clients: 5, servers: 5, partitions: true }));
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
