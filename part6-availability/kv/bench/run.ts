// pnpm --filter part6-availability kv:bench: the store's speed as real processes, beside etcd's on
// the same machine, and the simulation's speed. See usage below, and the part's README for a table.

import { cpus, platform, release, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { etcdVersion, startEtcd } from "./etcd.ts";
import { type LoadResult, runLoad } from "./load.ts";
import { startOurs } from "./ours.ts";
import { Processes, stopOnSignals } from "./processes.ts";
import { simulated } from "./sim.ts";
import type { System } from "./system.ts";

const usage = `usage: pnpm --filter part6-availability kv:bench [--quick] [--seconds <s>] [--clients <list>] [--no-etcd] [--follower-reads]

Starts a local 3-node cluster of real processes (DiskStorage, fdatasync on), and runs closed-loop
puts, then gets, with each number of concurrent clients over HTTP keep-alive: operations per
second, p50 and p99 latency, disk syncs per committed entry. Then the same against a 3-member etcd
cluster, if \`etcd\` is on the PATH (Debian: apt-get install etcd-server). First, the simulated
cluster's operations per wall second.

  --seconds <s>      measured seconds per load (default 5; 1 with --quick), after a warm-up
  --clients <list>   numbers of concurrent clients (default 1,16,64)
  --quick            a short run: 1 s per load, 1 and 16 clients
  --no-etcd          skip etcd even if it is installed
  --follower-reads   gets spread over the 3 nodes (client n reads from node n mod 3): our nodes
                     serve reads on followers (kv:node --follower-reads), and etcd's members
                     each serve linearizable reads (etcd does so on any member, by ReadIndex)
  --help, -h         this text`;

interface Options {
  seconds: number;
  clients: number[];
  etcd: boolean;
  quick: boolean;
  followerReads: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string" },
      clients: { type: "string" },
      quick: { type: "boolean", default: false },
      "no-etcd": { type: "boolean", default: false },
      "follower-reads": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const quick = values.quick;
  const seconds = Number(values.seconds ?? (quick ? 1 : 5));
  const clients = (values.clients ?? (quick ? "1,16" : "1,16,64")).split(",").map(Number);
  if (!(seconds > 0) || !clients.every((n) => Number.isSafeInteger(n) && n > 0)) {
    console.error(`--seconds needs a positive number and --clients whole numbers\n\n${usage}`);
    process.exit(2);
  }
  return {
    seconds,
    clients,
    etcd: !values["no-etcd"],
    quick,
    followerReads: values["follower-reads"],
  };
}

interface Row extends LoadResult {
  system: string;
  op: "put" | "get";
  syncsPerEntry: number;
}

const live = new Set<Processes>();

async function main(): Promise<void> {
  const opts = options();
  stopOnSignals(() => Promise.all([...live].map((p) => p.stopAll())));
  const etcd = opts.etcd ? etcdVersion() : undefined;
  printMachine(etcd, opts);
  await printSimulated(opts.quick);
  const rows = await measure("raft-ts", startOurs, opts);
  if (etcd !== undefined) rows.push(...(await measure(etcd, startEtcd, opts)));
  else if (opts.etcd)
    console.log("\netcd is not installed (apt-get install etcd-server): no reference.");
  printTable(rows, etcd);
}

function printMachine(etcd: string | undefined, opts: Options): void {
  const cpu = cpus();
  console.log("raft-ts part6-availability key/value benchmark");
  console.log(
    `  machine: ${cpu.length} × ${cpu[0]?.model ?? "?"}, ${Math.round(totalmem() / 2 ** 30)} GiB`,
  );
  console.log(`  system:  ${platform()} ${release()}, Node ${process.version}`);
  console.log(
    `  load:    closed loop, ${opts.seconds} s per row after a warm-up, 3 nodes on 127.0.0.1`,
  );
  console.log(
    `  ours:    pnpm kv:node defaults (heartbeat 100 ms), DiskStorage with fdatasync, no trace`,
  );
  console.log(
    opts.followerReads
      ? "  gets:    spread, client n at node n mod 3 (ours: --follower-reads; etcd: any member)"
      : "  gets:    at the leader, as every put",
  );
  console.log(
    `  etcd:    ${etcd ?? "not run"}${etcd ? ", defaults (WAL fsync on), JSON gateway" : ""}`,
  );
}

async function printSimulated(quick: boolean): Promise<void> {
  const result = await simulated(16, quick ? 2 : 10);
  const perWall = Math.round(result.ops / result.wallSeconds);
  const perVirtual = Math.round(result.ops / result.virtualSeconds);
  console.log(
    `\nsimulated 3-node cluster, 16 clients, ${result.virtualSeconds} s of virtual time: ` +
      `${result.ops} puts in ${result.wallSeconds.toFixed(1)} s of wall time, ` +
      `${perWall} ops per wall second (${perVirtual} per virtual second), checks on`,
  );
}

/** Starts a system; with `spread`, client n sends its gets to node n mod 3. */
type Starter = (
  processes: Processes,
  fail: (why: string) => void,
  spread: boolean,
) => Promise<System>;

async function measure(name: string, start: Starter, opts: Options): Promise<Row[]> {
  const processes = new Processes();
  live.add(processes);
  let failure: string | undefined;
  const rows: Row[] = [];
  console.log(`\n${name}: starting 3 processes in ${processes.dir}`);
  try {
    const fail = (why: string) => {
      failure ??= why;
    };
    const system = await start(processes, fail, opts.followerReads);
    try {
      for (const clients of opts.clients) {
        for (const op of ["put", "get"] as const) {
          rows.push(await measureOne(system, op, clients, opts));
          if (failure !== undefined) throw new Error(failure);
        }
      }
    } finally {
      system.close();
    }
  } finally {
    await processes.stopAll();
    live.delete(processes);
  }
  return rows;
}

async function measureOne(
  system: System,
  op: "put" | "get",
  clients: number,
  opts: Options,
): Promise<Row> {
  const key = (client: number, n: number) => `key-${client}-${n % 100}`;
  const value = "v".repeat(64);
  const run =
    op === "put"
      ? (c: number, n: number) => system.put(c, key(c, n), value)
      : (c: number, n: number) => system.get(c, key(c, n));
  const before = await system.counters();
  const result = await runLoad(clients, run, opts.seconds, opts.quick ? 0.5 : 1);
  const after = await system.counters();
  const entries = after.committed - before.committed;
  const syncsPerEntry = entries > 0 ? (after.syncs - before.syncs) / entries : Number.NaN;
  const row = { ...result, system: system.name, op, syncsPerEntry };
  console.log(`  ${op} ${String(clients).padStart(3)} clients: ${describe(row)}`);
  return row;
}

function describe(row: Row): string {
  const failed = row.failed > 0 ? `, ${row.failed} failed` : "";
  return (
    `${Math.round(row.opsPerSecond)} ops/s, p50 ${row.p50Ms.toFixed(1)} ms, ` +
    `p99 ${row.p99Ms.toFixed(1)} ms, ${perEntry(row)} syncs per committed entry` +
    failed
  );
}

/** Syncs per committed entry; "–" where the load committed no entry (etcd's reads). */
function perEntry(row: Row): string {
  return Number.isNaN(row.syncsPerEntry) ? "–" : row.syncsPerEntry.toFixed(2);
}

/** One markdown table, ours and etcd's side by side, as the README keeps it. */
function printTable(rows: readonly Row[], etcd: string | undefined): void {
  const ours = rows.filter((r) => r.system === "raft-ts");
  const theirs = (r: Row) =>
    rows.find((o) => o !== r && o.op === r.op && o.clients === r.clients && o.system !== "raft-ts");
  const cells = (r: Row | undefined) =>
    r === undefined
      ? ["", "", "", ""]
      : [Math.round(r.opsPerSecond), r.p50Ms.toFixed(1), r.p99Ms.toFixed(1), perEntry(r)].map(
          String,
        );
  const head = ["op", "clients", "ops/s", "p50 ms", "p99 ms", "syncs/entry"];
  const header = etcd === undefined ? head : [...head, ...head.slice(2).map((h) => `etcd ${h}`)];
  console.log(`\n| ${header.join(" | ")} |\n|${header.map(() => "---").join("|")}|`);
  for (const r of ours) {
    const line = [
      r.op,
      String(r.clients),
      ...cells(r),
      ...(etcd === undefined ? [] : cells(theirs(r))),
    ];
    console.log(`| ${line.join(" | ")} |`);
  }
  console.log(
    "\nsyncs/entry: disk syncs of all 3 members together per committed log entry " +
      "(etcd: WAL fsyncs and backend commits). Both serve gets with ReadIndex (§6.4), no log entry.",
  );
}

// An error ends the run here, after `measure` has stopped its clusters and removed their folder.
main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
