// Raft's RPCs between real nodes, over HTTP: both sides, side by side.
//
// - The calling side, HttpPeers: part 3's Transport (what RaftNode calls to reach a peer) as a
//   line on the stream it keeps open to that peer (raft-stream.ts): the request's JSON envelope
//   (wire.ts) after the RPC's name. Part 6 adds the stream; parts 4 and 5 POST each request.
// - The answering side, RaftStreams (a stream's lines) and answerRaft (one POST, which any HTTP
//   client can send): a request from a peer is read within a size limit, checked field by field
//   (wire.ts), handed to the consensus module, which saves what its answer depends on before it
//   returns it, and the reply is sent back in its envelope.
//
//   GET  /raft/stream            Upgrade: raft-stream/1, then one request per line (raft-stream.ts)
//   POST /raft/request-vote      {"msg", "from", "to", "payload": RequestVoteArgs}
//   POST /raft/append-entries    {"msg", "from", "to", "payload": AppendEntriesArgs}
//   POST /raft/install-snapshot  {"msg", "from", "to", "payload": InstallSnapshotArgs} (one chunk)
//   POST /raft/pre-vote          {"msg", "from", "to", "payload": PreVoteArgs} (§9.6)
//   POST /raft/timeout-now       {"msg", "from", "to", "payload": TimeoutNowArgs} (§3.10)
//   POST /raft/read-index        {"msg", "from", "to", "payload": ReadIndexArgs} (§6.4)
//   200                          {"msg", "request", "payload": the reply}
//
// Each side traces its messages as the simulated network does (send and deliver, rpc.error when
// a call fails), with message ids unique across the processes of a run (trace-file.ts), so that
// the two nodes' files merge into one timeline; a cut link of fault injection (faults.ts) drops
// them, traced as `drop`.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type {
  AppendEntriesArgs,
  AppendEntriesReply,
  InstallSnapshotArgs,
  InstallSnapshotReply,
  NodeId,
  PreVoteArgs,
  PreVoteReply,
  RaftNode,
  ReadIndexArgs,
  ReadIndexReply,
  RequestVoteArgs,
  RequestVoteReply,
  TimeoutNowArgs,
  TimeoutNowReply,
  Transport,
} from "part6-availability";
import { handle as handleRpc } from "part6-availability/sim/network";
import type { MessageDetails, RpcMessage, RpcName } from "part6-availability/trace";
import type { Address, ClusterMap } from "./addresses.ts";
import type { Faults } from "./faults.ts";
import { HttpError, parseJson, readBody, sendJson } from "./http.ts";
import {
  acceptStream,
  closeStream,
  openStream,
  StreamConnection,
  writeLine,
} from "./raft-stream.ts";
import type { NodeTracer } from "./trace-file.ts";
import {
  type Membership,
  parseAppendEntries,
  parseAppendEntriesReply,
  parseInstallSnapshot,
  parseInstallSnapshotReply,
  parsePreVote,
  parsePreVoteReply,
  parseReadIndex,
  parseReadIndexReply,
  parseRequestVote,
  parseRequestVoteReply,
  parseTimeoutNow,
  parseTimeoutNowReply,
  type ReplyEnvelope,
  type RequestEnvelope,
} from "./wire.ts";

/**
 * How many entries a leader sends in one AppendEntries: enough that 64 clients' commands, which
 * arrive together and are saved in one write, also travel in one round trip (the benchmark's
 * 64-client load needs a third fewer disk syncs per entry than with 20). Each entry is at most
 * ~0.8 MiB as JSON (a cas with a 1 KiB key and two 64 KiB values, every byte escaped), so a
 * genuine request always fits APPEND_BODY_LIMIT.
 */
export const MAX_ENTRIES_PER_APPEND = 64;
export const APPEND_BODY_LIMIT = 64 * 1024 * 1024;
const VOTE_BODY_LIMIT = 4096;
/**
 * How many characters of a snapshot's text one InstallSnapshot carries (RaftConfig's
 * snapshotChunkSize): a chunk travels in one request of a bounded size. Even with every
 * character escaped in JSON (\uXXXX, 6 bytes), a chunk fits SNAPSHOT_BODY_LIMIT.
 */
export const SNAPSHOT_CHUNK_SIZE = 256 * 1024;
export const SNAPSHOT_BODY_LIMIT = 8 * SNAPSHOT_CHUNK_SIZE;
/** How large a reply may be: a few numbers. */
const REPLY_LIMIT = 16 * 1024;

/** What both sides share: who this node is, its message ids, its trace, its fault injection. */
interface RaftHttpContext {
  self: NodeId;
  nextMsg: () => number;
  trace: NodeTracer;
  /** Present only with --test-faults. */
  faults: Faults | undefined;
}

export interface PeerOptions extends RaftHttpContext {
  cluster: ClusterMap;
  rpcTimeoutMs: number;
}

/** The calling side: RaftNode's Transport over HTTP, one stream to each peer. */
export class HttpPeers implements Transport {
  private readonly options: PeerOptions;
  /** The stream to each peer, open or opening; a broken one is forgotten, and the next call opens another. */
  private readonly streams = new Map<NodeId, Promise<StreamConnection>>();
  private closed = false;

  constructor(options: PeerOptions) {
    this.options = options;
  }

  requestVote(to: NodeId, args: RequestVoteArgs): Promise<RequestVoteReply> {
    return this.invoke(to, "RequestVote", args, false, parseRequestVoteReply);
  }

  appendEntries(to: NodeId, args: AppendEntriesArgs): Promise<AppendEntriesReply> {
    // A heartbeat is an AppendEntries that carries no entries.
    const heartbeat = args.entries.length === 0;
    return this.invoke(to, "AppendEntries", args, heartbeat, parseAppendEntriesReply);
  }

  installSnapshot(to: NodeId, args: InstallSnapshotArgs): Promise<InstallSnapshotReply> {
    return this.invoke(to, "InstallSnapshot", args, false, parseInstallSnapshotReply);
  }

  preVote(to: NodeId, args: PreVoteArgs): Promise<PreVoteReply> {
    return this.invoke(to, "PreVote", args, false, parsePreVoteReply);
  }

  timeoutNow(to: NodeId, args: TimeoutNowArgs): Promise<TimeoutNowReply> {
    return this.invoke(to, "TimeoutNow", args, false, parseTimeoutNowReply);
  }

  readIndex(to: NodeId, args: ReadIndexArgs): Promise<ReadIndexReply> {
    return this.invoke(to, "ReadIndex", args, false, parseReadIndexReply);
  }

  /** Closes every stream; calls made from now on fail. */
  close(): void {
    this.closed = true;
    for (const stream of this.streams.values()) {
      stream.then(
        (connection) => connection.break("this node stops"),
        () => {},
      );
    }
    this.streams.clear();
  }

  /** The stream to `to`, opened if there is none. */
  private stream(to: NodeId, address: Address): Promise<StreamConnection> {
    let stream = this.streams.get(to);
    if (stream === undefined) {
      const forget = () => {
        if (this.streams.get(to) === stream) this.streams.delete(to);
      };
      stream = openStream(address, this.options.rpcTimeoutMs).then(
        ({ socket, head, name }) => {
          const options = { name, head, answerLimit: REPLY_LIMIT, onBroken: forget };
          return new StreamConnection(socket, options);
        },
        (error: Error) => {
          forget();
          throw error;
        },
      );
      this.streams.set(to, stream);
    }
    return stream;
  }

  private async invoke<P>(
    to: NodeId,
    rpc: RpcName,
    args: unknown,
    heartbeat: boolean,
    parse: (value: unknown, request: number) => ReplyEnvelope<P> | string,
  ): Promise<P> {
    const { self, cluster, faults, trace } = this.options;
    const address = cluster.get(to);
    if (address === undefined || this.closed) throw new Error(`n${to} cannot be called`);
    const msg = this.options.nextMsg();
    const request: RequestEnvelope<unknown> = { msg, from: self, to, payload: args };
    const message = { rpc, type: "request", payload: args } as RpcMessage;
    const details = messageDetails(message, msg, heartbeat);
    trace("send", { ...details, to });
    if (faults?.dropOutgoing(to, details))
      throw new Error(`the link to n${to} is cut (test fault)`);
    try {
      const stream = await this.stream(to, address);
      const line = `${rpc} ${JSON.stringify(request)}\n`;
      const reply = parse(await stream.send(line, msg, this.options.rpcTimeoutMs), msg);
      if (typeof reply === "string") throw new Error(`malformed reply: ${reply}`);
      return this.received(to, rpc, msg, heartbeat, reply);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      trace("rpc.error", { rpc, to, msg, error: message });
      throw error;
    }
  }

  /** A reply arrived: traced, unless a fault set since the call drops it. */
  private received<P>(
    from: NodeId,
    rpc: RpcName,
    request: number,
    heartbeat: boolean,
    reply: ReplyEnvelope<P>,
  ): P {
    const message = { rpc, type: "reply", request, payload: reply.payload } as RpcMessage;
    const details = messageDetails(message, reply.msg, heartbeat);
    if (this.options.faults?.dropIncoming(from, details)) {
      throw new Error(`the link from n${from} is cut (test fault)`);
    }
    this.options.trace("deliver", { ...details, from });
    return reply.payload;
  }
}

/** What the answering side needs besides: the peers it takes requests from, the module. */
export interface RaftEndpoint extends RaftHttpContext {
  peers: readonly NodeId[];
  node: RaftNode;
}

/** The answering side of one POST: an RPC from a peer, answered by the consensus module. */
export async function answerRaft(
  endpoint: RaftEndpoint,
  rpc: RpcName,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const body = parseJson(await readBody(req, ANSWERING[rpc].limit));
  const reply = await answerRequest(endpoint, rpc, checkedRequest(endpoint, rpc, body));
  // As on a cut link: no answer at all. The caller's connection breaks and its call fails.
  if (reply === "dropped") req.socket.destroy();
  else sendJson(res, 200, reply);
}

/** The longest line a stream takes: the largest request, after its RPC's name. */
const LINE_LIMIT = APPEND_BODY_LIMIT + 64;

/** The answering side of the streams that peers open to this node (raft-stream.ts). */
export class RaftStreams {
  private readonly endpoint: RaftEndpoint;
  private readonly sockets = new Set<Duplex>();
  private closed = false;

  constructor(endpoint: RaftEndpoint) {
    this.endpoint = endpoint;
  }

  /** The server's "upgrade" event: a peer opens a stream (or something else asks to upgrade). */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const onLine = (line: Buffer) => this.answer(socket, line);
    if (!acceptStream(req, socket, head, { lineLimit: LINE_LIMIT, onLine })) return;
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
  }

  /** Closes every stream: a request still being answered gets no answer. */
  close(): void {
    this.closed = true;
    for (const socket of this.sockets) socket.destroy();
  }

  /** One line: a request answered in its turn, or the stream closed with why it cannot be read. */
  private answer(socket: Duplex, line: Buffer): void {
    let rpc: RpcName;
    let request: RequestEnvelope<unknown>;
    try {
      [rpc, request] = this.read(line);
    } catch (error) {
      closeStream(socket, (error as Error).message);
      return;
    }
    answerRequest(this.endpoint, rpc, request).then(
      (reply) => (reply === "dropped" ? socket.destroy() : writeLine(socket, reply)),
      (error: Error) => writeLine(socket, { request: request.msg, error: error.message }),
    );
  }

  private read(line: Buffer): [RpcName, RequestEnvelope<unknown>] {
    const space = line.indexOf(0x20);
    const rpc = line.subarray(0, Math.max(space, 0)).toString("latin1");
    if (space === -1 || !Object.hasOwn(ANSWERING, rpc)) {
      const names = Object.keys(ANSWERING).join(", ");
      throw new Error(`a line must be "<RPC> <JSON envelope>", the RPC one of ${names}`);
    }
    const { limit } = ANSWERING[rpc as RpcName];
    if (line.length - space - 1 > limit)
      throw new Error(`the ${rpc} request is longer than ${limit} bytes`);
    const body = parseJson(line.subarray(space + 1));
    return [rpc as RpcName, checkedRequest(this.endpoint, rpc as RpcName, body)];
  }
}

/** A request's envelope, checked field by field (wire.ts); a 400 with the reason if it is not one. */
function checkedRequest(
  endpoint: RaftEndpoint,
  rpc: RpcName,
  body: unknown,
): RequestEnvelope<unknown> {
  const request = ANSWERING[rpc].parse(body, { self: endpoint.self, peers: endpoint.peers });
  if (typeof request === "string") throw new HttpError(400, request);
  return request;
}

/**
 * A checked request answered by the consensus module: the reply's envelope, or "dropped" when a
 * cut link (a test's fault) drops the request.
 */
async function answerRequest(
  endpoint: RaftEndpoint,
  rpc: RpcName,
  request: RequestEnvelope<unknown>,
): Promise<ReplyEnvelope<unknown> | "dropped"> {
  const { trace, faults } = endpoint;
  const heartbeat =
    rpc === "AppendEntries" && (request.payload as AppendEntriesArgs).entries.length === 0;
  const message = { rpc, type: "request", payload: request.payload } as RpcMessage;
  const details = messageDetails(message, request.msg, heartbeat);
  if (faults?.dropIncoming(request.from, details)) return "dropped";
  trace("deliver", { ...details, from: request.from });
  const payload = await handle(endpoint, rpc, request.payload);
  const msg = endpoint.nextMsg();
  const reply = { rpc, type: "reply", request: request.msg, payload } as RpcMessage;
  trace("send", { ...messageDetails(reply, msg, heartbeat), to: request.from });
  return { msg, request: request.msg, payload };
}

/** For each RPC, the answering side's body limit and its check of what arrives (wire.ts). */
const ANSWERING: Record<
  RpcName,
  {
    limit: number;
    parse: (body: unknown, members: Membership) => RequestEnvelope<unknown> | string;
  }
> = {
  RequestVote: { limit: VOTE_BODY_LIMIT, parse: parseRequestVote },
  AppendEntries: { limit: APPEND_BODY_LIMIT, parse: parseAppendEntries },
  InstallSnapshot: { limit: SNAPSHOT_BODY_LIMIT, parse: parseInstallSnapshot },
  PreVote: { limit: VOTE_BODY_LIMIT, parse: parsePreVote },
  TimeoutNow: { limit: VOTE_BODY_LIMIT, parse: parseTimeoutNow },
  ReadIndex: { limit: VOTE_BODY_LIMIT, parse: parseReadIndex },
};

async function handle(endpoint: RaftEndpoint, rpc: RpcName, args: unknown): Promise<unknown> {
  try {
    // ReadIndex answers once the leader has confirmed it leads (a heartbeat round): awaited.
    return await handleRpc(endpoint.node, rpc, args); // wire.ts checked `args` for `rpc`
  } catch (error) {
    // The module has stopped (shutting down, or its storage failed): it must not answer.
    throw new HttpError(503, `n${endpoint.self} does not answer: ${(error as Error).message}`);
  }
}

/** The fields every message event carries (docs/trace-format.md), `bytes` as the payload's JSON. */
export function messageDetails(
  message: RpcMessage,
  msg: number,
  heartbeat: boolean,
): MessageDetails {
  return { ...message, msg, heartbeat, bytes: Buffer.byteLength(JSON.stringify(message.payload)) };
}
