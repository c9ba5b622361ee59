// Small traces for the tests, written the way the trace format describes them.
import { readFileSync } from "node:fs";
import { mergeTraces } from "../src/merge.ts";
import { buildTimeline, type Timeline } from "../src/model.ts";
import { parseTrace, readEvents } from "../src/trace.ts";

type Details = Record<string, unknown>;

export const harness = (t: number, kind: string, details: Details = {}) =>
  JSON.stringify({ t, node: null, term: null, role: null, kind, details });

export const onNode = (
  t: number,
  node: number,
  term: number,
  role: string,
  kind: string,
  details: Details = {},
) => JSON.stringify({ t, node, term, role, kind, details });

export const start = (nodes: number[], extra: Details = {}) =>
  harness(0, "test.start", {
    test: "t > small",
    file: "part0-test/test/small.test.ts",
    part: "part0-test",
    seed: 3,
    nodes,
    replay: "replay-it",
    render: "render-it",
    config: { raft: {}, network: {} },
    ...extra,
  });

export const end = (t: number, result = "pass", extra: Details = {}) =>
  harness(t, "test.end", { result, ...extra });

/** The network as harness events carry it: `groups` of live nodes, who is cut off, who is dead. */
export const network = (groups: number[][], cutOff: number[] = [], dead: number[] = []) => ({
  network: { groups, cutOff, dead },
});

/** A message event's details, as the simulated network writes them. */
export const message = (msg: number, rpc: string, type: string, extra: Details = {}) => ({
  msg,
  rpc,
  type,
  payload: { term: 1 },
  heartbeat: false,
  bytes: 10,
  ...extra,
});

export function timelineOf(...lines: string[]): Timeline {
  return buildTimeline(parseTrace(`${lines.join("\n")}\n`, "small.jsonl"));
}

export const fixture = (name: string) =>
  readFileSync(new URL(`fixtures/${name}`, import.meta.url), "utf8");

/** The hand-made 3-node election: two leaders in turn, an isolate, lost and cut messages. */
export const handmade = () =>
  buildTimeline(parseTrace(fixture("handmade-election.jsonl"), "handmade-election.jsonl"));

/** The hand-made files of one run of real processes (test/fixtures/merged-run), in this order. */
export const MERGED_FILES = ["client.jsonl", "n0.jsonl", "n1.jsonl", "n2.jsonl"];

/** The merged-run files read as the command line reads them, in the order given. */
export const mergedRun = (names: readonly string[] = MERGED_FILES) =>
  mergeTraces(
    names.map((name) => ({ source: name, ...readEvents(fixture(`merged-run/${name}`)) })),
    "merged-run",
  );
