// How long a follower far behind takes to catch up, with the conflict hint of §5.3 and without
// it. The leader holds 10,000 entries: 100 of term 1, then 50 terms of 198 entries each; the
// follower holds the same 100, then 5,000 entries of 25 other terms that never committed. It must
// find where its log stops matching (index 100) and receive the leader's 9,900 entries after it.

import type { LogEntry } from "../src/raft.ts";
import { SimCluster } from "../src/sim/cluster.ts";

const COMMON = 100;

function terms(first: number, count: number, step: number, perTerm: number): LogEntry[] {
  const entries: LogEntry[] = [];
  for (let k = 0; k < count; k++) {
    const term = first + k * step;
    for (let i = 0; i < perTerm; i++) entries.push({ term, command: `t${term}-${i}` });
  }
  return entries;
}

const prefix = terms(1, 1, 1, COMMON);
const LEADER_LOG = [...prefix, ...terms(2, 50, 2, 198)];
const FOLLOWER_LOG = [...prefix, ...terms(3, 25, 2, 200)];

export interface CatchUp {
  fastBacktracking: boolean;
  /** AppendEntries the leader sent the follower until it held the whole log. */
  roundTrips: number;
  /** Of which refused: the probes that found where the logs stop matching. */
  refusals: number;
  virtualMs: number;
  wallMs: number;
}

/** Runs one catch-up on a 3-node cluster with 1-5 ms latency; safety checked on every event. */
export async function catchUp(fastBacktracking: boolean): Promise<CatchUp> {
  const cluster = new SimCluster(3, { seed: 1, raft: { fastBacktracking } });
  cluster.tracer.keep = false;
  const term = LEADER_LOG.at(-1)!.term;
  let roundTrips = 0;
  let refusals = 0;
  let done = false;
  cluster.tracer.subscribe((e) => {
    if (e.kind === "send" && e.details.rpc === "AppendEntries" && e.details.to === 1) {
      if (e.details.type === "request") roundTrips++;
    }
    if (e.kind === "deliver" && e.details.rpc === "AppendEntries" && e.details.from === 1) {
      if (e.details.type === "reply" && !e.details.payload.success) refusals++;
    }
    if (e.kind === "progress" && e.details.peer === 1)
      done ||= e.details.matchIndex === LEADER_LOG.length;
  });
  cluster.startNodes();
  const started = performance.now();
  cluster.restartFrom(0, { currentTerm: term, votedFor: null, log: LEADER_LOG });
  cluster.restartFrom(2, { currentTerm: term, votedFor: null, log: LEADER_LOG });
  cluster.restartFrom(1, { currentTerm: term, votedFor: null, log: FOLLOWER_LOG });
  const from = cluster.clock.now();
  await cluster.runUntil(from + 600_000, () => done);
  if (!done) throw new Error("the follower did not catch up within 600 s of virtual time");
  const result = { fastBacktracking, roundTrips, refusals, virtualMs: cluster.clock.now() - from };
  await cluster.shutdown();
  return { ...result, wallMs: performance.now() - started };
}

export async function catchUpSection(): Promise<void> {
  console.log(
    `\nCatch-up: a follower ${LEADER_LOG.length - COMMON} entries behind (logs match up to [${COMMON}]; ` +
      `the follower's ${FOLLOWER_LOG.length - COMMON} after it are of 25 terms that never committed), ` +
      "3 nodes, latency 1-5 ms, at most 100 entries per AppendEntries, seed 1",
  );
  console.log("  conflict hint   round trips   refused probes   virtual time   wall time");
  for (const fast of [true, false]) {
    const r = await catchUp(fast);
    console.log(
      `  ${(fast ? "on" : "off").padEnd(13)} ${String(r.roundTrips).padStart(13)} ${String(r.refusals).padStart(16)} ` +
        `${`${(r.virtualMs / 1000).toFixed(1)} s`.padStart(14)} ${`${(r.wallMs / 1000).toFixed(2)} s`.padStart(11)}`,
    );
  }
}
