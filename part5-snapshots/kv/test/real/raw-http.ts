// HTTP by hand, for the bad-input battery: bytes no well-behaved client would send (broken
// requests, bodies cut short, headers that never end), and what the server answered to them.

import { connect } from "node:net";

export interface RawAnswer {
  /** The status line's code, if an answer came. */
  status: number | undefined;
  head: string;
  body: string;
  /** Whether the server closed the connection. */
  closed: boolean;
}

/**
 * Connects to 127.0.0.1:`port`, writes `parts` one after the other, at once, and reads until
 * a whole answer has come (Content-Length) or the server closes; gives up after `timeoutMs`. The
 * connection is never closed from this side before that: a half-sent request stays half-sent.
 */
export function rawRequest(
  port: number,
  parts: (string | Buffer)[],
  options: { timeoutMs: number },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let received = Buffer.alloc(0);
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(parse(received, closed));
    };
    const timer = setTimeout(finish, options.timeoutMs);
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (complete(received)) finish();
    });
    socket.on("close", () => {
      closed = true;
      finish();
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      // The server may reset a connection it refused: what it answered first still counts.
      if (error.code === "ECONNRESET" || error.code === "EPIPE") return;
      clearTimeout(timer);
      reject(error);
    });
    // At once: a request that is to arrive whole must not depend on how fast this process runs
    // (the server cuts off one that has not arrived whole within its request timeout).
    for (const part of parts) socket.write(part);
  });
}

function complete(data: Buffer): boolean {
  const end = data.indexOf("\r\n\r\n");
  if (end < 0) return false;
  const length = /\r\ncontent-length: *(\d+)/i.exec(data.subarray(0, end).toString());
  return length !== null && data.length >= end + 4 + Number(length[1]);
}

function parse(data: Buffer, closed: boolean): RawAnswer {
  const text = data.toString();
  const end = text.indexOf("\r\n\r\n");
  const head = end < 0 ? text : text.slice(0, end);
  const status = /^HTTP\/1\.1 (\d{3})/.exec(head);
  return {
    status: status === null ? undefined : Number(status[1]),
    head,
    body: end < 0 ? "" : text.slice(end + 4),
    closed,
  };
}
