// A simulated network for tests: every message is a timer on the virtual clock, so latency,
// loss, duplication, reordering and partitions are all reproducible from the seed.
//
// Links are directed: a->b can be cut while b->a still works. A message is delivered only if its
// link is up both when it is sent and when it arrives; a message already in flight when its link
// is cut is dropped on arrival, as if the cable had been pulled while it was on the wire. Healing
// a link never revives a message that was dropped. An RPC whose request or reply is dropped
// fails with RpcError after `rpcTimeoutMs`, so no caller waits forever.

import type { Clock } from "./clock.ts";
import type {
  AppendEntriesArgs,
  AppendEntriesReply,
  NodeId,
  RequestVoteArgs,
  RequestVoteReply,
  Transport,
} from "./raft.ts";
import type { Random } from "./random.ts";
import type { Tracer } from "./trace.ts";

export interface NetworkConfig {
  /** One-way delay of a message, in whole ms, drawn for each message. */
  latency: LatencyModel;
  /** Probability that a message is lost. */
  lossRate: number;
  /** Probability that a message is delivered twice (each copy with its own delay). */
  duplicateRate: number;
  /** Probability that a message is held back long enough to arrive after later ones. */
  reorderRate: number;
  reorderDelayMs: { min: number; max: number };
  /** A call whose reply has not arrived this long after it was sent fails. */
  rpcTimeoutMs: number;
}

/** Draws one message's delay; `description` names the distribution in the trace. */
export type LatencyModel = ((random: Random) => number) & { description?: string };

export function uniformLatency(min: number, max: number): LatencyModel {
  const draw = (random: Random) => random.int(min, max);
  return Object.assign(draw, { description: `uniform ${min}-${max} ms` });
}

export const defaultNetworkConfig: NetworkConfig = {
  latency: uniformLatency(1, 5),
  lossRate: 0,
  duplicateRate: 0,
  reorderRate: 0,
  reorderDelayMs: { min: 100, max: 600 },
  rpcTimeoutMs: 100,
};

/** The receiving side of each RPC, as a node offers it to the network. */
export interface RpcHandlers {
  handleRequestVote(args: RequestVoteArgs): RequestVoteReply | Promise<RequestVoteReply>;
  handleAppendEntries(args: AppendEntriesArgs): AppendEntriesReply | Promise<AppendEntriesReply>;
}

export class RpcError extends Error {}

type RpcName = "RequestVote" | "AppendEntries";

interface Message {
  msg: number;
  from: NodeId;
  to: NodeId;
  rpc: RpcName;
  type: "request" | "reply";
  request?: number;
  payload: unknown;
  heartbeat: boolean;
}

export class SimNetwork {
  readonly config: NetworkConfig;
  private readonly members: readonly NodeId[];
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly tracer: Tracer;
  private readonly attached = new Map<NodeId, RpcHandlers>();
  private readonly cutLinks = new Set<string>();
  private nextMsg = 1;

  constructor(
    members: readonly NodeId[],
    env: { clock: Clock; random: Random; tracer: Tracer },
    config: Partial<NetworkConfig> = {},
  ) {
    this.members = members;
    this.clock = env.clock;
    this.random = env.random;
    this.tracer = env.tracer;
    this.config = { ...defaultNetworkConfig, ...config };
  }

  /** Connects a running node; messages to a node that is not attached are dropped. */
  attach(id: NodeId, node: RpcHandlers): void {
    this.attached.set(id, node);
  }

  detach(id: NodeId): void {
    this.attached.delete(id);
  }

  /** The calls node `from` makes; this is the Transport its consensus module is given. */
  transport(from: NodeId): Transport {
    return {
      requestVote: (to, args) =>
        this.call(from, to, "RequestVote", args, false) as Promise<RequestVoteReply>,
      // Part 1 sends no log entries, so every AppendEntries is a heartbeat.
      appendEntries: (to, args) =>
        this.call(from, to, "AppendEntries", args, true) as Promise<AppendEntriesReply>,
    };
  }

  private call(
    from: NodeId,
    to: NodeId,
    rpc: RpcName,
    payload: unknown,
    heartbeat: boolean,
  ): Promise<unknown> {
    // A stopped node sends nothing, even from a continuation that was already under way.
    if (!this.attached.has(from)) {
      return Promise.reject(new RpcError(`n${from} is not on the network`));
    }
    return new Promise((resolve, reject) => {
      const request: Message = {
        msg: this.nextMsg++,
        from,
        to,
        rpc,
        type: "request",
        payload,
        heartbeat,
      };
      let settled = false;
      const timeout = this.clock.setTimer(this.config.rpcTimeoutMs, () => {
        settled = true;
        const error = `no reply within ${this.config.rpcTimeoutMs} ms`;
        this.tracer.emit(from, "rpc.error", { rpc, to, msg: request.msg, error });
        reject(new RpcError(`${rpc} from n${from} to n${to}: ${error}`));
      });
      this.transmit(request, (node) => {
        void this.respond(node, request, (reply) => {
          if (settled) return; // a late or duplicated reply: the caller has moved on
          settled = true;
          timeout.cancel();
          resolve(reply.payload);
        });
      });
    });
  }

  /** Runs the receiver's handler and sends its answer back over the reverse link. */
  private async respond(
    node: RpcHandlers,
    request: Message,
    onReply: (reply: Message) => void,
  ): Promise<void> {
    const payload =
      request.rpc === "RequestVote"
        ? await node.handleRequestVote(request.payload as RequestVoteArgs)
        : await node.handleAppendEntries(request.payload as AppendEntriesArgs);
    if (this.attached.get(request.to) !== node) return; // stopped while it worked on the request
    const reply: Message = {
      msg: this.nextMsg++,
      from: request.to,
      to: request.from,
      rpc: request.rpc,
      type: "reply",
      request: request.msg,
      payload,
      heartbeat: request.heartbeat,
    };
    this.transmit(reply, () => onReply(reply));
  }

  /** Sends one message: traces it, then delivers it (maybe twice), or drops it. */
  private transmit(m: Message, onArrival: (node: RpcHandlers) => void): void {
    this.tracer.emit(m.from, "send", messageDetails(m, { to: m.to }));
    if (this.random.chance(this.config.lossRate)) {
      this.drop(m, "lost");
      return;
    }
    if (!this.linkUp(m.from, m.to)) {
      this.drop(m, "link cut");
      return;
    }
    const copies = this.random.chance(this.config.duplicateRate) ? 2 : 1;
    for (let copy = 0; copy < copies; copy++) {
      this.clock.setTimer(this.delay(), () => this.arrive(m, copy > 0, onArrival));
    }
  }

  private arrive(m: Message, duplicate: boolean, onArrival: (node: RpcHandlers) => void): void {
    const node = this.attached.get(m.to);
    if (node === undefined) {
      this.drop(m, "receiver dead");
      return;
    }
    if (!this.linkUp(m.from, m.to)) {
      this.drop(m, "link cut");
      return;
    }
    const copy = duplicate ? { duplicate: true } : {};
    this.tracer.emit(m.to, "deliver", { ...messageDetails(m, { from: m.from }), ...copy });
    onArrival(node);
  }

  private drop(m: Message, reason: string): void {
    this.tracer.emit(m.from, "drop", { ...messageDetails(m, { to: m.to }), reason });
  }

  private delay(): number {
    const base = this.config.latency(this.random);
    if (!this.random.chance(this.config.reorderRate)) return base;
    const { min, max } = this.config.reorderDelayMs;
    return base + this.random.int(min, max);
  }

  // Link control. Each change is one call, so tests read as the scenario they set up.

  linkUp(from: NodeId, to: NodeId): boolean {
    return !this.cutLinks.has(linkKey(from, to));
  }

  /** Cuts one direction of one link: `from` can no longer reach `to`. */
  cut(from: NodeId, to: NodeId): void {
    this.cutLinks.add(linkKey(from, to));
  }

  uncut(from: NodeId, to: NodeId): void {
    this.cutLinks.delete(linkKey(from, to));
  }

  /** Cuts every link to and from `id`, leaving links between the others as they are. */
  isolate(id: NodeId): void {
    for (const other of this.others(id)) {
      this.cut(id, other);
      this.cut(other, id);
    }
  }

  /** Restores every link to and from `id`, leaving links between the others as they are. */
  reconnect(id: NodeId): void {
    for (const other of this.others(id)) {
      this.uncut(id, other);
      this.uncut(other, id);
    }
  }

  /**
   * Replaces the whole topology: nodes in the same group reach each other, nodes in different
   * groups do not. A node named in no group is alone in a group of its own.
   */
  partition(groups: readonly (readonly NodeId[])[]): void {
    const groupOf = new Map<NodeId, number>();
    groups.forEach((group, g) => {
      for (const id of group) groupOf.set(id, g);
    });
    this.heal();
    for (const a of this.members) {
      for (const b of this.others(a)) {
        if (groupOf.get(a) === undefined || groupOf.get(a) !== groupOf.get(b)) this.cut(a, b);
      }
    }
  }

  /** Restores every link. */
  heal(): void {
    this.cutLinks.clear();
  }

  private others(id: NodeId): NodeId[] {
    return this.members.filter((other) => other !== id);
  }
}

/** The fields every message event carries (docs/trace-format.md); `peer` is `to` or `from`. */
function messageDetails(
  m: Message,
  peer: { to: NodeId } | { from: NodeId },
): Record<string, unknown> {
  return {
    msg: m.msg,
    ...peer,
    rpc: m.rpc,
    type: m.type,
    ...(m.request === undefined ? {} : { request: m.request }),
    payload: m.payload,
    heartbeat: m.heartbeat,
  };
}

function linkKey(from: NodeId, to: NodeId): string {
  return `${from}>${to}`;
}
