// The Raft consensus module, part 1: leader election (Raft paper §5.1-5.2 and the election half
// of Figure 2). It is only the algorithm: the network, the clock and randomness come in through
// `Environment`, so the same code runs in the deterministic simulation and on a real network.
//
// Start reading at `startElection` (a follower's timer ran out) and `handleRequestVote` (what a
// voter decides); `becomeFollower` holds the rule every RPC obeys: a higher term wins.

import type { Clock, Timer } from "./clock.ts";
import type { Random } from "./random.ts";
import type { NodeKinds, RpcName, TraceKinds } from "./trace.ts";

export type NodeId = number;
export type Role = "follower" | "candidate" | "leader" | "dead";

// The RPCs of Figure 2, with the fields that leader election uses. Part 2 adds the log fields.

export interface RequestVoteArgs {
  term: number;
  candidateId: NodeId;
}

export interface RequestVoteReply {
  term: number;
  voteGranted: boolean;
}

export interface AppendEntriesArgs {
  term: number;
  leaderId: NodeId;
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
}

export const defaultRaftConfig: RaftConfig = {
  electionTimeoutMinMs: 150,
  electionTimeoutMaxMs: 300,
  heartbeatIntervalMs: 50,
};

/** A snapshot of a node's state, for tests and tools. */
export interface NodeState {
  id: NodeId;
  currentTerm: number;
  votedFor: NodeId | null;
  role: Role;
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

  // Volatile state.
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
    return { id: this.id, currentTerm: this.currentTerm, votedFor: this.votedFor, role: this.role };
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
    const args: RequestVoteArgs = { term: this.currentTerm, candidateId: this.id };
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
    this.sendHeartbeats();
  }

  private sendHeartbeats(): void {
    const args: AppendEntriesArgs = { term: this.currentTerm, leaderId: this.id };
    for (const peer of this.peerIds) void this.appendEntries(peer, args);
    this.heartbeatTimer = this.env.clock.setTimer(this.config.heartbeatIntervalMs, () =>
      this.sendHeartbeats(),
    );
  }

  private async appendEntries(peer: NodeId, args: AppendEntriesArgs): Promise<void> {
    let reply: AppendEntriesReply;
    try {
      reply = await this.env.transport.appendEntries(peer, args);
    } catch {
      return; // the next heartbeat tries again
    }
    if (this.role === "dead") return;
    if (reply.term > this.currentTerm) {
      this.becomeFollower(reply.term, `n${peer} replied to AppendEntries with a higher term`);
    }
    // Heartbeats carry no entries in part 1, so a reply holds nothing else to act on.
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
    this.votedFor = args.candidateId;
    // Figure 2, Followers: granting a vote restarts the election timer.
    this.resetElectionTimer();
    this.traceVote(args, true, "has not voted for anyone else in this term");
    return { term: this.currentTerm, voteGranted: true };
  }

  /** Figure 2, AppendEntries RPC, receiver implementation (heartbeats only in part 1). */
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
    return { term: this.currentTerm, success: true };
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
