// Goal: the key/value scenarios of Eli Bendersky's Go series (its part4kv and part5kv
// system_test.go), so readers of that series can compare: a request before any leader exists,
// put/get/append/cas from one and many clients, put answering the previous value, concurrent
// clients on 3 and 5 nodes, a disconnected leader (and follower), crashed and restarted leaders
// and followers, appends across leaders, and appends whose response was delayed, lost or cut by
// a crash, each answered once. Method: a simulated cluster in virtual time; where the Go tests
// sleep, these advance virtual time by the same amount; where they launch goroutines, these
// start operations together and settle them all. A Go client that "times out" is one here whose
// deadline passes. Each test's history goes through lincheck when it ends (harness.ts).

import { describe, expect } from "vitest";
import { ClientError } from "../src/kv/client.ts";
import { Cluster, test } from "./harness.ts";
import {
  clientMaker,
  copiesApplied,
  expectGet,
  holdNextResponse,
  inBackground,
  loseReplyOnClientNetwork,
  shuffled,
} from "./kv-helpers.ts";

const absent = { value: null, existed: false };
const was = (value: string) => ({ value, existed: true });

/** The Go tests' first step: n keys put by n new clients, each key new. */
async function putKeys(cluster: Cluster, newClient: ReturnType<typeof clientMaker>, n: number) {
  for (let i = 0; i < n; i++) {
    expect(await cluster.settle(newClient().put(`key${i}`, `value${i}`))).toEqual(absent);
  }
}

describe("Go series, key/value service: first steps", () => {
  test("setup: a cluster of services starts", async () => {
    const cluster = Cluster.start(3);
    await cluster.advance(80);
    expect(cluster.services.size).toBe(3);
  });

  test("a request before consensus waits for a leader", async () => {
    const cluster = Cluster.start(3);
    await cluster.advance(10);
    expect(cluster.leaders()).toEqual([]);
    // The client keeps cycling between the services until one leads.
    const c1 = cluster.client("c1");
    expect(await cluster.settle(c1.put("llave", "cosa"))).toEqual(absent);
    await cluster.advance(80);
    await expectGet(cluster, c1, "llave", "cosa");
  });

  test("put and get, one client", async () => {
    const cluster = Cluster.start(3);
    await cluster.checkSingleLeader();
    const c1 = cluster.client("c1");
    await cluster.settle(c1.put("llave", "cosa"));
    await expectGet(cluster, c1, "llave", "cosa");
  });

  test("put answers the previous value", async () => {
    const cluster = Cluster.start(3);
    await cluster.checkSingleLeader();
    const c1 = cluster.client("c1");
    expect(await cluster.settle(c1.put("llave", "cosa"))).toEqual(absent);
    expect(await cluster.settle(c1.put("llave", "frodo"))).toEqual(was("cosa"));
    expect(await cluster.settle(c1.put("mafteah", "davar"))).toEqual(absent);
  });
});

describe("Go series, key/value service: appends and several clients", () => {
  test("append, one client: to a key that exists and to one that does not", async () => {
    const cluster = Cluster.start(3);
    await cluster.checkSingleLeader();
    const c1 = cluster.client("c1");
    await cluster.settle(c1.put("foo", "bar"));
    expect(await cluster.settle(c1.append("foo", "baz"))).toEqual(was("bar"));
    await expectGet(cluster, c1, "foo", "barbaz");
    expect(await cluster.settle(c1.append("mix", "match"))).toEqual(absent);
    await expectGet(cluster, c1, "mix", "match");
  });

  test("put and get, different clients", async () => {
    const cluster = Cluster.start(3);
    await cluster.checkSingleLeader();
    await cluster.settle(cluster.client("c1").put("k", "v"));
    await expectGet(cluster, cluster.client("c2"), "k", "v");
    await cluster.advance(80);
  });

  test("append, different clients", async () => {
    const cluster = Cluster.start(3);
    await cluster.checkSingleLeader();
    const [c1, c2] = [cluster.client("c1"), cluster.client("c2")];
    await cluster.settle(c1.put("foo", "bar"));
    expect(await cluster.settle(c2.append("foo", "baz"))).toEqual(was("bar"));
    await expectGet(cluster, c1, "foo", "barbaz");
    expect(await cluster.settle(c2.append("mix", "match"))).toEqual(absent);
    await expectGet(cluster, c1, "mix", "match");
  });

  test("append across leaders: the crashed leader comes back with both appends", async () => {
    const cluster = Cluster.start(3);
    const { leader } = await cluster.checkSingleLeader();
    const c1 = cluster.client("c1");
    await cluster.settle(c1.append("foo", "bar"));
    await expectGet(cluster, c1, "foo", "bar");
    cluster.crash(leader);
    await cluster.checkSingleLeader();
    const c2 = cluster.client("c2");
    await cluster.settle(c2.append("foo", "baz"));
    await expectGet(cluster, c2, "foo", "barbaz");
    cluster.restart(leader);
    await cluster.advance(300);
    await expectGet(cluster, cluster.client("c3"), "foo", "barbaz");
    // The restarted node rebuilt its state machine by applying the log again.
    expect(cluster.services.get(leader)!.machine.read("foo")).toBe("barbaz");
  });
});

describe("Go series, key/value service: compare-and-swap and concurrency", () => {
  test("cas basic", async () => {
    const cluster = Cluster.start(3);
    await cluster.checkSingleLeader();
    const c1 = cluster.client("c1");
    await cluster.settle(c1.put("k", "v"));
    expect(await cluster.settle(c1.cas("k", "v", "newv"))).toEqual({ ...was("v"), ok: true });
    await expectGet(cluster, c1, "k", "newv");
  });

  test("cas concurrent: twenty tries, one swap, once the put lands", async () => {
    const cluster = Cluster.start(3);
    await cluster.checkSingleLeader();
    await cluster.settle(cluster.client("c").put("foo", "mexico"));
    const c1 = cluster.client("c1");
    const tries = inBackground(
      (async () => {
        const swapped: boolean[] = [];
        for (let i = 0; i < 20; i++) swapped.push((await c1.cas("foo", "bar", "bomba")).ok!);
        return swapped;
      })(),
    );
    // For the first 50 ms "foo" holds the wrong value and no cas swaps; then it will.
    await cluster.advance(50);
    const c2 = cluster.client("c2");
    await cluster.settle(c2.put("foo", "bar"));
    await cluster.advance(300);
    await expectGet(cluster, c2, "foo", "bomba");
    const swapped = await cluster.settle(tries);
    expect(swapped.filter(Boolean)).toHaveLength(1);
    expect(swapped[0]).toBe(false);
  });

  for (const n of [3, 5]) {
    test(`concurrent clients put and get (${n} nodes)`, async () => {
      const cluster = Cluster.start(n);
      await cluster.checkSingleLeader();
      const newClient = clientMaker(cluster);
      const keys = Array.from({ length: 9 }, (_, i) => i);
      const puts = keys.map((i) => newClient().put(`key${i}`, `value${i}`));
      expect(await cluster.settle(Promise.all(puts))).toEqual(keys.map(() => absent));
      const gets = keys.map((i) => newClient().get(`key${i}`));
      expect(await cluster.settle(Promise.all(gets))).toEqual(keys.map((i) => was(`value${i}`)));
    });
  }
});

describe("Go series, key/value service: disconnections", () => {
  test("disconnect the leader after puts: a new leader serves them all", async () => {
    const cluster = Cluster.start(3);
    const { leader } = await cluster.checkSingleLeader();
    const newClient = clientMaker(cluster);
    await putKeys(cluster, newClient, 4);
    cluster.isolate(leader);
    await cluster.advance(300);
    const second = await cluster.checkSingleLeader();
    expect(second.leader).not.toBe(leader);
    // A client that knows only the old leader times out: that node can commit nothing.
    const lone = newClient({ nodes: [leader], deadlineMs: 500 });
    await expect(cluster.settle(lone.get("key1"))).rejects.toBeInstanceOf(ClientError);
    const random = cluster.randomStream();
    for (let k = 0; k < 5; k++) {
      const c = newClient({ nodes: shuffled(cluster.ids, random) });
      for (let j = 0; j < 4; j++) await expectGet(cluster, c, `key${j}`, `value${j}`);
    }
    cluster.reconnect(leader);
    await cluster.advance(200);
  });

  test("disconnect leader and follower: no answers, then all the data again", async () => {
    const cluster = Cluster.start(3);
    const { leader } = await cluster.checkSingleLeader();
    const newClient = clientMaker(cluster);
    await putKeys(cluster, newClient, 4);
    const other = (leader + 1) % 3;
    cluster.isolate(leader);
    cluster.isolate(other);
    await cluster.advance(100);
    const impatient = newClient({ deadlineMs: 500 });
    await expect(cluster.settle(impatient.get("key0"))).rejects.toBeInstanceOf(ClientError);
    const c = newClient();
    cluster.reconnect(other);
    await cluster.checkSingleLeader();
    for (let i = 0; i < 4; i++) await expectGet(cluster, c, `key${i}`, `value${i}`);
    cluster.reconnect(leader);
    await cluster.checkSingleLeader();
    for (let i = 0; i < 4; i++) await expectGet(cluster, c, `key${i}`, `value${i}`);
    await cluster.advance(100);
  });
});

describe("Go series, key/value service: crashes", () => {
  test("crash a follower: the leader and the live nodes still answer", async () => {
    const cluster = Cluster.start(3);
    const { leader } = await cluster.checkSingleLeader();
    const newClient = clientMaker(cluster);
    await putKeys(cluster, newClient, 3);
    cluster.crash((leader + 1) % 3);
    for (let i = 0; i < 3; i++) {
      await expectGet(cluster, newClient({ nodes: [leader] }), `key${i}`, `value${i}`);
    }
    for (let i = 0; i < 3; i++) await expectGet(cluster, newClient(), `key${i}`, `value${i}`);
  });

  /** Three keys put, the leader crashed, and every key read from the new leader. */
  async function leaderCrashedAfterPuts() {
    const cluster = Cluster.start(3);
    const { leader } = await cluster.checkSingleLeader();
    const newClient = clientMaker(cluster);
    await putKeys(cluster, newClient, 3);
    cluster.crash(leader);
    await cluster.checkSingleLeader();
    for (let i = 0; i < 3; i++) await expectGet(cluster, newClient(), `key${i}`, `value${i}`);
    return { cluster, leader, newClient };
  }

  test("crash the leader: the new leader has the data", async () => {
    await leaderCrashedAfterPuts();
  });

  test("crash then restart the leader: clients in any order get the data", async () => {
    const { cluster, leader, newClient } = await leaderCrashedAfterPuts();
    cluster.restart(leader);
    const random = cluster.randomStream();
    for (let k = 0; k < 5; k++) {
      const c = newClient({ nodes: shuffled(cluster.ids, random) });
      for (let j = 0; j < 3; j++) await expectGet(cluster, c, `key${j}`, `value${j}`);
    }
  });
});

describe("Go series, key/value service: appends answered once", () => {
  test("append linearizable after a delayed response: the retry is answered, not run", async () => {
    const cluster = Cluster.start(3);
    const { leader } = await cluster.checkSingleLeader();
    const c1 = cluster.client("c1");
    await cluster.settle(c1.put("foo", "bar"));
    await cluster.settle(c1.append("foo", "baz"));
    await expectGet(cluster, c1, "foo", "barbaz");
    // Longer than the client waits for one attempt (1000 ms): it retries with the same number.
    holdNextResponse(cluster, leader, 1500);
    expect(await cluster.settle(c1.append("foo", "mira"))).toEqual(was("barbaz"));
    await cluster.advance(300);
    await expectGet(cluster, c1, "foo", "barbazmira");
    // Both copies of request 4 are in the log; the state machine ran the first only.
    expect(copiesApplied(cluster, leader, "c1", 4)).toBe(2);
  });

  test("append linearizable after a crash: applied once, answered by the next leader", async () => {
    const cluster = Cluster.start(3);
    const { leader } = await cluster.checkSingleLeader();
    const c1 = cluster.client("c1");
    await cluster.settle(c1.append("foo", "bar"));
    await expectGet(cluster, c1, "foo", "bar");
    // The leader applies the append but its answer is held, and the leader crashes meanwhile.
    holdNextResponse(cluster, leader, 10_000);
    const append = inBackground(c1.append("foo", "mira"));
    const machine = cluster.services.get(leader)!.machine;
    await cluster.runUntil(cluster.clock.now() + 1000, () => machine.read("foo") === "barmira");
    cluster.crash(leader);
    await cluster.checkSingleLeader();
    await expectGet(cluster, cluster.client("c2"), "foo", "barmira");
    // Where the Go client gives up, this one retries with the same number: the new leader has
    // the session (it is replicated state) and answers with the first answer.
    expect(await cluster.settle(append)).toEqual(was("bar"));
    await expectGet(cluster, c1, "foo", "barmira");
  });

  test("a reply lost on the client network: the client retries, the value is appended once", async () => {
    const cluster = Cluster.start(3);
    const { leader } = await cluster.checkSingleLeader();
    const c1 = cluster.client("c1");
    await cluster.settle(c1.put("k", "a"));
    loseReplyOnClientNetwork(cluster, "c1", leader, 1500);
    expect(await cluster.settle(c1.append("k", "b"))).toEqual(was("a"));
    await expectGet(cluster, c1, "k", "ab");
    expect(copiesApplied(cluster, leader, "c1", 2)).toBe(2);
  });
});
