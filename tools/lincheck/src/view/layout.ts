// Everything the history page shows, computed here: bar positions on an ordinal time axis, the
// partial linearizations of each partition and their linearization points, the zoom range. The
// page's own script only chooses which of it to show.

import {
  type CheckOptions,
  type CheckResult,
  frontier,
  type PartitionResult,
  partialLinearizations,
} from "../check.ts";
import type { History, Operation } from "../history.ts";
import type { Model } from "../model.ts";

/**
 * What the page needs, computed here so that the page's script only shows it. Positions are in
 * slots: time is drawn ordinally, each distinct instant one slot wide, so a clock that jumps (or
 * line numbers used as time) leaves no idle stretches, and the zoom sets the width of a slot.
 */
export interface BarView {
  id: number;
  /** `#id`, the operation's one number everywhere: bars, tooltips, the command's text. */
  name: string;
  label: string;
  /** "client 3 (line 85)", for the tooltip. */
  origin: string;
  pending: boolean;
  left: number;
  width: number;
}

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
  lanes: { client: string; bars: BarView[] }[];
  /** Length of the timeline in slots. */
  slots: number;
  data: PartitionData;
}

export interface PageView {
  partitions: PartitionView[];
  /** The narrowest slot (px) at which every bar still shows its whole #id, and the widest. */
  minSlot: number;
  maxSlot: number;
  /** Where the first breaking operation is, for the page's "jump" control. */
  firstBreaker: { partition: number; id: number } | undefined;
}

/** Where each instant's slot is, and bars in slots: a call to its return, pending ones to the end. */
function timeline(ops: readonly Operation[]) {
  const instants = [
    ...new Set(ops.flatMap((o) => (o.ret === undefined ? [o.call] : [o.call, o.ret]))),
  ];
  instants.sort((a, b) => a - b);
  const slot = new Map(instants.map((t, i) => [t, i]));
  const slots = instants.length + 1;
  // A bar runs from just inside its call's slot to just inside its return's, so two operations of
  // one client, at distinct instants, never touch.
  const bar = (o: Operation) => {
    const left = slot.get(o.call)! + 0.15;
    const right = o.ret === undefined ? slots : slot.get(o.ret)! + 0.85;
    return { left, width: right - left };
  };
  return { slot: (t: number) => slot.get(t)!, slots, bar };
}

/**
 * Where to mark each linearization point: at the latest of the operation's call and the previous
 * point, which lies inside the operation's interval for any valid (partial) linearization and
 * keeps the points in order. Points at one instant are spread a little within its slot.
 */
function points(
  byId: Map<number, Operation>,
  order: readonly number[],
  slot: (t: number) => number,
) {
  let time = Number.NEGATIVE_INFINITY;
  let ties = 0;
  return order.map((id) => {
    const call = byId.get(id)!.call;
    ties = call > time ? 0 : ties + 1;
    time = Math.max(time, call);
    return slot(time) + 0.5 + Math.min(ties * 0.1, 0.3);
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
  slot: (t: number) => number,
): PartialView {
  const byId = new Map(p.operations.map((o) => [o.id, o]));
  let state = model.init();
  const marks = points(byId, order, slot);
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

function partitionData(
  model: Model,
  p: PartitionResult,
  options: CheckOptions,
  slot: (t: number) => number,
) {
  const names = new StateNames(model);
  const initial = names.of(model.init());
  const orders = partialLinearizations(model, p, options);
  const partials = orders.map((order) => partialView(model, p, order, names, slot));
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

const byClient = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });

function partitionView(history: History, p: PartitionResult, options: CheckOptions): PartitionView {
  const { slot, slots, bar } = timeline(p.operations);
  const bars = p.operations.map((op): BarView => {
    const line = op.line === undefined ? "" : ` (line ${op.line})`;
    const label = history.model.describeOperation(op.input, op.output);
    return {
      id: op.id,
      name: `#${op.id}`,
      label,
      origin: `client ${op.client}${line}`,
      pending: op.ret === undefined,
      ...bar(op),
    };
  });
  const clients = [...new Set(p.operations.map((o) => o.client))].sort(byClient);
  return {
    title: p.key === null ? "whole history" : `key ${JSON.stringify(p.key)}`,
    verdict: p.verdict,
    summary: summary(p),
    lanes: clients.map((client) => ({
      client,
      bars: bars.filter((_, i) => p.operations[i]!.client === client),
    })),
    slots,
    data: partitionData(history.model, p, options, slot),
  };
}

/** Character width and padding of the bar labels (11px monospace), in px. */
const CHAR_PX = 7;
const PAD_PX = 8;

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
  const at = result.partitions.findIndex((p) => p.breaker !== undefined);
  return {
    partitions,
    minSlot,
    maxSlot: Math.max(8 * minSlot, 240),
    firstBreaker: at < 0 ? undefined : { partition: at, id: result.partitions[at]!.breaker! },
  };
}
