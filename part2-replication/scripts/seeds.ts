// Runs this part's whole test suite under many seeds, to shake out schedules that the default
// seed never produces. Each seed is one ordinary `vitest run` with RAFT_SEED set, so a failure
// here replays exactly with the command it prints.
//
//   pnpm --filter part1-election test:seeds 500          seeds 1..500
//   pnpm --filter part1-election test:seeds 100 --from 900

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";

const partDir = path.resolve(import.meta.dirname, "..");
const partName = path.basename(partDir);
const vitestBin = path.join(partDir, "node_modules", ".bin", "vitest");

const usage = `usage: pnpm --filter ${partName} test:seeds <count> [--from <first seed>] [--jobs <n>]

Runs the ${partName} suite once per seed (RAFT_SEED=first .. first+count-1), --jobs at a time
(default: one per CPU core), printing progress, and at the end every failing seed with the
failed tests and the command that replays it. Exits 1 if any seed failed.`;

interface Options {
  count: number;
  from: number;
  jobs: number;
}

function parseArgs(argv: string[]): Options {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(usage);
    process.exit(0);
  }
  const positive = (flag: string, fallback: number): number => {
    const i = argv.indexOf(flag);
    const raw = i === -1 ? String(fallback) : argv[i + 1];
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < 0)
      exitWithUsage(`${flag} needs a whole number, got "${raw}"`);
    return value;
  };
  const count = Number(argv[0]);
  if (!Number.isSafeInteger(count) || count < 1)
    exitWithUsage(`first argument must be a seed count, got "${argv[0] ?? ""}"`);
  return {
    count,
    from: positive("--from", 1),
    jobs: Math.max(1, positive("--jobs", cpus().length)),
  };
}

function exitWithUsage(message: string): never {
  console.error(`${message}\n\n${usage}`);
  process.exit(2);
}

/** Runs the suite under one seed; resolves to the names of the tests that failed. */
function runSeed(seed: number, workDir: string): Promise<string[]> {
  const report = path.join(workDir, `seed-${seed}.json`);
  const args = ["run", "--reporter=json", `--outputFile=${report}`, "--maxWorkers=1"];
  return new Promise((resolve) => {
    const child = spawn(vitestBin, args, {
      cwd: partDir,
      env: { ...process.env, RAFT_SEED: String(seed), RAFT_TRACE_DIR: "", RAFT_LOG: "" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("close", (code) => resolve(failedTests(report, code, stderr)));
  });
}

function failedTests(report: string, code: number | null, stderr: string): string[] {
  try {
    const json = JSON.parse(readFileSync(report, "utf8")) as {
      testResults: { assertionResults: { fullName: string; status: string }[] }[];
    };
    const failed = json.testResults
      .flatMap((file) => file.assertionResults)
      .filter((test) => test.status === "failed")
      .map((test) => test.fullName);
    if (failed.length > 0 || code === 0) return failed;
  } catch {
    // no report: vitest itself failed; fall through with its own words
  }
  return [`vitest exited with ${code}: ${stderr.trim().split("\n").slice(-3).join(" / ")}`];
}

async function main(): Promise<void> {
  const { count, from, jobs } = parseArgs(process.argv.slice(2));
  const workDir = mkdtempSync(path.join(tmpdir(), "raft-seeds-"));
  const failures = new Map<number, string[]>();
  const started = Date.now();
  let next = from;
  let done = 0;
  const progress = () => {
    const line = `${partName}: ${done}/${count} seeds, ${failures.size} failed, ${Math.round((Date.now() - started) / 1000)} s`;
    if (process.stdout.isTTY) process.stdout.write(`\r${line}`);
    else if (done === count || done % Math.max(1, Math.round(count / 20)) === 0) console.log(line);
  };
  const worker = async () => {
    while (next < from + count) {
      const seed = next++;
      const failed = await runSeed(seed, workDir);
      if (failed.length > 0) {
        failures.set(seed, failed);
        // Say so at once: a long sweep should not hide a failure until the end.
        if (process.stdout.isTTY) process.stdout.write("\n");
        console.log(`seed ${seed} failed: ${failed.join("; ")}`);
      }
      done++;
      progress();
    }
  };
  progress();
  await Promise.all(Array.from({ length: Math.min(jobs, count) }, worker));
  rmSync(workDir, { recursive: true, force: true });
  if (process.stdout.isTTY) process.stdout.write("\n");
  report(failures, count, from);
}

function report(failures: Map<number, string[]>, count: number, from: number): void {
  if (failures.size === 0) {
    console.log(`all ${count} seeds passed (${from}..${from + count - 1})`);
    return;
  }
  for (const [seed, tests] of [...failures].sort(([a], [b]) => a - b)) {
    console.log(`\nseed ${seed}:`);
    for (const name of tests) console.log(`  ✗ ${name}`);
    console.log(`  replay:   RAFT_SEED=${seed} pnpm --filter ${partName} test`);
    console.log(`  timeline: ./dotest.sh ${partName} '<test name>' ${seed}`);
  }
  console.log(`\n${failures.size} of ${count} seeds failed`);
  process.exitCode = 1;
}

await main();
