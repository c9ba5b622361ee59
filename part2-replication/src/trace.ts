// The structured trace: one event per state change, vote, message and harness action. It is the
// contract between this code, the safety checks and tools/testlog-viz; the format is defined in
// docs/trace-format.md at the repository root.

import type { Clock } from "./clock.ts";
import type { LogEntry, NodeId, Role } from "./raft.ts";

export interface TraceEvent {
  /** Virtual milliseconds since the cluster started. */
  t: number;
  /** The node it happened on, or null for the test harness. */
  node: NodeId | null;
  /** The node's currentTerm and role just after the event (null for the harness). */
  term: number | null;
  role: Role | null;
  kind: string;
  details: Record<string, unknown>;
}

export type TraceListener = (event: TraceEvent) => void;

/** Records events in order and hands each one to the listeners (safety checks, live log). */
export class Tracer {
  readonly events: TraceEvent[] = [];
  private readonly listeners: TraceListener[] = [];
  private readonly clock: Clock;
  private readonly stateOf: (node: NodeId) => { term: number; role: Role };

  /** `stateOf` reads a node's term and role, so callers need not pass them with every event. */
  constructor(clock: Clock, stateOf: (node: NodeId) => { term: number; role: Role }) {
    this.clock = clock;
    this.stateOf = stateOf;
  }

  emit(node: NodeId | null, kind: string, details: Record<string, unknown> = {}): TraceEvent {
    const state = node === null ? null : this.stateOf(node);
    const event: TraceEvent = {
      t: this.clock.now(),
      node,
      term: state?.term ?? null,
      role: state?.role ?? null,
      kind,
      details,
    };
    this.events.push(event);
    for (const listener of this.listeners) listener(event);
    return event;
  }

  subscribe(listener: TraceListener): void {
    this.listeners.push(listener);
  }
}

/** The file form: one JSON object per line. */
export function toJsonLines(events: readonly TraceEvent[]): string {
  return events.map((e) => `${JSON.stringify(e)}\n`).join("");
}

const ansi = {
  reset: "\x1b[0m",
  dim: "\x1b[2m",
  red: "\x1b[31m",
  green: "\x1b[32m",
  yellow: "\x1b[33m",
  cyan: "\x1b[36m",
  grey: "\x1b[90m",
};

const roleColour: Record<Role, string> = {
  follower: "",
  candidate: ansi.yellow,
  leader: ansi.green,
  dead: ansi.grey,
};

/**
 * One human-readable line for an event, e.g.
 * `   153 ms  n2 T1 candidate  → n0 RequestVote #17 {"term":1,"candidateId":2}`.
 * With `colour`, the line takes the node's role colour (harness lines cyan, violations red).
 */
export function formatEvent(event: TraceEvent, colour = false): string {
  const time = `${String(event.t).padStart(6)} ms`;
  const who =
    event.node === null
      ? "TEST".padEnd(16)
      : `n${event.node} T${event.term} ${event.role ?? ""}`.padEnd(16);
  const line = `${time}  ${who}  ${describe(event)}`;
  if (!colour) return line;
  const tint =
    event.kind === "violation"
      ? ansi.red
      : event.node === null
        ? ansi.cyan
        : roleColour[event.role ?? "follower"];
  return tint ? `${tint}${line}${ansi.reset}` : line;
}

function describe(e: TraceEvent): string {
  const d = e.details;
  switch (e.kind) {
    case "send":
      return `→ n${d.to} ${d.rpc} ${d.type} #${d.msg}${replyTo(d)} ${JSON.stringify(d.payload)}`;
    case "deliver":
      return `← n${d.from} ${d.rpc} ${d.type} #${d.msg}${replyTo(d)}${d.duplicate ? " (duplicate)" : ""} ${JSON.stringify(d.payload)}`;
    case "drop":
      return `✗ #${d.msg} ${d.rpc} ${d.type} to n${d.to} dropped: ${d.reason}`;
    case "role":
      return `${d.from} → ${d.to} (${d.reason})`;
    case "term":
      return `term ${d.from} → ${d.to} (${d.reason})`;
    case "vote":
      return d.granted
        ? `votes for n${d.candidate} in term ${d.candidateTerm}`
        : `refuses n${d.candidate} for term ${d.candidateTerm}: ${d.reason}`;
    case "log.append":
      return `log += ${describeEntries(Number(d.index), d.entries as LogEntry[])}`;
    case "log.truncate":
      return `log cut from [${d.from}] (${d.removed} entries removed)`;
    case "commit":
      return `commitIndex ${d.from} → ${d.to} (${d.reason})`;
    case "apply":
      return `applies [${d.index}] T${d.term} ${JSON.stringify(d.command)}`;
    case "submit":
      return `submit ${JSON.stringify(d.command)} to n${d.node}: ${JSON.stringify(d.result)}`;
    case "violation":
      return `VIOLATION of ${d.invariant}: ${d.message}`;
    default:
      return `${e.kind}${formatDetails(d)}`;
  }
}

/** `[3] T1 "x", [4] T1 "y"`: each entry with its index and term. */
function describeEntries(first: number, entries: readonly LogEntry[]): string {
  return entries.map((e, i) => `[${first + i}] T${e.term} ${JSON.stringify(e.command)}`).join(", ");
}

function replyTo(d: Record<string, unknown>): string {
  return d.request === undefined ? "" : ` (to #${d.request})`;
}

function formatDetails(details: Record<string, unknown>): string {
  const parts = Object.entries(details).map(
    ([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`,
  );
  return parts.length === 0 ? "" : ` ${parts.join(" ")}`;
}
