import type { Operation } from "../src/history.ts";
import type { Model } from "../src/model.ts";

/**
 * The oracle: try every order directly from the definition, no memo, no event list. An operation
 * can go next if no unplaced completed operation returned before it was invoked; an operation
 * without a response may go at any such point or never. Keys are kept in one map of states, so
 * the checker's splitting into partitions is tested too. Only for a handful of operations.
 */
export function bruteForce(model: Model, ops: readonly Operation[]): boolean {
  const placed = new Array<boolean>(ops.length).fill(false);
  const keyOf = (op: Operation) => model.partitionKey?.(op.input) ?? null;

  function canGoNext(op: Operation): boolean {
    return ops.every((o, j) => placed[j] || o.ret === undefined || o.ret >= op.call);
  }

  function search(states: Map<string | null, unknown>): boolean {
    if (ops.every((o, i) => placed[i] || o.ret === undefined)) return true;
    return ops.some((op, i) => {
      if (placed[i] || !canGoNext(op)) return false;
      const key = keyOf(op);
      const step = model.step(
        states.has(key) ? states.get(key) : model.init(),
        op.input,
        op.output,
      );
      if (!step.ok) return false;
      placed[i] = true;
      const found = search(new Map(states).set(key, step.next));
      placed[i] = false;
      return found;
    });
  }

  return search(new Map());
}

/** Change one response so that it says something else the object could plausibly have said. */
export function corrupt(ops: readonly Operation[], rng: () => number): Operation[] | undefined {
  const victims = ops.filter(
    (o) => o.output !== undefined && Object.keys(o.output as object).length > 0,
  );
  if (victims.length === 0) return undefined;
  const victim = victims[Math.floor(rng() * victims.length)]!;
  const output = victim.output as { value?: unknown; ok?: boolean };
  const changed =
    output.ok !== undefined
      ? { ok: !output.ok }
      : {
          value:
            typeof output.value === "string"
              ? otherString(output.value, rng)
              : otherNumber(output.value, rng),
        };
  return ops.map((o) => (o === victim ? { ...o, output: changed } : o));
}

const choose = <T>(items: T[], rng: () => number): T => items[Math.floor(rng() * items.length)]!;

function otherString(v: string, rng: () => number): string {
  const near = [`${v}a`, `${v}b`, v.slice(1), v.slice(0, -1), "a", "b", ""];
  return choose(
    [...new Set(near)].filter((x) => x !== v),
    rng,
  );
}

function otherNumber(v: unknown, rng: () => number): number | null {
  return choose(
    [null, 0, 1, 2].filter((x) => x !== v),
    rng,
  );
}
