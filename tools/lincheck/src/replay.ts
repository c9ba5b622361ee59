// Replays operations in a given order through the model: the search's result is an order of
// operations only, and the text (explain.ts) shows the state after each step of a prefix. The
// corpus tests replay the evidence of each violation, to check that its prefix is legal and that
// the model rejects each operation stuck after it.

import type { Operation } from "./history.ts";
import type { Model } from "./model.ts";

export interface Replayed<S = unknown> {
  op: Operation;
  before: S;
  after: S;
}

/** Apply operations in the given order from the initial state, recording each state change. */
export function replay(
  model: Model,
  ops: readonly Operation[],
  order: readonly number[],
): Replayed[] {
  const byId = new Map(ops.map((o) => [o.id, o]));
  let state = model.init();
  return order.map((id) => {
    const op = byId.get(id)!;
    const before = state;
    state = model.step(state, op.input, op.output).next;
    return { op, before, after: state };
  });
}

/** The state after applying `order` (the initial state for an empty order). */
export function stateAfter(
  model: Model,
  ops: readonly Operation[],
  order: readonly number[],
): unknown {
  const steps = replay(model, ops, order);
  return steps.length === 0 ? model.init() : steps[steps.length - 1]!.after;
}
