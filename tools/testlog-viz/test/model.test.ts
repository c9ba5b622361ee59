import { describe, expect, test } from "vitest";
import type { Timeline } from "../src/model.ts";
import { StateReplay } from "../src/state.ts";
import { end, harness, message, network, onNode, start, timelineOf } from "./build.ts";
import { handmade, realTimeline } from "./real.ts";

const lanesAt = (rows: ReturnType<typeof handmade>["rows"], kind: string) =>
  rows
    .find((r) => r.kind === kind)!
    .lanes.map((l) => `${l.role[0]}${l.term}${l.cut ? "x" : ""}${l.dead ? "†" : ""}`);

describe("buildTimeline", () => {
  test("every row carries every node's role and term at that moment", () => {
    const { rows } = handmade();
    expect(rows[0]!.lanes.map((l) => l.role)).toEqual(["follower", "follower", "follower"]);
    expect(lanesAt(rows, "vote.reply")).toEqual(["f1", "c1", "f0"]);
    expect(
      rows.findLast((r) => r.kind === "test.end")!.lanes.map((l) => `${l.role} ${l.term}`),
    ).toEqual(["follower 2", "follower 2", "leader 2"]);
  });

  test("harness cutOff marks a lane cut off until a later harness event clears it", () => {
    const { rows } = handmade();
    expect(lanesAt(rows, "isolate")).toEqual(["f1", "l1x", "f1"]);
    expect(rows.filter((r) => r.lanes[1]!.cut).every((r) => r.t >= 200 && r.t <= 450)).toBe(true);
    expect(lanesAt(rows, "reconnect")).toEqual(["f2", "l1", "l2"]);
  });

  test("a crashed node's lane is dead from the harness's crash until its role says otherwise", () => {
    const { rows } = timelineOf(
      start([4, 9]),
      harness(1, "crash", { node: 9, ...network([[4]], [], [9]) }),
      onNode(2, 4, 1, "candidate", "role", { from: "follower", to: "candidate", reason: "r" }),
      onNode(4, 9, 0, "dead", "role", { from: "follower", to: "dead", reason: "stopped" }),
      onNode(5, 9, 0, "follower", "role", { from: "dead", to: "follower", reason: "restarted" }),
      end(6),
    );
    expect(rows.map((r) => r.lanes[1]!.dead)).toEqual([false, true, true, true, false, false]);
  });

  test("a message's send, deliveries, drop and reply share one conversation id", () => {
    const { rows } = handmade();
    const conv1 = rows.filter((r) => r.conv === 1).map((r) => `${r.kind} #${r.msg}`);
    expect(conv1).toEqual(["send #1", "deliver #1", "send #3", "deliver #3"]);
    expect(rows.filter((r) => r.conv === 2).map((r) => r.kind)).toEqual(["send", "drop"]);
    expect(rows.find((r) => r.kind === "vote")!.conv).toBeNull();
    // a dropped reply names only itself; it still joins its request's conversation
    const dropped = timelineOf(
      start([0, 1]),
      onNode(1, 0, 1, "candidate", "send", { msg: 1, to: 1, type: "request" }),
      onNode(2, 1, 1, "follower", "send", { msg: 2, to: 0, type: "reply", request: 1 }),
      onNode(3, 1, 1, "follower", "drop", { msg: 2, to: 0, type: "reply" }),
      onNode(4, 0, 1, "candidate", "rpc.error", { msg: 1, to: 1, error: "no reply" }),
      end(5),
    );
    expect(dropped.rows.map((r) => r.conv)).toEqual([null, 1, 1, 1, 1, null]);
    // four heartbeat exchanges of four events each, and two heartbeats sent and dropped while cut off
    expect(rows.filter((r) => r.heartbeat)).toHaveLength(20);
  });
});

describe("buildTimeline: the summary", () => {
  test("summary: leaders per term, elections and message counts", () => {
    const { summary, kinds } = handmade();
    // n1 logs term 2 while still leader, just before stepping down: not a leader of term 2
    expect(summary).toEqual({
      leaders: [
        [1, [1]],
        [2, [2]],
      ],
      elections: 2,
      sent: 16,
      delivered: 12,
      dropped: 4,
      rpcErrors: 0,
      atShutdown: 0,
      heartbeats: 10,
      failures: 0,
      expectedViolations: 0,
      dataLost: [],
      submitted: 0,
      refused: 0,
      committed: 0,
      duration: 500,
      notes: [[1, "3 nodes, all connected; expect one leader"]],
      storage: { saves: 0, crashes: 0, halts: 0, restarts: 0, snapshots: 0, installs: 0 },
      clients: { clients: 0, operations: 0, ok: 0, failed: 0, maybe: 0, attempts: 0 },
    });
    expect(kinds.slice(0, 3)).toEqual([
      ["test.start", 1],
      ["note", 1],
      ["election.timeout", 2],
    ]);
  });

  test("two leaders in one term are both listed; a candidate re-running in a new term is a new election", () => {
    const { summary } = timelineOf(
      start([0, 1]),
      onNode(1, 0, 1, "candidate", "role"),
      onNode(2, 0, 2, "candidate", "term"),
      onNode(3, 0, 2, "leader", "role"),
      onNode(4, 1, 2, "leader", "role"),
      harness(5, "violation", { invariant: "Election Safety", message: "two leaders" }),
      end(6, "fail"),
    );
    expect(summary.leaders).toEqual([[2, [0, 1]]]);
    expect(summary.elections).toBe(2);
    expect(summary.failures).toBe(2);
  });
});

/** The state view's reading of a timeline: the same replay the page runs. */
const stateAfter = (timeline: Timeline, row: number) =>
  new StateReplay(timeline.trace.nodes, (i) => timeline.rows[i]?.ops ?? null).after(row);

describe("the cluster's state, from the trace alone", () => {
  test("logs, commitIndex, lastApplied and votes follow append, truncate, commit, apply, vote, term", () => {
    const timeline = timelineOf(
      start([0, 1]),
      onNode(1, 0, 1, "follower", "term", { from: 0, to: 1, reason: "r" }),
      onNode(1, 0, 1, "follower", "vote", {
        candidate: 0,
        candidateTerm: 1,
        granted: true,
        reason: "r",
      }),
      onNode(2, 0, 1, "leader", "log.append", {
        index: 1,
        entries: [
          { term: 1, command: "x" },
          { term: 1, command: "y" },
          { term: 1, command: "z" },
        ],
      }),
      onNode(3, 0, 1, "leader", "commit", { from: 0, to: 2, reason: "r" }),
      onNode(4, 0, 1, "leader", "apply", { index: 1, term: 1, command: "x" }),
      onNode(5, 0, 1, "leader", "log.truncate", { from: 3, removed: 1 }),
      onNode(6, 0, 2, "follower", "term", { from: 1, to: 2, reason: "r" }),
      end(7),
    );
    const n0 = (row: number) => stateAfter(timeline, row).get(0)!;
    expect(n0(0).log).toEqual([]);
    expect(n0(2).votedFor).toBe(0);
    expect(n0(3).log).toEqual([
      [1, '"x"'],
      [1, '"y"'],
      [1, '"z"'],
    ]);
    expect([n0(4).commitIndex, n0(4).lastApplied]).toEqual([2, 0]);
    expect([n0(5).commitIndex, n0(5).lastApplied]).toEqual([2, 1]);
    expect(n0(6).log).toHaveLength(2);
    expect(n0(7).votedFor).toBeNull(); // a new term: the old vote is void
    expect(stateAfter(timeline, 7).get(1)!.log).toEqual([]);
  });
});

describe("the cluster's state: leaders, and real traces", () => {
  test("a leader's nextIndex and matchIndex per follower, forgotten when it steps down", () => {
    const timeline = timelineOf(
      start([0, 1]),
      onNode(1, 0, 1, "leader", "progress", {
        peer: 1,
        nextIndex: 1,
        matchIndex: 0,
        reason: "elected",
      }),
      onNode(2, 0, 1, "leader", "progress", { peer: 1, nextIndex: 3, matchIndex: 2, reason: "r" }),
      onNode(3, 0, 2, "follower", "role", { from: "leader", to: "follower", reason: "r" }),
      end(4),
    );
    expect([...stateAfter(timeline, 2).get(0)!.progress]).toEqual([[1, [3, 2]]]);
    expect(stateAfter(timeline, 3).get(0)!.progress.size).toBe(0);
  });

  test("the story's last rows: every node holds the same three entries, all committed and applied", () => {
    const story = realTimeline("part2-story.jsonl");
    const last = stateAfter(story, story.rows.length - 1);
    for (const id of story.trace.nodes) {
      expect(last.get(id)!.log, `n${id}`).toEqual([
        [1, '"x=1"'],
        [1, '"y=2"'],
        [2, '"z=3"'],
      ]);
      expect(last.get(id)!.commitIndex).toBe(3);
      expect(last.get(id)!.lastApplied).toBe(3);
    }
    // before the repair, the old leader held "lost" at [3], in its own term
    const truncated = story.rows.findIndex((r) => r.kind === "log.truncate");
    const old = story.rows[truncated]!.node!;
    expect(stateAfter(story, truncated - 1).get(old)!.log[2]).toEqual([1, '"lost"']);
    expect(stateAfter(story, truncated).get(old)!.log).toHaveLength(2);
  });

  test("a part1 trace has no log: every node's log stays empty, votes are still read", () => {
    const part1 = realTimeline("part1-old-leader-reconnects.jsonl");
    const last = stateAfter(part1, part1.rows.length - 1);
    expect([...last.values()].every((n) => n.log.length === 0 && n.commitIndex === 0)).toBe(true);
    expect([...last.values()].some((n) => n.votedFor !== null)).toBe(true);
  });
});

describe("partitions, batches, shutdown and expected violations", () => {
  test("while the network is split, each lane knows its group; healing clears the groups", () => {
    const { rows } = timelineOf(
      start([0, 1, 2]),
      harness(1, "partition", { groups: [[0], [1, 2]], ...network([[1, 2], [0]], [0]) }),
      harness(2, "heal", network([[0, 1, 2]])),
      end(3),
    );
    expect(rows[1]!.lanes.map((l) => l.group)).toEqual([1, 0, 0]);
    expect(rows[1]!.lanes.map((l) => l.cut)).toEqual([true, false, false]);
    expect(rows[2]!.lanes.map((l) => l.group)).toEqual([null, null, null]);
  });

  test("an append or AppendEntries with many entries carries a batch summary", () => {
    const entries = [1, 1, 2, 2, 3].map((term, i) => ({ term, command: i }));
    const { rows } = timelineOf(
      start([0, 1]),
      onNode(1, 0, 3, "leader", "send", {
        ...message(1, "AppendEntries", "request", {
          payload: { term: 3, prevLogIndex: 4, entries },
        }),
        to: 1,
      }),
      onNode(2, 1, 3, "follower", "log.append", { index: 5, entries }),
      onNode(3, 1, 3, "follower", "log.append", { index: 10, entries: entries.slice(0, 4) }),
      end(4),
    );
    const batch = { count: 5, first: 5, last: 9, terms: [1, 3] };
    expect(rows[1]!.batch).toEqual(batch);
    expect(rows[2]!.batch).toEqual(batch);
    expect(rows[3]!.batch).toBeNull();
  });

  test("drops and RPC errors after the shutdown are not counted as the test's", () => {
    const { summary, rows } = realTimeline("part2-story.jsonl");
    const after = rows.filter((r) => r.afterShutdown);
    const lost = (list: typeof rows) =>
      list.filter((r) => r.kind === "drop" || r.kind === "rpc.error").length;
    expect(lost(after)).toBeGreaterThan(0);
    expect(summary.atShutdown).toBe(lost(after));
    expect(summary.dropped + summary.rpcErrors).toBe(lost(rows) - lost(after));
    expect(summary.submitted).toBe(4);
    expect(summary.committed).toBe(3);
    expect(summary.notes.map(([, text]) => text)[0]).toMatch(/^three followers start/);
  });

  test("a violation the test expected is not a failure", () => {
    const lines = [
      start([0]),
      harness(1, "violation", { invariant: "Election Safety", message: "two leaders" }),
    ];
    const expected = timelineOf(...lines, end(2, "pass", { expectedViolation: true }));
    expect(expected.rows[1]!.tone).toBe("expected");
    expect([expected.summary.failures, expected.summary.expectedViolations]).toEqual([0, 1]);
    const unexpected = timelineOf(...lines, end(2, "fail", { error: "violation" }));
    expect([unexpected.summary.failures, unexpected.summary.expectedViolations]).toEqual([2, 0]);
  });
});

describe("crashes, halts and restarts (part 3)", () => {
  const restart = (t: number, node: number, term: number, log: unknown[]) =>
    harness(t, "restart", {
      node,
      ...network([[1]], [], [0]),
      currentTerm: term,
      votedFor: 0,
      log,
    });

  test("a halt stops the lane at once; a restart makes it a follower in its stored term", () => {
    const timeline = timelineOf(
      start([0, 1]),
      onNode(1, 1, 2, "leader", "halt", { reason: "disk full" }),
      onNode(1, 1, 2, "dead", "role", { from: "leader", to: "dead", reason: "stopped" }),
      harness(2, "crash", { node: 0, ...network([], [], [0, 1]) }),
      restart(3, 1, 2, [{ term: 1, command: "a" }]),
      end(4),
    );
    const lane = (row: number) => timeline.rows[row]!.lanes[1]!;
    expect([lane(1).dead, lane(1).role]).toEqual([true, "leader"]);
    expect(lane(2).dead).toBe(true);
    expect(lane(4)).toEqual({ role: "follower", term: 2, cut: false, dead: false, group: null });
    expect(timeline.rows[3]!.lanes[0]!.dead).toBe(true);
    expect(timeline.storage).toBe(true);
    expect(timeline.summary.storage).toEqual({
      ...{ saves: 0, crashes: 1, halts: 1, restarts: 1 },
      ...{ snapshots: 0, installs: 0 },
    });
  });

  test("a real halt before a save was durable: the entry is unsaved, and the restart drops it", () => {
    const halted = realTimeline("part3-halt-before-durable.jsonl");
    const storage = (row: number) =>
      new StateReplay(halted.trace.nodes, (i) => halted.rows[i]?.ops ?? null, true).after(row);
    const at = halted.rows.findIndex((r) => r.kind === "halt");
    const node = halted.rows[at]!.node!;
    const before = storage(at).get(node)!;
    expect(before.log.length).toBe(before.saved + 1);
    expect(before.log.at(-1)![1]).toBe('"lost"');
    const restarted = halted.rows.findIndex((r) => r.kind === "restart");
    const after = storage(restarted).get(node)!;
    expect(after.log).toEqual(before.log.slice(0, before.saved));
    expect([after.commitIndex, after.lastApplied, after.saved]).toEqual([0, 0, before.saved]);
    expect(halted.rows[restarted]!.lanes[halted.trace.nodes.indexOf(node)]!.dead).toBe(false);
  });

  test("a real crash and restart: each node's log is the one the restart restored", () => {
    const timeline = realTimeline("part3-fast-backtracking.jsonl");
    const last = timeline.rows.findLastIndex((r) => r.kind === "restart");
    const state = stateAfter(timeline, last);
    for (const e of timeline.trace.events.slice(0, last + 1)) {
      if (!e.known || e.kind !== "restart") continue;
      expect(state.get(e.details.node)!.log.map(([term]) => term)).toEqual(
        e.details.log.map((x) => x.term),
      );
    }
  });
});

/** An event of client "a" about its operation #1 (unless `details` says otherwise). */
const client = (t: number, kind: string, details: Record<string, unknown>) =>
  harness(t, kind, { client: "a", seq: 1, ...details });

describe("clients (part 4)", () => {
  const entry = { kind: "kv", client: "a", seq: 1, command: { op: "get", key: "k" } };
  const small = () =>
    timelineOf(
      start([0, 1]),
      client(1, "client.invoke", { command: { op: "get", key: "k" } }),
      client(1, "client.send", { to: 1, attempt: 1 }),
      onNode(2, 1, 1, "leader", "submit", { command: entry, index: 1, term: 1 }),
      onNode(3, 1, 1, "leader", "apply", { index: 1, term: 1, command: entry }),
      client(4, "client.answer", { from: 1, status: "ok" }),
      client(4, "client.complete", { result: { value: null, existed: false } }),
      end(5),
    );

  test("each client has a column after the nodes; an operation runs in its lane until it completes", () => {
    const { columns, rows, clients } = small();
    expect(columns).toEqual(["TEST", "n0", "n1", "a"]);
    expect(clients).toEqual(["a"]);
    expect(rows.map((r) => r.column)).toEqual([0, 3, 3, 2, 2, 3, 3, 0]);
    const lane = (row: number) => rows[row]!.clients[0];
    expect(lane(0)).toBeNull();
    expect(lane(1)).toEqual({ seq: 1, op: "get k", state: "pending" });
    expect(lane(4)).toBe(lane(1)); // shared until it changes
    expect(lane(6)).toEqual({ seq: 1, op: "get k", state: "ok" });
    expect(lane(7)).toBeNull();
  });

  test("an operation is one conversation: the client's events and the node's entry of it", () => {
    const { rows } = small();
    expect(new Set(rows.slice(1, 7).map((r) => r.conv)).size).toBe(1);
    expect(rows[1]!.conv).not.toBeNull();
    expect(rows[2]!.peer).toEqual({ node: 1, text: "← a #1" });
    expect(rows[5]!.peer).toEqual({ node: 1, text: "→ a #1 ok" });
  });
});

describe("clients (part 4) in real and failing runs", () => {
  test("a real part4 trace: two clients, every operation done, attempts tied to their nodes", () => {
    const timeline = realTimeline("part4-two-clients.jsonl");
    expect(timeline.clients).toEqual(["a", "b"]);
    expect(timeline.summary.clients).toEqual({
      clients: 2,
      operations: 4,
      ok: 4,
      failed: 0,
      maybe: 0,
      attempts: 10,
    });
    // message ids and operations never share a conversation
    const kindsOf = (conv: number | null) =>
      new Set(timeline.rows.filter((r) => r.conv === conv).map((r) => r.kind));
    for (const row of timeline.rows.filter((r) => r.kind === "client.invoke")) {
      expect([...kindsOf(row.conv)].sort()).toEqual([
        "apply",
        "client.answer",
        "client.complete",
        "client.invoke",
        "client.send",
        "submit",
      ]);
    }
  });

  test("a failed operation ends in red when it did not take effect, amber when it may have", () => {
    const { rows, summary } = timelineOf(
      start([0]),
      client(1, "client.invoke", { command: { op: "put", key: "k", value: "v" } }),
      client(2, "client.complete", { error: "no leader", definite: true }),
      client(3, "client.invoke", { seq: 2, command: { op: "get", key: "k" } }),
      client(4, "client.complete", { seq: 2, error: "timed out", definite: false }),
      end(5),
    );
    expect(rows.map((r) => r.clients[0]?.state ?? null)).toEqual([
      null,
      "pending",
      "failed",
      "pending",
      "maybe",
      null,
    ]);
    expect([summary.clients.failed, summary.clients.maybe]).toEqual([1, 1]);
  });
});

describe("a node named only by a harness event", () => {
  test("its restart changes no lane, and the state gives it a record of its own", () => {
    const timeline = timelineOf(
      start([0]),
      harness(1, "restart", {
        node: 9,
        ...network([[0, 9]]),
        currentTerm: 2,
        votedFor: null,
        log: [{ term: 2, command: "a" }],
      }),
      end(2),
    );
    expect(timeline.rows[1]!.lanes).toEqual([timeline.rows[0]!.lanes[0]]);
    expect(stateAfter(timeline, 1).get(9)!.log).toEqual([[2, '"a"']]);
  });
});
