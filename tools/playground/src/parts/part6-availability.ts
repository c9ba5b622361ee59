// part6-availability for the playground: part 5's cluster with PreVote, CheckQuorum and the vote
// lease, leadership transfer, the leader's parallel write and ReadIndex (Ongaro's thesis §9.6,
// §6.2, §4.2.3, §3.10, §10.2.1, §6.4), and its trace sentences, imported by name. A free session
// runs with the part's options on, except those its link turns off (src/parts.ts lists them as
// switches); snapshots come early, as in part 5's sessions. The reader can also hand the
// leadership to a chosen node, and read on a node (ReadIndex; a follower asks its leader).

import { SimCluster } from "part6-availability/sim/cluster";
import { describe } from "part6-availability/trace";
import { ActionError } from "../engine/actions.ts";
import type { PartModule, SimClusterLike } from "../engine/types.ts";
import { snapshotOfSimulation } from "./snapshots.ts";

const NAME = "part6-availability";

export const part: PartModule = {
  name: NAME,
  createCluster: (n, seed, raft) => new SimCluster(n, { seed, raft }),
  clusterClass: SimCluster,
  describe: (event) => describe(event as Parameters<typeof describe>[0]),
  snapshot: (cluster, id) => snapshotOfSimulation(ownCluster(cluster), id),
  transfer: (cluster, to) => transferTo(ownCluster(cluster), to),
  read: (cluster, id) => readOn(ownCluster(cluster), id),
};

function ownCluster(cluster: SimClusterLike): SimCluster {
  if (!(cluster instanceof SimCluster)) throw new Error(`not a ${NAME} cluster`);
  return cluster;
}

/** The live node that leads the highest term, if any. */
function leaderOf(cluster: SimCluster): number | undefined {
  return cluster.leaders().sort((a, b) => b.currentTerm - a.currentTerm)[0]?.id;
}

/**
 * §3.10: the leader hands its leadership to `to` (`RaftNode.transferLeadership`): it takes no
 * new commands, brings `to`'s log up to date, and sends it TimeoutNow; `to` campaigns at once,
 * and voters set their lease aside for it. Refused, before anything changes, when no node leads,
 * when `to` leads already, or when the session runs without the option.
 */
function transferTo(cluster: SimCluster, to: number): void {
  const leader = leaderOf(cluster);
  if (leader === undefined)
    throw new ActionError("no node leads now: there is nothing to hand over");
  if (leader === to) throw new ActionError(`n${to} leads already: choose another node`);
  if (cluster.options.raft?.leadershipTransfer === false) {
    throw new ActionError("this session runs without leadership transfer (turned off above)");
  }
  cluster.note(`the reader asks the leader n${leader} to hand its leadership to n${to}`);
  const result = cluster.node(leader).transferLeadership(to);
  if (!result.started) throw new Error(`n${leader} refused the transfer: ${result.reason}`);
}

/**
 * §6.4: a linearizable read on node `id` (`RaftNode.readIndex`): a leader confirms with a round
 * of heartbeats that it still leads, a follower asks its leader for the read index; either
 * answers once it has applied through it. The trace says how it went (read.ready or read.fail).
 */
function readOn(cluster: SimCluster, id: number): void {
  if (cluster.state(id).role === "dead") throw new ActionError(`n${id} is down: it cannot read`);
  cluster.note(`the reader reads on n${id} (ReadIndex)`);
  void cluster.node(id).readIndex();
}
