// Liveness, measured from the trace the way safety is checked: every event passes through
// `observe`, and `report` says how available the cluster was. Safety says nothing bad happens;
// this says how much of the time something good could: a client's operation complete.
//
// The cluster serves at a moment when some node leads a term in which it has committed an entry
// (so it knows what is committed, §5.4.2 and §6.4) and a majority, itself included, follows it:
// each of those followers accepted an AppendEntries (or a snapshot's last chunk) of that term,
// and the leader received that answer, within the last `windowMs`. A client that reaches such a
// leader then sees its operation commit within a round trip or two. Everything it reads is in the
// trace: roles and terms on every node event, commits, the snapshots' chunks each leader sends,
// and the replies delivered to each leader.
//
// From that timeline of serving and gaps, the report gives:
// - `available`: the share of the measured time during which the cluster served;
// - the gaps, and the longest;
// - recoveries: after each heal of the network, reconnection of a node, or death of a leader
//   (crash, or a halt on a failed save), the time until the cluster serves and goes on serving
//   for `stableMs` without a gap (or until the measurement ends): a leader that a majority follows
//   and that commits, and that stays.
// It reads only the trace: the runs it measures are the same with it as without it. Each event
// costs O(1) (for a cluster of a given size): a leader's followers are kept most recent first.

import type { NodeId, Role } from "../raft.ts";
import type { TraceEvent } from "../trace.ts";

export interface LivenessOptions {
  /** A follower counts for its leader this long after the leader last received its acceptance. */
  windowMs: number;
  /** A recovery is complete once the cluster has served this long without a gap. */
  stableMs: number;
}

/** A window of one minimum election timeout (150 ms, three heartbeats); a second of stability. */
export const defaultLivenessOptions: LivenessOptions = { windowMs: 150, stableMs: 1000 };

export interface Interval {
  from: number;
  to: number;
}

/** What a recovery is counted from: a heal of the whole network, a node reconnected, a leader lost. */
export type RecoveryCause = "heal" | "reconnect" | "leader lost";

export interface Recovery {
  cause: RecoveryCause;
  at: number;
  /** Time from `at` to a stable serving cluster; null if it did not come before the end. */
  afterMs: number | null;
}

export interface LivenessReport {
  fromMs: number;
  toMs: number;
  /** Share (0 to 1) of [fromMs, toMs] during which a client's operation could complete. */
  available: number;
  /** The intervals during which it could not, clipped to [fromMs, toMs]. */
  gaps: Interval[];
  longestGapMs: number;
  recoveries: Recovery[];
}

/** What the meter knows of one node. */
interface NodeView {
  role: Role;
  term: number;
  /** As leader of `term`: whether it has committed an entry. */
  committed: boolean;
  /** As leader of `term`: the peers that accepted, most recent first, and when (same order). */
  peers: NodeId[];
  times: number[];
  /** As leader of `term`: the InstallSnapshot requests it sent that were a snapshot's last chunk. */
  lastChunks: Set<number>;
}

export class LivenessMeter {
  private readonly options: LivenessOptions;
  private readonly nodes = new Map<NodeId, NodeView>();
  private readonly views: NodeView[] = [];
  /** Followers a leader needs beside itself for a majority. */
  private readonly others: number;
  private readonly gapsSeen: Interval[] = [];
  private readonly causes: { cause: RecoveryCause; at: number }[] = [];
  /** Start of the gap under way, or null while the cluster serves. */
  private gapStart: number | null;
  private lastT: number;
  private readonly startT: number;
  /** servingUntil() as of the last event: recomputed only when a leader's view changes. */
  private until = Number.NEGATIVE_INFINITY;

  constructor(clusterSize: number, options: Partial<LivenessOptions> = {}, startMs = 0) {
    this.others = Math.floor(clusterSize / 2);
    this.options = { ...defaultLivenessOptions, ...options };
    this.gapStart = this.lastT = this.startT = startMs;
  }

  observe(e: TraceEvent): void {
    this.advanceTo(e.t);
    if (e.node === null) {
      if (e.kind === "heal" || e.kind === "reconnect") this.causes.push({ cause: e.kind, at: e.t });
      return;
    }
    if (e.role === null || e.term === null) return;
    const view = this.viewOf(e.node, e.role, e.term);
    if (view.role !== "leader") return;
    if (e.kind === "commit" && !view.committed) {
      view.committed = true;
      this.until = this.servingUntil();
    } else if (e.kind === "send" && e.details.rpc === "InstallSnapshot") {
      if (e.details.type === "request" && e.details.payload.done)
        view.lastChunks.add(e.details.msg);
    } else if (e.kind === "deliver" && e.details.type === "reply" && !e.details.late) {
      const d = e.details;
      const accepted =
        (d.rpc === "AppendEntries" && d.payload.success) ||
        (d.rpc === "InstallSnapshot" && d.payload.success && view.lastChunks.has(d.request));
      if (accepted && d.payload.term === view.term) {
        accept(view, d.from, e.t);
        this.until = this.servingUntil();
      }
    }
  }

  /** The report for [fromMs, toMs] (default: from the start to the last event). */
  report(toMs = this.lastT, fromMs = this.startT): LivenessReport {
    const all = this.gapsUntil(toMs);
    const gaps = all
      .map((g) => ({ from: Math.max(g.from, fromMs), to: Math.min(g.to, toMs) }))
      .filter((g) => g.to > g.from);
    const down = gaps.reduce((sum, g) => sum + g.to - g.from, 0);
    const span = toMs - fromMs;
    const { stableMs } = this.options;
    const recoveries = this.causes
      .filter((c) => c.at >= fromMs && c.at <= toMs)
      .map((c) => ({ ...c, afterMs: timeToStable(all, c.at, toMs, stableMs) }));
    return {
      fromMs,
      toMs,
      available: span > 0 ? 1 - down / span : 1,
      gaps,
      longestGapMs: gaps.reduce((longest, g) => Math.max(longest, g.to - g.from), 0),
      recoveries,
    };
  }

  /** From `at`, the time to a stable serving cluster by `toMs` (default: the last event), or null. */
  stableAfter(at: number, toMs = this.lastT): number | null {
    return timeToStable(this.gapsUntil(toMs), at, toMs, this.options.stableMs);
  }

  /** Every gap so far, in time order; the one under way, if any, is open (it has no end yet). */
  private gapsUntil(toMs: number): Interval[] {
    this.advanceTo(toMs);
    const all = [...this.gapsSeen];
    if (this.gapStart !== null) all.push({ from: this.gapStart, to: Number.POSITIVE_INFINITY });
    return all;
  }

  /** The node's view, after the event: with a new role or term, it starts counting afresh. */
  private viewOf(node: NodeId, role: Role, term: number): NodeView {
    let view = this.nodes.get(node);
    if (view === undefined) {
      view = { role, term, committed: false, peers: [], times: [], lastChunks: new Set() };
      this.nodes.set(node, view);
      this.views.push(view);
    }
    if (view.role === role && view.term === term) return view;
    if (view.role === "leader" && role === "dead") {
      this.causes.push({ cause: "leader lost", at: this.lastT });
    }
    const counted = view.role === "leader" || role === "leader";
    view.role = role;
    view.term = term;
    view.committed = false;
    view.peers.length = 0;
    view.times.length = 0;
    view.lastChunks.clear();
    if (counted) this.until = this.servingUntil();
    return view;
  }

  /**
   * Until when the cluster serves, as things stand: the latest moment at which some leader that
   * has committed in its term still has a majority's acceptances within the window.
   */
  private servingUntil(): number {
    let until = Number.NEGATIVE_INFINITY;
    for (const view of this.views) {
      if (view.role !== "leader" || !view.committed) continue;
      if (this.others === 0) return Number.POSITIVE_INFINITY;
      const oldestNeeded = view.times[this.others - 1];
      if (oldestNeeded !== undefined) until = Math.max(until, oldestNeeded + this.options.windowMs);
    }
    return until;
  }

  /** Extends the timeline of serving and gaps up to `t`, with the state after the last event. */
  private advanceTo(t: number): void {
    if (t < this.lastT) return;
    const until = this.until;
    if (until > this.lastT) {
      if (this.gapStart !== null) this.gapsSeen.push({ from: this.gapStart, to: this.lastT });
      this.gapStart = until < t ? until : null;
    } else if (this.gapStart === null) {
      this.gapStart = this.lastT;
    }
    this.lastT = t;
  }
}

/**
 * `peer` accepted at `t`, the latest time yet: it moves to the front of the leader's followers,
 * the others keep their order (so `times` stays most recent first without a sort).
 */
function accept(view: NodeView, peer: NodeId, t: number): void {
  let i = view.peers.indexOf(peer);
  if (i === -1) {
    i = view.peers.length;
    view.peers.push(peer);
    view.times.push(t);
  }
  for (; i > 0; i--) {
    view.peers[i] = view.peers[i - 1]!;
    view.times[i] = view.times[i - 1]!;
  }
  view.peers[0] = peer;
  view.times[0] = t;
}

/**
 * From `at`, the time until the cluster serves for `stableMs` without a gap (or until `end`, if
 * that comes first), given its `gaps` in time order; null if it does not serve again by `end`.
 */
function timeToStable(gaps: Interval[], at: number, end: number, stableMs: number): number | null {
  let t = at;
  for (const gap of gaps) {
    if (gap.to <= t) continue;
    if (gap.from >= t + stableMs) break;
    t = Math.max(t, gap.to);
  }
  return t > end ? null : t - at;
}

/** The report of a whole trace, as `LivenessMeter` would give it at its last event. */
export function measureLiveness(
  events: readonly TraceEvent[],
  clusterSize: number,
  options: Partial<LivenessOptions> = {},
): LivenessReport {
  const meter = new LivenessMeter(clusterSize, options, events[0]?.t ?? 0);
  for (const e of events) meter.observe(e);
  return meter.report();
}

/** One line for a report: `available 93.1% of 20.0 s (3 gaps, the longest 410 ms)`. */
export function describeLiveness(report: LivenessReport): string {
  const span = ((report.toMs - report.fromMs) / 1000).toFixed(1);
  const gaps = report.gaps.length;
  const longest = gaps === 0 ? "" : `, the longest ${report.longestGapMs} ms`;
  return `available ${(report.available * 100).toFixed(1)}% of ${span} s (${gaps} ${gaps === 1 ? "gap" : "gaps"}${longest})`;
}
