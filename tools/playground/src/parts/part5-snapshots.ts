// part5-snapshots for the playground: part 3's cluster with log compaction and InstallSnapshot
// (§7, Figure 13), and its trace sentences, imported by name. A free session's nodes snapshot
// after a few entries (src/parts.ts says how often, and the page says it to the reader), and the
// reader can have a node take a snapshot at once.
//
// The snapshot's state is what the node's state machine holds: here the simulation's own (the
// list of entries the node applied, `SimCluster.applied`), whose snapshots the safety checks
// verify. A cluster with another state machine (part 5's key/value store) passes its own
// `stateThrough` to snapshotNow.

import { SimCluster } from "part5-snapshots/sim/cluster";
import { describe } from "part5-snapshots/trace";
import { ActionError } from "../engine/actions.ts";
import type { PartModule, SimClusterLike } from "../engine/types.ts";
import { partInfo } from "../parts.ts";

const NAME = "part5-snapshots";

export const part: PartModule = {
  name: NAME,
  createCluster: (n, seed) => new SimCluster(n, { seed, raft: partInfo(NAME).session?.raft }),
  clusterClass: SimCluster,
  describe: (event) => describe(event as Parameters<typeof describe>[0]),
  snapshot: (cluster, id) => {
    const own = ownCluster(cluster);
    if (own.options.snapshots === "application") {
      throw new ActionError(
        "this test's nodes snapshot their own state machine's state: only it can hand that over",
      );
    }
    snapshotNow(own, id, (index) => own.applied.get(id)!.slice(0, index));
  },
};

function ownCluster(cluster: SimClusterLike): SimCluster {
  if (!(cluster instanceof SimCluster)) throw new Error(`not a ${NAME} cluster`);
  return cluster;
}

/**
 * The reader has node `id` take a snapshot now, through the last entry it applied: its state
 * machine hands over its state as of that entry (`stateThrough`), as a state machine may at any
 * moment (`RaftNode.snapshot`; §7: each server snapshots on its own). Refused, before anything
 * changes, when the node is down or its snapshot already holds all it applied.
 */
export function snapshotNow(
  cluster: SimClusterLike,
  id: number,
  stateThrough: (index: number) => unknown,
): void {
  const node = ownCluster(cluster).node(id);
  const { role, lastApplied, lastIncludedIndex } = node.getState();
  if (role === "dead") throw new ActionError(`n${id} is down: it has no state to snapshot`);
  if (lastApplied <= lastIncludedIndex) {
    throw new ActionError(
      `n${id} has applied nothing since its snapshot through [${lastIncludedIndex}]: submit commands first`,
    );
  }
  cluster.note(
    `the reader has n${id} take a snapshot: its state machine hands over its state through [${lastApplied}], the last entry it applied`,
  );
  node.snapshot(lastApplied, stateThrough(lastApplied));
}
