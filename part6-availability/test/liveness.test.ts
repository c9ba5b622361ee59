// Goal: the liveness meter (src/sim/liveness.ts) measures what happened, not what it hopes: a
// cluster that commits steadily is available all the time, a known outage gives a gap of a length
// read from the timeline and a recovery at the first commit after the heal, and a cluster whose
// leader never commits (no client submits, and Figure 2's leader commits nothing of its own) is
// never available, although it has a leader that every node follows. Method: scripted runs of
// 3 nodes on the default network (1 to 5 ms a message), under the run's seed; the bounds come
// from the timing rules (heartbeats every 50 ms, a window of 150 ms) and the trace itself.

import { describe, expect } from "vitest";
import { defaultRaftConfig } from "../src/raft.ts";
import { defaultLivenessOptions, LivenessMeter } from "../src/sim/liveness.ts";
import type { TraceEvent } from "../src/trace.ts";
import { Cluster, test } from "./harness.ts";

const { windowMs } = defaultLivenessOptions;
const { heartbeatIntervalMs } = defaultRaftConfig;
/** The default network's slowest message, there and back. */
const roundTripMs = 10;

/** Lets `ms` pass while a client submits a command to every leader every 25 ms. */
async function withClient(cluster: Cluster, ms: number): Promise<void> {
  const end = cluster.clock.now() + ms;
  let n = 0;
  while (cluster.clock.now() < end) {
    for (const { id } of cluster.leaders()) cluster.submitToServer(id, `c${n++}`);
    await cluster.advance(Math.min(25, end - cluster.clock.now()));
  }
}

/** A meter that sees every event of `cluster` from now on. */
function meterOf(cluster: Cluster): LivenessMeter {
  const meter = new LivenessMeter(cluster.ids.length, {}, cluster.clock.now());
  cluster.tracer.subscribe((e) => meter.observe(e));
  return meter;
}

const leaderCommits = (events: readonly TraceEvent[], after: number) =>
  events.filter((e) => e.kind === "commit" && e.role === "leader" && e.t >= after);

describe("liveness measured from the trace", () => {
  test("a cluster that commits steadily is available all the time", async () => {
    const cluster = Cluster.start(3);
    const meter = meterOf(cluster);
    await withClient(cluster, 1000);
    const from = leaderCommits(cluster.tracer.events, 0)[0]!.t;
    await withClient(cluster, 3000);
    const report = meter.report(cluster.clock.now(), from);
    expect(report.gaps).toEqual([]);
    expect(report.available).toBe(1);
  });

  test("an outage of every link for two seconds: one gap, from the timeline", async () => {
    const cluster = Cluster.start(3);
    const meter = meterOf(cluster);
    await withClient(cluster, 1000);
    const from = cluster.clock.now();
    await withClient(cluster, 1000);
    const cutAt = cluster.clock.now();
    cluster.partition(...cluster.ids.map((id) => [id]));
    await withClient(cluster, 2000);
    const healAt = cluster.clock.now();
    cluster.heal();
    await withClient(cluster, 3000);
    const end = cluster.clock.now();
    const report = meter.report(end, from);
    expect(report.gaps).toHaveLength(1);
    const gap = report.gaps[0]!;
    // It starts a window after the last answer the leader had, which came at most a heartbeat
    // and a round trip before the cut.
    expect(gap.from).toBeGreaterThanOrEqual(cutAt + windowMs - heartbeatIntervalMs - roundTripMs);
    expect(gap.from).toBeLessThanOrEqual(cutAt + windowMs);
    // It ends when a leader elected after the heal commits, on its majority's answers.
    const recovered = leaderCommits(cluster.tracer.events, healAt)[0]!;
    expect(recovered.term).toBeGreaterThan(cluster.tracer.events.find((e) => e.t >= from)!.term!);
    expect(gap.to).toBe(recovered.t);
    expect(report.available).toBeCloseTo(1 - (gap.to - gap.from) / (end - from), 9);
    // The two seconds without links, less the window during which the last answers still count.
    expect(report.available).toBeLessThanOrEqual(1 - (2000 - windowMs) / (end - from));
    expect(report.longestGapMs).toBe(gap.to - gap.from);
    expect(report.recoveries).toEqual([{ cause: "heal", at: healAt, afterMs: gap.to - healAt }]);
    expect(meter.stableAfter(cutAt, end)).toBe(gap.to - cutAt);
  });

  test("a leader that every node follows but that never commits: never available", async () => {
    const cluster = Cluster.start(3);
    const meter = meterOf(cluster);
    const { leader } = await cluster.checkSettled();
    await cluster.advance(3000);
    expect(cluster.state(leader).role).toBe("leader");
    expect(leaderCommits(cluster.tracer.events, 0)).toEqual([]);
    const report = meter.report(cluster.clock.now());
    expect(report.available).toBe(0);
    expect(report.gaps).toEqual([{ from: 0, to: cluster.clock.now() }]);
    expect(meter.stableAfter(0, cluster.clock.now())).toBeNull();
  });

  test("a leader lost, then its crash-stop recovered from: the recovery is counted from the loss", async () => {
    const cluster = Cluster.start(3);
    const meter = meterOf(cluster);
    await withClient(cluster, 1000);
    const old = cluster.leaders()[0]!;
    const lostAt = cluster.clock.now();
    cluster.crash(old.id);
    await withClient(cluster, 3000);
    const report = meter.report();
    const recovered = leaderCommits(cluster.tracer.events, lostAt)[0]!;
    expect(recovered.node).not.toBe(old.id);
    expect(report.recoveries).toEqual([
      { cause: "leader lost", at: lostAt, afterMs: recovered.t - lostAt },
    ]);
  });
});
