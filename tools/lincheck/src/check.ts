import type { Operation } from "./history.ts";
import type { Model } from "./model.ts";
import { stateAfter } from "./replay.ts";
import { eventOrder, type SearchOutcome, search } from "./search.ts";

export type Verdict = "linearizable" | "not-linearizable" | "unknown";

/** An operation that could have been linearized next after the longest prefix, and why it wasn't. */
export interface StuckOperation {
  id: number;
  /** rejected: the model refuses its output in that state; dead-end: accepted, but nothing after works. */
  reason: "rejected" | "dead-end";
}

export interface PartitionResult {
  /** The partition's key (e.g. the key of a key/value store); null for an unsplit history. */
  key: string | null;
  operations: Operation[];
  verdict: Verdict;
  /** Operation ids in linearization order; unless linearizable, the longest linearizable prefix found. */
  order: number[];
  /** not-linearizable: the operations that could come next after `order`; none of them works. */
  stuck: StuckOperation[];
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

/** Replay the prefix, then list what could come next and why each one fails. */
function explainFailure(model: Model, ops: readonly Operation[], prefix: readonly number[]) {
  const state = stateAfter(
    model,
    ops,
    prefix.map((i) => ops[i]!.id),
  );
  const placed = new Set(prefix);
  const candidates: number[] = [];
  let breaker: number | undefined;
  for (const e of eventOrder(ops)) {
    if (placed.has(e.op)) continue;
    if (!e.isCall) {
      breaker = ops[e.op]!.id;
      break;
    }
    candidates.push(e.op);
  }
  const stuck = candidates.map((i): StuckOperation => {
    const accepted = model.step(state, ops[i]!.input, ops[i]!.output).ok;
    return { id: ops[i]!.id, reason: accepted ? "dead-end" : "rejected" };
  });
  return { stuck, breaker };
}

function toResult(
  model: Model,
  key: string | null,
  ops: Operation[],
  outcome: SearchOutcome,
): PartitionResult {
  const ids = (local: number[]) => local.map((i) => ops[i]!.id);
  const base = { key, operations: ops, verdict: outcome.kind, stuck: [], breaker: undefined };
  switch (outcome.kind) {
    case "linearizable":
      return { ...base, order: ids(outcome.order), gaveUp: undefined };
    case "unknown":
      return { ...base, order: ids(outcome.longestPrefix), gaveUp: outcome.reason };
    case "not-linearizable": {
      const why = explainFailure(model, ops, outcome.longestPrefix);
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
    results.set(key, toResult(model, key, part, search(model, part, limits)));
  }
  const partitions = parts.map(([key]) => results.get(key)!);
  return {
    verdict: combine(partitions.map((p) => p.verdict)),
    partitions,
    elapsedMs: performance.now() - started,
  };
}
