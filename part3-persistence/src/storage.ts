// Where a node keeps the state Figure 2 calls persistent: currentTerm, votedFor and the log. A
// node reads it once when it starts, and writes what changed before any message leaves it
// (RaftNode.flush): a server that forgot a vote could vote twice in one term, and one that
// forgot an entry it acknowledged could let a committed entry be lost.
//
// The interface is synchronous: `save` returns when the changes are durable, or throws. See the
// part's README for why, and how that keeps the simulation deterministic. Two implementations:
// `MemoryStorage` here, for the simulation, and `DiskStorage` (disk-storage.ts) for real
// processes.

import type { LogEntry, NodeId } from "./raft.ts";
import { encodeDecode } from "./sim/wire.ts";

/** currentTerm and votedFor: always written together, so a term is never durable without its vote. */
export interface HardState {
  currentTerm: number;
  votedFor: NodeId | null;
}

/** Everything a node keeps across a crash. */
export interface PersistentState extends HardState {
  log: LogEntry[];
}

/**
 * What changed since the last save. `log` keeps the entries before index `from` and replaces
 * everything from `from` on by `entries`: an append when `from` is just past the end, a follower's
 * truncation at a conflict followed by its leader's entries otherwise. Only what changed is
 * written: a heartbeat that changes nothing writes nothing.
 */
export interface Changes {
  hardState?: HardState;
  log?: { from: number; entries: readonly LogEntry[] };
}

export interface Storage {
  /** The state that was durable when the node last stopped (empty for a new node). */
  load(): PersistentState;
  /** Makes `changes` durable, all of them or none, before returning; throws if it cannot. */
  save(changes: Changes): void;
}

/** Thrown by a storage that cannot make changes durable; the node stops rather than go on. */
export class StorageError extends Error {}

/** The empty state of a node that has never run. */
export function emptyState(): PersistentState {
  return { currentTerm: 0, votedFor: null, log: [] };
}

/** Applies `changes` to `state` in place. */
export function applyChanges(state: PersistentState, changes: Changes): void {
  if (changes.hardState !== undefined) Object.assign(state, changes.hardState);
  if (changes.log !== undefined) {
    const { from, entries } = changes.log;
    if (from < 1 || from > state.log.length + 1) {
      throw new StorageError(
        `log change at [${from}] would leave a gap after [${state.log.length}]`,
      );
    }
    state.log.length = from - 1;
    for (const entry of entries) state.log.push(entry); // not push(...): a long list would overflow the stack
  }
}

/** What a fault plan may do to one save: nothing, or crash the node before or after it is durable. */
export type SaveFault = "crash before durable" | "crash after durable" | "disk full" | undefined;

/** Thrown by MemoryStorage when a fault plan crashes the node in the middle of a save. */
export class CrashDuringSave extends StorageError {}

/**
 * Storage for the simulation. It outlives the node that uses it: a crashed node's successor
 * (a new RaftNode on the same storage) loads what was durable. It keeps its own copies, decoded
 * from JSON as a disk would give them back, never the node's objects. A fault plan can fail any
 * save: "crash before durable" loses that save (the write never reached the disk), "crash after
 * durable" keeps it (the node died before it could act on it), "disk full" fails it and keeps the
 * node alive to see the error.
 */
export class MemoryStorage implements Storage {
  private readonly durable = emptyState();
  /** Saves so far, failed ones included. */
  saves = 0;
  /** Decides the fate of save number `n` (counted from 1). */
  faults: (n: number) => SaveFault = () => undefined;

  load(): PersistentState {
    return copy(this.durable);
  }

  save(changes: Changes): void {
    const fault = this.faults(++this.saves);
    if (fault === "disk full") throw new StorageError("no space left on the simulated disk");
    if (fault === "crash before durable")
      throw new CrashDuringSave("crashed before the save was durable");
    // Only the changes are copied: a save costs what it writes, not the size of the log.
    applyChanges(this.durable, copy(changes));
    if (fault === "crash after durable")
      throw new CrashDuringSave("crashed after the save was durable");
  }
}

/** What a disk gives back of `value`: what decoding its JSON gives (sim/wire.ts). */
function copy<T>(value: T): T {
  return encodeDecode(value).copy as T;
}
