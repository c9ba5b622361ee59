// `pnpm --filter part6-availability bench`: replication throughput on the simulated cluster, on
// in-memory storage (committed entries per wall-clock second under a steady stream of submits
// from many concurrent callers, RPCs per committed entry, how fast virtual time runs, for 3 and 5
// nodes on a network with no latency and with 1-5 ms); then how fast a follower far behind
// catches up with and without the conflict hint (catchup.ts); then the on-disk storage (disk.ts);
// then what snapshots buy: catch-up by snapshot or by log, and restart time (snapshots.ts); then
// what part 6's options buy, in virtual time: availability under three faults, chaos, a rolling
// restart and a slow disk (availability.ts).
//
//   pnpm --filter part6-availability bench [--seconds <s>] [--callers <n>] [--batch <n>]
//
// Each caller is a closed loop: it submits a command to the leader, waits until the leader
// applies it, and submits the next. Every event still goes through the trace and the safety
// checks, as in the tests; the trace is not kept.

import { cpus } from "node:os";
import { parseArgs } from "node:util";
import type { AppliedEntry, NodeId } from "../src/raft.ts";
import { SimCluster } from "../src/sim/cluster.ts";
import { type LatencyModel, uniformLatency } from "../src/sim/network.ts";
import { availabilitySection } from "./availability.ts";
import { catchUpSection } from "./catchup.ts";
import { benchDisk } from "./disk.ts";
import { snapshotSection } from "./snapshots.ts";

const usage = `usage: pnpm --filter part6-availability bench [--seconds <s>] [--callers <n>] [--batch <n>]

Runs four configurations (3 and 5 nodes; no latency and 1-5 ms) for --seconds of wall time each
(default 3) with --callers concurrent closed-loop callers (default 64) and at most --batch entries
per AppendEntries (default 100), and prints entries committed per wall second, RPCs per entry and
simulated seconds per wall second; then the catch-up of a follower 9,900 entries behind, the
on-disk storage's appends per second, catch-up and restart with and without snapshots, and
part 6's availability tables (bench/availability.ts, seeds 1-5).`;

interface Options {
  seconds: number;
  callers: number;
  batch: number;
}

interface Result {
  entries: number;
  rpcs: number;
  wallSeconds: number;
  simSeconds: number;
  violations: number;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: "string", default: "3" },
      callers: { type: "string", default: "64" },
      batch: { type: "string", default: "100" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const positive = (flag: string, text: string): number => {
    const value = Number(text);
    if (value > 0) return value;
    console.error(`--${flag} needs a positive number, got "${text}"\n\n${usage}`);
    process.exit(2);
  };
  return {
    seconds: positive("seconds", values.seconds),
    callers: Math.round(positive("callers", values.callers)),
    batch: Math.round(positive("batch", values.batch)),
  };
}

const noLatency: LatencyModel = Object.assign(() => 0, { description: "none (0 ms)" });

/** Starts a cluster and runs it until it has a leader. */
async function clusterWithLeader(n: number, latency: LatencyModel, batch: number) {
  const cluster = new SimCluster(n, {
    seed: 1,
    raft: { maxEntriesPerAppend: batch },
    network: { latency },
  });
  // The cluster checks safety and conformance on every event itself; the trace is not kept.
  cluster.tracer.keep = false;
  let violations = 0;
  cluster.tracer.subscribe((e) => {
    if (e.kind === "violation") violations++;
  });
  cluster.startNodes();
  await cluster.clock.runFor(5000, () => cluster.leaders().length === 1);
  const leader = cluster.leaders()[0];
  if (leader === undefined) throw new Error(`no leader elected in ${n}-node cluster`);
  return { cluster, leader: leader.id, violations: () => violations };
}

/** `callers` closed loops of submit-then-wait-for-apply against `leader`. */
function startCallers(cluster: SimCluster, leader: NodeId, callers: number): () => number {
  const waiting = new Map<number, { term: number; caller: number }>();
  let applied = 0;
  let next = 0;
  const submit = (caller: number) => {
    const result = cluster.node(leader).submit({ caller, n: next++ });
    if (!result.isLeader) throw new Error(`n${leader} lost its leadership during the run`);
    waiting.set(result.index, { term: result.term, caller });
  };
  cluster.node(leader).onApply((entry: AppliedEntry) => {
    applied++;
    const w = waiting.get(entry.index);
    if (w === undefined) return;
    waiting.delete(entry.index);
    // Submit again from a fresh timer, not from inside the node's apply loop.
    cluster.clock.setTimer(0, () => submit(w.caller));
  });
  for (let caller = 0; caller < callers; caller++) submit(caller);
  return () => applied;
}

async function measure(n: number, latency: LatencyModel, options: Options): Promise<Result> {
  const { cluster, leader, violations } = await clusterWithLeader(n, latency, options.batch);
  const rpcsBefore = cluster.traffic().rpcs;
  const simBefore = cluster.clock.now();
  const applied = startCallers(cluster, leader, options.callers);
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  let steps = 0;
  await cluster.clock.runFor(1e12, () => {
    if (++steps % 4096 !== 0) return false;
    return performance.now() >= deadline;
  });
  const result = {
    entries: applied(),
    rpcs: cluster.traffic().rpcs - rpcsBefore,
    wallSeconds: (performance.now() - started) / 1000,
    simSeconds: (cluster.clock.now() - simBefore) / 1000,
    violations: violations(),
  };
  for (const id of cluster.ids) cluster.stopNode(id);
  return result;
}

function row(cells: (string | number)[]): string {
  const widths = [7, 12, 18, 14, 16, 12];
  return cells.map((c, i) => String(c).padStart(widths[i]!)).join("  ");
}

/** A progress line on stderr: rewritten in place on a terminal, one line each otherwise. */
function progress(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`);
  else if (text !== "") process.stderr.write(`${text}\n`);
}

async function main(): Promise<void> {
  const opts = options(process.argv.slice(2).filter((a) => a !== "--"));
  console.log(
    `Node ${process.version}, ${cpus()[0]?.model ?? "unknown CPU"} (${cpus().length} cores)`,
  );
  console.log(
    `${opts.callers} concurrent callers, at most ${opts.batch} entries per AppendEntries, ` +
      `${opts.seconds} s of wall time per configuration, seed 1, safety checks on\n`,
  );
  console.log(
    row(["nodes", "latency", "entries/wall s", "RPCs/entry", "sim s/wall s", "violations"]),
  );
  for (const n of [3, 5]) {
    for (const latency of [noLatency, uniformLatency(1, 5)]) {
      progress(`running ${n} nodes, latency ${latency.description} for ${opts.seconds} s…`);
      const r = await measure(n, latency, opts);
      progress("");
      console.log(
        row([
          n,
          latency.description === "none (0 ms)" ? "none" : "1-5 ms",
          Math.round(r.entries / r.wallSeconds),
          (r.rpcs / r.entries).toFixed(3),
          (r.simSeconds / r.wallSeconds).toFixed(2),
          r.violations,
        ]),
      );
      if (r.violations > 0) process.exitCode = 1;
    }
  }
  await catchUpSection();
  console.log("");
  await benchDisk({ seconds: Math.min(2, opts.seconds) });
  await snapshotSection();
  await availabilitySection();
}

await main();
