// A trace event made by hand, for the checkers' own tests: what a node would have emitted.

import type { NodeId, Role } from "../src/raft.ts";
import { asTraceEvent, type Kind, type TraceEvent, type TraceKinds } from "../src/trace.ts";

export function event<K extends Kind>(
  t: number,
  node: NodeId,
  term: number,
  role: Role,
  kind: K,
  details: TraceKinds[K],
): TraceEvent {
  return asTraceEvent<K>({ t, node, term, role, kind, details });
}

/** `node`, in `term`, grants its vote to `candidate` (its own, when it stands for election). */
export const voted = (t: number, node: NodeId, candidate: NodeId, term: number) =>
  event(t, node, term, "follower", "vote", {
    candidate,
    candidateTerm: term,
    granted: true,
    reason: "",
  });
