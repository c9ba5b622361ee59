import type { CheckResult, PartitionResult } from "../check.ts";
import type { History, Operation } from "../history.ts";
import { replay, stateAfter } from "../replay.ts";

/** How an operation is drawn: its role in the (partial) linearization of its partition. */
export type Role = "linearized" | "unplaced" | "stuck" | "breaker";

export interface OpView {
  id: number;
  label: string;
  role: Role;
  pending: boolean;
  /** Percentages of the timeline's width. */
  left: number;
  width: number;
  /** 1-based position in the linearization (or prefix), and where its point is drawn. */
  position: number | undefined;
  point: number | undefined;
  before: string;
  after: string;
  note: string;
}

export interface PartitionView {
  title: string;
  verdict: PartitionResult["verdict"];
  summary: string;
  lanes: { client: string; ops: OpView[] }[];
  /** Width of the timeline in pixels: enough room for every distinct instant. */
  widthPx: number;
}

/**
 * Time is drawn ordinally: each distinct instant gets one equal slot, so a history whose clock
 * jumps (or that uses line numbers as time) stays readable. Pending operations run to the end.
 */
function timeline(ops: readonly Operation[]) {
  const instants = [
    ...new Set(ops.flatMap((o) => (o.ret === undefined ? [o.call] : [o.call, o.ret]))),
  ];
  instants.sort((a, b) => a - b);
  const slot = new Map(instants.map((t, i) => [t, i]));
  const slots = instants.length + 1;
  const at = (t: number | undefined) =>
    ((t === undefined ? slots - 0.5 : slot.get(t)! + 0.5) / slots) * 100;
  return { at, slotWidth: 100 / slots, slots };
}

/**
 * Where to mark each linearization point: at the latest of the operation's call and the previous
 * point. That lies inside the operation's interval for any valid linearization (an operation that
 * returned before a later one's call must come first), and keeps points in order.
 */
function points(
  ops: Map<number, Operation>,
  order: readonly number[],
  at: (t: number) => number,
  slotWidth: number,
) {
  const result = new Map<number, number>();
  let time = Number.NEGATIVE_INFINITY;
  let ties = 0;
  for (const id of order) {
    const call = ops.get(id)!.call;
    ties = call > time ? 0 : ties + 1;
    time = Math.max(time, call);
    result.set(id, at(time) + Math.min(ties * 0.15, 0.45) * slotWidth);
  }
  return result;
}

function roleOf(p: PartitionResult, id: number, placed: Set<number>): Role {
  if (p.breaker === id) return "breaker";
  if (p.stuck.includes(id)) return "stuck";
  return placed.has(id) ? "linearized" : "unplaced";
}

const NOTES: Record<Role, string> = {
  linearized: "",
  unplaced: "not reached by the longest linearizable prefix",
  stuck: "could go next after the prefix, but the model rejects it there",
  breaker:
    "could go next after the prefix, but the model rejects it there, and it returned first: the history breaks here",
};

function opViews(history: History, p: PartitionResult): OpView[] {
  const { model } = history;
  const { at, slotWidth } = timeline(p.operations);
  const byId = new Map(p.operations.map((o) => [o.id, o]));
  const marks = points(byId, p.order, at, slotWidth);
  const states = new Map(replay(model, p.operations, p.order).map((r) => [r.op.id, r]));
  const afterPrefix = model.describeState(stateAfter(model, p.operations, p.order));
  const placed = new Set(p.order);
  return p.operations.map((op): OpView => {
    const r = states.get(op.id);
    const role = roleOf(p, op.id, placed);
    // An operation that could not go next is shown against the state the prefix left.
    const tried = p.stuck.includes(op.id);
    return {
      id: op.id,
      label: model.describeOperation(op.input, op.output),
      role,
      pending: op.ret === undefined,
      left: at(op.call),
      width: Math.max(at(op.ret) - at(op.call), slotWidth * 0.3),
      position: r ? p.order.indexOf(op.id) + 1 : undefined,
      point: marks.get(op.id),
      before: r ? model.describeState(r.before) : tried ? afterPrefix : "",
      after: r ? model.describeState(r.after) : tried ? "(none: impossible in that state)" : "",
      note: NOTES[role],
    };
  });
}

function summary(p: PartitionResult): string {
  const n = p.operations.length;
  if (p.verdict === "linearizable")
    return `linearizable: all ${n} operations placed, in the order numbered`;
  if (p.verdict === "unknown")
    return `unknown: gave up (${p.gaveUp} bound) after a prefix of ${p.order.length} of ${n}`;
  return `not linearizable: the longest linearizable prefix has ${p.order.length} of ${n} operations`;
}

const byClient = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });

export function layout(history: History, result: CheckResult): PartitionView[] {
  return result.partitions.map((p) => {
    const ops = opViews(history, p);
    const clients = [...new Set(p.operations.map((o) => o.client))].sort(byClient);
    return {
      title: p.key === null ? "whole history" : `key ${JSON.stringify(p.key)}`,
      verdict: p.verdict,
      summary: summary(p),
      lanes: clients.map((client) => ({
        client,
        ops: ops.filter((_, i) => p.operations[i]!.client === client),
      })),
      widthPx: Math.max(600, timeline(p.operations).slots * 24),
    };
  });
}
