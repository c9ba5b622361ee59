// The linearized set of a search step, with a hash kept up to date as operations are placed and
// removed: the memo (memo.ts) keys on (this set, the state), and a lookup then starts from a hash
// at hand instead of a pass over the set's words.

/**
 * A fixed-size set of small integers: which operations of a partition are linearized so far.
 * It keeps a Zobrist hash up to date (each member contributes a random 32-bit word, combined by
 * xor), so the search can look a set up in its memo without reading all the words.
 */
export class Bitset {
  readonly words: Uint32Array;
  private readonly zobrist: Int32Array;
  hash = 0;

  constructor(size: number) {
    this.words = new Uint32Array(Math.max(1, Math.ceil(size / 32)));
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
}

/** Fixed pseudo-random words (xorshift32 from a constant seed): runs are reproducible. */
let zobrist = new Int32Array(0);

/**
 * The first `size` words of one shared sequence, made longer when a bigger set needs it: every
 * partition of every history would otherwise compute the same words again.
 */
function zobristTable(size: number): Int32Array {
  if (zobrist.length < size) {
    const table = new Int32Array(Math.max(size, 2 * zobrist.length));
    let x = 0x9e3779b9 | 0;
    for (let i = 0; i < table.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      table[i] = x;
    }
    zobrist = table;
  }
  return zobrist;
}
