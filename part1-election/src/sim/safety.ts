// Continuous safety checks. Every trace event passes through `observe`, so a broken guarantee is
// caught at the event that broke it, with the seed, not at the end of the test (if at all).
//
// Part 1 checks the guarantees about elections:
// - Election Safety (Figure 3): at most one leader can be elected in a given term.
// - One vote per term (§5.2): a server grants at most one vote in a term, its own included.
// - Terms never go down: currentTerm only grows (Figure 2: "increases monotonically").
// They read only the trace, so a hand-made trace can show that each check is able to fail.
//
// What the checker remembers of a node outlives the node: votes and terms are kept by
// (node, term), so a node that crashes and comes back (part 3) is held to what it did before.
// `restarted` reconciles the record with the state a node restarts from.

import type { NodeId } from "../raft.ts";
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
}

export class SafetyChecker {
  readonly violations: Violation[] = [];
  private readonly leaderOfTerm = new Map<number, NodeId>();
  private readonly voteOf = new Map<string, NodeId>();
  private readonly termOf = new Map<NodeId, number>();

  /** Checks one event; returns the violation it caused, if any. */
  observe(event: TraceEvent): Violation | undefined {
    if (event.node === null || event.term === null) return undefined;
    const found =
      this.checkTermNeverDecreases(event, event.node, event.term) ??
      this.checkElectionSafety(event, event.node, event.term) ??
      (event.kind === "vote" ? this.checkOneVotePerTerm(event, event.node) : undefined);
    if (found) this.violations.push(found);
    return found;
  }

  /**
   * A node started again from `state` (its persistent state), at `event`. Its term must not be
   * lower than any term it reached before, and the vote it remembers for that term must be the
   * vote it gave: a node that forgot its vote could vote again in the same term.
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
    if (found) this.violations.push(found);
    return found;
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

/** A violation of `invariant` at `event`. */
export function violation(event: TraceEvent, invariant: string, message: string): Violation {
  return { invariant, message, event };
}
