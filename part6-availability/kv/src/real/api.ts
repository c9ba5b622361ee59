// A node's HTTP server: one per node, for its clients and its peers. The routes for clients are
// here; the Raft routes are answered by raft-http.ts, the fault injection's by faults.ts.
//
//   GET    /                      what the routes are
//   GET    /status                id, role, term, leader, commit index, log length...
//   GET    /kv/<key>              read
//   PUT    /kv/<key>              write: the body is the value, as it is (UTF-8)
//   POST   /kv/<key>/append       append the body to the value
//   POST   /kv/<key>/cas          {"expected": "old" or null, "value": "new"}: set if it holds old
//   DELETE /kv/<key>              delete
//   POST   /kv                    the protocol itself: {"client", "session", "seq", "command"}, or
//                                  {"client", "open": true} to open a session (commands.ts)
//   POST   /transfer-leader       the leader hands its leadership to another node (thesis §3.10):
//                                  to ?to=<id>, or to the follower furthest along; answered once
//                                  it no longer leads (transfer.ts)
//   GET    /raft/stream           Raft RPCs between nodes: a peer's stream (raft-stream.ts), or
//   POST   /raft/request-vote     one request each (raft-http.ts)
//   POST   /raft/append-entries
//   POST   /raft/install-snapshot
//   POST   /raft/pre-vote
//   POST   /raft/timeout-now
//   POST   /raft/read-index
//   GET, PUT, DELETE /admin/faults  only with --test-faults (faults.ts)
//
// `?client=<id>&session=<s>&seq=<n>` on the /kv routes makes a request exactly-once, in a session
// opened by POST /kv {"client": <id>, "open": true} (commands.ts: KvRequest).
// Keys travel in the URL, percent-encoded (`/` as %2F). Every answer is JSON. A follower answers a
// request for the store with 307 and the leader's URL (`curl -L` follows it), or with 503 and
// Retry-After while it knows no leader; started with --follower-reads, it serves a get itself.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { RaftNode } from "part6-availability";
import type { RpcName } from "part6-availability/trace";
import { type KvCommand, type KvResponse, MAX_VALUE_BYTES, parseRequest } from "../kv/commands.ts";
import type { KvService } from "../kv/service.ts";
import { type ClusterMap, formatAddress, urlOf } from "./addresses.ts";
import type { Faults } from "./faults.ts";
import { HttpError, parseJson, readBody, sendJson, utf8 } from "./http.ts";
import { answerRaft, type RaftEndpoint } from "./raft-http.ts";
import { transferLeadership } from "./transfer.ts";

/** What the server serves, and from what. */
export interface ApiContext {
  id: number;
  cluster: ClusterMap;
  node: RaftNode;
  service: KvService;
  /** The answering side of the Raft RPCs. */
  raft: RaftEndpoint;
  /** Present only with --test-faults: the fault injection a test drives. */
  faults: Faults | undefined;
  /** Shown in /status as they are at the moment: pid, seed, incarnation, data folder, storage... */
  details: () => Record<string, unknown>;
  /** How long POST /transfer-leader waits for the target to take over: an election timeout. */
  transferWaitMs: number;
}

/** A JSON body on the client routes: a cas holds two values of up to 64 KiB, JSON-escaped. */
export const CLIENT_BODY_LIMIT = 1024 * 1024;

type Handler = (
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  at: Target,
) => Promise<void>;

interface Target {
  key: string;
  query: URLSearchParams;
}

interface Route {
  path: RegExp;
  methods: Record<string, Handler>;
  testOnly?: boolean;
}

const kv =
  (make: (key: string, req: IncomingMessage) => Promise<KvCommand>): Handler =>
  async (ctx, req, res, at) =>
    answerKv(ctx, req, res, { ...session(at.query), command: await make(at.key, req) });

const rawValue = async (req: IncomingMessage) => utf8(await readBody(req, MAX_VALUE_BYTES));

const routes: Route[] = [
  { path: /^\/$/, methods: { GET: async (_c, _q, res) => sendJson(res, 200, help) } },
  { path: /^\/status$/, methods: { GET: async (ctx, _q, res) => sendJson(res, 200, status(ctx)) } },
  { path: /^\/kv$/, methods: { POST: protocol } },
  {
    path: /^\/kv\/([^/]+)$/,
    methods: {
      GET: kv(async (key) => ({ op: "get", key })),
      PUT: kv(async (key, req) => ({ op: "put", key, value: await rawValue(req) })),
      DELETE: kv(async (key) => ({ op: "delete", key })),
    },
  },
  {
    path: /^\/kv\/([^/]+)\/append$/,
    methods: { POST: kv(async (key, req) => ({ op: "append", key, value: await rawValue(req) })) },
  },
  { path: /^\/kv\/([^/]+)\/cas$/, methods: { POST: kv(casCommand) } },
  { path: /^\/transfer-leader$/, methods: { POST: transferLeader } },
  { path: /^\/raft\/request-vote$/, methods: { POST: raft("RequestVote") } },
  { path: /^\/raft\/append-entries$/, methods: { POST: raft("AppendEntries") } },
  { path: /^\/raft\/install-snapshot$/, methods: { POST: raft("InstallSnapshot") } },
  { path: /^\/raft\/pre-vote$/, methods: { POST: raft("PreVote") } },
  { path: /^\/raft\/timeout-now$/, methods: { POST: raft("TimeoutNow") } },
  { path: /^\/raft\/read-index$/, methods: { POST: raft("ReadIndex") } },
  {
    path: /^\/admin\/faults$/,
    methods: {
      GET: (ctx, req, res) => ctx.faults!.show(req, res),
      PUT: (ctx, req, res) => ctx.faults!.change(req, res),
      DELETE: (ctx, req, res) => ctx.faults!.heal(req, res),
    },
    testOnly: true,
  },
];

/** The request handler for a node's server: every error becomes a JSON answer, none escapes. */
export function apiHandler(ctx: ApiContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    route(ctx, req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof HttpError)
        sendJson(res, error.status, { error: error.message }, error.headers);
      else sendJson(res, 500, { error: `internal error: ${(error as Error).message ?? error}` });
    });
  };
}

async function route(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = parseUrl(req.url ?? "/");
  for (const { path, methods, testOnly } of routes) {
    const match = path.exec(url.pathname);
    if (match === null || (testOnly && ctx.faults === undefined)) continue;
    const handler = methods[req.method ?? ""];
    if (handler === undefined) {
      const allow = Object.keys(methods).join(", ");
      throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}: use ${allow}`, {
        allow,
      });
    }
    const key = match[1] === undefined ? "" : decodeKey(match[1]);
    return handler(ctx, req, res, { key, query: url.searchParams });
  }
  throw new HttpError(404, `no route ${url.pathname}: GET / lists them`);
}

function parseUrl(raw: string): URL {
  try {
    return new URL(raw, "http://node");
  } catch {
    throw new HttpError(400, "the request's URL cannot be read");
  }
}

function decodeKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw new HttpError(400, "the key is not valid percent-encoded UTF-8");
  }
}

/** `client`, `session` and `seq` from the query, checked by parseRequest with the command. */
function session(query: URLSearchParams): { client?: unknown; session?: unknown; seq?: unknown } {
  for (const name of query.keys()) {
    if (name !== "client" && name !== "session" && name !== "seq") {
      throw new HttpError(400, `unknown query parameter "${name}": only client, session and seq`);
    }
  }
  const [client, session, seq] = [query.get("client"), query.get("session"), query.get("seq")];
  const number = (text: string) => (/^\d+$/.test(text) ? Number(text) : text);
  return {
    ...(client === null ? {} : { client }),
    ...(session === null ? {} : { session: number(session) }),
    ...(seq === null ? {} : { seq: number(seq) }),
  };
}

async function casCommand(key: string, req: IncomingMessage): Promise<KvCommand> {
  const body = parseJson(await readBody(req, CLIENT_BODY_LIMIT));
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'the body must be {"expected": <string or null>, "value": <string>}');
  }
  const { expected, value, ...rest } = body as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined)
    throw new HttpError(400, `unknown field "${extra}": only expected and value`);
  if (expected === undefined)
    throw new HttpError(400, '"expected" is missing (null: the key must not exist)');
  return { op: "cas", key, expected, value } as KvCommand; // parseRequest checks the types
}

async function protocol(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, at: Target) {
  if ([...at.query.keys()].length > 0)
    throw new HttpError(400, "POST /kv takes no query: put client, session and seq in the body");
  return answerKv(ctx, req, res, parseJson(await readBody(req, CLIENT_BODY_LIMIT)));
}

/** Checks a request for the store, runs it, and answers with the status that fits the outcome. */
async function answerKv(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, body: unknown) {
  const request = parseRequest(body);
  if (typeof request === "string") throw new HttpError(400, request);
  const response = await ctx.service.handle(request);
  const [status, headers, extra] = httpOutcome(ctx, req, response);
  sendJson(res, status, { ...response, node: ctx.id, ...extra }, headers);
}

function httpOutcome(
  ctx: ApiContext,
  req: IncomingMessage,
  response: KvResponse,
): [number, Record<string, string>, Record<string, unknown>] {
  const retry = { "retry-after": "1" };
  if (response.status === "ok" || response.status === "opened") return [200, {}, {}];
  // The session is gone for good (commands.ts): not a refusal of this request's form.
  if (response.status === "session-expired") return [410, {}, {}];
  if (response.status === "failed") return response.definite ? [503, retry, {}] : [504, {}, {}];
  const leader = response.leaderHint === null ? undefined : ctx.cluster.get(response.leaderHint);
  if (leader === undefined || response.leaderHint === ctx.id) {
    return [503, retry, { error: "no leader is known yet: retry in a moment" }];
  }
  const location = urlOf(leader, req.url ?? "/");
  return [
    307,
    { location },
    { leader: formatAddress(leader), error: `n${response.leaderHint} leads: ${location}` },
  ];
}

/**
 * §3.10: POST /transfer-leader[?to=<id>]. The leader answers once it no longer leads (200), or
 * why not (409: refused, e.g. an unknown target; 504: the target did not take over in time); a
 * follower sends the caller to the leader, as for the store's routes.
 */
async function transferLeader(ctx: ApiContext, req: IncomingMessage, res: ServerResponse) {
  const query = parseUrl(req.url ?? "/").searchParams;
  for (const name of query.keys()) {
    if (name !== "to") throw new HttpError(400, `unknown query parameter "${name}": only to`);
  }
  const text = query.get("to");
  if (text !== null && !/^\d+$/.test(text))
    throw new HttpError(400, `to must be a node id, got "${text}"`);
  await readBody(req, CLIENT_BODY_LIMIT); // nothing is expected; read whatever came
  const to = text === null ? undefined : Number(text);
  const outcome = await transferLeadership(ctx.node, to, ctx.transferWaitMs);
  if (outcome.transferred) return sendJson(res, 200, { ...outcome, node: ctx.id });
  if (outcome.notLeader) {
    const response = { status: "not-leader", leaderHint: outcome.leader } as const;
    const [status, headers, extra] = httpOutcome(ctx, req, response);
    return sendJson(res, status, { ...outcome, node: ctx.id, ...extra }, headers);
  }
  sendJson(res, outcome.timedOut ? 504 : 409, { ...outcome, node: ctx.id, error: outcome.reason });
}

function raft(rpc: RpcName): Handler {
  return (ctx, req, res) => answerRaft(ctx.raft, rpc, req, res);
}

function status(ctx: ApiContext): Record<string, unknown> {
  const s = ctx.node.getState();
  const leader = s.leaderId === null ? undefined : ctx.cluster.get(s.leaderId);
  return {
    id: ctx.id,
    role: s.role,
    term: s.currentTerm,
    leader: s.leaderId,
    ...(leader === undefined ? {} : { leaderAddress: formatAddress(leader) }),
    votedFor: s.votedFor,
    commitIndex: s.commitIndex,
    lastApplied: s.lastApplied,
    logLength: s.lastLogIndex,
    lastIncludedIndex: s.lastIncludedIndex,
    lastIncludedTerm: s.lastIncludedTerm,
    keys: ctx.service.machine.size,
    sessions: ctx.service.machine.sessionCount,
    cluster: Object.fromEntries([...ctx.cluster].map(([id, a]) => [id, formatAddress(a)])),
    ...ctx.details(),
    ...(ctx.faults === undefined ? {} : { faults: { drop: ctx.faults.list() } }),
  };
}

const help = {
  routes: {
    "GET /status": "this node: id, role, term, leader, commitIndex, logLength...",
    "GET /kv/<key>": "read a key",
    "PUT /kv/<key>": "write: the body is the value",
    "POST /kv/<key>/append": "append the body to the value",
    "POST /kv/<key>/cas": 'compare-and-swap: {"expected": "old" or null, "value": "new"}',
    "DELETE /kv/<key>": "delete a key",
    "POST /transfer-leader?to=<id>":
      "the leader hands its leadership to node <id> (default: the follower furthest along), and answers once it no longer leads",
    "POST /kv":
      'the protocol: {"client": "c1", "session": 7, "seq": 1, "command": {"op": "put", "key": "k", "value": "v"}}; {"client": "c1", "open": true} opens a session and answers its number',
  },
  query:
    "?client=<id>&session=<s>&seq=<n> on the /kv routes: exactly once, however often it is retried",
  redirects:
    "a follower answers 307 to the leader (curl -L follows) or 503 while no leader is known",
};
