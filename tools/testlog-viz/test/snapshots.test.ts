// Part 5 (log compaction, snapshots, InstallSnapshot) in the viz's model, read against real
// traces of part5-snapshots' code (test/fixtures: its test of etcd's slow follower, and the two
// scenarios of make-part5.ts): every event is a known kind; the state replayed from the rows
// (state.ts: each node's snapshot and the log after it) agrees at every event with what the
// trace itself says (persist, snapshot.*, apply, restart, and the prevLogIndex and prevLogTerm
// every AppendEntries carries); InstallSnapshot rows read as words and link request and reply;
// the cluster view's model flies its chunks, follows what a follower holds of them, and marks a
// node a leader reports as having lost data; data.lost is loud, and no failure.
import { describe, expect, test } from "vitest";
import { ClusterModel } from "../src/cluster-model.ts";
import { firstFailure } from "../src/failure.ts";
import type { Timeline } from "../src/model.ts";
import {
  applyOp,
  baseOf,
  entryAt,
  initialState,
  lastIndexOf,
  type NodeState,
} from "../src/state.ts";
import { parseTrace, type TraceEvent } from "../src/trace.ts";
import { end, harness, network, onNode, start, timelineOf } from "./build.ts";
import { fixture, realTimeline } from "./real.ts";

const PART5 = ["part5-slow-follower.jsonl", "part5-chunks.jsonl", "part5-data-lost.jsonl"];

/** Calls `check` with each event and every node's state just after it, replayed from the rows. */
function eachState(
  timeline: Timeline,
  check: (e: TraceEvent, state: (id: number) => NodeState, i: number) => void,
): void {
  const state = initialState(timeline.trace.nodes, timeline.storage);
  timeline.rows.forEach((row, i) => {
    for (const op of row.ops ?? []) applyOp(state, op);
    check(timeline.trace.events[i]!, (id) => state.get(id)!, i);
  });
}

/** The term of entry `index` in a node's state: the snapshot's last one's, or the log's. */
function termAt(node: NodeState, index: number): number | undefined {
  if (index === 0) return 0;
  if (index === baseOf(node)) return node.snapshot!.lastIncludedTerm;
  return entryAt(node, index)?.[0];
}

const modelOf = (name: string) => {
  const timeline = realTimeline(name);
  const model = new ClusterModel(timeline.trace.nodes);
  model.appendEvents(timeline.trace.events);
  return { timeline, model };
};

describe("part 5's traces are read through part5-snapshots' kinds", () => {
  test.each(PART5)("%s: every event is of a known kind, with details that fit it", (name) => {
    const trace = parseTrace(fixture(name), name);
    expect(trace.warnings).toEqual([]);
    expect(trace.events.filter((e) => !e.known).map((e) => e.kind)).toEqual([]);
    const kinds = new Set(trace.events.map((e) => e.kind));
    for (const kind of ["log.compact", "snapshot.take"]) expect(kinds.has(kind), kind).toBe(true);
  });
});

describe("each node's snapshot and the log after it, replayed from the rows", () => {
  test.each(PART5)("%s: the state agrees with the trace's own events at every event", (name) => {
    const timeline = realTimeline(name);
    const seen = new Map<string, number>();
    const saw = (what: string) => seen.set(what, (seen.get(what) ?? 0) + 1);
    eachState(timeline, (e, state, i) => {
      if (!e.known) return;
      const at = `${name} row ${i + 1} (${e.kind})`;
      if (e.node !== null && (e.kind === "snapshot.take" || e.kind === "snapshot.restore")) {
        expect(state(e.node).snapshot, at).toEqual({
          lastIncludedIndex: e.details.lastIncludedIndex,
          lastIncludedTerm: e.details.lastIncludedTerm,
        });
        saw(e.kind);
      } else if (e.node !== null && e.kind === "snapshot.install") {
        const node = state(e.node);
        const { lastIncludedIndex, lastIncludedTerm, kept } = e.details;
        expect(node.snapshot, at).toEqual({ lastIncludedIndex, lastIncludedTerm });
        // Figure 13, rules 6 to 8: the entries after it that stayed, and the state machine's place
        expect([node.log.length, node.commitIndex, node.lastApplied], at).toEqual([
          kept,
          lastIncludedIndex,
          lastIncludedIndex,
        ]);
        saw(e.kind);
      } else if (e.node !== null && e.kind === "persist") {
        // a save holds what memory holds (part 3's rule), the snapshot with it
        const node = state(e.node);
        expect(lastIndexOf(node), at).toBe(e.details.lastLogIndex);
        expect(node.disk?.lastLogIndex, at).toBe(e.details.lastLogIndex);
        if (e.details.snapshotIndex !== undefined) {
          expect(node.snapshot?.lastIncludedIndex, at).toBe(e.details.snapshotIndex);
          expect(node.disk?.snapshotIndex, at).toBe(e.details.snapshotIndex);
          saw("persist with a snapshot");
        }
      } else if (e.node !== null && e.kind === "apply") {
        expect(termAt(state(e.node), e.details.index), at).toBe(e.details.term);
      } else if (e.kind === "restart") {
        const node = state(e.details.node);
        const snapshot = e.details.snapshot;
        const base = snapshot?.lastIncludedIndex ?? 0;
        expect(
          node.log.map(([term]) => term),
          at,
        ).toEqual(e.details.log.map((x) => x.term));
        expect([baseOf(node), node.commitIndex, node.lastApplied], at).toEqual([base, base, base]);
        if (snapshot) saw("restart from a snapshot");
      } else if (e.node !== null && e.kind === "send" && e.details.type === "request") {
        const p = e.details.payload as Record<string, number>;
        const leader = state(e.node);
        if (e.details.rpc === "AppendEntries") {
          // the entry before the ones it sends: in the log, or the snapshot's last one
          expect(termAt(leader, p.prevLogIndex!), at).toBe(p.prevLogTerm);
          saw("AppendEntries");
        } else if (e.details.rpc === "InstallSnapshot") {
          expect(leader.snapshot, at).toEqual({
            lastIncludedIndex: p.lastIncludedIndex,
            lastIncludedTerm: p.lastIncludedTerm,
          });
          saw("InstallSnapshot");
        }
      }
    });
    // the checks above ran on what each trace holds
    expect(seen.get("snapshot.take")).toBeGreaterThan(0);
    expect(seen.get("persist with a snapshot")).toBeGreaterThan(0);
    expect(seen.get("AppendEntries")).toBeGreaterThan(10);
    if (name !== "part5-data-lost.jsonl") {
      expect(seen.get("snapshot.install")).toBe(1);
      expect(seen.get("InstallSnapshot")).toBeGreaterThan(0);
    }
    if (name === "part5-chunks.jsonl") expect(seen.get("restart from a snapshot")).toBe(1);
  });

  test("compaction, a truncation after it, an install that keeps entries (rule 6), a restart", () => {
    const entries = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => ({ term: 1, command: `c${from + i}` }));
    const timeline = timelineOf(
      start([0]),
      onNode(1, 0, 1, "follower", "log.append", { index: 1, entries: entries(1, 6) }),
      onNode(2, 0, 1, "follower", "log.compact", { through: 3, term: 1, removed: 3 }),
      onNode(2, 0, 1, "follower", "log.truncate", { from: 6, removed: 1 }),
      onNode(3, 0, 1, "follower", "log.append", { index: 6, entries: entries(6, 7) }),
      // a leader's snapshot through [5], whose entry the log holds: [6] and [7] stay
      onNode(4, 0, 1, "follower", "log.compact", { through: 5, term: 1, removed: 2 }),
      onNode(4, 0, 1, "follower", "snapshot.install", {
        ...{ lastIncludedIndex: 5, lastIncludedTerm: 1, size: 10, digest: 1, from: 1, kept: 2 },
      }),
      // one through [9], past the log's end: the whole log goes
      onNode(5, 0, 1, "follower", "log.compact", { through: 9, term: 1, removed: 2 }),
      harness(6, "restart", {
        node: 0,
        ...network([[0]]),
        ...{ currentTerm: 1, votedFor: null, log: entries(10, 11) },
        snapshot: { lastIncludedIndex: 9, lastIncludedTerm: 1, size: 10, digest: 2 },
      }),
      end(7),
    );
    const after: NodeState[] = [];
    eachState(timeline, (_, state) => after.push(structuredClone(state(0))));
    const commands = (n: NodeState) => n.log.map(([, command]) => command);
    expect([baseOf(after[2]!), commands(after[2]!)]).toEqual([3, ['"c4"', '"c5"', '"c6"']]);
    expect(commands(after[3]!)).toEqual(['"c4"', '"c5"']);
    expect(lastIndexOf(after[4]!)).toBe(7);
    expect([baseOf(after[6]!), commands(after[6]!)]).toEqual([5, ['"c6"', '"c7"']]);
    expect([after[6]!.commitIndex, after[6]!.lastApplied]).toEqual([5, 5]);
    expect([baseOf(after[7]!), after[7]!.log, entryAt(after[7]!, 8)]).toEqual([9, [], undefined]);
    expect([baseOf(after[8]!), lastIndexOf(after[8]!), after[8]!.commitIndex]).toEqual([9, 11, 9]);
  });
});

describe("InstallSnapshot in the timeline", () => {
  test("its rows say which snapshot and which chunk, never the chunk's text; a reply joins its request", () => {
    const timeline = realTimeline("part5-chunks.jsonl");
    const rows = timeline.rows.filter((_, i) => {
      const e = timeline.trace.events[i]!;
      return e.known && e.kind === "send" && e.details.rpc === "InstallSnapshot";
    });
    const requests = rows.filter((r) => r.msg === r.conv);
    expect(requests.length).toBeGreaterThan(5);
    for (const row of requests) {
      expect(row.text).toMatch(/InstallSnapshot request #\d+ \(term \d+, leader n\d, snapshot/);
      expect(row.text).toMatch(/chunk \d+\.\.\d+ of its text, (more to come|the last)\)$/);
      expect(row.text).not.toContain("command"); // the snapshot's text stays out
    }
    const replies = rows.filter((r) => r.msg !== r.conv);
    expect(replies.length).toBeGreaterThan(0);
    for (const reply of replies) {
      expect(requests.some((r) => r.msg === reply.conv)).toBe(true);
      expect(reply.text).toMatch(/\(term \d+, chunk (taken|refused)\)$/);
    }
    const chunk = timeline.rows.find((r) => r.kind === "snapshot.chunk")!;
    expect(chunk.text).toMatch(/^takes chunk 0\.\.256 of n\d's snapshot through \[20\]/);
  });

  test("the summary counts snapshots taken and installed", () => {
    const { summary } = realTimeline("part5-chunks.jsonl");
    expect(summary.storage).toMatchObject({ snapshots: 4, installs: 1, crashes: 2, restarts: 2 });
    expect(summary.dataLost).toEqual([]);
  });
});

describe("InstallSnapshot in the cluster view's model", () => {
  test("its chunks fly as InstallSnapshot; a follower holds what it took until a crash or the install", () => {
    const { timeline, model } = modelOf("part5-chunks.jsonl");
    const events = timeline.trace.events;
    const sends = events.filter(
      (e) => e.known && e.kind === "send" && e.details.rpc === "InstallSnapshot",
    );
    expect(model.flights.filter((f) => f.rpc === "InstallSnapshot" && !f.duplicate)).toHaveLength(
      sends.length,
    );
    const chunks = events.flatMap((e, i) =>
      e.known && e.kind === "snapshot.chunk" ? [{ i, node: e.node!, d: e.details }] : [],
    );
    const crash = events.findIndex((e) => e.kind === "crash");
    const install = events.findIndex((e) => e.kind === "snapshot.install");
    const beforeCrash = chunks.filter((c) => c.i < crash);
    const last = beforeCrash.at(-1)!;
    expect(model.incomingAt(last.node, crash - 1)).toEqual({
      from: last.d.from,
      through: last.d.lastIncludedIndex,
      holds: last.d.offset + last.d.size,
    });
    expect(model.incomingAt(last.node, crash)).toBeNull(); // in memory only: the crash loses it
    // after the restart: a refused chunk holds nothing; the chunks from 0 build it up again
    const refused = chunks.find((c) => c.i > crash && !c.d.taken)!;
    expect(model.incomingAt(refused.node, refused.i)).toBeNull();
    const again = chunks.find((c) => c.i > refused.i && c.d.taken)!;
    expect(model.incomingAt(again.node, again.i)?.holds).toBe(again.d.size);
    expect(model.incomingAt(again.node, install)).toBeNull();
  });

  test("an InstallSnapshot from the current leader restarts a follower's election timer (Figure 13)", () => {
    const { timeline, model } = modelOf("part5-slow-follower.jsonl");
    const at = timeline.trace.events.findIndex(
      (e) =>
        e.known && e.kind === "deliver" && e.details.rpc === "InstallSnapshot" && e.node !== null,
    );
    const node = timeline.trace.events[at]!.node!;
    expect(model.timerAt(node, at)?.start.index).toBe(at);
  });
});

describe("a follower that lost its data (data.lost)", () => {
  test("the leader's report is loud: a row red across, a section of the page, the node marked", () => {
    const { timeline, model } = modelOf("part5-data-lost.jsonl");
    const i = timeline.rows.findIndex((r) => r.kind === "data.lost");
    const row = timeline.rows[i]!;
    expect(row.tone).toBe("alarm");
    expect(row.text).toMatch(/^n\d HAS LOST DATA: it had acknowledged \[12\] in this term/);
    expect(timeline.summary.dataLost).toEqual([[i, `n${row.node}: ${row.text}`]]);
    // loud, but no failure: the checkers' violation (provoked on purpose here) is the failure
    expect(timeline.summary.failures).toBe(0);
    expect(firstFailure(timeline)).toMatchObject({ what: "violation", expected: true });
    const e = timeline.trace.events[i]!;
    const peer = e.known && e.kind === "data.lost" ? e.details.peer : -1;
    expect(model.lostDataAt(peer, i - 1)).toBeNull();
    expect(model.lostDataAt(peer, i)).toMatchObject({ index: i, by: row.node, acknowledged: 12 });
  });

  test("a data.lost without `holds` reads as well", () => {
    const { rows } = timelineOf(
      start([0, 1]),
      onNode(1, 0, 2, "leader", "data.lost", { peer: 1, acknowledged: 4, refused: 4 }),
      end(2),
    );
    expect(rows[1]!.text).toMatch(
      /^n1 HAS LOST DATA: it had acknowledged \[4\] in this term, and now refuses \[4\]\. /,
    );
    expect(rows[1]!.tone).toBe("alarm");
  });
});
