// Leadership transfer on a real node (thesis §3.10): the core's `transferLeadership`, waited for.
// The leader stops taking commands, brings the target's log up to date and sends it TimeoutNow;
// the target campaigns at once and the leader steps down on its higher term. Here the node waits
// (a bounded time: an election timeout, after which the core gives the transfer up) until it no
// longer leads, and says how it went. Used by POST /transfer-leader (api.ts), `pnpm kv
// transfer-leader`, and a leader told to stop (SIGTERM, Ctrl-C), which hands over first so that
// the cluster does not wait out an election timeout for a new leader.

import type { NodeId, RaftNode } from "part6-availability";

export type TransferOutcome =
  /** This node no longer leads: `to` was asked to take over; `term` is this node's term now. */
  | { transferred: true; from: NodeId; to: NodeId; term: number; leader: NodeId | null }
  /** This node is not the leader: `leader` is the one it knows of. */
  | { transferred: false; notLeader: true; leader: NodeId | null; reason: string }
  /** Refused (`timedOut` false), or not done within `waitMs`: this node still leads. */
  | { transferred: false; notLeader?: undefined; timedOut: boolean; reason: string };

/** How often the wait looks at the node's role: a small fraction of any election timeout. */
const POLL_MS = 5;

/** Asks `node` to hand its leadership to `to` (by default the follower furthest along) and waits. */
export async function transferLeadership(
  node: RaftNode,
  to: NodeId | undefined,
  waitMs: number,
): Promise<TransferOutcome> {
  const before = node.getState();
  if (before.role !== "leader") {
    const reason = `n${before.id} is ${before.role}, not leader`;
    return { transferred: false, notLeader: true, leader: before.leaderId, reason };
  }
  const started = node.transferLeadership(to);
  if (!started.started) return { transferred: false, timedOut: false, reason: started.reason };
  const deadline = Date.now() + waitMs;
  while (node.getState().role === "leader" && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  const after = node.getState();
  if (after.role === "leader") {
    return {
      transferred: false,
      timedOut: true,
      reason: `n${started.target} did not take over within ${waitMs} ms; n${after.id} still leads`,
    };
  }
  return {
    transferred: true,
    from: before.id,
    to: started.target,
    term: after.currentTerm,
    leader: after.leaderId,
  };
}
