// Real time and real randomness for a process: part 3's Clock on Node's timers, and a
// SeededRandom whose seed comes from the operating system's generator. The consensus module
// cannot tell them from the simulation's: it only ever asks "call me back in N ms" and "a number".

import { randomInt } from "node:crypto";
import type { Clock, Timer } from "part5-snapshots/clock";

export interface RealClockOptions {
  /**
   * Whether a pending timer keeps the process alive. A node's timers need not: its HTTP server
   * does, and once the server is closed, Raft's election and heartbeat timers alone must not hold
   * the process open. A client's must: between two attempts its only handle is the backoff timer,
   * and without it the process would exit in the middle of an operation.
   */
  keepAlive: boolean;
}

export class RealClock implements Clock {
  /** performance.now() is monotonic: deadlines and timeouts do not jump when the wall clock is set. */
  private readonly origin = performance.now();
  private readonly keepAlive: boolean;

  constructor(options: RealClockOptions) {
    this.keepAlive = options.keepAlive;
  }

  /** Whole milliseconds since this clock was made. */
  now(): number {
    return Math.floor(performance.now() - this.origin);
  }

  setTimer(delayMs: number, callback: () => void): Timer {
    if (!Number.isFinite(delayMs) || delayMs < 0) {
      throw new Error(`timer delay must be a non-negative number of ms, got ${delayMs}`);
    }
    // "In 0 ms" is how RaftNode batches everything one turn submits into one save and one round
    // of messages: setImmediate runs right after this turn, where setTimeout(0) would wait 1 ms.
    if (delayMs === 0) {
      const immediate = setImmediate(callback);
      if (!this.keepAlive) immediate.unref();
      return { cancel: () => clearImmediate(immediate) };
    }
    const timeout = setTimeout(callback, delayMs);
    if (!this.keepAlive) timeout.unref();
    return { cancel: () => clearTimeout(timeout) };
  }
}

/** A seed for a process's SeededRandom, from the operating system's generator. */
export function freshSeed(): number {
  return randomInt(0, 2 ** 32);
}
