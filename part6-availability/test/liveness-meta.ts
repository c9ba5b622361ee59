// Liveness numbers a test hands to the seed sweep (scripts/seed-sweep.ts), which prints them
// over all its seeds: each run's sample goes into the test's meta when the test finishes.

import { onTestFinished } from "vitest";

/** One run's liveness, as the sweep sums it up. */
export interface LivenessSample {
  seed: number;
  /** Share of the measured time a client's operation could complete, 0 to 1. */
  available: number;
  longestGapMs: number;
  /** From the final heal (or the scenario's fault) to a stable leader; null if none came. */
  afterHealMs: number | null;
}

declare module "vitest" {
  export interface TaskMeta {
    /** Under the sweep (and in any run): the liveness of each run of this test. */
    liveness?: LivenessSample[];
  }
}

/** Records `sample` in the running test's meta, for the seed sweep to report. */
export function recordLiveness(sample: LivenessSample): void {
  onTestFinished((ctx) => {
    ctx.task.meta.liveness = [...(ctx.task.meta.liveness ?? []), sample];
  });
}
