// Goal: `pnpm kv` does what its --help says against a real cluster: each operation prints what it
// read or replaced, the exit status tells a script how it went (0 done, 1 a cas that did not swap,
// 2 a usage error, 3 not done), `status` shows every node, `--trace` writes the client's events,
// and with no cluster to talk to it says so and what to do. Method: the command-line client in a
// process of its own, as a user runs it, against a real 3-node cluster.

import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, test } from "vitest";
import { formatClusterMap } from "../../src/real/addresses.ts";
import { freePorts, PATIENCE } from "./local.ts";
import { describeReal, RealCluster } from "./real-cluster.ts";

const partDir = path.resolve(import.meta.dirname, "../..");

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs `pnpm kv <args>` (the same command without pnpm's banner) and waits, at most 30 s. */
function kv(...args: string[]): Promise<Run> {
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

describeReal("real nodes: the command-line client", () => {
  test.concurrent("runs each operation and answers with an exit status a script can test", async (ctx) => {
    const cluster = await RealCluster.start(ctx, { nodes: 3 });
    const nodes = ["--nodes", formatClusterMap(cluster.cluster)];
    const trace = path.join(cluster.dir, "traces", "cli.jsonl");
    expect(await kv("put", "greeting", "hello", ...nodes, "--trace", trace)).toMatchObject({
      status: 0,
      stdout: 'put "greeting": was absent\n',
    });
    expect(await kv("get", "greeting", ...nodes)).toMatchObject({ status: 0, stdout: "hello\n" });
    expect(await kv("append", "greeting", " world", ...nodes)).toMatchObject({ status: 0 });
    expect(await kv("cas", "greeting", "hello", "x", ...nodes)).toMatchObject({
      status: 1,
      stdout: 'cas "greeting": not swapped, was "hello world"\n',
    });
    expect(await kv("cas", "greeting", "--absent", "x", ...nodes)).toMatchObject({ status: 1 });
    expect(await kv("cas", "greeting", "hello world", "x", ...nodes, "--json")).toMatchObject({
      status: 0,
      stdout: '{"value":"hello world","existed":true,"ok":true}\n',
    });
    expect(await kv("delete", "greeting", ...nodes)).toMatchObject({ status: 0 });
    expect(await kv("get", "greeting", ...nodes)).toMatchObject({
      status: 1,
      stdout: "",
      stderr: '"greeting" does not exist\n',
    });
    const status = await kv("status", ...nodes);
    expect(status.status).toBe(0);
    expect(status.stdout.trim().split("\n")).toHaveLength(3);
    const kinds = readFileSync(trace, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line).kind);
    expect(kinds).toEqual(
      expect.arrayContaining([
        "process.start",
        "client.invoke",
        "client.send",
        "client.answer",
        "client.complete",
      ]),
    );
  });

  test.concurrent("says what to do when no node answers, and what is wrong with a command line", async () => {
    const [port] = await freePorts(1);
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
});
