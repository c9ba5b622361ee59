// The test harness: a whole cluster in one process, in virtual time, driven by one seed.
//
// A test starts a cluster, breaks the network in the ways a scenario needs, lets virtual time
// pass and checks what the nodes did. Every event goes through the safety checks as it happens;
// the first violation fails the test with its seed and the command that replays it. With
// RAFT_TRACE_DIR set, each test writes its trace there (docs/trace-format.md), and with
// RAFT_LOG=1 it prints one human-readable line per event as it runs.

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, onTestFailed, onTestFinished } from "vitest";
import type { NodeId, NodeState } from "../src/raft.ts";
import { formatEvent, type TraceEvent, toJsonLines } from "../src/trace.ts";
import { SafetyChecker, type Violation } from "./safety.ts";
import { SimCluster, type SimOptions } from "./sim-cluster.ts";

const partDir = path.resolve(import.meta.dirname, "..");
const partName = path.basename(partDir);
const repoRoot = path.resolve(partDir, "..");

export const DEFAULT_SEED = 1;

/** The seed for this run: RAFT_SEED if set, else DEFAULT_SEED. */
export function seedFromEnv(): number {
  const raw = process.env.RAFT_SEED;
  if (raw === undefined || raw === "") return DEFAULT_SEED;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new Error(`RAFT_SEED must be a non-negative integer, got "${raw}"`);
  }
  return seed;
}

export type ClusterOptions = Partial<SimOptions>;

/** Every cluster started in this test file, for the leak check in setup.ts. */
export const startedClusters: Cluster[] = [];

export class Cluster extends SimCluster {
  readonly safety = new SafetyChecker();
  private readonly testName: string;
  private readonly testFile: string;
  /** Nodes the test has cut off; checks look only at the others, as the Go and MIT tests do. */
  private readonly disconnected = new Set<NodeId>();
  private firstViolation: Violation | undefined;
  private isShutDown = false;

  /** Starts `n` nodes (ids 0..n-1) inside the current test. */
  static start(n: number, options: ClusterOptions = {}): Cluster {
    const cluster = new Cluster(n, options);
    startedClusters.push(cluster);
    onTestFailed(() => console.error(cluster.replayHelp()));
    onTestFinished(async (ctx) => {
      await cluster.shutdown();
      cluster.writeTrace(ctx.task.result?.state === "fail", ctx.task.result?.errors?.[0]?.message);
    });
    return cluster;
  }

  private constructor(n: number, options: ClusterOptions) {
    super(n, { ...options, seed: options.seed ?? seedFromEnv() });
    const state = expect.getState();
    this.testName = state.currentTestName ?? "unnamed test";
    this.testFile = path.relative(repoRoot, state.testPath ?? "unknown-file");
    this.tracer.subscribe((event) => this.onEvent(event));
    if (process.env.RAFT_LOG) {
      const colour = process.stderr.isTTY ?? false;
      this.tracer.subscribe((event) => process.stderr.write(`${formatEvent(event, colour)}\n`));
    }
    this.tracer.emit(null, "test.start", this.describeRun(options));
    this.startNodes();
  }

  private describeRun(options: ClusterOptions): Record<string, unknown> {
    const { latency, ...network } = this.network.config;
    return {
      test: this.testName,
      file: this.testFile,
      part: partName,
      seed: this.seed,
      nodes: this.ids,
      replay: this.replayCommand(),
      render: this.renderCommand(),
      config: { raft: options.raft ?? {}, network: { ...network, latency: latency.description } },
    };
  }

  // ---- Time ----

  /** Lets `ms` of virtual time pass. */
  async advance(ms: number): Promise<void> {
    await this.runUntil(this.clock.now() + ms);
  }

  /** Runs until `done()` holds or virtual time `deadline`; fails at the first safety violation. */
  private async runUntil(deadline: number, done: () => boolean = () => false): Promise<boolean> {
    return this.clock.runUntil(deadline, () => {
      if (this.firstViolation) throw this.failure(describeViolation(this.firstViolation));
      return done();
    });
  }

  // ---- Faults, each one a harness event in the trace ----

  /** Cuts `id` off from every other node, both ways. */
  isolate(id: NodeId): void {
    this.network.isolate(id);
    this.disconnected.add(id);
    this.harnessEvent("isolate", { node: id });
  }

  /** Restores every link of `id`; other cuts stay as they are. */
  reconnect(id: NodeId): void {
    this.network.reconnect(id);
    this.disconnected.delete(id);
    this.harnessEvent("reconnect", { node: id });
  }

  /**
   * Splits the cluster: nodes reach only the nodes of their own group. The largest group (the
   * first of equal ones) counts as connected, every other node as disconnected.
   */
  partition(...groups: NodeId[][]): void {
    this.network.partition(groups);
    const main = groups.reduce((best, group) => (group.length > best.length ? group : best), []);
    this.disconnected.clear();
    for (const id of this.ids) if (!main.includes(id)) this.disconnected.add(id);
    this.harnessEvent("partition", { groups });
  }

  heal(): void {
    this.network.heal();
    this.disconnected.clear();
    this.harnessEvent("heal", {});
  }

  /** Cuts one direction: messages from `from` to `to` are dropped. Both stay "connected". */
  cut(from: NodeId, to: NodeId): void {
    this.network.cut(from, to);
    this.harnessEvent("cut", { from, to });
  }

  uncut(from: NodeId, to: NodeId): void {
    this.network.uncut(from, to);
    this.harnessEvent("uncut", { from, to });
  }

  /** Stops a node for good (part 1 has no persistent state to restart from). */
  crash(id: NodeId): void {
    this.stopNode(id);
    this.harnessEvent("crash", { node: id });
  }

  /** Writes a comment into the test's own timeline. */
  note(text: string): void {
    this.tracer.emit(null, "note", { text });
  }

  /** Live nodes the test has not cut off: the ones checks look at. */
  connectedIds(): NodeId[] {
    return this.liveIds().filter((id) => !this.disconnected.has(id));
  }

  private harnessEvent(kind: string, details: Record<string, unknown>): void {
    const dead = this.ids.filter((id) => this.state(id).role === "dead");
    const cutOff = this.ids.filter((id) => this.disconnected.has(id));
    this.tracer.emit(null, kind, { ...details, cutOff, dead });
  }

  // ---- Checks ----

  /**
   * Waits (in virtual time, up to `deadlineMs`) until exactly one connected node is leader, and
   * returns it. Two leaders in one term fail at once through the safety checks.
   */
  async checkSingleLeader(deadlineMs = 3000): Promise<{ leader: NodeId; term: number }> {
    let found: NodeState | undefined;
    await this.runUntil(this.clock.now() + deadlineMs, () => {
      const leaders = this.connectedLeaders();
      found = leaders.length === 1 ? leaders[0] : undefined;
      return found !== undefined;
    });
    if (found === undefined) {
      const leaders = this.connectedLeaders().map((s) => `n${s.id} (term ${s.currentTerm})`);
      return this.checkFailed(
        "checkSingleLeader",
        `expected one leader among connected nodes [${this.connectedIds()}] within ${deadlineMs} ms, found ${leaders.length === 0 ? "none" : leaders.join(", ")}`,
      );
    }
    const result = { leader: found.id, term: found.currentTerm };
    this.tracer.emit(null, "check", { name: "checkSingleLeader", ok: true, result });
    return result;
  }

  /** Fails if any connected node is leader now. */
  checkNoLeader(): void {
    const leaders = this.connectedLeaders().map((s) => `n${s.id} (term ${s.currentTerm})`);
    if (leaders.length > 0) {
      this.checkFailed(
        "checkNoLeader",
        `expected no leader among connected nodes, found ${leaders}`,
      );
    }
    this.tracer.emit(null, "check", { name: "checkNoLeader", ok: true });
  }

  /** All connected nodes agree on the term; returns it. */
  checkTerms(): number {
    const terms = new Set(this.connectedIds().map((id) => this.state(id).currentTerm));
    if (terms.size !== 1)
      this.checkFailed("checkTerms", `connected nodes disagree on the term: ${[...terms]}`);
    const term = [...terms][0]!;
    this.tracer.emit(null, "check", { name: "checkTerms", ok: true, result: term });
    return term;
  }

  private connectedLeaders(): NodeState[] {
    const connected = new Set(this.connectedIds());
    return this.leaders().filter((s) => connected.has(s.id));
  }

  private checkFailed(name: string, message: string): never {
    this.tracer.emit(null, "check", { name, ok: false, error: message });
    throw this.failure(`${name}: ${message}`);
  }

  private onEvent(event: TraceEvent): void {
    const found = this.safety.observe(event);
    if (found === undefined || this.firstViolation !== undefined) return;
    this.firstViolation = found;
    this.tracer.emit(null, "violation", { invariant: found.invariant, message: found.message });
  }

  // ---- Ending a test ----

  /** Stops every node and lets in-flight messages and RPC timeouts run out. */
  async shutdown(): Promise<void> {
    if (this.isShutDown) return;
    this.isShutDown = true;
    // Marked in the trace, so the drops and RPC errors that follow read as the test's end.
    this.tracer.emit(null, "shutdown", {});
    for (const id of this.ids) this.stopNode(id);
    await this.clock.runUntilIdle(60_000);
  }

  private replayCommand(): string {
    const file = path.relative(partDir, path.resolve(repoRoot, this.testFile));
    return `RAFT_SEED=${this.seed} pnpm --filter ${partName} exec vitest run ${file} -t ${shellQuote(exactName(this.testName))}`;
  }

  private renderCommand(): string {
    return `./dotest.sh ${partName} ${shellQuote(exactName(this.testName))} ${this.seed}`;
  }

  private replayHelp(): string {
    return `\n  seed ${this.seed}\n  replay:   ${this.replayCommand()}\n  timeline: ${this.renderCommand()}\n`;
  }

  private failure(message: string): Error {
    return new Error(`${message}\n${this.replayHelp()}`);
  }

  private writeTrace(failed: boolean, error: string | undefined): void {
    const dir = process.env.RAFT_TRACE_DIR;
    if (!dir) return;
    const end = failed
      ? { result: "fail", error: stripAnsi(error ?? "failed") }
      : { result: "pass" };
    this.tracer.emit(null, "test.end", end);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, traceFileName(this.testFile, this.testName)),
      toJsonLines(this.tracer.events),
    );
  }
}

function describeViolation(v: Violation): string {
  const e = v.event;
  return `${v.invariant} violated at t=${e.t} ms on n${e.node}: ${v.message}`;
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

/**
 * A vitest -t pattern (a regular expression) that matches exactly this test. vitest matches it
 * against the describe and test names joined by spaces, where currentTestName joins them by " > ".
 */
function exactName(testName: string): string {
  const spaced = testName.split(" > ").join(" ");
  return `^${spaced.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function stripAnsi(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}
