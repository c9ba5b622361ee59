import type { Operation } from "./history.ts";
import type { Model } from "./model.ts";
import { eventOrder, type SearchOutcome, search } from "./search.ts";

export type Verdict = "linearizable" | "not-linearizable" | "unknown";

export interface PartitionResult {
  /** The partition's key (e.g. the key of a key/value store); null for an unsplit history. */
  key: string | null;
  operations: Operation[];
  verdict: Verdict;
  /** Operation ids in linearization order; unless linearizable, the longest linearizable prefix found. */
  order: number[];
  /** not-linearizable: the operations that could come next after `order`; none of them works. */
  stuck: number[];
  /**
   * not-linearizable: the operation whose response arrives before any of `stuck` can be placed,
   * i.e. the point in real time where every attempt breaks.
   */
  breaker: number | undefined;
  /** unknown: whether time or memory ran out. */
  gaveUp: "time" | "memory" | undefined;
}

export interface CheckResult {
  verdict: Verdict;
  partitions: PartitionResult[];
  elapsedMs: number;
}

export interface CheckOptions {
  /** Wall-clock budget for the whole history, in milliseconds (default 10 s). */
  budgetMs?: number;
  /** Memory bound: remembered search states per partition (default 2 million). */
  maxStates?: number;
}

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
 * The operations that could come next after the longest prefix: those invoked before the first
 * response still outstanding. The model rejects every one of them in the state the prefix leaves:
 * one it accepted would make a longer prefix, or reach a (set, state) pair already visited, which
 * again means a prefix that long existed. The operation owning that first response is the breaker.
 */
function explainFailure(ops: readonly Operation[], prefix: readonly number[]) {
  const placed = new Set(prefix);
  const stuck: number[] = [];
  let breaker: number | undefined;
  for (const e of eventOrder(ops)) {
    if (placed.has(e.op)) continue;
    if (!e.isCall) {
      breaker = ops[e.op]!.id;
      break;
    }
    stuck.push(ops[e.op]!.id);
  }
  return { stuck, breaker };
}

function toResult(key: string | null, ops: Operation[], outcome: SearchOutcome): PartitionResult {
  const ids = (local: number[]) => local.map((i) => ops[i]!.id);
  const base = { key, operations: ops, verdict: outcome.kind, stuck: [], breaker: undefined };
  switch (outcome.kind) {
    case "linearizable":
      return { ...base, order: ids(outcome.order), gaveUp: undefined };
    case "unknown":
      return { ...base, order: ids(outcome.longestPrefix), gaveUp: outcome.reason };
    case "not-linearizable": {
      const why = explainFailure(ops, outcome.longestPrefix);
      return { ...base, ...why, order: ids(outcome.longestPrefix), gaveUp: undefined };
    }
  }
}

function combine(verdicts: Verdict[]): Verdict {
  if (verdicts.includes("not-linearizable")) return "not-linearizable";
  return verdicts.includes("unknown") ? "unknown" : "linearizable";
}

/**
 * Check a whole history: split it into independent partitions and search each one. Small
 * partitions go first so that one hard partition eating the budget cannot hide a cheap violation
 * elsewhere; results are reported in the order the partitions first appear in the history.
 */
export function check(
  model: Model,
  ops: readonly Operation[],
  options: CheckOptions = {},
): CheckResult {
  const started = performance.now();
  const limits = {
    deadline: started + (options.budgetMs ?? 10_000),
    maxStates: options.maxStates ?? 2_000_000,
  };
  const parts = [...partition(model, ops)];
  const bySize = [...parts].sort((a, b) => a[1].length - b[1].length);
  const results = new Map<string | null, PartitionResult>();
  for (const [key, part] of bySize) {
    results.set(key, toResult(key, part, search(model, part, limits)));
  }
  const partitions = parts.map(([key]) => results.get(key)!);
  return {
    verdict: combine(partitions.map((p) => p.verdict)),
    partitions,
    elapsedMs: performance.now() - started,
  };
}
