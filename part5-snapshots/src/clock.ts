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

/** A timer on the virtual clock's queue; it is also the handle that cancels it. */
class Scheduled implements Timer {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
  done = false;
  private readonly count: { live: number };

  constructor(at: number, seq: number, callback: () => void, count: { live: number }) {
    this.at = at;
    this.seq = seq;
    this.callback = callback;
    this.count = count;
  }

  cancel(): void {
    if (this.done) return;
    this.done = true;
    this.count.live--;
  }
}

/** How many timers the clock fires in one turn of the event loop, at most: see `runUntil`. */
const maxFiresPerTurn = 64;

/**
 * Virtual time for a whole simulated cluster. Nothing happens between timers, so the clock jumps
 * from one to the next: a minute of cluster time takes milliseconds. Timers due at the same
 * instant fire in the order they were set, which makes every run with the same seed identical.
 */
export class VirtualClock implements Clock {
  private time = 0;
  private seq = 0;
  /** How many timers are set and have neither fired nor been cancelled. */
  private readonly count = { live: 0 };
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
    const entry = new Scheduled(this.time + delayMs, this.seq++, callback, this.count);
    heapPush(this.queue, entry);
    this.count.live++;
    return entry;
  }

  /** How many timers are set and have neither fired nor been cancelled. */
  pendingTimers(): number {
    return this.count.live;
  }

  /** How many timers have fired since the clock started. */
  stepsTaken(): number {
    return this.steps;
  }

  /**
   * Fires timers in time order until virtual time `until`, or until `stop()` returns true (checked
   * before every timer). Each timer fires in a macrotask of its own (a setImmediate callback), so
   * the promise continuations it starts, and those they start, all run before the next timer, as
   * async code that awaits an RPC would in real time. The immediates are queued several at a
   * time (2, then 4, … up to `maxFiresPerTurn`): Node runs every promise continuation between two
   * of them, so the order is the same as with one turn of the event loop per timer, at a fraction
   * of the cost. Returns whether `stop` ended the run; otherwise the clock stands at `until`.
   */
  runUntil(until: number, stop: () => boolean = () => false): Promise<boolean> {
    return new Promise((resolve, reject) => {
      new Run(() => this.step(until, stop), resolve, reject);
    });
  }

  /** Runs `ms` of virtual time. */
  async runFor(ms: number, stop?: () => boolean): Promise<boolean> {
    return this.runUntil(this.time + ms, stop);
  }

  /** Runs until no timer is pending, for at most `maxMs` of virtual time. */
  async runUntilIdle(maxMs: number): Promise<boolean> {
    return this.runUntil(this.time + maxMs, () => this.count.live === 0);
  }

  /**
   * One step of `runUntil`: true if `stop()` holds, false if no timer is due by `until` (the
   * clock then stands at `until`), undefined after firing the next timer.
   */
  private step(until: number, stop: () => boolean): boolean | undefined {
    if (stop()) return true;
    const next = this.popDue(until);
    if (next === undefined) {
      this.time = Math.max(this.time, until);
      return false;
    }
    this.fire(next);
    return undefined;
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
    this.count.live--;
    this.time = entry.at;
    entry.callback();
  }
}

/**
 * One call of `runUntil`: its steps, one per immediate, until one ends it. Immediates queued by an
 * immediate wait for the next turn of the event loop: the last of each batch queues the next,
 * twice as large (most runs are short; the unused rest of a batch is cleared).
 */
class Run {
  private queued: ReturnType<typeof setImmediate>[] = [];
  private over = false;
  private readonly next: () => boolean | undefined;
  private readonly resolve: (stopped: boolean) => void;
  private readonly reject: (error: unknown) => void;

  constructor(
    next: () => boolean | undefined,
    resolve: (stopped: boolean) => void,
    reject: (error: unknown) => void,
  ) {
    this.next = next;
    this.resolve = resolve;
    this.reject = reject;
    this.queueBatch(2);
  }

  step(): void {
    if (this.over) return;
    let stopped: boolean | undefined;
    try {
      stopped = this.next();
    } catch (error) {
      this.end();
      this.reject(error);
      return;
    }
    if (stopped === undefined) return;
    this.end();
    this.resolve(stopped);
  }

  /** The last step of a batch: it queues the next batch if the run goes on. */
  lastStep(size: number): void {
    this.step();
    if (!this.over) this.queueBatch(Math.min(2 * size, maxFiresPerTurn));
  }

  private queueBatch(size: number): void {
    this.queued = [];
    for (let i = 1; i < size; i++) this.queued.push(setImmediate(step, this));
    this.queued.push(setImmediate(lastStep, this, size));
  }

  private end(): void {
    this.over = true;
    for (const immediate of this.queued) clearImmediate(immediate);
  }
}

// Plain functions, so that queuing a step allocates no closure.
function step(run: Run): void {
  run.step();
}

function lastStep(run: Run, size: number): void {
  run.lastStep(size);
}

// A binary min-heap ordered by (at, seq): due time first, then the order timers were set.

function before(a: Scheduled, b: Scheduled): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

function heapPush(heap: Scheduled[], entry: Scheduled): void {
  // Move parents down into the hole until the entry's place is found (no swaps).
  let i = heap.length;
  heap.push(entry);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(entry, heap[parent]!)) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = entry;
}

function heapPop(heap: Scheduled[]): Scheduled | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (heap.length === 0 || last === undefined) return top;
  // Move the lesser child up into the hole until the last entry's place is found.
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= heap.length) break;
    const right = left + 1;
    const child = right < heap.length && before(heap[right]!, heap[left]!) ? right : left;
    if (!before(heap[child]!, last)) break;
    heap[i] = heap[child]!;
    i = child;
  }
  heap[i] = last;
  return top;
}
