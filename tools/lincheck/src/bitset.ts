/**
 * A fixed-size set of small integers: which operations of a partition are linearized so far.
 * It keeps a Zobrist hash up to date (each member contributes a random 32-bit word, combined by
 * xor), so the search can look a set up in its memo without building a key from all the words.
 */
export class Bitset {
  private readonly words: Uint32Array;
  private readonly zobrist: Int32Array;
  hash = 0;

  constructor(size: number) {
    this.words = new Uint32Array(Math.ceil(size / 32));
    this.zobrist = zobristTable(size);
  }

  set(i: number): void {
    this.words[i >>> 5]! |= 1 << (i & 31);
    this.hash ^= this.zobrist[i]!;
  }

  clear(i: number): void {
    this.words[i >>> 5]! &= ~(1 << (i & 31));
    this.hash ^= this.zobrist[i]!;
  }

  /** The members as they are now, independent of later changes. */
  snapshot(): Uint32Array {
    return this.words.slice();
  }

  equals(snapshot: Uint32Array): boolean {
    for (let i = 0; i < this.words.length; i++) if (this.words[i] !== snapshot[i]) return false;
    return true;
  }
}

/** Fixed pseudo-random words (xorshift32 from a constant seed): runs are reproducible. */
function zobristTable(size: number): Int32Array {
  const table = new Int32Array(size);
  let x = 0x9e3779b9 | 0;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    table[i] = x;
  }
  return table;
}
