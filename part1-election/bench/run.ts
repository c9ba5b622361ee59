// `pnpm --filter part1-election bench`: how fast the simulation runs, and the Figure 16
// experiment of the Raft paper (§9.3) on the simulated cluster. Everything is seeded, so two runs
// print the same numbers apart from the wall-clock timings.

import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { defaultRaftConfig } from "../src/raft.ts";
import { defaultNetworkConfig } from "../src/sim/network.ts";
import { chaosSection } from "./chaos.ts";
import { CLUSTER_SIZE, CRASH_TIMINGS, type CrashTiming, type TrialSetup } from "./figure16.ts";
import { runFigure16 } from "./report.ts";
import {
  DEFAULT_NETWORK,
  NETWORK_SETUPS,
  type NetworkSetup,
  PAPER_ONE_WAY_MS,
  paperSetup,
} from "./setups.ts";
import {
  CHURN_EVERY_MS,
  measureChurn,
  measureIdle,
  THROUGHPUT_SEED,
  type Throughput,
} from "./throughput.ts";

const partDir = path.resolve(import.meta.dirname, "..");
const htmlPath = path.join(partDir, "out", "figure16.html");

const HELP = `Usage: pnpm --filter part1-election bench [-- options]

Measures the part 1 simulation: simulated seconds per wall second for a 5-node cluster (idle,
and with the leader taken off the network every ${CHURN_EVERY_MS / 1000} s) and for the chaos
scenario (seeds 1..10 on 3, 4 and 5 nodes, as the chaos sweep runs it), then repeats the
experiment of Figure 16 of the Raft paper (leader crash, time until a new leader, for ten
election timeout ranges) and writes the plot to part1-election/out/figure16.html.

Options:
  --quick            100 trials per range (10 for 150-150) and 60 s runs: a fast look
  --trials N         trials per timeout range (default 1000; 150-150 gets a tenth)
  --cap-s S          give up on an election after S virtual seconds (default 10)
  --network NAME     how messages and servers take time in Figure 16 (default ${DEFAULT_NETWORK}):
${Object.entries(NETWORK_SETUPS)
  .map(([name, setup]) => `                       ${name}: ${setup.summary}`)
  .join("\n")}
  --one-way MS       with --network paper: the fixed one-way delay (default ${PAPER_ONE_WAY_MS}), to see how the
                     results depend on this calibrated number
  --crash WHEN       when in its heartbeat interval the leader crashes: ${CRASH_TIMINGS.join(", ")}
                     (default random, as in the paper)
  --help             this text
`;

export interface BenchOptions {
  trials: number;
  throughputMs: number;
  networkName: string;
  setup: TrialSetup;
}

function parseOptions(argv: string[]): BenchOptions | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      trials: { type: "string" },
      "cap-s": { type: "string", default: "10" },
      network: { type: "string", default: DEFAULT_NETWORK },
      "one-way": { type: "string" },
      crash: { type: "string", default: "random" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return null;
  const network = networkSetup(values.network, values["one-way"]);
  if (!isCrashTiming(values.crash)) throw new Error(`unknown --crash ${values.crash}\n\n${HELP}`);
  return {
    trials: positiveInt(values.trials ?? (values.quick ? "100" : "1000"), "--trials"),
    throughputMs: values.quick ? 60_000 : 300_000,
    networkName: values.network,
    setup: {
      capMs: positiveInt(values["cap-s"], "--cap-s") * 1000,
      network,
      crash: values.crash,
    },
  };
}

function networkSetup(name: string, oneWay: string | undefined): NetworkSetup {
  const setup = NETWORK_SETUPS[name];
  if (setup === undefined) throw new Error(`unknown --network ${name}\n\n${HELP}`);
  if (oneWay === undefined) return setup;
  if (name !== "paper") throw new Error("--one-way applies to --network paper only");
  return paperSetup(positiveInt(oneWay, "--one-way"));
}

function isCrashTiming(text: string): text is CrashTiming {
  return (CRASH_TIMINGS as readonly string[]).includes(text);
}

function positiveInt(text: string, name: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
}

function printConfiguration(): void {
  const cpus = os.cpus();
  const raftSource = readFileSync(path.join(partDir, "src", "raft.ts"));
  const raftHash = createHash("sha256").update(raftSource).digest("hex").slice(0, 12);
  console.log("Configuration");
  console.log(`  node ${process.version}, ${os.platform()} ${os.arch()}`);
  console.log(`  CPU: ${cpus[0]?.model ?? "unknown"} (${cpus.length} logical cores)`);
  console.log(`  consensus code measured: src/raft.ts sha256 ${raftHash}`);
  console.log(`  cluster: ${CLUSTER_SIZE} nodes, virtual time in whole ms`);
  console.log("");
}

function printThroughput(name: string, t: Throughput): void {
  const rate = t.simSeconds / t.wallSeconds;
  console.log(
    `  ${name.padEnd(6)} ${t.simSeconds.toFixed(0)} s simulated in ${t.wallSeconds.toFixed(2)} s wall: ` +
      `${rate.toFixed(0)} simulated s per wall s, ${(t.steps / t.wallSeconds / 1000).toFixed(0)}k timers/s; ` +
      `${t.elections} election(s) won${t.isolations > 0 ? `, ${t.isolations} leaders isolated` : ""}` +
      `${t.violations > 0 ? `, ${t.violations} SAFETY VIOLATIONS` : ""}`,
  );
}

async function throughputSection(options: BenchOptions): Promise<void> {
  const latency = defaultNetworkConfig.latency.description ?? "default";
  const { electionTimeoutMinMs: min, electionTimeoutMaxMs: max } = defaultRaftConfig;
  console.log("Simulation speed");
  console.log(
    `  defaults: timeouts ${min}–${max} ms, heartbeat ${defaultRaftConfig.heartbeatIntervalMs} ms, ` +
      `latency ${latency}, no loss; seed ${THROUGHPUT_SEED}; safety checks on every event`,
  );
  printThroughput("idle", await measureIdle(options.throughputMs));
  console.log(
    `  churn: every ${CHURN_EVERY_MS / 1000} s the current leader is isolated (network.isolate) and ` +
      "the one isolated before is reconnected, so 4 of 5 nodes always form a quorum " +
      "(part 1 has no restart, so isolation stands in for a crash)",
  );
  printThroughput("churn", await measureChurn(options.throughputMs));
  console.log("");
}

async function main(): Promise<void> {
  const started = performance.now();
  const options = parseOptions(process.argv.slice(2).filter((a) => a !== "--"));
  if (options === null) {
    process.stdout.write(HELP);
    return;
  }
  printConfiguration();
  await throughputSection(options);
  await chaosSection(10);
  console.log("");
  const page = await runFigure16(options, started);
  mkdirSync(path.dirname(htmlPath), { recursive: true });
  writeFileSync(htmlPath, page);
  console.log(`Plot: ${pathToFileURL(htmlPath).href}`);
  console.log(`Total wall time: ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

await main();
