// `pnpm test:loaded`: the whole `pnpm test` while busy processes hold every core, to show that no
// test's verdict depends on how fast the machine is (a simulated test ends by virtual time; the
// real-process tests wait as long as a slow machine needs). Prints each run's outcome and time,
// and a summary; exits 1 if any run failed. The busy processes are killed however the run ends,
// and each one also stops by itself once this script is gone (it watches its parent).
//
//   pnpm test:loaded                 one run, one busy process per core
//   pnpm test:loaded --runs 3        three runs in a row
//   pnpm test:loaded --busy 4        four busy processes instead

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

const root = path.resolve(import.meta.dirname, "..");
const prog = "pnpm test:loaded";

const usage = `usage: ${prog} [--runs <n>] [--busy <n>]

Runs the whole \`pnpm test\` --runs times (default 1) while --busy processes (default: one per
core, here ${availableParallelism()}) spin on the CPU, and prints each run's outcome and time.
Exits 1 if any run failed.`;

class UsageError extends Error {}

/** A loop that spins until its parent is gone; it checks every few million turns. */
const SPIN = `const parent = process.ppid; for (let i = 1; ; i++) if (i % 4e6 === 0 && process.ppid !== parent) process.exit(0);`;

interface Outcome {
  status: number;
  seconds: number;
  passed: number;
  failed: number;
  load: number;
}

function options(argv: string[]): { runs: number; busy: number } {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== "--"),
    options: {
      runs: { type: "string", default: "1" },
      busy: { type: "string", default: String(availableParallelism()) },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const whole = (text: string, flag: string, min: number) => {
    const n = Number(text);
    if (Number.isSafeInteger(n) && n >= min) return n;
    throw new UsageError(`--${flag} must be a whole number of at least ${min}, got "${text}"`);
  };
  return { runs: whole(values.runs, "runs", 1), busy: whole(values.busy, "busy", 0) };
}

const busy = new Set<ChildProcess>();

function startBusy(count: number): void {
  for (let i = 0; i < count; i++) {
    busy.add(spawn(process.execPath, ["-e", SPIN], { stdio: "ignore" }));
  }
}

function stopBusy(): void {
  for (const child of busy) child.kill("SIGKILL");
  busy.clear();
}

/** One `pnpm test` under load, its output shown as it comes; what vitest's report says of it. */
async function run(count: number): Promise<Outcome> {
  const dir = mkdtempSync(path.join(tmpdir(), "raft-test-loaded-"));
  const report = path.join(dir, "vitest.json");
  const started = Date.now();
  startBusy(count);
  try {
    const status = await new Promise<number>((resolve) => {
      const test = spawn("pnpm", ["test"], {
        cwd: root,
        stdio: "inherit",
        env: { ...process.env, VITEST_JSON_REPORT: report },
      });
      test.on("close", (code) => resolve(code ?? 1));
    });
    const load = loadavg()[0]!;
    const seconds = Math.round((Date.now() - started) / 1000);
    const { passed, failed } = counts(report);
    return { status, seconds, passed, failed, load };
  } finally {
    stopBusy();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Passed and failed tests from vitest's JSON report (none if it wrote no report). */
function counts(report: string): { passed: number; failed: number } {
  try {
    const json = JSON.parse(readFileSync(report, "utf8"));
    return { passed: json.numPassedTests, failed: json.numFailedTests };
  } catch {
    return { passed: 0, failed: 0 };
  }
}

function line(n: number, o: Outcome, count: number): string {
  const verdict = o.status === 0 ? "PASSED" : `FAILED (exit status ${o.status})`;
  return `run ${n}: ${verdict} in ${o.seconds} s with ${count} busy processes: ${o.passed} passed, ${o.failed} failed; load average ${o.load.toFixed(1)}`;
}

async function main(): Promise<void> {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") throw error;
      stopBusy();
      process.exit(0); // `| head` closed the pipe
    });
  }
  const { runs, busy: count } = options(process.argv.slice(2));
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      stopBusy();
      process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const)[signal]);
    });
  }
  process.on("exit", stopBusy);
  const lines: string[] = [];
  for (let n = 1; n <= runs; n++) {
    console.log(
      `\n${prog}: run ${n} of ${runs}, ${count} busy processes on ${availableParallelism()} cores\n`,
    );
    const outcome = await run(count);
    lines.push(line(n, outcome, count));
    if (outcome.status !== 0) process.exitCode = 1;
  }
  console.log(`\n${prog}: ${runs === 1 ? "" : `${runs} runs\n  `}${lines.join("\n  ")}`);
}

main().catch((error: unknown) => {
  stopBusy();
  if (
    error instanceof UsageError ||
    (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
  ) {
    console.error(`${prog}: ${(error as Error).message}\nTry '${prog} --help'.`);
    process.exit(2);
  }
  console.error(`${prog}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
