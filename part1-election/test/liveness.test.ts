// Goal: the liveness meter (src/sim/liveness.ts) measures what happened, not what it hopes. Part
// 1 has no log, so the cluster serves while a majority follows a leader (voted for it, or answers
// its heartbeats): a settled cluster does all the time, a known outage gives a gap of a length
// read from the timeline and a recovery at the first election won after the heal, and a cluster
// where no majority reaches a leader is never available. Method: scripted runs of 3 nodes on the
// default network (1 to 5 ms a message), under the run's seed; the bounds come from the timing
// rules (heartbeats every 50 ms, a window of 150 ms) and the trace itself.

import { describe, expect } from "vitest";
import { defaultRaftConfig } from "../src/raft.ts";
import { defaultLivenessOptions, LivenessMeter } from "../src/sim/liveness.ts";
import type { TraceEvent } from "../src/trace.ts";
import { Cluster, test } from "./harness.ts";

const { windowMs } = defaultLivenessOptions;
const { heartbeatIntervalMs } = defaultRaftConfig;
/** The default network's slowest message, there and back. */
const roundTripMs = 10;

/** A meter that sees every event of `cluster` from now on. */
function meterOf(cluster: Cluster): LivenessMeter {
  const meter = new LivenessMeter(cluster.ids.length, {}, cluster.clock.now());
  cluster.tracer.subscribe((e) => meter.observe(e));
  return meter;
}

/** The elections won, from `after` on: a candidate's voters, a majority with it, follow it. */
const elections = (events: readonly TraceEvent[], after: number) =>
  events.filter((e) => e.kind === "role" && e.details.to === "leader" && e.t >= after);

describe("liveness measured from the trace", () => {
  test("a settled cluster is available all the time", async () => {
    const cluster = Cluster.start(3);
    const meter = meterOf(cluster);
    await cluster.checkSettled();
    await cluster.advance(200);
    const from = elections(cluster.tracer.events, 0)[0]!.t;
    await cluster.advance(3000);
    const report = meter.report(cluster.clock.now(), from);
    expect(report.gaps).toEqual([]);
    expect(report.available).toBe(1);
  });

  test("an outage of every link for two seconds: one gap, from the timeline", async () => {
    const cluster = Cluster.start(3);
    const meter = meterOf(cluster);
    await cluster.advance(1000);
    const from = cluster.clock.now();
    await cluster.advance(1000);
    const cutAt = cluster.clock.now();
    cluster.partition(...cluster.ids.map((id) => [id]));
    await cluster.advance(2000);
    const healAt = cluster.clock.now();
    cluster.heal();
    await cluster.advance(3000);
    const end = cluster.clock.now();
    const report = meter.report(end, from);
    expect(report.gaps).toHaveLength(1);
    const gap = report.gaps[0]!;
    // It starts a window after the last answer the leader had, which came at most a heartbeat
    // and a round trip before the cut.
    expect(gap.from).toBeGreaterThanOrEqual(cutAt + windowMs - heartbeatIntervalMs - roundTripMs);
    expect(gap.from).toBeLessThanOrEqual(cutAt + windowMs);
    // It ends when a leader is elected after the heal: its voter and itself, two of three.
    const recovered = elections(cluster.tracer.events, healAt)[0]!;
    expect(recovered.term).toBeGreaterThan(cluster.tracer.events.find((e) => e.t >= from)!.term!);
    expect(gap.to).toBe(recovered.t);
    expect(report.available).toBeCloseTo(1 - (gap.to - gap.from) / (end - from), 9);
    // The two seconds without links, less the window during which the last answers still count.
    expect(report.available).toBeLessThanOrEqual(1 - (2000 - windowMs) / (end - from));
    expect(report.longestGapMs).toBe(gap.to - gap.from);
    expect(report.recoveries).toEqual([{ cause: "heal", at: healAt, afterMs: gap.to - healAt }]);
    expect(meter.stableAfter(cutAt, end)).toBe(gap.to - cutAt);
  });

  test("no link at all: no leader that a majority follows, never available", async () => {
    const cluster = Cluster.start(3);
    const meter = meterOf(cluster);
    cluster.partition(...cluster.ids.map((id) => [id]));
    await cluster.advance(3000);
    expect(cluster.tracer.events.some((e) => e.kind === "term")).toBe(true);
    const report = meter.report(cluster.clock.now());
    expect(report.available).toBe(0);
    expect(report.gaps).toEqual([{ from: 0, to: cluster.clock.now() }]);
    expect(meter.stableAfter(0, cluster.clock.now())).toBeNull();
  });

  test("a leader lost, then its crash-stop recovered from: the recovery is counted from the loss", async () => {
    const cluster = Cluster.start(3);
    const meter = meterOf(cluster);
    await cluster.checkSettled();
    await cluster.advance(1000);
    const old = cluster.leaders()[0]!;
    const lostAt = cluster.clock.now();
    cluster.crash(old.id);
    await cluster.advance(3000);
    const report = meter.report();
    const recovered = elections(cluster.tracer.events, lostAt).find(
      (e) => e.term! > old.currentTerm,
    )!;
    expect(recovered.node).not.toBe(old.id);
    expect(report.recoveries).toEqual([
      { cause: "leader lost", at: lostAt, afterMs: recovered.t - lostAt },
    ]);
  });
});
