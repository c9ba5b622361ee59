// The cluster's state at any row: every node's votedFor, log, commitIndex and lastApplied, a
// leader's nextIndex and matchIndex per follower, (part 3 on) what each node's storage holds,
// so a reader sees what a crash would keep, and (part 5) the snapshot its log starts after. The model (model.ts) turns each event into the
// few operations below; the page replays them up to the selected row. This file runs in both
// places (Node and the page's bundle), so it uses neither DOM nor Node APIs.

/** One log entry as the view draws it: its term and its command as short JSON. */
export type Entry = [term: number, command: string];

/** Part 5 (§7): a snapshot replaced the log through this entry: its index and its term. */
export interface Snapshot {
  lastIncludedIndex: number;
  lastIncludedTerm: number;
}

/** What one event changes. Roles and terms are not here: every row's lanes carry them. */
export type Op =
  | [op: "vote", node: number, votedFor: number | null]
  | [op: "append", node: number, index: number, entries: Entry[]]
  | [op: "truncate", node: number, from: number]
  /** part 5: the entries through `through` are discarded, a snapshot holds them (§7) */
  | [op: "compact", node: number, through: number, term: number]
  /** part 5: a leader's snapshot installed: commitIndex and lastApplied move to its last entry */
  | [op: "install", node: number, index: number]
  | [op: "commit", node: number, to: number]
  | [op: "apply", node: number, index: number]
  | [op: "progress", node: number, peer: number, nextIndex: number, matchIndex: number]
  /** a leader stepped down: its nextIndex and matchIndex mean nothing any more */
  | [op: "unlead", node: number]
  /**
   * a durable save: storage now holds this term, vote and the log up to lastLogIndex (part 5:
   * and, when given, a new snapshot through snapshotIndex)
   */
  | [
      op: "persist",
      node: number,
      term: number,
      votedFor: number | null,
      lastLogIndex: number,
      snapshotIndex?: number,
    ]
  /**
   * a new module on the node's storage: its durable state (part 5: the snapshot, and the log
   * after it); commitIndex and lastApplied where the snapshot ends, else 0
   */
  | [
      op: "restart",
      node: number,
      term: number,
      votedFor: number | null,
      log: Entry[],
      snapshot?: Snapshot,
    ]
  /**
   * a real node's process starts again on its data folder (its trace does not list what it
   * loaded): what its last `persist` made durable, as `restart` with that state
   */
  | [op: "reload", node: number];

/** What a node's storage holds. */
export interface Disk {
  term: number;
  votedFor: number | null;
  lastLogIndex: number;
  /** part 5: the last entry of the snapshot it holds, when it holds one */
  snapshotIndex?: number;
}

export interface NodeState {
  votedFor: number | null;
  /**
   * The entries after the snapshot, or every entry when there is none: log[0] is the entry at
   * index `baseOf(node) + 1` (index 1 before part 5, as in the paper). Read it through `entryAt`
   * and `lastIndexOf`.
   */
  log: Entry[];
  commitIndex: number;
  lastApplied: number;
  /** peer → [nextIndex, matchIndex], while the node leads */
  progress: Map<number, [number, number]>;
  /**
   * What the node's storage holds; null for a trace of a part without storage (parts 1 and 2).
   * Replaced, never changed in place, so copies of the state may share it.
   */
  disk: Disk | null;
  /** The last index up to which the log is on disk as it is in memory; entries after it are unsaved. */
  saved: number;
  /**
   * Part 5 (§7): the compacted prefix, the index and term of the last entry a snapshot replaced;
   * the log holds the entries after it. Absent until the node has a snapshot.
   */
  snapshot?: Snapshot;
}

export type ClusterState = Map<number, NodeState>;

/** The index of the last entry the node's snapshot holds; 0 without one. */
export const baseOf = (node: NodeState): number => node.snapshot?.lastIncludedIndex ?? 0;

/** Figure 2's last log index: with part 5's snapshot, where the snapshot ends if no entry follows. */
export const lastIndexOf = (node: NodeState): number => baseOf(node) + node.log.length;

/** The entry at `index`, if the log holds it: not compacted into the snapshot, not past the end. */
export const entryAt = (node: NodeState, index: number): Entry | undefined =>
  index > baseOf(node) ? node.log[index - baseOf(node) - 1] : undefined;

/** Raft §5.2 and Figure 2: a server starts with term 0, no vote and an empty log, on disk too. */
const fresh = (storage: boolean): NodeState => ({
  votedFor: null,
  log: [],
  commitIndex: 0,
  lastApplied: 0,
  progress: new Map(),
  disk: storage ? { term: 0, votedFor: null, lastLogIndex: 0 } : null,
  saved: 0,
});

/** `storage`: the trace's part keeps state on disk (part 3 on), so unsaved entries are marked. */
export function initialState(nodes: readonly number[], storage = false): ClusterState {
  return new Map(nodes.map((id) => [id, fresh(storage)]));
}

/** Applies one operation in place. A node the state has never seen gets a fresh record. */
export function applyOp(state: ClusterState, op: Op): void {
  let node = state.get(op[1]);
  if (node === undefined) {
    node = fresh(op[0] === "persist" || op[0] === "restart");
    state.set(op[1], node);
  }
  if (op[0] === "reload") reload(node);
  else if (op[0] === "persist" || op[0] === "restart") applyStorageOp(node, op);
  else if (op[0] === "compact" || op[0] === "install") applySnapshotOp(node, op);
  else applyLogOp(node, op);
}

function applyLogOp(
  node: NodeState,
  op: Exclude<Op, { 0: "persist" | "restart" | "reload" | "compact" | "install" }>,
): void {
  switch (op[0]) {
    case "vote":
      node.votedFor = op[2];
      break;
    case "append": {
      // writes at its index: the trace truncates explicitly, so this normally extends the log
      const base = baseOf(node);
      op[3].forEach((entry, i) => {
        if (op[2] + i > base) node.log[op[2] + i - base - 1] = entry;
      });
      // what it wrote is in memory only until the node's next persist
      node.saved = Math.min(node.saved, op[2] - 1);
      break;
    }
    case "truncate":
      node.log.length = Math.min(node.log.length, Math.max(0, op[2] - baseOf(node) - 1));
      node.saved = Math.min(node.saved, lastIndexOf(node));
      break;
    case "commit":
      node.commitIndex = op[2];
      break;
    case "apply":
      node.lastApplied = op[2];
      break;
    case "progress":
      node.progress.set(op[2], [op[3], op[4]]);
      break;
    case "unlead":
      node.progress.clear();
      break;
  }
}

/** Part 5's snapshots (§7, Figure 13). */
function applySnapshotOp(node: NodeState, op: Extract<Op, { 0: "compact" | "install" }>): void {
  if (op[0] === "install") {
    // Figure 13, receiver rule 8: the state machine is the snapshot's, committed and applied
    node.commitIndex = op[2];
    node.lastApplied = op[2];
    return;
  }
  const [, , through, term] = op;
  // the entries through `through` go (all of them when the snapshot reaches past the log's end);
  // those after it stay, and the log now starts after it
  node.log.splice(0, Math.max(0, Math.min(through, lastIndexOf(node)) - baseOf(node)));
  node.snapshot = { lastIncludedIndex: through, lastIncludedTerm: term };
}

function applyStorageOp(node: NodeState, op: Extract<Op, { 0: "persist" | "restart" }>): void {
  const [, , term, votedFor] = op;
  if (op[0] === "persist") {
    // part 3 saves every change of memory at once, so the log up to lastLogIndex is on disk;
    // part 5 names the snapshot a save wrote, and the one saved before stays otherwise
    const snapshotIndex = op[5] ?? node.disk?.snapshotIndex;
    node.disk = {
      ...{ term, votedFor, lastLogIndex: op[4] },
      ...(snapshotIndex === undefined ? {} : { snapshotIndex }),
    };
    node.saved = Math.min(op[4], lastIndexOf(node));
    return;
  }
  // Figure 2: persistent state survives; commitIndex, lastApplied and a leader's state do not,
  // except that a snapshot holds only applied state, so they start where it ends (part 5)
  const snapshot = op[5];
  if (snapshot === undefined) delete node.snapshot;
  else node.snapshot = snapshot;
  node.log = op[4].slice();
  node.votedFor = votedFor;
  node.disk = {
    ...{ term, votedFor, lastLogIndex: lastIndexOf(node) },
    ...(snapshot === undefined ? {} : { snapshotIndex: snapshot.lastIncludedIndex }),
  };
  node.saved = lastIndexOf(node);
  node.commitIndex = baseOf(node);
  node.lastApplied = baseOf(node);
  node.progress.clear();
}

/**
 * A process restarting on its storage: the saved prefix of its log, its saved term and vote.
 * Part 5 saves a snapshot together with the log's compaction, so the snapshot in memory is the
 * one on disk unless the process died between the two, which its trace cannot show.
 */
function reload(node: NodeState): void {
  const disk = node.disk;
  const last = disk === null ? node.saved : Math.min(node.saved, disk.lastLogIndex);
  const log = node.log.slice(0, Math.max(0, last - baseOf(node)));
  const { snapshot } = node;
  const [term, votedFor] = [disk?.term ?? 0, disk?.votedFor ?? null];
  const op: Extract<Op, { 0: "restart" }> = snapshot
    ? ["restart", 0, term, votedFor, log, snapshot]
    : ["restart", 0, term, votedFor, log];
  applyStorageOp(node, op);
}

export function cloneState(state: ClusterState): ClusterState {
  return new Map(
    [...state].map(([id, s]) => [id, { ...s, log: s.log.slice(), progress: new Map(s.progress) }]),
  );
}

/** Rows between two saved states: jumping to any row replays at most this many. */
const CHECKPOINT_EVERY = 500;

/**
 * The state after any row, by replaying operations from the nearest saved state before it.
 * `opsOf(i)` gives row i's operations; states are saved as rows are first reached.
 */
export class StateReplay {
  private readonly saved: ClusterState[] = [];
  private readonly opsOf: (row: number) => readonly Op[] | null;

  constructor(
    nodes: readonly number[],
    opsOf: (row: number) => readonly Op[] | null,
    storage = false,
  ) {
    this.opsOf = opsOf;
    this.saved.push(initialState(nodes, storage));
  }

  /** The state just after row `row` (0-based); a fresh copy the caller may keep. */
  after(row: number): ClusterState {
    const slot = Math.min(Math.floor((row + 1) / CHECKPOINT_EVERY), this.saved.length - 1);
    const state = cloneState(this.saved[slot]!);
    for (let i = slot * CHECKPOINT_EVERY; i <= row; i++) {
      for (const op of this.opsOf(i) ?? []) applyOp(state, op);
      if ((i + 1) % CHECKPOINT_EVERY === 0 && this.saved.length === (i + 1) / CHECKPOINT_EVERY) {
        this.saved.push(cloneState(state));
      }
    }
    return state;
  }
}
