// Goal: one short scenario's whole trace kept as a human-readable file next to the tests, so a
// reader can follow, event by event, how one command is replicated, committed and applied, and
// any change in behaviour shows up as a diff in review. Method: commit one command in a 3-node
// cluster under a fixed seed (whatever RAFT_SEED says), render every event with formatEvent and
// compare with test/golden/commit-one-command.txt, a vitest file snapshot (after an intended
// change, rewrite it with `pnpm exec vitest run -u test/golden.test.ts` in this part's folder).

import { expect, test } from "vitest";
import { formatEvent } from "../src/trace.ts";
import { Cluster } from "./harness.ts";

test("commit one command, event by event", async () => {
  const cluster = Cluster.start(3, { seed: 1 });
  const { leader } = await cluster.checkSingleLeader();
  cluster.note("a client submits one command to the leader");
  cluster.submitToServer(leader, "x");
  await cluster.checkCommitted("x");
  const text = `${cluster.tracer.events.map((e) => formatEvent(e)).join("\n")}\n`;
  await expect(text).toMatchFileSnapshot("golden/commit-one-command.txt");
});
