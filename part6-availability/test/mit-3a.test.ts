// Goal: the leader-election scenarios of the MIT 6.824 Raft lab 3A. Method: as in the lab, but in
// virtual time: the lab's sleeps become `advance`, its random choice of servers comes from the
// test's seed, and "at most one leader per term" is checked on every event, not only when the
// test looks.

import { describe, expect } from "vitest";
import { SeededRandom } from "../src/random.ts";
import { Cluster, test } from "./harness.ts";

/** The longest election timeout in the default configuration. */
const ELECTION_TIMEOUT = 300;

describe("MIT 6.824 lab 3A", () => {
  test("initial election, and the term stays put while nothing fails", async () => {
    const cluster = Cluster.start(3);
    await cluster.checkSingleLeader();
    await cluster.advance(50);
    const term = cluster.checkTerms();
    expect(term).toBeGreaterThanOrEqual(1);
    await cluster.advance(2 * ELECTION_TIMEOUT);
    expect(cluster.checkTerms()).toBe(term);
    await cluster.checkSingleLeader();
  });

  test("re-election after leader failure; no leader without a quorum", async () => {
    const cluster = Cluster.start(3);
    const first = await cluster.checkSingleLeader();
    cluster.isolate(first.leader);
    await cluster.checkSingleLeader();
    // The old leader rejoins: it must not disturb the new one for good.
    cluster.reconnect(first.leader);
    const second = await cluster.checkSingleLeader();
    const next = (second.leader + 1) % 3;
    cluster.isolate(second.leader);
    cluster.isolate(next);
    await cluster.advance(2 * ELECTION_TIMEOUT);
    cluster.checkNoLeader();
    cluster.reconnect(next);
    await cluster.checkSingleLeader();
    cluster.reconnect(second.leader);
    await cluster.checkSingleLeader();
  });

  test("many elections: 7 nodes, 3 random ones away, over and over", async () => {
    const cluster = Cluster.start(7);
    const random = new SeededRandom(cluster.seed).fork();
    await cluster.checkSingleLeader();
    for (let round = 0; round < 10; round++) {
      const away = new Set<number>();
      while (away.size < 3) away.add(random.int(0, 6));
      for (const id of away) cluster.isolate(id);
      // Four of seven remain: a majority, so either the old leader stays or a new one wins.
      await cluster.checkSingleLeader();
      for (const id of away) cluster.reconnect(id);
    }
    await cluster.checkSingleLeader();
  });
});
