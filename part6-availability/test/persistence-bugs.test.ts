// Goal: regression tests for the persistence bugs real implementations shipped: an election whose
// term and self-vote were not saved, a step-down on a higher term seen in a reply that was not
// saved, a same-term step-down that forgot the vote, stale vote replies counted, and a voter that
// forgot its vote across a crash. Method: a real cluster in virtual time on the simulated
// network, crashed by the cluster (`crash`, `restart` on the same storage) or by MemoryStorage's
// fault plan ("crash after durable": the node dies just after a save) at the step each bug got
// wrong. Every event goes through the safety checks (Figure 3) and the conformance checks
// (Durable before sent among them), which fail a test by themselves; the tests also check what
// each node restarts with.

import { describe, expect } from "vitest";
import type { NodeId } from "../src/raft.ts";
import type { EventOf, TraceEvent } from "../src/trace.ts";
import { Cluster, test } from "./harness.ts";
import { restartedWith, waitFor } from "./trace-reading.ts";

// ---- Helpers ----

/**
 * The bugs below are in how a candidate or a deposed leader saves its term; their scenarios make
 * a candidate of a node cut off from the others, which PreVote (part 6, §9.6) would keep from
 * campaigning at all, and keep a cut-off leader leading, which CheckQuorum (§6.2) would not.
 */
const figure2Elections = { preVote: false, checkQuorum: false };

/** A RequestVote request sent by `node` in `term` (to `to`, if given). */
function askedForVotes(node: NodeId, term: number, to?: NodeId) {
  return (e: EventOf<"send">) =>
    e.node === node &&
    e.details.rpc === "RequestVote" &&
    e.details.type === "request" &&
    e.details.payload.term === term &&
    (to === undefined || e.details.to === to);
}

/** Runs `action` inside the first event that matches, before the node that emitted it goes on. */
function onFirst(
  cluster: Cluster,
  match: (e: TraceEvent) => boolean,
  action: (e: TraceEvent) => void,
) {
  let done = false;
  cluster.tracer.subscribe((e) => {
    if (done || !match(e)) return;
    done = true;
    action(e);
  });
}

/** The node's next save makes its changes durable and then crashes it. */
function crashAfterNextSave(cluster: Cluster, id: NodeId): void {
  const storage = cluster.storage.get(id)!;
  const next = storage.saves + 1;
  storage.faults = (n) => (n === next ? "crash after durable" : undefined);
}

/** Runs until node `id` has stopped (its storage crashed it). */
async function untilDead(cluster: Cluster, id: NodeId): Promise<void> {
  await cluster.runUntil(cluster.clock.now() + 3000, () => cluster.state(id).role === "dead");
  expect(cluster.state(id).role).toBe("dead");
}

/** How a node dies right after a step: in its save (the fault plan), or once its messages left. */
type CrashPoint = "after its save" | "after its messages left";

/**
 * Lets `asker`'s RequestVote of `term` reach `voter` `delayMs` late, and restarts the crashed
 * `voter` just before it arrives (so the voter's new election timer, at least 150 ms, cannot run
 * out first). Returns the voter's answer to it.
 */
async function askRestartedVoter(
  cluster: Cluster,
  asker: NodeId,
  voter: NodeId,
  term: number,
  delayMs: number,
) {
  const asked = await waitFor(cluster, "send", askedForVotes(asker, term, voter));
  await cluster.runUntil(asked.t + delayMs - 1);
  expect(cluster.state(voter).role).toBe("dead");
  cluster.restart(voter);
  const since = cluster.tracer.events.length;
  return waitFor(
    cluster,
    "vote",
    (e) => e.node === voter && e.details.candidate === asker && e.details.candidateTerm === term,
    since,
  );
}

/**
 * Commits a first entry, then cuts the leader's links to the two others, and theirs to each other:
 * its heartbeats stop reaching them, and both become candidates of term + 1 that cannot reach each
 * other. Only their requests to the old leader, and its replies, still get through: its vote
 * decides. (What a node sends on a cut link is still traced as sent: the safety checks hold it to
 * what it said, even though nobody heard it.)
 */
async function twoCandidatesAround(cluster: Cluster) {
  await cluster.one(1, 3, true);
  const { leader, term } = await cluster.checkSingleLeader();
  const [x, y] = [(leader + 1) % 3, (leader + 2) % 3];
  for (const [from, to] of [
    [leader, x],
    [leader, y],
    [x, y],
    [y, x],
  ] as const)
    cluster.cut(from, to);
  return { leader, term, x, y };
}

/** Runs until candidate `id` starts the election of `term`, and crashes it at `point`. */
async function crashCandidate(cluster: Cluster, id: NodeId, term: number, point: CrashPoint) {
  if (point === "after its save") {
    crashAfterNextSave(cluster, id);
    await untilDead(cluster, id);
    const halt = cluster.tracer.events.findLast((e) => e.kind === "halt" && e.node === id);
    expect(halt?.term).toBe(term);
  } else {
    await waitFor(cluster, "send", askedForVotes(id, term));
    cluster.crash(id);
  }
}

/** Runs until `voter` grants `candidate` its vote in `term`, and crashes it at `point`. */
async function crashVoter(
  cluster: Cluster,
  voter: NodeId,
  candidate: NodeId,
  term: number,
  point: CrashPoint,
) {
  if (point === "after its save") {
    crashAfterNextSave(cluster, voter);
    await untilDead(cluster, voter);
  } else {
    await waitFor(
      cluster,
      "send",
      (e) =>
        e.node === voter &&
        e.details.to === candidate &&
        e.details.rpc === "RequestVote" &&
        e.details.type === "reply" &&
        e.details.payload.voteGranted &&
        e.details.payload.term === term,
    );
    cluster.crash(voter);
  }
  const vote = cluster.tracer.events.findLast((e) => e.kind === "vote" && e.node === voter);
  expect(vote?.details).toMatchObject({ candidate, candidateTerm: term, granted: true });
}

describe("bugs real implementations shipped", () => {
  test("no persist when starting an election: each RequestVote leaves with its term and vote durable", async () => {
    const cluster = Cluster.start(3, { raft: figure2Elections });
    const { leader, term } = await cluster.checkSingleLeader();
    const victim = (leader + 1) % 3;
    const storage = cluster.storage.get(victim)!;
    const behind: string[] = [];
    cluster.tracer.subscribe((e) => {
      if (e.kind !== "send" || e.node !== victim || e.details.type !== "request") return;
      const durable = storage.load();
      if (durable.currentTerm !== e.term || durable.votedFor !== victim) {
        behind.push(
          `asked in term ${e.term} with T${durable.currentTerm}/${durable.votedFor} saved`,
        );
      }
    });
    // Cut off, it runs one election after another (the Go test's 1200 ms).
    cluster.isolate(victim);
    await cluster.advance(1200);
    const now = cluster.state(victim);
    expect(now.currentTerm).toBeGreaterThanOrEqual(term + 3);
    expect(behind).toEqual([]);
    expect(storage.load()).toMatchObject({ currentTerm: now.currentTerm, votedFor: victim });
  });

  for (const point of ["after its save", "after its messages left"] as const) {
    test(`a candidate that crashes right ${point} comes back in its term and votes no one else in it`, async () => {
      const cluster = Cluster.start(3, { raft: figure2Elections });
      await cluster.one(1, 3, true);
      const { leader, term } = await cluster.checkSingleLeader();
      const [x, y] = [(leader + 1) % 3, (leader + 2) % 3];
      // x, cut off, starts the election of term + 1 and dies in it.
      cluster.isolate(x);
      await crashCandidate(cluster, x, term + 1, point);
      expect(cluster.storage.get(x)!.load()).toMatchObject({ currentTerm: term + 1, votedFor: x });
      // y, no longer hearing the leader, starts an election of that same term; its request to x
      // is 100 ms late and finds x restarted. (x is connected again while dead: a message is
      // delivered only if its link was up when it was sent.)
      cluster.reconnect(x);
      cluster.slow(y, x, 100);
      cluster.cut(leader, y);
      const answer = await askRestartedVoter(cluster, y, x, term + 1, 100);
      expect(restartedWith(cluster, x)).toMatchObject({ currentTerm: term + 1, votedFor: x });
      expect(answer.details.granted).toBe(false);
      expect(answer.details.reason).toBe(`already voted for n${x} in term ${term + 1}`);
      cluster.heal();
      await cluster.checkSettled();
      await cluster.one(2, 3, true);
    });
  }

  test("no persist when stepping down on a higher term seen in a reply: a crash right after keeps the term", async () => {
    const cluster = Cluster.start(3, { raft: figure2Elections });
    await cluster.one(1, 3, true);
    const first = await cluster.checkSingleLeader();
    cluster.isolate(first.leader);
    await cluster.advance(350);
    const second = await cluster.checkSingleLeader();
    expect(second.term).toBeGreaterThan(first.term);
    // As in the Go test, the new leader's calls to the old one fail, so the old leader learns the
    // new term only from a reply to one of its own heartbeats; the save of that step-down is its
    // first, and it dies just after it.
    cluster.cut(second.leader, first.leader);
    crashAfterNextSave(cluster, first.leader);
    cluster.reconnect(first.leader);
    await untilDead(cluster, first.leader);
    const stepDown = cluster.tracer.events.findLast(
      (e) => e.kind === "term" && e.node === first.leader,
    );
    expect(stepDown?.details).toMatchObject({
      to: second.term,
      reason: expect.stringMatching(/replied to AppendEntries with a higher term/),
    });
    cluster.uncut(second.leader, first.leader);
    cluster.restart(first.leader);
    expect(restartedWith(cluster, first.leader)).toEqual({
      currentTerm: second.term,
      votedFor: null,
      commands: [1],
    });
    expect(await cluster.checkSettled()).toEqual(second);
    await cluster.one(2, 3, true);
  });

  test("a same-term step-down keeps votedFor, in memory and across a crash", async () => {
    const cluster = Cluster.start(3, { raft: figure2Elections });
    // x and y become candidates of term + 1; the old leader's vote decides which one wins, and
    // only that reply gets through.
    const { leader: old, term, x, y } = await twoCandidatesAround(cluster);
    onFirst(
      cluster,
      (e) => e.kind === "vote" && e.node === old && e.details.granted && e.term === term + 1,
      (e) => e.kind === "vote" && cluster.uncut(old, e.details.candidate),
    );
    const won = await waitFor(
      cluster,
      "role",
      (e) => e.details.to === "leader" && e.term === term + 1,
    );
    const winner = won.node!;
    const loser = winner === x ? y : x;
    // The loser too becomes a candidate of term + 1; then the winner's heartbeats reach it.
    await waitFor(cluster, "send", askedForVotes(loser, term + 1));
    cluster.uncut(winner, loser);
    await waitFor(cluster, "role", (e) => e.node === loser && e.details.to === "follower");
    expect(cluster.state(loser)).toMatchObject({ currentTerm: term + 1, votedFor: loser });
    expect(cluster.storage.get(loser)!.load()).toMatchObject({ votedFor: loser });
    cluster.crash(loser);
    cluster.restart(loser);
    expect(restartedWith(cluster, loser)).toMatchObject({ currentTerm: term + 1, votedFor: loser });
    cluster.heal();
    await cluster.checkSettled();
    await cluster.one(2, 3, true);
  });

  test("stale vote replies counted: a grant for an earlier election does not make a leader", async () => {
    // Calls wait a second for their reply, so a late one still reaches the candidate.
    const cluster = Cluster.start(3, { raft: figure2Elections, network: { rpcTimeoutMs: 1000 } });
    // As above, x and y become candidates of term + 1 that cannot reach each other. The old
    // leader's grant comes back 400 ms late: after the candidate's election timer (at most
    // 300 ms) has started the next election, in which nobody has voted for it yet.
    const { leader: old, term } = await twoCandidatesAround(cluster);
    const since = cluster.tracer.events.length;
    onFirst(
      cluster,
      (e) => e.kind === "vote" && e.node === old && e.details.granted && e.term === term + 1,
      (e) => {
        if (e.kind !== "vote") return;
        cluster.uncut(old, e.details.candidate);
        cluster.slow(old, e.details.candidate, 400);
      },
    );
    const stale = await waitFor(
      cluster,
      "reply.stale",
      (e) => e.details.rpc === "RequestVote" && e.details.requestTerm === term + 1,
    );
    // Counted, it would be a second vote of two needed: the candidate would lead at once.
    const candidate = stale.node!;
    expect(stale.term).toBeGreaterThan(term + 1);
    expect(cluster.state(candidate).role).toBe("candidate");
    // (It has counted no vote at all since the links were cut: every other reply is later.)
    const counted = cluster.tracer.events
      .slice(since)
      .filter((e) => e.kind === "vote.reply" && e.node === candidate);
    expect(counted).toEqual([]);
    cluster.heal();
    await cluster.checkSettled();
    await cluster.one(2, 3, true);
  });

  for (const point of ["after its save", "after its messages left"] as const) {
    test(`a double vote in one term: a voter that crashes ${point} between two candidates' requests`, async () => {
      const cluster = Cluster.start(3, { raft: figure2Elections });
      // a and b become candidates of term + 1 that cannot reach each other. b's requests to the
      // voter take a second longer than a's.
      const { leader: voter, term, x: a, y: b } = await twoCandidatesAround(cluster);
      cluster.slow(b, voter, 1000);
      await crashVoter(cluster, voter, a, term + 1, point);
      expect(cluster.storage.get(voter)!.load()).toMatchObject({
        currentTerm: term + 1,
        votedFor: a,
      });
      cluster.cut(a, voter); // a's later elections must not reach the voter first
      const answer = await askRestartedVoter(cluster, b, voter, term + 1, 1000);
      expect(restartedWith(cluster, voter)).toMatchObject({ currentTerm: term + 1, votedFor: a });
      expect(answer.details.granted).toBe(false);
      expect(answer.details.reason).toBe(`already voted for n${a} in term ${term + 1}`);
      cluster.heal();
      await cluster.checkSettled();
      await cluster.one(2, 3, true);
    });
  }
});
