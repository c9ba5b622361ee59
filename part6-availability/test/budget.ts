// How much one simulated cluster may do before its run counts as a loop that never ends: what
// the harness holds each test's clusters to (harness.ts), and the chaos sweep each of its runs
// (scripts/chaos-sweep.ts, which runs without the test runner and so without harness.ts).

import type { VirtualClock } from "../src/clock.ts";
import type { SimCluster } from "../src/sim/cluster.ts";

/** How much one cluster may do before its test counts as a loop that never ends. */
export interface Budget {
  /** Virtual time, in ms from the cluster's start. */
  virtualMs: number;
  /** Timers fired: messages, elections, heartbeats, the test's own waits. */
  timers: number;
}

/** Over ten times what the longest scenario of any part needs (about 35 s and 20,000 timers). */
export const defaultBudget: Budget = { virtualMs: 10 * 60_000, timers: 250_000 };

/** Whether a cluster on `clock` has gone past `budget`. */
export function pastBudget(clock: VirtualClock, budget: Budget): boolean {
  return clock.now() > budget.virtualMs || clock.stepsTaken() > budget.timers;
}

/** What a run past its budget did: "went past its budget of … a loop that never ends?" */
export function overrun(clock: VirtualClock, budget: Budget): string {
  return `went past its budget of ${budget.virtualMs / 1000} s of virtual time and ${budget.timers} timers, at t=${clock.now()} ms after ${clock.stepsTaken()} timers: a loop that never ends?`;
}

/**
 * `Base`, a cluster class, held to `defaultBudget` as the harness holds a test's clusters, for
 * runs outside the test runner (the chaos sweep): past it, a wait throws what `overrun` says, and
 * `ranAway` tells the caller not to drain the cluster (its loop may never end).
 */
// biome-ignore lint/suspicious/noExplicitAny: a mixin's base class takes any arguments (TypeScript's rule)
export function budgeted<B extends new (...args: any[]) => SimCluster>(Base: B) {
  return class Budgeted extends Base {
    ranAway = false;

    override runUntil(deadline: number, done: () => boolean = () => false): Promise<boolean> {
      return super.runUntil(deadline, () => {
        if (pastBudget(this.clock, defaultBudget)) {
          this.ranAway = true;
          throw new Error(overrun(this.clock, defaultBudget));
        }
        return done();
      });
    }
  };
}
