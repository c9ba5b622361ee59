// Goal: real nodes started with --follower-reads serve gets on followers (thesis §6.4): a
// follower answers GET /kv/<key> itself (200 from that node, where without the flag it sends the
// caller to the leader with 307), a client that reads from a follower sees every write acknowledged
// before its read, and the nodes' traces show how: the leader confirmed a read index for the
// follower, and the follower served the read once it had applied through it. Method: a 3-node
// cluster on free ports (real-cluster.ts), lincheck over the clients' work in the test's body.

import { readFileSync } from "node:fs";
import { Agent } from "node:http";
import path from "node:path";
import { expect, test } from "vitest";
import { call } from "../../src/real/http.ts";
import { PATIENCE } from "./local.ts";
import { describeReal, RealCluster } from "./real-cluster.ts";

interface Line {
  kind: string;
  role: string | null;
  details: Record<string, unknown>;
}

/** The events of `file` (a trace of this cluster's run) of kind `kind`. */
function events(cluster: RealCluster, file: string, kind: string): Line[] {
  return readFileSync(path.join(cluster.runFolder, file), "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Line)
    .filter((e) => e.kind === kind);
}

describeReal("reads on followers, on real nodes (§6.4)", () => {
  test("a follower started with --follower-reads serves gets at its leader's read index", async (ctx) => {
    const cluster = await RealCluster.start(ctx, { nodes: 3, flags: ["--follower-reads"] });
    const writer = cluster.client("w");
    await writer.put("k", "1");
    const leader = await cluster.leader();
    const follower = cluster.ids.find((id) => id !== leader)!;

    const agent = new Agent();
    const answer = await call(agent, cluster.cluster.get(follower)!, "/kv/k", undefined, {
      timeoutMs: 5000 * PATIENCE,
      limit: 65536,
    });
    agent.destroy();
    expect([answer.status, JSON.parse(answer.body.toString())]).toMatchObject([
      200,
      { status: "ok", result: { value: "1" }, node: follower },
    ]);

    // Each get begins after the write before it was acknowledged: it must see that write.
    const reader = cluster.client("r", { readFrom: follower });
    for (const value of ["2", "3", "4"]) {
      await writer.put("k", value);
      expect((await reader.get("k")).value).toBe(value);
    }
    // The verdict on the history (the cluster's stop checks it again, with any later operations).
    await cluster.expectLinearizable();

    const asked = events(cluster, `n${leader}-i1.jsonl`, "read.start").filter(
      (e) => e.details.follower === follower,
    );
    const served = events(cluster, `n${follower}-i1.jsonl`, "read.ready");
    expect(asked.length).toBeGreaterThanOrEqual(1);
    expect(served.length).toBeGreaterThanOrEqual(1);
    expect(served.every((e) => e.role === "follower")).toBe(true);
  });
});
