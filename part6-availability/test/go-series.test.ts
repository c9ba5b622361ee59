// Goal: the eight election scenarios of Eli Bendersky's Go series (part 1), so readers of that
// series can compare. Method: each runs a real cluster in virtual time on the simulated network;
// where the Go tests sleep, these advance virtual time by the same amount, so they take
// milliseconds and the same seed always gives the same run. Safety is checked on every event.

import { describe, expect } from "vitest";
import { Cluster, test } from "./harness.ts";

describe("Go series, elections", () => {
  test("basic election", async () => {
    const cluster = Cluster.start(3);
    const { term } = await cluster.checkSingleLeader();
    expect(term).toBeGreaterThanOrEqual(1);
  });

  test("leader disconnect: a new leader with a higher term", async () => {
    const cluster = Cluster.start(3);
    const first = await cluster.checkSingleLeader();
    cluster.isolate(first.leader);
    await cluster.advance(350);
    const second = await cluster.checkSingleLeader();
    expect(second.leader).not.toBe(first.leader);
    expect(second.term).toBeGreaterThan(first.term);
  });

  test("leader and another disconnected: no leader until one comes back", async () => {
    const cluster = Cluster.start(3);
    const { leader } = await cluster.checkSingleLeader();
    const other = (leader + 1) % 3;
    cluster.isolate(leader);
    cluster.isolate(other);
    await cluster.advance(450);
    cluster.checkNoLeader();
    cluster.reconnect(other);
    await cluster.checkSingleLeader();
  });

  test("disconnect all, then restore", async () => {
    const cluster = Cluster.start(3);
    await cluster.advance(100);
    for (const id of cluster.ids) cluster.isolate(id);
    await cluster.advance(450);
    cluster.checkNoLeader();
    for (const id of cluster.ids) cluster.reconnect(id);
    await cluster.checkSingleLeader();
  });

  for (const n of [3, 5]) {
    test(`old leader reconnects and the new leader keeps its term (${n} nodes)`, async () => {
      const cluster = Cluster.start(n);
      const first = await cluster.checkSingleLeader();
      cluster.isolate(first.leader);
      await cluster.advance(350);
      const second = await cluster.checkSingleLeader();
      cluster.reconnect(first.leader);
      await cluster.advance(150);
      const third = await cluster.checkSingleLeader();
      expect(third).toEqual(second);
    });
  }

  test("an isolated follower comes back with a higher term and forces an election", async () => {
    // As in the Go series: without PreVote. With it, see the next test.
    const cluster = Cluster.start(3, { raft: { preVote: false } });
    const first = await cluster.checkSingleLeader();
    const follower = (first.leader + 1) % 3;
    cluster.isolate(follower);
    await cluster.advance(650);
    // Alone, it kept timing out and raising its term; nobody else's term moved.
    expect(cluster.state(follower).currentTerm).toBeGreaterThan(first.term);
    cluster.reconnect(follower);
    await cluster.advance(150);
    const second = await cluster.checkSingleLeader();
    expect(second.term).toBeGreaterThan(first.term);
  });

  test("with PreVote (part 6), an isolated follower comes back in its own term and deposes no one", async () => {
    const cluster = Cluster.start(3);
    const first = await cluster.checkSettled();
    const follower = (first.leader + 1) % 3;
    cluster.isolate(follower);
    await cluster.advance(650);
    // Alone, it kept asking for pre-votes that never came: its term never moved (§9.6).
    expect(cluster.state(follower).currentTerm).toBe(first.term);
    cluster.reconnect(follower);
    await cluster.advance(150);
    expect(await cluster.checkSettled()).toEqual(first);
  });

  test("disconnect the leader and one more, reconnect, five times over", async () => {
    const cluster = Cluster.start(3);
    for (let cycle = 0; cycle < 5; cycle++) {
      const { leader } = await cluster.checkSingleLeader();
      const other = (leader + 1) % 3;
      cluster.isolate(leader);
      cluster.isolate(other);
      await cluster.advance(310);
      cluster.checkNoLeader();
      cluster.reconnect(leader);
      cluster.reconnect(other);
      await cluster.advance(150);
    }
    await cluster.checkSingleLeader();
  });
});
