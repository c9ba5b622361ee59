// Goal: liveness measured from the trace (src/sim/liveness.ts), and the three faults of
// availability-scenarios.ts, each shown failing without the option that fixes it and recovering
// with it. Method: the meter on hand-made traces, where the answer is known to the millisecond;
// then each scenario twice on a 3-node cluster of the same seed, with part 6's defaults and with
// the scenario's options off; what each run measured is printed, and handed to the seed sweep.

import { describe, expect, test as vitestTest } from "vitest";
import type { NodeId, Role } from "../src/raft.ts";
import { describeLiveness, measureLiveness } from "../src/sim/liveness.ts";
import type { TraceEvent } from "../src/trace.ts";
import { scenarioConfig, scenarios } from "./availability-scenarios.ts";
import { Cluster, currentSeed, test } from "./harness.ts";
import { recordLiveness } from "./liveness-meta.ts";

/** Events of a hand-made trace: a node's role, a commit, a follower's acceptance delivered. */
function role(t: number, node: NodeId, r: Role, term = 1): TraceEvent {
  return { t, node, term, role: r, kind: "role", details: { from: "follower", to: r, reason: "" } };
}
function commit(t: number, node: NodeId, term = 1): TraceEvent {
  return {
    ...{ t, node, term, role: "leader" as Role, kind: "commit" as const },
    details: { from: 0, to: 1, reason: "" },
  };
}
function accepted(t: number, leader: NodeId, from: NodeId, term = 1): TraceEvent {
  return {
    ...{ t, node: leader, term, role: "leader" as Role, kind: "deliver" as const },
    details: {
      ...{ msg: t, rpc: "AppendEntries", type: "reply", request: 0, from },
      ...{ payload: { term, success: true }, heartbeat: true, bytes: 0 },
    },
  };
}
function harness(t: number, kind: "heal" | "note"): TraceEvent {
  const details =
    kind === "heal" ? { network: { groups: [], cutOff: [], dead: [] } } : { text: "" };
  return { t, node: null, term: null, role: null, kind, details } as TraceEvent;
}

describe("liveness measured from the trace", () => {
  vitestTest("a leader serves from its first commit while a majority's answers are fresh", () => {
    // 3 nodes: n0 leads from 100, commits at 110; n1 answers at 105, 150 and 200, then falls
    // silent: n0 serves from 110 until 200 + 150 (the window), and not after, to the end at 1000.
    const report = measureLiveness(
      [
        harness(0, "note"),
        role(100, 0, "leader"),
        accepted(105, 0, 1),
        commit(110, 0),
        accepted(150, 0, 1),
        accepted(200, 0, 1),
        harness(1000, "note"),
      ],
      3,
    );
    expect(report.gaps).toEqual([
      { from: 0, to: 110 },
      { from: 350, to: 1000 },
    ]);
    expect(report.available).toBeCloseTo(240 / 1000);
  });

  vitestTest("a leader without a commit in its term, or without a majority, does not serve", () => {
    // 5 nodes: one follower's answers are not a majority; n0 never commits in term 2 either.
    const report = measureLiveness(
      [
        role(0, 0, "leader", 2),
        accepted(10, 0, 1, 2),
        accepted(20, 0, 2, 2),
        accepted(30, 0, 3, 2),
        harness(500, "note"),
      ],
      5,
    );
    expect(report.available).toBe(0);
  });

  vitestTest("a recovery is timed from the heal to the start of a stable stretch", () => {
    const beats = [300, 350, 400, 450, 500, 550].map((t) => accepted(t, 0, 1));
    const events = [
      harness(0, "note"),
      role(0, 0, "leader"),
      accepted(0, 0, 1),
      commit(0, 0),
      harness(200, "heal"), // n0 lost its majority at 150 and gets it back at 300
      ...beats,
      harness(700, "note"),
    ];
    const report = measureLiveness(events, 3, { stableMs: 200 });
    expect(report.recoveries).toEqual([{ cause: "heal", at: 200, afterMs: 100 }]);
    expect(report.longestGapMs).toBe(150);
  });

  test("a healthy cluster serves from its first leader's first commit to the end", async () => {
    const cluster = Cluster.start(3, { raft: { noopOnElection: true } });
    await cluster.checkSettled();
    await cluster.advance(2000);
    const report = measureLiveness(cluster.tracer.events, 3);
    expect(report.gaps).toHaveLength(1); // the first election
    expect(report.gaps[0]!.from).toBe(0);
    expect(report.available).toBeGreaterThan(0.85);
  });
});

describe("availability scenarios: failing without the option, recovering with it", () => {
  for (const scenario of scenarios) {
    const without = scenario.off.join(" and ");
    test(`${scenario.name}: with part 6's defaults, and without ${without}`, async () => {
      const on = await scenario.run(Cluster.start(scenario.nodes, { raft: scenarioConfig() }));
      const offConfig = { raft: scenarioConfig(scenario.off) };
      const off = await scenario.run(Cluster.start(scenario.nodes, offConfig));
      for (const [name, result] of [
        ["defaults", on],
        [`without ${without}`, off],
      ] as const) {
        console.log(
          `${scenario.name}, ${name}: ${describeLiveness(result.liveness)}; ${result.elections} elections; stable after ${result.recoveryMs} ms`,
        );
      }
      recordLiveness({ seed: currentSeed(), ...on.liveness, afterHealMs: on.recoveryMs });
      check(scenario.name, on, off);
    });
  }
});

/** What each scenario must show, on any seed. */
function check(
  name: string,
  on: Awaited<ReturnType<(typeof scenarios)[number]["run"]>>,
  off: typeof on,
): void {
  if (name === "the leader hears no one") {
    // With CheckQuorum the leader steps down and the others elect one they can answer.
    expect(on.elections).toBeGreaterThanOrEqual(1);
    expect(on.recoveryMs).not.toBeNull();
    expect(on.recoveryMs!).toBeLessThan(2000);
    // Without it, it leads on and commits nothing: no election, no recovery.
    expect(off.elections).toBe(0);
    expect(off.recoveryMs).toBeNull();
    expect(off.liveness.available).toBeLessThan(0.1);
    return;
  }
  // The leader keeps leading, with no gap at all.
  expect(on.elections).toBe(0);
  expect(on.liveness.available).toBe(1);
  expect(on.recoveryMs).toBe(0);
  // Without the option, the leader is deposed.
  expect(off.elections).toBeGreaterThanOrEqual(1);
  if (name === "rejoin after a long partition") expect(off.highestTerm).toBeGreaterThan(10);
}
