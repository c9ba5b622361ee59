// Continuous safety checks. Every trace event passes through `observe`, so a broken guarantee is
// caught at the event that broke it, with the seed, not at the end of the test (if at all).
//
// Part 1 checks the guarantees about elections:
// - Election Safety (Figure 3): at most one leader can be elected in a given term.
// - One vote per term (§5.2): a server grants at most one vote in a term, its own included.
// - Terms never go down: currentTerm only grows (Figure 2: "increases monotonically").
//
// Part 2 adds the guarantees about the log (Figure 3), mirroring each node's log from its
// `log.append` and `log.truncate` events:
// - Log Matching: two logs with an entry of the same index and term are identical up to it.
//   Checked by induction: every copy of (index, term) ever seen has the same command and the
//   same term just before it, which makes every copy's whole prefix the same.
// - Leader Append-Only: a leader never overwrites or deletes entries; it only appends.
// - Leader Completeness: an entry committed in a term is in the log of every leader of a later
//   term (checked when a leader is elected, and when an entry commits while later leaders rule).
// - State Machine Safety: no two nodes apply different entries at one index, checked at every
//   apply, not at the end.
// - Commit and apply order, which the last two rest on: a node's commitIndex only grows and
//   never passes the end of its log, committed entries are never removed, and a node applies
//   committed entries in index order, each once, with the entry its log holds there.
// They read only the trace, so a hand-made trace can show that each check is able to fail.
//
// What the checker remembers of a node outlives the node: votes and terms are kept by
// (node, term), so a node that crashes and comes back (part 3) is held to what it did before.
// `restarted` reconciles the record with the state a node restarts from.

import type { LogEntry, NodeId, Role } from "../raft.ts";
import type { EventOf, TraceEvent } from "../trace.ts";

export interface Violation {
  invariant: string;
  message: string;
  event: TraceEvent;
}

/** What a node holds when it starts again after a crash: its persistent state. */
export interface RestartState {
  currentTerm: number;
  votedFor: NodeId | null;
  log: LogEntry[];
}

export class SafetyChecker {
  readonly violations: Violation[] = [];
  private readonly leaderOfTerm = new Map<number, NodeId>();
  private readonly voteOf = new Map<string, NodeId>();
  private readonly termOf = new Map<NodeId, number>();
  private readonly roleOf = new Map<NodeId, Role>();
  /** Each node's log, rebuilt from its trace (entry i at [i - 1]). */
  private readonly logOf = new Map<NodeId, LogEntry[]>();
  private readonly commitOf = new Map<NodeId, number>();
  private readonly appliedOf = new Map<NodeId, number>();
  /** Per index, the first copy seen of the entry of each term, with the term of the one before. */
  private readonly entryOf: Map<number, { command: unknown; prevTerm: number; node: NodeId }>[] =
    [];
  /** Per index, the committed entry's term and the earliest term it was known committed in. */
  private readonly committed: { term: number; inTerm: number }[] = [];
  /** Per index, the first entry applied there and by whom. */
  private readonly appliedAt: { term: number; command: unknown; node: NodeId }[] = [];

  /** Checks one event; returns the violation it caused, if any. */
  observe(event: TraceEvent): Violation | undefined {
    if (event.node === null || event.term === null) return undefined;
    const found =
      this.checkTermNeverDecreases(event, event.node, event.term) ??
      this.checkElectionSafety(event, event.node, event.term) ??
      (event.kind === "vote" ? this.checkOneVotePerTerm(event, event.node) : undefined) ??
      this.checkLog(event, event.node);
    if (event.role !== null) this.roleOf.set(event.node, event.role);
    if (found) this.violations.push(found);
    return found;
  }

  /**
   * A node started again from `state` (its persistent state), at `event`. Its term must not be
   * lower than any term it reached before, and the vote it remembers for that term must be the
   * vote it gave: a node that forgot its vote could vote again in the same term. Its log is
   * checked entry by entry as if appended anew (so a log that never existed breaks Log
   * Matching), and its commitIndex and lastApplied start again from 0: they are volatile. What
   * it applies again must be what was applied at each index before, by it or anyone.
   */
  restarted(node: NodeId, state: RestartState, event: TraceEvent): Violation | undefined {
    const before = this.termOf.get(node) ?? 0;
    const vote = this.voteOf.get(`${node}@${state.currentTerm}`);
    const found =
      state.currentTerm < before
        ? violation(
            event,
            "Term monotonicity",
            `n${node} restarted in term ${state.currentTerm} after reaching term ${before}`,
          )
        : vote !== undefined && state.votedFor !== vote
          ? violation(
              event,
              "One vote per term",
              `n${node} restarted in term ${state.currentTerm} with votedFor ${state.votedFor}, but it voted for n${vote} in that term`,
            )
          : undefined;
    this.termOf.set(node, Math.max(before, state.currentTerm));
    this.logOf.set(node, []);
    this.commitOf.set(node, 0);
    this.appliedOf.set(node, 0);
    const restored = found ?? this.onAppend(event, node, 1, state.log);
    if (restored) this.violations.push(restored);
    return restored;
  }

  /** Entry `index` of `node`'s log as the trace has built it so far. */
  entryAt(node: NodeId, index: number): LogEntry | undefined {
    return this.logOf.get(node)?.[index - 1];
  }

  private checkLog(e: TraceEvent, node: NodeId): Violation | undefined {
    switch (e.kind) {
      case "log.append":
        return this.onAppend(e, node, e.details.index, e.details.entries);
      case "log.truncate":
        return this.onTruncate(e, node, e.details.from);
      case "commit":
        return this.onCommit(e, node, e.details.from, e.details.to);
      case "apply":
        return this.onApply(e, node);
      case "role":
        return e.details.to === "leader" ? this.checkNewLeaderComplete(e, node) : undefined;
      default:
        return undefined;
    }
  }

  private logOfNode(node: NodeId): LogEntry[] {
    const log = this.logOf.get(node) ?? [];
    this.logOf.set(node, log);
    return log;
  }

  private onAppend(e: TraceEvent, node: NodeId, index: number, entries: readonly LogEntry[]) {
    const log = this.logOfNode(node);
    if (index !== log.length + 1) {
      const invariant = e.role === "leader" ? "Leader Append-Only" : "Log Matching";
      const what = index <= log.length ? "over existing entries" : "past the end, leaving a gap";
      return violation(
        e,
        invariant,
        `n${node} appended at [${index}] ${what} (log ends at [${log.length}])`,
      );
    }
    for (const entry of entries) {
      const at = log.length + 1;
      const prevTerm = at === 1 ? 0 : log[at - 2]!.term;
      log.push(entry);
      const copies = this.entryOf[at] ?? new Map();
      this.entryOf[at] = copies;
      const first = copies.get(entry.term);
      if (first === undefined) {
        copies.set(entry.term, { command: entry.command, prevTerm, node });
      } else if (!sameCommand(first.command, entry.command) || first.prevTerm !== prevTerm) {
        return violation(
          e,
          "Log Matching",
          `[${at}] T${entry.term} is ${JSON.stringify(entry.command)} after a T${prevTerm} entry on n${node}, but ${JSON.stringify(first.command)} after a T${first.prevTerm} entry on n${first.node}`,
        );
      }
    }
    return undefined;
  }

  private onTruncate(e: TraceEvent, node: NodeId, from: number) {
    const log = this.logOfNode(node);
    const removed = log.length - from + 1;
    log.length = Math.min(log.length, from - 1);
    if (e.role === "leader") {
      return violation(
        e,
        "Leader Append-Only",
        `leader n${node} deleted ${removed} entries from [${from}]`,
      );
    }
    const commitIndex = this.commitOf.get(node) ?? 0;
    if (from <= commitIndex) {
      return violation(
        e,
        "Commit and apply order",
        `n${node} deleted committed entries from [${from}] (commitIndex ${commitIndex})`,
      );
    }
    return undefined;
  }

  private onCommit(e: TraceEvent, node: NodeId, from: number, to: number) {
    const log = this.logOfNode(node);
    const before = this.commitOf.get(node) ?? 0;
    this.commitOf.set(node, Math.max(before, to));
    if (from !== before || to <= from || to > log.length) {
      return violation(
        e,
        "Commit and apply order",
        `n${node} moved commitIndex ${from} → ${to}, but it was ${before} and its log ends at [${log.length}]`,
      );
    }
    for (let index = from + 1; index <= to; index++) {
      const { term } = log[index - 1]!;
      const known = this.committed[index];
      if (known !== undefined && known.term !== term) {
        return violation(
          e,
          "State Machine Safety",
          `n${node} committed [${index}] T${term}, but [${index}] T${known.term} was committed before`,
        );
      }
      this.committed[index] = { term, inTerm: Math.min(known?.inTerm ?? e.term!, e.term!) };
      for (const [leader, role] of this.roleOf) {
        const leaderTerm = this.termOf.get(leader) ?? 0;
        if (role !== "leader" || leaderTerm <= e.term!) continue;
        if (this.logOfNode(leader)[index - 1]?.term !== term) {
          return violation(
            e,
            "Leader Completeness",
            `[${index}] T${term} committed in term ${e.term} is missing from n${leader}, leader of term ${leaderTerm}`,
          );
        }
      }
    }
    return undefined;
  }

  private checkNewLeaderComplete(e: TraceEvent, node: NodeId) {
    const log = this.logOfNode(node);
    for (let index = 1; index < this.committed.length; index++) {
      const entry = this.committed[index];
      if (entry === undefined || entry.inTerm >= e.term!) continue;
      if (log[index - 1]?.term !== entry.term) {
        return violation(
          e,
          "Leader Completeness",
          `n${node} became leader of term ${e.term} without [${index}] T${entry.term}, committed in term ${entry.inTerm}`,
        );
      }
    }
    return undefined;
  }

  private onApply(e: EventOf<"apply">, node: NodeId) {
    const { index } = e.details;
    const entry = { term: e.details.term, command: e.details.command, node };
    const lastApplied = this.appliedOf.get(node) ?? 0;
    this.appliedOf.set(node, Math.max(lastApplied, index));
    const held = this.logOfNode(node)[index - 1];
    const commitIndex = this.commitOf.get(node) ?? 0;
    if (
      index !== lastApplied + 1 ||
      index > commitIndex ||
      held?.term !== entry.term ||
      !sameCommand(held.command, entry.command)
    ) {
      return violation(
        e,
        "Commit and apply order",
        `n${node} applied [${index}] T${entry.term} after [${lastApplied}], with commitIndex ${commitIndex} and T${held?.term} there in its log`,
      );
    }
    const first = this.appliedAt[index];
    if (first === undefined) {
      this.appliedAt[index] = entry;
      return undefined;
    }
    if (first.term === entry.term && sameCommand(first.command, entry.command)) return undefined;
    return violation(
      e,
      "State Machine Safety",
      `n${node} applied ${JSON.stringify(entry.command)} (T${entry.term}) at [${index}], n${first.node} applied ${JSON.stringify(first.command)} (T${first.term})`,
    );
  }

  private checkTermNeverDecreases(e: TraceEvent, node: NodeId, term: number) {
    const before = this.termOf.get(node) ?? 0;
    this.termOf.set(node, Math.max(before, term));
    if (term >= before) return undefined;
    return violation(e, "Term monotonicity", `n${node}'s term went down from ${before} to ${term}`);
  }

  private checkElectionSafety(e: TraceEvent, node: NodeId, term: number) {
    if (e.kind !== "role" || e.details.to !== "leader") return undefined;
    const other = this.leaderOfTerm.get(term);
    if (other === undefined || other === node) {
      this.leaderOfTerm.set(term, node);
      return undefined;
    }
    return violation(
      e,
      "Election Safety",
      `n${node} and n${other} are both leaders of term ${term}`,
    );
  }

  private checkOneVotePerTerm(e: EventOf<"vote">, node: NodeId) {
    if (!e.details.granted) return undefined;
    const { candidate, candidateTerm: term } = e.details;
    const key = `${node}@${term}`;
    const earlier = this.voteOf.get(key);
    if (earlier === undefined || earlier === candidate) {
      this.voteOf.set(key, candidate);
      return undefined;
    }
    return violation(
      e,
      "One vote per term",
      `n${node} voted for n${earlier} and then for n${candidate} in term ${term}`,
    );
  }
}

/**
 * Commands come from a trace: equal if equal as JSON. Plain data (what commands are) is compared
 * as it is, without encoding it twice; anything else is encoded.
 */
export function sameCommand(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isPlainData(a) && isPlainData(b)) return samePlainData(a, b);
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Strings, finite numbers, booleans, null, and arrays (without holes) and plain objects of them:
 * values whose JSON text is theirs alone, so that two are equal as JSON exactly when they are
 * equal value by value, and key by key in the same order.
 */
function isPlainData(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value);
    case "object": {
      if (value === null) return true;
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto === Array.prototype) {
        const array = value as unknown[];
        for (let i = 0; i < array.length; i++)
          if (!(i in array) || !isPlainData(array[i])) return false;
        return true;
      }
      if (proto !== Object.prototype && proto !== null) return false;
      const object = value as Record<string, unknown>;
      if (typeof object.toJSON === "function") return false;
      return Object.keys(object).every((key) => isPlainData(object[key]));
    }
    default:
      return false;
  }
}

/** Equality as JSON of two plain data values (see isPlainData). */
function samePlainData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const [x, y] = [a as Record<string, unknown>, b as Record<string, unknown>];
  const keys = Object.keys(x);
  const others = Object.keys(y);
  if (keys.length !== others.length) return false;
  return keys.every((key, i) => key === others[i] && samePlainData(x[key], y[key]));
}

/** A violation of `invariant` at `event`. */
export function violation(event: TraceEvent, invariant: string, message: string): Violation {
  return { invariant, message, event };
}
