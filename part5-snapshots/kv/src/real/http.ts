// What both sides of HTTP share with Node's http module, for every route of a node (its clients'
// and its peers'): on the server side, reading a body within a size limit, JSON answers and
// errors, and a server that bad or slow input cannot crash or tie up; on the calling side, one
// request with a deadline that says, when it fails, whether the server may have read it.
//
// Every refusal is a 4xx with a JSON body {"error": "..."} that says what was wrong. The limits:
// - a body is read only up to its route's limit, and refused (413) as soon as it declares or
//   sends more, without buffering the rest;
// - headers must arrive within `headersTimeoutMs` and the whole request within
//   `requestTimeoutMs` (Node answers 408 and closes: a slow or half-sent request holds a
//   connection no longer than that);
// - headers larger than Node's 16 KiB (a very long URL) get 431; bytes that are not HTTP get 400.

import {
  type Agent,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from "node:http";
import type { Duplex } from "node:stream";
import { type Address, formatAddress } from "./addresses.ts";

/** A request refused with an HTTP status and a reason; the handler turns it into the answer. */
export class HttpError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * The request's body, at most `limit` bytes. A longer one is refused (413) at the first byte over
 * the limit (or at once when Content-Length says so); what is still on its way is then read and
 * thrown away by Node, so that the client, still sending, gets the answer instead of a reset.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        req.resume(); // drain and discard the rest
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    let ended = false;
    req.once("end", () => {
      ended = true;
      resolve(Buffer.concat(chunks));
    });
    // A connection that breaks (the client gave up, or a timeout closed it) ends the wait. Node
    // emits "close" after every request: the error (and its stack, which costs) only when cut short.
    req.once("close", () => {
      if (!ended) reject(new HttpError(400, "the request was cut short"));
    });
    req.once("error", (error) =>
      reject(new HttpError(400, `reading the request: ${error.message}`)),
    );
  });
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, `the body is longer than ${limit} bytes`);
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The body as text: refused unless it is valid UTF-8 (a lenient decoder would change the value). */
export function utf8(body: Buffer): string {
  try {
    return strictUtf8.decode(body);
  } catch {
    throw new HttpError(400, "the body is not valid UTF-8");
  }
}

export function parseJson(body: Buffer): unknown {
  const text = utf8(body);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `malformed JSON: ${(error as Error).message}`);
  }
}

export interface ServerLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

/** A server with timeouts and error answers that keep slow or broken clients from holding it. */
export function hardenedServer(
  limits: ServerLimits,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Server {
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // How often Node looks for requests over those timeouts (30 s by default, far too coarse).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, limits.headersTimeoutMs / 4)),
      // Raft's heartbeats are small and frequent: no waiting to batch them into packets.
      noDelay: true,
    },
    handler,
  );
  // An idle keep-alive connection is closed after this long; a peer simply opens another.
  server.keepAliveTimeout = 5000;
  // A socket with no traffic at all for this long is closed, whatever state it is in.
  server.timeout = limits.requestTimeoutMs * 2;
  server.maxConnections = 1024;
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) =>
    answerClientError(error, socket),
  );
  return server;
}

/**
 * Node calls this for a request it could not parse, or that timed out, before any handler ran.
 * Its default answer has no body; this one says what happened, in JSON, and closes.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, reason, message] =
    error.code === "HPE_HEADER_OVERFLOW"
      ? [431, "Request Header Fields Too Large", "the request's headers (or URL) are too large"]
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "Request Timeout", "the request did not arrive in time"]
        : [400, "Bad Request", `not a valid HTTP request (${error.code ?? error.message})`];
  const body = `${JSON.stringify({ error: message })}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * A call that failed. `reached`: a connection was made, so the server may have read the request
 * and acted on it (a timeout, a connection closed mid-answer); false: it cannot have (refused,
 * no route to the host), a definite failure.
 */
export class CallError extends Error {
  readonly reached: boolean;
  constructor(message: string, reached: boolean) {
    super(message);
    this.reached = reached;
  }
}

export interface Answer {
  status: number;
  body: Buffer;
}

/**
 * Sends a request (a POST with a JSON `body`, or a GET without, unless `method` says otherwise)
 * and reads the answer, at most `limit` bytes, within `timeoutMs` in all; a failure is a
 * CallError. `agent` keeps connections open between calls (keep-alive), so a heartbeat costs no
 * handshake.
 */
export function call(
  agent: Agent,
  to: Address,
  path: string,
  body: string | undefined,
  options: { timeoutMs: number; limit: number; method?: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // Until a connection is made nothing can have reached the server: a refused connection is a
    // definite failure, anything after it may have been read (CallError.reached).
    let reached = false;
    const fail = (message: string) => {
      clearTimeout(timer);
      reject(new CallError(`${formatAddress(to)}${path}: ${message}`, reached));
    };
    const req = request({
      host: to.host,
      port: to.port,
      path,
      method: options.method ?? (body === undefined ? "GET" : "POST"),
      agent,
      headers:
        body === undefined
          ? {}
          : { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
    });
    const timer = setTimeout(
      () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    req.once("socket", (socket) => {
      if (!socket.connecting) reached = true;
      else socket.once("connect", () => (reached = true));
    });
    req.once("error", (error: NodeJS.ErrnoException) => fail(error.code ?? error.message));
    req.once("response", (res) => {
      readAnswer(res, options.limit).then(
        (answer) => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: answer });
        },
        (error: Error) => fail(error.message),
      );
    });
    req.end(body);
  });
}

function readAnswer(res: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) res.destroy(new Error(`the answer is longer than ${limit} bytes`));
      else chunks.push(chunk);
    });
    let ended = false;
    res.once("end", () => {
      ended = true;
      resolve(Buffer.concat(chunks));
    });
    res.once("error", reject);
    // "close" follows every answer, read whole or not: an error only for one cut short.
    res.once("close", () => {
      if (!ended) reject(new Error("the connection closed before the whole answer"));
    });
  });
}
