// The test harness for the key/value store: part 3's (part3-persistence/test/harness.ts: seeds,
// the seed-dependent `test`, budgets, replay commands, traces), on KvSimCluster, with one duty
// more: when a test ends, its history of client operations is checked with lincheck. A history
// that no single copy of the store could have produced fails the test, and its timeline and
// history page are written.

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  currentSeed,
  type ClusterOptions as RaftClusterOptions,
  type RunEvents,
  TestRun,
} from "part3-persistence/test/harness";
import { KvSimCluster, type KvSimOptions } from "../src/sim/kv-cluster.ts";
import { type KvTraceEvent, describe as sentence } from "../src/trace.ts";

export {
  chosenSeed,
  currentSeed,
  currentTest,
  DEFAULT_SEED,
  test,
} from "part3-persistence/test/harness";

const partDir = path.resolve(import.meta.dirname, "..");

export type ClusterOptions = Partial<KvSimOptions> & Pick<RaftClusterOptions, "budget">;

/** Part 3's run of a cluster in a test, and at its end the history check. */
class KvTestRun extends TestRun<KvTraceEvent> {
  private readonly kv: KvSimCluster;

  constructor(cluster: KvSimCluster, options: ClusterOptions, events: RunEvents<KvTraceEvent>) {
    super(cluster, options, events);
    this.kv = cluster;
  }

  /**
   * Checks the history of client operations with lincheck; returns why it fails, after writing
   * its history page (and so the timeline, even without RAFT_TRACE_DIR) for a reader to open. The
   * page links to the timeline: the trace `X.jsonl` beside it, rendered as `X.html` by dotest.sh
   * or `pnpm viz`.
   */
  protected override finalCheck(): { why: string; traceDir: string } | undefined {
    const { result, html } = this.kv.history.check(this.test.name);
    if (result === undefined || result.verdict === "linearizable") return undefined;
    const traceDir = process.env.RAFT_TRACE_DIR || path.join(partDir, "out", "failed");
    mkdirSync(traceDir, { recursive: true });
    const page = path.join(traceDir, this.traceName.replace(/\.jsonl$/, ".history.html"));
    writeFileSync(page, html(encodeURIComponent(this.traceName.replace(/\.jsonl$/, ".html"))));
    const why =
      result.verdict === "not-linearizable"
        ? "is not linearizable"
        : "could not be decided within the budget";
    return {
      why: `the history of ${this.kv.history.size} client operations ${why}: ${page}`,
      traceDir,
    };
  }
}

export class Cluster extends KvSimCluster {
  readonly run: TestRun<KvTraceEvent>;

  /** Starts `n` nodes (ids 0..n-1) inside the current test; shut down when the test ends. */
  static start(n: number, options: ClusterOptions = {}): Cluster {
    const cluster = new Cluster(n, options);
    cluster.startNodes();
    return cluster;
  }

  private constructor(n: number, options: ClusterOptions) {
    super(n, { ...options, seed: options.seed ?? currentSeed() });
    if (process.env.RAFT_LOG) this.subscribe((e) => process.stderr.write(`${line(e)}\n`));
    this.run = new KvTestRun(this, options, { all: () => this.events, line });
  }

  /** For the checker's own tests: the violation this test provokes is its point, not a failure. */
  expectViolation(): void {
    this.run.expectViolation();
  }

  /** KvSimCluster's, held to the test's budget: every wait of a test comes through here. */
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

/** One line of the live log (RAFT_LOG=1): time, who, and the event's sentence. */
function line(e: KvTraceEvent): string {
  const who = e.node === null ? "TEST" : `n${e.node} T${e.term} ${e.role}`;
  return `${String(e.t).padStart(6)} ms  ${who.padEnd(16)}  ${sentence(e)}`;
}
