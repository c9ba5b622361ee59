// Goal: show that each safety check can fail, so a green run means something. Method: feed the
// checker hand-made traces with a double vote, two leaders in one term and a term going down,
// and check it names each violation; then break a live cluster's trace on purpose and check that
// the harness stops the run at that event with the seed.

import { describe, expect, test } from "vitest";
import type { Role } from "../src/raft.ts";
import { SafetyChecker } from "../src/sim/safety.ts";
import type { TraceEvent } from "../src/trace.ts";
import { event, voted } from "./events.ts";
import { Cluster } from "./harness.ts";

const becameLeader = (t: number, node: number, term: number) =>
  event(t, node, term, "leader", "role", { from: "candidate", to: "leader", reason: "won" });

function check(events: TraceEvent[]) {
  const checker = new SafetyChecker();
  for (const e of events) checker.observe(e);
  return checker.violations.map((v) => [v.invariant, v.event.t]);
}

describe("safety checker", () => {
  test("accepts a legal history: one leader per term, one vote per node per term", () => {
    const legal = [
      voted(1, 0, 0, 1),
      voted(2, 1, 0, 1),
      voted(2, 1, 0, 1), // the same vote again (a retried request) is still one vote
      becameLeader(3, 0, 1),
      voted(10, 2, 2, 2),
      voted(11, 1, 2, 2),
      becameLeader(12, 2, 2),
    ];
    expect(check(legal)).toEqual([]);
  });

  test("reports two leaders in one term (Election Safety)", () => {
    expect(check([becameLeader(5, 0, 3), becameLeader(9, 1, 3)])).toEqual([["Election Safety", 9]]);
  });

  test("reports a second vote in one term", () => {
    expect(check([voted(1, 2, 0, 4), voted(7, 2, 1, 4)])).toEqual([["One vote per term", 7]]);
  });

  test("reports a vote for another after voting for itself", () => {
    const selfVote = event(1, 1, 2, "candidate", "vote", {
      candidate: 1,
      candidateTerm: 2,
      granted: true,
      reason: "votes for itself",
    });
    expect(check([selfVote, voted(4, 1, 0, 2)])).toEqual([["One vote per term", 4]]);
  });

  test("ignores refused votes", () => {
    const refused = event(4, 1, 2, "follower", "vote", {
      candidate: 0,
      candidateTerm: 2,
      granted: false,
      reason: "already voted",
    });
    expect(check([voted(1, 1, 2, 2), refused])).toEqual([]);
  });

  test("reports a term going down", () => {
    const events = [
      event(1, 0, 3, "follower", "term", { from: 2, to: 3, reason: "" }),
      voted(2, 0, 1, 2),
    ];
    expect(check(events)).toEqual([["Term monotonicity", 2]]);
  });

  test("a restarted node is held to what it said before it crashed, not what it only thought", () => {
    /** n0 sends its granted vote for `candidate` in `term` (message `msg`). */
    const voteSent = (t: number, term: number, candidate: number, msg: number) =>
      event(t, 0, term, "follower", "send", {
        msg,
        to: candidate,
        rpc: "RequestVote",
        type: "reply",
        request: msg - 1,
        payload: { term, voteGranted: true },
        heartbeat: false,
        bytes: 30,
      });
    const restart = (t: number, currentTerm: number, votedFor: number | null) =>
      event(t, 0, currentTerm, "follower", "restart", {
        node: 0,
        network: { groups: [[0, 1, 2]], cutOff: [], dead: [] },
        currentTerm,
        votedFor,
        log: [],
      });
    const checker = new SafetyChecker();
    for (const e of [voted(1, 0, 1, 3), voteSent(1, 3, 1, 2)]) checker.observe(e);
    // Its persistent state came back as it was: nothing to report.
    expect(checker.observe(restart(5, 3, 1))).toBeUndefined();
    // A vote it sent, forgotten, would allow a second one in the same term.
    expect(checker.observe(restart(6, 3, null))?.message).toMatch(
      /restarted in term 3 with votedFor null, but it had sent its vote for n1 in that term/,
    );
    // A term it had sent messages in, gone back to, is a term going down.
    expect(checker.observe(restart(7, 2, null))?.invariant).toBe("Term monotonicity");
    // A vote it only thought of (term 4, crashed before it was saved or sent) is rightly gone:
    // voting for another in term 4 after the restart is its first vote there.
    const fresh = new SafetyChecker();
    for (const e of [
      voted(1, 0, 1, 3),
      voteSent(1, 3, 1, 2),
      voted(9, 0, 2, 4),
      restart(10, 3, 1),
    ]) {
      fresh.observe(e);
    }
    expect(fresh.observe(voted(11, 0, 1, 4))).toBeUndefined();
    // But a vote it sent still counts: a second one in term 3 after the restart is caught.
    const again = new SafetyChecker();
    for (const e of [voted(1, 0, 1, 3), voteSent(1, 3, 1, 2), restart(10, 3, 1)]) again.observe(e);
    expect(again.observe(voted(11, 0, 2, 3))?.invariant).toBe("One vote per term");
  });

  test("a violation in a live cluster fails the run at that event, with the seed", async () => {
    const cluster = Cluster.start(3, { seed: 42 });
    cluster.expectViolation();
    const { leader, term } = await cluster.checkSingleLeader();
    const other = (leader + 1) % 3;
    // Forge what a broken node would emit: a second leader for the same term.
    cluster.tracer.emit(other, "role", { from: "candidate", to: "leader", reason: "forged" });
    await expect(cluster.advance(100)).rejects.toThrow(
      new RegExp(
        `Election Safety violated .* n${other} and n${leader} are both leaders of term ${term}[^]*seed 42`,
      ),
    );
    expect(cluster.tracer.events.some((e) => e.kind === "violation")).toBe(true);
  });
});

// ---- Part 2: the log properties of Figure 3 ----

const appended = (
  t: number,
  node: number,
  term: number,
  role: Role,
  index: number,
  entries: [number, string][],
) =>
  event(t, node, term, role, "log.append", {
    index,
    entries: entries.map(([entryTerm, command]) => ({ term: entryTerm, command })),
  });
const committed = (t: number, node: number, term: number, role: Role, from: number, to: number) =>
  event(t, node, term, role, "commit", { from, to, reason: "" });
const applied = (
  t: number,
  node: number,
  term: number,
  index: number,
  entryTerm: number,
  command: string,
) => event(t, node, term, "follower", "apply", { index, term: entryTerm, command });

describe("safety checker, log properties", () => {
  test("accepts a legal history: replication, a follower's conflict repaired, commit, apply", () => {
    const legal = [
      becameLeader(1, 0, 1),
      appended(2, 0, 1, "leader", 1, [
        [1, "a"],
        [1, "lost"],
      ]),
      appended(3, 1, 1, "follower", 1, [[1, "a"]]),
      appended(3, 2, 1, "follower", 1, [
        [1, "a"],
        [1, "lost"],
      ]),
      committed(4, 0, 1, "leader", 0, 1),
      applied(4, 0, 1, 1, 1, "a"),
      becameLeader(9, 1, 2), // holds the committed [1]; [2] was never committed
      appended(10, 1, 2, "leader", 2, [[2, "b"]]),
      event(11, 2, 2, "follower", "log.truncate", { from: 2, removed: 1 }),
      appended(11, 2, 2, "follower", 2, [[2, "b"]]),
      committed(12, 1, 2, "leader", 0, 2),
      committed(13, 2, 2, "follower", 0, 2),
      applied(13, 2, 2, 1, 1, "a"),
      applied(13, 2, 2, 2, 2, "b"),
    ];
    expect(check(legal)).toEqual([]);
  });

  test("reports two logs with the same entry (index, term) but different commands (Log Matching)", () => {
    const events = [
      appended(1, 0, 1, "leader", 1, [[1, "a"]]),
      appended(2, 1, 1, "follower", 1, [[1, "b"]]),
    ];
    expect(check(events)).toEqual([["Log Matching", 2]]);
  });

  test("reports the same entry (index, term) after different prefixes (Log Matching)", () => {
    const events = [
      appended(1, 0, 2, "leader", 1, [
        [1, "a"],
        [2, "c"],
      ]),
      appended(2, 1, 2, "follower", 1, [
        [2, "x"],
        [2, "c"],
      ]),
    ];
    expect(check(events)).toEqual([["Log Matching", 2]]);
  });

  test("reports a leader deleting or overwriting its entries (Leader Append-Only)", () => {
    const start = [
      becameLeader(1, 0, 1),
      appended(2, 0, 1, "leader", 1, [
        [1, "a"],
        [1, "b"],
      ]),
    ];
    const cut = event(3, 0, 1, "leader", "log.truncate", { from: 2, removed: 1 });
    expect(check([...start, cut])).toEqual([["Leader Append-Only", 3]]);
    const overwrite = appended(3, 0, 1, "leader", 2, [[1, "c"]]);
    expect(check([...start, overwrite])).toEqual([["Leader Append-Only", 3]]);
  });

  test("reports a leader elected without a committed entry (Leader Completeness)", () => {
    const events = [
      appended(1, 0, 1, "leader", 1, [[1, "a"]]),
      appended(1, 1, 1, "follower", 1, [[1, "a"]]),
      committed(2, 0, 1, "leader", 0, 1),
      becameLeader(5, 2, 2),
    ];
    expect(check(events)).toEqual([["Leader Completeness", 5]]);
  });

  test("reports an entry committed while a later leader lacks it (Leader Completeness)", () => {
    const events = [
      appended(1, 0, 1, "leader", 1, [[1, "a"]]),
      becameLeader(3, 2, 2),
      committed(4, 0, 1, "leader", 0, 1),
    ];
    expect(check(events)).toEqual([["Leader Completeness", 4]]);
  });

  test("reports two nodes committing or applying different entries at one index (State Machine Safety)", () => {
    const events = [
      appended(1, 0, 1, "leader", 1, [[1, "a"]]),
      committed(2, 0, 1, "leader", 0, 1),
      applied(2, 0, 1, 1, 1, "a"),
      appended(5, 1, 2, "leader", 1, [[2, "b"]]),
      committed(6, 1, 2, "leader", 0, 1),
      applied(6, 1, 2, 1, 2, "b"),
    ];
    // Once at the commit, once at the apply.
    expect(check(events)).toEqual([
      ["State Machine Safety", 6],
      ["State Machine Safety", 6],
    ]);
    // Applies are checked on their own too: here the trace lacks the commits that would tell.
    const checker = new SafetyChecker();
    for (const e of events.filter((e) => e.kind !== "commit")) checker.observe(e);
    expect(checker.violations.map((v) => v.invariant)).toContain("Commit and apply order");
  });

  test("reports commits past the log, removed committed entries and out-of-order applies", () => {
    const log = appended(1, 0, 1, "follower", 1, [
      [1, "a"],
      [1, "b"],
    ]);
    expect(check([log, committed(2, 0, 1, "follower", 0, 3)])).toEqual([
      ["Commit and apply order", 2],
    ]);
    const cut = event(3, 0, 1, "follower", "log.truncate", { from: 1, removed: 2 });
    expect(check([log, committed(2, 0, 1, "follower", 0, 1), cut])).toEqual([
      ["Commit and apply order", 3],
    ]);
    const skip = applied(3, 0, 1, 2, 1, "b");
    expect(check([log, committed(2, 0, 1, "follower", 0, 2), skip])).toEqual([
      ["Commit and apply order", 3],
    ]);
  });

  test("a forged entry in a live cluster fails the run at the leader's conflicting append", async () => {
    const cluster = Cluster.start(3, { seed: 42 });
    const { leader, term } = await cluster.checkSingleLeader();
    cluster.submitToServer(leader, "x");
    await cluster.checkCommitted("x");
    const other = (leader + 1) % 3;
    // Forge what a broken follower would emit: an entry of this term the leader never sent.
    cluster.tracer.emit(other, "log.append", { index: 2, entries: [{ term, command: "forged" }] });
    cluster.submitToServer(leader, "y");
    await expect(cluster.advance(100)).rejects.toThrow(
      /Log Matching violated .*"forged"[\s\S]*seed 42/,
    );
  });

  test("a restarted node's log is checked as if appended anew; commit and apply start over", () => {
    const checker = new SafetyChecker();
    const history = [
      becameLeader(1, 0, 1),
      appended(2, 0, 1, "leader", 1, [
        [1, "a"],
        [1, "b"],
      ]),
      appended(3, 1, 1, "follower", 1, [
        [1, "a"],
        [1, "b"],
      ]),
      committed(4, 1, 1, "follower", 0, 2),
      applied(4, 1, 1, 1, 1, "a"),
      applied(4, 1, 1, 2, 1, "b"),
    ];
    for (const e of history) checker.observe(e);
    const at = history.at(-1)!;
    const log = [
      { term: 1, command: "a" },
      { term: 1, command: "b" },
    ];
    expect(checker.restarted(1, { currentTerm: 1, votedFor: 0, log }, at)).toBeUndefined();
    // Volatile state starts again: committing and applying from 1 is in order, and the same
    // entries as before are applied again.
    expect(check([])).toEqual([]);
    expect(checker.observe(committed(9, 1, 1, "follower", 0, 2))).toBeUndefined();
    expect(checker.observe(applied(9, 1, 1, 1, 1, "a"))).toBeUndefined();
    // A restored log that never existed (another command at [2] T1) breaks Log Matching.
    const forged = [log[0]!, { term: 1, command: "x" }];
    expect(checker.restarted(1, { currentTerm: 1, votedFor: 0, log: forged }, at)?.invariant).toBe(
      "Log Matching",
    );
  });
});
