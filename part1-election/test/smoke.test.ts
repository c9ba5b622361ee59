import { describe, expect, test } from "vitest";
import { Cluster } from "./harness.ts";

describe("smoke", () => {
  test("basic election", async () => {
    const c = Cluster.start(3);
    const { leader, term } = await c.checkSingleLeader();
    expect(term).toBeGreaterThan(0);
    c.note(`leader ${leader}`);
    await c.advance(1000);
    expect((await c.checkSingleLeader()).term).toBe(term);
  });
});
