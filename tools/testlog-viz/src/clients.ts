// The clients of a part4-kv trace: one lane per client beside the nodes' lanes, showing the
// operation it runs from its invocation to its completion, and one conversation per operation
// that ties its attempts to the nodes they went to (the node's `submit` of the client's entry,
// and every node's `apply` of it), so clicking any of them shows the whole operation.

import { clientOpOf } from "./kinds.ts";
import type { TraceEvent } from "./trace.ts";

/** How an operation stands: running, or how it ended (shown on its completion's row). */
export type OpState = "pending" | "ok" | "failed" | "maybe";

/** A client's lane at one moment: the operation it runs, or null when it runs none. */
export interface ClientLane {
  seq: number;
  /** `put x`: the operation and its key */
  op: string;
  state: OpState;
}

type Known = Extract<TraceEvent, { known: true }>;
type ClientEvent = Extract<Known, { kind: `client.${string}` }>;

const isClientEvent = (e: TraceEvent): e is ClientEvent => e.known && e.kind.startsWith("client.");

/** The clients of a trace, in the order they first act. */
export function clientsOf(events: readonly TraceEvent[]): string[] {
  const names = new Set<string>();
  for (const e of events) if (isClientEvent(e)) names.add(e.details.client);
  return [...names];
}

/** The client a row belongs to, if it is a client's event. */
export function clientOf(e: TraceEvent): string | null {
  return isClientEvent(e) ? e.details.client : null;
}

/** The client operation an event is about: a client's own event, or a node's entry of it. */
function opOf(e: TraceEvent): { client: string; seq: number } | null {
  if (isClientEvent(e)) return e.details;
  if (e.known && (e.kind === "submit" || e.kind === "apply")) return clientOpOf(e.details.command);
  return null;
}

/**
 * Numbers each client operation as a conversation, from `first` on (after every message id, so
 * the two never meet), the first time any of its events is seen.
 */
export class OpConversations {
  private readonly ids = new Map<string, number>();
  private next: number;

  constructor(first: number) {
    this.next = first;
  }

  of(e: TraceEvent): number | null {
    const op = opOf(e);
    if (op === null) return null;
    const key = `${op.client}\u0000${op.seq}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.next++;
      this.ids.set(key, id);
    }
    return id;
  }
}

/**
 * The client lanes after an event. A completion shows its outcome on its own row only; the next
 * row of any kind finds the lane idle again. Lanes are shared between rows until they change.
 */
export function nextClientLanes(
  lanes: (ClientLane | null)[],
  e: TraceEvent,
  index: Map<string, number>,
): (ClientLane | null)[] {
  let next = lanes;
  const change = (i: number, lane: ClientLane | null) => {
    if (next === lanes) next = lanes.slice();
    next[i] = lane;
  };
  // a plain loop: this runs once per row of traces of 100,000 rows
  for (let i = 0; i < lanes.length; i++) {
    const lane = lanes[i];
    if (lane && lane.state !== "pending") change(i, null);
  }
  if (!isClientEvent(e)) return next;
  const i = index.get(e.details.client)!;
  if (e.kind === "client.invoke") {
    const { seq, command } = e.details;
    change(i, { seq, op: `${command.op} ${command.key}`, state: "pending" });
  } else if (e.kind === "client.complete") {
    const { seq, result, definite } = e.details;
    const state: OpState = result !== undefined ? "ok" : definite ? "failed" : "maybe";
    // an operation whose invocation the trace lost still shows how it ended
    change(i, { seq, op: lanes[i]?.op ?? "", state });
  }
  return next;
}

/** The node a client's attempt went to or its answer came from, and what its cell says. */
export function peerOf(e: TraceEvent): { node: number; text: string } | null {
  if (!isClientEvent(e)) return null;
  if (e.kind === "client.send") {
    return { node: e.details.to, text: `← ${e.details.client} #${e.details.seq}` };
  }
  if (e.kind === "client.answer") {
    const { client, seq, from, status } = e.details;
    // no answer is not something the node did: the attempt at it failed
    const arrow = status === "no answer" ? "✗" : "→";
    return { node: from, text: `${arrow} ${client} #${seq} ${status}` };
  }
  return null;
}
