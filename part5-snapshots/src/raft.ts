// The Raft consensus module, part 5: leader election (Raft paper §5.1-5.2), log replication with
// commitment (§5.3-5.4), persistence: all of Figure 2; and now log compaction (§7, Figure 13).
// currentTerm, votedFor, the log and the snapshot survive a crash, and are durable before this
// node answers an RPC or sends one; a follower that refuses AppendEntries says where its log stops
// matching, so the leader skips a whole term per round trip (§5.3). The state machine hands over
// snapshots of its state, the log is discarded through them, and a follower whose next entry is
// gone from its leader's log gets the snapshot instead, in chunks. It is only the algorithm: the
// network, the clock, randomness and storage come in through `Environment`, so the same code runs
// in the deterministic simulation and in a real process.
//
// Start reading at `startElection` (a follower's timer ran out) and `handleRequestVote` (what a
// voter decides); `becomeFollower` holds the rule every RPC obeys: a higher term wins. Then the
// log: `submit` (a leader appends a command), `sendAppendEntries` (what a leader sends each
// follower), `handleAppendEntries` (the follower's consistency check), `onAppendAccepted` and
// `advanceCommitIndex` (when an entry is committed) and `applyCommitted` (delivery in order).
// Then persistence: `handle`, the one way in (every event the node handles ends in a flush),
// `flush`, the one door out, and `unsavedChanges`; and `onAppendRejected` with `conflictAt` for
// the fast catch-up. Then snapshots: `takeSnapshot` and `compactLog` (the log through a snapshot
// is discarded), `sendSnapshotChunk` (the leader's side of InstallSnapshot) and `installOn` (the
// follower's, Figure 13).

import type { Clock, Timer } from "./clock.ts";
import { jsonProblem } from "./json.ts";
import type { Random } from "./random.ts";
import {
  digestOf,
  type IncomingSnapshot,
  type RestoredSnapshot,
  receiveChunk,
  type Snapshot,
} from "./snapshot.ts";
import type { Changes, Storage } from "./storage.ts";
import type { NodeKinds, RpcName, SnapshotSummary, TraceKinds } from "./trace.ts";

export type NodeId = number;
export type Role = "follower" | "candidate" | "leader" | "dead";

/** One log entry: a command for the state machine and the term in which a leader received it. */
export interface LogEntry {
  term: number;
  command: unknown;
}

/** What `submit` answers: where the entry will be if it commits, or that this is no leader. */
export type SubmitResult = { isLeader: true; index: number; term: number } | { isLeader: false };

/** A committed entry as the state machine receives it, in index order, each index once. */
export interface AppliedEntry {
  index: number;
  term: number;
  command: unknown;
}

// The RPCs of Figure 2. Log indices are 1-based as in the paper; index 0 stands for the empty
// prefix before the first entry, and its term is 0.

export interface RequestVoteArgs {
  term: number;
  candidateId: NodeId;
  /** Index and term of the candidate's last log entry (§5.4.1). */
  lastLogIndex: number;
  lastLogTerm: number;
}

export interface RequestVoteReply {
  term: number;
  voteGranted: boolean;
}

export interface AppendEntriesArgs {
  term: number;
  leaderId: NodeId;
  /** Index and term of the entry just before `entries`: the follower must hold it (§5.3). */
  prevLogIndex: number;
  prevLogTerm: number;
  /** Entries to store; empty for a heartbeat. */
  entries: LogEntry[];
  /** The leader's commitIndex. */
  leaderCommit: number;
}

export interface AppendEntriesReply {
  term: number;
  success: boolean;
  /**
   * On a refusal (§5.3's optimisation): the term of the follower's entry at prevLogIndex and the
   * first index it holds of that term; or, when its log is shorter, no term and its length + 1.
   */
  conflictTerm?: number;
  conflictIndex?: number;
}

// The RPC of Figure 13. A snapshot travels as its JSON text (snapshot.ts), cut into chunks of at
// most snapshotChunkSize characters, sent in order from offset 0.

export interface InstallSnapshotArgs {
  term: number;
  leaderId: NodeId;
  /** The snapshot replaces all entries up through and including this index, */
  lastIncludedIndex: number;
  /** ... the last of which has this term. */
  lastIncludedTerm: number;
  /** Where this chunk goes in the snapshot's text. */
  offset: number;
  /** This chunk of the snapshot's text, starting at `offset`. */
  data: string;
  /** Whether this is the last chunk. */
  done: boolean;
}

export interface InstallSnapshotReply {
  term: number;
  /**
   * Not in Figure 13 (whose reply is the term alone): whether the follower took this chunk. It
   * refuses one that does not continue what it holds of the snapshot (it lost a chunk, or it
   * restarted and with it the part it had received), and the leader starts again at offset 0. For
   * the last chunk, true says the follower now holds every entry through lastIncludedIndex.
   */
  success: boolean;
}

/** How a node calls its peers. A call rejects if no reply comes back in time. */
export interface Transport {
  requestVote(to: NodeId, args: RequestVoteArgs): Promise<RequestVoteReply>;
  appendEntries(to: NodeId, args: AppendEntriesArgs): Promise<AppendEntriesReply>;
  installSnapshot(to: NodeId, args: InstallSnapshotArgs): Promise<InstallSnapshotReply>;
}

/** Everything outside the algorithm. */
export interface Environment {
  clock: Clock;
  random: Random;
  transport: Transport;
  /** Where currentTerm, votedFor, the log and the snapshot are kept; it outlives the node. */
  storage: Storage;
  /** Records one structured event (docs/trace-format.md); the caller adds time, term and role. */
  trace: <K extends keyof NodeKinds>(kind: K, details: TraceKinds[K]) => void;
}

export interface RaftConfig {
  /** Each election timeout is drawn uniformly from [min, max] ms (§5.2 suggests 150-300). */
  electionTimeoutMinMs: number;
  electionTimeoutMaxMs: number;
  /** How often a leader sends heartbeats; well below the election timeout. */
  heartbeatIntervalMs: number;
  /** At most this many entries in one AppendEntries. */
  maxEntriesPerAppend: number;
  /** Back nextIndex up a term at a time from the follower's conflict hint (§5.3), not by one. */
  fastBacktracking: boolean;
  /**
   * A new leader appends an entry with command `null` (a no-op) at the start of its term (§8), so
   * that entries of earlier terms commit without waiting for a client's next command. Off by
   * default: the Go and MIT scenarios count entries as the clients submitted them. A state machine
   * that turns it on submits no `null` of its own.
   */
  noopOnElection: boolean;
  /**
   * §7, when to take a snapshot: once this many entries have been applied since the last one,
   * this node asks the state machine for its state (see `snapshotSource`) and discards the log
   * through it. 0: never by count.
   */
  snapshotAfterEntries: number;
  /** ... or once the commands applied since the last one come to this many bytes of JSON. 0: never by size. */
  snapshotAfterBytes: number;
  /** At most this many characters of a snapshot's text in one InstallSnapshot. */
  snapshotChunkSize: number;
}

export const defaultRaftConfig: RaftConfig = {
  electionTimeoutMinMs: 150,
  electionTimeoutMaxMs: 300,
  heartbeatIntervalMs: 50,
  maxEntriesPerAppend: 100,
  fastBacktracking: true,
  noopOnElection: false,
  snapshotAfterEntries: 10_000,
  snapshotAfterBytes: 4 * 1024 * 1024,
  snapshotChunkSize: 64 * 1024,
};

/** A snapshot of a node's state, for tests and tools. */
export interface NodeState {
  id: NodeId;
  currentTerm: number;
  votedFor: NodeId | null;
  role: Role;
  lastLogIndex: number;
  /** The last entry the snapshot replaces, and its term (both 0 with no snapshot yet). */
  lastIncludedIndex: number;
  lastIncludedTerm: number;
  commitIndex: number;
  lastApplied: number;
  /** The leader of currentTerm as far as this node knows (itself when leader): clients' hint (§8). */
  leaderId: NodeId | null;
}

export class RaftNode {
  readonly id: NodeId;
  readonly peerIds: readonly NodeId[];
  private readonly env: Environment;
  private readonly config: RaftConfig;

  // Persistent state on all servers (Figure 2, and the snapshot of Figure 13), loaded from
  // env.storage at construction and changed only through setTerm, setVotedFor, appendToLog,
  // truncateLog, compactLog and setSnapshot, which note what `flush` must save.
  /** Latest term this server has seen: starts at 0 and never goes down. */
  private currentTerm: number;
  /** Candidate that received this server's vote in currentTerm, or null. */
  private votedFor: NodeId | null;
  /**
   * Log entries after the snapshot; entry i (1-based, as in the paper) is
   * log[i - lastIncludedIndex - 1]. Read it through `termAt`, `entryAt`, `entriesFrom` and
   * `lastLogIndex`, which hide the offset.
   */
  private log: LogEntry[];
  /** §7: the snapshot replaces the entries through this index; 0 when there is none yet. */
  private lastIncludedIndex: number;
  /** The term of that entry; 0 when there is no snapshot. */
  private lastIncludedTerm: number;
  /** The snapshot: the state machine's state as of lastIncludedIndex, as JSON text ("" if none). */
  private snapshotData: string;
  /** Its digest (snapshot.ts), for the trace. */
  private snapshotDigest: number;

  // What storage does not hold yet, and what waits for it (see flush).
  /** currentTerm or votedFor changed since the last save. */
  private hardStateUnsaved = false;
  /** The first log index that changed since the last save (appended or truncated), if any. */
  private logUnsavedFrom: number | null = null;
  /** The snapshot changed since the last save. */
  private snapshotUnsaved = false;
  /** Messages and calls that leave only after the state they depend on is durable. */
  private readonly outbox: (() => void)[] = [];
  /** A submit asked for replication at the next flush (batching many submits into one round). */
  private replicationWanted = false;
  private flushScheduled = false;

  // Volatile state on all servers (Figure 2).
  /** Index of the highest log entry known to be committed: only grows. */
  private commitIndex = 0;
  /** Index of the highest log entry applied to the state machine: trails commitIndex. */
  private lastApplied = 0;

  // Volatile state on leaders (Figure 2), reinitialized after each election.
  /** For each peer, the index of the next log entry to send it. */
  private nextIndex = new Map<NodeId, number>();
  /** For each peer, the highest index known to be replicated on it: only grows in a term. */
  private matchIndex = new Map<NodeId, number>();
  /**
   * For each peer, the AppendEntries with entries that is on its way, if any, and when it left.
   * Not in Figure 2: holding further entries back until it is answered batches them into the next
   * request instead of sending every entry once per submit. (Or the InstallSnapshot chunk on its
   * way: the next chunk waits for it the same way.)
   */
  private inFlight = new Map<
    NodeId,
    { args: AppendEntriesArgs | InstallSnapshotArgs; sentAt: number }
  >();
  /** For each peer being sent this leader's snapshot (Figure 13): which one, and the next offset. */
  private snapshotOffset = new Map<NodeId, { lastIncludedIndex: number; offset: number }>();
  /** Peers reported as having lost data they acknowledged in this term (reported once each). */
  private lostDataReported = new Set<NodeId>();

  // Volatile state for snapshots on all servers (§7).
  /** The snapshot this follower is receiving, chunk by chunk (Figure 13, rules 2-4). */
  private incoming: IncomingSnapshot | null = null;
  /** Bytes of JSON of the commands applied since the last snapshot, for the policy. */
  private appliedBytes = 0;

  /** Receivers of committed entries: the state machine. */
  private readonly applyListeners: ((entry: AppliedEntry) => void)[] = [];
  /** Receivers of snapshots to restore: the state machine, at start and on InstallSnapshot. */
  private readonly restoreListeners: ((snapshot: RestoredSnapshot) => void)[] = [];
  /** Where a snapshot comes from when the policy wants one: the state machine's state now. */
  private takeState: (() => unknown) | null = null;

  // Other volatile state.
  private role: Role = "follower";
  /** Who leads currentTerm, learned from its AppendEntries; for redirecting clients (§8). */
  private leaderId: NodeId | null = null;
  /** Peers that granted their vote in the current election (candidates only), self included. */
  private votesReceived = new Set<NodeId>();
  /** Runs while follower or candidate; a leader has none. */
  private electionTimer: Timer | null = null;
  /** Runs while leader. */
  private heartbeatTimer: Timer | null = null;

  constructor(
    id: NodeId,
    peerIds: readonly NodeId[],
    env: Environment,
    config: Partial<RaftConfig> = {},
  ) {
    this.id = id;
    this.peerIds = peerIds;
    this.env = env;
    this.config = { ...defaultRaftConfig, ...config };
    // A restarted server comes back with what it made durable, and nothing else. A snapshot is
    // of committed, applied state, so commitIndex and lastApplied start at its last entry (0
    // without one); `start` hands it to the state machine, which then gets the entries after it.
    const durable = env.storage.load();
    this.currentTerm = durable.currentTerm;
    this.votedFor = durable.votedFor;
    this.log = durable.log;
    const snapshot = durable.snapshot ?? { lastIncludedIndex: 0, lastIncludedTerm: 0, data: "" };
    this.lastIncludedIndex = snapshot.lastIncludedIndex;
    this.lastIncludedTerm = snapshot.lastIncludedTerm;
    this.snapshotData = snapshot.data;
    this.snapshotDigest = digestOf(snapshot.data);
    this.commitIndex = this.lastApplied = snapshot.lastIncludedIndex;
  }

  /** Starts as a follower (§5.2: "When servers start up, they begin as followers"). */
  start(): void {
    // A second start would run a second set of timers beside the first.
    if (this.electionTimer !== null || this.heartbeatTimer !== null || this.role === "dead") {
      throw new Error(`n${this.id}: start() may be called once, before stop()`);
    }
    if (this.lastIncludedIndex > 0) this.restoreStateMachine("loaded from storage at start");
    this.resetElectionTimer();
  }

  /** Stops for good: no more timers, RPCs or replies. */
  stop(): void {
    this.electionTimer?.cancel();
    this.heartbeatTimer?.cancel();
    this.electionTimer = this.heartbeatTimer = null;
    this.setRole("dead", "stopped");
  }

  getState(): NodeState {
    return {
      id: this.id,
      currentTerm: this.currentTerm,
      votedFor: this.votedFor,
      role: this.role,
      lastLogIndex: this.lastLogIndex(),
      lastIncludedIndex: this.lastIncludedIndex,
      lastIncludedTerm: this.lastIncludedTerm,
      commitIndex: this.commitIndex,
      lastApplied: this.lastApplied,
      leaderId: this.leaderId,
    };
  }

  /** A copy of the log after the snapshot (from lastIncludedIndex + 1 on), for tests and tools. */
  getLog(): LogEntry[] {
    return this.log.slice();
  }

  /** The snapshot this node keeps (§7), for tests and tools; undefined before the first. */
  getSnapshot(): Snapshot | undefined {
    if (this.lastIncludedIndex === 0) return undefined;
    const { lastIncludedIndex, lastIncludedTerm, snapshotData: data } = this;
    return { lastIncludedIndex, lastIncludedTerm, data };
  }

  /** Calls `listener` with every entry this node applies from now on, in index order. */
  onApply(listener: (entry: AppliedEntry) => void): void {
    this.applyListeners.push(listener);
  }

  /**
   * Calls `listener` with every snapshot the state machine must restore: the one storage held at
   * `start`, and each one a leader installs (Figure 13, receiver rule 8). After a restore, the
   * entries applied next are the ones after its lastIncludedIndex.
   */
  onRestore(listener: (snapshot: RestoredSnapshot) => void): void {
    this.restoreListeners.push(listener);
  }

  /**
   * §7, the policy's side: when snapshotAfterEntries or snapshotAfterBytes says a snapshot is due,
   * this node calls `takeState` right after applying an entry, and its answer (a JSON value) is the
   * state as of that entry. Without a source, only the state machine's own `snapshot` calls take
   * snapshots.
   */
  snapshotSource(takeState: () => unknown): void {
    this.takeState = takeState;
  }

  /**
   * §7: the state machine hands over its state `data` (a JSON value) as of entry `index`, which it
   * has applied. This node keeps it as its snapshot and discards the log through `index`; both are
   * durable before anything that depends on them leaves (see flush). A snapshot no newer than the
   * one kept changes nothing.
   */
  snapshot(index: number, data: unknown): void {
    const problem = jsonProblem(data, "the snapshot");
    if (problem !== undefined) throw new TypeError(`snapshot refused: ${problem}`);
    if (!Number.isSafeInteger(index) || index > this.lastApplied) {
      throw new RangeError(
        `snapshot refused: [${index}] is not an entry this node has applied (lastApplied ${this.lastApplied})`,
      );
    }
    if (this.role === "dead" || index <= this.lastIncludedIndex) return;
    // Saved at the flush that ends this turn, as a submit's entries are.
    this.handle(
      () => this.takeSnapshot(index, JSON.stringify(data), "the state machine handed it over"),
      "end of turn",
    );
  }

  /**
   * Figure 2, Leaders: a command received from a client is appended to the leader's log. The
   * answer comes at once, like Start() in the MIT labs: the index and term the entry will have
   * if it commits. The client learns that it did when an entry with that index and term is
   * applied; a different term at that index means it was lost with this leader.
   */
  submit(command: unknown): SubmitResult {
    // The entry will travel to the other servers as JSON; what JSON cannot carry, they would
    // apply as something else. Refused before anything happens, with the reason.
    const problem = jsonProblem(command);
    if (problem !== undefined) throw new TypeError(`submit refused: ${problem}`);
    if (this.role !== "leader") {
      // A refusal changes nothing, so it is no event: nothing to save, nothing to send.
      this.env.trace("submit", { command, refused: `n${this.id} is ${this.role}, not leader` });
      return { isLeader: false };
    }
    // Replication starts at the flush that ends this turn, after whatever else this turn
    // submits: many commands, one write, one round of AppendEntries.
    return this.handle(() => this.appendCommand(command), "end of turn");
  }

  private appendCommand(command: unknown): SubmitResult {
    const index = this.lastLogIndex() + 1;
    this.env.trace("submit", { command, index, term: this.currentTerm });
    this.appendToLog([{ term: this.currentTerm, command }]);
    this.replicationWanted = true;
    return { isLeader: true, index, term: this.currentTerm };
  }

  // ---- The log (1-based; index 0 is the empty prefix, with term 0) ----
  //
  // §7: the entries through lastIncludedIndex are in the snapshot, not in `log`. Their terms are
  // gone, except the last one's (lastIncludedTerm); the rules of Figure 2 read entries only after
  // lastIncludedIndex, and the term of lastIncludedIndex itself, through these helpers.

  private lastLogIndex(): number {
    return this.lastIncludedIndex + this.log.length;
  }

  /** The term of entry `index`, from lastIncludedIndex (the snapshot's last entry) on. */
  private termAt(index: number): number {
    return index === this.lastIncludedIndex ? this.lastIncludedTerm : this.entryAt(index).term;
  }

  /** Entry `index`, which must be in the log: after lastIncludedIndex, at most lastLogIndex. */
  private entryAt(index: number): LogEntry {
    const entry = this.log[index - this.lastIncludedIndex - 1];
    if (entry === undefined || index <= this.lastIncludedIndex) {
      throw new Error(
        `n${this.id}: no entry [${index}] in the log, which holds [${this.lastIncludedIndex + 1}..${this.lastLogIndex()}]`,
      );
    }
    return entry;
  }

  /** The entries from `from` (after lastIncludedIndex) to `to`, both included. */
  private entriesFrom(from: number, to: number = this.lastLogIndex()): LogEntry[] {
    return this.log.slice(from - this.lastIncludedIndex - 1, to - this.lastIncludedIndex);
  }

  // ---- Elections: the candidate's side (Figure 2, Rules for Servers, Candidates) ----

  /** A majority of the whole cluster, this node included. */
  private isMajority(count: number): boolean {
    return count * 2 > this.peerIds.length + 1;
  }

  /**
   * Randomized timeouts (§5.2) make it unlikely that two followers time out together and split
   * the vote. Figure 2 restarts the timer on three events only: granting a vote, hearing from the
   * current leader, and starting an election.
   */
  private resetElectionTimer(): void {
    this.electionTimer?.cancel();
    const { electionTimeoutMinMs: min, electionTimeoutMaxMs: max } = this.config;
    const timeoutMs = this.env.random.int(min, max);
    this.electionTimer = this.setTimer(timeoutMs, () => {
      this.env.trace("election.timeout", { timeoutMs });
      this.startElection();
    });
  }

  /**
   * Figure 2, Followers: no word from a leader and no vote granted for a whole timeout, so become
   * a candidate. Candidates: increment currentTerm, vote for self, reset the election timer, send
   * RequestVote to every other server. A candidate whose election timed out starts a new one here.
   */
  private startElection(): void {
    this.setTerm(this.currentTerm + 1, "election timeout");
    this.setVotedFor(this.id);
    this.env.trace("vote", {
      candidate: this.id,
      candidateTerm: this.currentTerm,
      granted: true,
      reason: "votes for itself",
    });
    this.setRole("candidate", "election timeout");
    this.votesReceived = new Set([this.id]);
    this.resetElectionTimer();
    if (this.isMajority(this.votesReceived.size)) {
      this.becomeLeader(); // a cluster of one
      return;
    }
    const args: RequestVoteArgs = {
      term: this.currentTerm,
      candidateId: this.id,
      lastLogIndex: this.lastLogIndex(),
      lastLogTerm: this.termAt(this.lastLogIndex()),
    };
    for (const peer of this.peerIds) this.send(() => this.requestVote(peer, args));
  }

  private async requestVote(peer: NodeId, args: RequestVoteArgs): Promise<void> {
    let reply: RequestVoteReply;
    try {
      reply = await this.env.transport.requestVote(peer, args);
    } catch {
      return; // lost or timed out: the election timer will start another election if needed
    }
    if (this.role === "dead") return;
    this.handle(() => this.onVoteReply(peer, args, reply));
  }

  private onVoteReply(peer: NodeId, args: RequestVoteArgs, reply: RequestVoteReply): void {
    if (reply.term > this.currentTerm) {
      this.becomeFollower(reply.term, `n${peer} replied to RequestVote with a higher term`);
      return;
    }
    // A reply to an earlier election, or arriving after this one was decided, must not count:
    // that voter may have voted for someone else in the term this node is in now.
    if (this.role !== "candidate" || this.currentTerm !== args.term) {
      this.ignoreStale("RequestVote", peer, args.term, reply.term, "the election");
      return;
    }
    // Who voted, not how many replies came: a majority is a majority of servers (§5.2).
    if (reply.voteGranted) this.votesReceived.add(peer);
    const votes = this.votesReceived.size;
    const needed = Math.floor((this.peerIds.length + 1) / 2) + 1;
    this.env.trace("vote.reply", { from: peer, granted: reply.voteGranted, votes, needed });
    // Candidates: votes received from a majority of servers, become leader.
    if (this.isMajority(votes)) this.becomeLeader();
  }

  // ---- Leaders (Figure 2, Rules for Servers, Leaders) ----

  /**
   * Upon election: send initial empty AppendEntries (heartbeat) to each server, and repeat during
   * idle periods to prevent election timeouts (§5.2).
   */
  private becomeLeader(): void {
    this.electionTimer?.cancel();
    this.electionTimer = null;
    this.setRole("leader", `won the election with ${this.votesReceived.size} votes`);
    // Figure 2, volatile state on leaders: nextIndex starts just after the leader's last entry
    // (optimistic: followers are assumed to match until one refuses), matchIndex at 0 (nothing
    // is known to be replicated yet).
    for (const peer of this.peerIds) this.setProgress(peer, this.lastLogIndex() + 1, 0, "elected");
    this.inFlight.clear();
    this.snapshotOffset.clear();
    this.lostDataReported.clear();
    this.leaderId = this.id;
    // §8: a no-op of this term, sent with the first heartbeats, commits what earlier terms left.
    if (this.config.noopOnElection) this.appendToLog([{ term: this.currentTerm, command: null }]);
    this.sendHeartbeats();
  }

  /** Each heartbeat also retries whatever a follower still lacks (lost requests, §5.3). */
  private sendHeartbeats(): void {
    for (const peer of this.peerIds) this.sendAppendEntries(peer);
    this.heartbeatTimer = this.setTimer(this.config.heartbeatIntervalMs, () =>
      this.sendHeartbeats(),
    );
  }

  /** Sends `peer` the entries it lacks, unless some are already on their way to it. */
  private replicate(peer: NodeId): void {
    if (this.role !== "leader" || this.awaitingReply(peer)) return;
    if (this.nextIndex.get(peer)! <= this.lastLogIndex()) this.sendAppendEntries(peer);
  }

  /**
   * Whether an AppendEntries with entries is on its way to `peer` and still young. One older
   * than a heartbeat interval is presumed lost or held up: the next heartbeat carries its entries
   * again rather than wait for the RPC timeout, so a slow or lossy link delays a follower by a
   * heartbeat, not a timeout, per request.
   */
  private awaitingReply(peer: NodeId): boolean {
    const sent = this.inFlight.get(peer);
    return (
      sent !== undefined && this.env.clock.now() - sent.sentAt < this.config.heartbeatIntervalMs
    );
  }

  /**
   * Figure 2, Leaders: if last log index >= nextIndex for a follower, send AppendEntries with log
   * entries starting at nextIndex, up to the batch limit. While one with entries is on its way
   * (and young), only an empty one (a heartbeat) goes, so no entry travels twice on a healthy link.
   */
  private sendAppendEntries(peer: NodeId): void {
    const next = this.nextIndex.get(peer)!;
    // §7: the entry before `next` is in the snapshot, so no AppendEntries can show the follower
    // where to attach: it gets the snapshot instead (Figure 13), then the entries after it.
    if (next - 1 < this.lastIncludedIndex) {
      if (!this.awaitingReply(peer)) this.sendSnapshotChunk(peer);
      return;
    }
    const last = this.awaitingReply(peer)
      ? next - 1
      : Math.min(this.lastLogIndex(), next - 1 + this.config.maxEntriesPerAppend);
    const args: AppendEntriesArgs = {
      term: this.currentTerm,
      leaderId: this.id,
      prevLogIndex: next - 1,
      prevLogTerm: this.termAt(next - 1),
      entries: this.entriesFrom(next, last),
      leaderCommit: this.commitIndex,
    };
    if (args.entries.length > 0) this.inFlight.set(peer, { args, sentAt: this.env.clock.now() });
    // What the follower had acknowledged when this left: it cannot lack that when it answers.
    const acknowledged = this.matchIndex.get(peer)!;
    this.send(() => this.appendEntries(peer, args, acknowledged));
  }

  private async appendEntries(
    peer: NodeId,
    args: AppendEntriesArgs,
    acknowledged: number,
  ): Promise<void> {
    let reply: AppendEntriesReply | undefined;
    try {
      reply = await this.env.transport.appendEntries(peer, args);
    } catch {
      // Lost or timed out: the next heartbeat sends the entries again.
    }
    if (this.inFlight.get(peer)?.args === args) this.inFlight.delete(peer);
    if (reply === undefined || this.role === "dead") return;
    this.handle(() => this.onAppendReply(peer, args, reply, acknowledged));
  }

  private onAppendReply(
    peer: NodeId,
    args: AppendEntriesArgs,
    reply: AppendEntriesReply,
    acknowledged: number,
  ): void {
    if (reply.term > this.currentTerm) {
      this.becomeFollower(reply.term, `n${peer} replied to AppendEntries with a higher term`);
      return;
    }
    // A reply to an earlier term says nothing about this term's log on that peer.
    if (this.role !== "leader" || this.currentTerm !== args.term) {
      this.ignoreStale("AppendEntries", peer, args.term, reply.term, "a leader");
      return;
    }
    if (reply.success) this.onAppendAccepted(peer, args);
    else this.onAppendRejected(peer, args, reply, acknowledged);
    this.replicate(peer);
  }

  /**
   * Figure 2, Leaders: if successful, update nextIndex and matchIndex for the follower. Replies
   * can arrive out of order or twice, so both only move forward: an old reply confirming fewer
   * entries must not make the leader forget that the follower holds more.
   */
  private onAppendAccepted(peer: NodeId, args: AppendEntriesArgs): void {
    const match = Math.max(args.prevLogIndex + args.entries.length, this.matchIndex.get(peer)!);
    const next = Math.max(match + 1, this.nextIndex.get(peer)!);
    if (match !== this.matchIndex.get(peer) || next !== this.nextIndex.get(peer)) {
      this.setProgress(peer, next, match, `n${peer} holds [${match}]`);
    }
    this.advanceCommitIndex();
  }

  /**
   * Figure 2, Leaders: if AppendEntries fails because of log inconsistency, decrement nextIndex
   * and retry. Only a refusal of the current probe moves it (a late refusal of an earlier one
   * would back up twice), and never to or below matchIndex, which is known to match. With
   * fastBacktracking (§5.3: "the follower can include the term of the conflicting entry and the
   * first index it stores for that term"), it backs up past a whole term of the follower's at once.
   */
  private onAppendRejected(
    peer: NodeId,
    args: AppendEntriesArgs,
    reply: AppendEntriesReply,
    acknowledged: number,
  ): void {
    this.checkNotLost(peer, args, reply, acknowledged);
    const next = this.nextIndex.get(peer)!;
    const match = this.matchIndex.get(peer)!;
    if (args.prevLogIndex + 1 !== next || next - 1 <= match) return;
    const hint = this.config.fastBacktracking ? this.afterConflict(reply) : undefined;
    const back = Math.max(match + 1, Math.min(next - 1, hint ?? next - 1));
    this.setProgress(
      peer,
      back,
      match,
      `n${peer} lacks [${args.prevLogIndex}] T${args.prevLogTerm}`,
    );
  }

  /**
   * Where to probe next from a refusal's hint: just after this leader's last entry of the
   * follower's conflicting term, if it has that term (their logs may match up to there), else
   * the first index the follower holds of it (or its length + 1): everything from there differs.
   */
  private afterConflict(reply: AppendEntriesReply): number | undefined {
    if (reply.conflictIndex === undefined) return undefined;
    if (reply.conflictTerm === undefined) return reply.conflictIndex;
    const first = this.lastIncludedIndex; // terms before it are gone with the snapshot (§7)
    for (let i = this.lastLogIndex(); i > first && this.termAt(i) >= reply.conflictTerm; i--) {
      if (this.termAt(i) === reply.conflictTerm) return i + 1;
    }
    return reply.conflictIndex;
  }

  /**
   * A refusal of an entry the follower had acknowledged in this term before the request left, or
   * a log shorter than that: the follower lost data it said was durable (its disk was wiped or
   * damaged). Raft's guarantees rest on no server forgetting what it acknowledged, so the leader
   * does not quietly send it all again: it says so, once per follower and term, and goes on
   * without it (it still counts for no new entry). Bringing such a server back is a membership
   * change, or a restore of its data folder.
   */
  private checkNotLost(
    peer: NodeId,
    args: AppendEntriesArgs,
    reply: AppendEntriesReply,
    acknowledged: number,
  ): void {
    const shorter = reply.conflictTerm === undefined && reply.conflictIndex !== undefined;
    const holds = shorter ? reply.conflictIndex! - 1 : undefined;
    const lost = args.prevLogIndex <= acknowledged || (holds !== undefined && holds < acknowledged);
    if (!lost || this.lostDataReported.has(peer)) return;
    this.lostDataReported.add(peer);
    this.env.trace("data.lost", {
      peer,
      acknowledged,
      refused: args.prevLogIndex,
      ...(holds === undefined ? {} : { holds }),
    });
  }

  /** Records what this leader knows of `peer`'s log (Figure 2, volatile state on leaders). */
  private setProgress(peer: NodeId, nextIndex: number, matchIndex: number, reason: string): void {
    this.nextIndex.set(peer, nextIndex);
    this.matchIndex.set(peer, matchIndex);
    this.env.trace("progress", { peer, nextIndex, matchIndex, reason });
  }

  /**
   * Figure 2, Leaders: if there is an N > commitIndex with matchIndex >= N on a majority and
   * log[N].term == currentTerm, set commitIndex = N. Only an entry of the current term is
   * committed by counting replicas (§5.4.2): Figure 8 shows an older entry stored on a majority
   * and then overwritten. Older entries commit with it, by the Log Matching Property.
   */
  private advanceCommitIndex(): void {
    // This server's own copy counts: it is durable, since no follower can hold an entry this
    // leader has not saved (entries leave only after flush has saved them).
    const held = [this.lastLogIndex(), ...this.peerIds.map((peer) => this.matchIndex.get(peer)!)];
    // Sorted from the most, the index the majority-th server holds is the highest N on a
    // majority: found at once, not by trying each N down from the last entry (a leader cut off
    // from its majority keeps taking commands, and would try them all on every reply).
    held.sort((a, b) => b - a);
    const n = held[Math.floor(held.length / 2)]!;
    // Terms never decrease along the log: if N is not of the current term, no higher entry that
    // a majority holds is either.
    if (n <= this.commitIndex || this.termAt(n) !== this.currentTerm) return;
    const replicas = held.filter((index) => index >= n).length;
    this.setCommitIndex(n, `stored on ${replicas} of ${held.length} servers`);
  }

  // ---- Snapshots: the leader's side of InstallSnapshot (Figure 13) ----

  /**
   * Sends `peer` the next chunk of this leader's snapshot: at most snapshotChunkSize characters
   * of its text, in order from offset 0, `done` on the last. One chunk at a time: the next one
   * goes when this one is answered, or this one again with a heartbeat if its answer is overdue.
   * A newer snapshot taken meanwhile starts over at offset 0.
   */
  private sendSnapshotChunk(peer: NodeId): void {
    const sending = this.snapshotOffset.get(peer);
    const offset = sending?.lastIncludedIndex === this.lastIncludedIndex ? sending.offset : 0;
    this.snapshotOffset.set(peer, { lastIncludedIndex: this.lastIncludedIndex, offset });
    const data = this.snapshotData.slice(offset, offset + this.config.snapshotChunkSize);
    const args: InstallSnapshotArgs = {
      term: this.currentTerm,
      leaderId: this.id,
      lastIncludedIndex: this.lastIncludedIndex,
      lastIncludedTerm: this.lastIncludedTerm,
      offset,
      data,
      done: offset + data.length >= this.snapshotData.length,
    };
    this.inFlight.set(peer, { args, sentAt: this.env.clock.now() });
    this.send(() => this.installSnapshot(peer, args));
  }

  private async installSnapshot(peer: NodeId, args: InstallSnapshotArgs): Promise<void> {
    let reply: InstallSnapshotReply | undefined;
    try {
      reply = await this.env.transport.installSnapshot(peer, args);
    } catch {
      // Lost or timed out: the next heartbeat sends the chunk again.
    }
    if (this.inFlight.get(peer)?.args === args) this.inFlight.delete(peer);
    if (reply === undefined || this.role === "dead") return;
    this.handle(() => this.onSnapshotReply(peer, args, reply));
  }

  private onSnapshotReply(
    peer: NodeId,
    args: InstallSnapshotArgs,
    reply: InstallSnapshotReply,
  ): void {
    if (reply.term > this.currentTerm) {
      this.becomeFollower(reply.term, `n${peer} replied to InstallSnapshot with a higher term`);
      return;
    }
    if (this.role !== "leader" || this.currentTerm !== args.term) {
      this.ignoreStale("InstallSnapshot", peer, args.term, reply.term, "a leader");
      return;
    }
    if (reply.success && args.done) this.onSnapshotInstalled(peer, args);
    else this.onChunkAnswered(peer, args, reply.success);
    this.replicate(peer);
  }

  /**
   * The follower holds the whole snapshot, so every entry through its lastIncludedIndex: its
   * entries from there on go by AppendEntries. As with an accepted AppendEntries, nextIndex and
   * matchIndex only move forward; and the answer counts even when this leader has since taken a
   * newer snapshot, which it then sends in turn (etcd's snapshot_succeed_via_app_resp_behind).
   */
  private onSnapshotInstalled(peer: NodeId, args: InstallSnapshotArgs): void {
    if (this.snapshotOffset.get(peer)?.lastIncludedIndex === args.lastIncludedIndex) {
      this.snapshotOffset.delete(peer);
    }
    const match = Math.max(args.lastIncludedIndex, this.matchIndex.get(peer)!);
    const next = Math.max(match + 1, this.nextIndex.get(peer)!);
    if (match !== this.matchIndex.get(peer) || next !== this.nextIndex.get(peer)) {
      this.setProgress(peer, next, match, `n${peer} installed the snapshot through [${match}]`);
    }
  }

  /**
   * Figure 13, rule 4's other side: a chunk taken, so the next one goes; a chunk refused (the
   * follower holds no snapshot it continues), so the snapshot goes again from offset 0. Only an
   * answer to the chunk now being sent counts: a late or duplicated one for an earlier chunk, or
   * for an older snapshot, changes nothing. An answer to any copy of the chunk now being sent
   * (one went again with a heartbeat) lets the next go at once.
   */
  private onChunkAnswered(peer: NodeId, args: InstallSnapshotArgs, taken: boolean): void {
    const sending = this.snapshotOffset.get(peer);
    if (sending?.lastIncludedIndex !== args.lastIncludedIndex || sending.offset !== args.offset) {
      return;
    }
    sending.offset = taken ? args.offset + args.data.length : 0;
    this.inFlight.delete(peer);
  }

  // ---- Receivers ----

  /** Answers a RequestVote once what the answer depends on is durable (see flush). */
  handleRequestVote(args: RequestVoteArgs): RequestVoteReply {
    return this.answer(() => this.voteOn(args));
  }

  /** Answers an AppendEntries once the entries it stored are durable (see flush). */
  handleAppendEntries(args: AppendEntriesArgs): AppendEntriesReply {
    return this.answer(() => this.appendOn(this.afterSnapshot(args)));
  }

  /** Answers an InstallSnapshot once the snapshot it installed is durable (see flush). */
  handleInstallSnapshot(args: InstallSnapshotArgs): InstallSnapshotReply {
    return this.answer(() => this.installOn(args));
  }

  /** Figure 2, RequestVote RPC, receiver implementation. */
  private voteOn(args: RequestVoteArgs): RequestVoteReply {
    if (args.term > this.currentTerm) {
      this.becomeFollower(args.term, `RequestVote from n${args.candidateId} has a higher term`);
    }
    const refuse = (reason: string): RequestVoteReply => {
      this.traceVote(args, false, reason);
      return { term: this.currentTerm, voteGranted: false };
    };
    // Receiver rule 1: reply false if term < currentTerm (§5.1).
    if (args.term < this.currentTerm) return refuse(`stale term (own term ${this.currentTerm})`);
    // Receiver rule 2: grant only if votedFor is null or candidateId: one vote per term (§5.2).
    if (this.votedFor !== null && this.votedFor !== args.candidateId) {
      return refuse(`already voted for n${this.votedFor} in term ${this.currentTerm}`);
    }
    // ... and candidate's log is at least as up-to-date as receiver's log (§5.4.1): a later last
    // term wins, and with equal last terms the longer log. So a leader holds every committed entry.
    const lastIndex = this.lastLogIndex();
    const lastTerm = this.termAt(lastIndex);
    if (
      args.lastLogTerm < lastTerm ||
      (args.lastLogTerm === lastTerm && args.lastLogIndex < lastIndex)
    ) {
      return refuse(
        `the voter's log (last term ${lastTerm}, index ${lastIndex}) is more up to date than the candidate's (last term ${args.lastLogTerm}, index ${args.lastLogIndex})`,
      );
    }
    this.setVotedFor(args.candidateId);
    // Figure 2, Followers: granting a vote restarts the election timer.
    this.resetElectionTimer();
    this.traceVote(args, true, "has not voted for anyone else in this term");
    return { term: this.currentTerm, voteGranted: true };
  }

  /** Figure 2, AppendEntries RPC, receiver implementation. */
  private appendOn(args: AppendEntriesArgs): AppendEntriesReply {
    // Receiver rule 1, and what any request from a leader does first (see heardFromLeader).
    if (!this.heardFromLeader(args.term, args.leaderId, "AppendEntries")) {
      return { term: this.currentTerm, success: false };
    }
    // Receiver rule 2: reply false if the log has no entry at prevLogIndex whose term matches
    // prevLogTerm (§5.3). The leader then backs up and retries with an earlier prefix; the
    // conflict hint tells it how far.
    if (
      args.prevLogIndex > this.lastLogIndex() ||
      this.termAt(args.prevLogIndex) !== args.prevLogTerm
    ) {
      return { term: this.currentTerm, success: false, ...this.conflictAt(args.prevLogIndex) };
    }
    this.storeEntries(args.prevLogIndex + 1, args.entries);
    // Receiver rule 5: if leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index
    // of last new entry). Entries after the ones this request verified may still be a deposed
    // leader's and must not be committed; a stale request may verify fewer than are committed.
    const lastVerified = args.prevLogIndex + args.entries.length;
    const commit = Math.min(args.leaderCommit, lastVerified);
    if (commit > this.commitIndex) this.setCommitIndex(commit, `n${args.leaderId} committed it`);
    return { term: this.currentTerm, success: true };
  }

  /**
   * What AppendEntries and InstallSnapshot do first: Figure 2's rules for all servers and receiver
   * rule 1 of both. Returns whether the request comes from the leader of this node's term and is
   * to be handled; false means reply false with this node's term.
   */
  private heardFromLeader(term: number, leaderId: NodeId, rpc: RpcName): boolean {
    if (term > this.currentTerm) {
      this.becomeFollower(term, `${rpc} from n${leaderId} has a higher term`);
    }
    // Receiver rule 1: reply false if term < currentTerm (§5.1). The stale leader learns the
    // newer term from the reply and steps down.
    if (term < this.currentTerm) return false;
    // Same term: there is a leader for it, so a candidate of this term has lost (§5.2). Its vote
    // for itself stands: votedFor is left alone, so it cannot vote again in this term.
    if (this.role === "candidate") {
      this.becomeFollower(term, `n${leaderId} is leader of term ${term}`);
    }
    // Two leaders in one term would break Election Safety; the safety checks report it if it
    // happens. Refusing keeps this node from running a leader's and a follower's timers at once.
    if (this.role === "leader") return false;
    // Figure 2, Followers: hearing from the current leader restarts the election timer.
    this.resetElectionTimer();
    this.leaderId = leaderId;
    return true;
  }

  /**
   * §7: an AppendEntries whose prevLogIndex is inside this server's snapshot (a late or
   * duplicated one, or one sent before the leader knew of the snapshot) is read from the
   * snapshot's last entry on. The entries the snapshot holds are committed, so the leader's are the
   * same (Leader Completeness): only those after lastIncludedIndex are checked and stored.
   */
  private afterSnapshot(args: AppendEntriesArgs): AppendEntriesArgs {
    if (args.prevLogIndex >= this.lastIncludedIndex) return args;
    return {
      ...args,
      prevLogIndex: this.lastIncludedIndex,
      prevLogTerm: this.lastIncludedTerm,
      entries: args.entries.slice(this.lastIncludedIndex - args.prevLogIndex),
    };
  }

  /** §5.3: the term of this server's entry at `index` and the first index it holds of that term. */
  private conflictAt(index: number): { conflictTerm?: number; conflictIndex: number } {
    if (index > this.lastLogIndex()) return { conflictIndex: this.lastLogIndex() + 1 };
    const conflictTerm = this.termAt(index);
    let first = index;
    // Terms before the snapshot's last entry are gone (§7): the hint starts there at the earliest.
    while (first > this.lastIncludedIndex + 1 && this.termAt(first - 1) === conflictTerm) first--;
    return { conflictTerm, conflictIndex: first };
  }

  /**
   * Receiver rules 3 and 4: if an existing entry conflicts with a new one (same index, different
   * terms), delete it and all that follow; append any new entries not already in the log. An
   * entry with the same index and term is the same entry (Log Matching), so it stays, and so
   * does everything after it: a delayed or duplicated request must not cut off newer entries.
   */
  private storeEntries(firstIndex: number, entries: readonly LogEntry[]): void {
    for (let i = 0; i < entries.length; i++) {
      const index = firstIndex + i;
      if (index <= this.lastLogIndex() && this.termAt(index) === entries[i]!.term) continue;
      if (index <= this.lastLogIndex()) this.truncateLog(index);
      this.appendToLog(entries.slice(i));
      return;
    }
  }

  /** Figure 13, InstallSnapshot RPC, receiver implementation. */
  private installOn(args: InstallSnapshotArgs): InstallSnapshotReply {
    // Receiver rule 1: reply immediately if term < currentTerm (in heardFromLeader).
    if (!this.heardFromLeader(args.term, args.leaderId, "InstallSnapshot")) {
      return { term: this.currentTerm, success: false };
    }
    // A snapshot through an entry this node has committed brings nothing: it holds that state
    // already (in its log or its own snapshot), and installing it would take its state machine
    // back. Taken as received, so that the leader goes on with the entries after it.
    if (args.lastIncludedIndex <= this.commitIndex) {
      this.traceChunk(args, true, `it has committed [${this.commitIndex}] already`);
      return { term: this.currentTerm, success: true };
    }
    // Receiver rules 2 and 3: a new snapshot if first chunk (offset is 0); write the data into it
    // at the given offset.
    const received = receiveChunk(this.incoming, args);
    if ("refused" in received) {
      this.traceChunk(args, false, received.refused);
      return { term: this.currentTerm, success: false };
    }
    this.incoming = received.snapshot;
    this.traceChunk(args, true, `it now holds ${received.snapshot.data.length} characters of it`);
    // Receiver rule 4: reply and wait for more data chunks if done is false.
    if (!args.done) return { term: this.currentTerm, success: true };
    this.incoming = null;
    const data = received.snapshot.data.slice(0, args.offset + args.data.length);
    this.install(args.lastIncludedIndex, args.lastIncludedTerm, data, args.leaderId);
    return { term: this.currentTerm, success: true };
  }

  /**
   * Figure 13, receiver rules 5 to 8, once the last chunk is in, for a snapshot through an entry
   * after commitIndex (installOn made sure). commitIndex and lastApplied move to its last entry:
   * a snapshot holds only committed, applied state.
   */
  private install(index: number, term: number, data: string, leaderId: NodeId): void {
    // Rule 6: if an existing log entry has the same index and term as the snapshot's last
    // included entry, retain the log entries following it (the leader's, by Log Matching).
    const retain = index <= this.lastLogIndex() && this.termAt(index) === term;
    // Rule 5: save the snapshot file (flush makes it durable before the reply leaves), discard
    // any existing or partial snapshot with a smaller index.
    this.compactLog(index, term);
    this.setSnapshot(data);
    // Rule 7: otherwise, discard the entire log.
    if (!retain && this.lastLogIndex() > index) this.truncateLog(index + 1);
    this.commitIndex = this.lastApplied = index;
    this.env.trace("snapshot.install", {
      ...this.snapshotSummary(),
      from: leaderId,
      kept: this.log.length,
    });
    // Rule 8: reset the state machine using the snapshot's contents.
    this.restoreStateMachine(`installed from n${leaderId}`);
  }

  private traceChunk(args: InstallSnapshotArgs, taken: boolean, reason: string): void {
    this.env.trace("snapshot.chunk", {
      from: args.leaderId,
      lastIncludedIndex: args.lastIncludedIndex,
      offset: args.offset,
      size: args.data.length,
      done: args.done,
      taken,
      reason,
    });
  }

  // ---- Persistence: nothing leaves this node before what it depends on is durable ----

  /**
   * The one way in: every event this node handles (a timer, a reply, a request, a submit) runs
   * here, and ends in a flush, so no handler can forget one, in this part or a later one. A
   * submit's flush comes at the end of the turn instead, so that the commands submitted in one
   * turn share one write and one round of AppendEntries.
   */
  private handle<T>(event: () => T, flush: "now" | "end of turn" = "now"): T {
    const result = event();
    if (flush === "now") this.flush();
    else this.flushSoon();
    return result;
  }

  /** Calls `callback` in `delayMs` as an event of this node (see handle). */
  private setTimer(delayMs: number, callback: () => void): Timer {
    return this.env.clock.setTimer(delayMs, () => this.handle(callback));
  }

  /** Queues a message (an RPC call) to go out at the next flush. */
  private send(message: () => Promise<void>): void {
    this.outbox.push(() => void message());
  }

  /** Handles a request, and returns its reply only after the flush that ends it. */
  private answer<T>(receive: () => T): T {
    const reply = this.handle(receive);
    // A node that could not save must not speak: the caller gets no reply, as from a crash.
    if (this.role === "dead") throw new Error(`n${this.id} has stopped and does not answer`);
    return reply;
  }

  private flushSoon(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.env.clock.setTimer(0, () => this.flush());
  }

  /**
   * The one door out of this node (etcd's Ready, in miniature). Every event the node handles ends
   * here (see handle). What changed in currentTerm, votedFor and the log since the last flush is
   * saved in one write (term and vote together); only then do the queued messages leave, and only
   * then does a leader count its own new entries. A change made anywhere is saved here, so no path
   * can forget it; a message queued anywhere waits here.
   */
  private flush(): void {
    this.flushScheduled = false;
    if (this.role === "dead") return;
    if (this.replicationWanted) {
      this.replicationWanted = false;
      for (const peer of this.peerIds) this.replicate(peer);
    }
    const changes = this.unsavedChanges();
    if (changes !== undefined && !this.save(changes)) return;
    for (const message of this.outbox.splice(0)) message();
    if (this.role === "leader") this.advanceCommitIndex(); // a cluster of one is its own majority
  }

  /**
   * What storage does not hold yet, or undefined if it holds everything. A new snapshot goes with
   * the log changes after it: storage discards its log through the snapshot, then applies them.
   */
  private unsavedChanges(): Changes | undefined {
    const changed = this.logUnsavedFrom;
    const from = changed === null ? null : Math.max(changed, this.lastIncludedIndex + 1);
    if (!this.hardStateUnsaved && from === null && !this.snapshotUnsaved) return undefined;
    return {
      ...(this.hardStateUnsaved
        ? { hardState: { currentTerm: this.currentTerm, votedFor: this.votedFor } }
        : {}),
      ...(this.snapshotUnsaved
        ? {
            snapshot: {
              lastIncludedIndex: this.lastIncludedIndex,
              lastIncludedTerm: this.lastIncludedTerm,
              data: this.snapshotData,
            },
          }
        : {}),
      ...(from === null ? {} : { log: { from, entries: this.entriesFrom(from) } }),
    };
  }

  /**
   * Saves `changes`, and says whether it could: a storage that fails stops the node, which must
   * not act on unsaved state.
   */
  private save(changes: Changes): boolean {
    try {
      this.env.storage.save(changes);
    } catch (error) {
      this.halt(error instanceof Error ? error.message : String(error));
      return false;
    }
    this.hardStateUnsaved = false;
    this.logUnsavedFrom = null;
    this.snapshotUnsaved = false;
    this.env.trace("persist", {
      currentTerm: this.currentTerm,
      votedFor: this.votedFor,
      hardState: changes.hardState !== undefined,
      ...(changes.snapshot === undefined
        ? {}
        : { snapshotIndex: changes.snapshot.lastIncludedIndex }),
      ...(changes.log === undefined
        ? {}
        : { logFrom: changes.log.from, entries: changes.log.entries.length }),
      lastLogIndex: this.lastLogIndex(),
    });
    return true;
  }

  /** Stops because storage failed: like a crash, but the node says why first. */
  private halt(reason: string): void {
    this.env.trace("halt", { reason });
    this.outbox.length = 0;
    this.stop();
  }

  // ---- State changes, each traced ----

  /**
   * Figure 2, Rules for All Servers: if an RPC request or response contains term T >
   * currentTerm, set currentTerm = T and convert to follower (§5.1). votedFor is cleared only when
   * the term moves: clearing it on a same-term step-down would let this node vote twice in a term.
   */
  private becomeFollower(term: number, reason: string): void {
    if (this.role === "leader") {
      this.heartbeatTimer?.cancel();
      this.heartbeatTimer = null;
    }
    // Role first, so that no event shows a leader already holding the newer term.
    if (this.role !== "follower") this.setRole("follower", reason);
    if (term > this.currentTerm) {
      this.setTerm(term, reason);
      this.setVotedFor(null);
    }
    // A candidate's timer is already running and keeps running; a former leader needs one.
    if (this.electionTimer === null) this.resetElectionTimer();
  }

  private setTerm(term: number, reason: string): void {
    if (term <= this.currentTerm) {
      throw new Error(`n${this.id}: term must only grow (${this.currentTerm} -> ${term})`);
    }
    const from = this.currentTerm;
    this.currentTerm = term;
    this.hardStateUnsaved = true;
    this.leaderId = null; // a new term's leader is not known until it is heard from
    this.env.trace("term", { from, to: term, reason });
  }

  private setVotedFor(candidate: NodeId | null): void {
    this.votedFor = candidate;
    this.hardStateUnsaved = true;
  }

  /** Appends after the last entry; the trace names the index of the first one appended. */
  private appendToLog(entries: readonly LogEntry[]): void {
    const index = this.lastLogIndex() + 1;
    this.log.push(...entries);
    this.logUnsavedFrom = Math.min(this.logUnsavedFrom ?? index, index);
    this.env.trace("log.append", { index, entries });
  }

  /** Removes the entries from index `from` on. Only a follower does this; never a leader. */
  private truncateLog(from: number): void {
    const removed = this.lastLogIndex() - from + 1;
    this.log.length = from - this.lastIncludedIndex - 1;
    this.logUnsavedFrom = Math.min(this.logUnsavedFrom ?? from, from);
    this.env.trace("log.truncate", { from, removed });
  }

  /**
   * §7: discards the entries through `through`, which a snapshot now holds; those after it stay.
   * lastIncludedIndex and lastIncludedTerm move with it: they are where the log now starts.
   */
  private compactLog(through: number, term: number): void {
    const removed = Math.max(0, Math.min(through, this.lastLogIndex()) - this.lastIncludedIndex);
    this.log.splice(0, removed);
    this.lastIncludedIndex = through;
    this.lastIncludedTerm = term;
    this.env.trace("log.compact", { through, term, removed });
  }

  /** The state as of lastIncludedIndex, as JSON text, is the snapshot now: saved at the next flush. */
  private setSnapshot(data: string): void {
    this.snapshotData = data;
    this.snapshotDigest = digestOf(data);
    this.snapshotUnsaved = true;
    this.appliedBytes = 0;
  }

  /** §7: the state machine's `data` (JSON text) as of entry `index` becomes the snapshot. */
  private takeSnapshot(index: number, data: string, reason: string): void {
    this.compactLog(index, this.termAt(index));
    this.setSnapshot(data);
    this.env.trace("snapshot.take", { ...this.snapshotSummary(), reason });
  }

  /** Hands the snapshot to the state machine, which resets to it (Figure 13, receiver rule 8). */
  private restoreStateMachine(reason: string): void {
    const data = JSON.parse(this.snapshotData) as unknown;
    const { lastIncludedIndex, lastIncludedTerm } = this;
    this.env.trace("snapshot.restore", { ...this.snapshotSummary(), reason });
    for (const listener of this.restoreListeners) {
      listener({ lastIncludedIndex, lastIncludedTerm, data });
    }
  }

  /** The snapshot kept now, as the trace describes it. */
  private snapshotSummary(): SnapshotSummary {
    return {
      lastIncludedIndex: this.lastIncludedIndex,
      lastIncludedTerm: this.lastIncludedTerm,
      size: this.snapshotData.length,
      digest: this.snapshotDigest,
    };
  }

  /** Figure 2, All Servers: if commitIndex > lastApplied, apply log[lastApplied + 1], and so on. */
  private setCommitIndex(index: number, reason: string): void {
    const from = this.commitIndex;
    this.commitIndex = index;
    this.env.trace("commit", { from, to: index, reason });
    this.applyCommitted();
  }

  private applyCommitted(): void {
    // lastApplied moves before each delivery, so a listener that submits (and so may commit and
    // apply again, in a cluster of one) cannot make an entry go out twice or out of order.
    while (this.lastApplied < this.commitIndex) {
      const index = ++this.lastApplied;
      const { term, command } = this.entryAt(index);
      this.env.trace("apply", { index, term, command });
      for (const listener of this.applyListeners) listener({ index, term, command });
      this.snapshotIfDue(command);
    }
  }

  /**
   * §7, the policy: once snapshotAfterEntries entries, or snapshotAfterBytes bytes of commands,
   * have been applied since the last snapshot, the state machine's state as of the entry just
   * applied becomes the snapshot. Checked after every entry, so the log never holds more applied
   * entries than that.
   */
  private snapshotIfDue(command: unknown): void {
    this.appliedBytes += JSON.stringify(command).length;
    const { snapshotAfterEntries: entries, snapshotAfterBytes: bytes } = this.config;
    const applied = this.lastApplied - this.lastIncludedIndex;
    const byCount = entries > 0 && applied >= entries;
    if (this.takeState === null || !(byCount || (bytes > 0 && this.appliedBytes >= bytes))) return;
    const state = this.takeState();
    const problem = jsonProblem(state, "the state machine's snapshot");
    if (problem !== undefined) throw new TypeError(`snapshot refused: ${problem}`);
    const why = byCount
      ? `${applied} entries applied since the last snapshot`
      : `${this.appliedBytes} bytes of commands applied since the last snapshot`;
    this.takeSnapshot(this.lastApplied, JSON.stringify(state), why);
  }

  private setRole(role: Role, reason: string): void {
    const from = this.role;
    this.role = role;
    this.env.trace("role", { from, to: role, reason });
  }

  /** Traces a reply ignored because the election or the term it answers is over. */
  private ignoreStale(
    rpc: RpcName,
    from: NodeId,
    requestTerm: number,
    replyTerm: number,
    what: string,
  ): void {
    const reason = `answers ${what} of term ${requestTerm}; now ${this.role} in term ${this.currentTerm}`;
    this.env.trace("reply.stale", { rpc, from, requestTerm, replyTerm, reason });
  }

  private traceVote(args: RequestVoteArgs, granted: boolean, reason: string): void {
    this.env.trace("vote", {
      candidate: args.candidateId,
      candidateTerm: args.term,
      granted,
      reason,
    });
  }
}
