// Part 6 (PreVote, CheckQuorum and the lease, leadership transfer, ReadIndex, the parallel write,
// the clock drift fault) in the viz's model, read against real traces of part6-availability's
// code (test/fixtures: its port of etcd's TestLeaderTransferBack, and make-part6.ts's scenario):
// every event is a known kind read through part6-availability's trace module, with the part's
// own sentence; the part-6 state replayed from the rows (state.ts) agrees at every event with what
// the trace itself says (a pre-vote's count, the reads under way, a transfer, the clock's rate,
// and the lease: a node that ignores a vote under its lease is one the state says holds one, one
// that grants a pre-vote is not); the new RPCs read as words; the cluster view's model flies them.
import { describe, expect, test } from "vitest";
import { ClusterModel } from "../src/cluster-model.ts";
import { describe as describeEvent } from "../src/describe.ts";
import { sentence } from "../src/kinds.ts";
import { buildTimeline, type Timeline } from "../src/model.ts";
import { availabilityBadges, leaseLeft } from "../src/page/availability.ts";
import { applyOp, initialState, type NodeState } from "../src/state.ts";
import { parseTrace, type TraceEvent } from "../src/trace.ts";
import { fixture, realTimeline } from "./real.ts";

const PART6 = ["part6-availability.jsonl", "part6-transfer-back.jsonl"];

/** Every kind part 6 adds to part 5's, as part6-availability/src/trace.ts lists them. */
const NEW_KINDS = [
  ...["prevote.start", "prevote", "prevote.reply", "lease", "transfer.start", "transfer.end"],
  ...["read.start", "read.index", "read.ready", "drift"],
];

/** Calls `check` with each event, the lanes' roles, and every node's state just after it. */
function eachState(
  timeline: Timeline,
  check: (e: TraceEvent, state: (id: number) => NodeState, role: (id: number) => string) => void,
): void {
  const state = initialState(timeline.trace.nodes, timeline.storage);
  timeline.rows.forEach((row, i) => {
    for (const op of row.ops ?? []) applyOp(state, op);
    const role = (id: number) => row.lanes[timeline.trace.nodes.indexOf(id)]!.role;
    check(timeline.trace.events[i]!, (id) => state.get(id)!, role);
  });
}

describe("part 6's traces are read through part6-availability's kinds and sentences", () => {
  test.each(PART6)("%s: every event is of a known kind, with details that fit it", (name) => {
    const trace = parseTrace(fixture(name), name);
    expect(trace.warnings).toEqual([]);
    expect(trace.events.filter((e) => !e.known).map((e) => e.kind)).toEqual([]);
  });

  test("the scenario has every kind part 6 adds, and each row says the part's own sentence", () => {
    const timeline = realTimeline("part6-availability.jsonl");
    const kinds = new Set(timeline.trace.events.map((e) => e.kind));
    for (const kind of NEW_KINDS) expect(kinds.has(kind), kind).toBe(true);
    timeline.trace.events.forEach((e, i) => {
      if (!e.known || !NEW_KINDS.includes(e.kind)) return;
      const text = timeline.rows[i]!.text;
      // the part's sentence, as it is (no JSON in these to put in words), and no fields left over
      expect(text, e.kind).toBe(sentence(e));
      expect(text).not.toMatch(/no sentence|=/);
    });
    const background = timeline.trace.events.find(
      (e) => e.kind === "persist" && e.details.background === true,
    )!;
    expect(describeEvent(background).text).toContain("written while its messages travelled");
    expect(timeline.availability).toEqual({ leaseMs: 150 });
    expect(realTimeline("part5-chunks.jsonl").availability).toBeNull();
  });

  test("PreVote, TimeoutNow and ReadIndex read as words; a transfer's RequestVote says so", () => {
    const timeline = realTimeline("part6-availability.jsonl");
    const text = (rpc: string, type: string, extra = (_: TraceEvent) => true) =>
      timeline.rows[
        timeline.trace.events.findIndex(
          (e) =>
            e.known &&
            e.kind === "send" &&
            e.details.rpc === rpc &&
            e.details.type === type &&
            extra(e),
        )
      ]!.text;
    expect(text("PreVote", "request")).toMatch(
      /PreVote request #\d+ \(would-be term \d+, candidate n\d/,
    );
    expect(text("PreVote", "reply")).toMatch(/\(term \d+, would (not )?vote\)/);
    expect(text("TimeoutNow", "request")).toMatch(/\(term \d+, from leader n\d: campaign now\)/);
    expect(text("ReadIndex", "request")).toMatch(/\(term \d+, read for n\d\)/);
    expect(text("ReadIndex", "reply")).toMatch(/\(term \d+, read index \d+\)/);
    const transfer = text(
      "RequestVote",
      "request",
      (e) => e.known && e.kind === "send" && e.details.payload.leadershipTransfer === true,
    );
    expect(transfer).toContain("a leadership transfer: leases set aside");
    const messages = timeline.rows.filter((r) => ["send", "deliver", "drop"].includes(r.kind));
    for (const row of messages) expect(row.text).not.toContain("{");
  });
});

describe("part 6's state, replayed from the rows, agrees with the trace at every event", () => {
  test.each(PART6)("%s", (name) => {
    const timeline = realTimeline(name);
    const leaseMs = timeline.availability!.leaseMs;
    const seen = new Map<string, number>();
    const saw = (what: string) => seen.set(what, (seen.get(what) ?? 0) + 1);
    eachState(timeline, (e, state, role) => {
      if (!e.known) return;
      if (e.node === null) {
        if (e.kind === "drift") {
          expect(state(e.details.node).clockRate ?? 1).toBe(e.details.rate);
          saw("drift");
        }
        return;
      }
      const node = state(e.node);
      const at = `${name} t=${e.t} n${e.node} ${e.kind}`;
      switch (e.kind) {
        case "prevote.start":
          expect(node.prevote, at).toEqual({ term: e.details.term, votes: 1 });
          expect(node.leader, at).toBeUndefined();
          saw(e.kind);
          break;
        case "prevote.reply":
          expect(node.prevote?.votes, at).toBe(e.details.votes);
          saw(e.kind);
          break;
        case "term":
        case "role":
          if (role(e.node) !== "follower" || e.kind === "term")
            expect(node.prevote, at).toBeUndefined();
          break;
        case "lease":
          // §4.2.3: it ignored the vote because it leads or heard from its leader lately
          expect(node.leader?.id, at).toBe(e.details.leader);
          expect(leaseLeft(node, role(e.node), e.t, leaseMs), at).not.toBeNull();
          saw(e.kind);
          break;
        case "prevote":
          // a grant is given only outside a lease (and only for a later term than its own)
          if (e.details.granted) {
            expect(leaseLeft(node, role(e.node), e.t, leaseMs), at).toBeNull();
            saw("prevote granted");
          }
          break;
        case "transfer.start":
          expect(node.transfer, at).toBe(e.details.target);
          saw(e.kind);
          break;
        case "transfer.end":
          expect(node.transfer, at).toBeUndefined();
          saw(e.kind);
          break;
        case "read.start":
          expect(node.reads?.get(e.details.read), at).toMatchObject({
            step: role(e.node) === "leader" ? "confirm" : "forward",
            follower: e.details.follower ?? null,
          });
          saw(e.kind);
          break;
        case "read.index": {
          const read = node.reads?.get(e.details.read);
          // the leader's own read now applies; a follower's ends here, the follower applies
          if (read !== undefined)
            expect(read, at).toEqual({
              step: "apply",
              readIndex: e.details.readIndex,
              follower: null,
            });
          saw(e.kind);
          break;
        }
        case "read.ready":
        case "read.fail":
          expect(node.reads?.has(e.details.read) ?? false, at).toBe(false);
          saw(e.kind);
          break;
        default:
          break;
      }
      if (role(e.node) === "leader") expect(node.leader?.id, at).toBe(e.node);
    });
    expect(seen.get("transfer.start")).toBeGreaterThan(0);
    expect(seen.get("prevote granted")).toBeGreaterThan(0);
    if (name === "part6-availability.jsonl") {
      for (const what of ["lease", "read.start", "read.index", "read.ready", "drift"]) {
        expect(seen.get(what), what).toBeGreaterThan(0);
      }
    }
  });

  test("a follower's read: asked on the follower, confirmed and ended on the leader, served on the follower", () => {
    const timeline = realTimeline("part6-availability.jsonl");
    const events = timeline.trace.events;
    const asked = events.findIndex(
      (e) => e.known && e.kind === "read.start" && e.details.follower !== undefined,
    );
    const e = events[asked]!;
    const follower = (e.details as { follower: number }).follower;
    const state = initialState(timeline.trace.nodes, true);
    timeline.rows.slice(0, asked + 1).forEach((row) => {
      for (const op of row.ops ?? []) applyOp(state, op);
    });
    expect(state.get(follower)!.reads?.size).toBe(1);
    expect([...state.get(follower)!.reads!.values()][0]!.step).toBe("forward");
    expect([...state.get(e.node!)!.reads!.values()]).toEqual([
      { step: "confirm", readIndex: null, follower },
    ]);
  });
});

describe("the leader's parallel write (§10.2.1)", () => {
  test("between a leader's append and its background save, its entries travel and it shows `writing`", () => {
    const timeline = realTimeline("part6-availability.jsonl");
    const events = timeline.trace.events;
    const saved = events.findIndex((e) => e.kind === "persist" && e.details.background === true);
    const leader = events[saved]!.node!;
    const appended = events.findLastIndex(
      (e, i) => i < saved && e.node === leader && e.kind === "log.append",
    );
    // the entries left before the write was durable: an AppendEntries carrying them between
    const sent = events
      .slice(appended, saved)
      .some(
        (e) =>
          e.known && e.kind === "send" && e.node === leader && e.details.rpc === "AppendEntries",
      );
    expect(sent).toBe(true);
    const badges = (row: number) => {
      const state = initialState(timeline.trace.nodes, true);
      timeline.rows.slice(0, row + 1).forEach((r) => {
        for (const op of r.ops ?? []) applyOp(state, op);
      });
      return availabilityBadges(state.get(leader)!, "leader", events[row]!.t, 150).map(
        (b) => b.text,
      );
    };
    expect(badges(appended)).toContain("writing");
    expect(badges(saved)).not.toContain("writing");
  });
});

describe("part 6 in the cluster view's model", () => {
  test("pre-votes, TimeoutNow and ReadIndex fly; a pre-vote restarts the timer; CheckQuorum ends a leader's lead", () => {
    const timeline = realTimeline("part6-availability.jsonl");
    const model = new ClusterModel(timeline.trace.nodes);
    model.appendEvents(timeline.trace.events);
    const rpcs = new Set(model.flights.map((f) => f.rpc));
    for (const rpc of ["PreVote", "TimeoutNow", "ReadIndex"]) expect(rpcs.has(rpc), rpc).toBe(true);
    expect(model.availability).toEqual({ leaseMs: 150 });
    // every pre-vote starts a new run of the node's timer, at that event
    model.events.forEach((e, index) => {
      if (e.kind !== "prevote.start") return;
      expect(model.timerAt(e.node!, index)?.start.index).toBe(index);
    });
    // the leader that CheckQuorum steps down: no leader known, no lease, a timer again
    const down = model.events.findIndex(
      (e) => e.kind === "role" && String(e.details.reason).startsWith("CheckQuorum"),
    );
    const id = model.events[down]!.node!;
    const node = model.stateAt(down).get(id)!;
    expect(node.leader).toBeUndefined();
    expect(leaseLeft(node, "follower", model.events[down]!.t, 150)).toBeNull();
    expect(model.timerAt(id, down)).not.toBeNull();
    const badges = (i: number) =>
      availabilityBadges(model.stateAt(i).get(id)!, "follower", model.events[i]!.t, 150).map(
        (b) => b.text,
      );
    expect(badges(down)).toContain("no quorum");
    // until it hears from the leader the others elected
    const heard = model.events.findIndex(
      (e, i) =>
        i > down &&
        e.node === id &&
        e.kind === "deliver" &&
        e.details.rpc === "AppendEntries" &&
        e.details.type === "request",
    );
    expect(badges(heard - 1)).toContain("no quorum");
    expect(badges(heard)).not.toContain("no quorum");
  });

  test("the model fed in pieces gives the same part-6 state as the timeline", () => {
    const timeline = realTimeline("part6-availability.jsonl");
    const model = new ClusterModel();
    const events = timeline.trace.events;
    for (let i = 0; i < events.length; i += 37) model.appendEvents(events.slice(i, i + 37));
    const state = initialState(timeline.trace.nodes, true);
    timeline.rows.forEach((row, i) => {
      for (const op of row.ops ?? []) applyOp(state, op);
      if (i % 50 !== 0) return;
      for (const id of timeline.trace.nodes) {
        expect(model.stateAt(i).get(id), `row ${i} n${id}`).toEqual(state.get(id));
      }
    });
    expect(buildTimeline(timeline.trace).availability).toEqual(model.availability);
  });
});
