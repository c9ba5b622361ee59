// The cluster's state at any row: every node's votedFor, log, commitIndex and lastApplied, a
// leader's nextIndex and matchIndex per follower, and (part 3 on) what each node's storage holds,
// so a reader sees what a crash would keep. The model (model.ts) turns each event into the
// few operations below; the page replays them up to the selected row. This file runs in both
// places (Node and the page's bundle), so it uses neither DOM nor Node APIs.

/** One log entry as the view draws it: its term and its command as short JSON. */
export type Entry = [term: number, command: string];

/** What one event changes. Roles and terms are not here: every row's lanes carry them. */
export type Op =
  | [op: "vote", node: number, votedFor: number | null]
  | [op: "append", node: number, index: number, entries: Entry[]]
  | [op: "truncate", node: number, from: number]
  | [op: "commit", node: number, to: number]
  | [op: "apply", node: number, index: number]
  | [op: "progress", node: number, peer: number, nextIndex: number, matchIndex: number]
  /** a leader stepped down: its nextIndex and matchIndex mean nothing any more */
  | [op: "unlead", node: number]
  /** a durable save: storage now holds this term, vote and the log up to lastLogIndex */
  | [op: "persist", node: number, term: number, votedFor: number | null, lastLogIndex: number]
  /** a new module on the node's storage: its durable state, commitIndex and lastApplied 0 */
  | [op: "restart", node: number, term: number, votedFor: number | null, log: Entry[]]
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
}

export interface NodeState {
  votedFor: number | null;
  /** index 1 of the log is log[0], as in the paper */
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
  /** How many of the log's first entries are on disk as they are in memory; the rest are unsaved. */
  saved: number;
  /**
   * Part 5 (snapshots): the compacted prefix, the index and term of the last entry a snapshot
   * replaced. No part writes one yet; the cluster view draws it before the log when one does.
   */
  snapshot?: { lastIncludedIndex: number; lastIncludedTerm: number };
}

export type ClusterState = Map<number, NodeState>;

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
  else applyLogOp(node, op);
}

function applyLogOp(
  node: NodeState,
  op: Exclude<Op, { 0: "persist" | "restart" | "reload" }>,
): void {
  switch (op[0]) {
    case "vote":
      node.votedFor = op[2];
      break;
    case "append":
      // writes at its index: the trace truncates explicitly, so this normally extends the log
      op[3].forEach((entry, i) => {
        node.log[op[2] - 1 + i] = entry;
      });
      // what it wrote is in memory only until the node's next persist
      node.saved = Math.min(node.saved, op[2] - 1);
      break;
    case "truncate":
      node.log.length = Math.min(node.log.length, Math.max(0, op[2] - 1));
      node.saved = Math.min(node.saved, node.log.length);
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

function applyStorageOp(node: NodeState, op: Extract<Op, { 0: "persist" | "restart" }>): void {
  const [, , term, votedFor] = op;
  if (op[0] === "persist") {
    // part 3 saves every change of memory at once, so the log up to lastLogIndex is on disk
    node.disk = { term, votedFor, lastLogIndex: op[4] };
    node.saved = Math.min(op[4], node.log.length);
    return;
  }
  // Figure 2: persistent state survives; commitIndex, lastApplied and a leader's state do not
  node.log = op[4].slice();
  node.votedFor = votedFor;
  node.disk = { term, votedFor, lastLogIndex: node.log.length };
  node.saved = node.log.length;
  node.commitIndex = 0;
  node.lastApplied = 0;
  node.progress.clear();
}

/** A process restarting on its storage: the saved prefix of its log, its saved term and vote. */
function reload(node: NodeState): void {
  const disk = node.disk;
  const log = node.log.slice(
    0,
    disk === null ? node.saved : Math.min(node.saved, disk.lastLogIndex),
  );
  applyStorageOp(node, ["restart", 0, disk?.term ?? 0, disk?.votedFor ?? null, log]);
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
