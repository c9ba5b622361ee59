// The simulation's state machine, and what its snapshots must be. A simulated node's state
// machine is the list of the entries it has applied, in index order (`SimCluster.applied`), as
// the MIT labs' tester keeps it: a test can ask what any node applied at any index, even a node
// that got those entries in a snapshot. Its snapshot is that list as JSON text, each entry
// `{"index":i,"term":t,"command":c}`, and restoring one puts the list back.
//
// Because the state is a function of the entries applied, the safety checks can compute the
// snapshot every index must have, from the entries the cluster committed (`StateDigests`), and
// compare each snapshot taken, installed or restored with it: State Machine Safety on states, not
// only on entries, for nodes that never saw the entries a snapshot replaced.

import type { AppliedEntry } from "../raft.ts";
import { digestOf } from "../snapshot.ts";

/**
 * The digest (snapshot.ts) of the simulation's snapshot at each index, from the entries applied
 * through it: built up entry by entry, as JSON text is, without keeping the text.
 */
export class StateDigests {
  /** prefix[i]: the digest of the text of entries 1..i, still open ("[e1,...,ei"). */
  private readonly prefix: number[] = [digestOf("[")];

  /** How many entries it holds: indices 1..length. */
  get length(): number {
    return this.prefix.length - 1;
  }

  /** Adds entry `length + 1`. */
  add(entry: AppliedEntry): void {
    const { index, term, command } = entry;
    const item = `${index > 1 ? "," : ""}${JSON.stringify({ index, term, command })}`;
    this.prefix.push(digestOf(item, this.prefix.at(-1)!));
  }

  /** The digest of the snapshot through `index`, or undefined while entries up to it are missing. */
  at(index: number): number | undefined {
    const open = this.prefix[index];
    return open === undefined ? undefined : digestOf("]", open);
  }
}

/** The entries of a simulation snapshot, decoded; throws if `data` is not one. */
export function appliedEntriesOf(data: unknown): AppliedEntry[] {
  const entries = Array.isArray(data) ? (data as Partial<AppliedEntry>[]) : undefined;
  const valid = entries?.every((e, i) => e?.index === i + 1 && typeof e.term === "number");
  if (entries === undefined || !valid) {
    throw new Error("not a snapshot of the simulation's state machine: a list of applied entries");
  }
  return entries as AppliedEntry[];
}
