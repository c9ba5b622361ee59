// check(): splits a history into independent partitions (per key for the kv model) and runs one
// Search per partition (search.ts), sharing the effort between them a slice at a time, then turns
// each search's outcome into the result the command, the text and the page report: the verdict,
// the order or the longest prefix, and for a violation the operations stuck after that prefix.

import type { Operation } from "./history.ts";
import type { Model } from "./model.ts";
import { eventOrder, Search, type SearchOutcome } from "./search.ts";

export type Verdict = "linearizable" | "not-linearizable" | "unknown";

/** A partition is left unchecked when the check stops at the first one that is not linearizable. */
export type PartitionVerdict = Verdict | "unchecked";

export interface PartitionResult {
  /** The partition's key (e.g. the key of a key/value store); null for an unsplit history. */
  key: string | null;
  operations: Operation[];
  verdict: PartitionVerdict;
  /** Operation ids in linearization order; unless linearizable, the longest linearizable prefix found. */
  order: number[];
  /** not-linearizable: the operations that could come next after `order`; none of them works. */
  stuck: number[];
  /**
   * not-linearizable: the operation whose response arrives before any of `stuck` can be placed,
   * i.e. the point in real time where every attempt breaks.
   */
  breaker: number | undefined;
  /** unknown: whether the state budget (maxStates) or the time limit ran out. */
  gaveUp: "states" | "time" | undefined;
  /** How many (linearized set, state) pairs the search explored. */
  explored: number;
}

export interface CheckResult {
  verdict: Verdict;
  partitions: PartitionResult[];
  elapsedMs: number;
}

export interface CheckOptions {
  /**
   * The budget: explore at most this many (linearized set, state) pairs per partition, then answer
   * unknown for it (default 1,000,000). A count, so the verdict is the same on every machine; it
   * also bounds memory.
   */
  maxStates?: number;
  /** An extra guard: give up (unknown) after this many milliseconds. None by default. */
  timeLimitMs?: number;
  /**
   * Check every partition even after one is found not linearizable, for the full report. By
   * default the check stops there, as Porcupine does, and the rest are "unchecked".
   */
  allPartitions?: boolean;
}

export const DEFAULT_MAX_STATES = 1_000_000;

export function partition(
  model: Model,
  ops: readonly Operation[],
): Map<string | null, Operation[]> {
  const parts = new Map<string | null, Operation[]>();
  for (const op of ops) {
    const key = model.partitionKey ? model.partitionKey(op.input) : null;
    const part = parts.get(key);
    if (part) part.push(op);
    else parts.set(key, [op]);
  }
  return parts;
}

/**
 * After a prefix: the operations that could go next (invoked before the first response still
 * outstanding) and the operation owning that response, which has to come before anything invoked
 * later. After the longest prefix the model rejects every one of them in the state the prefix
 * leaves: one it accepted would make a longer prefix, or reach a (set, state) pair already
 * visited, which again means a prefix that long existed. The owner of that response is the breaker.
 */
export function frontier(ops: readonly Operation[], prefix: readonly number[]) {
  const placed = new Set(prefix);
  const next: number[] = [];
  for (const event of eventOrder(ops)) {
    const op = ops[event >> 1]!;
    if (placed.has(op.id)) continue;
    if ((event & 1) === 1) return { next, breaker: op.id as number | undefined };
    next.push(op.id);
  }
  return { next, breaker: undefined };
}

/** One object shape for every partition's result: the verdict decides which fields say something. */
function toResult(
  key: string | null,
  ops: Operation[],
  outcome: SearchOutcome | undefined,
  explored: number,
): PartitionResult {
  const verdict = outcome?.kind ?? "unchecked";
  const local =
    outcome === undefined
      ? []
      : outcome.kind === "linearizable"
        ? outcome.order
        : outcome.longestPrefix;
  const order = local.map((i) => ops[i]!.id);
  const blocked = verdict === "not-linearizable" ? frontier(ops, order) : undefined;
  return {
    key,
    operations: ops,
    verdict,
    order,
    stuck: blocked?.next ?? [],
    breaker: blocked?.breaker,
    gaveUp: outcome?.kind === "unknown" ? outcome.reason : undefined,
    explored,
  };
}

function combine(verdicts: PartitionVerdict[]): Verdict {
  if (verdicts.includes("not-linearizable")) return "not-linearizable";
  return verdicts.every((v) => v === "linearizable") ? "linearizable" : "unknown";
}

/** Steps a partition's search takes before the next partition's turn. */
const SLICE = 1000;

/**
 * One partition's search, made when it first runs (a check that stops early never pays for the
 * rest) and dropped once it has an outcome, its memory with it.
 */
class Task {
  readonly key: string | null;
  readonly ops: Operation[];
  outcome: SearchOutcome | undefined;
  private readonly model: Model;
  private readonly maxStates: number;
  private search: Search | undefined;
  private exploredBySearch = 0;

  constructor(model: Model, key: string | null, ops: Operation[], maxStates: number) {
    this.model = model;
    this.key = key;
    this.ops = ops;
    this.maxStates = maxStates;
  }

  get explored(): number {
    return this.search?.explored ?? this.exploredBySearch;
  }

  run(steps: number): SearchOutcome | undefined {
    if (this.outcome !== undefined) return this.outcome;
    this.search ??= new Search(this.model, this.ops, { maxStates: this.maxStates });
    return this.done(this.search.run(steps));
  }

  stop(reason: "time"): void {
    this.done(this.search?.stop(reason));
  }

  private done(outcome: SearchOutcome | undefined): SearchOutcome | undefined {
    if (outcome !== undefined && this.search !== undefined) {
      this.outcome = outcome;
      this.exploredBySearch = this.search.explored;
      this.search = undefined;
    }
    return outcome;
  }
}

/**
 * Share the effort between partitions, a slice of steps each in turn, smallest first: a cheap
 * violation is found early even behind a partition that would take the whole budget, and the
 * order in which they finish depends on step counts only, never on the machine.
 */
function runTasks(tasks: Task[], options: CheckOptions, started: number): void {
  let active = tasks;
  const deadline = started + (options.timeLimitMs ?? Number.POSITIVE_INFINITY);
  while (active.length > 0) {
    for (const task of active) {
      if (task.run(SLICE)?.kind === "not-linearizable" && !options.allPartitions) return;
    }
    active = active.filter((t) => t.outcome === undefined);
    if (active.length > 0 && performance.now() >= deadline) {
      for (const task of active) task.stop("time");
      return;
    }
  }
}

/**
 * Check a whole history: split it into independent partitions and search them. Results are
 * reported in the order the partitions first appear in the history.
 */
export function check(
  model: Model,
  ops: readonly Operation[],
  options: CheckOptions = {},
): CheckResult {
  const started = performance.now();
  const maxStates = options.maxStates ?? DEFAULT_MAX_STATES;
  const tasks = [...partition(model, ops)].map(
    ([key, part]) => new Task(model, key, part, maxStates),
  );
  runTasks(
    [...tasks].sort((a, b) => a.ops.length - b.ops.length),
    options,
    started,
  );
  const partitions = tasks.map((t) => toResult(t.key, t.ops, t.outcome, t.explored));
  return {
    verdict: combine(partitions.map((p) => p.verdict)),
    partitions,
    elapsedMs: performance.now() - started,
  };
}

/** How many partial linearizations the viewer is given per partition, longest first. */
export const MAX_PARTIALS = 100;

/**
 * The partial linearizations of a partition that is not linearizable, for the viewer, as
 * Porcupine's viewer shows them: for each operation, the longest linearizable prefix the search
 * reached that contains it; each distinct one once, longest first, the partition's own `order`
 * first, at most MAX_PARTIALS. The search runs again (the same search: the same answer), keeping
 * them this time; check() does not, to stay fast. For other verdicts, just `order`.
 */
export function partialLinearizations(
  model: Model,
  p: PartitionResult,
  options: CheckOptions = {},
): number[][] {
  if (p.verdict !== "not-linearizable") return p.verdict === "unchecked" ? [] : [p.order];
  const maxStates = options.maxStates ?? DEFAULT_MAX_STATES;
  const search = new Search(model, p.operations, { maxStates, recordPartials: true });
  search.run(Number.POSITIVE_INFINITY);
  const key = (order: readonly number[]) => order.join(",");
  const others = search
    .partialLinearizations()
    .map((local) => local.map((i) => p.operations[i]!.id))
    .filter((order) => key(order) !== key(p.order));
  return [p.order, ...others].slice(0, MAX_PARTIALS);
}
