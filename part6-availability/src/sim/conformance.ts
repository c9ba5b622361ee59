// Figure 2's rules as far as the trace can see them. The safety checks (safety.ts) catch a broken
// guarantee of Figure 3; many broken rules of Figure 2 break no guarantee at once, only slow the
// cluster down or leave it stuck for a while, and a test would have to be written for exactly that
// case to notice. These checks watch every message and timer instead, so a scenario that merely
// passes through such a case (the chaos scenario, under many seeds) catches the rule breaking:
//
// - Reply terms (Rules for All Servers, and receiver rule 1 of both RPCs): a node answers in a
//   term at least as high as the request's, having adopted a higher one first; a vote is granted
//   and an AppendEntries accepted only in the request's own term.
// - Higher terms are adopted (Rules for All Servers): a node handed a request or a reply with a
//   term above its own is in that term or a later one at its next event.
// - The election timer (Rules for Servers, Followers and Candidates): it restarts when the node
//   grants a vote (its own at an election included), when it hears AppendEntries from the leader
//   of its term, and when a leader steps down; on nothing else. Each timeout must fire exactly its
//   own length after the latest of these.
//
// Part 2 adds the rules of the log that no Figure 3 property catches at once:
// - Commitment by a leader (Leaders, and §5.4.2): a leader moves commitIndex to N only if the
//   entry at N is of its own term, and only if a majority holds it by the replies of this term:
//   its own log and followers' acceptances of requests it sent in this term.
// - Commitment by a follower (AppendEntries receiver rule 5): no further than the request it is
//   handling verified, prevLogIndex plus the entries it carries.
// Part 3 adds:
// - Durable before sent (Figure 2, persistent state "updated on stable storage before responding
//   to RPCs"): whenever a node sends a message or a reply, its currentTerm, votedFor and log are
//   exactly what it last persisted. A restart resets what is known of the node to what it
//   restarted with.
// - Leader progress (Leaders): within a term, matchIndex never goes down and never passes what
//   the follower accepted in this term; nextIndex stays above it, and backs up only when the
//   follower refuses the current probe, to that probe's prevLogIndex or (with the conflict hint
//   of part 3) further.
// Part 5 (§7) adds snapshots to these: the snapshot is durable before anything is sent too; a
// follower's installed snapshot (the last chunk taken) counts as accepting its entries, for the
// leader's progress and commitment; InstallSnapshot from the current leader restarts the election
// timer like AppendEntries. And one more rule:
// - Acknowledged entries kept: within a term, a follower never removes an entry it acknowledged
//   to that term's leader (whose log only grows in its term, so it never sends a conflict there),
//   not even across a crash. A follower that discards them (Figure 13's rule 6 forgotten) would
//   let an entry committed on its word be lost.
// Part 6 (the thesis's availability features) adjusts them:
// - PreVote (§9.6) changes no term: a PreVote request's term, and a granted PreVote's reply term,
//   are not adopted; a voter grants with the term asked about and refuses with its own. A node
//   restarts its election timer when it starts asking for pre-votes; granting one restarts nothing.
// - A RequestVote ignored under the lease (§4.2.3, a `lease` event) adopts no term, and its
//   refusal carries the voter's own, lower term.
// - Durable before sent, made exact for §10.2.1: a leader's messages may leave while entries of
//   its own term are still being written; its term, vote and snapshot are durable, and so is
//   everything any other node sends. Commitment by a leader counts the leader itself only
//   through the last entry it has made durable.
// - The election timer runs on the node's own clock: with a drift fault (a `drift` event), a
//   timeout's real length is its length divided by the clock's rate.

import { realDelay } from "../clock.ts";
import type { NodeId } from "../raft.ts";
import type { EventOf, TraceEvent } from "../trace.ts";
import { type SafetyChecker, type Violation, violation } from "./safety.ts";

export class ConformanceChecker {
  readonly violations: Violation[] = [];
  /** The term of each request, by message id: what its reply must be compared with. */
  private readonly requestTerm = new Map<number, number>();
  /** For each AppendEntries request, the last index it verifies (prevLogIndex + entries). */
  private readonly verifies = new Map<number, number>();
  /** Per leader and term, the highest index each follower accepted: `leader@term` → peer → index. */
  private readonly accepted = new Map<string, Map<NodeId, number>>();
  /** The AppendEntries request a node is handling now, as the last index it verifies. */
  private readonly handling = new Map<NodeId, number>();
  /** Per leader, term and peer (`leader@term>peer`), the last progress it recorded. */
  private readonly progressOf = new Map<string, { nextIndex: number; matchIndex: number }>();
  /** Per leader, term and peer, the prevLogIndex of the last probe the peer refused. */
  private readonly refusedAt = new Map<string, number>();
  /** For each AppendEntries request, its prevLogIndex: the probe a refusal refuses. */
  private readonly probes = new Map<number, number>();
  /** What each node last made durable, and the vote it holds now (by its vote and term events). */
  private readonly persisted = new Map<
    NodeId,
    { term: number; votedFor: NodeId | null; length: number; snapshot: number }
  >();
  /** For each InstallSnapshot request that is a snapshot's last chunk, that snapshot's last entry. */
  private readonly installs = new Map<number, number>();
  /** What each node acknowledged to a leader last: in which term, and through which index. */
  private readonly acknowledged = new Map<NodeId, { term: number; index: number }>();
  private readonly voteNow = new Map<NodeId, NodeId | null>();
  /** Reads each node's log, as the safety checks rebuild it from the trace. */
  private readonly logs: SafetyChecker;
  private readonly clusterSize: number;

  /** `logs` must observe each event before this checker does. */
  constructor(logs: SafetyChecker, clusterSize: number) {
    this.logs = logs;
    this.clusterSize = clusterSize;
  }
  /** A higher term a node was handed, which its next event must show it in. */
  private readonly owed = new Map<NodeId, number>();
  /** When each node's election timer last had reason to restart (unknown until one is seen). */
  private readonly restartedAt = new Map<NodeId, number>();
  /** Each node's clock rate (drift events), and the rate when its timer last restarted. */
  private readonly rateOf = new Map<NodeId, number>();
  private readonly rateAtRestart = new Map<NodeId, number>();
  /** Nodes whose RequestVote at hand is ignored under the lease (§4.2.3): they answer in their own term. */
  private readonly underLease = new Set<NodeId>();

  /** Checks one event; returns the violation it caused, if any. */
  observe(e: TraceEvent): Violation | undefined {
    if (e.kind === "restart") {
      const found = this.onRestart(e);
      if (found) this.violations.push(found);
      return found;
    }
    if (e.kind === "drift") this.rateOf.set(e.details.node, e.details.rate);
    if (e.node === null || e.term === null) return undefined;
    if (e.kind === "lease") {
      // §4.2.3: the RequestVote or PreVote at hand is ignored: its term is not adopted.
      this.owed.delete(e.node);
      if (e.details.rpc === "RequestVote") this.underLease.add(e.node);
    }
    this.noteDurability(e, e.node);
    const found =
      this.checkOwedTerm(e, e.node, e.term) ??
      (e.kind === "send" ? this.checkDurable(e, e.node, e.term) : undefined) ??
      (e.kind === "send" ? this.onSend(e, e.node) : undefined) ??
      (e.kind === "deliver" ? this.onDeliver(e, e.node, e.term) : undefined) ??
      (e.kind === "election.timeout" ? this.checkTimer(e, e.node) : undefined) ??
      (e.kind === "commit" ? this.checkCommit(e, e.node, e.term) : undefined) ??
      (e.kind === "progress" ? this.checkProgress(e, e.node, e.term) : undefined) ??
      (e.kind === "log.truncate" ? this.checkKept(e, e.node, e.term, e.details.from) : undefined);
    this.noteTimerRestart(e, e.node);
    if (found) this.violations.push(found);
    return found;
  }

  /** A new module on the node's storage: everything known of the old one is gone. */
  private onRestart(e: EventOf<"restart">): Violation | undefined {
    const { node, currentTerm, votedFor, log } = e.details;
    this.owed.delete(node);
    this.handling.delete(node);
    this.restartedAt.set(node, e.t); // its start() sets a new election timer
    this.rateAtRestart.set(node, this.rateOf.get(node) ?? 1);
    const snapshot = e.details.snapshot?.lastIncludedIndex ?? 0;
    const length = snapshot + log.length;
    this.persisted.set(node, { term: currentTerm, votedFor, length, snapshot });
    this.voteNow.set(node, votedFor);
    return this.checkKept(e, node, currentTerm, length + 1);
  }

  /**
   * A node in `term` whose log now ends before `from` (a truncation, or a restart with a log that
   * short) must not have acknowledged an entry from `from` on to this term's leader.
   */
  private checkKept(e: TraceEvent, node: NodeId, term: number, from: number) {
    const acked = this.acknowledged.get(node);
    if (acked === undefined || acked.term !== term || from > acked.index) return undefined;
    return violation(
      e,
      "Acknowledged entries kept",
      `n${node} lost its entries from [${from}] on, having acknowledged [${acked.index}] to the leader of term ${term}`,
    );
  }

  /** Follows what a node holds now (its vote) and what it made durable (persist events). */
  private noteDurability(e: TraceEvent, node: NodeId): void {
    if (e.kind === "term") this.voteNow.set(node, null);
    if (e.kind === "vote" && e.details.granted) this.voteNow.set(node, e.details.candidate);
    if (e.kind === "persist") {
      const { currentTerm, votedFor, lastLogIndex, snapshotIndex } = e.details;
      const snapshot = snapshotIndex ?? this.persisted.get(node)?.snapshot ?? 0;
      this.persisted.set(node, { term: currentTerm, votedFor, length: lastLogIndex, snapshot });
    }
  }

  private checkDurable(e: EventOf<"send">, node: NodeId, term: number): Violation | undefined {
    const durable = this.persisted.get(node) ?? { term: 0, votedFor: null, length: 0, snapshot: 0 };
    const vote = this.voteNow.get(node) ?? null;
    const length = this.logs.logLength(node);
    const snapshot = this.logs.snapshotIndex(node);
    if (
      durable.term === term &&
      durable.votedFor === vote &&
      (durable.length === length || this.ownEntriesInFlight(e, node, durable.length, term)) &&
      durable.snapshot === snapshot
    ) {
      return undefined;
    }
    return violation(
      e,
      "Durable before sent",
      `n${node} sent #${e.details.msg} in term ${term} with vote ${vote}, log to [${length}] and snapshot through [${snapshot}], but had made durable term ${durable.term}, vote ${durable.votedFor}, log to [${durable.length}], snapshot through [${durable.snapshot}]`,
    );
  }

  /**
   * §10.2.1: whether what a leader's log holds beyond its durable length (`durable`) is only
   * entries of its own term, which may travel while it writes them.
   */
  private ownEntriesInFlight(e: TraceEvent, node: NodeId, durable: number, term: number): boolean {
    if (e.role !== "leader" || durable > this.logs.logLength(node)) return false;
    for (let index = durable + 1; index <= this.logs.logLength(node); index++) {
      if (this.logs.entryAt(node, index)?.term !== term) return false;
    }
    return true;
  }

  private checkOwedTerm(e: TraceEvent, node: NodeId, term: number): Violation | undefined {
    const owed = this.owed.get(node);
    // A leader steps down before it takes the new term, so no event shows a leader of it.
    const steppingDown = e.kind === "role" && e.details.to === "follower";
    if (owed === undefined || e.kind === "deliver" || steppingDown) return undefined;
    this.owed.delete(node);
    if (term >= owed) return undefined;
    return violation(
      e,
      "Higher terms are adopted",
      `n${node} was handed term ${owed} but went on in term ${term}`,
    );
  }

  private onDeliver(e: EventOf<"deliver">, node: NodeId, term: number): Violation | undefined {
    const d = e.details;
    // A reply its caller no longer waits for never reaches the consensus module.
    if (d.late) return undefined;
    // §9.6: a PreVote asks about a term no one is in yet; a grant answers with that term.
    const preVote = d.rpc === "PreVote" && (d.type === "request" || d.payload.voteGranted);
    if (d.payload.term > term && !preVote)
      this.owed.set(node, Math.max(this.owed.get(node) ?? 0, d.payload.term));
    if (d.rpc === "InstallSnapshot" && d.type === "reply" && e.role === "leader") {
      const installed = this.installs.get(d.request);
      if (installed !== undefined && d.payload.success && d.payload.term === term) {
        this.noteAccepted(`${node}@${term}`, d.from, installed);
      }
    }
    if (d.rpc !== "AppendEntries") return undefined;
    if (d.type === "request") {
      this.handling.set(node, d.payload.prevLogIndex + d.payload.entries.length);
    } else if (e.role === "leader" && d.payload.term === term) {
      this.onAppendAnswered(node, term, d.from, d.request, d.payload.success);
    }
    return undefined;
  }

  /** A leader is handed a follower's answer to an AppendEntries of its own term. */
  private onAppendAnswered(
    leader: NodeId,
    term: number,
    peer: NodeId,
    request: number,
    success: boolean,
  ) {
    if (!success) {
      this.refusedAt.set(`${leader}@${term}>${peer}`, this.probes.get(request) ?? -1);
      return;
    }
    this.noteAccepted(`${leader}@${term}`, peer, this.verifies.get(request) ?? 0);
  }

  /** `peer` holds the leader's entries through `index`, by a reply of this leader's term (`key`). */
  private noteAccepted(key: string, peer: NodeId, index: number): void {
    const peers = this.accepted.get(key) ?? new Map<NodeId, number>();
    this.accepted.set(key, peers.set(peer, Math.max(peers.get(peer) ?? 0, index)));
  }

  /** Commitment by a leader, or by a follower handling an AppendEntries. */
  private checkCommit(e: EventOf<"commit">, node: NodeId, term: number): Violation | undefined {
    const n = e.details.to;
    if (e.role !== "leader") {
      const verified = this.handling.get(node) ?? 0;
      if (n <= verified) return undefined;
      return violation(
        e,
        "Commitment by a follower",
        `n${node} committed to [${n}], but the request it handles verifies only up to [${verified}]`,
      );
    }
    const entryTerm = this.logs.entryAt(node, n)?.term;
    if (entryTerm !== term) {
      return violation(
        e,
        "Commitment by a leader",
        `leader n${node} of term ${term} committed [${n}] by counting, an entry of term ${entryTerm}`,
      );
    }
    // §10.2.1: the leader's own copy counts once it is durable.
    const own = (this.persisted.get(node)?.length ?? 0) >= n ? 1 : 0;
    const holders =
      own +
      [...(this.accepted.get(`${node}@${term}`)?.values() ?? [])].filter((i) => i >= n).length;
    if (holders * 2 > this.clusterSize) return undefined;
    return violation(
      e,
      "Commitment by a leader",
      `leader n${node} committed [${n}] held by ${holders} of ${this.clusterSize} servers by this term's replies`,
    );
  }

  private checkProgress(e: EventOf<"progress">, node: NodeId, term: number): Violation | undefined {
    const { peer, nextIndex, matchIndex } = e.details;
    const key = `${node}@${term}>${peer}`;
    const before = this.progressOf.get(key);
    this.progressOf.set(key, { nextIndex, matchIndex });
    const accepted = this.accepted.get(`${node}@${term}`)?.get(peer) ?? 0;
    const backedUp = before !== undefined && nextIndex < before.nextIndex;
    const problem =
      matchIndex < (before?.matchIndex ?? 0)
        ? `matchIndex went down from ${before?.matchIndex}`
        : matchIndex > accepted
          ? `matchIndex passed [${accepted}], the most n${peer} accepted in this term`
          : nextIndex <= matchIndex
            ? "nextIndex is not above matchIndex"
            : backedUp && !this.backsUpFromRefusal(key, before.nextIndex, nextIndex)
              ? `nextIndex backed up without a refusal of its probe at ${before.nextIndex - 1} (last refused: ${this.refusedAt.get(key)})`
              : undefined;
    if (problem === undefined) return undefined;
    return violation(
      e,
      "Leader progress",
      `n${node} set n${peer}'s nextIndex ${nextIndex}, matchIndex ${matchIndex} in term ${term}: ${problem}`,
    );
  }

  private onSend(e: EventOf<"send">, node: NodeId): Violation | undefined {
    const d = e.details;
    if (d.type === "request") {
      this.requestTerm.set(d.msg, d.payload.term);
      if (d.rpc === "AppendEntries") {
        this.verifies.set(d.msg, d.payload.prevLogIndex + d.payload.entries.length);
        this.probes.set(d.msg, d.payload.prevLogIndex);
      }
      if (d.rpc === "InstallSnapshot" && d.payload.done) {
        this.installs.set(d.msg, d.payload.lastIncludedIndex);
      }
      return undefined;
    }
    if (d.rpc === "AppendEntries") this.handling.delete(node);
    const asked = this.requestTerm.get(d.request);
    if (asked === undefined) return undefined;
    const yes = granted(d);
    this.noteAcknowledged(d, node, asked, yes);
    // A voter refuses a PreVote with its own term (§9.6), and a RequestVote it ignores under the
    // lease too (§4.2.3): that term may be lower than the one asked about.
    const lease = d.rpc === "RequestVote" && this.underLease.delete(node);
    const ownTerm = (d.rpc === "PreVote" && !yes) || lease;
    const ok = ownTerm
      ? d.payload.term === e.term
      : yes
        ? d.payload.term === asked
        : d.payload.term >= asked;
    if (ok) return undefined;
    const what = yes
      ? d.rpc === "RequestVote" || d.rpc === "PreVote"
        ? `granted a ${d.rpc === "PreVote" ? "pre-vote" : "vote"}`
        : `accepted ${d.rpc}`
      : "answered";
    return violation(
      e,
      "Reply terms",
      `n${node} ${what} in term ${d.payload.term} for a request of term ${asked}`,
    );
  }

  /** A follower's yes to AppendEntries, or to a snapshot's last chunk: what it must keep. */
  private noteAcknowledged(
    d: EventOf<"send">["details"],
    node: NodeId,
    term: number,
    yes: boolean,
  ): void {
    if (!yes || d.type !== "reply" || (d.rpc !== "AppendEntries" && d.rpc !== "InstallSnapshot")) {
      return;
    }
    const index =
      d.rpc === "AppendEntries" ? this.verifies.get(d.request) : this.installs.get(d.request);
    if (index === undefined) return;
    const before = this.acknowledged.get(node);
    const highest = before?.term === term ? Math.max(before.index, index) : index;
    this.acknowledged.set(node, { term, index: highest });
  }

  /**
   * nextIndex goes down only on a refusal of the probe it stood for (prevLogIndex next - 1), and
   * to that probe at most: by one, or further with the follower's conflict hint (part 3).
   */
  private backsUpFromRefusal(key: string, before: number, after: number): boolean {
    const probe = this.refusedAt.get(key);
    return probe === before - 1 && after <= probe;
  }

  private checkTimer(e: EventOf<"election.timeout">, node: NodeId): Violation | undefined {
    const last = this.restartedAt.get(node);
    const setAt = e.t - realDelay(e.details.timeoutMs, this.rateAtRestart.get(node) ?? 1);
    if (last === undefined || setAt === last) return undefined;
    const why =
      setAt < last
        ? `it should have restarted at ${last}`
        : `nothing restarted it then (last reason at ${last})`;
    return violation(
      e,
      "Election timer",
      `n${node}'s timer fired at ${e.t}, set at ${setAt}: ${why}`,
    );
  }

  /** Records the moments Figure 2 names as restarting the election timer. */
  private noteTimerRestart(e: TraceEvent, node: NodeId): void {
    const restarts =
      (e.kind === "vote" && e.details.granted) ||
      e.kind === "prevote.start" ||
      (e.kind === "role" && e.details.from === "leader" && e.details.to === "follower") ||
      (e.kind === "send" &&
        (e.details.rpc === "AppendEntries" || e.details.rpc === "InstallSnapshot") &&
        e.details.type === "reply" &&
        e.role === "follower" &&
        e.details.payload.term === this.requestTerm.get(e.details.request));
    if (!restarts) return;
    this.restartedAt.set(node, e.t);
    this.rateAtRestart.set(node, this.rateOf.get(node) ?? 1);
  }
}

/** Whether a reply says yes: a vote or pre-vote granted, a request accepted (TimeoutNow: answered). */
function granted(d: EventOf<"send">["details"]): boolean {
  if (d.type !== "reply") return false;
  switch (d.rpc) {
    case "RequestVote":
    case "PreVote":
      return d.payload.voteGranted;
    case "TimeoutNow":
      return false;
    default:
      return d.payload.success;
  }
}
