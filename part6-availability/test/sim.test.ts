// Goal: the simulation the other tests stand on does what it promises: the virtual clock fires
// timers in order and settles async code between them, the network's faults behave as
// documented in src/network.ts, and a seed fixes a whole run down to the byte.
// Method: small direct checks of each piece, then two whole runs compared byte for byte.

import { describe, expect, test } from "vitest";
import { VirtualClock } from "../src/clock.ts";
import type { RequestVoteArgs } from "../src/raft.ts";
import { SeededRandom } from "../src/random.ts";
import { SimCluster } from "../src/sim/cluster.ts";
import { RpcError, SideNetwork, SimNetwork, uniformLatency } from "../src/sim/network.ts";
import { Tracer, toJsonLines } from "../src/trace.ts";
import { Cluster } from "./harness.ts";

/** The RPCs part 6 adds (PreVote, TimeoutNow, ReadIndex), answered as nothing these tests use. */
const partSixHandlers = {
  handlePreVote: () => ({ term: 0, voteGranted: false }),
  handleTimeoutNow: () => ({ term: 0 }),
  handleReadIndex: () => ({ term: 0, success: false, readIndex: 0 }),
};

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
    handleInstallSnapshot: () => ({ term: 0, success: true }),
    ...partSixHandlers,
  };
  network.attach(0, answer);
  network.attach(1, answer);
  const ask = (term = 1) =>
    network.transport(0).requestVote(1, { term, candidateId: 0, lastLogIndex: 0, lastLogTerm: 0 });
  const kinds = () =>
    tracer.events.map((e) => (e.kind === "drop" ? `drop:${e.details.reason}` : e.kind));
  return { clock, tracer, network, received, ask, kinds };
}

/** A bare five-node network, to read link states from. */
function fiveLinks() {
  const clock = new VirtualClock();
  const tracer = new Tracer(clock, () => ({ term: 0, role: "follower" }));
  const network = new SimNetwork([0, 1, 2, 3, 4], { clock, random: new SeededRandom(1), tracer });
  const handlers = {
    handleRequestVote: () => ({ term: 0, voteGranted: false }),
    handleAppendEntries: () => ({ term: 0, success: true }),
    handleInstallSnapshot: () => ({ term: 0, success: true }),
    ...partSixHandlers,
  };
  for (const id of [0, 1, 2, 3, 4]) network.attach(id, handlers);
  /** Every node `id` can send to, and every node that can send to `id`. */
  const reach = (id: number) => ({
    to: [0, 1, 2, 3, 4].filter((o) => o !== id && network.linkUp(id, o)),
    from: [0, 1, 2, 3, 4].filter((o) => o !== id && network.linkUp(o, id)),
  });
  return { network, reach };
}

describe("simulated network: delivery", () => {
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

  test("each receiver gets its own copy, decoded from the JSON the sender's message became", async () => {
    const net = twoNodes({ rpcTimeoutMs: 1000, duplicateRate: 1 });
    const args = { term: 1, candidateId: 0, lastLogIndex: 0, lastLogTerm: 0 };
    const reply = net.network.transport(0).requestVote(1, args);
    await net.clock.runFor(20);
    expect(net.received).toHaveLength(2); // duplicated: two deliveries, two copies
    expect(net.received[0]).toEqual(args);
    expect(net.received[0]).not.toBe(args);
    expect(net.received[1]).not.toBe(net.received[0]);
    net.received[0]!.term = 99; // what a receiver does to its copy reaches no one else
    expect(args.term).toBe(1);
    await expect(reply).resolves.toEqual({ term: 1, voteGranted: true });
    const send = net.tracer.events.find((e) => e.kind === "send")!;
    expect(send.kind === "send" && send.details.bytes).toBe(JSON.stringify(args).length);
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

  test("a slow link delays its messages; a reply later than the RPC timeout arrives and is ignored", async () => {
    const net = twoNodes({ rpcTimeoutMs: 100 });
    net.network.slow(1, 0, 300);
    const outcome = expect(net.ask()).rejects.toBeInstanceOf(RpcError);
    await net.clock.runFor(1000);
    await outcome;
    expect(net.kinds()).toEqual(["send", "deliver", "send", "rpc.error", "deliver"]);
    const [, , reply, error, late] = net.tracer.events;
    expect(late!.t - reply!.t).toBeGreaterThanOrEqual(301);
    expect(late!.t).toBeGreaterThan(error!.t);
    net.network.slow(1, 0, 0);
    const fast = net.ask();
    await net.clock.runFor(20);
    await expect(fast).resolves.toEqual({ term: 1, voteGranted: true });
  });

  test("duplication delivers a request twice; the caller takes the first reply", async () => {
    const net = twoNodes({ duplicateRate: 1 });
    const reply = net.ask();
    await net.clock.runFor(200);
    await expect(reply).resolves.toEqual({ term: 1, voteGranted: true });
    expect(net.received).toHaveLength(2);
    expect(
      net.tracer.events.filter((e) => e.kind === "deliver" && e.details.duplicate),
    ).not.toHaveLength(0);
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
});

describe("simulated network: a cut-off node stays cut off (the rules in src/sim/network.ts)", () => {
  test("isolate a, isolate b, reconnect b: a still reaches no one and no one reaches a", () => {
    const { network, reach } = fiveLinks();
    network.isolate(0);
    network.isolate(1);
    network.reconnect(1);
    expect(reach(0)).toEqual({ to: [], from: [] });
    expect(reach(1)).toEqual({ to: [2, 3, 4], from: [2, 3, 4] });
    network.reconnect(0);
    expect(reach(0)).toEqual({ to: [1, 2, 3, 4], from: [1, 2, 3, 4] });
  });

  test("partition: links cross no group boundary; a node in no group is alone", () => {
    const { network, reach } = fiveLinks();
    network.partition([
      [0, 1],
      [2, 3],
    ]);
    expect([reach(0), reach(2), reach(4)]).toEqual([
      { to: [1], from: [1] },
      { to: [3], from: [3] },
      { to: [], from: [] },
    ]);
    expect(network.reachGroups()).toEqual([[0, 1], [2, 3], [4]]);
  });

  test("a node isolated inside a partition, once reconnected, reaches its own group only", () => {
    const { network, reach } = fiveLinks();
    network.partition([
      [0, 1],
      [2, 3, 4],
    ]);
    network.isolate(0);
    expect(reach(1)).toEqual({ to: [], from: [] });
    network.reconnect(0);
    expect(reach(0)).toEqual({ to: [1], from: [1] });
  });

  test("a new partition does not reconnect an isolated node", () => {
    const { network, reach } = fiveLinks();
    network.isolate(2);
    network.partition([
      [0, 1, 2],
      [3, 4],
    ]);
    expect(reach(2)).toEqual({ to: [], from: [] });
    expect(reach(0)).toEqual({ to: [1], from: [1] });
  });

  test("one-way cuts outlive isolate, reconnect and partition; heal clears them", () => {
    const { network, reach } = fiveLinks();
    network.cut(0, 1);
    network.isolate(0);
    network.reconnect(0);
    network.partition([[0, 1, 2, 3, 4]]);
    expect(reach(0)).toEqual({ to: [2, 3, 4], from: [1, 2, 3, 4] });
    // 0 and 1 no longer reach each other directly, but still both ways through the others.
    expect(network.reachGroups()).toEqual([[0, 1, 2, 3, 4]]);
    network.uncut(0, 1);
    expect(reach(0).to).toEqual([1, 2, 3, 4]);
  });

  test("heal undoes every layer at once: isolations, groups, cuts and slow links", () => {
    const { network, reach } = fiveLinks();
    network.isolate(0);
    network.partition([
      [1, 2],
      [3, 4],
    ]);
    network.cut(3, 4);
    network.slow(1, 2, 500);
    network.heal();
    for (const id of [0, 1, 2, 3, 4]) {
      const others = [0, 1, 2, 3, 4].filter((o) => o !== id);
      expect(reach(id)).toEqual({ to: others, from: others });
    }
    expect(network.reachGroups()).toEqual([[0, 1, 2, 3, 4]]);
  });

  test("in a cluster, a node cut off stays silent while another comes back", async () => {
    const cluster = new SimCluster(3, { seed: 5 });
    cluster.startNodes();
    await cluster.advance(1000);
    cluster.isolate(0);
    cluster.isolate(1);
    const from = cluster.tracer.events.length;
    cluster.reconnect(1);
    await cluster.advance(2000);
    const delivered = cluster.tracer.events
      .slice(from)
      .filter((e) => e.kind === "deliver" && (e.node === 0 || e.details.from === 0));
    expect(delivered).toEqual([]);
    expect(cluster.connectedIds()).toEqual([1, 2]);
    const reconnect = cluster.tracer.events[from]!;
    expect(reconnect.kind === "reconnect" && reconnect.details.network).toEqual({
      groups: [[0], [1, 2]],
      cutOff: [0],
      dead: [],
    });
    await cluster.shutdown();
  });
});

describe("a side network (part 4's clients)", () => {
  test("delays each message, loses some, and delivers one only over a link up when sent and on arrival", async () => {
    const clock = new VirtualClock();
    const side = new SideNetwork(clock, new SeededRandom(3), {
      latency: uniformLatency(10, 20),
      lossRate: 0.5,
    });
    const arrived: number[] = [];
    for (let i = 0; i < 100; i++) side.send("c1", 0, () => arrived.push(clock.now()));
    await clock.runFor(20);
    expect(arrived.length).toBeGreaterThan(30);
    expect(arrived.length).toBeLessThan(70);
    expect(Math.min(...arrived)).toBeGreaterThanOrEqual(10);
    side.makeReliable();
    arrived.length = 0;
    side.send("c1", 0, () => arrived.push(1));
    side.send(0, "c1", () => arrived.push(2));
    side.setLink(0, "c1", false); // one way, in flight: dropped on arrival
    side.setLink("c1", 1, false); // cut before it leaves: never sent
    side.send("c1", 1, () => arrived.push(3));
    side.setLink("c1", 1, true);
    await clock.runFor(20);
    expect(arrived).toEqual([1]);
    expect([side.linkUp("c1", 0), side.linkUp(0, "c1"), side.linkUp("c1", 1)]).toEqual([
      true,
      false,
      true,
    ]);
  });
});

describe("a test's budget (test/harness.ts): a loop that never ends fails, in seconds", () => {
  test("past its virtual time: the test, the seed, the replay command and what was scheduled", async () => {
    const cluster = Cluster.start(3, { seed: 7, budget: { virtualMs: 5000 } });
    const forever = async () => {
      for (;;) await cluster.advance(1000);
    };
    await expect(forever()).rejects.toThrow(
      /"[^"]*past its virtual time[^"]*" went past its budget of 5 s of virtual time and 250000 timers, at t=50\d\d ms after \d+ timers: a loop that never ends\?\n {2}still scheduled: \d+ timers; nodes: n0 \w+ T\d+, n1 [^\n]*\n {2}the last events:\n[\s\S]*seed 7\n {2}replay: {3}RAFT_SEED=7 pnpm --filter \S+ exec vitest run test\/sim\.test\.ts -t/,
    );
  });

  test("past its timers, at one instant of virtual time", async () => {
    const cluster = Cluster.start(3, { seed: 7, budget: { timers: 1000 } });
    const again = () => void cluster.clock.setTimer(0, again);
    again();
    await expect(cluster.advance(1)).rejects.toThrow(
      /went past its budget .* at t=0 ms after 1001 timers/,
    );
  });
});

describe("determinism", () => {
  async function run(seed: number): Promise<string> {
    const cluster = new SimCluster(5, {
      seed,
      network: { lossRate: 0.1, duplicateRate: 0.05, reorderRate: 0.05 },
    });
    cluster.startNodes();
    await cluster.advance(1000);
    cluster.isolate(cluster.leaders()[0]?.id ?? 0);
    await cluster.advance(2000);
    await cluster.shutdown();
    return toJsonLines(cluster.tracer.events);
  }

  test("the same seed gives a byte-identical trace; another seed a different one", async () => {
    const [a, b, c] = [await run(11), await run(11), await run(12)];
    expect(a.length).toBeGreaterThan(10_000);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
  });
});
