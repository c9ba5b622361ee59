// Goal: leadership transfer (thesis §3.10) works on real processes. `pnpm kv transfer-leader --to
// <n>` moves the leadership to node n, a follower's POST /transfer-leader sends the caller to the
// leader, and a leader stopped with SIGTERM hands its leadership over before it exits. How the
// new leader came to be is read from its trace, not from the wall clock: it campaigned because
// the old leader's TimeoutNow told it to, in the very next term, so the cluster did not wait out
// an election timeout (a verdict that holds however busy the machine is). Method: 3-node clusters
// on free ports (real-cluster.ts), the command as a user runs it, lincheck over the clients' work.

import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { Agent } from "node:http";
import path from "node:path";
import { expect, test } from "vitest";
import { formatClusterMap } from "../../src/real/addresses.ts";
import { call } from "../../src/real/http.ts";
import { PATIENCE } from "./local.ts";
import { describeReal, RealCluster } from "./real-cluster.ts";

const partDir = path.resolve(import.meta.dirname, "../..");
/**
 * Long election timeouts: a transfer is given up after one (the core's rule), so a loaded machine
 * has seconds, not a few hundred ms, to carry TimeoutNow and the target's RequestVote.
 */
const flags = ["--election-timeout", "1500-3000"];

/** `pnpm kv <args>` as a user runs it (without pnpm's banner); at most 30 s. */
function kv(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(partDir, "scripts", "launch.mjs"), "kv", ...args],
      { cwd: partDir, timeout: 30_000 * PATIENCE },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== "number") reject(error);
        else resolve({ status: error === null ? 0 : (error.code as number), stdout, stderr });
      },
    );
  });
}

/** The role changes in node `id`'s trace of its first start: why it became candidate, and when. */
function candidacies(cluster: RealCluster, id: number): { term: number; reason: string }[] {
  const file = path.join(cluster.runFolder, `n${id}-i1.jsonl`);
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as { kind: string; term: number; details: { to?: string } })
    .filter((e) => e.kind === "role" && e.details.to === "candidate")
    .map((e) => ({ term: e.term, reason: (e.details as { reason: string }).reason }));
}

describeReal("leadership transfer on real nodes (§3.10)", () => {
  test("pnpm kv transfer-leader --to <n> makes n the leader, by TimeoutNow in the next term", async (ctx) => {
    const cluster = await RealCluster.start(ctx, { nodes: 3, flags });
    const client = cluster.client("c1");
    await client.put("k", "1");
    const leader = await cluster.leader();
    const [target, other] = cluster.ids.filter((id) => id !== leader) as [number, number];
    const term = (await cluster.status(leader))!.term;

    // A follower sends the caller to the leader, as it does for the store's routes.
    const agent = new Agent();
    const answer = await call(agent, cluster.cluster.get(other)!, "/transfer-leader", "", {
      timeoutMs: 5000 * PATIENCE,
      limit: 65536,
    });
    agent.destroy();
    expect(answer.status).toBe(307);
    const leaderAt = cluster.cluster.get(leader)!;
    expect(JSON.parse(answer.body.toString())).toMatchObject({
      leader: `${leaderAt.host}:${leaderAt.port}`,
      error: `n${leader} leads: http://${leaderAt.host}:${leaderAt.port}/transfer-leader`,
    });

    const nodes = formatClusterMap(cluster.cluster);
    cluster.harness("fault", { action: "transfer", node: target });
    const run = await kv("transfer-leader", "--to", String(target), "--nodes", nodes);
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(
      new RegExp(`^n${leader} handed its leadership to n${target} \\(term ${term + 1}; `),
    );
    expect(run.status).toBe(0);
    expect(await cluster.leader()).toBe(target);
    expect((await cluster.status(target))!.term).toBe(term + 1);
    expect(candidacies(cluster, target).at(-1)).toEqual({
      term: term + 1,
      reason: `TimeoutNow from n${leader}: a leadership transfer (§3.10)`,
    });
    expect((await client.get("k")).value).toBe("1");
    await client.put("k", "2");
    await cluster.expectLinearizable();
  });

  test("a leader stopped with SIGTERM hands over first: its successor campaigned on its TimeoutNow", async (ctx) => {
    const cluster = await RealCluster.start(ctx, { nodes: 3, flags });
    const client = cluster.client("c1");
    await client.put("k", "1");
    const leader = await cluster.leader();
    const term = (await cluster.status(leader))!.term;
    await cluster.stopNode(leader);
    const others = cluster.ids.filter((id) => id !== leader);
    const next = await cluster.leader(others);
    expect((await cluster.status(next))!.term).toBe(term + 1);
    expect(candidacies(cluster, next).at(-1)).toEqual({
      term: term + 1,
      reason: `TimeoutNow from n${leader}: a leadership transfer (§3.10)`,
    });
    const log = readFileSync(cluster.logFile(leader), "utf8");
    expect(log).toContain(`n${leader} handed its leadership to n${next} before stopping`);
    expect((await client.get("k")).value).toBe("1");
    await cluster.expectLinearizable();
  });

  test("transfer-leader's usage errors, and a cluster that is not there", async () => {
    const nodes = "0=127.0.0.1:1,1=127.0.0.1:2";
    expect(await kv("transfer-leader", "--to", "5", "--nodes", nodes)).toMatchObject({
      status: 2,
      stderr: `pnpm kv: --to 5: the cluster has no node 5 (it has n0, n1)\nTry 'pnpm kv --help'.\n`,
    });
    expect(await kv("transfer-leader", "--to", "x", "--nodes", nodes)).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/^pnpm kv: --to must be a whole number from 0 to 89, got "x"/),
    });
    expect(await kv("transfer-leader", "now", "--nodes", nodes)).toMatchObject({ status: 2 });
    expect(await kv("get", "k", "--to", "1", "--nodes", nodes)).toMatchObject({
      status: 2,
      stderr: "pnpm kv: --to goes with transfer-leader only\nTry 'pnpm kv --help'.\n",
    });
    expect(await kv("transfer-leader", "--nodes", nodes)).toMatchObject({
      status: 3,
      stderr: "no node knows a leader: is the cluster running (pnpm kv:cluster)?\n",
    });
  });
});
