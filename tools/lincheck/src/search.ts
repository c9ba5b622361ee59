import { Bitset } from "./bitset.ts";
import type { Operation } from "./history.ts";
import type { Model } from "./model.ts";

/**
 * One event of the history: the invocation (call) or the response (return) of an operation.
 * Events form a doubly linked list in time order; placing an operation in the linearization
 * unlinks both its events, and backtracking links them back in (Lowe's improvement of the
 * Wing & Gong search: no copying, each undo is O(1)).
 */
interface Event {
  op: number;
  /** The return event of a call; null on return events. */
  match: Event | null;
  prev: Event | null;
  next: Event | null;
}

/** Calls before returns at equal times: operations that touch at an instant count as concurrent. */
export function eventOrder(ops: readonly Operation[]): { op: number; isCall: boolean }[] {
  const events: { op: number; isCall: boolean; time: number }[] = [];
  ops.forEach((o, i) => {
    events.push({ op: i, isCall: true, time: o.call });
    events.push({ op: i, isCall: false, time: o.ret ?? Number.POSITIVE_INFINITY });
  });
  events.sort((a, b) => a.time - b.time || Number(b.isCall) - Number(a.isCall) || a.op - b.op);
  return events;
}

function linkEvents(ops: readonly Operation[]): Event {
  const head: Event = { op: -1, match: null, prev: null, next: null };
  const returns = new Map<number, Event>();
  const calls: Event[] = [];
  let last = head;
  for (const e of eventOrder(ops)) {
    const node: Event = { op: e.op, match: null, prev: last, next: null };
    last.next = node;
    last = node;
    if (e.isCall) calls.push(node);
    else returns.set(e.op, node);
  }
  for (const call of calls) call.match = returns.get(call.op)!;
  return head;
}

function lift(call: Event): void {
  call.prev!.next = call.next;
  call.next!.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

function unlift(call: Event): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  call.next!.prev = call;
}

export interface SearchLimits {
  /** performance.now() value after which the search gives up. */
  deadline: number;
  /** Give up once this many (linearized set, state) pairs are remembered: bounds memory. */
  maxStates: number;
}

export type SearchOutcome =
  | { kind: "linearizable"; order: number[] }
  | { kind: "not-linearizable"; longestPrefix: number[] }
  | { kind: "unknown"; reason: "time" | "memory"; longestPrefix: number[] };

/**
 * Visited (linearized set, state) pairs. Reaching the same set of operations in the same state by
 * another order leaves exactly the same future, so a pair that failed once fails again. Indexed by
 * the state's hash, then by the set's hash; equal hashes are confirmed by comparing for real.
 */
class Memo<S> {
  private readonly seen = new Map<string, Map<number, { bits: Uint32Array; state: S }[]>>();
  private readonly model: Model<S>;
  size = 0;

  constructor(model: Model<S>) {
    this.model = model;
  }

  /** Remember the pair; false if it was already known. */
  add(bits: Bitset, state: S): boolean {
    const stateHash = this.model.hash(state);
    let bySet = this.seen.get(stateHash);
    if (bySet === undefined) {
      bySet = new Map();
      this.seen.set(stateHash, bySet);
    }
    const entries = bySet.get(bits.hash);
    if (entries === undefined) {
      bySet.set(bits.hash, [{ bits: bits.snapshot(), state }]);
    } else {
      if (entries.some((e) => bits.equals(e.bits) && this.model.equal(e.state, state)))
        return false;
      entries.push({ bits: bits.snapshot(), state });
    }
    this.size++;
    return true;
  }
}

/** How often (in search steps) the clock is read: often enough to stop promptly, rarely enough to be free. */
const CLOCK_EVERY = 256;

/**
 * Search for a linearization of one partition. Walk the events in time order; at a call, try to
 * linearize that operation now (the model must accept its output, and the resulting (set, state)
 * must be new); at a return, the operation it belongs to should already have been placed, so the
 * current prefix is a dead end and the last choice is undone. Operations without a response
 * return at +infinity: they may be placed anywhere after their call, and placing one at the very
 * end is the same as it never having happened.
 */
export function search<S>(
  model: Model<S>,
  ops: readonly Operation[],
  limits: SearchLimits,
): SearchOutcome {
  const head = linkEvents(ops);
  const memo = new Memo(model);
  const bits = new Bitset(ops.length);
  const stack: { call: Event; state: S }[] = [];
  let longest: number[] = [];
  let state = model.init();
  let event = head.next;
  for (let steps = 0; event !== null; steps++) {
    if (steps % CLOCK_EVERY === 0 && performance.now() > limits.deadline) {
      return { kind: "unknown", reason: "time", longestPrefix: longest };
    }
    if (event.match === null) {
      const frame = stack.pop();
      if (frame === undefined) return { kind: "not-linearizable", longestPrefix: longest };
      state = frame.state;
      bits.clear(frame.call.op);
      unlift(frame.call);
      event = frame.call.next;
      continue;
    }
    const op = ops[event.op]!;
    const result = model.step(state, op.input, op.output);
    if (result.ok) {
      bits.set(event.op);
      if (memo.add(bits, result.next)) {
        stack.push({ call: event, state });
        state = result.next;
        lift(event);
        if (stack.length > longest.length) longest = stack.map((f) => f.call.op);
        if (memo.size > limits.maxStates) {
          return { kind: "unknown", reason: "memory", longestPrefix: longest };
        }
        event = head.next;
        continue;
      }
      bits.clear(event.op);
    }
    event = event.next;
  }
  return { kind: "linearizable", order: stack.map((f) => f.call.op) };
}
