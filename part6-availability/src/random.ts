// A seeded source of randomness. The consensus module and the simulated network draw every
// random choice from one of these, so a seed fixes a whole run and any run can be replayed.

/** Something that can produce random numbers. The consensus module depends only on this. */
export interface Random {
  /** A number in [0, 1). */
  next(): number;
  /** An integer in [min, max], both ends included. */
  int(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
}

/**
 * SplitMix32: a small, fast generator with good statistical quality for simulation (not for
 * cryptography). 32 bits of state are plenty for test runs.
 */
export class SeededRandom implements Random {
  private state: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    z ^= z >>> 15;
    return (z >>> 0) / 2 ** 32;
  }

  int(min: number, max: number): number {
    if (max < min) throw new Error(`empty range [${min}, ${max}]`);
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  /** An independent generator, so that adding draws in one place does not shift another's. */
  fork(): SeededRandom {
    return new SeededRandom(Math.floor(this.next() * 2 ** 32));
  }
}
