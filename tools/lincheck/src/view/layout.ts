// Everything the history page shows, computed here: each partition's lanes of bars (lanes.ts),
// its partial linearizations and their linearization points, the zoom range. The page's own
// script only chooses which of it to show.

import {
  type CheckOptions,
  type CheckResult,
  frontier,
  type PartitionResult,
  partialLinearizations,
} from "../check.ts";
import type { History, Operation } from "../history.ts";
import type { Model } from "../model.ts";
import { type Axis, type LaneView, lanes } from "./lanes.ts";

/** One partial linearization and what blocks it, for the page's script (see page.ejs). */
export interface PartialView {
  /** Per step: the operation, the state after it (index into `states`), where its point is drawn. */
  steps: [number, number, number][];
  /** The operations that could go next, and the one whose response comes first. */
  next: number[];
  breaker: number | null;
  /** Those of `next` that the model accepts after the prefix (leading to states already explored). */
  accepted: number[];
}

export interface PartitionData {
  states: string[];
  /** The state before anything (index into `states`). */
  initial: number;
  partials: PartialView[];
  /** For each operation (by id), the first of `partials` that contains it. */
  partialOf: Record<number, number>;
  /** The operation that breaks the partition (not linearizable only). */
  breaker: number | null;
}

export interface PartitionView {
  title: string;
  verdict: PartitionResult["verdict"];
  summary: string;
  lanes: LaneView[];
  /** Length of the timeline in slots. */
  slots: number;
  data: PartitionData;
}

/**
 * What the page needs, computed here so that the page's script only shows it. Positions are in
 * slots (lanes.ts); the zoom sets the width of a slot, in px.
 */
export interface PageView {
  partitions: PartitionView[];
  /** The narrowest slot (px) at which every bar still shows its whole #id, and the widest. */
  minSlot: number;
  maxSlot: number;
  /**
   * The narrowest slot the page starts at: half again as wide as minSlot, so that bars show some
   * of their label beside the #id. Where the history fits the window wider than this, the page
   * starts fitted to the window's width instead.
   */
  readableSlot: number;
  /** Where the first breaking operation is, for the page's "jump" control. */
  firstBreaker: { partition: number; id: number } | undefined;
}

/**
 * Where to mark each linearization point: at the latest of the operation's call and the previous
 * point, which lies inside the operation's interval for any valid (partial) linearization and
 * keeps the points in order. Points at one instant are spread a little within its slot, and none
 * is left of its own bar's start (a bar that takes over its client's slot starts past the middle).
 */
function points(byId: Map<number, Operation>, order: readonly number[], axis: Axis) {
  let time = Number.NEGATIVE_INFINITY;
  let ties = 0;
  let x = Number.NEGATIVE_INFINITY;
  return order.map((id) => {
    const call = byId.get(id)!.call;
    ties = call > time ? 0 : ties + 1;
    time = Math.max(time, call);
    x = Math.max(x, axis.slot(time) + 0.5 + Math.min(ties * 0.1, 0.3), axis.left(id) + 0.1);
    return x;
  });
}

/** The states a partition's partial linearizations pass through, numbered as they are met. */
class StateNames {
  readonly names: string[] = [];
  private readonly index = new Map<string, number>();
  private readonly model: Model;

  constructor(model: Model) {
    this.model = model;
  }

  of(state: unknown): number {
    const name = this.model.describeState(state);
    let i = this.index.get(name);
    if (i === undefined) {
      i = this.names.length;
      this.names.push(name);
      this.index.set(name, i);
    }
    return i;
  }
}

function partialView(
  model: Model,
  p: PartitionResult,
  order: readonly number[],
  names: StateNames,
  axis: Axis,
): PartialView {
  const byId = new Map(p.operations.map((o) => [o.id, o]));
  let state = model.init();
  const marks = points(byId, order, axis);
  const steps = order.map((id, i): [number, number, number] => {
    const op = byId.get(id)!;
    state = model.step(state, op.input, op.output).next;
    return [id, names.of(state), marks[i]!];
  });
  const { next, breaker } = frontier(p.operations, order);
  const accepted = next.filter((id) => {
    const op = byId.get(id)!;
    return model.step(state, op.input, op.output).ok;
  });
  return { steps, next, breaker: breaker ?? null, accepted };
}

function partitionData(model: Model, p: PartitionResult, options: CheckOptions, axis: Axis) {
  const names = new StateNames(model);
  const initial = names.of(model.init());
  const orders = partialLinearizations(model, p, options);
  const partials = orders.map((order) => partialView(model, p, order, names, axis));
  const partialOf: Record<number, number> = {};
  orders.forEach((order, i) => {
    for (const id of order) partialOf[id] ??= i;
  });
  return { states: names.names, initial, partials, partialOf, breaker: p.breaker ?? null };
}

function summary(p: PartitionResult): string {
  const n = p.operations.length;
  switch (p.verdict) {
    case "linearizable":
      return `linearizable: all ${n} operations placed`;
    case "not-linearizable":
      return `not linearizable: the longest linearizable prefix has ${p.order.length} of ${n} operations`;
    case "unknown":
      return `unknown: gave up (${p.gaveUp === "time" ? "time limit" : "state budget"}) with a prefix of ${p.order.length} of ${n}`;
    case "unchecked":
      return `not checked: the check stopped at the first partition that is not linearizable (--all checks every one)`;
  }
}

function partitionView(history: History, p: PartitionResult, options: CheckOptions): PartitionView {
  const {
    lanes: laneViews,
    slots,
    axis,
  } = lanes(p.operations, (op) => ({
    name: `#${op.id}`,
    label: history.model.describeOperation(op.input, op.output),
    origin: `client ${op.client}${op.line === undefined ? "" : ` (line ${op.line})`}`,
  }));
  return {
    title: p.key === null ? "whole history" : `key ${JSON.stringify(p.key)}`,
    verdict: p.verdict,
    summary: summary(p),
    lanes: laneViews,
    slots,
    data: partitionData(history.model, p, options, axis),
  };
}

/**
 * Character width of the bar labels (11px monospace), and what a bar takes around its text: the
 * padding and border on both sides, and the 2px that keep it apart from its neighbour (page.ejs).
 */
const CHAR_PX = 7;
const PAD_PX = 10;

export function layout(
  history: History,
  result: CheckResult,
  options: CheckOptions = {},
): PageView {
  const partitions = result.partitions.map((p) => partitionView(history, p, options));
  const bars = partitions.flatMap((p) => p.lanes.flatMap((l) => l.bars));
  const widest = Math.max(...bars.map((b) => b.name.length)) * CHAR_PX + PAD_PX;
  const narrowest = Math.min(...bars.map((b) => b.width));
  const minSlot = Math.ceil(widest / narrowest);
  const maxSlot = Math.max(8 * minSlot, 240);
  const at = result.partitions.findIndex((p) => p.breaker !== undefined);
  return {
    partitions,
    minSlot,
    maxSlot,
    readableSlot: Math.min(maxSlot, Math.round(minSlot * 1.5)),
    firstBreaker: at < 0 ? undefined : { partition: at, id: result.partitions[at]!.breaker! },
  };
}
