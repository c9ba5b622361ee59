// A cluster of real node processes for one test: free ports on 127.0.0.1, a temporary folder for
// the nodes' data, logs and traces, and the faults the tests inflict (SIGKILL, restart, SIGSTOP
// and SIGCONT, a node cut off from its peers through --test-faults).
//
// Nothing outlives the test: a cluster is stopped when its test ends, passed, failed or timed out
// (every process group killed and waited for, the folder removed), tests that run concurrently
// each stopping their own; if the test process itself dies, the nodes notice their standard input
// close and stop (src/real/spawn.ts). Every wait is bounded (local.ts) and fails with what it
// waited for and the node's last log lines.
//
// The clients a test makes record every operation; a test that ran some ends by checking them
// with `expectLinearizable()`, in its own body, and a passing test that recorded operations
// without checking them fails.
//
// With RAFT_TRACE_DIR set, the run's files are kept in <RAFT_TRACE_DIR>/<test>/: one trace per
// node start (n<id>-i<start>.jsonl), the test's own (test.jsonl: test.start, every fault, every
// client event, test.end) and each node's log. A failed test keeps them in out/failed/<test>/.

import type { ChildProcess } from "node:child_process";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { Agent } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, inject, type TestContext } from "vitest";
import { History } from "../../src/kv/history.ts";
import { type ClusterMap, formatClusterMap } from "../../src/real/addresses.ts";
import { RealClient, type RealClientOptions } from "../../src/real/client.ts";
import { call } from "../../src/real/http.ts";
import { signalGroup, spawnNode, stopChild } from "../../src/real/spawn.ts";
import { newRunId, processStart, runFolder, TraceFile } from "../../src/real/trace-file.ts";
import type { RealKinds } from "../../src/trace.ts";
import { agreedLeader, fetchStatus, freePorts, PATIENCE, type Status, waitFor } from "./local.ts";

const partDir = path.resolve(import.meta.dirname, "../..");
/** The package that holds this store (kv/ is a folder of part5-snapshots), and the repository. */
const packageDir = path.dirname(partDir);
const repoRoot = path.dirname(packageDir);

export interface RealClusterOptions {
  nodes: number;
  /** The seed of the test's own random choices (faults, operations), for test.start. */
  seed?: number;
  /** Extra flags for every node. */
  flags?: string[];
  /** Extra flags for one node, after those for every node (the last of a flag given twice wins). */
  nodeFlags?: Record<number, string[]>;
}

/**
 * Elections quick enough that a test spends little time waiting for one, timeouts far enough
 * apart for a busy two-core machine (a heartbeat a third of the shortest election timeout), and
 * heartbeats no more frequent than that: each costs every node CPU, many clusters run at once.
 */
const NODE_FLAGS = [
  "--election-timeout",
  "300-600",
  "--heartbeat",
  "100",
  "--rpc-timeout",
  "300",
  "--test-faults",
];

/** How long a node may take to start and answer (a bundle: well under a second when idle). */
const STARTUP_MS = 15_000;

/**
 * `describe` for the real tests. Under the seed sweep (scripts/seeds.ts) they are left out: a seed
 * does not replay them (real time decides), and each would cost seconds per batch of seeds.
 */
export const describeReal = describe.skipIf(inject("raftSeeds") !== undefined);

const live = new Set<RealCluster>();
let runs = 0;
// Last resort, should the test process exit with clusters running: kill them, synchronously.
process.once("exit", () => {
  for (const cluster of live) cluster.killAllNow();
});

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 100);
}

export class RealCluster {
  readonly cluster: ClusterMap;
  readonly dir: string;
  /** The run id every process of this cluster names in its trace (trace-file.ts). */
  readonly run = `${newRunId()}-${++runs}`;
  readonly test: { name: string; file: string };
  /** The test's own trace: faults and client events. */
  readonly trace: TraceFile;
  /** Every client operation, for `expectLinearizable`. */
  readonly history = new History();
  private checkedOperations = 0;
  private readonly children = new Map<number, ChildProcess>();
  /** Nodes started at least once: the first start of each is that of a new cluster. */
  private readonly started = new Set<number>();
  private readonly flags: string[];
  private readonly nodeFlags: Record<number, string[]>;
  private readonly agent = new Agent({ keepAlive: false });
  private readonly clients: RealClient[] = [];
  private readonly keep: string | undefined;
  private stopping: Promise<void> | undefined;
  private keptIn: string | undefined;

  private constructor(ctx: TestContext, ports: number[], options: RealClusterOptions) {
    const state = ctx.expect.getState();
    this.test = {
      name: state.currentTestName ?? ctx.task.name,
      file: path.relative(repoRoot, state.testPath ?? ""),
    };
    const traceRoot = process.env.RAFT_TRACE_DIR;
    this.keep = traceRoot ? path.resolve(traceRoot, slug(this.test.name)) : undefined;
    if (this.keep !== undefined) rmSync(this.keep, { recursive: true, force: true });
    this.dir = mkdtempSync(path.join(tmpdir(), "raft-kv-"));
    this.cluster = new Map(ports.map((port, id) => [id, { host: "127.0.0.1", port }]));
    this.flags = [...NODE_FLAGS, ...(options.flags ?? [])];
    this.nodeFlags = options.nodeFlags ?? {};
    mkdirSync(path.join(this.dir, "logs"));
    this.trace = new TraceFile(path.join(this.runFolder, "test.jsonl"), { append: false });
    live.add(this);
    // Stopped when this test ends, however it ends; a test that timed out is aborted first.
    ctx.onTestFinished(({ task }) => this.stop(task.result?.state === "fail"));
    ctx.signal.addEventListener("abort", () => void this.stop(true), { once: true });
  }

  /** Starts `nodes` nodes for the test of `ctx` and waits until each answers. */
  static async start(ctx: TestContext, options: RealClusterOptions): Promise<RealCluster> {
    const cluster = new RealCluster(ctx, await freePorts(options.nodes), options);
    cluster.harness(
      "process.start",
      processStart("test", cluster.run, { test: cluster.test.name }),
    );
    cluster.harness("test.start", {
      test: cluster.test.name,
      file: cluster.test.file,
      part: "part5-snapshots",
      seed: options.seed ?? 0,
      nodes: [...cluster.cluster.keys()],
      ...cluster.commands(options.seed),
      config: { flags: cluster.flags },
    });
    await Promise.all([...cluster.cluster.keys()].map((id) => cluster.startNode(id)));
    return cluster;
  }

  /** How to run this test again (under the same schedule of faults) and how to see its run. */
  private commands(seed: number | undefined): { replay: string; render: string } {
    const file = path.relative(packageDir, path.resolve(repoRoot, this.test.file));
    const pattern = `^${this.test.name
      .split(" > ")
      .join(" ")
      .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`;
    const name = `'${pattern.replace(/'/g, `'\\''`)}'`;
    const env = seed === undefined ? "" : `RAFT_SEED=${seed} `;
    const replay = `${env}pnpm --filter part5-snapshots exec vitest run -c vitest.kvreal.config.ts ${file} -t ${name}`;
    const kept = `kv/out/kept/${slug(this.test.name)}`;
    const render = `RAFT_TRACE_DIR=kv/out/kept ${replay}; pnpm viz --merge part5-snapshots/${kept}`;
    return { replay, render };
  }

  get ids(): number[] {
    return [...this.cluster.keys()];
  }

  /** The run's folder, where every node and this test write their traces. */
  get runFolder(): string {
    return runFolder(path.join(this.dir, "traces"), this.run);
  }

  /** A test event in test.jsonl (`node` null, as the simulation's harness events). */
  harness(kind: string, details: object): void {
    this.trace.write({ node: null, term: null, role: null, kind, details });
  }

  /** Starts node `id` (again), with `flags` besides the cluster's, and waits until it answers /status. */
  async startNode(id: number, flags: string[] = []): Promise<void> {
    this.check();
    if (this.children.has(id)) throw new Error(`n${id} is running already`);
    const log = openSync(this.logFile(id), "a");
    const args = ["--id", String(id), "--cluster", formatClusterMap(this.cluster)];
    args.push("--data", this.dataDir(id));
    args.push("--trace-dir", path.join(this.dir, "traces"), "--run", this.run, ...this.flags);
    args.push(...(this.nodeFlags[id] ?? []));
    if (!this.started.has(id)) args.push("--initial-cluster-state", "new");
    args.push(...flags);
    this.started.add(id);
    const child = spawnNode(args, log);
    closeSync(log); // the child has its own copy
    this.children.set(id, child);
    await waitFor(
      () => `n${id} to answer /status${this.lastLines(id)}`,
      async () => {
        if (child.exitCode !== null) {
          this.children.delete(id);
          throw new Error(`n${id} exited with status ${child.exitCode}${this.lastLines(id)}`);
        }
        const status = await this.status(id);
        // Another process answering on this node's port (which it then failed to bind) is not it.
        if (status !== undefined && status.pid !== child.pid) {
          const port = this.cluster.get(id)!.port;
          throw new Error(`n${id}'s port ${port} is another process's (pid ${status.pid})`);
        }
        return status;
      },
      STARTUP_MS,
      20,
    );
  }

  /** SIGKILL: the process dies at once, mid-write or not; its data folder keeps what was durable. */
  async kill(id: number): Promise<void> {
    const child = this.child(id);
    this.fault("kill", id);
    signalGroup(child, "SIGKILL");
    await stopChild(child, 0);
    this.children.delete(id);
  }

  async restart(id: number, flags: string[] = []): Promise<void> {
    this.fault("restart", id);
    await this.startNode(id, flags);
  }

  /** Node `id`'s data folder. */
  dataDir(id: number): string {
    return path.join(this.dir, "data", `n${id}`);
  }

  /** SIGSTOP: the process stands still, its sockets open; peers' calls to it time out. */
  pause(id: number): void {
    this.fault("pause", id);
    signalGroup(this.child(id), "SIGSTOP");
  }

  resume(id: number): void {
    this.fault("resume", id);
    signalGroup(this.child(id), "SIGCONT");
  }

  /** Cuts node `id` off from every peer, both ways (its /admin/faults); clients still reach it. */
  async cut(id: number): Promise<void> {
    this.fault("cut", id);
    await this.admin(id, { drop: this.ids.filter((peer) => peer !== id) });
  }

  async heal(id: number): Promise<void> {
    this.fault("heal", id);
    await this.admin(id, { drop: [] });
  }

  isRunning(id: number): boolean {
    return this.children.has(id);
  }

  /** The node's /status, or undefined if it does not answer in time (local.ts). */
  async status(id: number): Promise<Status | undefined> {
    this.check();
    return fetchStatus(this.agent, this.cluster.get(id)!);
  }

  /**
   * Waits until one of `among` is leader and a majority of the whole cluster follows it in its
   * term (a paused or cut-off old leader may still believe it leads: it is not counted).
   */
  async leader(among: number[] = this.ids): Promise<number> {
    return waitFor(
      `a leader among ${among.map((id) => `n${id}`).join(", ")}`,
      async () => {
        const all = await Promise.all(
          among.filter((id) => this.children.has(id)).map((id) => this.status(id)),
        );
        return agreedLeader(
          all.filter((s) => s !== undefined),
          this.cluster.size,
        );
      },
      20_000,
      20,
    );
  }

  /** A client of this cluster, traced into test.jsonl and recorded in the history; closed with the cluster. */
  client(id: string, options: Partial<RealClientOptions> = {}): RealClient {
    this.check();
    const client = new RealClient({
      id,
      cluster: this.cluster,
      trace: this.trace,
      history: { history: this.history, now: () => performance.now() },
      attemptTimeoutMs: 1000,
      ...options,
    });
    this.clients.push(client);
    return client;
  }

  /**
   * The verdict on every client operation so far: lincheck must find an order of them that one
   * copy of the store could have produced, each at a moment between its call and its answer.
   * Fails with where lincheck's page of the history is kept.
   */
  async expectLinearizable(): Promise<void> {
    const checked = this.history.check(this.test.name);
    this.checkedOperations = this.history.size;
    const verdict = checked.result?.verdict ?? "linearizable";
    if (verdict === "linearizable") return;
    const kept = this.keepFiles(true);
    writeFileSync(path.join(kept!, "history.html"), checked.html());
    const what = verdict === "unknown" ? "undecided within lincheck's budget" : "not linearizable";
    expect.fail(
      `the history of ${this.history.size} client operations is ${what}: ${kept}/history.html`,
    );
  }

  /**
   * Stops everything, ends test.jsonl, keeps the files if asked (RAFT_TRACE_DIR) or if the test
   * failed, and removes the folder. A passing test whose operations were never checked fails.
   */
  stop(failed: boolean): Promise<void> {
    this.stopping ??= this.shutDown(failed);
    return this.stopping;
  }

  private async shutDown(failed: boolean): Promise<void> {
    live.delete(this);
    const grace = failed ? 0 : 3000 * PATIENCE;
    await Promise.all([...this.children.values()].map((child) => stopChild(child, grace)));
    this.children.clear();
    for (const client of this.clients) client.close();
    this.agent.destroy();
    const unchecked = !failed && this.history.size > this.checkedOperations;
    this.harness("test.end", failed || unchecked ? { result: "fail" } : { result: "pass" });
    this.trace.close();
    this.keepFiles(failed);
    rmSync(this.dir, { recursive: true, force: true });
    if (unchecked) {
      throw new Error(
        `${this.history.size - this.checkedOperations} client operations were never checked: end the test with expectLinearizable()`,
      );
    }
  }

  /** Kills every node at once, synchronously: for a test process on its way out. */
  killAllNow(): void {
    for (const child of this.children.values()) signalGroup(child, "SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Copies the run's traces and logs where they are kept, if they are; returns where. */
  private keepFiles(failed: boolean): string | undefined {
    const to = failed ? path.join(partDir, "out", "failed", slug(this.test.name)) : this.keep;
    if (to === undefined || !existsSync(this.dir)) return to;
    // A previous run's files go; this run's own, copied a moment ago, are brought up to date.
    if (this.keptIn !== to) rmSync(to, { recursive: true, force: true });
    this.keptIn = to;
    mkdirSync(to, { recursive: true });
    // File by file: cpSync's folder handles would count as left open until collected.
    for (const from of [this.runFolder, path.join(this.dir, "logs")]) {
      for (const name of readdirSync(from))
        copyFileSync(path.join(from, name), path.join(to, name));
    }
    if (failed) console.error(`the nodes' logs and traces of "${this.test.name}" are in ${to}`);
    return to;
  }

  private fault(action: RealKinds["fault"]["action"], node: number): void {
    this.check();
    this.harness("fault", { action, node });
  }

  private async admin(id: number, body: { drop: number[] }): Promise<void> {
    const answer = await call(
      this.agent,
      this.cluster.get(id)!,
      "/admin/faults",
      JSON.stringify(body),
      { timeoutMs: 5000 * PATIENCE, limit: 65536, method: "PUT" },
    );
    if (answer.status !== 200)
      throw new Error(`n${id} refused /admin/faults: ${answer.body.toString()}`);
  }

  private child(id: number): ChildProcess {
    this.check();
    const child = this.children.get(id);
    if (child === undefined) throw new Error(`n${id} is not running`);
    return child;
  }

  private check(): void {
    if (this.stopping !== undefined) {
      throw new Error("this cluster has been stopped (the test is over)");
    }
  }

  logFile(id: number): string {
    return path.join(this.dir, "logs", `n${id}.log`);
  }

  /** The last lines of a node's log, for an error message. */
  private lastLines(id: number): string {
    const file = this.logFile(id);
    if (!existsSync(file)) return "";
    const lines = readFileSync(file, "utf8").trimEnd().split("\n").slice(-8);
    return `\n  last lines of ${file}:\n    ${lines.join("\n    ")}`;
  }
}

/**
 * After a battery of bad input: every node still answers, none has taken the term `hugeTerm` that
 * each malformed Raft message carried (none was handled), and a write and a read go through.
 */
export async function expectStillServes(cluster: RealCluster, hugeTerm: number): Promise<void> {
  for (const id of cluster.ids) {
    const status = await waitFor(`n${id} to answer /status`, () => cluster.status(id), 10_000);
    expect(status.term, `n${id} handled a malformed RPC`).toBeLessThan(hugeTerm);
  }
  const client = cluster.client("after");
  await client.put("k", "still here");
  expect((await client.get("k")).value).toBe("still here");
  await cluster.expectLinearizable();
}
