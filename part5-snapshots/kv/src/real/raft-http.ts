// Raft's RPCs between real nodes, over HTTP: both sides, side by side.
//
// - The calling side, HttpPeers: part 3's Transport (what RaftNode calls to reach a peer) as a
//   POST of the request's JSON envelope (wire.ts) to the peer, connections kept alive.
// - The answering side, answerRaft: a request from a peer is read within a size limit, checked
//   field by field (wire.ts), handed to the consensus module, which saves what its answer depends
//   on before it returns it, and the reply is sent back in its envelope.
//
//   POST /raft/request-vote      {"msg", "from", "to", "payload": RequestVoteArgs}
//   POST /raft/append-entries    {"msg", "from", "to", "payload": AppendEntriesArgs}
//   POST /raft/install-snapshot  {"msg", "from", "to", "payload": InstallSnapshotArgs} (one chunk)
//   200                          {"msg", "request", "payload": the reply}
//
// Each side traces its messages as the simulated network does (send and deliver, rpc.error when
// a call fails), with message ids unique across the processes of a run (trace-file.ts), so that
// the two nodes' files merge into one timeline; a cut link of fault injection (faults.ts) drops
// them, traced as `drop`.

import { Agent, type IncomingMessage, type ServerResponse } from "node:http";
import type {
  AppendEntriesArgs,
  AppendEntriesReply,
  InstallSnapshotArgs,
  InstallSnapshotReply,
  NodeId,
  RaftNode,
  RequestVoteArgs,
  RequestVoteReply,
  Transport,
} from "part5-snapshots";
import type { MessageDetails, RpcMessage, RpcName } from "part5-snapshots/trace";
import type { ClusterMap } from "./addresses.ts";
import type { Faults } from "./faults.ts";
import { call, HttpError, parseJson, readBody, sendJson } from "./http.ts";
import type { NodeTracer } from "./trace-file.ts";
import {
  type Membership,
  parseAppendEntries,
  parseAppendEntriesReply,
  parseInstallSnapshot,
  parseInstallSnapshotReply,
  parseRequestVote,
  parseRequestVoteReply,
  type ReplyEnvelope,
  type RequestEnvelope,
} from "./wire.ts";

export const RAFT_PATHS: Record<RpcName, string> = {
  RequestVote: "/raft/request-vote",
  AppendEntries: "/raft/append-entries",
  InstallSnapshot: "/raft/install-snapshot",
};

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

/** The calling side: RaftNode's Transport over HTTP. */
export class HttpPeers implements Transport {
  private readonly options: PeerOptions;
  private readonly agent = new Agent({ keepAlive: true });
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

  /** Closes every kept-alive connection; calls made from now on fail. */
  close(): void {
    this.closed = true;
    this.agent.destroy();
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
      const answer = await call(this.agent, address, RAFT_PATHS[rpc], JSON.stringify(request), {
        timeoutMs: this.options.rpcTimeoutMs,
        limit: REPLY_LIMIT,
      });
      if (answer.status !== 200)
        throw new Error(`HTTP ${answer.status}: ${answer.body.toString().trim()}`);
      const reply = parse(parseJson(answer.body), msg);
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

/** The answering side: one RPC from a peer, answered by the consensus module. */
export async function answerRaft(
  endpoint: RaftEndpoint,
  rpc: RpcName,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { self, peers, trace, faults } = endpoint;
  const { limit, parse } = ANSWERING[rpc];
  const body = parseJson(await readBody(req, limit));
  const request: RequestEnvelope<unknown> | string = parse(body, { self, peers });
  if (typeof request === "string") throw new HttpError(400, request);
  const heartbeat =
    rpc === "AppendEntries" && (request.payload as AppendEntriesArgs).entries.length === 0;
  const message = { rpc, type: "request", payload: request.payload } as RpcMessage;
  const details = messageDetails(message, request.msg, heartbeat);
  if (faults?.dropIncoming(request.from, details)) {
    // As on a cut link: no answer at all. The caller's connection breaks and its call fails.
    req.socket.destroy();
    return;
  }
  trace("deliver", { ...details, from: request.from });
  const payload = handle(endpoint, rpc, request.payload);
  const msg = endpoint.nextMsg();
  const reply = { rpc, type: "reply", request: request.msg, payload } as RpcMessage;
  trace("send", { ...messageDetails(reply, msg, heartbeat), to: request.from });
  sendJson(res, 200, { msg, request: request.msg, payload });
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
};

function handle(endpoint: RaftEndpoint, rpc: RpcName, args: unknown): unknown {
  const { node } = endpoint;
  try {
    if (rpc === "RequestVote") return node.handleRequestVote(args as RequestVoteArgs);
    if (rpc === "AppendEntries") return node.handleAppendEntries(args as AppendEntriesArgs);
    return node.handleInstallSnapshot(args as InstallSnapshotArgs);
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
