// The search for a linearization of one partition of a history: Wing & Gong's algorithm, with
// Lowe's memo.
//
// Wing & Gong (1993) build a linearization one operation at a time, depth first. An operation
// can go next if it was invoked before the first response still outstanding: an operation that
// has returned must come before anything invoked after its return. Of those candidates, the
// search places the first the model accepts in the state the prefix leaves, with the output its
// client saw, and goes on from the longer prefix; when none can be placed, it undoes the last
// choice and tries the next candidate in its place. A prefix that holds every operation is a
// linearization; undoing the first choice with nothing left to try means there is none. The
// events (calls and returns, in time order) are a doubly linked list, as in Porcupine: placing
// an operation unlinks its two events, so the candidates are the calls before the first return
// still linked, and undoing relinks them in O(1).
//
// Lowe's memo: what can follow a prefix depends only on which operations it holds and the state
// it leaves, not on their order. So each (linearized set, state) pair is explored once; placing an
// operation that reaches a pair already in the memo is skipped like a rejection. This turns a
// search exponential in the number of concurrent operations into one bounded by the number of
// distinct pairs, far fewer in the histories met in practice. On top, an operation that can
// change no state (a read) is placed as soon as the model accepts it, without trying other orders
// (see Search).
//
// The budget (maxStates) is a count of memo entries, the distinct pairs explored. The search
// answers "unknown" rather than add one more. It bounds memory (the memo is what grows), and time
// to within a factor of the partition's length (each pair's prefix costs at most two passes over
// its candidates); a count, not a clock, so the answer is the same on every machine.
//
// The per-key split happens before this file: check.ts cuts the history into the model's
// partitions (the kv model's keys) and gives each its own Search, memo and budget. A history is
// linearizable exactly when each of its partitions is (P-compositionality, Horn & Kroening 2015),
// so one search over thousands of operations becomes many small ones.
//
// The outcome: "linearizable", with an order of every operation; "not-linearizable" once every
// pair reachable has been explored without completing one, with the longest prefix reached as
// the evidence (check.ts adds the operations stuck after it); "unknown" when the budget, or
// check()'s time limit, ran out first, with the longest prefix so far.

import { Bitset } from "./bitset.ts";
import type { Operation } from "./history.ts";
import { Memo } from "./memo.ts";
import type { Model } from "./model.ts";
import { REJECTED, States } from "./states.ts";

/**
 * How many states and memo entries a search makes room for at first: its tables double when
 * full, and doubling many times costs more than a little unused room; but a small partition
 * should get tables small enough for V8 to keep on its heap (64 bytes), which cost nothing.
 */
function roomFor(ops: number): number {
  return 2 ** Math.min(12, Math.max(3, Math.ceil(Math.log2(ops))));
}

/** n zeros. Plain arrays: for a small partition they cost less to make than typed arrays. */
function zeros(n: number): number[] {
  return new Array<number>(n).fill(0);
}

/**
 * The events of a history in time order, as numbers: 2i is the call of operation i, 2i+1 its
 * return (at +infinity for an operation without a response). Calls come before returns at equal
 * times: operations that touch at an instant count as concurrent.
 */
export function eventOrder(ops: readonly Operation[]): number[] {
  const calls = ops.map((op) => op.call);
  const returns = ops.map((op) => op.ret ?? Number.POSITIVE_INFINITY);
  const byCall = sortedBy(calls);
  const byReturn = sortedBy(returns);
  const events = zeros(2 * ops.length);
  let c = 0;
  let r = 0;
  for (let e = 0; e < events.length; e++) {
    // Every return follows its own call, so the calls never run out first.
    const callFirst = c < ops.length && calls[byCall[c]!]! <= returns[byReturn[r]!]!;
    events[e] = callFirst ? 2 * byCall[c++]! : 2 * byReturn[r++]! + 1;
  }
  return events;
}

/**
 * The indices of `keys` in increasing order of key, equal keys by index. Histories come nearly in
 * time order, so an insertion sort is close to linear; should it have to move too much, the
 * library sort takes over.
 */
function sortedBy(keys: readonly number[]): number[] {
  const order = zeros(keys.length);
  let moves = 0;
  for (let i = 0; i < keys.length; i++) {
    let j = i;
    for (; j > 0 && keys[order[j - 1]!]! > keys[i]!; j--) order[j] = order[j - 1]!;
    order[j] = i;
    moves += i - j;
    if (moves > 8 * keys.length)
      return [...keys.keys()].sort((a, b) => keys[a]! - keys[b]! || a - b);
  }
  return order;
}

/**
 * The events of a partition as a circular doubly linked list in time order, in typed arrays:
 * node 0 is the head, the call of operation i is node 2i+1 and its return node 2i+2 (the event
 * numbers of eventOrder, plus one). Placing an operation in the linearization unlinks both its
 * events, and backtracking links them back in: no copying, each undo O(1).
 */
class EventList {
  readonly next: number[];
  readonly prev: number[];

  constructor(ops: readonly Operation[]) {
    this.next = zeros(2 * ops.length + 1);
    this.prev = zeros(2 * ops.length + 1);
    let last = 0;
    for (const event of eventOrder(ops)) {
      const node = event + 1;
      this.next[last] = node;
      this.prev[node] = last;
      last = node;
    }
    this.next[last] = 0;
    this.prev[0] = last;
  }

  lift(call: number): void {
    const { next, prev } = this;
    next[prev[call]!] = next[call]!;
    prev[next[call]!] = prev[call]!;
    const ret = call + 1;
    next[prev[ret]!] = next[ret]!;
    prev[next[ret]!] = prev[ret]!;
  }

  /** Undo lift(call); the list must be as lift left it. */
  unlift(call: number): void {
    const { next, prev } = this;
    const ret = call + 1;
    next[prev[ret]!] = ret;
    prev[next[ret]!] = ret;
    next[prev[call]!] = call;
    prev[next[call]!] = call;
  }
}

export type SearchOutcome =
  | { kind: "linearizable"; order: number[] }
  | { kind: "not-linearizable"; longestPrefix: number[] }
  | { kind: "unknown"; reason: "states" | "time"; longestPrefix: number[] };

export interface SearchOptions {
  /** Give up once this many (linearized set, state) pairs have been explored. */
  maxStates: number;
  /** Keep, for each operation, the longest linearizable prefix found that contains it. */
  recordPartials?: boolean;
}

/**
 * The search (see the top of this file). Walk the events in time order; at a call, try to
 * linearize that operation now (the model must accept its output, and the resulting (set, state)
 * pair must be new); at a return, the operation it belongs to should already have been placed, so
 * the current prefix is a dead end and the last choice is undone. Operations without a response
 * return at +infinity: they may be placed anywhere after their call, and placing one at the very
 * end is the same as it never having happened.
 *
 * One pruning on top: an operation that changes no state (a read, a cas that failed) and that the
 * model accepts now is placed now, with no alternative tried. Any linearization that places it
 * later still works with it moved here: every operation that returned before its call is already
 * placed, and the ones it jumps over see the same states. So if placing it fails, or leads to a
 * pair already explored, the whole prefix is a dead end. To use this as much as possible, each
 * prefix first looks at its read-only candidates, and only if the model rejects all of them at
 * the others.
 *
 * The search runs in slices (`run(steps)`), so that check() can share its effort between
 * partitions and stop at the first one that fails.
 */
export class Search<S = unknown> {
  private readonly list: EventList;
  private readonly states: States<S>;
  private readonly memo: Memo;
  private readonly bits: Bitset;
  private readonly readOnly: boolean[];
  /** Per depth: the call placed there, the state before it, whether it was placed greedily. */
  private readonly placed: number[];
  private readonly before: number[];
  private readonly forced: boolean[];
  private readonly maxStates: number;
  private readonly partials: Partials | undefined;
  private depth = 0;
  /** Whether the walk is in its first pass over the candidates, the one for read-only operations. */
  private readsPass = true;
  private state: number;
  private node: number;
  private readonly deepest: Deepest;
  private outcome: SearchOutcome | undefined;

  constructor(model: Model<S>, ops: readonly Operation[], options: SearchOptions) {
    this.list = new EventList(ops);
    const room = roomFor(ops.length);
    this.states = new States(model, ops, room);
    this.memo = new Memo(Math.max(1, Math.ceil(ops.length / 32)), room);
    this.bits = new Bitset(ops.length);
    this.readOnly = ops.map((o) => model.readOnly?.(o.input, o.output) === true);
    this.placed = zeros(ops.length);
    this.before = zeros(ops.length);
    this.forced = ops.map(() => false);
    this.maxStates = options.maxStates;
    this.partials = options.recordPartials ? new Partials(ops.length) : undefined;
    this.deepest = new Deepest(ops.length);
    this.state = this.states.intern(model.init());
    this.node = this.list.next[0]!;
  }

  /** How many (linearized set, state) pairs the search has explored so far. */
  get explored(): number {
    return this.memo.size;
  }

  /** Search for at most `steps` more steps; the outcome once there is one. */
  run(steps: number): SearchOutcome | undefined {
    const { next } = this.list;
    const { readOnly } = this;
    let node = this.node;
    for (let i = 0; i < steps && this.outcome === undefined; i++) {
      if (next[0] === 0) return this.finish({ kind: "linearizable", order: this.prefix() });
      if ((node & 1) === 0) {
        // The first outstanding return: the end of this pass over the candidates.
        if (this.readsPass) {
          this.readsPass = false;
          node = next[0]!;
        } else node = this.backtrack();
        continue;
      }
      const op = (node - 1) >> 1;
      // First pass: only operations that change nothing; second pass: only the others.
      if (this.readsPass !== readOnly[op]) {
        node = next[node]!;
        continue;
      }
      const after = this.states.step(this.state, op);
      if (after !== REJECTED) {
        if (this.memo.size === this.maxStates) return this.stop("states");
        this.bits.set(op);
        if (this.memo.add(this.bits, after)) {
          this.push(node, op, after);
          node = next[0]!;
          continue;
        }
        this.bits.clear(op);
        if (this.readsPass) {
          node = this.backtrack();
          continue;
        }
      }
      node = next[node]!;
    }
    this.node = node;
    return this.outcome;
  }

  /** Give up: no answer, but the longest prefix found so far. */
  stop(reason: "states" | "time"): SearchOutcome {
    return (
      this.outcome ?? this.finish({ kind: "unknown", reason, longestPrefix: this.deepest.ops() })
    );
  }

  /** For each operation, the longest linearizable prefix found that contains it (recordPartials). */
  partialLinearizations(): number[][] {
    return this.partials?.distinct() ?? [];
  }

  private push(call: number, op: number, after: number): void {
    const d = this.depth++;
    this.placed[d] = call;
    this.before[d] = this.state;
    this.forced[d] = this.readOnly[op]!;
    this.state = after;
    this.readsPass = true;
    this.list.lift(call);
    this.partials?.pushed();
    this.deepest.pushed(this.placed, this.depth);
  }

  /** Undo choices back to one that has an alternative; the node to go on from (any, once done). */
  private backtrack(): number {
    this.partials?.leaf(this.placed, this.depth, this.state);
    // Every choice that is undone here was made in the second pass (see run).
    this.readsPass = false;
    let call = 0;
    do {
      if (this.depth === 0) {
        this.finish({ kind: "not-linearizable", longestPrefix: this.deepest.ops() });
        return 0;
      }
      const d = --this.depth;
      call = this.placed[d]!;
      this.state = this.before[d]!;
      this.bits.clear((call - 1) >> 1);
      this.list.unlift(call);
    } while (this.forced[this.depth]);
    this.deepest.popped(this.depth);
    return this.list.next[call]!;
  }

  private prefix(): number[] {
    return opsOf(this.placed, this.depth);
  }

  private finish(outcome: SearchOutcome): SearchOutcome {
    this.outcome = outcome;
    return outcome;
  }
}

/** The operations of the first `depth` calls of a stack. */
function opsOf(calls: readonly number[], depth: number): number[] {
  const ops = new Array<number>(depth);
  for (let d = 0; d < depth; d++) ops[d] = (calls[d]! - 1) >> 1;
  return ops;
}

/**
 * The deepest the stack of choices has been: the longest linearizable prefix found, which is the
 * evidence when there is no linearization. Copying the whole stack at each new depth would cost
 * O(n²) on a search that goes straight down, so only the part that changed since the last copy
 * is copied.
 */
class Deepest {
  private readonly calls: number[];
  private length = 0;
  /** How many entries at the bottom of the stack are still those of the copy. */
  private unchanged = 0;

  constructor(size: number) {
    this.calls = zeros(size);
  }

  popped(depth: number): void {
    if (depth < this.unchanged) this.unchanged = depth;
  }

  pushed(placed: readonly number[], depth: number): void {
    if (depth <= this.length) return;
    for (let d = this.unchanged; d < depth; d++) this.calls[d] = placed[d]!;
    this.length = depth;
    this.unchanged = depth;
  }

  ops(): number[] {
    return opsOf(this.calls, this.length);
  }
}

/** How many dead ends of the greatest depth, in different states, Partials keeps. */
const DEEPEST_KEPT = 50;

/**
 * For the viewer, which lets a reader step through them. Two kinds of partial linearization,
 * both prefixes where the search turned back right after growing one (a leaf of the search tree;
 * every other prefix is part of one of those):
 * - as Porcupine's viewer has them: for each operation, the longest prefix that contains it;
 * - the dead ends of the greatest depth, one for each state they leave the object in: the same
 *   operations in other orders, each stuck in its own way.
 */
class Partials {
  private readonly best: (number[] | undefined)[];
  private deepest = new Map<number, number[]>();
  private depth = 0;
  private grew = false;

  constructor(size: number) {
    this.best = new Array<number[] | undefined>(size).fill(undefined);
  }

  pushed(): void {
    this.grew = true;
  }

  /** The search turns back from this prefix, which leaves the object in `state`. */
  leaf(placed: readonly number[], depth: number, state: number): void {
    if (!this.grew) return;
    this.grew = false;
    let prefix: number[] | undefined;
    for (let d = 0; d < depth; d++) {
      const op = (placed[d]! - 1) >> 1;
      if ((this.best[op]?.length ?? 0) >= depth) continue;
      prefix ??= opsOf(placed, depth);
      this.best[op] = prefix;
    }
    if (depth > this.depth) {
      this.depth = depth;
      this.deepest = new Map();
    }
    if (depth === this.depth && !this.deepest.has(state) && this.deepest.size < DEEPEST_KEPT) {
      this.deepest.set(state, prefix ?? opsOf(placed, depth));
    }
  }

  /** The distinct prefixes, longest first. */
  distinct(): number[][] {
    const unique = new Set([...this.deepest.values(), ...this.best.filter((p) => p !== undefined)]);
    return [...unique].sort((a, b) => b.length - a.length);
  }
}
