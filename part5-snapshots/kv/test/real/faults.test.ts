// Goal: the store as real processes keeps what it acknowledged through the faults of real life: a
// leader killed (SIGKILL: no goodbye, a write maybe half on disk) and restarted on its data; kills
// and restarts again and again, then all three at once; a leader paused (SIGSTOP) while the others
// go on, then resumed (SIGCONT) with its stale idea of the term; a follower stopped through a load
// of 600 puts, after which the entries it lacks are gone from every log (a snapshot every 100
// entries), brought back by InstallSnapshot over HTTP, and a leader restarted from its snapshot
// on disk. Method: a real 3-node cluster per test, the tests at once, clients in this process;
// each test ends by having lincheck check its whole history of client operations. No assertion
// depends on how fast anything happens: every wait has a bound, only to fail with a message
// instead of hanging.

import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { expect, type TestContext, test } from "vitest";
import { ClientError } from "../../src/kv/client.ts";
import { waitFor } from "./local.ts";
import { describeReal, RealCluster } from "./real-cluster.ts";

/** Long enough to ride out an election and a restart on a loaded machine; only a bound. */
const PATIENT = { deadlineMs: 30_000 };

/** Waits until node `id` has applied at least `index` (it has caught up with the others). */
async function caughtUp(cluster: RealCluster, id: number, index: number): Promise<void> {
  await waitFor(
    `n${id} to apply the log up to [${index}]`,
    async () => {
      const status = await cluster.status(id);
      return status !== undefined && status.lastApplied >= index ? status : undefined;
    },
    20_000,
  );
}

/** The commit index the leader reports now. */
async function committed(cluster: RealCluster): Promise<number> {
  const leader = await cluster.leader();
  return (await cluster.status(leader))?.commitIndex ?? 0;
}

/** A 3-node cluster, a patient client, and the leader that acknowledged a first write. */
async function afterFirstWrite(ctx: TestContext, key: string, value: string) {
  const cluster = await RealCluster.start(ctx, { nodes: 3 });
  const client = cluster.client("c1", PATIENT);
  const leader = await cluster.leader();
  await client.put(key, value);
  return { cluster, client, leader };
}

describeReal.concurrent("real nodes: crashes", () => {
  test.concurrent("a write survives SIGKILL of the leader and its restart", async (ctx) => {
    const { cluster, client, leader: first } = await afterFirstWrite(ctx, "k", "before the crash");
    await cluster.kill(first);
    const second = await cluster.leader(cluster.ids.filter((id) => id !== first));
    expect((await client.get("k")).value).toBe("before the crash");
    await client.put("k2", "while it was down");
    await cluster.restart(first);
    await caughtUp(cluster, first, await committed(cluster));
    // Now the restarted node must be one of the two that carry on: it holds both writes.
    await cluster.kill(second);
    expect((await client.get("k")).value).toBe("before the crash");
    expect((await client.get("k2")).value).toBe("while it was down");
    await cluster.expectLinearizable();
  });

  test.concurrent("across many kills and restarts, then of all three at once, no acknowledged write is lost", async (ctx) => {
    const cluster = await RealCluster.start(ctx, { nodes: 3 });
    const client = cluster.client("writer", PATIENT);
    const acknowledged: string[] = [];
    const maybe = new Set<string>();
    const write = async (token: string) => {
      try {
        await client.append("log", `${token};`);
        acknowledged.push(token);
      } catch (error) {
        if (!(error instanceof ClientError)) throw error;
        maybe.add(token);
      }
    };
    for (let round = 0; round < 4; round++) {
      // The leader in even rounds, a follower in odd ones.
      const leader = await cluster.leader();
      const victim = round % 2 === 0 ? leader : cluster.ids.find((id) => id !== leader)!;
      await write(`r${round}`);
      await cluster.kill(victim);
      await write(`r${round}-down`);
      await cluster.restart(victim);
    }
    for (const id of cluster.ids) await cluster.kill(id);
    await Promise.all(cluster.ids.map((id) => cluster.restart(id)));
    const tokens = ((await client.get("log")).value ?? "").split(";").filter((t) => t !== "");
    expect(tokens.filter((t) => !maybe.has(t))).toEqual(acknowledged);
    expect(new Set(tokens).size, "a write took effect twice").toBe(tokens.length);
    await cluster.expectLinearizable();
  });
});

describeReal.concurrent("real nodes: a pause", () => {
  test.concurrent("a paused leader is replaced; resumed, it steps down and catches up", async (ctx) => {
    const { cluster, client, leader: old } = await afterFirstWrite(ctx, "k", "1");
    // A write on its way to the old leader as it stops: it may or may not take effect.
    const caught = cluster.client("c2", {
      cluster: new Map([[old, cluster.cluster.get(old)!]]),
      deadlineMs: 3000,
    });
    const during = caught.put("caught", "sent to the paused leader").catch(() => undefined);
    cluster.pause(old);
    const next = await cluster.leader(cluster.ids.filter((id) => id !== old));
    await client.put("k", "2");
    cluster.resume(old);
    await during;
    await waitFor(
      `n${old} to follow n${next}`,
      async () => {
        const status = await cluster.status(old);
        return status?.role === "follower" && status.leader !== old ? status : undefined;
      },
      20_000,
    );
    await caughtUp(cluster, old, await committed(cluster));
    expect((await client.get("k")).value).toBe("2");
    // Either it took effect (before or after the pause: lincheck judges when) or it did not.
    expect([null, "sent to the paused leader"]).toContain((await client.get("caught")).value);
    await cluster.expectLinearizable();
  });
});

describeReal.concurrent("real nodes: snapshots", () => {
  test.concurrent("a follower stopped through a load comes back by InstallSnapshot over HTTP", async (ctx) => {
    const cluster = await RealCluster.start(ctx, {
      nodes: 3,
      flags: ["--snapshot-entries", "100"],
    });
    const leader = await cluster.leader();
    const follower = cluster.ids.find((id) => id !== leader)!;
    await cluster.kill(follower);
    // 600 puts from ten clients over 30 keys, while it is down.
    await Promise.all(
      Array.from({ length: 10 }, async (_, c) => {
        const client = cluster.client(`load${c}`, PATIENT);
        for (let i = 0; i < 60; i++) await client.put(`k${(c * 7 + i) % 30}`, `${c}-${i}`);
      }),
    );
    const commit = await committed(cluster);
    const leaderStatus = await cluster.status(await cluster.leader());
    expect(leaderStatus!.lastIncludedIndex).toBeGreaterThan(500);
    await cluster.restart(follower);
    await caughtUp(cluster, follower, commit);
    // What it lacked was gone from the leader's log: it came as the leader's snapshot.
    expect(readFileSync(cluster.logFile(follower), "utf8")).toMatch(/installs n\d's snapshot/);
    expect((await cluster.status(follower))!.lastIncludedIndex).toBeGreaterThan(500);
    // On disk, each folder holds a snapshot and the log after it: a few kilobytes, not 600 entries.
    for (const id of cluster.ids) {
      const folder = cluster.dataDir(id);
      const files = readdirSync(folder);
      expect(files.filter((f) => /^snapshot-\d+-\d+\.raft$/.test(f))).toHaveLength(1);
      const bytes = files.reduce((sum, f) => sum + statSync(path.join(folder, f)).size, 0);
      expect(bytes, `n${id}'s data folder`).toBeLessThan(64 * 1024);
    }
    // A leader restarted restores its snapshot from disk, and serves every key.
    const last = await cluster.leader();
    await cluster.kill(last);
    await cluster.restart(last);
    expect(readFileSync(cluster.logFile(last), "utf8")).toMatch(/restores the snapshot/);
    const reader = cluster.client("reader", PATIENT);
    for (let c = 0; c < 10; c++) {
      expect((await reader.get(`k${(c * 7 + 59) % 30}`)).existed).toBe(true);
    }
    await cluster.expectLinearizable();
  });
});
