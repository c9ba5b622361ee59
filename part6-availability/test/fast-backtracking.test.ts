// Goal: the conflict hint of §5.3 brings a follower up to date a term per round trip instead of
// an entry per round trip. Method: a follower whose last 40 entries came from leaders of two terms
// that never committed (terms 3 and 5), under a leader whose log holds 60 entries of terms 1, 2,
// 4, 6 and 7; count the AppendEntries the leader sends the follower until its matchIndex reaches
// the end, with the hint and without it.

import { describe, expect } from "vitest";
import type { LogEntry } from "../src/raft.ts";
import type { SimCluster } from "../src/sim/cluster.ts";
import { Cluster, test } from "./harness.ts";

/** `count` entries of `term` each. */
const run = (term: number, count: number): LogEntry[] =>
  Array.from({ length: count }, (_, i) => ({ term, command: `t${term}-${i}` }));

const LEADER_LOG = [...run(1, 10), ...run(2, 10), ...run(4, 10), ...run(6, 10), ...run(7, 20)];
const FOLLOWER_LOG = [...run(1, 10), ...run(3, 15), ...run(5, 25)];

/** The AppendEntries requests the leader sent n1 until n1 held its whole log. */
async function roundTrips(cluster: SimCluster): Promise<number> {
  cluster.restartFrom(0, { currentTerm: 7, votedFor: null, log: LEADER_LOG });
  cluster.restartFrom(2, { currentTerm: 7, votedFor: null, log: LEADER_LOG });
  cluster.restartFrom(1, { currentTerm: 7, votedFor: null, log: FOLLOWER_LOG });
  const from = cluster.tracer.events.length;
  let caughtUp = false;
  cluster.tracer.subscribe((e) => {
    if (e.kind === "progress" && e.details.peer === 1 && e.details.matchIndex === 60)
      caughtUp = true;
  });
  await cluster.runUntil(cluster.clock.now() + 10_000, () => caughtUp);
  expect(caughtUp).toBe(true);
  const { leader } = await cluster.checkSingleLeader();
  return cluster.tracer.events
    .slice(from)
    .filter(
      (e) =>
        e.kind === "send" &&
        e.node === leader &&
        e.details.to === 1 &&
        e.details.type === "request" &&
        e.details.rpc === "AppendEntries",
    ).length;
}

describe("§5.3: catching up a follower behind across several terms", () => {
  test("with the conflict hint a handful of round trips, without it one per entry", async () => {
    const fast = await roundTrips(Cluster.start(3));
    const slow = await roundTrips(Cluster.start(3, { raft: { fastBacktracking: false } }));
    // Hint: 60 (shorter log) → 50 (term 5, first at 26) → 25 (term 3, first at 11) → 10 matches.
    expect(fast).toBeLessThanOrEqual(5);
    expect(slow).toBeGreaterThanOrEqual(50);
  });
});
