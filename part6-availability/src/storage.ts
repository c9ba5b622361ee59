// Where a node keeps the state Figure 2 calls persistent: currentTerm, votedFor and the log, and
// the snapshot of Figure 13 that replaces the log's beginning (§7). A node reads it once when it
// starts, and writes what changed before any message leaves it (RaftNode.flush): a server that
// forgot a vote could vote twice in one term, and one that forgot an entry it acknowledged could
// let a committed entry be lost.
//
// The interface is synchronous: `save` returns when the changes are durable, or throws. See the
// part's README for why, and how that keeps the simulation deterministic. Two implementations:
// `MemoryStorage` here, for the simulation, and `DiskStorage` (disk-storage.ts) for real
// processes.

import type { Clock, Timer } from "./clock.ts";
import type { LogEntry, NodeId } from "./raft.ts";
import type { Snapshot } from "./snapshot.ts";

/** currentTerm and votedFor: always written together, so a term is never durable without its vote. */
export interface HardState {
  currentTerm: number;
  votedFor: NodeId | null;
}

/** Everything a node keeps across a crash. */
export interface PersistentState extends HardState {
  /** The entries after the snapshot's last one (from index 1 when there is no snapshot). */
  log: LogEntry[];
  /** The latest snapshot, if any (§7). */
  snapshot?: Snapshot;
}

/**
 * What changed since the last save. `log` keeps the entries before index `from` and replaces
 * everything from `from` on by `entries`: an append when `from` is just past the end, a follower's
 * truncation at a conflict followed by its leader's entries otherwise. Only what changed is
 * written: a heartbeat that changes nothing writes nothing. A new `snapshot` comes first: the
 * entries through its lastIncludedIndex are discarded, those after it kept (`log` then changes
 * them, from an index after the snapshot).
 */
export interface Changes {
  hardState?: HardState;
  snapshot?: Snapshot;
  log?: { from: number; entries: readonly LogEntry[] };
}

export interface Storage {
  /** The state that was durable when the node last stopped (empty for a new node). */
  load(): PersistentState;
  /** Makes `changes` durable, all of them or none, before returning; throws if it cannot. */
  save(changes: Changes): void;
  /**
   * Optional (thesis §10.2.1): starts making `changes` (a leader's new entries) durable and
   * returns at once; resolves when they are durable, rejects if they cannot be. Changes become
   * durable in the order they were handed over, by either method: a `save` first finishes every
   * write started before it. A storage without it is written with `save` only.
   */
  saveInBackground?(changes: Changes): Promise<void>;
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
  if (changes.snapshot !== undefined) applySnapshot(state, changes.snapshot);
  if (changes.log !== undefined) {
    const { from, entries } = changes.log;
    const base = state.snapshot?.lastIncludedIndex ?? 0;
    const last = base + state.log.length;
    if (from <= base || from > last + 1) {
      throw new StorageError(
        from <= base
          ? `log change at [${from}] is inside the snapshot, which ends at [${base}]`
          : `log change at [${from}] would leave a gap after [${last}]`,
      );
    }
    state.log.length = from - base - 1;
    for (const entry of entries) state.log.push(entry); // not push(...): a long list would overflow the stack
  }
}

/** §7: `snapshot` replaces the one kept; the log keeps only the entries after its last one. */
function applySnapshot(state: PersistentState, snapshot: Snapshot): void {
  const base = state.snapshot?.lastIncludedIndex ?? 0;
  if (snapshot.lastIncludedIndex <= base) {
    throw new StorageError(
      `a snapshot through [${snapshot.lastIncludedIndex}] is not newer than the one kept, through [${base}]`,
    );
  }
  state.log.splice(0, Math.min(state.log.length, snapshot.lastIncludedIndex - base));
  state.snapshot = snapshot;
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
  /** §10.2.1: the writes started in the background and not yet durable, oldest first. */
  private readonly writing: BackgroundWrite[] = [];
  readonly saveInBackground?: (changes: Changes) => Promise<void>;

  /**
   * With `background`, this storage also writes in the background (saveInBackground): each such
   * write is durable `writeMs` of virtual time after it starts, or after the write before it,
   * whichever is later: the simulated disk's time for writing a leader's new entries. `save`
   * stays immediate.
   */
  constructor(background?: { clock: Clock; writeMs: number }) {
    if (background !== undefined) {
      this.saveInBackground = (changes) =>
        this.startWrite(background.clock, background.writeMs, changes);
    }
  }

  load(): PersistentState {
    return copy(this.durable);
  }

  save(changes: Changes): void {
    // Writes reach the disk in order: the ones started before this one are durable first.
    while (this.writing.length > 0) {
      const failed = this.finishOldest();
      if (failed !== undefined) throw failed;
    }
    this.write(changes);
  }

  /** The node crashed: the writes still on their way to the disk never arrive. */
  loseUnfinishedWrites(): void {
    for (const write of this.writing.splice(0)) write.timer.cancel();
  }

  private startWrite(clock: Clock, writeMs: number, changes: Changes): Promise<void> {
    const dueAt = Math.max(clock.now(), this.writing.at(-1)?.dueAt ?? 0) + writeMs;
    // What it is asked to write now, whatever the node changes next.
    const copied = copy(changes);
    return new Promise((resolve, reject) => {
      const timer = clock.setTimer(dueAt - clock.now(), () => void this.finishOldest());
      this.writing.push({ changes: copied, dueAt, timer, resolve, reject });
    });
  }

  /** The oldest write in flight reaches the disk, or fails; returns its error if it failed. */
  private finishOldest(): unknown {
    const write = this.writing.shift()!;
    write.timer.cancel();
    try {
      this.write(write.changes);
    } catch (error) {
      this.loseUnfinishedWrites(); // a crash loses what was still on its way to the disk
      write.reject(error);
      return error;
    }
    write.resolve();
    return undefined;
  }

  private write(changes: Changes): void {
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

interface BackgroundWrite {
  changes: Changes;
  dueAt: number;
  timer: Timer;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
