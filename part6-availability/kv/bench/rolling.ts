// pnpm --filter part6-availability kv:bench:rolling: what this part's availability buys the
// store as real processes (3 nodes on 127.0.0.1, DiskStorage with fdatasync), beside part 5's
// store in the same run:
//
// 1. A rolling restart under load: each node in turn stopped (SIGTERM) and started again on its
//    data while clients keep reading and writing; the longest gap between two acknowledged
//    operations. Part 6's leader hands its leadership over before it stops (thesis §3.10); part
//    5's just stops, and the others wait out an election timeout (bar: part 6 under 500 ms).
// 2. Gets per second at 1, 16 and 64 clients (part 6 reads by ReadIndex, no log entry; part 5
//    puts each get in the log) and single-client puts (part 6's leader writes in parallel with
//    replication, §10.2.1), and the same for etcd if /usr/bin/etcd (or etcd on the PATH) exists.

import type { ChildProcess } from "node:child_process";
import { openSync } from "node:fs";
import { Agent } from "node:http";
import { cpus, platform, release } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { type ClusterMap, formatClusterMap } from "../src/real/addresses.ts";
import { RealClient } from "../src/real/client.ts";
import { LAUNCHER, prepareNodes, spawnNode } from "../src/real/spawn.ts";
import { agreedLeader, fetchStatus, freePorts, type Status, waitFor } from "../test/real/local.ts";
import { etcdVersion, startEtcd } from "./etcd.ts";
import { runLoad } from "./load.ts";
import { Processes, stopOnSignals } from "./processes.ts";
import type { System } from "./system.ts";

const PART5_LAUNCHER = path.resolve(
  import.meta.dirname,
  "../../../part5-snapshots/kv/scripts/launch.mjs",
);
const NODES = 3;

const usage = `usage: pnpm --filter part6-availability kv:bench:rolling [options]

Part 6's store beside part 5's, 3 real processes each (fdatasync on, pnpm kv:node's defaults:
election timeouts 500-1000 ms, heartbeat 100 ms): a rolling restart under load (the longest gap
between acknowledged operations), then gets per second at 1, 16 and 64 clients and single-client
puts, and etcd's too if it is installed.

  --clients <n>     clients during the rolling restart (default 8)
  --seconds <s>     measured seconds per throughput row (default 3)
  --no-etcd         skip etcd even if it is installed
  --no-throughput   the rolling restart only
  --help, -h        this text`;

interface Options {
  clients: number;
  seconds: number;
  etcd: boolean;
  throughput: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      clients: { type: "string", default: "8" },
      seconds: { type: "string", default: "3" },
      "no-etcd": { type: "boolean", default: false },
      "no-throughput": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const clients = Number(values.clients);
  const seconds = Number(values.seconds);
  if (!Number.isSafeInteger(clients) || clients < 1 || !(seconds > 0)) {
    console.error(
      `pnpm kv:bench:rolling: --clients needs a whole number from 1, --seconds a positive number\nTry 'pnpm kv:bench:rolling --help'.`,
    );
    process.exit(2);
  }
  return {
    clients,
    seconds,
    etcd: !values["no-etcd"],
    throughput: !values["no-throughput"],
  };
}

/** A 3-node cluster of one part's store, whose nodes can be stopped and started again. */
class Cluster {
  readonly cluster: ClusterMap;
  private readonly children = new Map<number, ChildProcess>();
  private readonly agent = new Agent({ keepAlive: false });

  readonly name: string;
  private readonly launcher: string;
  private readonly processes: Processes;
  private readonly fail: (why: string) => void;

  constructor(
    name: string,
    launcher: string,
    processes: Processes,
    ports: number[],
    fail: (why: string) => void,
  ) {
    this.name = name;
    this.launcher = launcher;
    this.processes = processes;
    this.fail = fail;
    this.cluster = new Map(ports.map((port, id) => [id, { host: "127.0.0.1", port }]));
  }

  static async start(name: string, launcher: string, fail: (why: string) => void) {
    const processes = new Processes();
    live.add(processes);
    prepareNodes(launcher);
    const cluster = new Cluster(name, launcher, processes, await freePorts(NODES), fail);
    for (const id of cluster.cluster.keys()) cluster.startNode(id, true);
    await cluster.leader();
    return cluster;
  }

  startNode(id: number, first = false): void {
    const dir = this.processes.dir;
    const log = openSync(path.join(dir, `${this.name}-n${id}.log`), "a");
    const args = ["--id", String(id), "--cluster", formatClusterMap(this.cluster), "--no-trace"];
    args.push("--data", path.join(dir, `${this.name}-n${id}`));
    if (first) args.push("--initial-cluster-state", "new");
    const child = spawnNode(args, log, this.launcher);
    this.children.set(id, child);
    this.processes.add(child, `${this.name} n${id} (see ${dir})`, this.fail);
  }

  async stopNode(id: number): Promise<void> {
    await this.processes.stop(this.children.get(id)!);
    this.children.delete(id);
  }

  async statuses(): Promise<Status[]> {
    const all = await Promise.all(
      [...this.cluster.values()].map((address) => fetchStatus(this.agent, address)),
    );
    return all.filter((s) => s !== undefined);
  }

  leader(): Promise<number> {
    return waitFor(
      `a leader of ${this.name}`,
      async () => agreedLeader(await this.statuses(), NODES),
      30_000,
      50,
    );
  }

  /** Waits until node `id` answers and has applied what the leader had committed before. */
  async caughtUp(id: number): Promise<void> {
    const target = Math.max(0, ...(await this.statuses()).map((s) => s.commitIndex));
    await waitFor(
      `n${id} of ${this.name} to catch up`,
      async () => {
        const s = await fetchStatus(this.agent, this.cluster.get(id)!);
        return s !== undefined && s.lastApplied >= target ? true : undefined;
      },
      30_000,
      20,
    );
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    await this.processes.stopAll();
    live.delete(this.processes);
  }
}

const live = new Set<Processes>();

interface Rolling {
  longestGapMs: number;
  /** The restart during which it happened: which node, and whether it led. */
  where: string;
  ops: number;
  failed: number;
  perRestart: { node: number; wasLeader: boolean; gapMs: number }[];
}

/** Restarts each node in turn under `clients` clients' load; the gaps between acknowledgements. */
async function rolling(name: string, launcher: string, clients: number): Promise<Rolling> {
  let failure: string | undefined;
  const cluster = await Cluster.start(name, launcher, (why) => {
    failure ??= why;
  });
  const acks: number[] = [];
  let failed = 0;
  let running = true;
  const clientsOf = Array.from(
    { length: clients },
    (_, n) => new RealClient({ id: `roll-${n}`, cluster: cluster.cluster, seed: n + 1 }),
  );
  const loop = async (n: number) => {
    const client = clientsOf[n]!;
    for (let i = 0; running; i++) {
      try {
        const key = `k${n}-${i % 50}`;
        if (i % 2 === 0) await client.put(key, `v${i}`);
        else await client.get(key);
        acks.push(performance.now());
      } catch {
        failed++;
      }
    }
  };
  const loops = clientsOf.map((_, n) => loop(n));
  const perRestart: Rolling["perRestart"] = [];
  try {
    await new Promise((resolve) => setTimeout(resolve, 1000)); // the load settles
    for (const id of cluster.cluster.keys()) {
      const leader = await cluster.leader();
      const from = performance.now();
      await cluster.stopNode(id);
      cluster.startNode(id);
      await cluster.caughtUp(id);
      await cluster.leader();
      await new Promise((resolve) => setTimeout(resolve, 1000)); // the load settles again
      perRestart.push({ node: id, wasLeader: leader === id, gapMs: longestGap(acks, from) });
      if (failure !== undefined) throw new Error(failure);
    }
  } finally {
    running = false;
    await Promise.all(loops);
    for (const client of clientsOf) client.close();
    await cluster.stop();
  }
  const worst = perRestart.reduce((a, b) => (b.gapMs > a.gapMs ? b : a));
  return {
    longestGapMs: worst.gapMs,
    where: `restarting n${worst.node}${worst.wasLeader ? " (the leader)" : ""}`,
    ops: acks.length,
    failed,
    perRestart,
  };
}

/** The longest time between two acknowledgements from `from` on (acks are in time order). */
function longestGap(acks: readonly number[], from: number): number {
  let longest = 0;
  let previous = from;
  for (const at of acks) {
    if (at < from) continue;
    longest = Math.max(longest, at - previous);
    previous = at;
  }
  return longest;
}

/** A System (bench/system.ts) on a part's cluster, for the throughput rows. */
async function storeSystem(name: string, launcher: string, fail: (why: string) => void) {
  const cluster = await Cluster.start(name, launcher, fail);
  const clients: RealClient[] = [];
  const client = (n: number) => {
    clients[n] ??= new RealClient({ id: `bench-${n}`, cluster: cluster.cluster, seed: n + 1 });
    return clients[n];
  };
  const system: System = {
    name,
    put: async (n, key, value) => void (await client(n).put(key, value)),
    get: async (n, key) => void (await client(n).get(key)),
    counters: async () => ({ syncs: 0, committed: 0 }),
    close: () => {
      for (const c of clients) c?.close();
    },
  };
  return { system, stop: () => cluster.stop() };
}

const ROWS = [
  ["get", 1],
  ["get", 16],
  ["get", 64],
  ["put", 1],
] as const;

/** Operations per second of each row on one system. */
async function throughput(system: System, seconds: number): Promise<number[]> {
  const rates: number[] = [];
  for (const [op, clients] of ROWS) {
    const key = (c: number, n: number) => `key-${c}-${n % 100}`;
    if (op === "get") await runLoad(4, (c, n) => system.put(c, key(c, n), "v"), 0.5, 0); // keys exist
    const run =
      op === "put"
        ? (c: number, n: number) => system.put(c, key(c, n), "v".repeat(64))
        : (c: number, n: number) => system.get(c, key(c, n));
    const result = await runLoad(clients, run, seconds, 1);
    rates.push(result.opsPerSecond);
    console.log(
      `  ${system.name}: ${op} ${String(clients).padStart(2)} clients: ${Math.round(result.opsPerSecond)} ops/s, p50 ${result.p50Ms.toFixed(1)} ms${result.failed > 0 ? `, ${result.failed} failed` : ""}`,
    );
  }
  return rates;
}

async function main(): Promise<void> {
  const opts = options();
  stopOnSignals(() => Promise.all([...live].map((p) => p.stopAll())));
  const cpu = cpus();
  console.log("raft-ts part6-availability: availability of the store as real processes");
  console.log(`  machine: ${cpu.length} × ${cpu[0]?.model ?? "?"}, ${platform()} ${release()}`);
  console.log(
    `  nodes:   3 on 127.0.0.1, pnpm kv:node defaults (election timeouts 500-1000 ms, heartbeat 100 ms), fdatasync on`,
  );
  await rollingRestarts(opts.clients);
  if (opts.throughput) await throughputTable(opts.seconds, opts.etcd);
}

/** Part 6's store and part 5's restarted node by node under `clients`, side by side. */
async function rollingRestarts(clients: number): Promise<void> {
  console.log(`\nRolling restart under load (${clients} clients, half puts, half gets):`);
  const results: [string, Rolling][] = [];
  for (const [name, launcher] of [
    ["part6", LAUNCHER],
    ["part5", PART5_LAUNCHER],
  ] as const) {
    const result = await rolling(name, launcher, clients);
    results.push([name, result]);
    const each = result.perRestart
      .map((r) => `n${r.node}${r.wasLeader ? " (leader)" : ""} ${Math.round(r.gapMs)} ms`)
      .join(", ");
    console.log(
      `  ${name}: longest gap ${Math.round(result.longestGapMs)} ms (${result.where}); per restart: ${each}; ${result.ops} operations acknowledged, ${result.failed} failed attempts`,
    );
  }
  const [six, five] = [results[0]![1], results[1]![1]];
  console.log(
    `  longest gap between acknowledged operations: part 6 ${Math.round(six.longestGapMs)} ms, part 5 ${Math.round(five.longestGapMs)} ms — bar: part 6 under 500 ms: ${six.longestGapMs < 500 ? "met" : "NOT met"}`,
  );
}

/** Operations per second of part 6's store, part 5's and etcd (if installed and wanted). */
async function throughputTable(seconds: number, withEtcd: boolean): Promise<void> {
  console.log(`\nThroughput, ${seconds} s per row after a 1 s warm-up:`);
  const table: [string, number[]][] = [];
  for (const [name, launcher] of [
    ["part6", LAUNCHER],
    ["part5", PART5_LAUNCHER],
  ] as const) {
    let failure: string | undefined;
    const { system, stop } = await storeSystem(name, launcher, (why) => {
      failure ??= why;
    });
    try {
      table.push([name, await throughput(system, seconds)]);
      if (failure !== undefined) throw new Error(failure);
    } finally {
      system.close();
      await stop();
    }
  }
  const etcd = withEtcd ? etcdVersion() : undefined;
  if (etcd !== undefined) table.push([etcd, await etcdThroughput(seconds)]);
  else if (withEtcd) console.log("  etcd is not installed (apt-get install etcd-server)");
  const header = ["system", ...ROWS.map(([op, c]) => `${op}s/s ${c}`)];
  console.log(`\n| ${header.join(" | ")} |\n|${header.map(() => "---").join("|")}|`);
  for (const [name, rates] of table) {
    console.log(`| ${[name, ...rates.map((r) => String(Math.round(r)))].join(" | ")} |`);
  }
}

async function etcdThroughput(seconds: number): Promise<number[]> {
  const processes = new Processes();
  live.add(processes);
  try {
    const system = await startEtcd(processes, () => {}, false);
    try {
      return await throughput(system, seconds);
    } finally {
      system.close();
    }
  } finally {
    await processes.stopAll();
    live.delete(processes);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
