// The model's states as small integers, for the search: the memo stores state numbers, and the
// model's answers for (state, operation) are kept, within a bound, for states the search asks
// about again and again.

import { doubled } from "./grow.ts";
import type { Operation } from "./history.ts";
import { mix } from "./memo.ts";
import type { Model } from "./model.ts";

/** The transition table's answer for an operation the model rejects in that state. */
export const REJECTED = -1;
const UNKNOWN = -2;

/**
 * How many transitions are kept in tables (4 bytes each). Past it, states found later are stepped
 * through the model every time: slower, but memory stays bounded on histories whose states never
 * repeat (every append makes a new string).
 */
const TABLE_CELLS = 2 ** 14;

/**
 * A state gets its row of answers once the model has been asked about it this often. In a history of
 * appends nearly every state is new and asked about a few times only, and a row for each would
 * be mostly empty memory for the collector to sweep.
 */
const ROW_AFTER = 4;

/**
 * The model's states, numbered. The search then compares and hashes small integers instead of
 * whatever the model uses, and asks the model about each (state, operation) pair only once when
 * states recur: the answers are kept in a row per state. Models are pure functions of (state,
 * input, output), so a cached answer is the answer.
 */
export class States<S = unknown> {
  readonly values: S[] = [];
  private readonly model: Model<S>;
  private readonly ops: readonly Operation[];
  /** Per state: its hash; how often the model was asked about it; where its row starts (or -1). */
  private hashes: Int32Array;
  private asked: Uint8Array;
  private rowAt: Int32Array;
  /** Hash to state number plus one, open addressing. */
  private slots: Int32Array;
  /** The rows, one after another. */
  private table = new Int32Array(0);
  private cells = 0;

  /** `room`: states to make room for at first (a power of two). */
  constructor(model: Model<S>, ops: readonly Operation[], room: number) {
    this.model = model;
    this.ops = ops;
    this.hashes = new Int32Array(room);
    this.asked = new Uint8Array(room);
    this.rowAt = new Int32Array(room).fill(-1);
    this.slots = new Int32Array(room);
  }

  /** The number of a state, giving it one if it is new. */
  intern(state: S): number {
    const hash = hash30(this.model.hash(state));
    const mask = this.slots.length - 1;
    let slot = mix(hash) & mask;
    for (; this.slots[slot] !== 0; slot = (slot + 1) & mask) {
      const id = this.slots[slot]! - 1;
      if (this.hashes[id] === hash && this.model.equal(this.values[id]!, state)) return id;
    }
    const id = this.values.length;
    if (id === this.hashes.length) {
      this.hashes = doubled(this.hashes);
      this.asked = doubled(this.asked);
      this.rowAt = doubled(this.rowAt, -1);
    }
    this.values.push(state);
    this.hashes[id] = hash;
    this.slots[slot] = id + 1;
    if (this.values.length * 2 > this.slots.length) this.rehash();
    return id;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    const mask = this.slots.length - 1;
    for (let id = 0; id < this.values.length; id++) {
      let slot = mix(this.hashes[id]!) & mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
      this.slots[slot] = id + 1;
    }
  }

  /** The state after operation `op` (index into the partition) from state `from`, or REJECTED. */
  step(from: number, op: number): number {
    const at = this.rowAt[from]!;
    if (at >= 0) {
      const known = this.table[at + op]!;
      if (known !== UNKNOWN) return known;
    }
    return this.askModel(from, op);
  }

  /** Kept out of step() so that the common path, a table lookup, stays small enough to inline. */
  private askModel(from: number, op: number): number {
    const o = this.ops[op]!;
    const state = this.values[from]!;
    const result = this.model.step(state, o.input, o.output);
    // The very same state back (a read) needs no lookup.
    const next = !result.ok ? REJECTED : result.next === state ? from : this.intern(result.next);
    let at = this.rowAt[from]!;
    if (at < 0 && this.cells + this.ops.length <= TABLE_CELLS && ++this.asked[from]! >= ROW_AFTER) {
      at = this.newRow(from);
    }
    if (at >= 0) this.table[at + op] = next;
    return next;
  }

  private newRow(from: number): number {
    const at = this.cells;
    this.cells += this.ops.length;
    if (this.table.length === 0) this.table = new Int32Array(Math.min(TABLE_CELLS, 8 * this.cells));
    while (this.table.length < this.cells) this.table = doubled(this.table);
    this.table.fill(UNKNOWN, at, this.cells);
    this.rowAt[from] = at;
    return at;
  }
}

/**
 * A model's hash as a 30-bit integer, which V8 keeps unboxed: strings are hashed (FNV-1a), numbers
 * cut down.
 */
function hash30(hash: string | number): number {
  if (typeof hash === "number") return hash & 0x3fffffff;
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < hash.length; i++) h = Math.imul(h ^ hash.charCodeAt(i), 0x01000193);
  return h & 0x3fffffff;
}
