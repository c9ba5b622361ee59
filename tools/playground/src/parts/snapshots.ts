// The reader's "take a snapshot" (part 5 on), for any part whose nodes snapshot: part 5's entry
// and part 6's hand over their own node. It imports no part, so each part's bundle holds only
// its own code.

import { ActionError } from "../engine/actions.ts";
import type { SimClusterLike } from "../engine/types.ts";

/** What "take a snapshot" needs of a part's SimCluster (part 5's, part 6's). */
export interface SnapshottingCluster extends SimClusterLike {
  readonly options: { snapshots?: string };
  readonly applied: Map<number, unknown[]>;
  node(id: number): SnapshottingNode;
}

/**
 * "Take a snapshot" on a part's own simulated cluster: the state is the simulation's (the list of
 * entries the node applied, `SimCluster.applied`), whose snapshots the safety checks verify. A
 * test whose nodes snapshot their own state machine's state cannot be handed another.
 */
export function snapshotOfSimulation(cluster: SnapshottingCluster, id: number): void {
  if (cluster.options.snapshots === "application") {
    throw new ActionError(
      "this test's nodes snapshot their own state machine's state: only it can hand that over",
    );
  }
  snapshotNow(cluster, cluster.node(id), id, (index) => cluster.applied.get(id)!.slice(0, index));
}

/** What "take a snapshot" needs of a part's RaftNode (part 5's, part 6's). */
export interface SnapshottingNode {
  getState(): { role: string; lastApplied: number; lastIncludedIndex: number };
  snapshot(index: number, state: unknown): void;
}

/**
 * The reader has node `id` take a snapshot now, through the last entry it applied: its state
 * machine hands over its state as of that entry (`stateThrough`), as a state machine may at any
 * moment (`RaftNode.snapshot`; §7: each server snapshots on its own). Refused, before anything
 * changes, when the node is down or its snapshot already holds all it applied.
 */
export function snapshotNow(
  cluster: SimClusterLike,
  node: SnapshottingNode,
  id: number,
  stateThrough: (index: number) => unknown,
): void {
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
