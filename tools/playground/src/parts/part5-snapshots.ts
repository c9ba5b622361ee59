// part5-snapshots for the playground: part 3's cluster with log compaction and InstallSnapshot
// (§7, Figure 13), and its trace sentences, imported by name. A free session's nodes snapshot
// after a few entries (src/parts.ts says how often, and the page says it to the reader), and the
// reader can have a node take a snapshot at once.
//
// The snapshot's state is what the node's state machine holds: here the simulation's own (the
// list of entries the node applied, `SimCluster.applied`), whose snapshots the safety checks
// verify. A cluster with another state machine (part 5's key/value store) passes its own
// `stateThrough` to snapshotNow (./snapshots.ts).

import { SimCluster } from "part5-snapshots/sim/cluster";
import { describe } from "part5-snapshots/trace";
import type { PartModule, SimClusterLike } from "../engine/types.ts";
import { snapshotOfSimulation } from "./snapshots.ts";

const NAME = "part5-snapshots";

export const part: PartModule = {
  name: NAME,
  createCluster: (n, seed, raft) => new SimCluster(n, { seed, raft }),
  clusterClass: SimCluster,
  describe: (event) => describe(event as Parameters<typeof describe>[0]),
  snapshot: (cluster, id) => snapshotOfSimulation(ownCluster(cluster), id),
};

function ownCluster(cluster: SimClusterLike): SimCluster {
  if (!(cluster instanceof SimCluster)) throw new Error(`not a ${NAME} cluster`);
  return cluster;
}
