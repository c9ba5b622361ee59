// Goal: the facts of etcd-io/raft's tests of PreVote, CheckQuorum and leadership transfer, on
// this implementation: its testdata prevote.txt, checkquorum.txt, prevote_checkquorum.txt and
// forget_leader_prevote_checkquorum.txt, and the TestLeaderTransfer* tests of raft_test.go.
// Method: etcd drives single messages and ticks by hand; here each scenario runs on a whole
// simulated 3-node cluster, in virtual time, with the safety and conformance checks on every
// event. Where etcd says "campaign N", the link from the leader to N is cut, so that N hears no
// heartbeat and its election timer runs out while the others still hear the leader; where etcd
// holds messages back, a link is cut or slowed. The transfer tests of membership changes (remove
// or demote the target, a TimeoutNow to a removed node) have no counterpart: there is no
// membership change in these parts.

import { describe, expect } from "vitest";
import type { NodeId, RaftConfig } from "../src/raft.ts";
import type { EventOf } from "../src/trace.ts";
import { Cluster, test } from "./harness.ts";
import { waitFor } from "./trace-reading.ts";

/**
 * A settled 3-node cluster with `raft`, every node holding the same log (the leader's no-op and
 * one command): etcd's add-nodes, campaign 1, stabilize.
 */
async function settled(raft: Partial<RaftConfig>) {
  const cluster = Cluster.start(3, { raft: { noopOnElection: true, ...raft } });
  await cluster.one("stabilized", 3, true);
  const { leader, term } = await cluster.checkSettled();
  const [a, b] = [(leader + 1) % 3, (leader + 2) % 3] as [NodeId, NodeId];
  return { cluster, leader, term, a, b };
}

/** etcd's "campaign id": `id` stops hearing the leader, and its election timer runs out. */
async function campaign(cluster: Cluster, leader: NodeId, id: NodeId): Promise<void> {
  const from = cluster.tracer.events.length;
  cluster.cut(leader, id);
  await waitFor(cluster, "election.timeout", (e) => e.node === id, from);
}

/** Waits until a node leads a term after `term`, and returns it (one leader, checked). */
async function leaderAfter(
  cluster: Cluster,
  term: number,
): Promise<{ leader: NodeId; term: number }> {
  await cluster.runUntil(cluster.clock.now() + 3000, () =>
    cluster.leaders().some((s) => s.currentTerm > term),
  );
  return cluster.checkSingleLeader();
}

/** Terms of all nodes. */
function terms(cluster: Cluster): number[] {
  return cluster.ids.map((id) => cluster.state(id).currentTerm);
}

/** Events of `kind` on `node` from trace position `from` on. */
function eventsOf<K extends EventOf<"lease">["kind"] | "prevote">(
  cluster: Cluster,
  kind: K,
  node: NodeId,
  from: number,
) {
  return cluster.tracer.events.slice(from).filter((e) => e.kind === kind && e.node === node);
}

describe("etcd testdata/prevote.txt: PreVote without CheckQuorum", () => {
  test("a node behind on the log obtains no pre-votes: it calls no election, no term moves", async () => {
    const { cluster, leader, term, a, b } = await settled({ checkQuorum: false });
    // prop_1 reaches a only: b is behind.
    cluster.cut(leader, b);
    await cluster.one("prop_1", 2, true);
    const from = cluster.tracer.events.length;
    await cluster.advance(1500);
    // b keeps asking; both refuse it, for its log; no one's term moves, the leader leads on.
    expect(eventsOf(cluster, "prevote", leader, from).length).toBeGreaterThan(0);
    const refusals = [leader, a].flatMap((id) => eventsOf(cluster, "prevote", id, from));
    expect(refusals.every((e) => e.kind === "prevote" && !e.details.granted)).toBe(true);
    expect(terms(cluster)).toEqual([term, term, term]);
    cluster.uncut(leader, b);
    await cluster.checkCommittedN("prop_1", 3);
    expect(await cluster.checkSettled()).toEqual({ leader, term });
  });

  test("a node up to date obtains pre-votes, the leader's included, and is elected", async () => {
    const { cluster, leader, term, a } = await settled({ checkQuorum: false });
    await campaign(cluster, leader, a);
    const next = await leaderAfter(cluster, term);
    expect(next).toEqual({ leader: a, term: term + 1 });
    // Without CheckQuorum, even the leader would vote for it: pre-votes have no lease.
    const grants = cluster.tracer.events.filter(
      (e) => e.kind === "prevote" && e.node === leader && e.details.granted,
    );
    expect(grants.length).toBeGreaterThan(0);
  });
});

describe("etcd testdata/checkquorum.txt: CheckQuorum without PreVote", () => {
  test("a campaign fails while there is an active leader: its votes are ignored, not refused", async () => {
    const { cluster, leader, term, a, b } = await settled({ preVote: false });
    const from = cluster.tracer.events.length;
    await campaign(cluster, leader, a);
    await cluster.advance(400);
    expect(cluster.state(a)).toMatchObject({ role: "candidate" });
    expect(cluster.state(a).currentTerm).toBeGreaterThan(term);
    // The leader and b heard from the leader recently: neither takes the term nor votes.
    for (const id of [leader, b])
      expect(eventsOf(cluster, "lease", id, from).length).toBeGreaterThan(0);
    expect([cluster.state(leader).currentTerm, cluster.state(b).currentTerm]).toEqual([term, term]);
    expect(cluster.state(leader).role).toBe("leader");
  });

  test("a leader that hears from no quorum for an election timeout steps down; then another wins", async () => {
    const { cluster, leader, term, a, b } = await settled({ preVote: false });
    await campaign(cluster, leader, a); // a runs for office, ignored under the lease
    cluster.cut(b, leader); // and the leader's only answers stop
    const stepDown = await waitFor(
      cluster,
      "role",
      (e) => e.node === leader && e.details.to === "follower",
    );
    expect(stepDown.details.reason).toMatch(/CheckQuorum/);
    expect(stepDown.term).toBe(term);
    // A leader that stepped down has no lease: it votes for a's next term, and a is elected.
    const next = await leaderAfter(cluster, term);
    expect(next.leader).not.toBe(leader);
    expect(next.term).toBeGreaterThan(term);
  });
});

describe("etcd testdata/prevote_checkquorum.txt: PreVote and CheckQuorum", () => {
  test("a node obtains no pre-votes while the voters hear from the leader", async () => {
    const { cluster, leader, term, a, b } = await settled({});
    const from = cluster.tracer.events.length;
    await campaign(cluster, leader, a);
    await cluster.advance(1000);
    for (const id of [leader, b])
      expect(eventsOf(cluster, "lease", id, from).length).toBeGreaterThan(0);
    expect(terms(cluster)).toEqual([term, term, term]);
    expect(cluster.state(leader).role).toBe("leader");
  });

  test("voters that stopped hearing the leader grant each other pre-votes, though the leader lives", async () => {
    // etcd: the lease only binds followers that have a leader; pre-candidates have none, so a
    // quorum of them can replace a leader they have reason to think dead.
    const { cluster, leader, term, a, b } = await settled({});
    cluster.cut(leader, a);
    cluster.cut(leader, b);
    const next = await leaderAfter(cluster, term);
    expect([a, b]).toContain(next.leader);
    expect(next.term).toBeGreaterThan(term); // term + 1, or later after a split vote
  });
});

describe("etcd testdata/forget_leader_prevote_checkquorum.txt", () => {
  /**
   * `id` forgets its leader when `from`'s first pre-vote request reaches it (a failure detector
   * says the leader is gone), its lease still running; and, so that it does not learn of the
   * leader again before `from`'s election, hears no more from the leader.
   */
  function forgetsOnRequest(cluster: Cluster, id: NodeId, from: NodeId, leader: NodeId): void {
    let done = false;
    cluster.tracer.subscribe((e) => {
      if (done || e.kind !== "deliver" || e.node !== id || e.details.from !== from) return;
      if (e.details.rpc !== "PreVote" || e.details.type !== "request") return;
      done = true;
      cluster.cut(leader, id);
      cluster.node(id).forgetLeader();
    });
  }

  test("a follower that forgot its leader grants a pre-vote at once: the campaigner is elected", async () => {
    const { cluster, leader, term, a, b } = await settled({});
    forgetsOnRequest(cluster, a, b, leader);
    await campaign(cluster, leader, b);
    const next = await leaderAfter(cluster, term);
    expect(next).toEqual({ leader: b, term: term + 1 });
    expect(cluster.tracer.events.some((e) => e.kind === "leader.forget" && e.node === a)).toBe(
      true,
    );
  });

  test("it still grants no pre-vote to a node whose log is behind", async () => {
    const { cluster, leader, a, b } = await settled({});
    cluster.cut(leader, b);
    await cluster.one("prop_1", 2, true); // b misses it
    const from = cluster.tracer.events.length;
    forgetsOnRequest(cluster, a, b, leader);
    await cluster.advance(1500);
    // a refuses every pre-vote b asks for, for its log; b is never elected.
    const answers = eventsOf(cluster, "prevote", a, from).filter(
      (e) => e.kind === "prevote" && e.details.candidate === b,
    );
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.every((e) => e.kind === "prevote" && !e.details.granted)).toBe(true);
    const elected = cluster.tracer.events.slice(from).filter((e) => e.kind === "role");
    expect(elected.some((e) => e.node === b && e.details.to === "leader")).toBe(false);
  });

  test("forgetting the leader is no-op on the leader", async () => {
    const { cluster, leader, term } = await settled({});
    cluster.node(leader).forgetLeader();
    expect(cluster.state(leader)).toMatchObject({ role: "leader", leaderId: leader });
    expect(await cluster.checkSettled()).toEqual({ leader, term });
  });
});

describe("etcd raft_test.go: TestLeaderTransfer*", () => {
  /** Transfers `from`'s leadership to `to` and waits until `to` leads; returns its term. */
  async function transfer(cluster: Cluster, from: NodeId, to: NodeId): Promise<number> {
    const before = cluster.state(from).currentTerm;
    expect(cluster.node(from).transferLeadership(to)).toEqual({ started: true, target: to });
    await leaderAfter(cluster, before);
    const { leader, term } = await cluster.checkSettled();
    expect(leader).toBe(to);
    return term;
  }

  test("ToUpToDateNode, and back after some replication (WithCheckQuorum: under the lease)", async () => {
    const { cluster, leader, term, a } = await settled({});
    expect(await transfer(cluster, leader, a)).toBe(term + 1);
    await cluster.one("replicated", 3, true);
    expect(await transfer(cluster, a, leader)).toBe(term + 2);
  });

  test("ToUpToDateNodeFromFollower: a follower does not transfer; it names the leader to ask", async () => {
    const { cluster, leader, a } = await settled({});
    expect(cluster.node(a).transferLeadership(a)).toMatchObject({ started: false });
    expect(cluster.state(a).leaderId).toBe(leader);
    await transfer(cluster, leader, a);
  });

  test("ToSlowFollower: the target is caught up first", async () => {
    const { cluster, leader, term, b } = await settled({});
    cluster.isolate(b);
    await cluster.one("missed", 2, true);
    cluster.reconnect(b);
    expect(await transfer(cluster, leader, b)).toBe(term + 1);
    await cluster.checkCommittedN("missed", 3);
  });

  test("AfterSnapshot: a target that needs the leader's snapshot gets it, then takes over", async () => {
    const cluster = Cluster.start(3, {
      raft: { noopOnElection: true, snapshotAfterEntries: 2, snapshotChunkSize: 64 },
    });
    await cluster.one("stabilized", 3, true);
    const { leader, term } = await cluster.checkSettled();
    const behind = (leader + 2) % 3;
    cluster.isolate(behind);
    for (const command of ["a", "b", "c"]) await cluster.one(command, 2, true);
    cluster.reconnect(behind);
    expect(await transfer(cluster, leader, behind)).toBe(term + 1);
    const installed = cluster.tracer.events.some(
      (e) => e.kind === "snapshot.install" && e.node === behind,
    );
    expect(installed).toBe(true);
  });

  test("ToSelf and ToNonExistingNode change nothing", async () => {
    const { cluster, leader, term } = await settled({});
    expect(cluster.node(leader).transferLeadership(leader)).toMatchObject({ started: false });
    expect(cluster.node(leader).transferLeadership(9)).toMatchObject({ started: false });
    await cluster.advance(500);
    expect(await cluster.checkSettled()).toEqual({ leader, term });
  });

  test("Timeout: a transfer to a cut-off node is still pending after a heartbeat, given up after an election timeout", async () => {
    const { cluster, leader, term, b } = await settled({});
    cluster.isolate(b);
    cluster.node(leader).transferLeadership(b);
    await cluster.advance(50);
    expect(cluster.submitToServer(leader, "during")).toEqual({ isLeader: false });
    await cluster.advance(100);
    expect(cluster.submitToServer(leader, "after")).toMatchObject({ isLeader: true });
    expect(await cluster.checkSingleLeader()).toEqual({ leader, term });
  });

  test("IgnoreProposal: commands are dropped while a transfer is pending", async () => {
    const { cluster, leader, b } = await settled({});
    cluster.isolate(b);
    const before = cluster.state(leader).lastLogIndex;
    cluster.node(leader).transferLeadership(b);
    expect(cluster.submitToServer(leader, "dropped")).toEqual({ isLeader: false });
    expect(cluster.state(leader).lastLogIndex).toBe(before);
  });

  test("ReceiveHigherTermVote: a pending transfer ends when another node's election deposes the leader", async () => {
    const { cluster, leader, term, a, b } = await settled({ checkQuorum: false });
    const from = cluster.tracer.events.length;
    cluster.cut(leader, a);
    cluster.cut(leader, b);
    // The first follower to time out campaigns; the leader hands over to the other meanwhile,
    // which its TimeoutNow cannot reach: the transfer is pending when the election deposes it.
    const first = await waitFor(cluster, "election.timeout", (e) => e.node !== leader, from);
    cluster.node(leader).transferLeadership(first.node === a ? b : a);
    const next = await leaderAfter(cluster, term);
    expect([a, b]).toContain(next.leader);
    const ended = cluster.tracer.events.findLast(
      (e) => e.kind === "transfer.end" && e.node === leader,
    );
    expect(ended?.details).toMatchObject({ reason: expect.stringMatching(/stepping down/) });
  });

  test("Back: a transfer back to the leader itself gives up the pending one", async () => {
    const { cluster, leader, term, b } = await settled({});
    cluster.isolate(b);
    cluster.node(leader).transferLeadership(b);
    cluster.node(leader).transferLeadership(leader);
    expect(cluster.submitToServer(leader, "taken")).toMatchObject({ isLeader: true });
    expect(await cluster.checkSingleLeader()).toEqual({ leader, term });
  });

  test("SecondTransferToAnotherNode: the second target takes over", async () => {
    const { cluster, leader, term, a, b } = await settled({});
    cluster.isolate(b);
    cluster.node(leader).transferLeadership(b);
    expect(await transfer(cluster, leader, a)).toBe(term + 1);
  });

  test("SecondTransferToSameNode: asking again does not extend the timeout", async () => {
    const { cluster, leader, term, b } = await settled({});
    cluster.isolate(b);
    cluster.node(leader).transferLeadership(b);
    await cluster.advance(50);
    cluster.node(leader).transferLeadership(b);
    await cluster.advance(100); // 150 ms after the first request: given up
    expect(cluster.submitToServer(leader, "after")).toMatchObject({ isLeader: true });
    expect(await cluster.checkSingleLeader()).toEqual({ leader, term });
  });
});
