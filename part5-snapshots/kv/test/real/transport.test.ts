// Goal: the real transport tells the two ways a call can fail apart, which is what lets a client
// say whether an operation that gave up may still take effect. A request that reached a node and
// then got no answer (the node stalled, or the connection broke before the answer) may have been
// read and applied: an indefinite failure. A connection that was refused never carried the
// request: a definite one. Method: no cluster, but servers in this process that misbehave on
// purpose: one that accepts and never answers, one that accepts, reads and hangs up, and a port
// where nothing listens (the tests at once, each with servers of its own, since they mostly wait
// for timeouts); each is called through http.ts's `call`, then through RealClient, the
// client `pnpm kv` and the tests use (to a node that opens its session, then stalls).

import { Agent } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import { describe, expect, type TestContext, test } from "vitest";
import { ClientError } from "../../src/kv/client.ts";
import { RealClient } from "../../src/real/client.ts";
import { CallError, call } from "../../src/real/http.ts";
import { quietPort } from "./local.ts";

/**
 * A TCP server on a free port of 127.0.0.1 that does `onConnection` with each connection; it and
 * its connections are closed when the test of `ctx` ends.
 */
async function misbehaving(
  ctx: TestContext,
  onConnection: (socket: Socket) => void,
): Promise<number> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    onConnection(socket);
  });
  ctx.onTestFinished(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as { port: number }).port;
}

/** Accepts, reads the request, never answers. */
const stalls = (ctx: TestContext) => misbehaving(ctx, (socket) => socket.resume());
/**
 * Answers the first request (a client's opening of its session: commands.ts), then stalls as
 * `stalls` does: the operation's own attempts reach it and get no answer.
 */
const opensThenStalls = (ctx: TestContext) =>
  misbehaving(ctx, (socket) => {
    let answered = false;
    socket.on("data", () => {
      if (answered) return;
      answered = true;
      const body = JSON.stringify({ status: "opened", session: 1, index: 1 });
      socket.write(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
      );
    });
  });
/** Accepts, reads the first bytes of the request, and closes the connection without a word. */
const hangsUp = (ctx: TestContext) =>
  misbehaving(ctx, (socket) => socket.once("data", () => socket.destroy()));
/** A port where nothing listens (local.ts): the connection is refused. */
const closed = quietPort;

async function failure(port: number, timeoutMs: number): Promise<CallError> {
  const agent = new Agent({ keepAlive: true });
  try {
    const address = { host: "127.0.0.1", port };
    await call(agent, address, "/kv", "{}", { timeoutMs, limit: 1024 });
  } catch (error) {
    return error as CallError;
  } finally {
    agent.destroy();
  }
  throw new Error("the call succeeded");
}

/** How a RealClient's put to the one node on `port` ends. */
async function put(port: number): Promise<ClientError> {
  const client = new RealClient({
    id: "c",
    cluster: new Map([[0, { host: "127.0.0.1", port }]]),
    // Long enough that, on a busy machine too, at least one attempt connects before it gives up:
    // one attempt that reached the node is what makes the failure indefinite.
    attemptTimeoutMs: 500,
    deadlineMs: 1500,
  });
  try {
    await client.put("k", "v");
  } catch (error) {
    return error as ClientError;
  } finally {
    client.close();
  }
  throw new Error("the put succeeded");
}

describe.concurrent("real transport: which failures may have taken effect", () => {
  test("a call to a node that stalls times out, and the request may have been read", async (ctx) => {
    // A second: the connection is made well before it, even on a busy machine (a call that never
    // connected was rightly not "reached", and would fail this test for the wrong reason).
    const error = await failure(await stalls(ctx), 1000);
    expect(error).toBeInstanceOf(CallError);
    expect(error.message).toContain("no answer within 1000 ms");
    expect(error.reached).toBe(true);
  });

  test("a call whose connection breaks before the answer may have been read", async (ctx) => {
    const error = await failure(await hangsUp(ctx), 5000);
    expect(error).toBeInstanceOf(CallError);
    expect(error.reached).toBe(true);
  });

  test("a refused connection carried nothing", async () => {
    const error = await failure(await closed(), 5000);
    expect(error).toBeInstanceOf(CallError);
    expect(error.message).toContain("ECONNREFUSED");
    expect(error.reached).toBe(false);
  });

  test("so a client's operation that a stalled node swallowed fails indefinitely", async (ctx) => {
    const error = await put(await opensThenStalls(ctx));
    expect(error).toBeInstanceOf(ClientError);
    expect(error.definite).toBe(false);
    expect(error.message).toContain("it may have taken effect");
  });

  test("and one whose every attempt was refused fails definitely", async () => {
    const error = await put(await closed());
    expect(error).toBeInstanceOf(ClientError);
    expect(error.definite).toBe(true);
    expect(error.message).toContain("it did not take effect");
  });
});
