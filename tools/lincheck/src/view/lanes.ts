// Where each operation's bar goes: on its client's lane, from its invocation to its response, on
// a time axis of slots. Time is drawn ordinally, each distinct instant one slot wide, so a clock
// that jumps (or line numbers used as time) leaves no idle stretches, and the page's zoom sets the
// width of a slot. One client's operations must never run into each other, or two of them read as
// one bar: a bar ends before the next one starts (sharing the slot when the next is invoked at the
// instant the previous returned), and one that overlaps the previous (an operation that never
// returned, then another) goes on a row of its own below.

import type { Operation } from "../history.ts";

export interface BarView {
  id: number;
  /** `#id`, the operation's one number everywhere: bars, tooltips, the command's text. */
  name: string;
  label: string;
  /** "client 3 (line 85)", for the tooltip. */
  origin: string;
  pending: boolean;
  /** Start and width, in slots. */
  left: number;
  width: number;
  /** The row of its client's lane (0 unless it overlaps an earlier operation of that client). */
  row: number;
  /** Every other operation of a client is shaded a little darker, so neighbours stand apart. */
  alt: boolean;
}

/** Where things are on a partition's time axis, in slots: an instant's slot, an operation's bar. */
export interface Axis {
  slot(time: number): number;
  left(id: number): number;
}

export interface LaneView {
  client: string;
  rows: number;
  bars: BarView[];
}

/** How far into its call's slot a bar starts, and before the end of its return's slot it ends. */
const EDGE = 0.15;
/** Where, in a slot both share, one operation of a client ends and its next starts: apart by GAP. */
const HANDOVER = 0.5;
const GAP = 0.1;
/** A bar is never cut narrower than this by a hand-over; the later one takes a row of its own. */
const NARROWEST = 0.3;

/** The slots of a partition's instants, and how many slots it spans (one more for pending ends). */
export function timeline(ops: readonly Operation[]) {
  const instants = [
    ...new Set(ops.flatMap((o) => (o.ret === undefined ? [o.call] : [o.call, o.ret]))),
  ];
  instants.sort((a, b) => a - b);
  const slot = new Map(instants.map((t, i) => [t, i]));
  return { slot: (t: number) => slot.get(t)!, slots: instants.length + 1 };
}

interface Placed {
  bar: BarView;
  call: number;
  /** The slot of its response; undefined for an operation that never returned. */
  ret: number | undefined;
}

/**
 * `next` goes on the row whose last bar is `last`: after it, or, called at the very instant `last`
 * returned, sharing that slot (then both are cut back to the hand-over point). False if neither.
 */
function follow(last: Placed, next: Placed): boolean {
  const a = last.bar;
  const b = next.bar;
  if (a.left + a.width <= b.left) return true;
  if (last.ret !== next.call) return false;
  const end = next.call + HANDOVER - GAP / 2;
  const start = next.call + HANDOVER + GAP / 2;
  const right = b.left + b.width;
  if (end - a.left < NARROWEST || right - start < NARROWEST) return false;
  a.width = end - a.left;
  b.left = start;
  b.width = right - start;
  return true;
}

/** One client's bars on rows, in the order they were invoked; returns how many rows it takes. */
function stack(placed: Placed[]): number {
  const lastOfRow: Placed[] = [];
  placed.sort((x, y) => x.bar.left - y.bar.left || x.bar.id - y.bar.id);
  placed.forEach((p, i) => {
    let row = lastOfRow.findIndex((last) => follow(last, p));
    if (row < 0) row = lastOfRow.length;
    lastOfRow[row] = p;
    p.bar.row = row;
    p.bar.alt = i % 2 === 1;
  });
  return Math.max(1, lastOfRow.length);
}

const byClient = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });

/**
 * The lanes of a partition, one per client in natural order ("2" before "10"); `text` gives each
 * operation's name, label and origin.
 */
export function lanes(
  ops: readonly Operation[],
  text: (op: Operation) => Pick<BarView, "name" | "label" | "origin">,
): { lanes: LaneView[]; slots: number; axis: Axis } {
  const { slot, slots } = timeline(ops);
  const perClient = new Map<string, Placed[]>();
  for (const op of ops) {
    const call = slot(op.call);
    const ret = op.ret === undefined ? undefined : slot(op.ret);
    const left = call + EDGE;
    const right = ret === undefined ? slots : ret + 1 - EDGE;
    const bar = { id: op.id, ...text(op), pending: ret === undefined, left, width: right - left };
    const placed = { bar: { ...bar, row: 0, alt: false }, call, ret };
    const lane = perClient.get(op.client);
    if (lane) lane.push(placed);
    else perClient.set(op.client, [placed]);
  }
  const clients = [...perClient.keys()].sort(byClient);
  const views = clients.map((client): LaneView => {
    const placed = perClient.get(client)!;
    const rows = stack(placed);
    return { client, rows, bars: placed.map((p) => p.bar) };
  });
  const bars = new Map(views.flatMap((lane) => lane.bars.map((bar) => [bar.id, bar])));
  return { lanes: views, slots, axis: { slot, left: (id) => bars.get(id)!.left } };
}
