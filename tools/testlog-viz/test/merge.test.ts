import { describe, expect, test } from "vitest";
import { mergeTraces } from "../src/merge.ts";
import { buildTimeline } from "../src/model.ts";
import { readEvents, type TraceEvent } from "../src/trace.ts";
import { end, onNode, start } from "./build.ts";
import { fixture, MERGED_FILES, mergedRun } from "./real.ts";

/** Where each message was sent and delivered, by position in the merged events. */
function sendsAndDeliveries(events: TraceEvent[]) {
  const at = (kind: string) =>
    new Map(
      events.flatMap((e, i) =>
        e.known && e.kind === kind && "msg" in e.details ? [[e.details.msg as number, i]] : [],
      ),
    );
  return { sent: at("send"), delivered: at("deliver") };
}

describe("merging the files of one run", () => {
  test("one timeline: every file's events by time, node columns from all files, the clients'", () => {
    const trace = mergedRun();
    const files = MERGED_FILES.map((name) => readEvents(fixture(`merged-run/${name}`)).events);
    expect(trace.events).toHaveLength(files.flat().length);
    expect(trace.warnings).toEqual([]);
    expect(trace.nodes).toEqual([0, 1, 2]);
    expect(trace.merged).toEqual({ files: MERGED_FILES, origin: 1732392000000, otherRuns: [] });
    // times count from the run's first event
    expect(trace.events.map((e) => e.t)).toEqual(
      files
        .flat()
        .map((e) => e.t - 1732392000000)
        .sort((a, b) => a - b),
    );
    // each file's own order is kept (stable within a file): each file is one node's, or the
    // client side's (node null), so its events' lines come in order
    for (const node of [null, 0, 1, 2]) {
      const lines = trace.events.filter((e) => e.node === node).map((e) => e.line);
      expect(lines).toEqual(lines.slice().sort((x, y) => x - y));
      expect(lines.length).toBeGreaterThan(10);
    }
    const timeline = buildTimeline(trace);
    expect(timeline.columns).toEqual(["TEST", "n0", "n1", "n2", "a", "b"]);
  });

  test("at equal times a delivery follows its send and a node's submit the client's attempt, in any file order", () => {
    for (const order of [MERGED_FILES, [...MERGED_FILES].reverse()]) {
      const { events } = mergedRun(order);
      const { sent, delivered } = sendsAndDeliveries(events);
      for (const [msg, i] of delivered) expect(i, `#${msg}`).toBeGreaterThan(sent.get(msg)!);
      const attempt = events.findIndex((e) => e.kind === "client.send" && e.t === 243);
      const submit = events.findIndex((e) => e.kind === "submit" && e.t === 243);
      expect(submit).toBeGreaterThan(attempt);
    }
  });

  test("messages link across files by id: a request sent by n1, delivered and answered by n0", () => {
    const { rows } = buildTimeline(mergedRun());
    const conv = rows.find((r) => r.kind === "send" && r.msg === 2001)!.conv;
    expect(
      rows.filter((r) => r.conv === conv).map((r) => `${r.kind} n${r.node} #${r.msg}`),
    ).toEqual(["send n1 #2001", "deliver n0 #2001", "send n0 #1001", "deliver n1 #1001"]);
  });
});

describe("merging: clocks that disagree, lines that do not read", () => {
  test("a delivery earlier than its send says the clocks disagree; a bad line names its file", () => {
    const sender = `${start([0, 1])}\n${onNode(1000, 0, 1, "leader", "send", { msg: 7, to: 1, rpc: "AppendEntries", type: "request", payload: {}, heartbeat: true, bytes: 2 })}\n${end(2000)}\n`;
    const receiver = `${onNode(990, 1, 1, "follower", "deliver", { msg: 7, from: 0, rpc: "AppendEntries", type: "request", payload: {}, heartbeat: true, bytes: 2 })}\nnot json\n`;
    const trace = mergeTraces(
      [
        { source: "/run/a.jsonl", ...readEvents(sender) },
        { source: "/run/b.jsonl", ...readEvents(receiver) },
      ],
      "/run",
    );
    expect(trace.warnings).toEqual([
      expect.stringMatching(/^b\.jsonl: line 2: not valid JSON/),
      expect.stringMatching(
        /^1 of the messages arrive before they were sent, by the files' clocks: #7 by 10 ms \(sent in a\.jsonl, delivered in b\.jsonl\)\. The merged view assumes/,
      ),
    ]);
    // the test's start and end come from the file that has them; the others need none
    expect([trace.start?.seed, trace.result]).toEqual([3, "pass"]);
    expect(trace.events.map((e) => e.t)).toEqual([0, 990, 1000, 2000]);
  });
});
