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

import type { NodeId } from "../raft.ts";
import type { EventOf, TraceEvent } from "../trace.ts";
import { type Violation, violation } from "./safety.ts";

export class ConformanceChecker {
  readonly violations: Violation[] = [];
  /** The term of each request, by message id: what its reply must be compared with. */
  private readonly requestTerm = new Map<number, number>();
  /** A higher term a node was handed, which its next event must show it in. */
  private readonly owed = new Map<NodeId, number>();
  /** When each node's election timer last had reason to restart (unknown until one is seen). */
  private readonly restartedAt = new Map<NodeId, number>();

  /** Checks one event; returns the violation it caused, if any. */
  observe(e: TraceEvent): Violation | undefined {
    if (e.node === null || e.term === null) return undefined;
    const found =
      this.checkOwedTerm(e, e.node, e.term) ??
      (e.kind === "send" ? this.onSend(e, e.node) : undefined) ??
      (e.kind === "deliver" ? this.onDeliver(e, e.node, e.term) : undefined) ??
      (e.kind === "election.timeout" ? this.checkTimer(e, e.node) : undefined);
    this.noteTimerRestart(e, e.node);
    if (found) this.violations.push(found);
    return found;
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
    // A reply its caller no longer waits for never reaches the consensus module.
    if (!e.details.late && e.details.payload.term > term) {
      this.owed.set(node, Math.max(this.owed.get(node) ?? 0, e.details.payload.term));
    }
    return undefined;
  }

  private onSend(e: EventOf<"send">, node: NodeId): Violation | undefined {
    const d = e.details;
    if (d.type === "request") {
      this.requestTerm.set(d.msg, d.payload.term);
      return undefined;
    }
    const asked = this.requestTerm.get(d.request);
    if (asked === undefined) return undefined;
    const yes = d.rpc === "RequestVote" ? d.payload.voteGranted : d.payload.success;
    const ok = yes ? d.payload.term === asked : d.payload.term >= asked;
    if (ok) return undefined;
    const what = yes
      ? d.rpc === "RequestVote"
        ? "granted a vote"
        : "accepted AppendEntries"
      : "answered";
    return violation(
      e,
      "Reply terms",
      `n${node} ${what} in term ${d.payload.term} for a request of term ${asked}`,
    );
  }

  private checkTimer(e: EventOf<"election.timeout">, node: NodeId): Violation | undefined {
    const last = this.restartedAt.get(node);
    const setAt = e.t - e.details.timeoutMs;
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
      (e.kind === "role" && e.details.from === "leader" && e.details.to === "follower") ||
      (e.kind === "send" &&
        e.details.rpc === "AppendEntries" &&
        e.details.type === "reply" &&
        e.role === "follower" &&
        e.details.payload.term === this.requestTerm.get(e.details.request));
    if (restarts) this.restartedAt.set(node, e.t);
  }
}
