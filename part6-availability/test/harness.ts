// The test harness: what a simulated cluster (src/sim/cluster.ts) needs from the test runner.
//
// A test starts a cluster with `Cluster.start(n)`, breaks the network in the ways its scenario
// needs, lets virtual time pass and checks what the nodes did. The cluster's seed comes from the
// run (RAFT_SEED, or the seed sweep); a failure prints the seed and the commands that replay it.
// Tests whose outcome depends on the seed are declared with this file's `test`: vitest's own,
// except that under the seed sweep (scripts/seeds.ts) it runs its body once for each seed of the
// sweep's batch, so a batch of seeds costs one run of the suite, not one each.
//
// A simulated test ends by virtual time, never by the wall clock: each cluster has a budget of
// virtual time and of timers fired (`TestRun`), and a run that goes past it (a loop that never
// ends) fails with the test's name, its seed and what was still scheduled. After each test the
// cluster is shut down and must leave no virtual timer behind. With RAFT_TRACE_DIR set, each test
// writes its trace there (docs/trace-format.md), and with RAFT_LOG=1 it prints one
// human-readable line per event as it runs.
//
// `TestRun` is the part of this that does not depend on the cluster's class: a later part whose
// cluster extends SimCluster (part4-kv) imports it with the rest of this file.

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, inject, onTestFailed, onTestFinished, test as vitestTest } from "vitest";
import { SimCluster, type SimOptions } from "../src/sim/cluster.ts";
import { formatEvent, type TraceEvent } from "../src/trace.ts";
import {
  packageOf,
  renderCommand,
  replayCommand,
  replayHelp,
  repoRoot,
  type TestId,
} from "./replay.ts";

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

/** The test running now: its name as vitest prints it, and its file from the repository root. */
export function currentTest(): TestId {
  const state = expect.getState();
  return {
    name: state.currentTestName ?? "unnamed test",
    file: path.relative(repoRoot, state.testPath ?? "unknown-file"),
  };
}

/**
 * Whether a test failed on the wall clock (vitest's testTimeout or hookTimeout) rather than on
 * anything the seed decides. Its seed cannot replay that, and what it left running is a symptom.
 */
export function timedOut(errors: readonly { message?: string }[] | undefined): boolean {
  return (errors ?? []).some((e) => /^(Test|Hook) timed out in \d+ms/.test(e.message ?? ""));
}

/** How much one cluster may do before its test counts as a loop that never ends. */
export interface Budget {
  /** Virtual time, in ms from the cluster's start. */
  virtualMs: number;
  /** Timers fired: messages, elections, heartbeats, the test's own waits. */
  timers: number;
}

/** Over ten times what the longest scenario of any part needs (about 35 s and 20,000 timers). */
export const defaultBudget: Budget = { virtualMs: 10 * 60_000, timers: 250_000 };

export type ClusterOptions = Partial<SimOptions> & { budget?: Partial<Budget> };

/** One cluster's events and how one prints: what `TestRun` needs from the cluster's part. */
export interface RunEvents<E> {
  /** Every event so far, in order: the trace file. */
  all(): readonly E[];
  /** One event as a line of text (RAFT_LOG=1, and the last events of a runaway run). */
  line(event: E): string;
}

/**
 * One simulated cluster in the running test: it writes test.start into the trace, holds the run
 * to its budget, adds the replay commands to a failure, and when the test ends shuts the cluster
 * down, writes its trace and fails the test if a virtual timer outlived the shutdown. A test
 * that timed out on the wall clock is not given a replay block or the timer check: a seed cannot
 * reproduce a timeout, and the timers are only what the unfinished test left.
 */
export class TestRun<E = unknown> {
  readonly test = currentTest();
  readonly budget: Budget;
  private readonly cluster: SimCluster;
  private readonly events: RunEvents<E>;
  /** This run's trace file: `<file>--<test>.jsonl`, `-2`, `-3`… for further clusters in the test. */
  readonly traceName = traceFileName(this.test);
  private violationExpected = false;
  /** The test has ended (a timeout ends it while its body may still be running). */
  private over = false;
  /** The run went past its budget: what it still has scheduled may never run out. */
  private ranAway = false;

  constructor(cluster: SimCluster, options: ClusterOptions, events: RunEvents<E>) {
    this.cluster = cluster;
    this.events = events;
    this.budget = { ...defaultBudget, ...options.budget };
    const { latency, ...network } = cluster.network.config;
    cluster.tracer.emit(null, "test.start", {
      test: this.test.name,
      file: this.test.file,
      part: packageOf(this.test.file).name,
      seed: cluster.seed,
      nodes: [...cluster.ids],
      replay: replayCommand(this.test, cluster.seed),
      render: renderCommand(this.test, cluster.seed),
      config: { raft: { ...options.raft }, network: { ...network, latency: latency.description } },
    });
    onTestFailed((ctx) => {
      if (!timedOut(ctx.task.result?.errors)) console.error(this.replayHelp());
    });
    onTestFinished((ctx) => this.end(ctx.task.result));
  }

  /** For the checker's own tests: the violation this test provokes is its point, not a failure. */
  expectViolation(): void {
    this.violationExpected = true;
  }

  replayHelp(): string {
    return replayHelp(this.test, this.cluster.seed);
  }

  /** The error a failed check, a violation or a runaway run throws: with the replay commands. */
  failure(message: string): Error {
    return new Error(`${message}\n${this.replayHelp()}`);
  }

  /** Called after every timer the cluster fires: throws once the run is over or past its budget. */
  check(): void {
    if (this.over) {
      throw new Error(`"${this.test.name}" has ended (timed out?) but its body still runs`);
    }
    const { clock } = this.cluster;
    if (clock.now() <= this.budget.virtualMs && clock.stepsTaken() <= this.budget.timers) return;
    this.ranAway = true;
    throw this.failure(this.runaway());
  }

  /** What a run past its budget was doing: the time, the timers, the nodes, the last events. */
  private runaway(): string {
    const { clock } = this.cluster;
    const nodes = this.cluster.ids.map((id) => {
      const s = this.cluster.state(id);
      return `n${id} ${s.role} T${s.currentTerm}`;
    });
    const last = this.events
      .all()
      .slice(-8)
      .map((e) => `    ${this.events.line(e)}`);
    return [
      `"${this.test.name}" went past its budget of ${this.budget.virtualMs / 1000} s of virtual time and ${this.budget.timers} timers, at t=${clock.now()} ms after ${clock.stepsTaken()} timers: a loop that never ends?`,
      `  still scheduled: ${clock.pendingTimers()} timers; nodes: ${nodes.join(", ")}`,
      "  the last events:",
      ...last,
    ].join("\n");
  }

  /**
   * What happens when the test ends (vitest calls it then): a test of the harness itself may call
   * it before, to see it fail; a second call does nothing.
   */
  async end(result: { state: string; errors?: { message?: string }[] } | undefined) {
    if (this.over) return;
    this.over = true;
    const failed = result?.state === "fail";
    const timeout = timedOut(result?.errors);
    // A run past its budget may have a timer loop that never runs out: not drained, not checked.
    if (this.ranAway) return this.writeTrace(true, result?.errors?.[0]?.message, undefined);
    await this.cluster.shutdown();
    const failure = failed ? undefined : this.finalCheck();
    const error = result?.errors?.[0]?.message ?? failure?.why;
    // The harness's own tests provoke a failing final check on purpose (expectViolation).
    const failing = failed || (failure !== undefined && !this.violationExpected);
    this.writeTrace(failing, error, failure?.traceDir);
    if (failure !== undefined) throw new Error(`${failure.why}${this.replayHelp()}`);
    const pending = this.cluster.clock.pendingTimers();
    if (pending > 0 && !timeout) {
      throw new Error(`${pending} virtual timers still pending after shutdown${this.replayHelp()}`);
    }
  }

  /**
   * A last check of a passed test's whole run, for a later part to add (part4-kv: the history is
   * linearizable). Returns why the test fails, and where its trace goes though no one asked.
   */
  protected finalCheck(): { why: string; traceDir: string } | undefined {
    return undefined;
  }

  /** Writes the trace into RAFT_TRACE_DIR, else into `orElse` if given, else nowhere. */
  private writeTrace(failed: boolean, error: string | undefined, orElse: string | undefined) {
    const to = process.env.RAFT_TRACE_DIR || orElse;
    if (!to) return;
    this.cluster.tracer.emit(
      null,
      "test.end",
      failed
        ? { result: "fail", error: stripAnsi(error ?? "failed") }
        : { result: "pass", ...(this.violationExpected ? { expectedViolation: true } : {}) },
    );
    mkdirSync(to, { recursive: true });
    const lines = this.events.all().map((e) => `${JSON.stringify(e)}\n`);
    writeFileSync(path.join(to, this.traceName), lines.join(""));
  }
}

export class Cluster extends SimCluster {
  readonly run: TestRun<TraceEvent>;

  /** Starts `n` nodes (ids 0..n-1) inside the current test; shut down when the test ends. */
  static start(n: number, options: ClusterOptions = {}): Cluster {
    const cluster = new Cluster(n, options);
    cluster.startNodes();
    return cluster;
  }

  private constructor(n: number, options: ClusterOptions) {
    super(n, { ...options, seed: options.seed ?? currentSeed() });
    const colour = process.stderr.isTTY ?? false;
    const line = (event: TraceEvent) => formatEvent(event, colour);
    if (process.env.RAFT_LOG) this.tracer.subscribe((e) => process.stderr.write(`${line(e)}\n`));
    this.run = new TestRun(this, options, { all: () => this.tracer.events, line });
  }

  /** For the checker's own tests: the violation this test provokes is its point, not a failure. */
  expectViolation(): void {
    this.run.expectViolation();
  }

  /** SimCluster's, held to the test's budget: every wait of a test comes through here. */
  override runUntil(deadline: number, done: () => boolean = () => false): Promise<boolean> {
    return super.runUntil(deadline, () => {
      this.run.check();
      return done();
    });
  }

  protected override failure(message: string): Error {
    return this.run.failure(message);
  }
}

/** How many traces each running test has named; a test's count is forgotten when it ends. */
const namesUsed = new Map<string, number>();

function traceFileName(test: TestId): string {
  const base = `${slug(path.basename(test.file).replace(/\.test\.ts$/, ""))}--${slug(test.name)}`;
  const count = (namesUsed.get(base) ?? 0) + 1;
  namesUsed.set(base, count);
  if (count === 1) onTestFinished(() => void namesUsed.delete(base));
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
