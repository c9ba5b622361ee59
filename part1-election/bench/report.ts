// Runs the Figure 16 trials for every timeout range, prints progress and the results table, and
// builds the HTML page with the plot.

import {
  CLUSTER_SIZE,
  type CrashTiming,
  heartbeatFor,
  rangeLabel,
  runTrial,
  TIMEOUT_RANGES,
  type TimeoutRange,
  type TrialOutcome,
} from "./figure16.ts";
import { type Page, type Panel, renderPage } from "./plot.ts";
import type { BenchOptions } from "./run.ts";
import { measureBroadcast } from "./setups.ts";
import { formatDowntime, formatMean, type Summary, summarize, textTable } from "./stats.ts";

interface RangeResult {
  range: TimeoutRange;
  outcomes: TrialOutcome[];
  summary: Summary;
}

const HEADER = [
  "timeouts",
  "heartbeat",
  "measured",
  "median",
  "mean",
  "p99",
  "max",
  "capped",
  "no leader to crash",
  "re-planned crash",
  "paper (§9.3)",
];

// How the paper ran it (§9.3 and the caption of Figure 16), restated for comparison; its figures
// for single ranges are in the table's last column. The README explains where ours differ.
const PAPER_FACTS = [
  "5 servers, broadcast time about 15 ms; 1000 trials per range (100 for 150–150)",
  "a synchronized heartbeat round, then the crash at a uniformly random point of the heartbeat " +
    "interval (half the minimum timeout), so the shortest downtime is about half the minimum timeout",
  "the servers had logs of different lengths, so some candidates could not win (part 1 has no log)",
  "12–24 ms is close enough to the broadcast time that leaders get deposed for no reason; the " +
    "paper recommends 150–300 ms",
];

function trialsFor(range: TimeoutRange, options: BenchOptions): number {
  return Math.max(1, Math.round(options.trials * range.trialShare));
}

async function runRange(range: TimeoutRange, options: BenchOptions): Promise<RangeResult> {
  const outcomes: TrialOutcome[] = [];
  for (let seed = 0; seed < trialsFor(range, options); seed++) {
    outcomes.push(await runTrial(range, seed, options.setup));
  }
  // A trial with no crash measured nothing; it is listed, not counted.
  const measured = outcomes.filter((o) => !o.setupFailed).map((o) => o.downtime);
  return { range, outcomes, summary: summarize(measured, options.setup.capMs) };
}

function tableRow(result: RangeResult, capMs: number): string[] {
  const { range, outcomes, summary: s } = result;
  return [
    rangeLabel(range),
    `${heartbeatFor(range)} ms`,
    String(s.trials),
    formatDowntime(s.median, capMs),
    formatMean(s),
    formatDowntime(s.p99, capMs),
    formatDowntime(s.max, capMs),
    String(s.capped),
    String(outcomes.filter((o) => o.setupFailed).length),
    String(outcomes.filter((o) => o.attempts > 1 && !o.setupFailed).length),
    range.paper ?? "",
  ];
}

export async function runFigure16(options: BenchOptions, started: number): Promise<string> {
  console.log("Figure 16: time from a leader crash until a new leader is elected");
  const setup = setupLines(options);
  for (const line of setup) console.log(`  ${line}`);
  const results: RangeResult[] = [];
  for (const range of TIMEOUT_RANGES) {
    const rangeStart = performance.now();
    const result = await runRange(range, options);
    results.push(result);
    const took = (performance.now() - rangeStart) / 1000;
    const elapsed = (performance.now() - started) / 1000;
    console.log(
      `  done ${rangeLabel(range).padEnd(11)} ${String(result.outcomes.length).padStart(5)} trials ` +
        `in ${took.toFixed(1)} s (elapsed ${elapsed.toFixed(1)} s)`,
    );
  }
  const rows = results.map((r) => tableRow(r, options.setup.capMs));
  console.log("");
  console.log("Time without a leader, ms (capped trials count as longer than every other)");
  console.log(textTable(HEADER, rows));
  console.log("");
  printViolations(results);
  console.log("How the paper ran it (§9.3, Figure 16):");
  for (const fact of PAPER_FACTS) console.log(`  ${fact}`);
  console.log("");
  return pageFor(results, rows, options, setup);
}

/** What this run did, as printed above its results and kept on the page with the plot. */
function setupLines(options: BenchOptions): string[] {
  const { network, crash, capMs } = options.setup;
  const peers = CLUSTER_SIZE - 1;
  const { roundTrip, broadcast } = measureBroadcast(network, peers);
  const first150 = trialsFor(TIMEOUT_RANGES[0]!, options);
  return [
    `network setup "${options.networkName}": ${network.summary}`,
    `  a RequestVote's round trip averages ${roundTrip.toFixed(1)} ms; the broadcast time (until ` +
      `all ${peers} peers have answered) ${broadcast.toFixed(1)} ms`,
    `trial i uses seed i: seeds 0–${options.trials - 1} for every range (150–150: the first ` +
      `${first150}); cap ${capMs / 1000} s virtual per election`,
    "per trial: the nodes start one by one, elect a leader and settle; just after the leader " +
      `sends a round of heartbeats it crashes (stopNode) ${CRASH_NOTES[crash]}`,
    "downtime: from the crash until the first survivor becomes leader; heartbeat interval: half " +
      "the minimum timeout, rounded down to whole ms",
    "if a timeout deposes the leader before its planned crash, the crash is re-planned after a " +
      "later round",
  ];
}

const CRASH_NOTES: Record<CrashTiming, string> = {
  random:
    "after a delay drawn uniformly from the whole ms in [0, heartbeat interval), as in the paper",
  early: "at once (--crash early; the paper crashes at a random point of the interval)",
  late: "1 ms before its next round (--crash late; the paper crashes at a random point)",
};

function printViolations(results: readonly RangeResult[]): void {
  const found = results.flatMap((r) =>
    r.outcomes.flatMap((o) =>
      o.violation === null ? [] : [`${rangeLabel(r.range)} seed ${o.seed}: ${o.violation}`],
    ),
  );
  if (found.length === 0) {
    console.log("Safety checks (Election Safety, one vote per term, terms grow): no violation");
    return;
  }
  console.log(`SAFETY VIOLATIONS: ${found.length}`);
  for (const line of found.slice(0, 20)) console.log(`  ${line}`);
}

function pageFor(
  results: readonly RangeResult[],
  rows: readonly (readonly string[])[],
  options: BenchOptions,
  setup: readonly string[],
): string {
  const panel = (title: string, which: "top" | "bottom"): Panel => ({
    title,
    series: results
      .filter((r) => r.range.panels.includes(which))
      .map((r) => ({
        label: rangeLabel(r.range),
        summary: r.summary,
        colour: results.indexOf(r),
      })),
  });
  const page: Page = {
    title: "Raft part 1: time without a leader after a leader crash (cf. Raft paper, Figure 16)",
    capMs: options.setup.capMs,
    panels: [
      panel("Varying the randomness of the election timeout (minimum 150 ms)", "top"),
      panel("Varying the election timeout itself", "bottom"),
    ],
    notes: [...setup, ...PAPER_FACTS.map((f) => `Paper: ${f}`)],
    table: { header: HEADER, rows },
  };
  return renderPage(page);
}
