// pnpm --filter part6-availability kv:bench:snapshots: what snapshots buy the store as real
// processes (3 nodes on 127.0.0.1, DiskStorage with fdatasync, the nodes' default snapshot
// policy), measured against the bars of the part's README:
//
// 1. A load of N puts over 1,000 keys from 64 clients while one follower is stopped throughout;
//    then each data folder's size (bar: under 10 MB after 200,000 puts), and the stopped follower
//    started again: how long it takes to catch up, and whether by InstallSnapshot.
// 2. Restart to the first served read (every node stopped, started again, a new client's get
//    answered) after that load, beside the same for a cluster that holds 1,000 entries (bar:
//    within 1.2 times). The median of a few restarts each, taken in turns.
// 3. Puts per second at 64 clients, this part's store beside part 4's on fresh clusters, taken
//    in turns in the same run (bar: at least 0.9 times part 4's).

import type { ChildProcess } from "node:child_process";
import { openSync, readdirSync, readFileSync, statSync } from "node:fs";
import { Agent } from "node:http";
import { cpus, platform, release } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { defaultRaftConfig } from "part6-availability";
import { SeededRandom } from "part6-availability/random";
import { KvClient, type KvTransport } from "../src/kv/client.ts";
import type { KvRequest, KvResponse } from "../src/kv/commands.ts";
import { type ClusterMap, formatClusterMap } from "../src/real/addresses.ts";
import { HttpKvTransport, RealClient } from "../src/real/client.ts";
import { RealClock } from "../src/real/clock.ts";
import { SNAPSHOT_CHUNK_SIZE } from "../src/real/raft-http.ts";
import { LAUNCHER, prepareNodes, spawnNode } from "../src/real/spawn.ts";
import { agreedLeader, fetchStatus, freePorts, type Status, waitFor } from "../test/real/local.ts";
import { runLoad } from "./load.ts";
import { Processes, stopOnSignals } from "./processes.ts";

const PART4_LAUNCHER = path.resolve(import.meta.dirname, "../../../part4-kv/scripts/launch.mjs");
const KEYS = 1000;
const NODES = 3;

const usage = `usage: pnpm --filter part6-availability kv:bench:snapshots [options]

Measures what snapshots buy the store as real processes (3 nodes, fdatasync on, the nodes'
default snapshot policy): data folders and a stopped follower's catch-up after a load of puts,
restart to the first served read, and puts per second beside part 4's.

  --puts <n>        puts in the load, over ${KEYS} keys (default 200000; 1000000 for the full run)
  --clients <n>     concurrent clients (default 64)
  --seconds <s>     measured seconds of each throughput run (default 15)
  --restarts <n>    restarts measured for each cluster (default 5)
  --pairs <n>       pairs of throughput runs, part 4's and this part's (default 4)
  --no-part4        skip the throughput runs beside part 4
  --help, -h        this text`;

interface Options {
  puts: number;
  clients: number;
  seconds: number;
  restarts: number;
  pairs: number;
  part4: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      puts: { type: "string", default: "200000" },
      clients: { type: "string", default: "64" },
      seconds: { type: "string", default: "15" },
      restarts: { type: "string", default: "5" },
      pairs: { type: "string", default: "4" },
      "no-part4": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const numbers = [values.puts, values.clients, values.seconds, values.restarts, values.pairs];
  const [puts, clients, seconds, restarts, pairs] = numbers.map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  if (![puts, clients, seconds, restarts, pairs].every((n) => Number.isSafeInteger(n) && n > 0)) {
    console.error(
      `--puts, --clients, --seconds, --restarts and --pairs take whole numbers from 1\n\n${usage}`,
    );
    process.exit(2);
  }
  return { puts, clients, seconds, restarts, pairs, part4: !values["no-part4"] };
}

/** A local cluster of one part's nodes, each stopped and started again on its data at will. */
class LocalCluster {
  readonly name: string;
  readonly map: ClusterMap;
  readonly processes = new Processes();
  private readonly launcher: string;
  private readonly children = new Map<number, ChildProcess>();
  private readonly agent = new Agent({ keepAlive: false });
  private failure: string | undefined;

  private constructor(name: string, launcher: string, ports: number[]) {
    this.name = name;
    this.launcher = launcher;
    this.map = new Map(ports.map((port, id) => [id, { host: "127.0.0.1", port }]));
  }

  /** Starts every node of a new cluster, and waits for a leader. */
  static async create(name: string, launcher: string): Promise<LocalCluster> {
    const cluster = new LocalCluster(name, launcher, await freePorts(NODES));
    live.add(cluster);
    const first = launcher === LAUNCHER ? ["--initial-cluster-state", "new"] : [];
    for (const id of cluster.map.keys()) cluster.start(id, first);
    await cluster.leader();
    return cluster;
  }

  dataDir(id: number): string {
    return path.join(this.processes.dir, `n${id}`);
  }

  logFile(id: number): string {
    return path.join(this.processes.dir, `n${id}.log`);
  }

  /** Starts node `id` on its data folder (it answers a moment later). */
  start(id: number, flags: string[] = []): void {
    const log = openSync(this.logFile(id), "a");
    const args = ["--id", String(id), "--cluster", formatClusterMap(this.map), "--no-trace"];
    // The same seeds at every start: each start draws the same election timeouts, so that two
    // restarts differ in what the nodes load, not in how long their first election waits.
    args.push("--data", this.dataDir(id), "--seed", String(id + 1), ...flags);
    const child = spawnNode(args, log, this.launcher);
    this.children.set(id, child);
    this.processes.add(child, `${this.name} n${id} (see ${this.logFile(id)})`, (why) => {
      this.failure ??= why;
    });
  }

  async stop(id: number): Promise<void> {
    const child = this.children.get(id);
    this.children.delete(id);
    if (child !== undefined) await this.processes.stop(child);
  }

  async status(id: number): Promise<Status | undefined> {
    if (this.failure !== undefined) throw new Error(this.failure);
    return fetchStatus(this.agent, this.map.get(id)!);
  }

  /** The leader a majority follows, once there is one. */
  async leader(): Promise<number> {
    return waitFor(
      `a leader of ${this.name}'s cluster`,
      async () => {
        const all = await Promise.all([...this.children.keys()].map((id) => this.status(id)));
        return agreedLeader(
          all.filter((s) => s !== undefined),
          NODES,
        );
      },
      60_000,
      20,
    );
  }

  /** The bytes of the files in node `id`'s data folder. */
  folderBytes(id: number): number {
    const dir = this.dataDir(id);
    return readdirSync(dir).reduce((sum, file) => sum + statSync(path.join(dir, file)).size, 0);
  }

  async close(): Promise<void> {
    this.agent.destroy();
    await this.processes.stopAll();
    live.delete(this);
  }
}

const live = new Set<LocalCluster>();

/** Clients of part 4's store: KvClient on part 4's protocol (client and seq, no session). */
class Part4Transport implements KvTransport {
  private readonly inner: HttpKvTransport;
  constructor(inner: HttpKvTransport) {
    this.inner = inner;
  }

  send(to: number, request: KvRequest, timeoutMs: number): Promise<KvResponse> {
    // Part 4 opens no session: the first request of a client is its session.
    if (request.open === true) return Promise.resolve({ status: "opened", session: 1, index: 0 });
    const { session: _session, ...part4 } = request;
    return this.inner.send(to, part4 as KvRequest, timeoutMs);
  }
}

/** `count` clients of `cluster`: part 6's RealClient, or KvClient on part 4's protocol. */
function clientsOf(cluster: LocalCluster, count: number, tag: string) {
  const transports: HttpKvTransport[] = [];
  const clients = Array.from({ length: count }, (_, i) => {
    const id = `${tag}-${i}`;
    const options = { deadlineMs: 60_000 };
    if (cluster.name === "part6") {
      const client = new RealClient({ id, cluster: cluster.map, seed: i + 1, ...options });
      transports.push(client.transport);
      return client;
    }
    const http = new HttpKvTransport(cluster.map, { client: id });
    transports.push(http);
    const clock = new RealClock({ keepAlive: true });
    const nodes = [...cluster.map.keys()];
    return new KvClient(new Part4Transport(http), clock, new SeededRandom(i + 1), {
      id,
      nodes,
      ...options,
    });
  });
  return {
    clients,
    close: () => {
      for (const transport of transports) transport.close();
    },
  };
}

const valueAt = (i: number) => `value ${i} `.padEnd(48, "·");

/**
 * `total` puts over KEYS keys from `count` clients; prints progress every ten seconds, with the
 * data folders' sizes, the largest of which it keeps (`largest`, by node).
 */
async function load(cluster: LocalCluster, total: number, count: number, running: number[]) {
  const { clients, close } = clientsOf(cluster, count, "load");
  let next = 0;
  let done = 0;
  let failed = 0;
  const start = performance.now();
  const elapsed = () => (performance.now() - start) / 1000;
  const largest = new Map<number, number>();
  const measure = () => {
    const sizes = running.map((id) => cluster.folderBytes(id));
    for (const [i, id] of running.entries()) {
      largest.set(id, Math.max(largest.get(id) ?? 0, sizes[i]!));
    }
    return sizes;
  };
  const progress = setInterval(() => {
    const rate = Math.round(done / elapsed());
    const folders = measure()
      .map((size, i) => `n${running[i]} ${mb(size)}`)
      .join(", ");
    console.log(`  ${done} puts in ${elapsed().toFixed(0)} s (${rate} puts/s); folders ${folders}`);
  }, 10_000);
  try {
    await Promise.all(
      clients.map(async (client) => {
        while (next < total) {
          const i = next++;
          await client.put(`key-${i % KEYS}`, valueAt(i)).then(
            () => done++,
            () => failed++,
          );
        }
      }),
    );
  } finally {
    clearInterval(progress);
    close();
  }
  measure();
  return { seconds: elapsed(), done, failed, largest };
}

/**
 * Every node stopped, started again: the time until every node answers /status (it has read its
 * data folder and listens), and until a new client's get is answered.
 */
async function restartToRead(
  cluster: LocalCluster,
  round: number,
): Promise<{ listening: number; read: number }> {
  for (const id of cluster.map.keys()) await cluster.stop(id);
  const start = performance.now();
  for (const id of cluster.map.keys()) cluster.start(id);
  const ids = [...cluster.map.keys()];
  const listening = waitFor(
    "every node to answer /status",
    async () =>
      (await Promise.all(ids.map((id) => cluster.status(id)))).every(Boolean)
        ? performance.now()
        : undefined,
    60_000,
    10,
  );
  const reader = new RealClient({
    id: `reader-${round}`,
    cluster: cluster.map,
    deadlineMs: 60_000,
    backoffMaxMs: 20,
  });
  try {
    await reader.get("key-0");
  } finally {
    reader.close();
  }
  const read = (performance.now() - start) / 1000;
  return { listening: ((await listening) - start) / 1000, read };
}

type Restart = Awaited<ReturnType<typeof restartToRead>>;
/** The middle value; of an even number, the mean of the two middle ones. */
function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
const verdict = (ok: boolean) => (ok ? "met" : "NOT MET");

async function main(): Promise<void> {
  const opts = options();
  stopOnSignals(() => Promise.all([...live].map((c) => c.close())));
  const { snapshotAfterEntries: entries, snapshotAfterBytes: bytes } = defaultRaftConfig;
  console.log("raft-ts part6-availability: the store's snapshots as real processes");
  console.log(
    `  machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${platform()} ${release()}, Node ${process.version}`,
  );
  console.log(
    `  nodes:   3 on 127.0.0.1, pnpm kv:node defaults: a snapshot every ${entries} entries or ${bytes / 2 ** 20} MiB of commands, chunks of ${SNAPSHOT_CHUNK_SIZE / 1024} KiB, DiskStorage with fdatasync, no trace`,
  );
  prepareNodes();
  if (opts.part4) prepareNodes(PART4_LAUNCHER);
  const big = await compaction(opts);
  try {
    await restarts(big, opts);
  } finally {
    await big.close();
  }
  if (opts.part4) await throughput(opts);
}

/** Part 1: the load with a follower stopped throughout, the folders, the follower's catch-up. */
async function compaction(opts: Options): Promise<LocalCluster> {
  const cluster = await LocalCluster.create("part6", LAUNCHER);
  const leader = await cluster.leader();
  const stopped = [...cluster.map.keys()].find((id) => id !== leader)!;
  await cluster.stop(stopped);
  console.log(
    `\nload: ${opts.puts} puts over ${KEYS} keys from ${opts.clients} clients, n${stopped} stopped throughout`,
  );
  const running = [...cluster.map.keys()].filter((id) => id !== stopped);
  const result = await load(cluster, opts.puts, opts.clients, running);
  console.log(
    `  ${result.done} puts in ${result.seconds.toFixed(1)} s: ${Math.round(result.done / result.seconds)} puts/s, ${result.failed} failed`,
  );
  const sizes = [...cluster.map.keys()].map((id) => cluster.folderBytes(id));
  const largest = Math.max(...result.largest.values());
  console.log(
    `data folders at the end: ${sizes.map((s, id) => `n${id} ${mb(s)}${id === stopped ? " (stopped)" : ""}`).join(", ")}; ` +
      `the largest seen during the load (every 10 s): ${[...result.largest].map(([id, s]) => `n${id} ${mb(s)}`).join(", ")}` +
      ` — bar: under 10 MB after 200000 puts: ${verdict(largest < 10e6)}`,
  );
  const target = (await cluster.status(await cluster.leader()))!.commitIndex;
  const start = performance.now();
  cluster.start(stopped);
  const caught = await waitFor(
    `n${stopped} to catch up with [${target}]`,
    async () => {
      const s = await cluster.status(stopped);
      return s !== undefined && s.lastApplied >= target ? s : undefined;
    },
    300_000,
    50,
  );
  const seconds = (performance.now() - start) / 1000;
  const bySnapshot = /installs n\d's snapshot/.test(readFileSync(cluster.logFile(stopped), "utf8"));
  console.log(
    `n${stopped} started again: applied through [${caught.lastApplied}] (the leader's commit index was [${target}]) in ${seconds.toFixed(2)} s, ` +
      `${bySnapshot ? `by InstallSnapshot (its snapshot ends at [${caught.lastIncludedIndex}])` : "WITHOUT a snapshot"}; its folder ${mb(cluster.folderBytes(stopped))}`,
  );
  return cluster;
}

/** Part 2: restart to the first served read, after the load and with 1,000 entries, in turns. */
async function restarts(big: LocalCluster, opts: Options): Promise<void> {
  const small = await LocalCluster.create("part6", LAUNCHER);
  try {
    const { clients, close } = clientsOf(small, 10, "small");
    await Promise.all(
      clients.map(async (client, c) => {
        for (let i = c; i < 1000; i += clients.length) await client.put(`key-${i}`, valueAt(i));
      }),
    );
    close();
    const times = { big: [] as Restart[], small: [] as Restart[] };
    for (let round = 0; round < opts.restarts; round++) {
      times.big.push(await restartToRead(big, round));
      times.small.push(await restartToRead(small, round));
    }
    const [b, s] = [median(times.big.map((t) => t.read)), median(times.small.map((t) => t.read))];
    const show = (ts: Restart[]) =>
      `first read ${ts.map((t) => t.read.toFixed(2)).join(", ")} s (every node listening after ${ts.map((t) => t.listening.toFixed(2)).join(", ")} s)`;
    console.log(
      `\nrestart to the first served read (every node stopped and started again, a new client's get):\n` +
        `  after the load:  ${show(times.big)}; folders ${[0, 1, 2].map((id) => mb(big.folderBytes(id))).join(", ")}\n` +
        `  after 1000 puts: ${show(times.small)}\n` +
        `  medians ${b.toFixed(2)} s and ${s.toFixed(2)} s: ${(b / s).toFixed(2)}× — bar: at most 1.2×: ${verdict(b / s <= 1.2)}`,
    );
  } finally {
    await small.close();
  }
}

/**
 * Part 3: puts per second at `clients` clients, part 4's store and this one's, each pair of runs
 * one after the other (in the order ABBA...), so that a pair meets the same load from the rest of
 * the machine; the verdict is on the median of the pairs' ratios.
 */
async function throughput(opts: Options): Promise<void> {
  const ratios: number[] = [];
  const rates: Record<"part4" | "part6", number[]> = { part4: [], part6: [] };
  console.log(
    `\nputs/s at ${opts.clients} clients, ${opts.seconds} s each on a fresh cluster, ${opts.pairs} pairs of runs:`,
  );
  for (let pair = 0; pair < opts.pairs; pair++) {
    const order = pair % 2 === 0 ? (["part4", "part6"] as const) : (["part6", "part4"] as const);
    const rate: Partial<Record<"part4" | "part6", number>> = {};
    for (const name of order) rate[name] = await putsPerSecond(name, pair, opts);
    ratios.push(rate.part6! / rate.part4!);
    rates.part4.push(rate.part4!);
    rates.part6.push(rate.part6!);
  }
  const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
  const ratio = median(ratios);
  console.log(
    `  part6 / part4 by pair: ${ratios.map((r) => r.toFixed(2)).join(", ")}; median ${ratio.toFixed(2)}× (means ${mean(rates.part6)} and ${mean(rates.part4)} puts/s) — bar: at least 0.9×: ${verdict(ratio >= 0.9)}`,
  );
}

async function putsPerSecond(name: "part4" | "part6", pair: number, opts: Options) {
  const cluster = await LocalCluster.create(name, name === "part4" ? PART4_LAUNCHER : LAUNCHER);
  try {
    const { clients, close } = clientsOf(cluster, opts.clients, `tp${pair}`);
    const put = async (c: number, n: number) =>
      void (await clients[c]!.put(`key-${(c * 7919 + n) % KEYS}`, valueAt(n)));
    const result = await runLoad(opts.clients, put, opts.seconds, 2);
    close();
    console.log(
      `  ${name}: ${Math.round(result.opsPerSecond)} puts/s, p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, ${result.failed} failed`,
    );
    return result.opsPerSecond;
  } finally {
    await cluster.close();
  }
}

main().catch(async (error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  await Promise.all([...live].map((c) => c.close()));
  process.exitCode = 1;
});
