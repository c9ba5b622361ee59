import { describe, expect, it } from "vitest";
import { check } from "../src/check.ts";
import { random, simulate } from "../src/simulate.ts";
import { bruteForce, corrupt } from "./bruteforce.ts";

/** Fixed, so a failure reproduces; each history's own seed is in the failure message. */
const SEED = 0x5eed;

describe.each(["register", "kv"] as const)(
  "property (%s): simulated linearizable stores",
  (model) => {
    it("small histories are linearizable, and one corrupted response is judged as brute force judges it", () => {
      let violations = 0;
      for (let i = 0; i < 400; i++) {
        const seed = SEED + i;
        const sim = simulate({
          model,
          clients: 3,
          operations: 7,
          keys: 2,
          timeoutRate: 0.25,
          seed,
        });
        expect(check(sim.model, sim.operations).verdict, `seed ${seed}`).toBe("linearizable");
        expect(bruteForce(sim.model, sim.operations), `oracle, seed ${seed}`).toBe(true);
        const bad = corrupt(sim.operations, random(seed));
        if (bad === undefined) continue;
        const expected = bruteForce(sim.model, bad) ? "linearizable" : "not-linearizable";
        expect(check(sim.model, bad).verdict, `corrupted, seed ${seed}`).toBe(expected);
        if (expected === "not-linearizable") violations++;
      }
      // The corruptions must actually produce violations, or this test proves nothing.
      expect(violations).toBeGreaterThan(150);
    });

    it("large histories with many clients and timeouts are linearizable", () => {
      for (let i = 0; i < 20; i++) {
        const seed = SEED + 1000 + i;
        const sim = simulate({
          model,
          clients: 8,
          operations: 300,
          keys: 5,
          timeoutRate: 0.05,
          seed,
        });
        expect(check(sim.model, sim.operations).verdict, `seed ${seed}`).toBe("linearizable");
      }
    });
  },
);
