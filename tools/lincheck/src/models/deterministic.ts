// What the two shipped models share: both are deterministic objects, so "may this output follow
// this input in this state?" is "is it the output applying the input gives?".

import type { StepResult } from "../model.ts";

/** The state and output a deterministic sequential object produces for one operation. */
export interface Effect<S, O> {
  output: O;
  next: S;
}

/**
 * Both shipped models are deterministic: from a state an input has exactly one outcome. Their
 * `step` is then always the same: compute the outcome, and accept the observed output if it is
 * that outcome. An unknown output (no response) accepts whatever the operation would have done.
 */
export function deterministicStep<S, I, O>(
  apply: (state: S, input: I) => Effect<S, O>,
  sameOutput: (a: O, b: O) => boolean,
): (state: S, input: I, output: O | undefined) => StepResult<S> {
  return (state, input, output) => {
    const effect = apply(state, input);
    return { ok: output === undefined || sameOutput(effect.output, output), next: effect.next };
  };
}

/** Output equality for both shipped models, whose outputs carry an optional value and cas flag. */
export function sameResult(
  a: { value?: unknown; ok?: boolean },
  b: { value?: unknown; ok?: boolean },
) {
  return a.value === b.value && a.ok === b.ok;
}
