// What the page shows beside a violation: the rule (with where the paper states it) and the
// events behind it, the earlier events the broken rule is about. The checks themselves (each
// part's src/sim/safety.ts and conformance.ts) name the rule, say what broke and point at the
// event that broke it; this picks, from the trace before that event, the events of the same kind
// of fact about the same nodes (the votes, the leaders, the log entries, the commits).

import type { TraceEventLike } from "./types.ts";

/** Where the paper states each rule the checks name. */
export const RULES: Record<string, string> = {
  "Election Safety": "Figure 3; §5.2: at most one leader can be elected in a given term",
  "One vote per term": "Figure 2, RequestVote receiver rule 2; §5.2",
  "Term monotonicity": "Figure 2: currentTerm increases monotonically",
  "Log Matching": "Figure 3; §5.3",
  "Leader Append-Only": "Figure 3; §5.3",
  "Leader Completeness": "Figure 3; §5.4",
  "State Machine Safety": "Figure 3; §5.4.3",
  "Commit and apply order": "Figure 2, Rules for Servers: commitIndex and lastApplied",
  "Election timer": "Figure 2, Rules for Servers: Followers and Candidates",
  "Reply terms": "Figure 2, Rules for All Servers and receiver rule 1",
  "Higher terms are adopted": "Figure 2, Rules for All Servers",
  "Commitment by a leader": "Figure 2, Leaders; §5.4.2",
  "Commitment by a follower": "Figure 2, AppendEntries receiver rule 5",
  "Durable before sent": "Figure 2: persistent state updated on stable storage before responding",
  "Leader progress": "Figure 2, Leaders: nextIndex and matchIndex",
};

/** The kinds of event each rule is about; others get the nodes' role, term and vote events. */
const KINDS: Record<string, string[]> = {
  "Election Safety": ["role"],
  "One vote per term": ["vote", "restart"],
  "Term monotonicity": ["term", "restart"],
  "Log Matching": ["log.append", "log.truncate", "restart"],
  "Leader Append-Only": ["log.append", "log.truncate", "role"],
  "Leader Completeness": ["commit", "role", "log.append", "log.truncate"],
  "State Machine Safety": ["commit", "apply", "log.append", "log.truncate"],
  "Commit and apply order": ["commit", "apply", "log.append", "log.truncate"],
  "Election timer": ["election.timeout", "vote", "role", "send", "restart"],
  "Durable before sent": ["persist", "term", "vote", "log.append", "restart"],
  "Leader progress": ["progress", "deliver"],
};

const FALLBACK = ["role", "term", "vote", "commit"];

/**
 * Indices (into `events`) of the events behind a violation of `invariant` broken at
 * `events[at]`: up to `limit` of them, the latest first, the breaking event included.
 */
export function eventsBehind(
  events: readonly TraceEventLike[],
  at: number,
  invariant: string,
  message: string,
  limit = 8,
): number[] {
  const breaking = events[at];
  if (breaking === undefined) return [];
  const named = new Set([...message.matchAll(/\bn(\d+)\b/g)].map((m) => Number(m[1])));
  if (breaking.node !== null) named.add(breaking.node);
  const terms = new Set([...message.matchAll(/\bterm (\d+)\b/g)].map((m) => Number(m[1])));
  const kinds = KINDS[invariant] ?? FALLBACK;
  const about = (e: TraceEventLike) => {
    const node = e.node ?? (typeof e.details?.node === "number" ? e.details.node : null);
    if (node === null || !named.has(node) || !kinds.includes(e.kind)) return false;
    // A rule about one term (two leaders of term 3) is about that term's events only.
    return invariant !== "Election Safety" || terms.size === 0 || terms.has(e.term ?? -1);
  };
  const found = [at];
  for (let i = at - 1; i >= 0 && found.length < limit; i--) {
    if (about(events[i]!)) found.push(i);
  }
  return found;
}
