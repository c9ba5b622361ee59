// How fast the chaos scenario runs (src/sim/chaos.ts): what the chaos sweep (`test:chaos`) does
// for each seed and size, here in this one thread, with every check on and the trace not kept.
// Per cluster size: events traced per run, simulated seconds per wall second, and wall and CPU
// time per run. The sweep's worker threads each run at about this speed.

import { chaosNetwork, runChaos } from "../src/sim/chaos.ts";
import { SimCluster } from "../src/sim/cluster.ts";

interface Tally {
  runs: number;
  events: number;
  simMs: number;
  wallMs: number;
  cpuMs: number;
}

/** Runs the scenario under `seeds` seeds (from 1) on 3, 4 and 5 nodes, and prints a table. */
export async function chaosSection(seeds: number): Promise<void> {
  console.log(
    `Chaos scenario (src/sim/chaos.ts): seeds 1..${seeds} on 3, 4 and 5 nodes, one thread, every check on, trace not kept`,
  );
  console.log(row(["nodes", "runs", "events/run", "sim s/wall s", "wall ms/run", "CPU ms/run"]));
  const all: Tally = { runs: 0, events: 0, simMs: 0, wallMs: 0, cpuMs: 0 };
  for (const size of [3, 4, 5]) {
    const t: Tally = { runs: 0, events: 0, simMs: 0, wallMs: 0, cpuMs: 0 };
    for (let seed = 1; seed <= seeds; seed++) await measure(seed, size, t);
    print(String(size), t);
    for (const key of Object.keys(all) as (keyof Tally)[]) all[key] += t[key];
  }
  print("all", all);
}

async function measure(seed: number, size: number, t: Tally): Promise<void> {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const cluster = new SimCluster(size, { seed, network: chaosNetwork });
  cluster.tracer.keep = false;
  cluster.tracer.subscribe(() => t.events++);
  cluster.startNodes();
  await runChaos(cluster, cluster.randomStream());
  await cluster.shutdown();
  const used = process.cpuUsage(cpu);
  t.cpuMs += (used.user + used.system) / 1000;
  t.wallMs += performance.now() - wall;
  t.simMs += cluster.clock.now();
  t.runs++;
}

function print(nodes: string, t: Tally): void {
  console.log(
    row([
      nodes,
      t.runs,
      Math.round(t.events / t.runs),
      Math.round(t.simMs / t.wallMs),
      (t.wallMs / t.runs).toFixed(1),
      (t.cpuMs / t.runs).toFixed(1),
    ]),
  );
}

function row(cells: (string | number)[]): string {
  const widths = [7, 6, 12, 14, 13, 12];
  return cells.map((c, i) => String(c).padStart(widths[i]!)).join("  ");
}
