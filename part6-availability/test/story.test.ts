// Goal: one scenario that tells the whole story of this part, for a first look at a timeline
// (`pnpm demo` renders it): an election, commands replicated and committed, the leader cut off
// with a command it can never commit, a re-election, the new leader committing, and the old
// leader coming back to have its stray entry overwritten. Method: a 3-node cluster, each step
// noted in the trace so the timeline reads as the story it is.

import { expect } from "vitest";
import { Cluster, test } from "./harness.ts";

test("the story: election, replication, leader failure, re-election, repair", async () => {
  const cluster = Cluster.start(3);
  cluster.note("three followers start; the first whose election timer fires stands for election");
  const first = await cluster.checkSingleLeader();
  cluster.note(`n${first.leader} leads term ${first.term}; a client submits two commands to it`);
  cluster.submitToServer(first.leader, "x=1");
  cluster.submitToServer(first.leader, "y=2");
  await cluster.checkCommittedN("y=2", 3);
  cluster.note(`n${first.leader} is cut off; a command it takes now can reach no majority`);
  cluster.isolate(first.leader);
  cluster.submitToServer(first.leader, "lost");
  const second = await cluster.checkSingleLeader();
  expect(second.term).toBeGreaterThan(first.term);
  cluster.note(`n${second.leader} leads term ${second.term} and commits a command of its own`);
  cluster.submitToServer(second.leader, "z=3");
  await cluster.checkCommittedN("z=3", 2);
  cluster.note(`n${first.leader} comes back: it steps down, and "lost" is overwritten by "z=3"`);
  cluster.reconnect(first.leader);
  await cluster.checkCommittedN("z=3", 3);
  cluster.checkNotCommitted("lost");
  expect(await cluster.checkSingleLeader()).toEqual(second);
});
