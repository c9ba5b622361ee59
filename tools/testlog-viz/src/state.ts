// The cluster's state at any row: every node's votedFor, log, commitIndex and lastApplied, a
// leader's nextIndex and matchIndex per follower, (part 3 on) what each node's storage holds,
// so a reader sees what a crash would keep, (part 5) the snapshot its log starts after, and
// (part 6) what keeps the cluster available: a pre-vote under way, the leader a node knows and
// when it last heard from it (its lease), a leader's transfer, the reads under way and the node's
// clock rate. The model (model.ts) turns each event into the few operations below; the page replays them up to the selected row. This file runs in both
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
  | [op: "reload", node: number]
  /** part 6 (§9.6): the node asks for pre-votes for `term` and holds `votes` (itself included); null: over */
  | [op: "prevote", node: number, term: number | null, votes: number]
  /**
   * part 6: the leader of `term` the node knows (itself when it leads), and the time it last
   * heard from it (§4.2.3: its lease runs a minimum election timeout from then). With `leader`
   * null it forgets the leader it knows: any (`term` null), or one of a term before `term` (the
   * node moved on to that term: a request of its leader may have brought it there).
   */
  | [op: "leader", node: number, leader: number | null, heardAt: number | null, term: number | null]
  /** part 6 (§3.10): the leader hands its leadership to `target`; null: the transfer is over */
  | [op: "transfer", node: number, target: number | null]
  /**
   * part 6 (§6.4): read `read` on the node is at `step` (null: served or refused), with its read
   * index once known; `follower` when a follower asked for it through ReadIndex
   */
  | [
      op: "read",
      node: number,
      read: number,
      step: ReadStep | null,
      readIndex: number | null,
      follower: number | null,
    ]
  /** part 6: the node's clock runs `rate` ms for every ms of the trace (the drift fault) */
  | [op: "drift", node: number, rate: number]
  /** part 6 (§6.2): the leader stepped down by CheckQuorum (true), until it follows a leader again */
  | [op: "quorum", node: number, lost: boolean];

/**
 * Part 6: where a read stands. "confirm": a leader waits for its term's entry to commit and for
 * a heartbeat round a majority answers; "forward": a follower waits for its leader's read index;
 * "apply": the read index is known, the node applies through it.
 */
export type ReadStep = "confirm" | "forward" | "apply";

/** Part 6: a read under way on a node. */
export interface PendingRead {
  step: ReadStep;
  readIndex: number | null;
  follower: number | null;
}

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
  /** Part 6 (§9.6): the pre-vote it asks for, and the would-be votes it holds. */
  prevote?: { term: number; votes: number };
  /** Part 6: the leader it knows (itself when it leads) and when it last heard from it. */
  leader?: { id: number; heardAt: number | null; term: number };
  /** Part 6 (§3.10): the node it hands its leadership to. */
  transfer?: number;
  /** Part 6 (§6.4): its reads under way, by id. Replaced, never changed in place. */
  reads?: Map<number, PendingRead>;
  /** Part 6: its clock's rate, when a drift fault set one other than 1. */
  clockRate?: number;
  /** Part 6 (§6.2): it stepped down as leader by CheckQuorum, and has followed no leader since. */
  quorumLost?: true;
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
  else if (isAvailabilityOp(op)) applyAvailabilityOp(node, op);
  else if (op[0] === "persist" || op[0] === "restart") applyStorageOp(node, op);
  else if (op[0] === "compact" || op[0] === "install") applySnapshotOp(node, op);
  else applyLogOp(node, op);
}

type AvailabilityOp = Extract<
  Op,
  { 0: "prevote" | "leader" | "transfer" | "read" | "drift" | "quorum" }
>;
const AVAILABILITY_OPS = new Set<Op[0]>([
  "prevote",
  "leader",
  "transfer",
  "read",
  "drift",
  "quorum",
]);
const isAvailabilityOp = (op: Op): op is AvailabilityOp => AVAILABILITY_OPS.has(op[0]);

/** Part 6's state: pre-votes, the leader known, a transfer, reads, the clock's rate. */
function applyAvailabilityOp(node: NodeState, op: AvailabilityOp): void {
  switch (op[0]) {
    case "prevote":
      if (op[2] === null) delete node.prevote;
      else node.prevote = { term: op[2], votes: op[3] };
      break;
    case "leader": {
      const [, , id, heardAt, term] = op;
      if (id !== null) node.leader = { id, heardAt, term: term ?? 0 };
      else if (term === null || (node.leader !== undefined && node.leader.term < term)) {
        delete node.leader;
      }
      break;
    }
    case "transfer":
      if (op[2] === null) delete node.transfer;
      else node.transfer = op[2];
      break;
    case "read": {
      const reads = new Map(node.reads);
      const [, , id, step, readIndex, follower] = op;
      const asked = reads.get(id)?.follower ?? follower;
      // a read a follower asked for ends on the leader with its read index: the follower applies
      if (step === null || (step === "apply" && asked !== null && follower === null)) {
        reads.delete(id);
      } else reads.set(id, { step, readIndex, follower: asked });
      if (reads.size === 0) delete node.reads;
      else node.reads = reads;
      break;
    }
    case "drift":
      if (op[2] === 1) delete node.clockRate;
      else node.clockRate = op[2];
      break;
    case "quorum":
      if (op[2]) node.quorumLost = true;
      else delete node.quorumLost;
      break;
  }
}

function applyLogOp(
  node: NodeState,
  op: Exclude<
    Op,
    { 0: "persist" | "restart" | "reload" | "compact" | "install" | AvailabilityOp[0] }
  >,
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
  // part 6: volatile too (the clock's rate is the machine's, and outlives the restart)
  delete node.prevote;
  delete node.leader;
  delete node.transfer;
  delete node.reads;
  delete node.quorumLost;
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
