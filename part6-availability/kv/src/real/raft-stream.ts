// One long-lived connection from a node to each peer it calls, carrying its Raft RPCs one line
// each: the way etcd's members keep streams open between them (rafthttp) instead of making an
// HTTP exchange per message. A heartbeat then costs a line written and a line read, not a request's
// headers, parsing and bookkeeping on both sides: on this machine about a third of the time of a
// keep-alive POST (the README's benchmark). It is still HTTP where HTTP has a say: the connection
// opens as a GET that asks to switch protocols, as a WebSocket does, and a node answers with 101.
//
//   GET /raft/stream   Connection: Upgrade, Upgrade: raft-stream/1    ->  101 Switching Protocols
//   caller -> callee, one request per line:  <RPC name> <request envelope, wire.ts>\n
//   callee -> caller, one answer per line:   <reply envelope, wire.ts>\n
//                                        or  {"request": <msg>, "error": "why no answer"}\n
//   a line the callee cannot read:           {"error": "what was wrong"}\n, and it closes
//
// Answers may come in any order (a vote is answered at once, an AppendEntries after its save):
// each names the request it answers. This file is the framing and the connections only; what the
// lines mean, and the checks of what they carry, are raft-http.ts's and wire.ts's.

import { type IncomingMessage, request } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { type Address, formatAddress } from "./addresses.ts";
import { parseJson } from "./http.ts";

export const STREAM_PATH = "/raft/stream";
export const STREAM_PROTOCOL = "raft-stream/1";

/**
 * Cuts a byte stream into lines (without their "\n"), each at most `limit` bytes. `push` returns
 * false as soon as a line grows past the limit: the stream can no longer be trusted and must close.
 */
export class LineReader {
  private parts: Buffer[] = [];
  private size = 0;
  private readonly limit: number;
  private readonly onLine: (line: Buffer) => void;

  constructor(limit: number, onLine: (line: Buffer) => void) {
    this.limit = limit;
    this.onLine = onLine;
  }

  push(chunk: Buffer): boolean {
    let start = 0;
    for (let end = chunk.indexOf(10, start); end !== -1; end = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, end);
      if (this.size + piece.length > this.limit) return false;
      const line = this.parts.length === 0 ? piece : Buffer.concat([...this.parts, piece]);
      this.parts = [];
      this.size = 0;
      start = end + 1;
      this.onLine(line);
    }
    const rest = chunk.subarray(start);
    this.size += rest.length;
    if (this.size > this.limit) return false;
    if (rest.length > 0) this.parts.push(rest);
    return true;
  }
}

interface Waiting {
  resolve: (answer: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * The calling side of one stream: sends request lines and hands each answer to the call waiting
 * for it. A call with no answer in time breaks the whole stream (the peer or the link is in
 * trouble: a stopped process would otherwise have requests pile up behind it), and so does
 * anything unreadable; every call still waiting then fails, and the next call opens a new stream.
 */
export class StreamConnection {
  private readonly socket: Duplex;
  private readonly name: string;
  private readonly waiting = new Map<number, Waiting>();
  private readonly onBroken: () => void;
  private broken = false;

  constructor(
    socket: Duplex,
    options: { name: string; head: Buffer; answerLimit: number; onBroken: () => void },
  ) {
    this.socket = socket;
    this.name = options.name;
    this.onBroken = options.onBroken;
    const lines = new LineReader(options.answerLimit, (line) => this.answered(line));
    const onData = (chunk: Buffer) => {
      if (!lines.push(chunk)) this.break(`an answer longer than ${options.answerLimit} bytes`);
    };
    socket.on("data", onData);
    socket.on("error", (error: NodeJS.ErrnoException) => this.break(error.code ?? error.message));
    socket.on("close", () => this.break("the connection closed"));
    if (options.head.length > 0) onData(options.head);
  }

  /** Sends `line` (a request whose message id is `msg`) and resolves with its answer's JSON. */
  send(line: string, msg: number, timeoutMs: number): Promise<unknown> {
    if (this.broken) return Promise.reject(new Error(`${this.name}: the connection closed`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.break(`no answer within ${timeoutMs} ms`), timeoutMs);
      this.waiting.set(msg, { resolve, reject, timer });
      this.socket.write(line);
    });
  }

  /** Closes the stream; calls still waiting fail with `reason`. */
  break(reason: string): void {
    if (this.broken) return;
    this.broken = true;
    this.socket.destroy();
    for (const { reject, timer } of this.waiting.values()) {
      clearTimeout(timer);
      reject(new Error(`${this.name}: ${reason}`));
    }
    this.waiting.clear();
    this.onBroken();
  }

  private answered(line: Buffer): void {
    let answer: { request?: unknown; error?: unknown } | null;
    try {
      answer = parseJson(line) as typeof answer;
    } catch (error) {
      this.break((error as Error).message);
      return;
    }
    const request = answer?.request;
    const call = typeof request === "number" ? this.waiting.get(request) : undefined;
    if (call === undefined) {
      // A late answer to a call that has failed is ignored; an error for no call ends the stream.
      if (request === undefined) this.break(`refused: ${String(answer?.error ?? "no reason")}`);
      return;
    }
    this.waiting.delete(request as number);
    clearTimeout(call.timer);
    if (typeof answer?.error === "string") call.reject(new Error(`${this.name}: ${answer.error}`));
    else call.resolve(answer);
  }
}

/** Opens a stream to `to`: the upgrade request, answered with 101 within `timeoutMs`. */
export function openStream(
  to: Address,
  timeoutMs: number,
): Promise<{ socket: Socket; head: Buffer; name: string }> {
  const name = `${formatAddress(to)}${STREAM_PATH}`;
  return new Promise((resolve, reject) => {
    const req = request({
      host: to.host,
      port: to.port,
      path: STREAM_PATH,
      agent: false,
      headers: { connection: "Upgrade", upgrade: STREAM_PROTOCOL },
    });
    const fail = (message: string) => {
      clearTimeout(timer);
      reject(new Error(`${name}: ${message}`));
    };
    const timer = setTimeout(
      () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.once("upgrade", (_res, socket: Socket, head: Buffer) => {
      clearTimeout(timer);
      socket.setNoDelay(true); // a heartbeat is one small line: send it now
      resolve({ socket, head, name });
    });
    req.once("response", (res: IncomingMessage) => {
      res.resume();
      req.destroy();
      fail(`HTTP ${res.statusCode} instead of 101 (not a node of this version?)`);
    });
    req.once("error", (error: NodeJS.ErrnoException) => fail(error.code ?? error.message));
    req.end();
  });
}

/**
 * The answering side's framing: checks an upgrade request, switches protocols, and hands each line
 * to `onLine`. Returns false (after answering why, in JSON, and closing) for an upgrade that is not
 * a Raft stream: another path or protocol.
 */
export function acceptStream(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  options: { lineLimit: number; onLine: (line: Buffer) => void },
): boolean {
  socket.on("error", () => socket.destroy()); // a peer gone mid-write; its calls fail on its side
  const path = (req.url ?? "").split("?")[0];
  const problem =
    path !== STREAM_PATH
      ? ([404, "Not Found", `no upgrade at ${path}: only ${STREAM_PATH}`] as const)
      : req.method !== "GET" || req.headers.upgrade !== STREAM_PROTOCOL
        ? ([
            400,
            "Bad Request",
            `${STREAM_PATH} takes a GET with Upgrade: ${STREAM_PROTOCOL}`,
          ] as const)
        : undefined;
  if (problem !== undefined) {
    const body = `${JSON.stringify({ error: problem[2] })}\n`;
    socket.end(
      `HTTP/1.1 ${problem[0]} ${problem[1]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    return false;
  }
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${STREAM_PROTOCOL}\r\n\r\n`,
  );
  (socket as Socket).setNoDelay(true);
  (socket as Socket).setTimeout(0); // the server's idle limit is for requests, not for a stream
  const lines = new LineReader(options.lineLimit, (line) => {
    if (!socket.writableEnded) options.onLine(line); // nothing more is read after a refusal
  });
  const onData = (chunk: Buffer) => {
    if (!lines.push(chunk)) closeStream(socket, `a line longer than ${options.lineLimit} bytes`);
  };
  socket.on("data", onData);
  if (head.length > 0) onData(head);
  return true;
}

/** Writes one line, unless the stream has been closed meanwhile (an answer that came too late). */
export function writeLine(socket: Duplex, value: unknown): void {
  if (!socket.writableEnded && !socket.destroyed) socket.write(`${JSON.stringify(value)}\n`);
}

/** Ends a stream whose input cannot be read: says why, in a line, then closes. */
export function closeStream(socket: Duplex, error: string): void {
  if (socket.writableEnded || socket.destroyed) return;
  socket.removeAllListeners("data");
  socket.resume(); // what else arrives is thrown away
  socket.end(`${JSON.stringify({ error })}\n`, () => socket.destroy());
}
