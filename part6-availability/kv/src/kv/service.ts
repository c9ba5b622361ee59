// The key/value service on one node (§8): it takes a client's request, puts it in the Raft log if
// this node leads, and answers once the entry it became has been applied. The same service runs
// in the simulation and in a real process; only the clock differs.
//
// A request waits for its own entry, matched by (index, term): when the entry at its index is
// applied, the term says whether it is the same entry. Another term there means this request's
// entry was lost with its leader's term and can never be applied (an index holds one committed
// entry, and this entry was only ever at that index): a definite failure. No answer in time means
// it may still be applied: an indefinite one. The waiter is in place before the entry exists.
//
// A get is a read: by default it takes no log entry (thesis §6.4, ReadIndex): the leader confirms
// with a heartbeat round that it still leads, after an entry of its term has committed, and the
// state machine answers once it has applied through the read index. `reads: "lease"` answers at
// once while the leader's lease holds (§6.4.1), safe only while clocks drift within the core's
// `clockDriftBound`; `reads: "log"` puts gets in the log like every other request, as part 5 did.
// With `followerReads`, a follower that knows its leader serves a get itself (§6.4): it asks the
// leader for a read index (the ReadIndex RPC), applies through it, and reads its own map, so
// reads spread over the cluster while the leader only confirms that it leads.
//
// The state machine's state goes into Raft's snapshots (§7): Raft asks for it when its policy
// says a snapshot is due (`snapshotSource`), and hands a snapshot back at start and when a leader
// installs one (`onRestore`), after which the entries it applies are those after the snapshot.

import type { AppliedEntry, NodeState, RaftNode } from "part6-availability";
import type { Clock, Timer } from "part6-availability/clock";
import type { RestoredSnapshot } from "part6-availability/snapshot";
import type { KvEntry, KvRequest, KvResponse } from "./commands.ts";
import { type Applied, KvStateMachine } from "./state-machine.ts";

export interface ServiceOptions {
  /** How long a request may wait for its entry to be applied before the answer is "maybe". */
  requestTimeoutMs: number;
  /** Entries after which an idle client's session is forgotten (state-machine.ts). */
  sessionWindow?: number;
  /** How a get is served: ReadIndex (§6.4), the leader's lease (§6.4.1), or an entry in the log. */
  reads: ReadMode;
  /** §6.4: a follower serves gets itself, at the read index its leader gives (not with "log"). */
  followerReads: boolean;
}

export type ReadMode = "readindex" | "lease" | "log";
export const READ_MODES: readonly ReadMode[] = ["readindex", "lease", "log"];

export const defaultServiceOptions: ServiceOptions = {
  requestTimeoutMs: 2000,
  reads: "readindex",
  followerReads: false,
};

interface Waiter {
  index: number;
  term: number;
  resolve: (response: KvResponse) => void;
  timer: Timer | undefined;
}

export class KvService {
  readonly machine: KvStateMachine;
  private readonly node: RaftNode;
  private readonly clock: Clock;
  private readonly options: ServiceOptions;
  /** Requests waiting for their entry, by the index it was given. */
  private readonly waiting = new Map<number, Waiter>();

  constructor(node: RaftNode, clock: Clock, options: Partial<ServiceOptions> = {}) {
    this.node = node;
    this.clock = clock;
    this.options = { ...defaultServiceOptions, ...options };
    this.machine = new KvStateMachine(this.options.sessionWindow);
    node.onApply((entry) => this.onApply(entry));
    node.snapshotSource(() => this.machine.snapshot());
    node.onRestore((snapshot) => this.onRestore(snapshot));
  }

  /** Takes one client request; answers when its entry is applied, or why it could not be. */
  handle(request: KvRequest): Promise<KvResponse> {
    const state = this.node.getState();
    if (request.command?.op === "get" && this.servesReads(state)) {
      return this.read(request.command.key);
    }
    if (state.role !== "leader") {
      return Promise.resolve({ status: "not-leader", leaderHint: state.leaderId });
    }
    const entry: KvEntry = { kind: "kv", ...request };
    return new Promise((resolve) => {
      // Subscribe first: a leader appends at the end of its log, in its term, so the waiter can
      // be in place for that (index, term) before the entry exists.
      const waiter: Waiter = {
        index: state.lastLogIndex + 1,
        term: state.currentTerm,
        resolve,
        timer: undefined,
      };
      this.waiting.set(waiter.index, waiter);
      const placed = this.node.submit(entry);
      if (!placed.isLeader || placed.index !== waiter.index || placed.term !== waiter.term) {
        this.waiting.delete(waiter.index);
        resolve({ status: "not-leader", leaderHint: this.node.getState().leaderId });
        return;
      }
      waiter.timer = this.clock.setTimer(this.options.requestTimeoutMs, () => this.timeOut(waiter));
    });
  }

  /** Whether this node serves a get without a log entry: as leader, or as a follower (§6.4). */
  private servesReads(state: NodeState): boolean {
    if (this.options.reads === "log") return false;
    if (state.role === "leader") return true;
    return this.options.followerReads && state.role === "follower" && state.leaderId !== null;
  }

  /**
   * §6.4: a get without a log entry. The core answers once this leader has confirmed it leads
   * (or by its lease) and applied through the read index: the map is then at least as new as
   * every write completed before the read arrived. A read that cannot be served had no effect:
   * a definite failure, or the leader the core now knows of. On a follower the core asks the
   * leader for the read index and applies through it before this reads the map.
   */
  private async read(key: string): Promise<KvResponse> {
    const read = this.options.reads === "lease" ? this.node.leaseRead() : this.node.readIndex();
    const result = await read;
    if (result.ok) {
      const value = this.machine.read(key);
      return {
        status: "ok",
        result: { value: value ?? null, existed: value !== undefined },
        index: result.readIndex,
      };
    }
    const leaderHint = this.node.getState().leaderId;
    if (leaderHint !== null && leaderHint !== this.node.getState().id) {
      return { status: "not-leader", leaderHint };
    }
    return { status: "failed", definite: true, error: `the read was not served: ${result.reason}` };
  }

  /** Every committed entry, in order: applied to the state machine, and answered if awaited. */
  private onApply(entry: AppliedEntry): void {
    const applied = this.machine.apply(entry.index, entry.command);
    const waiter = this.waiting.get(entry.index);
    if (waiter === undefined) return;
    this.finish(waiter, answerFor(entry, waiter, applied));
  }

  /**
   * The state machine is reset to a snapshot. A request still waiting for an entry the snapshot
   * stands for will not see it applied here: whether it was its own entry that the snapshot holds
   * is not known, so its answer is "maybe" (its client's retry is answered from the session).
   */
  private onRestore(snapshot: RestoredSnapshot): void {
    this.machine.restore(snapshot.data);
    for (const waiter of [...this.waiting.values()]) {
      if (waiter.index > snapshot.lastIncludedIndex) continue;
      const error = `a snapshot through [${snapshot.lastIncludedIndex}] replaced its entry [${waiter.index}]; it may have taken effect`;
      this.finish(waiter, { status: "failed", definite: false, error });
    }
  }

  private timeOut(waiter: Waiter): void {
    const error = `not applied within ${this.options.requestTimeoutMs} ms; it may still be`;
    this.finish(waiter, { status: "failed", definite: false, error });
  }

  private finish(waiter: Waiter, response: KvResponse): void {
    this.waiting.delete(waiter.index);
    waiter.timer?.cancel();
    waiter.resolve(response);
  }

  /** Stops waiting: every request still waiting gets an indefinite failure (the node stops). */
  close(): void {
    for (const waiter of [...this.waiting.values()]) {
      this.finish(waiter, { status: "failed", definite: false, error: "the node stopped" });
    }
  }
}

function answerFor(entry: AppliedEntry, waiter: Waiter, applied: Applied): KvResponse {
  if (entry.term !== waiter.term) {
    return {
      status: "failed",
      definite: true,
      error: `[${entry.index}] holds an entry of term ${entry.term}: this request's entry of term ${waiter.term} was lost with its leader and never took effect`,
    };
  }
  if (applied.kind === "result")
    return { status: "ok", result: applied.result, index: entry.index };
  if (applied.kind === "opened")
    return { status: "opened", session: applied.session, index: entry.index };
  if (applied.kind === "expired") {
    // Sessions are numbered by the entries that opened them: a forgotten one never comes back.
    const error = `session ${applied.session} is not open (idle too long, or never opened): this request did not run, but a copy of it may have run before; open a new session`;
    return { status: "session-expired", session: applied.session, error };
  }
  if (applied.kind === "superseded") {
    // It ran when first applied; this late copy did nothing, and its client has moved on.
    const error = `the client has sent request ${applied.latestSeq} since: this one is answered no more`;
    return { status: "failed", definite: false, error };
  }
  return { status: "failed", definite: true, error: "not a key/value request" };
}
