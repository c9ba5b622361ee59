// "Why did this fail", at a glance: a failing test's first violation (else its first failed
// check, else its failing end), the rule it breaks with the paper's section, and the events that
// led there, so the page can open at it and mark those events in the table and the cluster view.
// The invariants are the ones the parts' safety and conformance checks name (src/sim/safety.ts
// and conformance.ts); the rules are said here in our words, each with where the Raft paper
// (Ongaro and Ousterhout, "In Search of an Understandable Consensus Algorithm") states it.

import type { Timeline } from "./model.ts";
import type { TraceEvent } from "./trace.ts";

export interface Rule {
  /** where the paper states it */
  section: string;
  /** the rule in a sentence */
  says: string;
}

export const RULES: Record<string, Rule> = {
  "Election Safety": { section: "§5.2, Figure 3", says: "at most one leader is elected in a term" },
  "Leader Append-Only": {
    section: "§5.3, Figure 3",
    says: "a leader only appends to its log; it never overwrites or deletes an entry",
  },
  "Log Matching": {
    section: "§5.3, Figure 3",
    says: "two logs that hold an entry of the same index and term agree on every entry up to it",
  },
  "Leader Completeness": {
    section: "§5.4, Figure 3",
    says: "an entry committed in a term is in the log of every leader of every later term",
  },
  "State Machine Safety": {
    section: "§5.4.3, Figure 3",
    says: "no two servers apply different entries at the same index (nor hold different snapshots through it)",
  },
  "Term monotonicity": {
    section: "§5.1, Figure 2",
    says: "a server's currentTerm only grows, across crashes too (it is persistent state)",
  },
  "One vote per term": {
    section: "§5.2, Figure 2 (RequestVote receiver rule 2)",
    says: "a server votes for at most one candidate in a term, across crashes too",
  },
  "Commit and apply order": {
    section: "Figure 2, Rules for Servers",
    says: "commitIndex never goes back, and entries are applied in order up to it, each once",
  },
  "Durable before sent": {
    section: "Figure 2, Persistent state (§5.1)",
    says: "currentTerm, votedFor and the log reach stable storage before the server answers or sends",
  },
  "Higher terms are adopted": {
    section: "Figure 2, Rules for All Servers (§5.1)",
    says: "a server that sees a higher term in a request or a reply takes it and becomes follower",
  },
  "Commitment by a leader": {
    section: "Figure 2, Rules for Leaders (§5.3, §5.4.2)",
    says: "a leader commits index N only once a majority holds it and log[N] is of its own term",
  },
  "Commitment by a follower": {
    section: "Figure 2, AppendEntries receiver rule 5",
    says: "a follower sets commitIndex to min(leaderCommit, index of its last new entry)",
  },
  "Leader progress": {
    section: "Figure 2, Rules for Leaders",
    says: "a leader moves matchIndex up on success and nextIndex down on a refusal, as replies say",
  },
  "Reply terms": { section: "Figure 2", says: "every reply carries the responder's currentTerm" },
  "Log compaction": {
    section: "§7",
    says: "a log is compacted only forward, and keeps no more applied entries than the snapshot policy allows",
  },
  "Acknowledged entries kept": {
    section: "§5.4, Figure 13 (InstallSnapshot receiver rule 6)",
    says: "in a term, a follower never removes an entry it acknowledged to that term's leader, not even across a crash",
  },
  "Election timer": {
    section: "Figure 2, Rules for Followers (§5.2); thesis §9.6",
    says: "the election timer restarts only on granting a vote, hearing from the leader, or an election (from part 6: or asking for pre-votes), and runs on the node's own clock",
  },
  "Read index": {
    section: "thesis §6.4 (ReadIndex)",
    says: "a read is served at an index no lower than any entry committed before it arrived, and only once its node has applied through it",
  },
};

export interface Failure {
  /** the row (event index) to open at */
  row: number;
  /** "violation" of a rule, a failed "check", or the test's failing "end" */
  what: "violation" | "check" | "end";
  /** the invariant or check's name */
  name: string;
  message: string;
  rule: Rule | null;
  /** a violation the test provoked on purpose (the checker's own tests) */
  expected: boolean;
  /** the events that led there, in order (the culprit last), and the nodes they happened on */
  causes: number[];
  nodes: number[];
}

/** The first thing that went wrong in a timeline, or null for a test that passed cleanly. */
export function firstFailure(timeline: Timeline): Failure | null {
  const { rows, trace } = timeline;
  const expected = trace.end?.expectedViolation === true;
  const violation = rows.findIndex((r) => r.kind === "violation");
  if (violation >= 0) {
    const d = fields(trace.events[violation]!);
    const name = String(d.invariant ?? "violation");
    const message = String(d.message ?? "");
    const causes = causesOf(trace.events, violation, name, message);
    return {
      ...{ row: violation, what: "violation", name, message, rule: RULES[name] ?? null, expected },
      ...{ causes, nodes: nodesOf(trace.events, causes) },
    };
  }
  if (trace.result !== "fail") return null;
  const check = rows.findIndex((r) => r.kind === "check" && r.tone === "bad");
  const end = rows.findLastIndex((r) => r.kind === "test.end");
  const row = check >= 0 ? check : end;
  if (row < 0) return null;
  const d = fields(trace.events[row]!);
  const name = check >= 0 ? String(d.name) : "the test failed";
  const message = String(d.error ?? "");
  return {
    row,
    what: check >= 0 ? "check" : "end",
    name,
    message,
    rule: null,
    expected: false,
    causes: [],
    nodes: [],
  };
}

/** The kinds of event that can lead to a violation of each invariant. */
const LEADS: Record<string, string[]> = {
  "Election Safety": ["role", "vote", "vote.reply"],
  "One vote per term": ["vote", "restart", "persist"],
  "Term monotonicity": ["term", "restart", "persist"],
  "Durable before sent": [
    ...["persist", "send", "vote", "log.append"],
    ...["log.compact", "snapshot.take", "snapshot.install"],
  ],
  "Higher terms are adopted": ["deliver", "term", "role"],
  "Election timer": ["election.timeout", "vote", "deliver", "prevote.start", "drift"],
  "Read index": [
    ...["read.start", "read.index", "read.ready", "commit", "apply"],
    ...["role", "transfer.start", "transfer.end"],
  ],
};
const LOG_LEADS = [
  ...["log.append", "log.truncate", "commit", "apply", "restart", "progress"],
  // part 5: the log starts after a snapshot, taken here or installed from a leader
  ...["log.compact", "snapshot.take", "snapshot.install", "snapshot.restore"],
];
/** At most this many events are marked: enough to see the story, few enough to read. */
const MOST_CAUSES = 16;
/** How far back to look. */
const LOOK_BACK = 3000;

/**
 * The events that led to a violation at row `at`: the event it was found on (the last node
 * event before it), and before that the events of the kinds that can lead to this invariant on
 * the nodes its message names, touching the terms and indices it names when it names any.
 */
export function causesOf(
  events: readonly TraceEvent[],
  at: number,
  invariant: string,
  message: string,
): number[] {
  const culprit = events.findLastIndex((e, i) => i < at && e.node !== null);
  const named = new Set([...message.matchAll(/\bn(\d+)\b/g)].map((m) => Number(m[1])));
  if (culprit >= 0) named.add(events[culprit]!.node!);
  const terms = new Set([...message.matchAll(/(?:term |\bT)(\d+)/g)].map((m) => Number(m[1])));
  const indices = new Set([...message.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1])));
  const kinds = new Set(LEADS[invariant] ?? LOG_LEADS);
  const found: number[] = [];
  for (
    let i = culprit - 1;
    i >= Math.max(0, at - LOOK_BACK) && found.length < MOST_CAUSES - 1;
    i--
  ) {
    const e = events[i]!;
    const target = fields(e).node;
    const node = e.node ?? (typeof target === "number" ? target : null);
    if (node === null || !named.has(node) || !kinds.has(e.kind)) continue;
    if (terms.size > 0 && e.term !== null && !terms.has(e.term) && e.kind !== "restart") continue;
    if (indices.size > 0 && !touches(e, indices)) continue;
    found.push(i);
  }
  return culprit >= 0 ? [...found.reverse(), culprit] : found.reverse();
}

/** Whether a log event concerns one of the indices (events without an index always do). */
function touches(e: TraceEvent, indices: Set<number>): boolean {
  const d = fields(e);
  const first = typeof d.index === "number" ? d.index : typeof d.from === "number" ? d.from : null;
  if (first === null) return true;
  const count = Array.isArray(d.entries) ? d.entries.length : 1;
  const last = e.kind === "commit" && typeof d.to === "number" ? d.to : first + count - 1;
  return [...indices].some((i) =>
    e.kind === "log.truncate" ? i >= first : i >= first && i <= last,
  );
}

/** An event's details read by field names (the rows found are of known kinds, or said as they are). */
const fields = (e: TraceEvent): Record<string, unknown> => e.details;

function nodesOf(events: readonly TraceEvent[], rows: number[]): number[] {
  return [...new Set(rows.map((i) => events[i]!.node).filter((n): n is number => n !== null))].sort(
    (a, b) => a - b,
  );
}
