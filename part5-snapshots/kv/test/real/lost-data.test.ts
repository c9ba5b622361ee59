// Goal: a node that lost its data is told apart from a new one, and never simply rejoins (Raft
// assumes no server forgets a vote or an entry it acknowledged). Started again on an empty data
// folder in a cluster that exists, it refuses, saying what happened and what to do (as etcd's
// --initial-cluster-state existing). Started anyway as a new node, the leader sees it answer with
// less than it had acknowledged and reports it loudly: a log line, /status, its trace. Method: a
// real 3-node cluster; the follower is killed, its folder deleted, and started again.

import { readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { expect, test } from "vitest";
import { waitFor } from "./local.ts";
import { describeReal, RealCluster } from "./real-cluster.ts";

describeReal("real nodes: a node that lost its data", () => {
  test("refuses to start on an empty folder; started anyway, its leader reports the loss", async (ctx) => {
    const cluster = await RealCluster.start(ctx, { nodes: 3 });
    const client = cluster.client("c1", { deadlineMs: 30_000 });
    await client.put("k", "acknowledged by all three");
    const leader = await cluster.leader();
    const follower = cluster.ids.find((id) => id !== leader)!;
    const commit = (await cluster.status(leader))!.commitIndex;
    await waitFor(
      `n${follower} to apply the put: it acknowledged it`,
      async () => ((await cluster.status(follower))?.lastApplied ?? 0) >= commit || undefined,
      20_000,
    );
    await cluster.kill(follower);
    rmSync(cluster.dataDir(follower), { recursive: true, force: true });
    // Restarted as a member of the existing cluster (the default), it refuses, and says why.
    const refusal = await cluster.restart(follower).then(
      () => "it started",
      (error: Error) => error.message,
    );
    expect(refusal).toContain("could not start");
    expect(refusal).toContain("is empty, and the cluster already exists");
    expect(refusal).toContain("restore the folder from a backup");
    // Started anyway, as a new node: the leader finds it holds less than it acknowledged.
    await cluster.startNode(follower, ["--initial-cluster-state", "new"]);
    const status = await waitFor(
      `n${leader} to report n${follower}'s lost data in /status`,
      async () => {
        const s = (await cluster.status(leader)) as { lostData?: { peer: number }[] } | undefined;
        return s?.lostData?.some((lost) => lost.peer === follower) ? s : undefined;
      },
      20_000,
    );
    expect(status.lostData![0]).toMatchObject({ peer: follower, acknowledged: expect.any(Number) });
    expect(readFileSync(cluster.logFile(leader), "utf8")).toContain(`n${follower} HAS LOST DATA`);
    const traces = readdirSync(cluster.runFolder).filter((f) => f.startsWith(`n${leader}-`));
    const events = traces.flatMap((f) =>
      readFileSync(path.join(cluster.runFolder, f), "utf8").trim().split("\n"),
    );
    expect(events.some((line) => JSON.parse(line).kind === "data.lost")).toBe(true);
    await cluster.expectLinearizable();
  });
});
