// Three faults under which Raft as Figure 2 states it loses its leader, or never has a useful one,
// though a majority of the servers can talk: each is run on a cluster the caller made (the
// test harness's, or a bare SimCluster in bench/liveness.ts), and measured from the trace
// (src/sim/liveness.ts) from the moment of the fault. Before it, every node holds the same log;
// after it the cluster idles: a new leader's no-op (noopOnElection) is its only entry, and its
// heartbeats are what a majority answers.
//
// - "rejoin after a long partition": a follower cut off for ten seconds comes back. Without
//   PreVote it kept starting elections alone, and returns with a term far above the leader's:
//   its first answer to a heartbeat deposes the leader, and the cluster waits for an election.
// - "a node that reaches only some peers": the links between the leader and one follower fail
//   both ways, the others work, as a partially failed switch left Cloudflare's etcd on
//   2020-11-02. The cut-off follower times out and asks the one server it reaches for votes:
//   without CheckQuorum's lease (§4.2.3) or PreVote that server takes its term and the leader is
//   deposed, again and again whenever the leader is one of the two that cannot talk. Either
//   option alone keeps the leader here (a pre-vote of a node whose log fell behind is refused).
// - "the leader hears no one": every link into the leader fails, one way; its heartbeats still
//   reach the followers, which never time out. Without CheckQuorum (§6.2) it leads forever and
//   commits nothing; with it, it steps down and the others elect a leader they can answer.

import type { NodeId, RaftConfig } from "../src/raft.ts";
import type { SimCluster } from "../src/sim/cluster.ts";
import { LivenessMeter, type LivenessReport } from "../src/sim/liveness.ts";

export interface ScenarioResult {
  /** Liveness from the fault (or the rejoin) to the end of the scenario. */
  liveness: LivenessReport;
  /** From the fault to a leader that a majority follows, that commits, and that stays (null: never). */
  recoveryMs: number | null;
  /** Leaders elected from that moment on. */
  elections: number;
  /** The highest term any node reached. */
  highestTerm: number;
}

export interface Scenario {
  name: string;
  /** The options whose absence the scenario shows (part 6's fix for it). */
  off: (keyof RaftConfig)[];
  /** The cluster size it runs on. */
  nodes: number;
  /** Runs it on a cluster just started; it measures from the cluster's first event on. */
  run(cluster: SimCluster): Promise<ScenarioResult>;
}

/** The configuration a scenario's cluster runs with: part 6's defaults but `off`, and a no-op. */
export function scenarioConfig(off: readonly (keyof RaftConfig)[] = []): Partial<RaftConfig> {
  return { noopOnElection: true, ...Object.fromEntries(off.map((option) => [option, false])) };
}

/** How long each scenario is measured after its fault (or its rejoin). */
export const MEASURED_MS = 5000;

export const scenarios: Scenario[] = [
  {
    name: "rejoin after a long partition",
    off: ["preVote"],
    nodes: 3,
    async run(cluster) {
      const watch = watching(cluster);
      const { leader } = await settled(cluster);
      const away = (leader + 1) % cluster.ids.length;
      cluster.isolate(away);
      await cluster.advance(10_000);
      return watch(() => cluster.reconnect(away));
    },
  },
  {
    name: "a node that reaches only some peers",
    off: ["preVote", "checkQuorum"],
    nodes: 3,
    async run(cluster) {
      const watch = watching(cluster);
      const { leader } = await settled(cluster);
      const away = (leader + 1) % cluster.ids.length;
      return watch(() => {
        cluster.cut(leader, away);
        cluster.cut(away, leader);
      });
    },
  },
  {
    name: "the leader hears no one",
    off: ["checkQuorum"],
    nodes: 3,
    async run(cluster) {
      const watch = watching(cluster);
      const { leader } = await settled(cluster);
      return watch(() => {
        for (const id of cluster.ids) if (id !== leader) cluster.cut(id, leader);
      });
    },
  },
];

/** Waits for a leader that every node follows and whose no-op every node has applied. */
async function settled(cluster: SimCluster): Promise<{ leader: NodeId }> {
  await cluster.checkSettled();
  await cluster.one("before the fault", cluster.ids.length, true);
  return cluster.checkSettled();
}

/**
 * Starts measuring `cluster` (from its first event on, so the meter knows who leads); returns the
 * function that runs the scenario's fault and measures the next MEASURED_MS from it.
 */
function watching(cluster: SimCluster): (fault: () => void) => Promise<ScenarioResult> {
  const meter = new LivenessMeter(cluster.ids.length, {}, cluster.clock.now());
  let elections = 0;
  cluster.tracer.subscribe((e) => {
    meter.observe(e);
    if (e.kind === "role" && e.details.to === "leader") elections++;
  });
  return async (fault) => {
    const from = cluster.clock.now();
    const before = elections;
    fault();
    await cluster.advance(MEASURED_MS);
    const highestTerm = Math.max(...cluster.ids.map((id: NodeId) => cluster.state(id).currentTerm));
    const liveness = meter.report(cluster.clock.now(), from);
    const recoveryMs = meter.stableAfter(from, cluster.clock.now());
    return { liveness, recoveryMs, elections: elections - before, highestTerm };
  };
}
