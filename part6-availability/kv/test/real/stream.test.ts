// Goal: the stream each node keeps open to each peer it calls (raft-stream.ts) carries Raft's RPCs
// as well as one HTTP request each did, and fails the same ways. Lines are cut right whatever the
// chunks; answers reach their own calls in any order; a stream that breaks, or that leaves a call
// unanswered, fails every call waiting on it, and the next call opens a new one; something that
// is not a node's stream is said so. On the answering side, a node refuses what it cannot read
// (another path or protocol, a line that is no request, a request of the wrong shape or size) with
// a JSON error, closes that stream, and goes on serving.
// Method: the calling side (HttpPeers) against servers in this process that answer as a test says;
// the answering side, a real 3-node cluster sent raw bytes.

import { connect, createServer, type Socket } from "node:net";
import { describe, expect, type TestContext, test } from "vitest";
import { HttpPeers } from "../../src/real/raft-http.ts";
import { LineReader, STREAM_PATH, STREAM_PROTOCOL } from "../../src/real/raft-stream.ts";
import { PATIENCE } from "./local.ts";
import { describeReal, expectStillServes, RealCluster } from "./real-cluster.ts";

describe("the stream's lines", () => {
  test("are cut at each newline, however the bytes arrive, and none may outgrow the limit", () => {
    const lines: string[] = [];
    const reader = new LineReader(10, (line) => lines.push(line.toString()));
    expect(reader.push(Buffer.from("ab"))).toBe(true);
    expect(reader.push(Buffer.from("c\nde\n\nf"))).toBe(true);
    expect(reader.push(Buffer.from("gh\n"))).toBe(true);
    expect(lines).toEqual(["abc", "de", "", "fgh"]);
    expect(reader.push(Buffer.from("0123456789\n")), "exactly the limit").toBe(true);
    expect(reader.push(Buffer.from("01234")), "a line begun").toBe(true);
    expect(reader.push(Buffer.from("56789a")), "one byte over, before its newline").toBe(false);
    const other = new LineReader(10, () => {});
    expect(other.push(Buffer.from("0123456789a\n")), "over, in one chunk").toBe(false);
  });
});

/** A request line as a fake peer reads it. */
interface Request {
  rpc: string;
  msg: number;
  payload: Record<string, unknown>;
}

/**
 * A server on a free port that switches each connection to a stream (as a node does) and hands
 * each request to `onRequest` with a way to answer it; closed when the test ends.
 */
async function fakePeer(
  ctx: TestContext,
  onRequest: (request: Request, answer: (payload: unknown) => void, socket: Socket) => void,
  options: { refuseWith?: string } = {},
): Promise<{ port: number; connections: () => number }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on("error", () => {});
    let head = "";
    const lines = new LineReader(1 << 20, (line) => {
      const text = line.toString();
      const request = JSON.parse(text.slice(text.indexOf(" ") + 1)) as Request;
      const rpc = text.slice(0, text.indexOf(" "));
      const answer = (payload: unknown) =>
        socket.write(
          `${JSON.stringify({ msg: 9000 + request.msg, request: request.msg, payload })}\n`,
        );
      onRequest({ ...request, rpc }, answer, socket);
    });
    const onHead = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onHead);
      if (options.refuseWith !== undefined) return socket.end(options.refuseWith);
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${STREAM_PROTOCOL}\r\n\r\n`,
      );
      socket.on("data", (more: Buffer) => lines.push(more));
      const rest = Buffer.from(head.slice(end + 4), "latin1");
      if (rest.length > 0) lines.push(rest);
    };
    socket.on("data", onHead);
  });
  ctx.onTestFinished(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as { port: number }).port, connections: () => connections };
}

/**
 * Node 0's calling side, with node 1 at `port`. The fake peers answer at once: the bound only ends
 * a call that hangs, and is long, as a busy machine needs (a worker starting node processes for
 * other files once held all four tests here past a 300 ms bound while opening their streams).
 */
function peersOf(ctx: TestContext, port: number, rpcTimeoutMs = 5000 * PATIENCE): HttpPeers {
  let msg = 0;
  const peers = new HttpPeers({
    self: 0,
    nextMsg: () => ++msg,
    trace: () => {},
    faults: undefined,
    cluster: new Map([[1, { host: "127.0.0.1", port }]]),
    rpcTimeoutMs,
  });
  ctx.onTestFinished(() => peers.close());
  return peers;
}

const vote = { term: 3, candidateId: 0, lastLogIndex: 0, lastLogTerm: 0 };
const preVote = { term: 4, candidateId: 0, lastLogIndex: 0, lastLogTerm: 0 };

describe("the calling side of a stream", { concurrent: true }, () => {
  test("answers reach their own calls, in whatever order they come, on one connection", async (ctx) => {
    const held: (() => void)[] = [];
    const peer = await fakePeer(ctx, (request, answer) => {
      const payload = { term: request.payload.term, voteGranted: request.rpc === "PreVote" };
      held.push(() => answer(payload));
      if (held.length === 2) for (const send of [...held].reverse()) send(); // the second first
      if (held.length > 2) answer(payload);
    });
    const peers = peersOf(ctx, peer.port);
    const [a, b] = await Promise.all([peers.requestVote(1, vote), peers.preVote(1, preVote)]);
    expect(a).toEqual({ term: 3, voteGranted: false });
    expect(b).toEqual({ term: 4, voteGranted: true });
    expect(await peers.requestVote(1, vote)).toEqual({ term: 3, voteGranted: false });
    expect(peer.connections()).toBe(1);
  });

  test("a stream that breaks fails the calls waiting on it; the next call opens another", async (ctx) => {
    const peer = await fakePeer(ctx, (request, answer, socket) => {
      if (peer.connections() === 1) socket.destroy();
      else answer({ term: request.payload.term, voteGranted: true });
    });
    const peers = peersOf(ctx, peer.port);
    const failed = await Promise.allSettled([
      peers.requestVote(1, vote),
      peers.requestVote(1, { ...vote, term: 5 }),
    ]);
    expect(failed.map((f) => f.status)).toEqual(["rejected", "rejected"]);
    expect(String((failed[0] as PromiseRejectedResult).reason)).toMatch(
      /raft\/stream: (the connection closed|ECONNRESET)/,
    );
    expect(await peers.requestVote(1, vote)).toEqual({ term: 3, voteGranted: true });
    expect(peer.connections()).toBe(2);
  });

  test("a call with no answer in time breaks its stream: the calls beside it fail, a late answer is not taken", async (ctx) => {
    const late: (() => void)[] = [];
    const peer = await fakePeer(ctx, (request, answer) => {
      const reply = () => answer({ term: request.payload.term, voteGranted: true });
      if (peer.connections() === 1) late.push(reply);
      else reply();
    });
    // Two seconds: the held calls must run out of time, and the last call must not (it opens a
    // stream and is answered at once).
    const peers = peersOf(ctx, peer.port, 2000 * PATIENCE);
    const first = peers.requestVote(1, vote);
    const beside = peers.preVote(1, preVote);
    await expect(first).rejects.toThrow(/no answer within \d+ ms/);
    await expect(beside).rejects.toThrow(/no answer within \d+ ms/);
    for (const reply of late) reply(); // on a connection this side has closed: nothing to take it
    expect(await peers.requestVote(1, { ...vote, term: 6 })).toEqual({
      term: 6,
      voteGranted: true,
    });
    expect(peer.connections()).toBe(2);
  });

  test("a server that does not switch to a stream is said so", async (ctx) => {
    const body = '{"error":"no such route"}\n';
    const refusal = `HTTP/1.1 404 Not Found\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const peer = await fakePeer(ctx, () => {}, { refuseWith: refusal });
    const peers = peersOf(ctx, peer.port);
    await expect(peers.requestVote(1, vote)).rejects.toThrow(
      `${STREAM_PATH}: HTTP 404 instead of 101`,
    );
  });
});

/**
 * Connects to a node, writes `head` (an HTTP request) and `lines`, and reads until the node closes
 * or `enough` says the answer is whole; gives up after a while with what it has.
 */
function exchange(
  port: number,
  head: string,
  lines: string[],
  enough: (received: string) => boolean = () => false,
): Promise<{ received: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let received = "";
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ received, closed });
    };
    const timer = setTimeout(finish, 10_000 * PATIENCE);
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString();
      if (enough(received)) finish();
    });
    socket.on("close", () => {
      closed = true;
      finish();
    });
    socket.on("error", () => {});
    socket.write(head + lines.join(""));
  });
}

const upgrade = (path = STREAM_PATH, protocol = STREAM_PROTOCOL) =>
  `GET ${path} HTTP/1.1\r\nHost: node\r\nConnection: Upgrade\r\nUpgrade: ${protocol}\r\n\r\n`;
const HUGE_TERM = 10 ** 9;
/** A RequestVote line from n1 to n0. */
const voteLine = (payload: object, envelope: object = {}) =>
  `RequestVote ${JSON.stringify({ msg: 7, from: 1, to: 0, payload, ...envelope })}\n`;
const stale = { term: 1, candidateId: 1, lastLogIndex: 0, lastLogTerm: 0 };

/** The lines after the 101 head, parsed. */
function answers(received: string): unknown[] {
  const body = received.slice(received.indexOf("\r\n\r\n") + 4);
  return body
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line));
}

describeReal("a node's end of the streams", () => {
  test("answers a peer's request, refuses what it cannot read and closes that stream, and serves on", async (ctx) => {
    const cluster = await RealCluster.start(ctx, { nodes: 3 });
    await cluster.leader(); // whose no-op makes every log longer than the vote's: it is refused
    const port = cluster.cluster.get(0)!.port;
    const answered = await exchange(port, upgrade(), [voteLine(stale)], (r) => r.endsWith("}\n"));
    expect(answered.received).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(answers(answered.received)).toEqual([
      {
        msg: expect.any(Number),
        request: 7,
        payload: { term: expect.any(Number), voteGranted: false },
      },
    ]);
    expect(answered.closed, "a good request leaves the stream open").toBe(false);

    const refusals: [string, string, string[], number | RegExp][] = [
      ["another path", upgrade("/raft/streams"), [], 404],
      ["another protocol", upgrade(STREAM_PATH, "websocket"), [], 400],
      ["a line that is no request", upgrade(), ["hello there\n"], /a line must be "<RPC> <JSON/],
      ["an unknown RPC", upgrade(), [`Gossip {"msg":1}\n`], /the RPC one of RequestVote, /],
      ["malformed JSON", upgrade(), ["RequestVote {bad\n"], /malformed JSON/],
      [
        "a request from no peer",
        upgrade(),
        [voteLine({ ...stale, term: HUGE_TERM, candidateId: 7 }, { from: 7 })],
        /n7 is not a peer of n0/,
      ],
      [
        "a request over its RPC's limit",
        upgrade(),
        [voteLine({ ...stale, term: HUGE_TERM, pad: "x".repeat(5000) })],
        /the RequestVote request is longer than 4096 bytes/,
      ],
    ];
    const results = await Promise.all(
      refusals.map(([, head, lines]) => exchange(port, head, lines)),
    );
    refusals.forEach(([name, , , expected], i) => {
      const { received, closed } = results[i]!;
      expect(closed, `${name}: the node closes`).toBe(true);
      if (typeof expected === "number") {
        expect(received, name).toMatch(new RegExp(`^HTTP/1\\.1 ${expected} `));
        expect(JSON.parse(received.slice(received.indexOf("\r\n\r\n") + 4)), name).toEqual({
          error: expect.any(String),
        });
      } else {
        expect(received, name).toMatch(/^HTTP\/1\.1 101 /);
        expect(answers(received), name).toEqual([{ error: expect.stringMatching(expected) }]);
      }
    });
    await expectStillServes(cluster, HUGE_TERM);
  });
});
