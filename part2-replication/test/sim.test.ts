// Goal: the simulation the other tests stand on does what it promises: the virtual clock fires
// timers in order and settles async code between them, the network's faults behave as
// documented in src/network.ts, and a seed fixes a whole run down to the byte.
// Method: small direct checks of each piece, then two whole runs compared byte for byte.

import { describe, expect, test } from "vitest";
import { VirtualClock } from "../src/clock.ts";
import { RpcError, SimNetwork } from "../src/network.ts";
import type { RequestVoteArgs } from "../src/raft.ts";
import { SeededRandom } from "../src/random.ts";
import { Tracer, toJsonLines } from "../src/trace.ts";
import { SimCluster } from "./sim-cluster.ts";

describe("virtual clock", () => {
  test("fires timers in time order, equal times in the order they were set", async () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimer(20, () => fired.push("b@20"));
    clock.setTimer(10, () => fired.push("a@10"));
    clock.setTimer(20, () => fired.push("c@20"));
    clock.setTimer(30, () => fired.push("never")).cancel();
    expect(clock.pendingTimers()).toBe(3);
    await clock.runFor(25);
    expect(fired).toEqual(["a@10", "b@20", "c@20"]);
    expect(clock.now()).toBe(25);
    expect(clock.pendingTimers()).toBe(0);
  });

  test("lets promise continuations run before the next timer", async () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    clock.setTimer(1, () => {
      void (async () => {
        await Promise.resolve();
        await Promise.resolve();
        order.push("continuation of timer 1");
      })();
    });
    clock.setTimer(1, () => order.push("timer 2"));
    await clock.runFor(1);
    expect(order).toEqual(["continuation of timer 1", "timer 2"]);
  });

  test("stops when the condition holds, and refuses to run past its step cap", async () => {
    const clock = new VirtualClock({ stepCap: 100 });
    let ticks = 0;
    const tick = () => {
      ticks++;
      clock.setTimer(1, tick);
    };
    tick();
    expect(await clock.runUntil(1000, () => ticks === 10)).toBe(true);
    expect(clock.now()).toBe(9);
    await expect(clock.runFor(1000)).rejects.toThrow(/step cap \(100 timers\) exceeded/);
  });

  test("rejects delays that are not whole milliseconds", () => {
    expect(() => new VirtualClock().setTimer(1.5, () => {})).toThrow(/non-negative integer/);
  });
});

describe("seeded random", () => {
  test("the same seed gives the same numbers, ranges are inclusive", () => {
    const a = new SeededRandom(7);
    const b = new SeededRandom(7);
    const draws = Array.from({ length: 1000 }, () => a.int(1, 3));
    expect(draws).toEqual(Array.from({ length: 1000 }, () => b.int(1, 3)));
    expect(new Set(draws)).toEqual(new Set([1, 2, 3]));
    expect(new SeededRandom(8).next()).not.toBe(new SeededRandom(7).next());
  });
});

/** Two bare endpoints on a simulated network; node 1 answers every RequestVote at once. */
function twoNodes(config: ConstructorParameters<typeof SimNetwork>[2] = {}) {
  const clock = new VirtualClock();
  const tracer = new Tracer(clock, () => ({ term: 0, role: "follower" }));
  const network = new SimNetwork([0, 1], { clock, random: new SeededRandom(3), tracer }, config);
  const received: RequestVoteArgs[] = [];
  const answer = {
    handleRequestVote: (args: RequestVoteArgs) => {
      received.push(args);
      return { term: args.term, voteGranted: true };
    },
    handleAppendEntries: () => ({ term: 0, success: true }),
  };
  network.attach(0, answer);
  network.attach(1, answer);
  const ask = (term = 1) =>
    network.transport(0).requestVote(1, { term, candidateId: 0, lastLogIndex: 0, lastLogTerm: 0 });
  const kinds = () =>
    tracer.events.map((e) => `${e.kind}${e.details.reason ? `:${e.details.reason}` : ""}`);
  return { clock, tracer, network, received, ask, kinds };
}

describe("simulated network", () => {
  test("delivers a request and its reply within the latency bounds", async () => {
    const net = twoNodes({ rpcTimeoutMs: 1000 });
    const reply = net.ask();
    await net.clock.runFor(10);
    await expect(reply).resolves.toEqual({ term: 1, voteGranted: true });
    expect(net.kinds()).toEqual(["send", "deliver", "send", "deliver"]);
    const [send, deliver] = net.tracer.events;
    expect(deliver!.t - send!.t).toBeGreaterThanOrEqual(1);
    expect(deliver!.t - send!.t).toBeLessThanOrEqual(5);
  });

  test("a lost message makes the call fail after the RPC timeout, never hang", async () => {
    const net = twoNodes({ lossRate: 1, rpcTimeoutMs: 80 });
    const reply = net.ask();
    const outcome = expect(reply).rejects.toBeInstanceOf(RpcError);
    await net.clock.runFor(100);
    await outcome;
    expect(net.kinds()).toEqual(["send", "drop:lost", "rpc.error"]);
    expect(net.tracer.events[2]!.t).toBe(80);
  });

  test("a message in flight when its link is cut is dropped on arrival; healing does not revive it", async () => {
    const net = twoNodes();
    const reply = net.ask();
    const outcome = expect(reply).rejects.toBeInstanceOf(RpcError);
    net.network.cut(0, 1); // the request is on the wire
    net.network.uncut(0, 1);
    net.network.cut(0, 1);
    await net.clock.runFor(10);
    net.network.heal();
    await net.clock.runFor(200);
    await outcome;
    expect(net.received).toEqual([]);
    expect(net.kinds()).toEqual(["send", "drop:link cut", "rpc.error"]);
  });

  test("one-way cuts: a request gets through but its reply does not", async () => {
    const net = twoNodes();
    net.network.cut(1, 0);
    const outcome = expect(net.ask()).rejects.toBeInstanceOf(RpcError);
    await net.clock.runFor(200);
    await outcome;
    expect(net.received).toHaveLength(1);
    expect(net.kinds()).toEqual(["send", "deliver", "send", "drop:link cut", "rpc.error"]);
  });

  test("duplication delivers a request twice; the caller takes the first reply", async () => {
    const net = twoNodes({ duplicateRate: 1 });
    const reply = net.ask();
    await net.clock.runFor(200);
    await expect(reply).resolves.toEqual({ term: 1, voteGranted: true });
    expect(net.received).toHaveLength(2);
    expect(net.tracer.events.filter((e) => e.details.duplicate)).not.toHaveLength(0);
  });

  test("long reordering lets a later message overtake an earlier one", async () => {
    const net = twoNodes({ reorderRate: 0.5, rpcTimeoutMs: 2000 });
    for (let term = 1; term <= 20; term++) void net.ask(term);
    await net.clock.runFor(3000);
    const terms = net.received.map((args) => args.term);
    expect(terms).toHaveLength(20);
    expect(terms).not.toEqual([...terms].sort((a, b) => a - b));
  });

  test("a node taken off the network sends nothing", async () => {
    const net = twoNodes();
    net.network.detach(0);
    const outcome = expect(net.ask()).rejects.toThrow(/n0 is not on the network/);
    await net.clock.runFor(200);
    await outcome;
    expect(net.kinds()).toEqual([]);
  });

  test("messages to a stopped node are dropped", async () => {
    const net = twoNodes();
    net.network.detach(1);
    const outcome = expect(net.ask()).rejects.toBeInstanceOf(RpcError);
    await net.clock.runFor(200);
    await outcome;
    expect(net.kinds()).toEqual(["send", "drop:receiver dead", "rpc.error"]);
  });

  test("partition cuts exactly the links between groups; a node in no group is alone", () => {
    const clock = new VirtualClock();
    const tracer = new Tracer(clock, () => ({ term: 0, role: "follower" }));
    const network = new SimNetwork([0, 1, 2, 3, 4], { clock, random: new SeededRandom(1), tracer });
    network.partition([
      [0, 1],
      [2, 3],
    ]);
    expect([network.linkUp(0, 1), network.linkUp(1, 0), network.linkUp(2, 3)]).toEqual([
      true,
      true,
      true,
    ]);
    expect([
      network.linkUp(1, 2),
      network.linkUp(3, 0),
      network.linkUp(4, 0),
      network.linkUp(0, 4),
    ]).toEqual([false, false, false, false]);
    network.isolate(0);
    network.reconnect(0);
    expect(network.linkUp(0, 2)).toBe(true); // reconnect restores all of 0's links
    expect(network.linkUp(1, 2)).toBe(false); // and no one else's
    network.heal();
    expect(network.linkUp(1, 2)).toBe(true);
  });
});

describe("determinism", () => {
  async function run(seed: number): Promise<string> {
    const cluster = new SimCluster(5, {
      seed,
      network: { lossRate: 0.1, duplicateRate: 0.05, reorderRate: 0.05 },
    });
    cluster.startNodes();
    await cluster.clock.runFor(1000);
    cluster.network.isolate(cluster.leaders()[0]?.id ?? 0);
    await cluster.clock.runFor(2000);
    for (const id of cluster.ids) cluster.stopNode(id);
    await cluster.clock.runUntilIdle(10_000);
    return toJsonLines(cluster.tracer.events);
  }

  test("the same seed gives a byte-identical trace; another seed a different one", async () => {
    const [a, b, c] = [await run(11), await run(11), await run(12)];
    expect(a.length).toBeGreaterThan(10_000);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
  });
});
