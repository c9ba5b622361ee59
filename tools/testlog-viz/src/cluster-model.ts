// The cluster at any moment of a trace, as the cluster view (page/cluster-view.ts) draws it: each
// node's role, term, vote, log and storage, whether it is dead and why, its election timer, the
// votes a candidate holds, (part 5) its snapshot, the chunks of a leader's snapshot it has taken
// so far and whether a leader reported it lost data; each message in flight between two nodes
// and how far it has come; the network's groups and cut links; each client's operation and the
// attempt it is making.
//
// It is fed trace events (docs/trace-format.md) a few at a time (`append`), so a page can give it
// a whole trace and a simulation running in the browser can give it events as they happen. It
// reuses what the timeline computes (model.ts: lanes and state operations; state.ts: replaying
// them), so the cluster view and the table never disagree. No DOM and no Node APIs: it runs in the
// page's bundle, and in Node for the tests.

import { type ClientLane, nextClientLanes } from "./clients.ts";
import { type Details, isObject, type ProcessExit, processExitOf } from "./kinds.ts";
import {
  type AvailabilityConfig,
  AvailabilityWatch,
  type Lane,
  leaseOf,
  nextLanes,
  opsOf,
  START,
  STORAGE_KINDS,
} from "./model.ts";
import { applyOp, type ClusterState, type NodeState, type Op, StateReplay } from "./state.ts";
import { eventOf, type TraceEvent } from "./trace.ts";

/** A moment of the trace: after event `index`, at time `t`. */
export interface Moment {
  index: number;
  t: number;
}

/** A message between two nodes, from its send to its delivery or drop. */
export interface Flight {
  msg: number;
  from: number;
  to: number;
  rpc: string;
  type: "request" | "reply";
  heartbeat: boolean;
  payload: Details;
  sent: Moment;
  /** its delivery or drop; null while it travels (or when the trace ends first) */
  end: Moment | null;
  how: "delivered" | "dropped" | "open";
  /** why the network dropped it: "lost", "link cut", "receiver dead" */
  reason: string | null;
  /** a reply whose call was over when it came (timed out, or its caller restarted) */
  late: boolean;
  /** a second copy the network made */
  duplicate: boolean;
}

/** One run of a node's election timer, from a reset to the next reset, its firing or its end. */
export interface TimerRun {
  start: Moment;
  end: Moment | null;
  /** when it fired: the trace then says how long it ran (`election.timeout`'s timeoutMs) */
  fired: { t: number; afterMs: number } | null;
}

/** A client's attempt at a node, from `client.send` to `client.answer`. */
export interface Attempt {
  client: string;
  seq: number;
  to: number;
  sent: Moment;
  end: Moment | null;
  status: string | null;
}

/** Why a node is down, from the event that stopped it. */
interface Death {
  index: number;
  why: string;
}

/**
 * Part 5: what a follower holds of a leader's snapshot while its chunks come (Figure 13, receiver
 * rules 2-4), from a `snapshot.chunk` on; null once it is installed or gone (a crash loses it).
 */
export interface Incoming {
  index: number;
  /** the snapshot's last entry, and how many characters of its text the follower holds */
  receiving: { from: number; through: number; holds: number } | null;
}

/** Part 5: a leader's `data.lost` report about a follower. */
export interface LostData {
  index: number;
  t: number;
  /** the leader that saw it, and what the follower had acknowledged */
  by: number;
  acknowledged: number;
}

/** §5.2 suggests 150–300 ms, and the parts use it when a test sets no other range. */
const DEFAULT_TIMEOUT: [number, number] = [150, 300];

export class ClusterModel {
  readonly events: TraceEvent[] = [];
  /** lines that could not be read, and events shown as they are */
  readonly problems: string[] = [];
  readonly nodes: number[] = [];
  readonly clients: string[] = [];
  readonly flights: Flight[] = [];
  readonly attempts: Attempt[] = [];
  readonly timers = new Map<number, TimerRun[]>();
  /** the trace keeps state on disk (part 3 on), has logs (part 2 on) */
  storage = false;
  logs = false;
  /** the election timeouts' range, from the test's or a node's configuration */
  timeoutRange: [number, number] | null = null;
  /** part 6 on: the lease the nodes keep (CheckQuorum's); null before part 6 */
  availability: AvailabilityConfig | null = null;
  private readonly watch = new AvailabilityWatch();
  private raftConfig: unknown;
  /** after each event: the nodes' lanes (in `nodes` order), the clients', the cut links */
  private readonly lanes: Lane[][] = [];
  private readonly clientLanes: (ClientLane | null)[][] = [];
  private readonly cuts: string[][] = [];
  private readonly ops: (Op[] | null)[] = [];
  private readonly column = new Map<number, number>();
  private readonly clientColumn = new Map<string, number>();
  private readonly open = new Map<number, Flight>();
  private readonly unfinished = new Set<Flight>();
  private longestEnded = 0;
  /** how long the first delivered messages took, for typicalFlight */
  private readonly samples: number[] = [];
  private typical: number | null = null;
  private readonly openAttempts = new Map<string, Attempt>();
  private readonly votes = new Map<number, { index: number; term: number; from: number }[]>();
  private readonly deaths = new Map<number, Death[]>();
  private readonly faults = new Map<number, number[]>();
  private readonly incoming = new Map<number, Incoming[]>();
  private readonly lost = new Map<number, LostData[]>();
  private replay: {
    storage: boolean;
    replay: StateReplay;
    at: number;
    state: ClusterState;
  } | null = null;

  /** `nodes`: the cluster's nodes when known before their events (a page's whole trace). */
  constructor(nodes: readonly number[] = []) {
    for (const id of nodes) this.addNode(id);
  }

  /** Adds events in trace order: objects of the JSON-lines format, read as `pnpm viz` reads them. */
  append(values: readonly unknown[]): void {
    for (const value of values) {
      const event = eventOf(value, this.events.length + 1, this.problems);
      if (event !== null) this.add(event);
    }
  }

  /** Adds events that are already read (the page's, from its trace). */
  appendEvents(events: readonly TraceEvent[]): void {
    for (const event of events) this.add(event);
  }

  private add(e: TraceEvent): void {
    const index = this.events.length;
    this.events.push(e);
    this.learn(e);
    const before = this.lanes[index - 1] ?? this.nodes.map(() => START);
    const after = nextLanes(before, e, this.column, this.nodes);
    this.lanes.push(after);
    this.clientLanes.push(nextClientLanes(this.clientLanes[index - 1] ?? [], e, this.clientColumn));
    this.ops.push(opsOf(e, before, after, this.column, this.watch.on));
    this.cuts.push(this.cutLinks(e, this.cuts[index - 1] ?? []));
    const at = { index, t: e.t };
    this.trackFlight(e, at);
    this.trackTimer(e, at, before, after);
    this.trackNode(e, at);
    this.trackSnapshots(e, at);
    this.trackDeaths(e, at, before, after);
  }

  /** Why each node that goes down in this event does: the event that took it down says. */
  private trackDeaths(e: TraceEvent, at: Moment, before: Lane[], after: Lane[]): void {
    after.forEach((lane, i) => {
      if (!lane.dead || before[i]?.dead) return;
      const node = this.nodes[i]!;
      const list = this.deaths.get(node) ?? [];
      this.deaths.set(node, list);
      list.push({ index: at.index, why: deathWords(e) });
    });
  }

  /** Nodes, clients, storage and timeouts an event tells of; a node first seen gets a lane. */
  private learn(e: TraceEvent): void {
    const ids: number[] = [];
    if (e.node !== null) ids.push(e.node);
    if (e.known && e.kind === "test.start") {
      ids.push(...e.details.nodes);
      this.timeoutRange ??= rangeOf(e.details.config.raft);
      this.raftConfig ??= e.details.config.raft;
    }
    if (e.known && e.kind === "process.start" && isObject(e.details.config)) {
      this.timeoutRange ??= rangeOf(e.details.config.raft);
      this.raftConfig ??= e.details.config.raft;
    }
    this.watch.see(e);
    if (this.watch.on) this.availability ??= leaseOf(this.raftConfig);
    for (const id of ids) this.addNode(id);
    if (e.known && e.kind.startsWith("client.")) {
      const name = (e.details as { client: string }).client;
      if (!this.clientColumn.has(name)) {
        this.clientColumn.set(name, this.clients.length);
        this.clients.push(name);
      }
    }
    if (STORAGE_KINDS.has(e.kind)) this.storage = true;
    if (LOG_KINDS.has(e.kind)) this.logs = true;
  }

  private addNode(id: number): void {
    if (this.column.has(id)) return;
    this.column.set(id, this.nodes.length);
    this.nodes.push(id);
    const last = this.lanes.at(-1);
    if (last !== undefined) this.lanes[this.lanes.length - 1] = [...last, START];
  }

  /** Sends open a flight; a delivery or a drop ends it (a second delivery is a copy of its own). */
  private trackFlight(e: TraceEvent, at: Moment): void {
    if (!e.known || e.node === null) return;
    if (e.kind === "send") {
      const { msg, to, rpc, type, heartbeat, payload } = e.details;
      const flight: Flight = {
        ...{ msg, from: e.node, to, rpc, type, heartbeat, payload, sent: at },
        ...{ end: null, how: "open", reason: null, late: false, duplicate: false },
      };
      this.flights.push(flight);
      this.open.set(msg, flight);
      this.unfinished.add(flight);
    } else if (e.kind === "deliver" || e.kind === "drop") {
      const flight = this.open.get(e.details.msg);
      if (flight === undefined) return;
      if (flight.end !== null) {
        // the network duplicated it: the copy travels from the same send
        this.flights.push({ ...flight, end: at, how: "delivered", duplicate: true });
        return;
      }
      flight.end = at;
      this.unfinished.delete(flight);
      this.longestEnded = Math.max(this.longestEnded, at.t - flight.sent.t);
      if (e.kind === "deliver" && this.samples.length < TYPICAL_SAMPLES) {
        this.samples.push(at.t - flight.sent.t);
      }
      flight.how = e.kind === "drop" ? "dropped" : "delivered";
      flight.reason = e.kind === "drop" ? e.details.reason : null;
      flight.late = e.kind === "deliver" && e.details.late === true;
    }
  }

  /**
   * Figure 2 restarts a follower's or candidate's election timer on three events only: it
   * grants a vote (its own, at the start of an election, too), it hears from the current leader,
   * or it starts. A leader has none; a dead node has none.
   */
  private trackTimer(e: TraceEvent, at: Moment, before: Lane[], after: Lane[]): void {
    if (e.known && e.kind === "test.start") {
      for (const id of e.details.nodes) this.resetTimer(id, at);
      return;
    }
    if (e.known && (e.kind === "restart" || e.kind === "crash")) {
      if (e.kind === "restart") this.resetTimer(e.details.node, at);
      else this.stopTimer(e.details.node, at);
      return;
    }
    if (e.node === null) return;
    const i = this.column.get(e.node)!;
    const [was, now] = [before[i] ?? START, after[i]!];
    if (e.known && e.kind === "election.timeout") {
      this.stopTimer(e.node, at, e.details.timeoutMs);
    } else if (now.dead || now.role === "leader") {
      this.stopTimer(e.node, at);
    } else if (resetsTimer(e, was, now)) {
      this.resetTimer(e.node, at);
    }
  }

  private resetTimer(node: number, at: Moment): void {
    this.stopTimer(node, at);
    const runs = this.timers.get(node) ?? [];
    this.timers.set(node, runs);
    runs.push({ start: at, end: null, fired: null });
  }

  private stopTimer(node: number, at: Moment, firedAfterMs?: number): void {
    const run = this.timers.get(node)?.at(-1);
    if (run === undefined || run.end !== null) return;
    run.end = at;
    if (firedAfterMs !== undefined) run.fired = { t: at.t, afterMs: firedAfterMs };
  }

  /** A candidate's votes, and the clients' attempts. */
  private trackNode(e: TraceEvent, at: Moment): void {
    if (!e.known) return;
    if (e.kind === "vote.reply" && e.details.granted && e.node !== null) {
      const list = this.votes.get(e.node) ?? [];
      this.votes.set(e.node, list);
      list.push({ index: at.index, term: e.term ?? 0, from: e.details.from });
    }
    if (e.kind === "client.send") {
      const { client, seq, to } = e.details;
      const attempt = { client, seq, to, sent: at, end: null, status: null };
      this.attempts.push(attempt);
      this.openAttempts.set(client, attempt);
    } else if (e.kind === "client.answer") {
      const attempt = this.openAttempts.get(e.details.client);
      if (attempt === undefined || attempt.end !== null) return;
      attempt.end = at;
      attempt.status = e.details.status;
    }
  }

  /**
   * Part 5: the chunks a follower holds of a snapshot coming in, and the leaders' reports of a
   * follower that lost data. A chunk taken adds to what it holds (its offset and size say up to
   * where); one refused leaves that as it was; the install ends it, and so does a crash or a
   * restart, which lose what was in memory only.
   */
  private trackSnapshots(e: TraceEvent, at: Moment): void {
    if (!e.known) return;
    if (e.kind === "data.lost" && e.node !== null) {
      const { peer, acknowledged } = e.details;
      const list = this.lost.get(peer) ?? [];
      this.lost.set(peer, list);
      list.push({ index: at.index, t: at.t, by: e.node, acknowledged });
      return;
    }
    const node =
      e.kind === "crash" || e.kind === "restart"
        ? e.details.node
        : e.kind === "snapshot.chunk" || e.kind === "snapshot.install"
          ? e.node
          : null;
    if (node === null) return;
    const list = this.incoming.get(node) ?? [];
    this.incoming.set(node, list);
    if (e.kind !== "snapshot.chunk") {
      if (list.at(-1)?.receiving) list.push({ index: at.index, receiving: null });
      return;
    }
    const { from, lastIncludedIndex: through, offset, size, done, taken } = e.details;
    if (!taken) return;
    list.push({
      index: at.index,
      // the last chunk's install follows at once, in the same step of the node
      receiving: done ? null : { from, through, holds: offset + size },
    });
  }

  /**
   * The links cut one way, as `from>to`: the harness's `cut` and `uncut`, and a real node's fault
   * injection (`faults`: it drops every message to and from those peers).
   */
  private cutLinks(e: TraceEvent, cuts: string[]): string[] {
    if (!e.known) return cuts;
    if (e.kind === "cut" || e.kind === "uncut") {
      const link = `${e.details.from}>${e.details.to}`;
      const rest = cuts.filter((c) => c !== link);
      return e.kind === "cut" ? [...rest, link] : rest;
    }
    if (e.kind === "heal") return [];
    if (e.kind !== "faults" || e.node === null) return cuts;
    this.faults.set(e.node, e.details.drop);
    const links = [...this.faults].flatMap(([node, peers]) =>
      peers.flatMap((peer) => [`${node}>${peer}`, `${peer}>${node}`]),
    );
    return [...new Set(links)];
  }

  // ---- What the view asks ----

  /** The last event at or before time t (-1 before the first). */
  indexAt(t: number): number {
    return lastWhere(this.events.length, (i) => this.events[i]!.t <= t);
  }

  lanesAt(index: number): Lane[] {
    return this.lanes[index] ?? this.nodes.map(() => START);
  }

  clientLanesAt(index: number): (ClientLane | null)[] {
    return this.clientLanes[index] ?? this.clients.map(() => null);
  }

  cutsAt(index: number): [number, number][] {
    return (this.cuts[index] ?? []).map((c) => c.split(">").map(Number) as [number, number]);
  }

  /**
   * The cluster's state after event `index`. The model keeps it to move on from: read it before
   * asking again. A later index near the last one asked (playing, stepping) replays only the
   * events between; any other is replayed from the nearest saved state (state.ts).
   */
  stateAt(index: number): ClusterState {
    if (this.replay?.storage !== this.storage) {
      const replay = new StateReplay(this.nodes, (i) => this.ops[i] ?? null, this.storage);
      this.replay = { storage: this.storage, replay, at: -2, state: new Map() };
    }
    const { at, state } = this.replay;
    if (at >= -1 && index > at && index - at <= NEAR) {
      for (let i = at + 1; i <= index; i++) for (const op of this.ops[i] ?? []) applyOp(state, op);
    } else if (at !== index) {
      this.replay.state = this.replay.replay.after(index);
    }
    this.replay.at = index;
    return this.replay.state;
  }

  /** Part 5: what node `id` holds of a snapshot coming in after event `index`, if anything. */
  incomingAt(id: number, index: number): Incoming["receiving"] {
    return this.incoming.get(id)?.findLast((r) => r.index <= index)?.receiving ?? null;
  }

  /** Part 5: the first report, by event `index`, that node `id` lost data it had acknowledged. */
  lostDataAt(id: number, index: number): LostData | null {
    return this.lost.get(id)?.find((r) => r.index <= index) ?? null;
  }

  /** Why node `id` is down after event `index`, from the last event that stopped it. */
  deathOf(id: number, index: number): string | null {
    return this.deaths.get(id)?.findLast((d) => d.index <= index)?.why ?? null;
  }

  /** The nodes whose votes a candidate holds after event `index` in its term, itself first. */
  votesOf(id: number, index: number, term: number): number[] {
    const granted = (this.votes.get(id) ?? []).filter((v) => v.index <= index && v.term === term);
    return [id, ...granted.map((v) => v.from)];
  }

  /** The run of `id`'s election timer at a moment, if it has one then. */
  timerAt(id: number, index: number): TimerRun | null {
    const runs = this.timers.get(id) ?? [];
    for (let i = runs.length - 1; i >= 0; i--) {
      const run = runs[i]!;
      if (run.start.index > index) continue;
      return run.end === null || run.end.index > index ? run : null;
    }
    return null;
  }

  /**
   * The messages to draw at a moment, with how far each has come (0 at its sender, 1 at its
   * receiver). A message travels from its send to its delivery or drop by the clock; one that
   * took no time by the clock (a millisecond clock, one machine) by the events between them, so
   * stepping through rows still shows it. A dropped message is shown falling for a moment after
   * the drop, where it was lost.
   */
  flightsAt(index: number, t: number): FlightAt[] {
    const fall = this.typicalFlight();
    const out: FlightAt[] = [];
    // flights are in order of their sends: walk back from the last one sent by `index`
    for (let i = this.lastSentBy(index); i >= 0; i--) {
      const f = this.flights[i]!;
      if (f.sent.t < t - this.longest - fall) break;
      const at = flightAt(f, index, t, fall);
      if (at !== null) out.push(at);
    }
    return out.reverse();
  }

  private lastSentBy(index: number): number {
    return lastWhere(this.flights.length, (i) => this.flights[i]!.sent.index <= index);
  }

  /** The longest time a message took or has been travelling, so a walk back knows where to stop. */
  private get longest(): number {
    const last = this.events.at(-1)?.t ?? 0;
    let most = this.longestEnded;
    for (const f of this.unfinished) most = Math.max(most, last - f.sent.t);
    return most;
  }

  /** The median time of the first delivered messages (at least 1 ms): how long a drop is shown. */
  typicalFlight(): number {
    if (this.typical === null || this.samples.length < TYPICAL_SAMPLES) {
      const sorted = this.samples.slice().sort((a, b) => a - b);
      this.typical = Math.max(1, sorted[sorted.length >> 1] ?? 1);
    }
    return this.typical;
  }

  /** The election timeouts' range: configured, else §5.2's 150–300 ms (the parts' default). */
  range(): [number, number] {
    return this.timeoutRange ?? DEFAULT_TIMEOUT;
  }
}

/** The last of `count` positions where `holds` is true, for a `holds` true up to some point. */
function lastWhere(count: number, holds: (i: number) => boolean): number {
  let [low, high, found] = [0, count - 1, -1];
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (holds(mid)) {
      found = mid;
      low = mid + 1;
    } else high = mid - 1;
  }
  return found;
}

/** Moving forward by up to this many events replays them from the state shown last. */
const NEAR = 200;

/** How many delivered messages' times make the typical one. */
const TYPICAL_SAMPLES = 200;

/** A message drawn at a moment: how far it has come, and whether it is falling (dropped). */
export interface FlightAt {
  flight: Flight;
  progress: number;
  falling: boolean;
}

/** Where a flight is at a moment, or null when it is not to be drawn then. */
function flightAt(f: Flight, index: number, t: number, fall: number): FlightAt | null {
  if (f.sent.index > index) return null;
  const end = f.end;
  if (end === null) {
    // still travelling when the trace (so far) ends: by the typical time, never quite there
    return { flight: f, progress: Math.min(0.9, (t - f.sent.t) / fall), falling: false };
  }
  const took = end.t - f.sent.t;
  // lost at once (at the send): it falls near its sender; later (link cut, receiver down) at the end
  const where = took > 0 ? 1 : end.index === f.sent.index + 1 ? 0.15 : 1;
  if (end.index <= index) {
    if (f.how !== "dropped" || t > end.t + fall) return null;
    return { flight: f, progress: where, falling: true };
  }
  if (took > 0) return { flight: f, progress: clamp((t - f.sent.t) / took), falling: false };
  const steps = end.index - f.sent.index;
  return { flight: f, progress: Math.min(where, (index - f.sent.index) / steps), falling: false };
}

const clamp = (x: number) => Math.max(0, Math.min(1, x));

const LOG_KINDS = new Set([
  ...["log.append", "log.truncate", "commit", "apply", "submit", "restart"],
  ...["log.compact", "snapshot.install"],
]);

function rangeOf(raft: unknown): [number, number] | null {
  if (!isObject(raft)) return null;
  const { electionTimeoutMinMs: min, electionTimeoutMaxMs: max } = raft;
  return typeof min === "number" && typeof max === "number" ? [min, max] : null;
}

/** Whether an event restarts the node's election timer (Figure 2; see trackTimer). */
function resetsTimer(e: TraceEvent, was: Lane, now: Lane): boolean {
  if (!e.known) return false;
  switch (e.kind) {
    case "vote":
      return e.details.granted;
    case "process.start":
    // part 6 (§9.6): asking for pre-votes restarts the timer, so the next timeout asks again
    case "prevote.start":
      return true;
    case "role":
      // a leader that steps down needs a timer again; a candidate's keeps running
      return was.role === "leader" && now.role === "follower";
    case "deliver": {
      const { rpc, type, payload } = e.details;
      // the current leader speaks by AppendEntries, from part 5 by InstallSnapshot too, and
      // from part 6 by TimeoutNow (its target hears from the leader, then campaigns)
      const fromLeader =
        rpc === "AppendEntries" || rpc === "InstallSnapshot" || rpc === "TimeoutNow";
      if (!fromLeader || type !== "request" || typeof payload.term !== "number") {
        return false;
      }
      // from the current leader: its term is not behind this node's
      return (
        payload.term >= (was.term ?? 0) && !(now.role === "leader" && payload.term === now.term)
      );
    }
    default:
      return false;
  }
}

function exitWords({ code, signal, expected }: ProcessExit): string {
  const how = signal !== null ? `killed by ${signal}` : `exited with status ${code}`;
  return expected ? `stopped (${how})` : how;
}

/** Why an event took a node down, in a few words. */
function deathWords(e: TraceEvent): string {
  const exit = processExitOf(e);
  if (exit !== null) return exitWords(exit);
  if (!e.known) return "down";
  switch (e.kind) {
    case "crash":
      return "crashed by the test";
    case "halt":
      return `halted: ${e.details.reason}`;
    case "fault":
      return e.details.action === "stop" ? "stopped by the test" : "killed by the test";
    case "role":
      return e.details.reason;
    default:
      return "stopped";
  }
}

export type { NodeState };
