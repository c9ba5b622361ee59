// One consensus module with scripted peers: the test itself plays the other servers, answering
// (or not) each RPC the node sends. This pins down single rules of Figure 2 that a whole cluster
// would only reach by chance. The rules' tests (rules-*.test.ts) start from the scripted
// elections and logs at the end of this file.

import { expect } from "vitest";
import { VirtualClock } from "../src/clock.ts";
import type {
  AppendEntriesArgs,
  AppendEntriesReply,
  AppliedEntry,
  InstallSnapshotArgs,
  InstallSnapshotReply,
  LogEntry,
  NodeId,
  PreVoteArgs,
  PreVoteReply,
  RaftConfig,
  ReadIndexArgs,
  ReadIndexReply,
  RequestVoteArgs,
  RequestVoteReply,
  TimeoutNowArgs,
  TimeoutNowReply,
  Transport,
} from "../src/raft.ts";
import { RaftNode } from "../src/raft.ts";
import { SeededRandom } from "../src/random.ts";
import { SafetyChecker } from "../src/sim/safety.ts";
import { type Changes, MemoryStorage, type PersistentState } from "../src/storage.ts";
import { Tracer } from "../src/trace.ts";
import { currentSeed } from "./harness.ts";

interface Call<Args, Reply> {
  to: NodeId;
  args: Args;
  reply: (reply: Reply) => void;
  fail: () => void;
  /** What the node's storage held when the call left it. */
  durable: PersistentState;
}

/** A Transport whose calls wait until the test answers them. */
export class ScriptedPeers implements Transport {
  readonly voteRequests: Call<RequestVoteArgs, RequestVoteReply>[] = [];
  readonly appendRequests: Call<AppendEntriesArgs, AppendEntriesReply>[] = [];
  readonly snapshotRequests: Call<InstallSnapshotArgs, InstallSnapshotReply>[] = [];
  readonly preVoteRequests: Call<PreVoteArgs, PreVoteReply>[] = [];
  readonly timeoutNowRequests: Call<TimeoutNowArgs, TimeoutNowReply>[] = [];
  readonly readIndexRequests: Call<ReadIndexArgs, ReadIndexReply>[] = [];
  private readonly storage: MemoryStorage;

  constructor(storage: MemoryStorage) {
    this.storage = storage;
  }

  requestVote(to: NodeId, args: RequestVoteArgs): Promise<RequestVoteReply> {
    return this.call(this.voteRequests, to, args);
  }

  appendEntries(to: NodeId, args: AppendEntriesArgs): Promise<AppendEntriesReply> {
    return this.call(this.appendRequests, to, args);
  }

  installSnapshot(to: NodeId, args: InstallSnapshotArgs): Promise<InstallSnapshotReply> {
    return this.call(this.snapshotRequests, to, args);
  }

  preVote(to: NodeId, args: PreVoteArgs): Promise<PreVoteReply> {
    return this.call(this.preVoteRequests, to, args);
  }

  timeoutNow(to: NodeId, args: TimeoutNowArgs): Promise<TimeoutNowReply> {
    return this.call(this.timeoutNowRequests, to, args);
  }

  readIndex(to: NodeId, args: ReadIndexArgs): Promise<ReadIndexReply> {
    return this.call(this.readIndexRequests, to, args);
  }

  /** A call that waits in `calls` until the test answers it or fails it. */
  private call<Args, Reply>(calls: Call<Args, Reply>[], to: NodeId, args: Args): Promise<Reply> {
    return new Promise((reply, reject) => {
      const durable = this.storage.load();
      calls.push({ to, args, reply, fail: () => reject(new Error("no reply")), durable });
    });
  }
}

/** MemoryStorage that keeps every change it was asked to save, for tests to read. */
export class RecordingStorage extends MemoryStorage {
  readonly writes: Changes[] = [];

  override save(changes: Changes): void {
    this.writes.push(JSON.parse(JSON.stringify(changes)) as Changes);
    super.save(changes);
  }
}

/** RequestVote arguments; the candidate's log is empty unless its last index and term are given. */
export function voteArgs(
  term: number,
  candidateId: NodeId,
  lastLogIndex = 0,
  lastLogTerm = 0,
): RequestVoteArgs {
  return { term, candidateId, lastLogIndex, lastLogTerm };
}

/** AppendEntries arguments: a heartbeat on the empty prefix unless other fields are given. */
export function appendArgs(
  term: number,
  leaderId: NodeId,
  fields: Partial<AppendEntriesArgs> = {},
): AppendEntriesArgs {
  return {
    term,
    leaderId,
    prevLogIndex: 0,
    prevLogTerm: 0,
    entries: [],
    leaderCommit: 0,
    ...fields,
  };
}

/**
 * Part 6's options that change what a node under test does on its own (a timeout makes a candidate
 * at once, a leader nobody answers stays leader, a leader's messages wait for its save), off: the
 * tests of Figure 2's rules drive the node as Figure 2 has it. Part 6's own tests turn them on.
 */
export const figure2: Partial<RaftConfig> = {
  preVote: false,
  checkQuorum: false,
  parallelLeaderWrite: false,
};

/**
 * Node 0 with peers 1..n-1 played by the test. `beforeStart` attaches what must hear the node
 * from its start: a state machine, which gets the snapshot storage holds then (§7).
 */
export function nodeUnderTest(
  peerCount = 2,
  config: Partial<RaftConfig> = {},
  seed = currentSeed(),
  storage = new RecordingStorage(),
  beforeStart: (node: RaftNode) => void = () => {},
) {
  // A few seconds of virtual time is all a rule needs: a loop that never ends fails at this cap.
  const clock = new VirtualClock({ stepCap: 100_000 });
  const peers = new ScriptedPeers(storage);
  const safety = new SafetyChecker();
  const peerIds = Array.from({ length: peerCount }, (_, i) => i + 1);
  const tracer: Tracer = new Tracer(clock, () => {
    const s = node.getState();
    return { term: s.currentTerm, role: s.role };
  });
  const node: RaftNode = new RaftNode(
    0,
    peerIds,
    {
      clock,
      random: new SeededRandom(seed),
      transport: peers,
      storage,
      trace: (kind, details) => tracer.emit(0, kind, details),
    },
    { ...figure2, ...config },
  );
  tracer.subscribe((event) => safety.observe(event));
  beforeStart(node);
  node.start();
  return { node, clock, peers, tracer, safety, storage };
}

// ---- Scripted elections, for the rules' tests ----

/** Runs the node's clock until `done` holds (at most one second of virtual time). */
export async function runUntil(t: ReturnType<typeof nodeUnderTest>, done: () => boolean) {
  await t.clock.runUntil(t.clock.now() + 1000, done);
}

/** Runs a node until its first election and returns it as a candidate of term 1. */
export async function candidate(peerCount = 2) {
  const t = nodeUnderTest(peerCount);
  await runUntil(t, () => t.node.getState().role === "candidate");
  expect(t.node.getState()).toMatchObject({ role: "candidate", currentTerm: 1, votedFor: 0 });
  return t;
}

/** Elects the node leader of term 1 by granting it the votes it asks for. */
export async function leader() {
  const t = await candidate();
  for (const call of t.peers.voteRequests.splice(0)) call.reply({ term: 1, voteGranted: true });
  await t.clock.runFor(0);
  expect(t.node.getState().role).toBe("leader");
  return t;
}

// ---- Scripted logs, for the log rules' tests ----

export const entry = (term: number, command: unknown): LogEntry => ({ term, command });

/** A follower whose log holds `entries`, sent by n1 as leader of `term` in one request. */
export function follower(entries: LogEntry[], term = 1, leaderCommit = 0) {
  const t = nodeUnderTest();
  const reply = t.node.handleAppendEntries(appendArgs(term, 1, { entries, leaderCommit }));
  expect(reply.success).toBe(true);
  const applied: AppliedEntry[] = [];
  t.node.onApply((e) => applied.push(e));
  return { ...t, applied };
}

/** Node 0 elected leader of term 2 with `entries` (from a leader of term 1) in its log. */
export async function leaderWithLog(entries: LogEntry[], config: Partial<RaftConfig> = {}) {
  const t = nodeUnderTest(2, config);
  t.node.handleAppendEntries(appendArgs(1, 1, { entries }));
  await runUntil(t, () => t.node.getState().role === "candidate");
  const votesAsked = t.peers.voteRequests.splice(0);
  for (const call of votesAsked) call.reply({ term: 2, voteGranted: true });
  await t.clock.runFor(0);
  expect(t.node.getState()).toMatchObject({ role: "leader", currentTerm: 2 });
  const applied: AppliedEntry[] = [];
  t.node.onApply((e) => applied.push(e));
  /** The AppendEntries calls to `peer` not answered yet, oldest first. */
  const pending = (peer: number) => t.peers.appendRequests.filter((c) => c.to === peer);
  /** Removes and returns the oldest unanswered AppendEntries to `peer`. */
  const next = (peer: number) => {
    const i = t.peers.appendRequests.findIndex((c) => c.to === peer);
    return t.peers.appendRequests.splice(i, 1)[0]!;
  };
  return { ...t, applied, pending, next, votesAsked: votesAsked.map((c) => c.args) };
}
