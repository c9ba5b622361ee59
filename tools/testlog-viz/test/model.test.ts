import { describe, expect, test } from "vitest";
import { end, handmade, harness, onNode, start, timelineOf } from "./build.ts";

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

  test("a crashed node's lane stays dead until the harness restarts it", () => {
    const { rows } = timelineOf(
      start([4, 9]),
      harness(1, "crash", { node: 9, cutOff: [], dead: [9] }),
      onNode(2, 4, 1, "candidate", "role", { from: "follower", to: "candidate" }),
      harness(3, "restart", { node: 9, cutOff: [], dead: [] }),
      onNode(4, 9, 0, "dead", "role", { from: "follower", to: "dead" }),
      onNode(5, 9, 0, "follower", "role", { from: "dead", to: "follower" }),
      end(6),
    );
    expect(rows.map((r) => r.lanes[1]!.dead)).toEqual([
      false,
      true,
      true,
      false,
      true,
      false,
      false,
    ]);
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
      heartbeats: 10,
      failures: 0,
      duration: 500,
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
