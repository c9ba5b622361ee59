// The Raft consensus module, part 2: leader election (Raft paper §5.1-5.2) and log replication
// with commitment (§5.3-5.4): all of Figure 2 except persistence. It is only the algorithm: the
// network, the clock and randomness come in through `Environment`, so the same code runs in the
// deterministic simulation and on a real network.
//
// Start reading at `startElection` (a follower's timer ran out) and `handleRequestVote` (what a
// voter decides); `becomeFollower` holds the rule every RPC obeys: a higher term wins. Then the
// log: `submit` (a leader appends a command), `sendAppendEntries` (what a leader sends each
// follower), `handleAppendEntries` (the follower's consistency check), `onAppendAccepted` and
// `advanceCommitIndex` (when an entry is committed) and `applyCommitted` (delivery in order).

import type { Clock, Timer } from "./clock.ts";
import { jsonProblem } from "./json.ts";
import type { Random } from "./random.ts";
import type { NodeKinds, RpcName, TraceKinds } from "./trace.ts";

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
}

/** How a node calls its peers. A call rejects if no reply comes back in time. */
export interface Transport {
  requestVote(to: NodeId, args: RequestVoteArgs): Promise<RequestVoteReply>;
  appendEntries(to: NodeId, args: AppendEntriesArgs): Promise<AppendEntriesReply>;
}

/** Everything outside the algorithm. */
export interface Environment {
  clock: Clock;
  random: Random;
  transport: Transport;
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
}

export const defaultRaftConfig: RaftConfig = {
  electionTimeoutMinMs: 150,
  electionTimeoutMaxMs: 300,
  heartbeatIntervalMs: 50,
  maxEntriesPerAppend: 100,
};

/** A snapshot of a node's state, for tests and tools. */
export interface NodeState {
  id: NodeId;
  currentTerm: number;
  votedFor: NodeId | null;
  role: Role;
  lastLogIndex: number;
  commitIndex: number;
  lastApplied: number;
}

export class RaftNode {
  readonly id: NodeId;
  readonly peerIds: readonly NodeId[];
  private readonly env: Environment;
  private readonly config: RaftConfig;

  // Persistent state on all servers (Figure 2). Kept in memory here; part 3 makes it durable.
  /** Latest term this server has seen: starts at 0 and never goes down. */
  private currentTerm = 0;
  /** Candidate that received this server's vote in currentTerm, or null. */
  private votedFor: NodeId | null = null;
  /** Log entries; entry i (1-based) is log[i - 1]. Read it through `termAt` and `lastLogIndex`. */
  private log: LogEntry[] = [];

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
   * request instead of sending every entry once per submit.
   */
  private inFlight = new Map<NodeId, { args: AppendEntriesArgs; sentAt: number }>();

  /** Receivers of committed entries: the state machine. */
  private readonly applyListeners: ((entry: AppliedEntry) => void)[] = [];

  // Other volatile state.
  private role: Role = "follower";
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
  }

  /** Starts as a follower (§5.2: "When servers start up, they begin as followers"). */
  start(): void {
    // A second start would run a second set of timers beside the first.
    if (this.electionTimer !== null || this.heartbeatTimer !== null || this.role === "dead") {
      throw new Error(`n${this.id}: start() may be called once, before stop()`);
    }
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
      commitIndex: this.commitIndex,
      lastApplied: this.lastApplied,
    };
  }

  /** A copy of the log, for tests and tools. */
  getLog(): LogEntry[] {
    return this.log.slice();
  }

  /** Calls `listener` with every entry this node applies from now on, in index order. */
  onApply(listener: (entry: AppliedEntry) => void): void {
    this.applyListeners.push(listener);
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
      this.env.trace("submit", { command, refused: `n${this.id} is ${this.role}, not leader` });
      return { isLeader: false };
    }
    const index = this.lastLogIndex() + 1;
    this.env.trace("submit", { command, index, term: this.currentTerm });
    this.appendToLog([{ term: this.currentTerm, command }]);
    this.advanceCommitIndex(); // a cluster of one is its own majority
    // Replication starts now, not at the next heartbeat.
    for (const peer of this.peerIds) this.replicate(peer);
    return { isLeader: true, index, term: this.currentTerm };
  }

  // ---- The log (1-based; index 0 is the empty prefix, with term 0) ----

  private lastLogIndex(): number {
    return this.log.length;
  }

  private termAt(index: number): number {
    return index === 0 ? 0 : this.log[index - 1]!.term;
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
    this.electionTimer = this.env.clock.setTimer(timeoutMs, () => {
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
    this.votedFor = this.id;
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
    for (const peer of this.peerIds) void this.requestVote(peer, args);
  }

  private async requestVote(peer: NodeId, args: RequestVoteArgs): Promise<void> {
    let reply: RequestVoteReply;
    try {
      reply = await this.env.transport.requestVote(peer, args);
    } catch {
      return; // lost or timed out: the election timer will start another election if needed
    }
    if (this.role === "dead") return;
    if (reply.term > this.currentTerm) {
      return this.becomeFollower(reply.term, `n${peer} replied to RequestVote with a higher term`);
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
    this.sendHeartbeats();
  }

  /** Each heartbeat also retries whatever a follower still lacks (lost requests, §5.3). */
  private sendHeartbeats(): void {
    for (const peer of this.peerIds) this.sendAppendEntries(peer);
    this.heartbeatTimer = this.env.clock.setTimer(this.config.heartbeatIntervalMs, () =>
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
    const last = this.awaitingReply(peer)
      ? next - 1
      : Math.min(this.lastLogIndex(), next - 1 + this.config.maxEntriesPerAppend);
    const args: AppendEntriesArgs = {
      term: this.currentTerm,
      leaderId: this.id,
      prevLogIndex: next - 1,
      prevLogTerm: this.termAt(next - 1),
      entries: this.log.slice(next - 1, last),
      leaderCommit: this.commitIndex,
    };
    if (args.entries.length > 0) this.inFlight.set(peer, { args, sentAt: this.env.clock.now() });
    void this.appendEntries(peer, args);
  }

  private async appendEntries(peer: NodeId, args: AppendEntriesArgs): Promise<void> {
    let reply: AppendEntriesReply | undefined;
    try {
      reply = await this.env.transport.appendEntries(peer, args);
    } catch {
      // Lost or timed out: the next heartbeat sends the entries again.
    }
    if (this.inFlight.get(peer)?.args === args) this.inFlight.delete(peer);
    if (reply === undefined || this.role === "dead") return;
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
    else this.onAppendRejected(peer, args);
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
   * would back up twice), and never to or below matchIndex, which is known to match.
   */
  private onAppendRejected(peer: NodeId, args: AppendEntriesArgs): void {
    const next = this.nextIndex.get(peer)!;
    const match = this.matchIndex.get(peer)!;
    if (args.prevLogIndex + 1 !== next || next - 1 <= match) return;
    this.setProgress(
      peer,
      next - 1,
      match,
      `n${peer} lacks [${args.prevLogIndex}] T${args.prevLogTerm}`,
    );
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

  // ---- Receivers ----

  /** Figure 2, RequestVote RPC, receiver implementation. */
  handleRequestVote(args: RequestVoteArgs): RequestVoteReply {
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
    this.votedFor = args.candidateId;
    // Figure 2, Followers: granting a vote restarts the election timer.
    this.resetElectionTimer();
    this.traceVote(args, true, "has not voted for anyone else in this term");
    return { term: this.currentTerm, voteGranted: true };
  }

  /** Figure 2, AppendEntries RPC, receiver implementation. */
  handleAppendEntries(args: AppendEntriesArgs): AppendEntriesReply {
    if (args.term > this.currentTerm) {
      this.becomeFollower(args.term, `AppendEntries from n${args.leaderId} has a higher term`);
    }
    // Receiver rule 1: reply false if term < currentTerm (§5.1). The stale leader learns the
    // newer term from the reply and steps down.
    if (args.term < this.currentTerm) return { term: this.currentTerm, success: false };
    // Same term: there is a leader for it, so a candidate of this term has lost (§5.2). Its vote
    // for itself stands: votedFor is left alone, so it cannot vote again in this term.
    if (this.role === "candidate") {
      this.becomeFollower(args.term, `n${args.leaderId} is leader of term ${args.term}`);
    }
    // Two leaders in one term would break Election Safety; the safety checks report it if it
    // happens. Refusing keeps this node from running a leader's and a follower's timers at once.
    if (this.role === "leader") return { term: this.currentTerm, success: false };
    // Figure 2, Followers: hearing from the current leader restarts the election timer.
    this.resetElectionTimer();
    // Receiver rule 2: reply false if the log has no entry at prevLogIndex whose term matches
    // prevLogTerm (§5.3). The leader then backs up and retries with an earlier prefix.
    if (
      args.prevLogIndex > this.lastLogIndex() ||
      this.termAt(args.prevLogIndex) !== args.prevLogTerm
    ) {
      return { term: this.currentTerm, success: false };
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
      this.votedFor = null;
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
    this.env.trace("term", { from, to: term, reason });
  }

  /** Appends after the last entry; the trace names the index of the first one appended. */
  private appendToLog(entries: readonly LogEntry[]): void {
    const index = this.lastLogIndex() + 1;
    this.log.push(...entries);
    this.env.trace("log.append", { index, entries });
  }

  /** Removes the entries from index `from` on. Only a follower does this; never a leader. */
  private truncateLog(from: number): void {
    const removed = this.log.length - from + 1;
    this.log.length = from - 1;
    this.env.trace("log.truncate", { from, removed });
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
      const { term, command } = this.log[index - 1]!;
      this.env.trace("apply", { index, term, command });
      for (const listener of this.applyListeners) listener({ index, term, command });
    }
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
