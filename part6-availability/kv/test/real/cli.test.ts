// Goal: `pnpm kv` does what its --help says against a real cluster: each operation prints what it
// read or replaced, the exit status tells a script how it went (0 done, 1 the answer is no: a get
// of no such key, a cas that did not swap, 2 a usage error, 3 not done), `status` shows every
// node, `--trace` writes the client's events, and with no cluster to talk to it says so and what
// to do. And the three commands behave as one (src/real/command-line.ts): --help, usage errors
// with a pointer to --help, other errors with their message, an output closed early. Method:
// each command in a process of its own, as a user runs it (without pnpm's banner), against a
// real 3-node cluster where it needs one.

import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test } from "vitest";
import { formatClusterMap } from "../../src/real/addresses.ts";
import { call } from "../../src/real/http.ts";
import { exited } from "../../src/real/spawn.ts";
import { freePorts, PATIENCE, quietPort, waitFor } from "./local.ts";
import { describeReal, RealCluster } from "./real-cluster.ts";

const partDir = path.resolve(import.meta.dirname, "../..");
const launcher = path.join(partDir, "scripts", "launch.mjs");

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs `pnpm <command> <args>` (kv, kv:node or kv:cluster) and waits, at most 30 s. */
function run(command: "kv" | "kv-node" | "kv-cluster", ...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [launcher, command, ...args],
      { cwd: partDir, timeout: 30_000 * PATIENCE },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== "number") reject(error);
        else resolve({ status: error === null ? 0 : (error.code as number), stdout, stderr });
      },
    );
  });
}

const kv = (...args: string[]) => run("kv", ...args);

/** put, get, append, cas (not swapped, then swapped), delete, get: each answer and status. */
async function oneKey(nodes: string[], trace: string): Promise<void> {
  expect(
    await kv("put", "greeting", "hello", ...nodes, "--trace", trace, "--run", "cli-test"),
  ).toMatchObject({
    status: 0,
    stdout: 'put "greeting": was absent\n',
  });
  expect(await kv("get", "greeting", ...nodes)).toMatchObject({ status: 0, stdout: "hello\n" });
  // Read from node 1 first: it answers itself if it leads (or serves follower reads), or sends
  // the client on to the leader.
  expect(await kv("get", "greeting", "--read-from", "1", ...nodes)).toMatchObject({
    status: 0,
    stdout: "hello\n",
  });
  expect(await kv("append", "greeting", " world", ...nodes)).toMatchObject({ status: 0 });
  expect(await kv("cas", "greeting", "hello", "x", ...nodes)).toMatchObject({
    status: 1,
    stdout: 'cas "greeting": not swapped, was "hello world"\n',
  });
  expect(await kv("cas", "greeting", "hello world", "x", ...nodes, "--json")).toMatchObject({
    status: 0,
    stdout: '{"value":"hello world","existed":true,"ok":true}\n',
  });
  expect(await kv("delete", "greeting", ...nodes)).toMatchObject({ status: 0 });
  // A get of no such key: nothing on stdout, why on stderr, and status 1 ("no").
  expect(await kv("get", "greeting", ...nodes)).toMatchObject({
    status: 1,
    stdout: "",
    stderr: '"greeting" does not exist\n',
  });
}

describeReal("real nodes: the command-line client", () => {
  test.concurrent("runs each operation and answers with an exit status a script can test", async (ctx) => {
    const cluster = await RealCluster.start(ctx, { nodes: 3 });
    const nodes = ["--nodes", formatClusterMap(cluster.cluster)];
    const trace = path.join(cluster.dir, "traces", "cli.jsonl");
    // One key's story, one command after another; beside it, on other keys, what needs no wait.
    const [, absent, status] = await Promise.all([
      oneKey(nodes, trace),
      kv("put", "other", "1", ...nodes).then(() => kv("cas", "other", "--absent", "x", ...nodes)),
      kv("status", ...nodes),
    ]);
    expect(absent).toMatchObject({ status: 1, stdout: 'cas "other": not swapped, was "1"\n' });
    expect(status.status).toBe(0);
    expect(status.stdout.trim().split("\n")).toHaveLength(3);
    const events = readFileSync(trace, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(events[0]).toMatchObject({
      kind: "process.start",
      details: { program: "client", run: "cli-test" },
    });
    expect(events.map((e) => e.kind)).toEqual(
      expect.arrayContaining(["client.invoke", "client.send", "client.answer", "client.complete"]),
    );
  });

  test.concurrent("says what to do when no node answers, and what is wrong with a command line", async () => {
    const port = await quietPort();
    const [none, unknown, missing, number, option] = await Promise.all([
      kv("get", "k", "--nodes", `127.0.0.1:${port}`, "--timeout", "500"),
      kv("frobnicate", "k"),
      kv("put", "k"),
      kv("get", "k", "--timeout", "soon"),
      kv("get", "k", "--colour"),
    ]);
    expect(none.status).toBe(3);
    expect(none.stderr).toContain(`no node answered at 127.0.0.1:${port}`);
    expect(none.stderr).toContain("pnpm kv:cluster");
    // A usage error: what is wrong, and where to look; exit status 2.
    expect(unknown).toMatchObject({
      status: 2,
      stderr: `pnpm kv: unknown command "frobnicate"\nTry 'pnpm kv --help'.\n`,
    });
    expect(missing).toMatchObject({
      status: 2,
      stderr: expect.stringContaining("put takes <key> <value>"),
    });
    expect(number).toMatchObject({
      status: 2,
      stderr: expect.stringContaining(
        `--timeout must be a whole number from 1 to 3600000, got "soon"`,
      ),
    });
    expect(option).toMatchObject({
      status: 2,
      stderr: expect.stringContaining("Unknown option '--colour'"),
    });
  });

  test.concurrent("every command: --help, usage errors, other errors", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "raft-kv-cli-"));
    try {
      const notAFolder = path.join(dir, "file");
      writeFileSync(notAFolder, "");
      const [port] = await freePorts(1);
      const cluster = `0=127.0.0.1:${port}`;
      const [
        help,
        nodeHelp,
        clusterHelp,
        noId,
        tooMany,
        cannotStart,
        badState,
        badReads,
        badClusterReads,
        readFromWhat,
        readFromWhom,
      ] = await Promise.all([
        run("kv", "--help"),
        run("kv-node", "-h"),
        run("kv-cluster", "--help"),
        run("kv-node"),
        run("kv-cluster", "--nodes", "12"),
        run("kv-node", "--id", "0", "--cluster", cluster, "--data", notAFolder, "--no-trace"),
        run("kv-node", "--id", "0", "--initial-cluster-state", "maybe"),
        run("kv-node", "--id", "0", "--reads", "fast"),
        run("kv-cluster", "--reads", "fast"),
        run("kv", "put", "k", "v", "--read-from", "0", "--nodes", cluster),
        run("kv", "get", "k", "--read-from", "4", "--nodes", cluster),
      ]);
      expect(help).toMatchObject({ status: 0, stdout: expect.stringMatching(/^usage: pnpm kv /) });
      expect(nodeHelp).toMatchObject({
        status: 0,
        stdout: expect.stringMatching(/^usage: pnpm kv:node /),
      });
      expect(clusterHelp).toMatchObject({
        status: 0,
        stdout: expect.stringMatching(/^usage: pnpm kv:cluster /),
      });
      expect(noId).toMatchObject({
        status: 2,
        stderr: "pnpm kv:node: --id is required\nTry 'pnpm kv:node --help'.\n",
      });
      expect(tooMany).toMatchObject({
        status: 2,
        stderr: `pnpm kv:cluster: --nodes must be a whole number from 1 to 9, got "12"\nTry 'pnpm kv:cluster --help'.\n`,
      });
      expect(badState).toMatchObject({
        status: 2,
        stderr: `pnpm kv:node: --initial-cluster-state must be new or existing, got "maybe"\nTry 'pnpm kv:node --help'.\n`,
      });
      expect(badReads).toMatchObject({
        status: 2,
        stderr: `pnpm kv:node: --reads must be readindex, lease or log, got "fast"\nTry 'pnpm kv:node --help'.\n`,
      });
      expect(badClusterReads).toMatchObject({
        status: 2,
        stderr: `pnpm kv:cluster: --reads must be readindex, lease or log, got "fast"\nTry 'pnpm kv:cluster --help'.\n`,
      });
      expect(readFromWhat).toMatchObject({
        status: 2,
        stderr: "pnpm kv: --read-from goes with get only\nTry 'pnpm kv --help'.\n",
      });
      expect(readFromWhom).toMatchObject({
        status: 2,
        stderr:
          "pnpm kv: --read-from 4: the cluster has no node 4 (it has n0)\nTry 'pnpm kv --help'.\n",
      });
      // Not a usage error: what went wrong, status 1, and no pointer to --help.
      expect(cannotStart.status).toBe(1);
      expect(cannotStart.stderr).toContain("n0 could not start");
      expect(cannotStart.stderr).not.toContain("--help");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.concurrent("a node whose output is closed (| head) stops cleanly, with status 0", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "raft-kv-epipe-"));
    const [port] = await freePorts(1);
    const args = ["--id", "0", "--cluster", `0=127.0.0.1:${port}`, "--data", dir, "--no-trace"];
    // No election for ten minutes, and a fault to set: the node writes no line of its own after
    // its first, so the next is the one this test asks for once the reader is gone (an election
    // could write it first while a busy machine keeps the test from closing the pipe in time).
    args.push("--election-timeout", "600000-600000", "--test-faults");
    args.push("--initial-cluster-state", "new");
    const node = spawn(process.execPath, [launcher, "kv-node", ...args], {
      cwd: partDir,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const agent = new Agent({ keepAlive: false });
    try {
      // Its first line, then the reader goes away; its next line (the faults healed) meets EPIPE.
      await waitFor(
        "the node's first line",
        async () => (node.stdout!.read() === null ? undefined : true),
        15_000,
        20,
      );
      node.stdout!.destroy();
      // Its answer does not matter (it may stop before it answers): what it does next does.
      const heal = { timeoutMs: 5000 * PATIENCE, limit: 65536, method: "DELETE" };
      await call(agent, { host: "127.0.0.1", port: port! }, "/admin/faults", undefined, heal).catch(
        () => undefined,
      );
      await waitFor(
        "the node to stop",
        async () => (node.exitCode === null ? undefined : true),
        15_000,
        20,
      );
      expect(node.exitCode).toBe(0);
    } finally {
      agent.destroy();
      node.kill("SIGKILL");
      await exited(node);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
