import { check } from "../src/check.ts";
import { readHistory } from "../src/parse/index.ts";
import { simulate } from "../src/simulate.ts";
import { corpusEntries } from "../test/corpus.ts";

/** Each measurement is repeated and the fastest run kept: the least disturbed by the machine. */
const RUNS = 3;

function fastest(run: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    run();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

function corpus(): void {
  const entries = corpusEntries().map((e) => ({ ...e, history: readHistory(e.path) }));
  const times = entries.map((e) => ({
    file: e.file,
    ops: e.history.operations.length,
    ms: fastest(() => check(e.history.model, e.history.operations)),
  }));
  const total = (files: typeof times) => files.reduce((sum, t) => sum + t.ms, 0).toFixed(0);
  const jepsen = times.filter((t) => t.file.startsWith("jepsen/"));
  console.log(`corpus: ${times.length} histories checked in ${total(times)} ms (parsing excluded)`);
  console.log(`  of which the ${jepsen.length} Jepsen etcd histories: ${total(jepsen)} ms`);
  console.log("  slowest:");
  for (const t of [...times].sort((a, b) => b.ms - a.ms).slice(0, 5)) {
    console.log(
      `    ${t.file.padEnd(22)} ${String(t.ops).padStart(5)} ops  ${t.ms.toFixed(1).padStart(7)} ms`,
    );
  }
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
  const ms = fastest(() => {
    verdict = check(sim.model, sim.operations).verdict;
  });
  console.log(
    `generated: ${options.operations} kv operations, ${options.clients} clients, ${options.keys} keys, ` +
      `${options.timeoutRate * 100}% timeouts: ${verdict} in ${ms.toFixed(0)} ms`,
  );
}

console.log(`lincheck benchmark (fastest of ${RUNS} runs, node ${process.version})`);
corpus();
generated();
