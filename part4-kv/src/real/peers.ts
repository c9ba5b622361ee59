// The Raft RPCs of a real node: part 3's Transport over HTTP (POST /raft/request-vote and
// /raft/append-entries, JSON in the envelopes of wire.ts, connections kept alive), traced as the
// simulated network traces its messages (send, deliver, rpc.error, drop), and the fault
// injection a test uses to cut a node off from its peers.

import { Agent } from "node:http";
import type {
  AppendEntriesArgs,
  AppendEntriesReply,
  NodeId,
  RequestVoteArgs,
  RequestVoteReply,
  Transport,
} from "part3-persistence";
import type { MessageDetails, RpcMessage, RpcName } from "part3-persistence/trace";
import type { ClusterMap } from "./addresses.ts";
import { call, parseJson } from "./http.ts";
import type { NodeTracer } from "./node-trace.ts";
import {
  parseAppendEntriesReply,
  parseRequestVoteReply,
  type ReplyEnvelope,
  type RequestEnvelope,
} from "./wire.ts";

export const RAFT_PATHS: Record<RpcName, string> = {
  RequestVote: "/raft/request-vote",
  AppendEntries: "/raft/append-entries",
};

/** How large a reply may be: a few numbers. */
const REPLY_LIMIT = 16 * 1024;

/** The peers a node refuses to talk to (--test-faults): every RPC to or from them is dropped. */
export class Faults {
  private dropped = new Set<NodeId>();

  drops(peer: NodeId): boolean {
    return this.dropped.has(peer);
  }

  set(peers: Iterable<NodeId>): void {
    this.dropped = new Set(peers);
  }

  list(): NodeId[] {
    return [...this.dropped].sort((a, b) => a - b);
  }
}

export interface PeerOptions {
  self: NodeId;
  cluster: ClusterMap;
  rpcTimeoutMs: number;
  nextMsg: () => number;
  trace: NodeTracer;
  faults: Faults;
}

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
    return this.invoke(
      to,
      "AppendEntries",
      args,
      args.entries.length === 0,
      parseAppendEntriesReply,
    );
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
    const details = messageDetails(
      { rpc, type: "request", payload: args } as RpcMessage,
      msg,
      heartbeat,
    );
    trace("send", { ...details, to });
    if (faults.drops(to)) {
      trace("drop", { ...details, to, reason: "link cut" });
      throw new Error(`the link to n${to} is cut (test fault)`);
    }
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
    if (this.options.faults.drops(from)) {
      this.options.trace("drop", { ...details, to: this.options.self, reason: "link cut" });
      throw new Error(`the link from n${from} is cut (test fault)`);
    }
    this.options.trace("deliver", { ...details, from });
    return reply.payload;
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
