// `pnpm bench`: per corpus file, the median (and the fastest) of `runs` checks, parsing excluded,
// after two passes over the whole corpus to let the JIT compile. Beside it, Porcupine's median for
// the same file as the README's table records it (measured on the same machine; Porcupine itself
// is not part of this repository). The median, because Porcupine's time on a history with
// partitions varies with which of its goroutines finishes first; the fastest run is shown too.

import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { check } from "../src/check.ts";
import { isUsageError, quietOnBrokenPipe, usageMessage, wholeNumber } from "../src/command.ts";
import { readHistory } from "../src/parse/index.ts";
import { simulate } from "../src/simulate.ts";
import { corpusEntries } from "../test/corpus.ts";

const USAGE = `usage: pnpm --filter lincheck bench [--runs <n>] [--only <text>]

Times the checker on every corpus file (parsing excluded) and on a generated history of 10,000
kv operations, beside Porcupine's times as the README records them.

  --runs <n>     checks per file; the median and the fastest are shown (default 21)
  --only <text>  only the corpus files whose name contains <text> (and no generated history)
  -h, --help     show this help`;

/** The command line, or the exit: --help, or a usage error (status 2). */
function args(): { runs: number; only: string } {
  try {
    const { values } = parseArgs({
      options: {
        runs: { type: "string", default: "21" },
        only: { type: "string", default: "" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
    return { runs: wholeNumber(values.runs, "--runs", 1), only: values.only };
  } catch (e) {
    if (!isUsageError(e)) throw e;
    console.error(usageMessage("lincheck bench", "pnpm --filter lincheck bench", e));
    process.exit(2);
  }
}

quietOnBrokenPipe();
const values = args();
const RUNS = values.runs;

const README = join(import.meta.dirname, "../README.md");

/** Porcupine's median per file, from the README's table ("| file | ... | Porcupine | ..."). */
function porcupineTimes(): Map<string, number> {
  const times = new Map<string, number>();
  let column = -1;
  for (const line of readFileSync(README, "utf8").split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells[1] === "file") column = cells.indexOf("Porcupine median");
    const time = Number(cells[column]);
    if (column > 0 && /^(jepsen|kv)\//.test(cells[1] ?? "") && Number.isFinite(time)) {
      times.set(cells[1]!, time);
    }
  }
  return times;
}

function timeRuns(run: () => void): { median: number; fastest: number } {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, fastest: times[0]! };
}

const ms = (t: number) => (t < 10 ? t.toFixed(3) : t.toFixed(1)).padStart(9);

/** Two passes over the whole corpus, whatever --only picks, so that the JIT has compiled the search. */
function warmUp(entries: { history: ReturnType<typeof readHistory> }[]): void {
  for (let pass = 0; pass < 2; pass++) {
    for (const { history } of entries) check(history.model, history.operations);
  }
}

function corpus(): void {
  const all = corpusEntries().map((e) => ({ ...e, history: readHistory(e.path) }));
  warmUp(all);
  const entries = all.filter((e) => e.file.includes(values.only));
  const porcupine = porcupineTimes();
  console.log(
    `${"file".padEnd(22)}${"ops".padStart(6)}  ${"verdict".padEnd(17)}${"states".padStart(9)}` +
      `${"median".padStart(10)}${"fastest".padStart(10)}${"Porcupine".padStart(11)}`,
  );
  let under = 0;
  let compared = 0;
  const sums = { lincheck: 0, porcupine: 0 };
  for (const e of entries) {
    const { model, operations } = e.history;
    let result = check(model, operations);
    const t = timeRuns(() => {
      result = check(model, operations);
    });
    const theirs = porcupine.get(e.file);
    if (theirs !== undefined) {
      compared++;
      if (t.median <= theirs) under++;
      if (e.file.startsWith("jepsen/")) {
        sums.lincheck += t.median;
        sums.porcupine += theirs;
      }
    }
    const states = result.partitions.reduce((n, p) => n + p.explored, 0);
    console.log(
      `${e.file.padEnd(22)}${String(operations.length).padStart(6)}  ${result.verdict.padEnd(17)}` +
        `${String(states).padStart(9)} ${ms(t.median)} ${ms(t.fastest)}  ${theirs === undefined ? "" : ms(theirs)}` +
        `${theirs !== undefined && t.median > theirs ? "  SLOWER" : ""}`,
    );
  }
  if (sums.porcupine > 0) {
    console.log(
      `\nJepsen etcd histories, sum of medians: lincheck ${sums.lincheck.toFixed(1)} ms, Porcupine ${sums.porcupine.toFixed(1)} ms`,
    );
  }
  console.log(`at or under Porcupine's median: ${under} of ${compared} files`);
}

function generated(): void {
  const options = {
    model: "kv",
    clients: 10,
    operations: 10_000,
    keys: 50,
    timeoutRate: 0.01,
    seed: 1,
  } as const;
  const sim = simulate(options);
  let verdict = "";
  const t = timeRuns(() => {
    verdict = check(sim.model, sim.operations).verdict;
  });
  console.log(
    `generated: ${options.operations} kv operations, ${options.clients} clients, ${options.keys} keys, ` +
      `${options.timeoutRate * 100}% timeouts: ${verdict} in ${t.median.toFixed(1)} ms (median)`,
  );
}

console.log(
  `lincheck benchmark: node ${process.version}, ${cpus()[0]?.model ?? "unknown CPU"} (${cpus().length} cores); ` +
    `median and fastest of ${RUNS} runs per file, in ms`,
);
corpus();
if (values.only === "") generated();
