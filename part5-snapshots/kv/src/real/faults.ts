// Fault injection, for tests only: a node started with --test-faults can be told to drop every
// Raft RPC to and from some of its peers, which cuts it off from them as a partition would, while
// its clients still reach it. Everything about it is here: the links that are cut, the decision to
// drop a message (and its `drop` event), and the routes a test drives:
//
//   GET    /admin/faults                 {"drop": [peer ids]}: the peers cut off now
//   PUT    /admin/faults  {"drop": [1]}  cut these links (and heal the others)
//   DELETE /admin/faults                 heal every link
//
// Without --test-faults a node has no Faults at all: the routes do not exist (404) and the Raft
// side (raft-http.ts) drops nothing. A cut link drops a message on this node only, in the
// direction it travels: a call to a cut peer fails at once; a request from one is read, traced as
// dropped and its connection closed without an answer, so the caller's call fails; a reply from
// one that arrives after the cut is dropped too.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { NodeId } from "part5-snapshots";
import type { MessageDetails } from "part5-snapshots/trace";
import { HttpError, parseJson, readBody, sendJson } from "./http.ts";
import type { NodeTracer } from "./trace-file.ts";

export class Faults {
  private readonly self: NodeId;
  private readonly peers: readonly NodeId[];
  private readonly trace: NodeTracer;
  private dropped = new Set<NodeId>();

  constructor(options: { self: NodeId; peers: readonly NodeId[]; trace: NodeTracer }) {
    this.self = options.self;
    this.peers = options.peers;
    this.trace = options.trace;
  }

  /** A message this node is about to send to `to`: true, and traced as dropped, if the link is cut. */
  dropOutgoing(to: NodeId, details: MessageDetails): boolean {
    if (!this.dropped.has(to)) return false;
    this.trace("drop", { ...details, to, reason: "link cut" });
    return true;
  }

  /** A message that came from `from` (a request, or a reply): true, traced, if the link is cut. */
  dropIncoming(from: NodeId, details: MessageDetails): boolean {
    if (!this.dropped.has(from)) return false;
    this.trace("drop", { ...details, to: this.self, reason: "link cut" });
    return true;
  }

  /** GET /admin/faults */
  async show(_req: IncomingMessage, res: ServerResponse): Promise<void> {
    sendJson(res, 200, { drop: this.list() });
  }

  /** PUT /admin/faults {"drop": [peer ids]} */
  async change(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = parseJson(await readBody(req, 4096));
    const drop = (body as { drop?: unknown } | null)?.drop;
    if (
      !Array.isArray(drop) ||
      Object.keys(body as object).length !== 1 ||
      !drop.every((p) => this.peers.includes(p as number))
    ) {
      throw new HttpError(
        400,
        `the body must be {"drop": [peer ids]}, peers being ${this.peers.join(", ")}`,
      );
    }
    this.set(drop as NodeId[]);
    sendJson(res, 200, { drop: this.list() });
  }

  /** DELETE /admin/faults */
  async heal(_req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.set([]);
    sendJson(res, 200, { drop: [] });
  }

  /** The peers cut off now, in order: shown in /status. */
  list(): NodeId[] {
    return [...this.dropped].sort((a, b) => a - b);
  }

  private set(peers: readonly NodeId[]): void {
    this.dropped = new Set(peers);
    this.trace("faults", { drop: this.list() });
  }
}
