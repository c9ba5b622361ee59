// Goal: `pnpm kv:cluster` supervises its nodes as its --help says. A node killed from elsewhere
// (kill -9) is reported and can be started again from its terminal; `kill <id>` kills one; Ctrl-C
// stops every node, the restarted one included, and the supervisor then ends with status 0. Its
// run's traces are kept apart from other runs': every file in one folder named by the run, every
// process.start naming that run, and the supervisor's own cluster.jsonl recording each node's end
// (process.exit: how, and whether it was asked for) and each restart, for a timeline to draw.
// Method: the command as a user runs it, on free ports, in a temporary folder, driven through its
// standard input and signals.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { Agent } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, type TestContext, test } from "vitest";
import { exited, signalGroup } from "../../src/real/spawn.ts";
import { agreedLeader, fetchStatus, freePortRange, type Status, waitFor } from "./local.ts";
import { describeReal } from "./real-cluster.ts";

const partDir = path.resolve(import.meta.dirname, "../..");

interface Supervised {
  child: ChildProcess;
  ports: number[];
  /** Every line it has written so far. */
  lines: string[];
  dir: string;
  /** Sends a command line, as a user types it. */
  type: (line: string) => void;
  status: (id: number) => Promise<Status | undefined>;
}

/** `pnpm kv:cluster` on three free ports; stopped and its folder removed when the test ends. */
async function kvCluster(ctx: TestContext): Promise<Supervised> {
  const base = await freePortRange(3);
  const dir = mkdtempSync(path.join(tmpdir(), "raft-kv-cluster-"));
  const args = ["--base-port", String(base), "--data", path.join(dir, "data")];
  args.push("--trace-dir", path.join(dir, "traces"));
  const child = spawn(
    process.execPath,
    [path.join(partDir, "scripts", "launch.mjs"), "kv-cluster", ...args],
    {
      cwd: partDir,
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
      env: { ...process.env, FORCE_COLOR: "0" },
    },
  );
  const lines: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding("utf8");
    stream.on("data", (text: string) => lines.push(...text.split("\n").filter((l) => l !== "")));
  }
  const agent = new Agent({ keepAlive: false });
  ctx.onTestFinished(async () => {
    // Its nodes stop by themselves once it is gone (their standard input closes).
    signalGroup(child, "SIGKILL");
    await exited(child);
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  const ports = [base, base + 1, base + 2];
  const status = (id: number) => fetchStatus(agent, { host: "127.0.0.1", port: ports[id]! });
  return { child, ports, lines, dir, type: (line) => child.stdin!.write(`${line}\n`), status };
}

function said(supervised: Supervised, text: string): Promise<string> {
  return waitFor(
    () => `kv:cluster to say "${text}"; it said:\n${supervised.lines.join("\n")}`,
    async () => supervised.lines.find((line) => line.includes(text)),
    15_000,
    20,
  );
}

function events(
  file: string,
): { node: number | null; kind: string; details: Record<string, unknown> }[] {
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
}

describeReal("pnpm kv:cluster", () => {
  test("brings a killed node back, stops every node on Ctrl-C, and records each end in its run's traces", async (ctx) => {
    const kv = await kvCluster(ctx);
    const statuses = async () =>
      (await Promise.all([0, 1, 2].map((id) => kv.status(id)))).filter((s) => s !== undefined);
    await waitFor("a leader", async () => agreedLeader(await statuses(), 3), 15_000, 20);
    // A leader needs only two of the three, so n1 may not be listening yet (CI once saw that).
    const killed = await waitFor(
      "n1 to answer /status",
      async () => (await kv.status(1))?.pid,
      15_000,
      20,
    );
    process.kill(killed, "SIGKILL"); // as `kill -9` from another terminal
    await said(kv, "n1 │ exited (SIGKILL). `start 1` (and Enter) starts it again.");
    kv.type("start 1");
    const restarted = await waitFor(
      "n1 to serve again",
      async () => {
        const s = await kv.status(1);
        return s !== undefined && s.pid !== killed ? s.pid : undefined;
      },
      15_000,
      20,
    );
    kv.type("kill 2");
    await said(kv, "n2 │ exited (SIGKILL)");
    kv.child.kill("SIGINT"); // Ctrl-C
    await exited(kv.child);
    expect(kv.child.exitCode, kv.lines.join("\n")).toBe(0);
    await said(kv, "all nodes stopped");

    const runs = readdirSync(path.join(kv.dir, "traces"));
    expect(runs, "one run, one folder").toHaveLength(1);
    const folder = path.join(kv.dir, "traces", runs[0]!);
    const files = readdirSync(folder).sort();
    expect(files).toEqual([
      "cluster.jsonl",
      "n0-i1.jsonl",
      "n1-i1.jsonl",
      "n1-i2.jsonl",
      "n2-i1.jsonl",
    ]);
    for (const file of files) {
      const first = events(path.join(folder, file))[0]!;
      expect(first.kind, file).toBe("process.start");
      expect(first.details.run, `${file} names the run`).toBe(runs[0]);
    }
    const supervisor = events(path.join(folder, "cluster.jsonl"));
    expect(supervisor.slice(1).map((e) => [e.node, e.kind, e.details])).toEqual([
      [1, "process.exit", { pid: killed, code: null, signal: "SIGKILL", expected: false }],
      [1, "process.restart", { pid: restarted }],
      [2, "process.exit", expect.objectContaining({ signal: "SIGKILL", expected: true })],
      ...[[0], [1]].map(() => [
        expect.any(Number),
        "process.exit",
        expect.objectContaining({ code: 0, signal: null, expected: true }),
      ]),
      [null, "process.stop", { reason: "SIGINT" }],
    ]);
  });
});
