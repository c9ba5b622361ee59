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
// (node, term), so a node that crashes and comes back is held to what it did before.
// `restarted` reconciles the record with the state a node restarts from. Part 3 holds a restarted
// node to what it said, not to what it only thought: a term or a vote it reached in memory but
// never saved and never sent (it crashed first) is rightly gone, and it may reach that term and
// vote in it anew. A term it sent a message in, or a vote it sent, must have survived.
//
// Part 5 (§7) keeps the checks true across snapshots. A node's log mirror starts after its
// snapshot (`log.compact` moves the start), and a node that restored a snapshot applies from the
// entry after it. State Machine Safety then compares states, not only entries:
// - every snapshot at an index (taken, installed or restored, on any node) has the same contents;
// - with the simulation's state machine (state-machine.ts), that is the state the committed
//   entries through that index make, which the checker computes itself;
// - a snapshot's last entry has the term of the entry committed there.
// A snapshot is of applied state (its index at most lastApplied when taken, at most commitIndex
// when restored), and with a `maxAppliedInLog` a node's log holds no more applied entries than
// that on any event: the log is bounded, as MIT's MAXLOGSIZE checks.
//
// Part 6 adds reads without log entries (ReadIndex, thesis §6.4), and one guarantee for them:
// - Read index: a read is served at an index at least as high as every entry committed anywhere
//   before it arrived (else it could miss a write that completed before it began: not
//   linearizable), and only once its node has applied through that index.

import type { LogEntry, NodeId, Role } from "../raft.ts";
import type { EventOf, SnapshotSummary, TraceEvent } from "../trace.ts";
import { StateDigests } from "./state-machine.ts";

export interface Violation {
  invariant: string;
  message: string;
  event: TraceEvent;
}

/** What a node holds when it starts again after a crash: its persistent state. */
export interface RestartState {
  currentTerm: number;
  votedFor: NodeId | null;
  /** The entries after the snapshot, if there is one. */
  log: readonly LogEntry[];
  snapshot?: SnapshotSummary;
}

export interface SafetyOptions {
  /**
   * At most this many applied entries in a node's log after its snapshot, on every event (the
   * snapshot policy's snapshotAfterEntries); unset: no bound.
   */
  maxAppliedInLog?: number;
  /** Snapshots are the simulation's (state-machine.ts): check each against the committed entries. */
  simulatedStates?: boolean;
}

/** A node's log as the trace builds it: the entries after its snapshot's last one (`base`). */
interface Mirror {
  base: number;
  baseTerm: number;
  entries: LogEntry[];
}

export class SafetyChecker {
  readonly violations: Violation[] = [];
  private readonly leaderOfTerm = new Map<number, NodeId>();
  private readonly voteOf = new Map<string, NodeId>();
  private readonly termOf = new Map<NodeId, number>();
  /** The highest term each node has sent a message in: what the rest of the cluster has seen. */
  private readonly spokenTerm = new Map<NodeId, number>();
  /** Votes that left their node (a granted reply, or a candidate's own RequestVote), by node@term. */
  private readonly sentVote = new Map<string, NodeId>();
  private readonly roleOf = new Map<NodeId, Role>();
  /** Each node's log, rebuilt from its trace (entry i at entries[i - base - 1]). */
  private readonly logOf = new Map<NodeId, Mirror>();
  private readonly commitOf = new Map<NodeId, number>();
  private readonly appliedOf = new Map<NodeId, number>();
  /** The first copy seen of each (index, term), with the term of the entry before it. */
  private readonly entryOf = new Map<
    string,
    { command: unknown; prevTerm: number; node: NodeId }
  >();
  /** Per index, the committed entry's term and the earliest term it was known committed in. */
  private readonly committed: { term: number; inTerm: number }[] = [];
  /** Per index, the first entry applied there and by whom. */
  private readonly appliedAt: { term: number; command: unknown; node: NodeId }[] = [];
  /** Per index, the first snapshot seen through it: its digest, and on which node. */
  private readonly snapshotAt = new Map<number, { digest: number; node: NodeId }>();
  /** The simulation's snapshot at each index, from the entries first applied there. */
  private readonly states = new StateDigests();
  /**
   * §6.4: for each read under way (`node#read`), the highest index committed when it arrived, and
   * whether a follower asked for it (the leader's part then ends with read.index).
   */
  private readonly readFloor = new Map<string, { floor: number; forFollower: boolean }>();
  private readonly options: SafetyOptions;

  constructor(options: SafetyOptions = {}) {
    this.options = options;
  }

  /** Checks one event; returns the violation it caused, if any. */
  observe(event: TraceEvent): Violation | undefined {
    if (event.kind === "restart") return this.restarted(event.details.node, event.details, event);
    if (event.node === null || event.term === null) return undefined;
    if (event.kind === "send") this.noteSent(event, event.node, event.term);
    const found =
      this.checkTermNeverDecreases(event, event.node, event.term) ??
      this.checkElectionSafety(event, event.node, event.term) ??
      (event.kind === "vote" ? this.checkOneVotePerTerm(event, event.node) : undefined) ??
      this.checkLog(event, event.node) ??
      this.checkLogBound(event, event.node);
    if (event.role !== null) this.roleOf.set(event.node, event.role);
    if (found) this.violations.push(found);
    return found;
  }

  /**
   * A node started again from `state` (its persistent state), at `event`. Its term must not be
   * lower than any term it sent a message in, and the vote it remembers for that term must be
   * the vote it sent: a node that forgot its vote could vote again in the same term. What it
   * never said is forgotten with it. Its log is checked entry by entry as if appended anew (so a
   * log that never existed breaks Log Matching), and its commitIndex and lastApplied start again
   * from its snapshot's last entry (0 without one): they are volatile. What it applies again
   * must be what was applied at each index before, by it or anyone.
   */
  restarted(node: NodeId, state: RestartState, event: TraceEvent): Violation | undefined {
    const spoken = this.spokenTerm.get(node) ?? 0;
    const vote = this.sentVote.get(`${node}@${state.currentTerm}`);
    const found =
      state.currentTerm < spoken
        ? violation(
            event,
            "Term monotonicity",
            `n${node} restarted in term ${state.currentTerm}, but it had sent messages in term ${spoken}`,
          )
        : vote !== undefined && state.votedFor !== vote
          ? violation(
              event,
              "One vote per term",
              `n${node} restarted in term ${state.currentTerm} with votedFor ${state.votedFor}, but it had sent its vote for n${vote} in that term`,
            )
          : undefined;
    this.forgetUnsaid(node, state);
    for (const key of [...this.readFloor.keys()]) {
      if (key.startsWith(`${node}#`)) this.readFloor.delete(key); // a new module numbers its reads anew
    }
    const base = state.snapshot?.lastIncludedIndex ?? 0;
    this.logOf.set(node, { base, baseTerm: state.snapshot?.lastIncludedTerm ?? 0, entries: [] });
    this.commitOf.set(node, base);
    this.appliedOf.set(node, 0);
    const restored =
      found ??
      (state.snapshot === undefined
        ? undefined
        : this.checkSnapshot(event, node, state.snapshot)) ??
      this.onAppend(event, node, base + 1, state.log);
    if (restored) this.violations.push(restored);
    return restored;
  }

  /** Entry `index` of `node`'s log as the trace has built it so far (none inside its snapshot). */
  entryAt(node: NodeId, index: number): LogEntry | undefined {
    const log = this.logOf.get(node);
    return log === undefined || index <= log.base ? undefined : log.entries[index - log.base - 1];
  }

  /** The last index of `node`'s log (its snapshot's included) as the trace has built it so far. */
  logLength(node: NodeId): number {
    const log = this.logOf.get(node);
    return log === undefined ? 0 : log.base + log.entries.length;
  }

  /** The last index `node`'s snapshot holds, as the trace has built it so far (0: none). */
  snapshotIndex(node: NodeId): number {
    return this.logOf.get(node)?.base ?? 0;
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
      case "log.compact":
        return this.onCompact(e, node);
      case "snapshot.take":
      case "snapshot.install":
      case "snapshot.restore":
        return this.onSnapshot(e, node);
      case "read.start":
        this.readFloor.set(`${node}#${e.details.read}`, {
          floor: Math.max(0, this.committed.length - 1),
          forFollower: e.details.follower !== undefined,
        });
        return undefined;
      case "read.index":
      case "read.ready":
        return this.checkRead(e, node);
      case "read.fail":
        this.readFloor.delete(`${node}#${e.details.read}`);
        return undefined;
      default:
        return undefined;
    }
  }

  private logOfNode(node: NodeId): Mirror {
    const log = this.logOf.get(node) ?? { base: 0, baseTerm: 0, entries: [] };
    this.logOf.set(node, log);
    return log;
  }

  private onAppend(e: TraceEvent, node: NodeId, index: number, entries: readonly LogEntry[]) {
    const log = this.logOfNode(node);
    const last = log.base + log.entries.length;
    if (index !== last + 1) {
      const invariant = e.role === "leader" ? "Leader Append-Only" : "Log Matching";
      const what = index <= last ? "over existing entries" : "past the end, leaving a gap";
      return violation(
        e,
        invariant,
        `n${node} appended at [${index}] ${what} (log ends at [${last}])`,
      );
    }
    for (const entry of entries) {
      const at = log.base + log.entries.length + 1;
      const prevTerm = at === log.base + 1 ? log.baseTerm : log.entries.at(-1)!.term;
      log.entries.push(entry);
      const key = `${at}/${entry.term}`;
      const first = this.entryOf.get(key);
      if (first === undefined) {
        this.entryOf.set(key, { command: entry.command, prevTerm, node });
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
    const removed = log.base + log.entries.length - from + 1;
    log.entries.length = Math.max(0, Math.min(log.entries.length, from - log.base - 1));
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
    const last = this.logLength(node);
    const before = this.commitOf.get(node) ?? 0;
    this.commitOf.set(node, Math.max(before, to));
    if (from !== before || to <= from || to > last) {
      return violation(
        e,
        "Commit and apply order",
        `n${node} moved commitIndex ${from} → ${to}, but it was ${before} and its log ends at [${last}]`,
      );
    }
    for (let index = from + 1; index <= to; index++) {
      const term = this.entryAt(node, index)?.term;
      if (term === undefined) {
        return violation(
          e,
          "Commit and apply order",
          `n${node} committed [${index}], which its log does not hold (its snapshot ends at [${this.snapshotIndex(node)}])`,
        );
      }
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
        if (!holds(this.logOfNode(leader), index, term)) {
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
      if (!holds(log, index, entry.term)) {
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
    const held = this.entryAt(node, index);
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
      this.extendStates();
      return undefined;
    }
    if (first.term === entry.term && sameCommand(first.command, entry.command)) return undefined;
    return violation(
      e,
      "State Machine Safety",
      `n${node} applied ${JSON.stringify(entry.command)} (T${entry.term}) at [${index}], n${first.node} applied ${JSON.stringify(first.command)} (T${first.term})`,
    );
  }

  /**
   * §6.4: a read's index is no lower than any entry committed before the read arrived, and it is
   * served (read.ready) only once its node has applied through it.
   */
  private checkRead(e: EventOf<"read.index"> | EventOf<"read.ready">, node: NodeId) {
    const { read, readIndex } = e.details;
    const key = `${node}#${read}`;
    const { floor, forFollower } = this.readFloor.get(key) ?? { floor: 0, forFollower: false };
    const applied = this.appliedOf.get(node) ?? 0;
    const problem =
      readIndex < floor
        ? `[${floor}] was committed before the read arrived`
        : e.kind === "read.ready" && applied < readIndex
          ? `n${node} has applied only through [${applied}]`
          : undefined;
    if (e.kind === "read.ready" || forFollower) this.readFloor.delete(key);
    if (problem === undefined) return undefined;
    return violation(e, "Read index", `n${node}'s read #${read} at index ${readIndex}: ${problem}`);
  }

  /** §7: the log's entries through `through` are in a snapshot now; the mirror starts after it. */
  private onCompact(e: EventOf<"log.compact">, node: NodeId) {
    const log = this.logOfNode(node);
    const { through, term } = e.details;
    if (through <= log.base) {
      return violation(
        e,
        "Log compaction",
        `n${node} compacted its log through [${through}], but its snapshot already ended at [${log.base}]`,
      );
    }
    log.entries.splice(0, Math.min(log.entries.length, through - log.base));
    log.base = through;
    log.baseTerm = term;
    return undefined;
  }

  /** A snapshot taken, installed or restored: of applied state, and the one state of its index. */
  private onSnapshot(
    e: EventOf<"snapshot.take"> | EventOf<"snapshot.install"> | EventOf<"snapshot.restore">,
    node: NodeId,
  ) {
    const index = e.details.lastIncludedIndex;
    const applied = this.appliedOf.get(node) ?? 0;
    const committed = this.commitOf.get(node) ?? 0;
    if (e.kind === "snapshot.install") this.commitOf.set(node, Math.max(committed, index));
    if (e.kind === "snapshot.restore") this.appliedOf.set(node, index);
    const beyond =
      e.kind === "snapshot.take" && index > applied
        ? `took a snapshot through [${index}], but had applied only through [${applied}]`
        : e.kind === "snapshot.restore" && index > committed
          ? `restored a snapshot through [${index}], but commitIndex is ${committed}`
          : undefined;
    if (beyond !== undefined) return violation(e, "Commit and apply order", `n${node} ${beyond}`);
    return this.checkSnapshot(e, node, e.details);
  }

  /**
   * State Machine Safety on states: a snapshot's last entry is the committed one, and its
   * contents are those of every other snapshot at its index, and (simulated states) those the
   * committed entries through it make.
   */
  private checkSnapshot(e: TraceEvent, node: NodeId, s: SnapshotSummary) {
    const index = s.lastIncludedIndex;
    const committed = this.committed[index];
    const first = this.snapshotAt.get(index);
    if (first === undefined) this.snapshotAt.set(index, { digest: s.digest, node });
    const expected = this.options.simulatedStates ? this.states.at(index) : undefined;
    const problem =
      committed !== undefined && committed.term !== s.lastIncludedTerm
        ? `ends with [${index}] T${s.lastIncludedTerm}, but [${index}] T${committed.term} is committed`
        : first !== undefined && first.digest !== s.digest
          ? `has digest ${s.digest}, n${first.node}'s snapshot through [${index}] had ${first.digest}`
          : expected !== undefined && expected !== s.digest
            ? `has digest ${s.digest}, but the entries applied through [${index}] make ${expected}`
            : undefined;
    if (problem === undefined) return undefined;
    return violation(
      e,
      "State Machine Safety",
      `n${node}'s snapshot through [${index}] ${problem}`,
    );
  }

  /** The simulation's state digests, as far as entries have been applied from index 1 on. */
  private extendStates(): void {
    for (let next = this.states.length + 1; this.appliedAt[next] !== undefined; next++) {
      const { term, command } = this.appliedAt[next]!;
      this.states.add({ index: next, term, command });
    }
  }

  /** §7: no node keeps more applied entries in its log than the snapshot policy allows. */
  private checkLogBound(e: TraceEvent, node: NodeId) {
    const max = this.options.maxAppliedInLog;
    if (max === undefined) return undefined;
    const kept = (this.appliedOf.get(node) ?? 0) - this.snapshotIndex(node);
    if (kept <= max) return undefined;
    return violation(
      e,
      "Log compaction",
      `n${node} keeps ${kept} applied entries in its log after its snapshot through [${this.snapshotIndex(node)}], more than ${max}`,
    );
  }

  /** Records what a message tells the cluster: the sender's term, and a vote it carries. */
  private noteSent(e: EventOf<"send">, node: NodeId, term: number): void {
    this.spokenTerm.set(node, Math.max(this.spokenTerm.get(node) ?? 0, term));
    const d = e.details;
    if (d.rpc !== "RequestVote") return;
    if (d.type === "request") this.sentVote.set(`${node}@${d.payload.term}`, node);
    else if (d.payload.voteGranted) this.sentVote.set(`${node}@${d.payload.term}`, d.to);
  }

  /** After a restart: the node's terms and votes are what it restarted with, and what it sent. */
  private forgetUnsaid(node: NodeId, state: RestartState): void {
    this.termOf.set(node, state.currentTerm);
    for (const key of [...this.voteOf.keys()]) {
      const [who, term] = key.split("@").map(Number);
      if (who !== node || term === undefined || term < state.currentTerm) continue;
      const sent = this.sentVote.get(key);
      if (sent === undefined) this.voteOf.delete(key);
      else this.voteOf.set(key, sent);
    }
    if (state.votedFor !== null) this.voteOf.set(`${node}@${state.currentTerm}`, state.votedFor);
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
 * Whether `log` holds entry `index` of term `term`: in its entries, or as its snapshot's last
 * one. An index inside the snapshot counts as held: the snapshot checks compare its contents.
 */
function holds(log: Mirror, index: number, term: number): boolean {
  if (index < log.base) return true;
  if (index === log.base) return log.baseTerm === term;
  return log.entries[index - log.base - 1]?.term === term;
}

/** Commands come from a trace: equal if equal as JSON. */
export function sameCommand(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** A violation of `invariant` at `event`. */
export function violation(event: TraceEvent, invariant: string, message: string): Violation {
  return { invariant, message, event };
}
