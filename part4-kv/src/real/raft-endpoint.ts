// The receiving side of the Raft RPCs: a request from a peer is read within a size limit, checked
// field by field (wire.ts), traced as delivered, answered by the consensus module (which saves
// what the answer depends on before it returns it), and the reply traced as sent.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { AppendEntriesArgs, RequestVoteArgs } from "part3-persistence";
import type { RpcMessage, RpcName } from "part3-persistence/trace";
import type { ApiContext } from "./api.ts";
import { HttpError, parseJson, readBody, sendJson } from "./http.ts";
import { messageDetails } from "./peers.ts";
import { parseAppendEntries, parseRequestVote, type RequestEnvelope } from "./wire.ts";

/**
 * How many entries a leader sends in one AppendEntries: enough that 64 clients' commands, which
 * arrive together and are saved in one write, also travel in one round trip (the benchmark's
 * 64-client load needs a third fewer disk syncs per entry than with 20). Each entry is at most
 * ~0.8 MiB as JSON (a cas with a 1 KiB key and two 64 KiB values, every byte escaped), so a
 * genuine request always fits the body limit below.
 */
export const MAX_ENTRIES_PER_APPEND = 64;
export const APPEND_BODY_LIMIT = 64 * 1024 * 1024;
const VOTE_BODY_LIMIT = 4096;

export async function answerRaft(
  ctx: ApiContext,
  rpc: RpcName,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const limit = rpc === "RequestVote" ? VOTE_BODY_LIMIT : APPEND_BODY_LIMIT;
  const body = parseJson(await readBody(req, limit));
  const members = { self: ctx.id, peers: [...ctx.cluster.keys()].filter((id) => id !== ctx.id) };
  const request: RequestEnvelope<unknown> | string =
    rpc === "RequestVote" ? parseRequestVote(body, members) : parseAppendEntries(body, members);
  if (typeof request === "string") throw new HttpError(400, request);
  const heartbeat =
    rpc === "AppendEntries" && (request.payload as AppendEntriesArgs).entries.length === 0;
  const details = messageDetails(
    { rpc, type: "request", payload: request.payload } as RpcMessage,
    request.msg,
    heartbeat,
  );
  if (ctx.faults?.drops(request.from)) {
    // As on a cut link: no answer at all. The caller's connection breaks and its call fails.
    ctx.trace("drop", { ...details, to: ctx.id, reason: "link cut" });
    req.socket.destroy();
    return;
  }
  ctx.trace("deliver", { ...details, from: request.from });
  const payload = handle(ctx, rpc, request.payload);
  const msg = ctx.nextMsg();
  const reply = { rpc, type: "reply", request: request.msg, payload } as RpcMessage;
  ctx.trace("send", { ...messageDetails(reply, msg, heartbeat), to: request.from });
  sendJson(res, 200, { msg, request: request.msg, payload });
}

function handle(ctx: ApiContext, rpc: RpcName, args: unknown): unknown {
  try {
    return rpc === "RequestVote"
      ? ctx.node.handleRequestVote(args as RequestVoteArgs)
      : ctx.node.handleAppendEntries(args as AppendEntriesArgs);
  } catch (error) {
    // The module has stopped (shutting down, or its storage failed): it must not answer.
    throw new HttpError(503, `n${ctx.id} does not answer: ${(error as Error).message}`);
  }
}
