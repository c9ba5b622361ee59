// Lowe's memo for the search: the (linearized set, state) pairs already explored. The search's
// budget (maxStates) caps its size, which is what bounds the search's memory.

import type { Bitset } from "./bitset.ts";
import { doubled } from "./grow.ts";

/**
 * The (linearized set, state) pairs the search has reached. Reaching the same set of operations
 * in the same state by another order leaves exactly the same future, so a pair met again is not
 * explored again. The search meets millions of pairs, so nothing here allocates per pair: an
 * open-addressing hash table of entry numbers, and per entry its hash, its state number and a copy
 * of the set's words, all in typed arrays that double when full.
 */
export class Memo {
  size = 0;
  private readonly width: number;
  private table: Int32Array;
  private hashes: Int32Array;
  private states: Int32Array;
  private sets: Uint32Array;

  /** `width`: words per set; `room`: entries to make room for at first (a power of two). */
  constructor(width: number, room: number) {
    this.width = width;
    this.hashes = new Int32Array(room);
    this.states = new Int32Array(room);
    this.sets = new Uint32Array(room * width);
    this.table = new Int32Array(2 * room);
  }

  /** Remember the pair; false if it was already known. */
  add(bits: Bitset, state: number): boolean {
    const hash = mix(bits.hash ^ Math.imul(state + 1, 0x9e3779b1));
    const mask = this.table.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.table[slot]! - 1;
      if (entry < 0) {
        this.insert(slot, hash, bits, state);
        return true;
      }
      if (this.hashes[entry] === hash && this.states[entry] === state && this.same(entry, bits)) {
        return false;
      }
    }
  }

  private same(entry: number, bits: Bitset): boolean {
    const words = bits.words;
    const base = entry * this.width;
    for (let i = 0; i < words.length; i++) if (this.sets[base + i] !== words[i]) return false;
    return true;
  }

  private insert(slot: number, hash: number, bits: Bitset, state: number): void {
    const entry = this.size++;
    if (entry === this.hashes.length) this.growEntries();
    this.hashes[entry] = hash;
    this.states[entry] = state;
    this.sets.set(bits.words, entry * this.width);
    this.table[slot] = entry + 1;
    // Kept at most half full, so probe runs stay short.
    if (this.size * 2 > this.table.length) this.growTable();
  }

  private growEntries(): void {
    this.hashes = doubled(this.hashes);
    this.states = doubled(this.states);
    this.sets = doubled(this.sets);
  }

  private growTable(): void {
    const table = new Int32Array(this.table.length * 2);
    const mask = table.length - 1;
    for (let entry = 0; entry < this.size; entry++) {
      let slot = this.hashes[entry]! & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = entry + 1;
    }
    this.table = table;
  }
}

/** Spread the bits (the finaliser of MurmurHash3), so that nearby keys land in distant slots. */
export function mix(h: number): number {
  let x = h;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x | 0;
}
