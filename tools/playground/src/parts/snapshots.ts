// The reader's "take a snapshot" (part 5 on), for any part whose nodes snapshot: part 5's entry
// and part 6's hand over their own node. It imports no part, so each part's bundle holds only
// its own code.

import { ActionError } from "../engine/actions.ts";
import type { SimClusterLike } from "../engine/types.ts";

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
