// Time, as the consensus module sees it. Raft needs only "call me back in N ms", so that is the
// whole interface; the simulation implements it in virtual time, a real server with setTimeout.

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the clock started. */
  now(): number;
  /** Calls `callback` once, `delayMs` from now, unless cancelled first. */
  setTimer(delayMs: number, callback: () => void): Timer;
}

interface Scheduled {
  at: number;
  seq: number;
  callback: () => void;
  done: boolean;
}

/**
 * Virtual time for a whole simulated cluster. Nothing happens between timers, so the clock jumps
 * from one to the next: a minute of cluster time takes milliseconds. Timers due at the same
 * instant fire in the order they were set, which makes every run with the same seed identical.
 */
export class VirtualClock implements Clock {
  private time = 0;
  private seq = 0;
  private live = 0;
  private steps = 0;
  private readonly queue: Scheduled[] = [];
  /** Refuse to fire more timers than this in total: a livelock fails fast instead of hanging. */
  readonly stepCap: number;

  constructor(options: { stepCap?: number } = {}) {
    this.stepCap = options.stepCap ?? 10_000_000;
  }

  now(): number {
    return this.time;
  }

  setTimer(delayMs: number, callback: () => void): Timer {
    if (!Number.isInteger(delayMs) || delayMs < 0) {
      throw new Error(`timer delay must be a non-negative integer of ms, got ${delayMs}`);
    }
    const entry: Scheduled = { at: this.time + delayMs, seq: this.seq++, callback, done: false };
    heapPush(this.queue, entry);
    this.live++;
    return {
      cancel: () => {
        if (entry.done) return;
        entry.done = true;
        this.live--;
      },
    };
  }

  /** How many timers are set and have neither fired nor been cancelled. */
  pendingTimers(): number {
    return this.live;
  }

  /** How many timers have fired since the clock started. */
  stepsTaken(): number {
    return this.steps;
  }

  /**
   * Fires timers in time order until virtual time `until`, or until `stop()` returns true (checked
   * after every timer). Between timers it lets promise continuations settle, so async code that
   * awaits an RPC runs before the next timer, as it would in real time. Returns whether `stop`
   * ended the run; otherwise the clock stands at `until`.
   */
  async runUntil(until: number, stop: () => boolean = () => false): Promise<boolean> {
    await settle();
    if (stop()) return true;
    for (;;) {
      const next = this.popDue(until);
      if (next === undefined) break;
      this.fire(next);
      await settle();
      if (stop()) return true;
    }
    this.time = Math.max(this.time, until);
    return false;
  }

  /** Runs `ms` of virtual time. */
  async runFor(ms: number, stop?: () => boolean): Promise<boolean> {
    return this.runUntil(this.time + ms, stop);
  }

  /** Runs until no timer is pending, for at most `maxMs` of virtual time. */
  async runUntilIdle(maxMs: number): Promise<boolean> {
    return this.runUntil(this.time + maxMs, () => this.live === 0);
  }

  private popDue(until: number): Scheduled | undefined {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.done) {
        heapPop(this.queue);
        continue;
      }
      if (head.at > until) return undefined;
      return heapPop(this.queue);
    }
    return undefined;
  }

  private fire(entry: Scheduled): void {
    if (++this.steps > this.stepCap) {
      throw new Error(
        `virtual clock step cap (${this.stepCap} timers) exceeded at t=${this.time}: a timer loop?`,
      );
    }
    entry.done = true;
    this.live--;
    this.time = entry.at;
    entry.callback();
  }
}

/** Resolves after every promise continuation queued so far (and those they queue) has run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// A binary min-heap ordered by (at, seq): due time first, then the order timers were set.

function before(a: Scheduled, b: Scheduled): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

function heapPush(heap: Scheduled[], entry: Scheduled): void {
  heap.push(entry);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(heap[i]!, heap[parent]!)) break;
    [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
    i = parent;
  }
}

function heapPop(heap: Scheduled[]): Scheduled | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (heap.length === 0 || last === undefined) return top;
  heap[0] = last;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    const right = left + 1;
    let least = i;
    if (left < heap.length && before(heap[left]!, heap[least]!)) least = left;
    if (right < heap.length && before(heap[right]!, heap[least]!)) least = right;
    if (least === i) return top;
    [heap[i], heap[least]] = [heap[least]!, heap[i]!];
    i = least;
  }
}

/**
 * How long a timer of `localMs` on a clock running at `rate` takes in real (virtual) time, in the
 * whole ms the virtual clock counts: rounded up, so that no timer fires early by its own clock.
 */
export function realDelay(localMs: number, rate: number): number {
  return Math.ceil(localMs / rate);
}

/**
 * One node's view of a shared virtual clock, running `rate` times as fast (the simulation's clock
 * drift fault): at rate 1.1 its timers fire after 1/1.1 of their time, and `now()` advances 1.1
 * ms per real ms. A rate change applies to timers set from then on. At rate 1 it is the shared
 * clock itself, timer for timer.
 */
export class DriftingClock implements Clock {
  private readonly real: Clock;
  private rate = 1;
  /** This clock's time, and the real time, when the rate last changed. */
  private localBase: number;
  private realBase: number;

  constructor(real: Clock) {
    this.real = real;
    this.localBase = this.realBase = real.now();
  }

  now(): number {
    return this.localBase + (this.real.now() - this.realBase) * this.rate;
  }

  setTimer(delayMs: number, callback: () => void): Timer {
    return this.real.setTimer(realDelay(delayMs, this.rate), callback);
  }

  /** From now on, `rate` ms of this clock pass for each real ms. */
  setRate(rate: number): void {
    if (!(rate > 0) || !Number.isFinite(rate)) {
      throw new Error(`a clock's rate must be a positive number, got ${rate}`);
    }
    this.localBase = this.now();
    this.realBase = this.real.now();
    this.rate = rate;
  }

  getRate(): number {
    return this.rate;
  }
}
