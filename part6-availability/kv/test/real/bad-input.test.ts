// Goal: bad input gets a 4xx with a JSON error and never crashes or stalls a node: malformed JSON,
// wrong types, missing fields, keys, values and bodies over their limits, unknown routes and
// methods, bytes that are not HTTP, headers that never end, a body cut short; and Raft RPCs with
// any field wrong. Method: a real 3-node cluster; each case is sent to a node over a raw socket,
// all at once; afterwards every node must still answer and serve a write and a read, and no term
// may have jumped to the 10^9 that every malformed Raft message carries (it was never handled).

import { expect, test } from "vitest";
import { MAX_KEY_BYTES, MAX_VALUE_BYTES } from "../../src/kv/commands.ts";
import { PATIENCE } from "./local.ts";
import { type RawAnswer, rawRequest } from "./raw-http.ts";
import { describeReal, expectStillServes, RealCluster } from "./real-cluster.ts";

function request(
  method: string,
  path: string,
  body?: string | Buffer,
  headers: string[] = [],
): string | Buffer {
  const head = [`${method} ${path} HTTP/1.1`, "Host: node", ...headers];
  if (body === undefined) return `${[...head, "", ""].join("\r\n")}`;
  const start = `${[...head, `Content-Length: ${Buffer.byteLength(body)}`, "", ""].join("\r\n")}`;
  return Buffer.concat([Buffer.from(start), Buffer.from(body)]);
}

const post = (path: string, body: unknown) =>
  request("POST", path, typeof body === "string" ? body : JSON.stringify(body));

const HUGE_TERM = 10 ** 9;
const vote = { term: HUGE_TERM, candidateId: 1, lastLogIndex: 0, lastLogTerm: 0 };
const append = {
  term: HUGE_TERM,
  leaderId: 1,
  prevLogIndex: 0,
  prevLogTerm: 0,
  entries: [],
  leaderCommit: 0,
};
const put = { kind: "kv", command: { op: "put", key: "k", value: "v" } };
const chunk = {
  term: HUGE_TERM,
  leaderId: 1,
  lastIncludedIndex: 40,
  lastIncludedTerm: 2,
  offset: 0,
  data: "{}",
  done: true,
};
/** A message from n1 to n0 whose payload is `payload` (each below is wrong in one way). */
const toN0 = (payload: unknown, envelope: object = {}) => ({
  msg: 1,
  from: 1,
  to: 0,
  payload,
  ...envelope,
});

/**
 * Each case: what it sends (a single request unless said), the status it must get, and the node it
 * goes to: n0, unless it must wait out a node's limit on slow requests (n1, whose limits are short).
 */
const cases: [string, (string | Buffer)[], number, number?][] = [
  ["malformed JSON", [post("/kv", "{bad")], 400],
  ["JSON that is not an object", [post("/kv", "[1,2]")], 400],
  ["a key of the wrong type", [post("/kv", { command: { op: "put", key: 1, value: "x" } })], 400],
  ["a missing value", [post("/kv", { command: { op: "put", key: "k" } })], 400],
  ["an unknown op", [post("/kv", { command: { op: "drop", key: "k" } })], 400],
  ["seq without client", [post("/kv", { seq: 1, command: { op: "get", key: "k" } })], 400],
  [
    "seq without session",
    [post("/kv", { client: "c", seq: 1, command: { op: "get", key: "k" } })],
    400,
  ],
  ["an open that is not true", [post("/kv", { client: "c", open: "yes" })], 400],
  ["an open without client", [post("/kv", { open: true })], 400],
  [
    "an open with a command",
    [post("/kv", { client: "c", open: true, command: { op: "get", key: "k" } })],
    400,
  ],
  ["cas without expected", [post("/kv/k/cas", { value: "x" })], 400],
  ["cas with a number", [post("/kv/k/cas", { expected: 1, value: "x" })], 400],
  ["a key over the limit", [request("GET", `/kv/${"a".repeat(MAX_KEY_BYTES + 1)}`)], 400],
  ["a value over the limit", [request("PUT", "/kv/k", "v".repeat(MAX_VALUE_BYTES + 1))], 413],
  ["a body over the limit", [post("/kv", "x".repeat(2 * 1024 * 1024))], 413],
  [
    "a chunked body over the limit",
    [
      request("PUT", "/kv/k", undefined, ["Transfer-Encoding: chunked"]),
      ...Array.from({ length: 20 }, () => `1000\r\n${"x".repeat(4096)}\r\n`),
    ],
    413,
  ],
  ["a value that is not UTF-8", [request("PUT", "/kv/k", Buffer.from([0xff, 0xfe]))], 400],
  ["a key that is not percent-encoded UTF-8", [request("GET", "/kv/%E0%A4%A")], 400],
  ["an unknown query parameter", [request("GET", "/kv/k?sequence=1")], 400],
  ["a seq that is no number", [request("GET", "/kv/k?client=c&session=1&seq=one")], 400],
  ["a session that is no number", [request("GET", "/kv/k?client=c&session=s&seq=1")], 400],
  ["an unknown route", [request("GET", "/keys")], 404],
  ["a fault that drops the node itself", [request("PUT", "/admin/faults", '{"drop":[0]}')], 400],
  ["an unknown method", [request("PATCH", "/kv/k", "x")], 405],
  ["a URL over 16 KiB", [request("GET", `/kv/${"a".repeat(20_000)}`)], 431],
  ["bytes that are not HTTP", ["HELLO THERE\r\n\r\n"], 400],
  ["headers that never end", ["GET /status HTTP/1.1\r\nHost: node\r\n"], 408, 1],
  [
    "a body cut short",
    [request("PUT", "/kv/k", undefined, ["Content-Length: 100"]), "abc"],
    408,
    1,
  ],
  ["RequestVote: not JSON", [post("/raft/request-vote", "{")], 400],
  ["RequestVote: a negative term", [post("/raft/request-vote", toN0({ ...vote, term: -1 }))], 400],
  [
    "RequestVote: a term as a string",
    [post("/raft/request-vote", toN0({ ...vote, term: "7" }))],
    400,
  ],
  [
    "RequestVote: a fractional index",
    [post("/raft/request-vote", toN0({ ...vote, lastLogIndex: 1.5 }))],
    400,
  ],
  [
    "RequestVote: a missing field",
    [post("/raft/request-vote", toN0({ ...vote, lastLogTerm: undefined }))],
    400,
  ],
  ["RequestVote: an unknown field", [post("/raft/request-vote", toN0({ ...vote, extra: 1 }))], 400],
  [
    "RequestVote: a candidate that is not the sender",
    [post("/raft/request-vote", toN0({ ...vote, candidateId: 2 }))],
    400,
  ],
  [
    "RequestVote: a last log term with no entry",
    [post("/raft/request-vote", toN0({ ...vote, lastLogTerm: 3 }))],
    400,
  ],
  [
    "RequestVote: from a stranger",
    [post("/raft/request-vote", toN0({ ...vote, candidateId: 7 }, { from: 7 }))],
    400,
  ],
  [
    "RequestVote: addressed to another node",
    [post("/raft/request-vote", toN0(vote, { to: 2 }))],
    400,
  ],
  ["RequestVote: no message id", [post("/raft/request-vote", toN0(vote, { msg: undefined }))], 400],
  [
    "RequestVote: a body over the limit",
    [post("/raft/request-vote", toN0({ ...vote, pad: "x".repeat(8192) }))],
    413,
  ],
  [
    "AppendEntries: entries not an array",
    [post("/raft/append-entries", toN0({ ...append, entries: "x" }))],
    400,
  ],
  [
    "AppendEntries: an entry of term 0",
    [post("/raft/append-entries", toN0({ ...append, entries: [{ term: 0, command: null }] }))],
    400,
  ],
  [
    "AppendEntries: an entry after the leader's term",
    [
      post(
        "/raft/append-entries",
        toN0({ ...append, term: 2, entries: [{ term: 3, command: null }] }),
      ),
    ],
    400,
  ],
  [
    "AppendEntries: entries whose terms go down",
    [
      post(
        "/raft/append-entries",
        toN0({
          ...append,
          entries: [
            { term: 5, command: null },
            { term: 4, command: null },
          ],
        }),
      ),
    ],
    400,
  ],
  [
    "AppendEntries: an entry without a command",
    [post("/raft/append-entries", toN0({ ...append, entries: [{ term: 1 }] }))],
    400,
  ],
  [
    "AppendEntries: a command that is no key/value request",
    [
      post(
        "/raft/append-entries",
        toN0({
          ...append,
          entries: [{ term: 1, command: { ...put, command: { op: "put", key: 1 } } }],
        }),
      ),
    ],
    400,
  ],
  [
    "AppendEntries: a leader that is not the sender",
    [post("/raft/append-entries", toN0({ ...append, leaderId: 2 }))],
    400,
  ],
  [
    "AppendEntries: a negative commit index",
    [post("/raft/append-entries", toN0({ ...append, leaderCommit: -1 }))],
    400,
  ],
  [
    "AppendEntries: prevLogTerm without prevLogIndex",
    [post("/raft/append-entries", toN0({ ...append, prevLogTerm: 2 }))],
    400,
  ],
  [
    "InstallSnapshot: data that is no string",
    [post("/raft/install-snapshot", toN0({ ...chunk, data: { a: 1 } }))],
    400,
  ],
  [
    "InstallSnapshot: a negative offset",
    [post("/raft/install-snapshot", toN0({ ...chunk, offset: -1 }))],
    400,
  ],
  [
    "InstallSnapshot: a snapshot of no entry",
    [post("/raft/install-snapshot", toN0({ ...chunk, lastIncludedIndex: 0, lastIncludedTerm: 0 }))],
    400,
  ],
  [
    "InstallSnapshot: a last term after the leader's",
    [post("/raft/install-snapshot", toN0({ ...chunk, term: 2, lastIncludedTerm: 3 }))],
    400,
  ],
  [
    "InstallSnapshot: done missing",
    [post("/raft/install-snapshot", toN0({ ...chunk, done: undefined }))],
    400,
  ],
  [
    "InstallSnapshot: a chunk over the limit",
    [post("/raft/install-snapshot", toN0({ ...chunk, data: "x".repeat(3 * 1024 * 1024) }))],
    413,
  ],
];

describeReal("real nodes: bad input", () => {
  test("gets a 4xx with a JSON error, and every node still serves afterwards", async (ctx) => {
    // A slow request is cut after these: long enough for every case n0 gets, all sent at once, to
    // be read whole by a node on a busy machine (with 1 and 2 s, one at load 20 cut them all).
    const limits = (headers: number, request: number) =>
      ["--http-headers-timeout", headers, "--http-request-timeout", request].map(String);
    // n1 gets only the slow requests, which must be cut, and small ones (Raft's, this test's
    // write and read), each read whole as it arrives: short limits cut none of those, and end
    // the wait for the slow ones sooner (the test's longest).
    const cluster = await RealCluster.start(ctx, {
      nodes: 3,
      flags: limits(3000 * PATIENCE, 6000 * PATIENCE),
      nodeFlags: { 1: limits(1000 * PATIENCE, 2000 * PATIENCE) },
    });
    const answers = await Promise.all(
      cases.map(([, parts, , to = 0]) =>
        rawRequest(cluster.cluster.get(to)!.port, parts, { timeoutMs: 15_000 * PATIENCE }),
      ),
    );
    const wrong = cases.flatMap(([name, , status], i) => {
      const answer = answers[i]!;
      return answer.status === status && jsonError(answer)
        ? []
        : [`${name}: expected ${status} with a JSON error, got ${shown(answer)}`];
    });
    expect(wrong).toEqual([]);
    await expectStillServes(cluster, HUGE_TERM);
  });
});

function jsonError(answer: RawAnswer): boolean {
  try {
    return typeof (JSON.parse(answer.body) as { error?: unknown }).error === "string";
  } catch {
    return false;
  }
}

function shown(answer: RawAnswer): string {
  if (answer.status === undefined)
    return answer.closed ? "the connection closed without an answer" : "no answer";
  return `${answer.status} ${answer.body.slice(0, 200)}`;
}
