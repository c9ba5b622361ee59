// A simulated cluster: one virtual clock, one seeded random source, one tracer, the simulated
// network and n consensus modules, with the safety checks listening to every event. The test
// harness (test/harness.ts) adds only what belongs to the test runner; benchmarks, the seed sweep
// and later parts build clusters from this class directly.
//
// The fault methods (isolate, partition, cut, crash, …) are the network's rules (sim/network.ts)
// plus one harness event each in the trace, carrying the network as it is after the change. The
// checks (checkSingleLeader, …) look only at connected nodes, as the Go and MIT tests do: live
// nodes the test has not isolated and that are in the largest group of the partition.
//
// Each node's state machine is, unless a test brings its own, the list of entries it applied
// (`applied`, state-machine.ts): the snapshot policy takes snapshots of it, and a restored
// snapshot puts it back, so a test sees what every node applied at every index either way.

import { DriftingClock, VirtualClock } from "../clock.ts";
import {
  type AppliedEntry,
  defaultRaftConfig,
  type Environment,
  type NodeId,
  type NodeState,
  type RaftConfig,
  RaftNode,
  type ReadResult,
  type SubmitResult,
} from "../raft.ts";
import { SeededRandom } from "../random.ts";
import { digestOf } from "../snapshot.ts";
import { MemoryStorage, type PersistentState } from "../storage.ts";
import { type NetworkView, type SnapshotSummary, Tracer } from "../trace.ts";
import { ConformanceChecker } from "./conformance.ts";
import { type NetworkConfig, SimNetwork, type TrafficCounters } from "./network.ts";
import { SafetyChecker, sameCommand, type Violation } from "./safety.ts";
import { appliedEntriesOf } from "./state-machine.ts";

export interface SimOptions {
  seed: number;
  raft?: Partial<RaftConfig>;
  network?: Partial<NetworkConfig>;
  /** Called with every consensus module the cluster creates, at the start and at each restart. */
  onNode?: (id: NodeId, node: RaftNode, cluster: SimCluster) => void;
  /**
   * Whose state the snapshots hold (§7). "applied entries" (the default): the list of entries
   * each node applied (`applied`), which the safety checks verify snapshot by snapshot.
   * "application": the state machine `onNode` attaches gives them (`snapshotSource`, `onRestore`);
   * `applied` then lacks the entries a restored snapshot stands for.
   */
  snapshots?: "applied entries" | "application";
  /**
   * §10.2.1: how many virtual ms the simulated disk takes to make a leader's new entries durable
   * (its background writes; every other save is immediate). Default 0: done at the next timer,
   * after the messages the leader sent meanwhile.
   */
  diskWriteMs?: number;
}

export class CheckFailure extends Error {}

export class SimCluster {
  readonly seed: number;
  readonly ids: readonly NodeId[];
  readonly clock = new VirtualClock();
  readonly tracer: Tracer;
  readonly network: SimNetwork;
  readonly safety: SafetyChecker;
  readonly conformance: ConformanceChecker;
  readonly options: SimOptions;
  /** What each node has applied, in order: what its state machine has seen. */
  readonly applied = new Map<NodeId, AppliedEntry[]>();
  /** The first safety violation seen; `runUntil` fails at it. */
  firstViolation: Violation | undefined;
  private readonly nodes = new Map<NodeId, RaftNode>();
  /** Each node's storage: it outlives the node, and a restarted node loads from it. */
  readonly storage = new Map<NodeId, MemoryStorage>();
  /** Each node's clock: the cluster's, unless a drift fault makes it run fast or slow. */
  private readonly clocks = new Map<NodeId, DriftingClock>();
  private readonly random: SeededRandom;
  private isShutDown = false;

  /** Builds `n` nodes (ids 0..n-1); they do nothing until `startNodes`. */
  constructor(n: number, options: SimOptions) {
    this.seed = options.seed;
    this.options = options;
    this.ids = Array.from({ length: n }, (_, i) => i);
    // With the default state machine, the log holds at most as many applied entries as the
    // policy lets it (MIT's MAXLOGSIZE), and every snapshot is checked against the entries.
    const { snapshotAfterEntries } = { ...defaultRaftConfig, ...options.raft };
    const simulated = (options.snapshots ?? "applied entries") === "applied entries";
    this.safety = new SafetyChecker({
      simulatedStates: simulated,
      ...(simulated && snapshotAfterEntries > 0 ? { maxAppliedInLog: snapshotAfterEntries } : {}),
    });
    this.conformance = new ConformanceChecker(this.safety, n);
    // Separate streams for the network and each node, so a change in how often one draws
    // does not shift what the others draw.
    this.random = new SeededRandom(this.seed);
    this.tracer = new Tracer(this.clock, (id) => {
      const s = this.node(id).getState();
      return { term: s.currentTerm, role: s.role };
    });
    const env = { clock: this.clock, random: this.random.fork(), tracer: this.tracer };
    this.network = new SimNetwork(this.ids, env, options.network);
    for (const id of this.ids) {
      this.clocks.set(id, new DriftingClock(this.clock));
      this.storage.set(id, this.newStorage());
      this.nodes.set(id, this.createNode(id));
    }
    this.tracer.subscribe((event) => {
      // A node whose storage failed has stopped itself: the network loses it as it would a crash.
      if (event.kind === "halt" && event.node !== null) this.network.detach(event.node);
      // Both see every event: each keeps its own record of the run.
      const unsafe = this.safety.observe(event);
      const nonconforming = this.conformance.observe(event);
      const found = unsafe ?? nonconforming;
      if (found === undefined || this.firstViolation !== undefined) return;
      this.firstViolation = found;
      this.tracer.emit(null, "violation", { invariant: found.invariant, message: found.message });
    });
  }

  private createNode(id: NodeId): RaftNode {
    const peers = this.ids.filter((peer) => peer !== id);
    const env: Environment = {
      clock: this.clocks.get(id)!,
      random: this.random.fork(),
      transport: this.network.transport(id),
      storage: this.storage.get(id)!,
      trace: (kind, details) => this.tracer.emit(id, kind, details),
    };
    const node = new RaftNode(id, peers, env, this.options.raft);
    const applied: AppliedEntry[] = [];
    this.applied.set(id, applied);
    node.onApply((entry) => {
      applied[entry.index - 1] = entry;
    });
    if ((this.options.snapshots ?? "applied entries") === "applied entries") {
      node.snapshotSource(() => applied);
      node.onRestore((snapshot) => {
        const entries = appliedEntriesOf(snapshot.data);
        applied.length = 0;
        for (const entry of entries) applied.push(entry);
      });
    } else {
      node.onRestore((snapshot) => {
        applied.length = Math.max(applied.length, snapshot.lastIncludedIndex);
      });
    }
    this.options.onNode?.(id, node, this);
    return node;
  }

  /** A node's storage: a simulated disk whose background writes take `diskWriteMs` (§10.2.1). */
  private newStorage(): MemoryStorage {
    return new MemoryStorage({ clock: this.clock, writeMs: this.options.diskWriteMs ?? 0 });
  }

  /** A random stream of its own for whatever drives the cluster (a test, the chaos scenario). */
  randomStream(): SeededRandom {
    return this.random.fork();
  }

  startNodes(): void {
    for (const [id, node] of this.nodes) {
      this.network.attach(id, node);
      node.start();
    }
  }

  node(id: NodeId): RaftNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node n${id} in this cluster`);
    return node;
  }

  state(id: NodeId): NodeState {
    return this.node(id).getState();
  }

  liveIds(): NodeId[] {
    return this.ids.filter((id) => this.state(id).role !== "dead");
  }

  leaders(): NodeState[] {
    return this.liveIds()
      .map((id) => this.state(id))
      .filter((s) => s.role === "leader");
  }

  /** Requests and bytes sent by `ids` (default: every node) since the start. */
  traffic(ids: readonly NodeId[] = this.ids): TrafficCounters {
    const total = { rpcs: 0, bytes: 0 };
    for (const id of ids) {
      const sent = this.network.counters(id);
      total.rpcs += sent.rpcs;
      total.bytes += sent.bytes;
    }
    return total;
  }

  // ---- Time ----

  /** Lets `ms` of virtual time pass; fails at the first safety violation. */
  async advance(ms: number): Promise<void> {
    await this.runUntil(this.clock.now() + ms);
  }

  /** Runs until `done()` holds or virtual time `deadline`; fails at the first safety violation. */
  async runUntil(deadline: number, done: () => boolean = () => false): Promise<boolean> {
    return this.clock.runUntil(deadline, () => {
      if (this.firstViolation) throw this.failure(describeViolation(this.firstViolation));
      return done();
    });
  }

  // ---- Faults, each one a harness event in the trace ----

  /** Cuts `id` off from every other node, both ways, until `reconnect(id)`. */
  isolate(id: NodeId): void {
    this.network.isolate(id);
    this.tracer.emit(null, "isolate", { node: id, network: this.networkView() });
  }

  /** Connects `id` again, to the connected nodes of its group only. */
  reconnect(id: NodeId): void {
    this.network.reconnect(id);
    this.tracer.emit(null, "reconnect", { node: id, network: this.networkView() });
  }

  /**
   * Splits the cluster: nodes reach only the nodes of their own group. The largest group (the
   * first of equal ones) counts as connected, every other node as cut off.
   */
  partition(...groups: NodeId[][]): void {
    this.network.partition(groups);
    this.tracer.emit(null, "partition", { groups, network: this.networkView() });
  }

  /** Everyone connected again: isolations, partitions, cuts and slow links all undone. */
  heal(): void {
    this.network.heal();
    this.tracer.emit(null, "heal", { network: this.networkView() });
  }

  /** Cuts one direction: messages from `from` to `to` are dropped. Both stay "connected". */
  cut(from: NodeId, to: NodeId): void {
    this.network.cut(from, to);
    this.tracer.emit(null, "cut", { from, to, network: this.networkView() });
  }

  uncut(from: NodeId, to: NodeId): void {
    this.network.uncut(from, to);
    this.tracer.emit(null, "uncut", { from, to, network: this.networkView() });
  }

  /** Messages from `from` to `to` take `extraMs` longer from now on (0: back to normal). */
  slow(from: NodeId, to: NodeId, extraMs: number): void {
    this.network.slow(from, to, extraMs);
    this.tracer.emit(null, "slow", { from, to, extraMs });
  }

  /**
   * Makes `id`'s clock run at `rate` times real time from now on, across restarts (1.1: ten per
   * cent fast; 0.9: slow; 1: true again). Its timers and its `now()` follow; the trace's times
   * stay the cluster's.
   */
  drift(id: NodeId, rate: number): void {
    this.clocks.get(id)!.setRate(rate);
    this.tracer.emit(null, "drift", { node: id, rate });
  }

  /** Stops a node: its volatile state is gone, its storage keeps what was durable. */
  crash(id: NodeId): void {
    this.stopNode(id);
    this.tracer.emit(null, "crash", { node: id, network: this.networkView() });
  }

  /**
   * Starts a new consensus module for a crashed (or halted) node, on the same storage: it comes
   * back with its durable term, vote and log, and applies its committed entries again from the
   * first as it learns commitIndex. The trace shows the state it restarted with.
   */
  restart(id: NodeId): void {
    if (this.state(id).role !== "dead") throw new Error(`n${id} is running; crash it first`);
    const node = this.createNode(id);
    this.nodes.set(id, node);
    this.network.attach(id, node);
    const { currentTerm, votedFor } = node.getState();
    const log = node.getLog();
    const snapshot = snapshotSummary(node);
    this.tracer.emit(null, "restart", {
      node: id,
      network: this.networkView(),
      currentTerm,
      votedFor,
      log,
      ...(snapshot === undefined ? {} : { snapshot }),
    });
    node.start();
  }

  /**
   * Restarts `id` on a storage that holds `state`, crashing it first if it runs: a node whose
   * disk holds that term, vote, snapshot and log. For setting up logs a scenario needs (before the
   * node has said anything: the safety checks hold a node to what it said).
   */
  restartFrom(id: NodeId, state: PersistentState): void {
    if (this.state(id).role !== "dead") this.crash(id);
    const storage = this.newStorage();
    const from = (state.snapshot?.lastIncludedIndex ?? 0) + 1;
    storage.save({
      hardState: { currentTerm: state.currentTerm, votedFor: state.votedFor },
      ...(state.snapshot === undefined ? {} : { snapshot: state.snapshot }),
      log: { from, entries: state.log },
    });
    this.storage.set(id, storage);
    this.restart(id);
  }

  /** Stops a node and takes it off the network, without a harness event. */
  stopNode(id: NodeId): void {
    if (this.state(id).role !== "dead") this.node(id).stop();
    this.network.detach(id);
    this.storage.get(id)!.loseUnfinishedWrites(); // a crash loses the writes still on their way
  }

  // ---- Commands ----

  /** Hands `command` to node `id`, as a client would; the node traces what it answered. */
  submitToServer(id: NodeId, command: unknown): SubmitResult {
    return this.node(id).submit(command);
  }

  /**
   * The MIT lab's one(): submits `command` to whichever connected node is leader (retrying for up
   * to 10 s of virtual time) and waits until `expectedServers` nodes have applied it. With
   * `retry`, a submission lost with a deposed leader is made again, as a client would.
   */
  async one(command: unknown, expectedServers: number, retry: boolean): Promise<number> {
    const deadline = this.clock.now() + 10_000;
    while (this.clock.now() < deadline) {
      const index = this.submitToLeader(command);
      if (index === undefined) {
        await this.advance(50);
        continue;
      }
      let count = 0;
      await this.runUntil(this.clock.now() + 2000, () => {
        const found = this.nCommitted(index);
        count = sameCommand(found.command, command) ? found.count : 0;
        return count >= expectedServers;
      });
      if (count >= expectedServers) return index;
      if (!retry) break;
    }
    return this.checkFailed("one", `${JSON.stringify(command)} did not reach agreement`);
  }

  private submitToLeader(command: unknown): number | undefined {
    for (const id of this.connectedIds()) {
      const result = this.submitToServer(id, command);
      if (result.isLeader) return result.index;
    }
    return undefined;
  }

  /**
   * §6.4: asks node `id` for a linearizable read (ReadIndex) and lets virtual time run until it
   * answers (at most `deadlineMs`; it always answers within an election timeout): with the read
   * index it has applied through, or why no read can be served.
   */
  async read(id: NodeId, deadlineMs = 3000): Promise<ReadResult> {
    let result: ReadResult | undefined;
    void this.node(id)
      .readIndex()
      .then((r) => {
        result = r;
      });
    await this.runUntil(this.clock.now() + deadlineMs, () => result !== undefined);
    return (
      result ?? this.checkFailed("read", `n${id} did not answer a read within ${deadlineMs} ms`)
    );
  }

  /** How many nodes (connected or not) have applied index `index`, and what. */
  nCommitted(index: number): { count: number; command: unknown } {
    let count = 0;
    let command: unknown;
    for (const id of this.ids) {
      const entry = this.applied.get(id)![index - 1];
      if (entry === undefined) continue;
      count++;
      command = entry.command;
    }
    return { count, command };
  }

  /** Writes a comment into the test's own timeline. */
  note(text: string): void {
    this.tracer.emit(null, "note", { text });
  }

  /** Live nodes the test has not cut off: the ones checks look at. */
  connectedIds(): NodeId[] {
    const groups = this.network.partitionGroups();
    const main = groups.reduce((best, group) => (group.length > best.length ? group : best), []);
    return this.liveIds().filter((id) => this.network.isConnected(id) && main.includes(id));
  }

  /** The network as it is now, for the harness event of a fault. */
  networkView(): NetworkView {
    const connected = new Set(this.connectedIds());
    const cutOff = this.liveIds().filter((id) => !connected.has(id));
    return this.network.view(cutOff);
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
    this.tracer.emit(null, "check", { name: "checkNoLeader", ok: true, result: "no leader" });
  }

  /**
   * Waits (up to `deadlineMs`) until one connected node leads and every other connected node
   * follows it in its term: the cluster has settled. Returns the leader and its term.
   */
  async checkSettled(deadlineMs = 3000): Promise<{ leader: NodeId; term: number }> {
    const settled = (): NodeState | undefined => {
      const states = this.connectedIds().map((id) => this.state(id));
      const leaders = states.filter((s) => s.role === "leader");
      const leader = leaders[0];
      if (leaders.length !== 1 || leader === undefined) return undefined;
      const follow = states.every(
        (s) => s === leader || (s.role === "follower" && s.currentTerm === leader.currentTerm),
      );
      return follow ? leader : undefined;
    };
    await this.runUntil(this.clock.now() + deadlineMs, () => settled() !== undefined);
    const leader = settled();
    if (leader === undefined) {
      const states = this.connectedIds().map(
        (id) => `n${id} ${this.state(id).role} T${this.state(id).currentTerm}`,
      );
      return this.checkFailed(
        "checkSettled",
        `not settled within ${deadlineMs} ms: ${states.join(", ")}`,
      );
    }
    const result = { leader: leader.id, term: leader.currentTerm };
    this.tracer.emit(null, "check", { name: "checkSettled", ok: true, result });
    return result;
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

  /**
   * Waits (up to `deadlineMs` of virtual time) until every connected node has applied `command`,
   * and checks that all applied it at the same index. Returns how many did, and the index.
   */
  async checkCommitted(command: unknown, deadlineMs = 3000): Promise<CommitCheck> {
    const where = () => this.connectedIds().map((id) => this.appliedIndex(id, command));
    await this.runUntil(this.clock.now() + deadlineMs, () => where().every((i) => i > 0));
    const indices = where();
    const name = `checkCommitted(${JSON.stringify(command)})`;
    if (indices.some((i) => i === 0)) {
      const missing = this.connectedIds().filter((_, k) => indices[k] === 0);
      this.checkFailed(name, `not applied by [${missing}] within ${deadlineMs} ms`);
    }
    if (new Set(indices).size !== 1) {
      this.checkFailed(
        name,
        `applied at different indices by [${this.connectedIds()}]: ${indices}`,
      );
    }
    const result = { count: indices.length, index: indices[0]! };
    this.tracer.emit(null, "check", { name, ok: true, result });
    return result;
  }

  /** checkCommitted, and exactly `n` nodes applied it. */
  async checkCommittedN(command: unknown, n: number): Promise<CommitCheck> {
    const result = await this.checkCommitted(command);
    if (result.count !== n) {
      this.checkFailed(
        "checkCommittedN",
        `${JSON.stringify(command)} applied by ${result.count} nodes, expected ${n}`,
      );
    }
    return result;
  }

  /** No node at all, connected or not, has applied `command` (so far). */
  checkNotCommitted(command: unknown): void {
    const name = `checkNotCommitted(${JSON.stringify(command)})`;
    const holders = this.ids.filter((id) => this.appliedIndex(id, command) > 0);
    if (holders.length > 0) this.checkFailed(name, `applied by [${holders}]`);
    this.tracer.emit(null, "check", { name, ok: true });
  }

  /** The index at which node `id` applied `command`, or 0. */
  private appliedIndex(id: NodeId, command: unknown): number {
    const applied: AppliedEntry[] = this.applied.get(id)!;
    return applied.find((entry) => sameCommand(entry.command, command))?.index ?? 0;
  }

  private connectedLeaders(): NodeState[] {
    const connected = new Set(this.connectedIds());
    return this.leaders().filter((s) => connected.has(s.id));
  }

  protected checkFailed(name: string, message: string): never {
    this.tracer.emit(null, "check", { name, ok: false, error: message });
    throw this.failure(`${name}: ${message}`);
  }

  /** The error a failed check or a violation throws; the test harness adds the replay commands. */
  protected failure(message: string): Error {
    return new CheckFailure(`${message}\n  seed ${this.seed}`);
  }

  // ---- Ending a run ----

  /** Stops every node and lets in-flight messages and RPC timeouts run out. */
  async shutdown(): Promise<void> {
    if (this.isShutDown) return;
    this.isShutDown = true;
    // Marked in the trace, so the drops and RPC errors that follow read as the test's end.
    this.tracer.emit(null, "shutdown", {});
    for (const id of this.ids) this.stopNode(id);
    await this.clock.runUntilIdle(60_000);
  }
}

export interface CommitCheck {
  /** How many connected nodes applied the command. */
  count: number;
  index: number;
}

/** The snapshot `node` holds, as the trace names it; undefined when it has none. */
function snapshotSummary(node: RaftNode): SnapshotSummary | undefined {
  const snapshot = node.getSnapshot();
  if (snapshot === undefined) return undefined;
  const { lastIncludedIndex, lastIncludedTerm, data } = snapshot;
  return { lastIncludedIndex, lastIncludedTerm, size: data.length, digest: digestOf(data) };
}

export function describeViolation(v: Violation): string {
  const e = v.event;
  return `${v.invariant} violated at t=${e.t} ms on n${e.node}: ${v.message}`;
}
