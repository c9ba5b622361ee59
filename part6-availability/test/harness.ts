// The test harness: what a simulated cluster (src/sim/cluster.ts) needs from the test runner.
//
// A test starts a cluster with `Cluster.start(n)`, breaks the network in the ways its scenario
// needs, lets virtual time pass and checks what the nodes did. The cluster's seed comes from the
// run (RAFT_SEED, or the seed sweep); a failure prints the seed and the commands that replay it.
// Tests whose outcome depends on the seed are declared with this file's `test`: vitest's own,
// except that under the seed sweep (scripts/seeds.ts) it runs its body once for each seed of the
// sweep's batch, so a batch of seeds costs one run of the suite, not one each.
// After each test the cluster is shut down and must leave no virtual timer behind. With
// RAFT_TRACE_DIR set, each test writes its trace there (docs/trace-format.md), and with
// RAFT_LOG=1 it prints one human-readable line per event as it runs.

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, inject, onTestFailed, onTestFinished, test as vitestTest } from "vitest";
import { SimCluster, type SimOptions } from "../src/sim/cluster.ts";
import { formatEvent, toJsonLines } from "../src/trace.ts";
import { renderCommand, replayCommand, replayHelp } from "./replay.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The seeds each seed-dependent test runs under, set by the seed sweep (scripts/seeds.ts). */
    raftSeeds?: number[];
  }
  export interface TaskMeta {
    /** Under the sweep: the seeds this test failed under, and how. */
    failedSeeds?: { seed: number; error: string }[];
  }
}

const partDir = path.resolve(import.meta.dirname, "..");
const partName = path.basename(partDir);
const repoRoot = path.resolve(partDir, "..");

export const DEFAULT_SEED = 1;

/** The seed for this run: the sweep's, else RAFT_SEED, else DEFAULT_SEED. */
export function currentSeed(): number {
  return chosenSeed() ?? DEFAULT_SEED;
}

/** The seed the sweep is running now, while a seed-dependent test runs under it. */
let sweptSeed: number | undefined;

/** The seed the sweep or RAFT_SEED chose, if either did. */
export function chosenSeed(): number | undefined {
  if (sweptSeed !== undefined) return sweptSeed;
  const raw = process.env.RAFT_SEED;
  if (raw === undefined || raw === "") return undefined;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new Error(`RAFT_SEED must be a non-negative integer, got "${raw}"`);
  }
  return seed;
}

/**
 * Declares a test whose outcome depends on the seed. Normally it is vitest's `test`. Under the
 * sweep it runs the body once per seed of the batch, goes on after a failing seed, records every
 * failing seed in the test's meta for the sweep to report, and fails with the first one.
 */
export function test(name: string, body: () => Promise<void> | void): void {
  vitestTest(name, async (ctx) => {
    const seeds = inject("raftSeeds");
    if (seeds === undefined) return body();
    const failed: { seed: number; error: string }[] = [];
    let first: unknown;
    for (const seed of seeds) {
      sweptSeed = seed;
      try {
        await body();
      } catch (error) {
        first ??= error;
        failed.push({ seed, error: error instanceof Error ? error.message : String(error) });
      } finally {
        sweptSeed = undefined;
      }
    }
    ctx.task.meta.failedSeeds = failed;
    if (first !== undefined) throw first;
  });
}

export type ClusterOptions = Partial<SimOptions>;

/** The test running now: its name as vitest prints it, and its file from the repository root. */
export function currentTest(): { name: string; file: string } {
  const state = expect.getState();
  return {
    name: state.currentTestName ?? "unnamed test",
    file: path.relative(repoRoot, state.testPath ?? "unknown-file"),
  };
}

export class Cluster extends SimCluster {
  private readonly test = currentTest();
  private violationExpected = false;

  /** Starts `n` nodes (ids 0..n-1) inside the current test; shut down when the test ends. */
  static start(n: number, options: ClusterOptions = {}): Cluster {
    const cluster = new Cluster(n, options);
    onTestFailed(() => console.error(cluster.replayHelp()));
    onTestFinished(async (ctx) => {
      await cluster.shutdown();
      const failed = ctx.task.result?.state === "fail";
      cluster.writeTrace(failed, ctx.task.result?.errors?.[0]?.message);
      const pending = cluster.clock.pendingTimers();
      if (pending > 0) {
        throw new Error(
          `${pending} virtual timers still pending after shutdown${cluster.replayHelp()}`,
        );
      }
    });
    return cluster;
  }

  private constructor(n: number, options: ClusterOptions) {
    super(n, { ...options, seed: options.seed ?? currentSeed() });
    if (process.env.RAFT_LOG) {
      const colour = process.stderr.isTTY ?? false;
      this.tracer.subscribe((event) => process.stderr.write(`${formatEvent(event, colour)}\n`));
    }
    const { latency, ...network } = this.network.config;
    this.tracer.emit(null, "test.start", {
      test: this.test.name,
      file: this.test.file,
      part: partName,
      seed: this.seed,
      nodes: [...this.ids],
      replay: replayCommand(this.test, this.seed),
      render: renderCommand(this.test, this.seed),
      config: { raft: { ...options.raft }, network: { ...network, latency: latency.description } },
    });
    this.startNodes();
  }

  /** For the checker's own tests: the violation this test provokes is its point, not a failure. */
  expectViolation(): void {
    this.violationExpected = true;
  }

  private replayHelp(): string {
    return replayHelp(this.test, this.seed);
  }

  protected override failure(message: string): Error {
    return new Error(`${message}\n${this.replayHelp()}`);
  }

  private writeTrace(failed: boolean, error: string | undefined): void {
    const dir = process.env.RAFT_TRACE_DIR;
    if (!dir) return;
    this.tracer.emit(
      null,
      "test.end",
      failed
        ? { result: "fail", error: stripAnsi(error ?? "failed") }
        : { result: "pass", ...(this.violationExpected ? { expectedViolation: true } : {}) },
    );
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, traceFileName(this.test.file, this.test.name)),
      toJsonLines(this.tracer.events),
    );
  }
}

const namesUsed = new Map<string, number>();

/** `<file>--<test>.jsonl`, with `-2`, `-3`… for further clusters in the same test. */
function traceFileName(testFile: string, testName: string): string {
  const base = `${slug(path.basename(testFile).replace(/\.test\.ts$/, ""))}--${slug(testName)}`;
  const count = (namesUsed.get(base) ?? 0) + 1;
  namesUsed.set(base, count);
  return `${base}${count > 1 ? `-${count}` : ""}.jsonl`;
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

function stripAnsi(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}
