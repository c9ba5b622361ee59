// Small traces for the tests, written the way the trace format describes them.
import { buildTimeline, type Timeline } from "../src/model.ts";
import { parseTrace } from "../src/trace.ts";

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
