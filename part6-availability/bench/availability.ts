// What part 6's options buy, measured on the simulated cluster in virtual time (so the numbers
// do not depend on the machine): the named availability scenarios with each option on and off,
// the chaos scenario with part 6's defaults and with every option off (part 5's behaviour),
// a leader's restart with and without a leadership transfer first, and the commit latency of the
// leader's parallel write on a slow disk. Every event goes through the safety checks.
//
//   pnpm --filter part6-availability exec tsx bench/availability.ts [--seeds <n>]
//
// It is also the last section of `pnpm --filter part6-availability bench`.

import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { RaftConfig } from "../src/raft.ts";
import { chaosDiskWriteMs, chaosNetwork, runChaos } from "../src/sim/chaos.ts";
import { SimCluster, type SimOptions } from "../src/sim/cluster.ts";
import { scenarioConfig, scenarios } from "../test/availability-scenarios.ts";

const usage = `usage: pnpm --filter part6-availability exec tsx bench/availability.ts [--seeds <n>]

Runs each availability scenario, the chaos scenario, a leader's restart and a slow-disk commit
under seeds 1..--seeds (default 5), with part 6's options on and off, and prints the liveness
measured from the trace (src/sim/liveness.ts): the share of time a client's operation could
complete, the longest gap, and the time to a stable leader.`;

/** A started cluster whose trace feeds the checks but is not kept. */
function started(n: number, options: Omit<SimOptions, "seed">, seed: number): SimCluster {
  const cluster = new SimCluster(n, { ...options, seed });
  cluster.tracer.keep = false;
  cluster.startNodes();
  return cluster;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const percent = (x: number) => `${(x * 100).toFixed(1)}%`;
const ms = (x: number | null) => (x === null ? "never" : `${Math.round(x)} ms`);

/** Each scenario with part 6's defaults, each of its options off alone, and all of them off. */
async function scenarioTable(seeds: number[]): Promise<void> {
  console.log(
    `\nAvailability scenarios, 3 nodes, latency 1-5 ms, seeds ${seeds[0]}-${seeds.at(-1)}: 5 s measured from the fault`,
  );
  console.log(
    `  ${"scenario".padEnd(38)}${"options off".padEnd(26)}${"available".padStart(10)}${"longest gap".padStart(13)}${"elections".padStart(11)}${"stable after".padStart(14)}`,
  );
  const variants: (keyof RaftConfig)[][] = [
    [],
    ["preVote"],
    ["checkQuorum"],
    ["preVote", "checkQuorum"],
  ];
  for (const scenario of scenarios) {
    for (const off of variants) {
      const runs = [];
      for (const seed of seeds) {
        const cluster = started(scenario.nodes, { raft: scenarioConfig(off) }, seed);
        runs.push(await scenario.run(cluster));
        await cluster.shutdown();
      }
      const never = runs.filter((r) => r.recoveryMs === null).length;
      const recovered = runs.flatMap((r) => (r.recoveryMs === null ? [] : [r.recoveryMs]));
      console.log(
        `  ${scenario.name.padEnd(38)}${(off.join(", ") || "none").padEnd(26)}${percent(mean(runs.map((r) => r.liveness.available))).padStart(10)}${ms(Math.max(...runs.map((r) => r.liveness.longestGapMs))).padStart(13)}${mean(
          runs.map((r) => r.elections),
        )
          .toFixed(1)
          .padStart(
            11,
          )}${(never === runs.length ? "never" : `${ms(mean(recovered))}${never > 0 ? ` (${never} never)` : ""}`).padStart(14)}`,
      );
    }
  }
}

/** The chaos scenario, part 6's defaults against PreVote, CheckQuorum and the parallel write off. */
async function chaosTable(seeds: number[]): Promise<void> {
  console.log(
    `\nChaos (20 s of faults, then heal; a 3 ms disk; reads and transfers on in both), seeds ${seeds[0]}-${seeds.at(-1)}: mean share of the faults' stretch available, mean time to a stable leader after the final heal`,
  );
  const part5: Partial<RaftConfig> = {
    preVote: false,
    checkQuorum: false,
    parallelLeaderWrite: false,
  };
  for (const n of [3, 5]) {
    for (const [name, raft] of [
      ["part 6 defaults", {}],
      ["PreVote, CheckQuorum, parallel write off", part5],
    ] as const) {
      const available: number[] = [];
      const healed: number[] = [];
      for (const seed of seeds) {
        const options = { network: chaosNetwork, raft, diskWriteMs: chaosDiskWriteMs };
        const cluster = started(n, options, seed);
        const { liveness } = await runChaos(cluster, cluster.randomStream());
        await cluster.shutdown();
        available.push(liveness.duringFaults.available);
        if (liveness.afterHealMs !== null) healed.push(liveness.afterHealMs);
      }
      console.log(
        `  ${n} nodes, ${name.padEnd(40)} available ${percent(mean(available)).padStart(6)}, stable ${ms(mean(healed))} after the heal`,
      );
    }
  }
}

/**
 * Each node of a 3-node cluster restarted in turn, the leader as it is at the time, while a
 * client submits every 10 ms to whoever leads: with a leadership transfer first (§3.10) or
 * without. Measured: the longest stretch without a committed command.
 */
async function rollingRestart(seeds: number[]): Promise<void> {
  console.log(
    `\nRolling restart of 3 nodes under a client submitting every 10 ms, seeds ${seeds[0]}-${seeds.at(-1)}: the longest gap between commits`,
  );
  for (const transfer of [true, false]) {
    const gaps: number[] = [];
    for (const seed of seeds) {
      const cluster = started(3, { raft: { noopOnElection: true } }, seed);
      gaps.push(await restartEach(cluster, transfer));
      await cluster.shutdown();
    }
    const how = transfer ? "the leader transfers first" : "the leader just stops";
    console.log(
      `  ${how.padEnd(28)} longest gap ${ms(Math.max(...gaps))}, mean of the runs' longest ${ms(mean(gaps))}`,
    );
  }
}

async function restartEach(cluster: SimCluster, transfer: boolean): Promise<number> {
  await cluster.checkSettled();
  let last = cluster.clock.now();
  let longest = 0;
  cluster.tracer.subscribe((e) => {
    if (e.kind !== "commit" || e.role !== "leader") return;
    longest = Math.max(longest, e.t - last);
    last = e.t;
  });
  const client = setInterval(cluster, 10, (n) => {
    for (const { id } of cluster.leaders()) cluster.submitToServer(id, `op${n}`);
  });
  for (let round = 0; round < 3; round++) {
    const { leader } = await cluster.checkSettled(5000);
    if (transfer) {
      cluster.node(leader).transferLeadership();
      await cluster.runUntil(
        cluster.clock.now() + 500,
        () => cluster.state(leader).role !== "leader",
      );
    }
    cluster.crash(leader);
    await cluster.advance(200);
    cluster.restart(leader);
    await cluster.advance(500);
  }
  client.stop();
  return longest;
}

/** Calls `tick` every `everyMs` of the cluster's virtual time until stopped. */
function setInterval(cluster: SimCluster, everyMs: number, tick: (n: number) => void) {
  let stopped = false;
  let n = 0;
  const next = () =>
    cluster.clock.setTimer(everyMs, () => {
      if (stopped) return;
      tick(n++);
      next();
    });
  next();
  return {
    stop: () => {
      stopped = true;
    },
  };
}

/** One client, one command at a time, on a disk that takes `diskMs` per leader write. */
async function parallelWrite(seeds: number[]): Promise<void> {
  console.log(
    `\nThe leader's parallel write (§10.2.1): one client, one command at a time, 3 nodes, latency 1-5 ms, seeds ${seeds[0]}-${seeds.at(-1)}`,
  );
  for (const diskMs of [2, 10]) {
    for (const parallel of [true, false]) {
      const latencies: number[] = [];
      for (const seed of seeds) {
        const raft = { parallelLeaderWrite: parallel };
        const cluster = started(3, { raft, diskWriteMs: diskMs }, seed);
        latencies.push(...(await oneAtATime(cluster, 100)));
        await cluster.shutdown();
      }
      console.log(
        `  a leader write of ${String(diskMs).padStart(2)} ms, ${(parallel ? "in parallel" : "before sending").padEnd(15)} mean commit latency ${mean(latencies).toFixed(1)} ms`,
      );
    }
  }
}

async function oneAtATime(cluster: SimCluster, count: number): Promise<number[]> {
  const { leader } = await cluster.checkSettled();
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const at = cluster.clock.now();
    const result = cluster.submitToServer(leader, `c${i}`);
    if (!result.isLeader) break;
    await cluster.runUntil(at + 1000, () => cluster.state(leader).commitIndex >= result.index);
    latencies.push(cluster.clock.now() - at);
  }
  return latencies;
}

/** The whole section: every table. */
export async function availabilitySection(seedCount = 5): Promise<void> {
  const seeds = Array.from({ length: seedCount }, (_, i) => i + 1);
  await scenarioTable(seeds);
  await chaosTable(seeds);
  await rollingRestart(seeds);
  await parallelWrite(seeds);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseArgs({
    options: { seeds: { type: "string", default: "5" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const seeds = Number(values.seeds);
  if (!Number.isSafeInteger(seeds) || seeds < 1) {
    console.error(
      `bench/availability.ts: --seeds must be a whole number of at least 1, got "${values.seeds}"\nTry '--help'.`,
    );
    process.exit(2);
  }
  await availabilitySection(seeds);
}
