// The seed sweep (`pnpm test:seeds`, scripts/seeds.ts): runs a part's test suite under many seeds,
// to shake out schedules the default seed never produces. One vitest instance in this one process
// runs the suite once per batch of seeds (its workers stay up between runs), handing each run its
// batch through vitest's `provide`; each seed-dependent test then runs once per seed of the batch
// (`test` in test/harness.ts). A failure prints as soon as its batch is done, with the command
// that replays it alone. A part that builds on this one runs its own suite with it.
// Part 6: tests that measure liveness (the chaos scenario) hand each run's numbers to the sweep
// (test/liveness-meta.ts), and the sweep ends with them, summed up over all its seeds.
//
//   pnpm --filter <part> test:seeds 500                 seeds 1..500
//   pnpm --filter <part> test:seeds 100 --from 900
//   pnpm --filter <part> test:seeds 500 --file chaos    only test files whose path has "chaos"

import { cpus } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createVitest, type TestModule } from "vitest/node";
import type { LivenessSample } from "../test/liveness-meta.ts";
import { packageOf, replayCommand, replayHelp, repoRoot, type TestId } from "../test/replay.ts";

const usage = (
  part: string,
) => `usage: pnpm --filter ${part} test:seeds <count> [--from <seed>] [--jobs <n>] [--batch <n>] [--file <text>]

Runs the ${part} suite under seeds <from> .. <from>+<count>-1 (from 1 by default), in one
process with --jobs workers (default: one per CPU core), --batch seeds per run of the suite
(default 10). Prints progress, each failing test with the command that replays it, and a summary
at the end. --file keeps only the test files whose path contains the text. Exits 1 if any seed
failed.`;

interface Options {
  count: number;
  from: number;
  jobs: number;
  batch: number;
  file: string | undefined;
}

/** A mistake in the command line: said in one line, then where to find the usage (exit 2). */
function usageError(part: string, message: string): never {
  console.error(`pnpm test:seeds: ${message}\nTry 'pnpm --filter ${part} test:seeds --help'.`);
  process.exit(2);
}

function options(argv: string[], part: string): Options {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    if (!(error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) throw error;
    return usageError(part, (error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(usage(part));
    process.exit(0);
  }
  const whole = (text: string | undefined, what: string, min: number): number => {
    const n = Number(text);
    if (Number.isSafeInteger(n) && n >= min) return n;
    return usageError(
      part,
      `${what} must be a whole number of at least ${min}, got "${text ?? ""}"`,
    );
  };
  return {
    count: whole(positionals[0], "<count>", 1),
    from: whole(values.from, "--from", 0),
    jobs: whole(values.jobs, "--jobs", 1),
    batch: whole(values.batch, "--batch", 1),
    file: values.file,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      from: { type: "string", default: "1" },
      jobs: { type: "string", default: String(cpus().length) },
      batch: { type: "string", default: "10" },
      file: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

interface Failure {
  seed: number;
  test: TestId;
  error: string;
}

/** Runs the suite of the package in `partDir` under the seeds `argv` asks for (see `usage`). */
export async function seedSweep(partDir: string, argv: string[]): Promise<void> {
  const part = packageOf(path.join(partDir, "package.json")).name;
  const opts = options(
    argv.filter((a) => a !== "--"),
    part,
  );
  const vitest = await createVitest("test", {
    root: partDir,
    watch: false,
    reporters: [{}], // silent: this script reports
    maxWorkers: opts.jobs,
    isolate: false, // workers and modules stay loaded from one seed to the next
    pool: "threads",
  });
  const specs = (await vitest.globTestSpecifications()).filter(
    (s) => opts.file === undefined || s.moduleId.includes(opts.file),
  );
  if (specs.length === 0) throw new Error(`no test file matches --file ${opts.file}`);
  const failures: Failure[] = [];
  const liveness = new Map<string, LivenessSample[]>();
  const started = Date.now();
  let done = 0;
  while (done < opts.count) {
    const seeds = range(opts.from + done, Math.min(opts.batch, opts.count - done));
    vitest.provide("raftSeeds", seeds);
    const result = await vitest.runTestSpecifications(specs, false);
    collectLiveness(result.testModules, liveness);
    for (const failure of failuresOf(result.testModules, seeds)) {
      failures.push(failure);
      const { seed, test, error } = failure;
      console.log(`\nseed ${seed} FAILED: ${test.name}\n  ${error}${replayHelp(test, seed)}`);
    }
    done += seeds.length;
    progress(part, done, opts.count, failures.length, started);
  }
  await vitest.close();
  printLiveness(liveness);
  summary(failures, opts, started);
}

/** Adds each test's liveness samples of one run (test/liveness-meta.ts) to `into`, by test name. */
function collectLiveness(modules: readonly TestModule[], into: Map<string, LivenessSample[]>) {
  for (const module of modules) {
    for (const test of module.children.allTests()) {
      const samples = test.meta().liveness ?? [];
      if (samples.length > 0) into.set(test.name, [...(into.get(test.name) ?? []), ...samples]);
    }
  }
}

/** Per test: how available the runs were, and how long the final heal took to a stable leader. */
function printLiveness(liveness: Map<string, LivenessSample[]>): void {
  if (liveness.size === 0) return;
  const percent = (x: number) => `${(x * 100).toFixed(1)}%`;
  console.log("\nliveness (src/sim/liveness.ts), over the runs of the sweep:");
  for (const [name, samples] of liveness) {
    const available = samples.map((s) => s.available).sort((a, b) => a - b);
    const healed = samples.map((s) => s.afterHealMs).filter((ms) => ms !== null);
    const never = samples.length - healed.length;
    healed.sort((a, b) => a - b);
    const median = (xs: number[]) => xs[Math.floor((xs.length - 1) / 2)];
    console.log(
      `  ${name}: ${samples.length} runs; available ${percent(available[0]!)} to ${percent(available.at(-1)!)} (median ${percent(median(available)!)}); recovered (from the final heal, or the scenario's fault) in ${median(healed) ?? "-"} ms (median), ${healed.at(-1) ?? "-"} ms at most${never > 0 ? `, never in ${never} runs` : ""}`,
    );
  }
}

function range(first: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => first + i);
}

/**
 * Every failing (seed, test) of one run. A seed-dependent test lists the seeds it failed under
 * in its meta; any other failing test (a leak, say) fails whatever the seed: the batch's first.
 */
function failuresOf(modules: readonly TestModule[], seeds: number[]): Failure[] {
  const found: Failure[] = [];
  for (const module of modules) {
    for (const test of module.children.allTests()) {
      const outcome = test.result();
      if (outcome.state !== "failed") continue;
      const id = { name: test.fullName, file: path.relative(repoRoot, module.moduleId) };
      const firstLine = (text: string | undefined) => text?.split("\n")[0] ?? "failed";
      const seeded = test.meta().failedSeeds ?? [];
      if (seeded.length === 0) {
        found.push({ seed: seeds[0]!, test: id, error: firstLine(outcome.errors?.[0]?.message) });
      }
      for (const { seed, error } of seeded) found.push({ seed, test: id, error: firstLine(error) });
    }
  }
  return found;
}

function progress(part: string, done: number, count: number, failed: number, started: number) {
  const line = `${part}: ${done}/${count} seeds, ${failed} failed tests, ${Math.round((Date.now() - started) / 1000)} s`;
  if (process.stdout.isTTY) process.stdout.write(`\r${line}${done === count ? "\n" : ""}`);
  else if (done === count || done % Math.max(1, Math.round(count / 20)) === 0) console.log(line);
}

function summary(failures: Failure[], opts: Options, started: number): void {
  const seeds = `seeds ${opts.from}..${opts.from + opts.count - 1}`;
  const wall = `${Math.round((Date.now() - started) / 1000)} s`;
  if (failures.length === 0) {
    console.log(`all ${opts.count} seeds passed (${seeds}, ${wall})`);
    return;
  }
  console.log(`\n${failures.length} failed test runs under ${seeds} (${wall}):`);
  for (const f of failures)
    console.log(`  seed ${f.seed}: ${f.test.name}\n    ${replayCommand(f.test, f.seed)}`);
  process.exitCode = 1;
}
