// Goal: the six log replication scenarios of Eli Bendersky's Go series (part 2), so readers of
// that series can compare (its eight election scenarios are in go-series.test.ts). Method: a
// real cluster in virtual time on the simulated network; where the Go tests sleep, these
// advance virtual time by the same amount, and its checks wait in virtual time instead of
// sampling once. Every event goes through the safety checks (Figure 3) as it happens.

import { describe, expect } from "vitest";
import { Cluster, test } from "./harness.ts";

/** A cluster of `n` whose leader has committed 5 and 6 on every node: how three tests begin. */
async function fiveAndSixCommitted(n: number) {
  const cluster = Cluster.start(n);
  const first = await cluster.checkSingleLeader();
  cluster.submitToServer(first.leader, 5);
  cluster.submitToServer(first.leader, 6);
  await cluster.advance(250);
  await cluster.checkCommittedN(6, n);
  return { cluster, first };
}

describe("Go series, log replication", () => {
  test("commit one command", async () => {
    const cluster = Cluster.start(3);
    const { leader } = await cluster.checkSingleLeader();
    expect(cluster.submitToServer(leader, 42)).toMatchObject({ isLeader: true, index: 1 });
    await cluster.advance(250);
    await cluster.checkCommittedN(42, 3);
  });

  test("submitting to a non-leader fails", async () => {
    const cluster = Cluster.start(3);
    const { leader } = await cluster.checkSingleLeader();
    const follower = (leader + 1) % 3;
    expect(cluster.submitToServer(follower, 42)).toEqual({ isLeader: false });
    await cluster.advance(10);
    cluster.checkNotCommitted(42);
  });

  test("several commands commit in order", async () => {
    const cluster = Cluster.start(3);
    const { leader } = await cluster.checkSingleLeader();
    for (const command of [42, 55, 81]) cluster.submitToServer(leader, command);
    await cluster.advance(250);
    const indices = [];
    for (const command of [42, 55, 81]) {
      indices.push((await cluster.checkCommittedN(command, 3)).index);
    }
    expect(indices).toEqual([1, 2, 3]);
  });

  test("a disconnected follower catches up after it returns", async () => {
    const { cluster, first } = await fiveAndSixCommitted(3);
    const leader = first.leader;
    const follower = (leader + 1) % 3;
    cluster.isolate(follower);
    await cluster.advance(250);
    cluster.submitToServer(leader, 7);
    await cluster.advance(250);
    await cluster.checkCommittedN(7, 2);
    expect(cluster.state(follower).lastLogIndex).toBe(2);
    cluster.reconnect(follower);
    await cluster.advance(250);
    await cluster.checkSingleLeader();
    await cluster.advance(150);
    await cluster.checkCommittedN(7, 3);
  });

  test("no commit without a quorum; the old entry waits for an entry of the new term", async () => {
    const { cluster, first } = await fiveAndSixCommitted(3);
    const [a, b] = [(first.leader + 1) % 3, (first.leader + 2) % 3];
    cluster.isolate(a);
    cluster.isolate(b);
    await cluster.advance(250);
    cluster.submitToServer(first.leader, 8);
    await cluster.advance(250);
    cluster.checkNotCommitted(8);
    cluster.reconnect(a);
    cluster.reconnect(b);
    await cluster.advance(600);
    // A new term has begun; 8 is from the old one, so counting its replicas cannot commit it
    // (§5.4.2), whoever leads now. Either it is overwritten or it commits with a newer entry.
    cluster.checkNotCommitted(8);
    const second = await cluster.checkSingleLeader();
    expect(second.term).toBeGreaterThan(first.term);
    for (const command of [9, 10, 11]) cluster.submitToServer(second.leader, command);
    await cluster.advance(350);
    for (const command of [9, 10, 11]) await cluster.checkCommittedN(command, 3);
  });

  test("leader disconnects in a 5-node cluster: its lone entry never commits", async () => {
    const { cluster, first } = await fiveAndSixCommitted(5);
    cluster.isolate(first.leader);
    await cluster.advance(10);
    expect(cluster.submitToServer(first.leader, 7)).toMatchObject({ isLeader: true, index: 3 });
    await cluster.advance(250);
    cluster.checkNotCommitted(7);
    const second = await cluster.checkSingleLeader();
    expect(cluster.submitToServer(second.leader, 8)).toMatchObject({ isLeader: true, index: 3 });
    await cluster.advance(250);
    await cluster.checkCommittedN(8, 4);
    cluster.reconnect(first.leader);
    await cluster.advance(600);
    // The old leader learned of the newer term, and its entry 7 was overwritten by 8.
    expect(await cluster.checkSingleLeader()).toEqual(second);
    cluster.checkNotCommitted(7);
    await cluster.checkCommittedN(8, 5);
    expect(
      cluster.tracer.events.some((e) => e.node === first.leader && e.kind === "log.truncate"),
    ).toBe(true);
  });
});
