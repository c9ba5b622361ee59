// One session: a part's cluster running in virtual time, in the browser or in Node, driven either
// by the reader (a free session) or by one of the part's tests (a scenario) until the reader takes
// it over. The session keeps the gates (gate.ts): at each one it applies the actions due there,
// then lets the simulation go on at the chosen speed, or holds it (paused, stepping, a violation).
//
// Determinism: the simulation moves only between gates, and at a gate every promise continuation
// has run. Gates open one at a time, in the order the parts' code queued them, as Node runs its
// immediates, and are numbered when their turn comes. An action is applied at a gate, in a task of its own (the reader's click, or the gate's
// task when a link is replayed), and the simulation goes on only after the action's own
// continuations have run. So the same actions at the same gates give the same trace, event for
// event, whatever the speed, the pauses, and the runtime.

import type { PartInfo } from "../parts.ts";
import {
  type Action,
  type ActionContext,
  ActionError,
  applyAction,
  describeAction,
  type TimedAction,
} from "./actions.ts";
import { type Gate, type Keeper, macrotask, setKeeper } from "./gate.ts";
import type { Catalog } from "./scenarios.ts";
import { type SessionSpec, toFragment } from "./spec.ts";
import type { KvClientLike, PartModule, SimClusterLike, TraceEventLike } from "./types.ts";
import { runDeclared, type TestOutcome } from "./vitest-shim.ts";

export interface MutantInfo {
  name: string;
  rule: string;
  /** The file of the part's src/ it edits, when not src/raft.ts. */
  file?: string;
  chaosCannotReach?: string;
}

/** A part as a bundle gives it: its code, its mutants and its tests. */
export interface Runtime {
  info: PartInfo;
  part: PartModule;
  mutants: MutantInfo[];
  /** Puts the mutant's src/raft.ts (null: the real one) in place for the clusters created next. */
  selectMutant(name: string | null): void;
  /** The part's test scenarios; null where tests are not bundled (Node, without a bundle). */
  catalog: Catalog | null;
}

export type Phase =
  /** the simulation goes on */
  | "running"
  /** held at a gate by the reader, a step, or the end of a replayed link */
  | "paused"
  /** held at the first safety or conformance violation */
  | "violation"
  /** the test ended, or the cluster can go no further */
  | "ended";

/** A gate queued by the parts' code, with the session generation that queued it. */
interface Queued {
  gate: Gate;
  generation: number;
}

/** The gate whose turn has come: the simulation stands there until it opens. */
export interface Held extends Queued {
  /** Its number: how many gates came before it in this session, plus one. */
  number: number;
  /** Its actions are applied and their continuations drained: it may open. */
  ready: boolean;
}

const hooked = new WeakSet<object>();
let active: Session | null = null;

/**
 * Makes every cluster of this part that starts (a test's, or the session's own) report to the
 * session that is running: the engine's one hook into the parts, on their SimCluster's startNodes.
 */
export function watchClusters(part: PartModule): void {
  const proto = part.clusterClass.prototype;
  if (hooked.has(proto)) return;
  hooked.add(proto);
  const startNodes = proto.startNodes;
  proto.startNodes = function (this: SimClusterLike) {
    active?.watch(this);
    startNodes.call(this);
  };
}

export class Session implements Keeper {
  readonly spec: SessionSpec;
  readonly runtime: Runtime;
  /** Actions taken so far: those of the link, then the reader's; what the session's link lists. */
  readonly actions: TimedAction[] = [];
  cluster: SimClusterLike | null = null;
  /** How many clusters the scenario has started (a test may start several, one after another). */
  clusters = 0;
  phase: Phase = "running";
  mode: "free" | "scenario" | "taken over";
  /** The scenario's test: running, or how it ended. */
  test: { state: "running" | "taken over" | TestOutcome["state"]; errors: string[] } | null = null;
  /** The first violation: its rule, what it says, the event that broke it. */
  violation: { invariant: string; message: string; event: TraceEventLike | null } | null = null;
  /** The gate at which the reader took the scenario over. */
  takeover: number | null = null;
  /** Hold (paused) once the cluster's clock reaches this virtual time, if set (Node runs of a link without `at`). */
  holdAtTime: number | null = null;
  /** Virtual ms per real ms; Infinity: as fast as the runtime goes. */
  private speed = Number.POSITIVE_INFINITY;
  private gate = 0;
  private generation = 0;
  /**
   * Gates queued and whose turn has not come, in order: the rest of a clock's batch, and those of
   * a second clock when a test runs two at once (part 4's client tests do).
   */
  private queued: Queued[] = [];
  /** The gate the simulation stands at: its turn has come, it has not opened. */
  private current: Held | null = null;
  /** The task that gives the next queued gate its turn is on its way. */
  private turning = false;
  private pacing: ReturnType<typeof setTimeout> | null = null;
  private anchor = { real: 0, virtual: 0 };
  private pausedAt = 0;
  private stepFrom: number | null = null;
  private readonly replay = new Map<number, Action[]>();
  private readonly cutLinks = new Set<string>();
  private starving: { node: number; cuts: [number, number][]; done: boolean }[] = [];
  private readonly kvQueues = new Map<string, Promise<unknown>>();
  private readonly kvClients = new Map<string, KvClientLike>();
  private seen = 0;
  private closed = false;
  private readonly changeListeners: (() => void)[] = [];
  private readonly settledWaiters: (() => void)[] = [];

  constructor(runtime: Runtime, spec: SessionSpec) {
    this.runtime = runtime;
    this.spec = spec;
    this.mode = spec.scenario === null ? "free" : "scenario";
    for (const { gate, action } of spec.actions) {
      this.replay.set(gate, [...(this.replay.get(gate) ?? []), action]);
    }
  }

  /** Starts the session (closing the one before it): its cluster, or its test. */
  start(): void {
    active?.close();
    active = this;
    setKeeper(this);
    watchClusters(this.runtime.part);
    this.runtime.selectMutant(this.spec.mutant);
    this.reanchor(0);
    if (this.spec.scenario === null) this.startFree();
    else void this.startScenario(this.spec.scenario);
  }

  // ---- The two ways a session runs ----

  private startFree(): void {
    const { part, info } = this.runtime;
    const raft = { ...info.session?.raft, ...offOf(this.spec) };
    const cluster = part.createCluster(this.spec.nodes, this.spec.seed, raft);
    const { latency, ...network } = cluster.network.config as Record<string, unknown> & {
      latency?: { description?: string };
    };
    const start = toFragment({ ...this.spec, actions: [], at: null, takeover: null });
    cluster.tracer.emit(null, "test.start", {
      test: "playground session",
      file: "tools/playground",
      part: info.name,
      seed: this.spec.seed,
      nodes: [...cluster.ids],
      replay: `pnpm playground --replay '#${start}' (then the session's actions, in its link)`,
      render: `pnpm playground --replay '<the session's link>' --trace session.jsonl && pnpm viz session.jsonl`,
      config: {
        raft,
        network: { ...network, latency: latency?.description },
      },
    });
    cluster.startNodes(); // watched: this.cluster is set
    void this.drive(cluster);
  }

  private async startScenario(scenario: { file: string; test: string }): Promise<void> {
    const found = this.runtime.catalog?.find(scenario.file, scenario.test);
    if (found === undefined) {
      this.test = { state: "fail", errors: [`no test "${scenario.test}" in ${scenario.file}`] };
      this.end();
      return;
    }
    this.test = { state: "running", errors: [] };
    // The harness reads its seed and trace folder from the environment (in a bundle: shims/globals.ts).
    process.env.RAFT_SEED = String(this.spec.seed);
    process.env.RAFT_TRACE_DIR = TRACE_DIR;
    const outcome = await runDeclared(found);
    if (this.closed || this.mode !== "scenario") return;
    this.test = { state: outcome.state, errors: outcome.errors };
    this.end();
  }

  /** A free session (or a scenario taken over): virtual time goes on until a violation. */
  private async drive(cluster: SimClusterLike): Promise<void> {
    const generation = this.generation;
    try {
      for (;;) await cluster.runUntil(cluster.clock.now() + 100);
    } catch (error) {
      // runUntil throws at the first violation (the session is already held there), or an action broke
      if (this.generation !== generation || this.closed) return;
      if (this.violation === null) {
        this.test = {
          state: "fail",
          errors: [error instanceof Error ? error.message : String(error)],
        };
      }
      this.end();
    }
  }

  /** Called by the part's startNodes for every cluster started while this session runs. */
  watch(cluster: SimClusterLike): void {
    if (this.closed) return;
    this.cluster = cluster;
    this.clusters++;
    this.seen = 0;
    this.cutLinks.clear();
    this.starving = [];
    this.kvQueues.clear();
    this.kvClients.clear();
    this.reanchor(0);
    const listener = () => {
      if (this.cluster === cluster && !this.closed) this.observe();
    };
    if (cluster.subscribe) cluster.subscribe(listener);
    else cluster.tracer.subscribe(listener);
    this.observe();
  }

  /** The trace of the current cluster, as its part records it (part 4: the clients' events too). */
  get events(): readonly TraceEventLike[] {
    const c = this.cluster;
    return c === null ? [] : (c.events ?? c.tracer.events);
  }

  /** New events: follow the network's cuts, notice the first violation. */
  private observe(): void {
    const events = this.events;
    for (; this.seen < events.length; this.seen++) {
      const e = events[this.seen]!;
      if (e.kind === "cut") this.cutLinks.add(`${e.details.from}>${e.details.to}`);
      else if (e.kind === "uncut") this.cutLinks.delete(`${e.details.from}>${e.details.to}`);
      else if (e.kind === "heal") this.cutLinks.clear();
      for (const s of this.starving) {
        const over =
          (e.node === s.node && (e.kind === "election.timeout" || e.role === "dead")) ||
          e.kind === "heal";
        if (over) s.done = true;
      }
      if (e.kind === "violation" && this.violation === null) {
        this.violation = {
          invariant: String(e.details.invariant),
          message: String(e.details.message),
          event: this.cluster?.firstViolation?.event ?? null,
        };
        this.hold("violation");
      }
    }
    this.changed();
  }

  // ---- Gates ----

  /** A gate, queued (through the parts' setImmediate) for each timer a clock fires. */
  pass(gate: Gate): void {
    this.queued.push({ gate, generation: this.generation });
    this.nextTurn();
  }

  /**
   * Unless the simulation stands at a gate, the next queued gate gets its turn, in a task of its
   * own: after every continuation of the gate that opened before it. (While that task is on its
   * way, `turning`, the reader's own task may take the turn first: see `turn`.)
   */
  private nextTurn(): void {
    if (this.current !== null || this.turning || this.queued.length === 0) return;
    this.turning = true;
    macrotask(() => {
      const held = this.turn();
      this.turning = false;
      if (held !== null && !this.closed) this.atGate(held);
    });
  }

  /**
   * The gate the simulation stands at, for the reader's actions (each in a task of its own, as
   * clicks are). Between two gates (the last one opened, its continuations have run, the next
   * one's task is on its way) the next queued gate takes its turn now: nothing of the simulation
   * can run before it, so the reader acting now acts at that gate, as a replay will.
   */
  private turn(): Held | null {
    if (this.current !== null || !this.turning) return this.current;
    let next = this.queued.shift();
    // cleared gates never open, nor do those of a test the reader took over
    while (next !== undefined && (next.gate.cleared || next.generation !== this.generation)) {
      next = this.queued.shift();
    }
    if (next === undefined) return null;
    this.current = { ...next, number: ++this.gate, ready: false };
    return this.current;
  }

  /** At the gate, in a task of its own: every continuation queued before it has run. */
  private atGate(held: Held): void {
    if (this.current !== held || this.closed) return;
    const applied = this.finishTimeouts() + this.applyReplayed(held.number);
    if (applied > 0) {
      macrotask(() => this.atGate(held)); // the actions' own continuations run first
      return;
    }
    if (this.spec.takeover === held.number && this.mode === "scenario") {
      this.takeOver();
      return;
    }
    const reachedTime =
      this.holdAtTime !== null && (this.cluster?.clock.now() ?? 0) >= this.holdAtTime;
    if (this.spec.at === held.number || reachedTime) this.hold("paused");
    if (this.stepFrom !== null && this.events.length > this.stepFrom) {
      this.hold("paused");
      this.stepFrom = null;
    }
    held.ready = true;
    this.changed();
    this.proceed();
  }

  /**
   * The link's actions due at this gate. One that cannot be done (a link written by hand: the
   * page records only what it could do) ends the session, saying which and why.
   */
  private applyReplayed(gate: number): number {
    const due = this.replay.get(gate);
    if (due === undefined) return 0;
    this.replay.delete(gate);
    for (const action of due) {
      try {
        this.record(gate, action);
      } catch (error) {
        if (!(error instanceof ActionError)) throw error;
        const what = `the link's action at gate ${gate} (${describeAction(action)}) cannot be done`;
        this.test = { state: "fail", errors: [`${what}: ${error.message}`] };
        this.end();
        break;
      }
    }
    return due.length;
  }

  /** Links cut for a timed-out node come back at the gate after its timer fired. */
  private finishTimeouts(): number {
    const done = this.starving.filter((s) => s.done);
    if (done.length === 0 || this.cluster === null) return 0;
    this.starving = this.starving.filter((s) => !s.done);
    for (const s of done) {
      for (const [from, to] of s.cuts) {
        if (this.cutLinks.has(`${from}>${to}`)) this.cluster.uncut(from, to);
      }
    }
    return done.length;
  }

  /** Opens the gate now, or when the chosen speed says, unless the session holds. */
  private proceed(): void {
    const held = this.current;
    if (held === null || !held.ready || this.phase !== "running" || this.pacing !== null) return;
    const wait = this.stepFrom !== null ? 0 : this.waitFor();
    if (wait <= 0) {
      this.open(held);
      return;
    }
    this.pacing = setTimeout(() => {
      this.pacing = null;
      this.open(held);
    }, wait);
  }

  private open(held: Held): void {
    if (this.current !== held || held.generation !== this.generation || this.phase !== "running")
      return;
    this.current = null;
    if (!held.gate.cleared) held.gate.open();
    this.nextTurn();
  }

  private hold(phase: "paused" | "violation"): void {
    if (this.phase === "running") this.pausedAt = this.displayTime();
    this.phase = phase;
    if (this.pacing !== null) clearTimeout(this.pacing);
    this.pacing = null;
    this.settled();
  }

  private end(): void {
    // the picture shows where the run ended (not where it last held, nor its start)
    if (this.phase === "running") this.pausedAt = this.cluster?.clock.now() ?? 0;
    if (this.phase !== "violation") this.phase = "ended";
    this.queued = [];
    this.current = null;
    this.settled();
    this.changed();
  }

  // ---- Speed and time ----

  /** Real ms to wait before the simulation may reach the clock's time now. */
  private waitFor(): number {
    if (!Number.isFinite(this.speed) || this.cluster === null) return 0;
    const virtual = this.cluster.clock.now();
    const due = this.anchor.real + (virtual - this.anchor.virtual) / this.speed;
    const wait = due - performance.now();
    // Far behind (a slow machine, a long computation): start counting again from here.
    if (wait < -250) this.reanchor(virtual);
    return wait;
  }

  private reanchor(virtual: number): void {
    this.anchor = { real: performance.now(), virtual };
  }

  /** Virtual ms per real ms (Infinity: no waiting at all). */
  setSpeed(speed: number): void {
    const now = this.displayTime();
    this.speed = speed;
    this.reanchor(now);
    if (this.pacing !== null) clearTimeout(this.pacing);
    this.pacing = null;
    this.proceed();
  }

  getSpeed(): number {
    return this.speed;
  }

  /**
   * The virtual time the reader should be shown: the simulation runs up to one timer ahead of it
   * (it fires a timer, then waits until real time catches up), so the view lags the trace a little.
   */
  displayTime(): number {
    const now = this.cluster?.clock.now() ?? 0;
    if (this.phase !== "running") return Math.min(this.pausedAt, now);
    if (!Number.isFinite(this.speed) || this.stepFrom !== null) return now;
    const shown = this.anchor.virtual + (performance.now() - this.anchor.real) * this.speed;
    return Math.max(0, Math.min(now, shown));
  }

  // ---- What the reader does ----

  pause(): void {
    if (this.phase === "running") this.hold("paused");
    this.changed();
  }

  /** Goes on; after a violation, the run ends as it would in the test (the check fails). */
  resume(): void {
    if (this.phase !== "paused" && this.phase !== "violation") return;
    this.phase = "running";
    this.reanchor(this.pausedAt);
    this.proceed();
    this.changed();
  }

  /** Runs until the trace has one more event, then holds again. */
  step(): void {
    if (this.phase !== "paused" || this.turn() === null) return;
    this.stepFrom = this.events.length;
    this.phase = "running";
    this.proceed();
  }

  /** Whether the reader's actions can reach the cluster now. */
  canAct(): boolean {
    return (
      this.cluster !== null &&
      (this.current !== null || this.turning) &&
      this.mode !== "scenario" &&
      (this.phase === "running" || this.phase === "paused")
    );
  }

  /**
   * Applies an action now, at the gate the simulation stands at, and records it for the link.
   * Throws ActionError (nothing changed) when it cannot be done.
   */
  act(action: Action): void {
    if (this.mode === "scenario")
      throw new ActionError("the test drives this cluster: take it over first");
    const held = this.canAct() ? this.turn() : null;
    if (held === null) throw new ActionError("the cluster is not running");
    this.catchUp(held);
    this.record(held.number, action);
    this.changed();
  }

  /**
   * The reader acts at a gate whose own task has not run yet: what that task would apply first
   * (the link's actions at this gate, restored links) is applied now, in the same order a replay
   * of the new link will apply them.
   */
  private catchUp(held: Held): void {
    if (held.ready) return;
    this.finishTimeouts();
    this.applyReplayed(held.number);
  }

  private record(gate: number, action: Action): void {
    if (this.cluster === null) throw new ActionError(`no cluster at gate ${gate}`);
    applyAction(this.context(this.cluster), action);
    this.actions.push({ gate, action });
  }

  private context(cluster: SimClusterLike): ActionContext {
    return {
      cluster,
      info: this.runtime.info,
      part: this.runtime.part,
      cutLinks: this.cutLinks,
      starve: (node, cuts) => this.starving.push({ node, cuts, done: false }),
      kvClient: (id) => {
        let client = this.kvClients.get(id);
        if (client === undefined) {
          if (cluster.client === undefined) throw new ActionError("this cluster has no clients");
          client = cluster.client(id);
          this.kvClients.set(id, client);
        }
        return client;
      },
      queueKv: (client, run) => {
        const before = this.kvQueues.get(client) ?? Promise.resolve();
        // The client traces how each operation ended; a failed one must not stop the queue.
        const next = before.then(run).catch(() => {});
        this.kvQueues.set(client, next);
      },
    };
  }

  /** The reader takes the scenario's cluster over: the test stops where it stands, for good. */
  takeOver(): void {
    const cluster = this.cluster;
    const held = this.mode === "scenario" ? this.turn() : null;
    if (cluster === null || held === null) {
      throw new ActionError("there is no running scenario to take over");
    }
    this.catchUp(held);
    this.takeover = held.number;
    this.generation++; // the test's gates never open: its code waits there forever
    this.queued = [];
    this.current = null;
    this.mode = "taken over";
    this.test = { state: "taken over", errors: [] };
    cluster.note("the reader takes the cluster over from the test");
    void this.drive(cluster);
    this.changed();
  }

  /** The session's link: everything needed to play it again up to where it stands now. */
  link(): SessionSpec {
    return {
      ...this.spec,
      takeover: this.takeover ?? this.spec.takeover,
      actions: [...this.actions],
      // between two gates: the next one, whose turn is on its way
      at: this.current?.number ?? (this.turning ? this.gate + 1 : this.gate),
    };
  }

  /** The gate the simulation stands at (or last passed). */
  gateNow(): number {
    return this.gate;
  }

  /** Ends the session for good (a new one starts): its simulation never moves again. */
  close(): void {
    this.closed = true;
    this.generation++;
    this.queued = [];
    this.current = null;
    if (this.pacing !== null) clearTimeout(this.pacing);
    this.pacing = null;
    if (active === this) {
      active = null;
      setKeeper(null);
    }
    this.settled();
  }

  // ---- Telling the page, and Node, what happened ----

  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  private changed(): void {
    for (const listener of this.changeListeners) listener();
  }

  /** Resolves once the session holds or ends: paused (the link's end), a violation, or the end. */
  settledNow(): Promise<void> {
    if (this.phase !== "running" || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  private settled(): void {
    for (const resolve of this.settledWaiters.splice(0)) resolve();
  }
}

/** The options a free session turns off (the link's `off`), as RaftConfig fields. */
function offOf(spec: SessionSpec): Record<string, boolean> {
  return Object.fromEntries(spec.off.map((name) => [name, false]));
}

/** Where the harness writes a test's trace file (in the bundle's memory: shims/fs.ts). */
export const TRACE_DIR = "/traces";
