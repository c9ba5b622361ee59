/**
 * What the checker needs to know about the object a history was recorded against. The checker
 * itself knows nothing about keys, values or registers: everything specific lives in a Model.
 */
export interface StepResult<S> {
  /** Could the operation have returned this output when applied to the state? */
  ok: boolean;
  /** The state after the operation (meaningful only when ok). */
  next: S;
}

/**
 * A sequential specification. Methods (not arrow properties) on purpose: method parameters are
 * bivariant in TypeScript, so every concrete model is also a `Model` with unknown types and the
 * checker, the parsers and the viewer can handle any of them through one type.
 */
export interface Model<S = unknown, I = unknown, O = unknown> {
  readonly name: string;
  init(): S;
  /**
   * Apply `input` to `state`. `output` is undefined when the outcome is unknown (the client never
   * heard back): then any output the operation could have produced is acceptable.
   */
  step(state: S, input: I, output: O | undefined): StepResult<S>;
  /**
   * Operations with different keys never affect each other, so each key's sub-history can be
   * checked on its own (P-compositionality). Omit for an object that cannot be split.
   */
  partitionKey?(input: I): string;
  /**
   * Optional: true if this operation, with this output, can never change any state (a read; a cas
   * that reported failure). The search then places it as soon as the model accepts it, without
   * trying other orders, which prunes most of the orders of concurrent reads. Saying true for an
   * operation that can change the state makes verdicts wrong; leaving it out is always safe.
   */
  readOnly?(input: I, output: O | undefined): boolean;
  /** State equality, used with `hash` to number the states the search meets. */
  equal(a: S, b: S): boolean;
  /**
   * Equal states must hash equal; unequal states may collide (equal() settles it). A number is
   * the cheapest for the checker to look up.
   */
  hash(state: S): string | number;
  describeOperation(input: I, output: O | undefined): string;
  describeState(state: S): string;
  /** Turn the JSON of an input into an Input, or throw an Error saying what is wrong. */
  decodeInput(json: unknown): I;
  /** Turn the JSON of an output into an Output for that input, or throw. */
  decodeOutput(input: I, json: unknown): O;
}
