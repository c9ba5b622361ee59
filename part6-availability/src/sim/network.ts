// A simulated network for tests: every message is a timer on the virtual clock, so latency,
// loss, duplication, reordering and partitions are all reproducible from the seed. Messages
// travel as bytes would: each is encoded as JSON when sent (the encoding a real transport uses,
// and what its `bytes` count; sim/wire.ts makes what decoding it gives back, directly for plain
// data), and every receiver gets its own decoded copy, never the sender's objects.
//
// Whether a message gets through: the rules, all of them, in one place.
//
// 1. Nodes. A node sends only while it is attached (started, not stopped); a message that
//    arrives at a node that is no longer attached is dropped ("receiver dead").
// 2. Links. The link from a to b is up when three independent layers all allow it:
//    - connection: a and b are both connected. `isolate(id)` disconnects a node from everyone;
//      `reconnect(id)` connects it again, and then it reaches only nodes that are themselves
//      connected (as the MIT tester's connect does): a node the test cut off talks to no one
//      until the test reconnects it, whoever else comes back;
//    - partition: a and b are in the same group. `partition(groups)` replaces the groups; a node
//      named in no group is alone in one of its own. Connection flags and cuts stay as they are;
//    - cuts: the direction a→b is not cut. `cut(a, b)` and `uncut(a, b)` change that one
//      direction only; isolate, reconnect and partition leave cuts alone.
//    `heal()` resets all three layers (everyone connected, one group, no cuts) and makes every
//    slow link fast again.
// 3. Timing. A message is delivered only if its link is up both when it is sent and when it
//    arrives: one in flight when its link goes down is dropped on arrival, as if the cable had
//    been pulled while it was on the wire, and restoring the link never revives it. Its delay is
//    drawn from the latency model, plus the link's extra delay if `slow` set one, plus a long
//    extra delay for the messages picked for reordering.
// 4. Calls. An RPC whose request or reply is dropped fails with RpcError after `rpcTimeoutMs`;
//    none hangs. A reply that arrives after that is traced as delivered and ignored by the
//    caller; replies can therefore arrive after the election or term they answer has ended.
//
// `SideNetwork`, at the end, carries the messages of endpoints that are not nodes (part 4's
// clients) by rule 3, on links of its own.

import type { Clock } from "../clock.ts";
import type {
  AppendEntriesArgs,
  AppendEntriesReply,
  InstallSnapshotArgs,
  InstallSnapshotReply,
  NodeId,
  PreVoteArgs,
  PreVoteReply,
  ReadIndexArgs,
  ReadIndexReply,
  RequestVoteArgs,
  RequestVoteReply,
  TimeoutNowArgs,
  TimeoutNowReply,
  Transport,
} from "../raft.ts";
import type { Random } from "../random.ts";
import type { MessageDetails, NetworkView, RpcName, Tracer } from "../trace.ts";
import { copyDecoded, encodeDecode } from "./wire.ts";

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
  /** Hold back replies only, as the MIT labs' long reordering does; requests go at once. */
  reorderRepliesOnly?: boolean;
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

/**
 * The MIT labs' unreliable network (their labrpc with reliable = false): one message in ten
 * lost, each delayed 0 to 27 ms. Every loss and delay is drawn from the seed.
 */
export const unreliableNetwork: Partial<NetworkConfig> = {
  lossRate: 0.1,
  latency: uniformLatency(0, 27),
};

/**
 * The unreliable network with the labs' long reordering: about two replies in three held back a
 * further 200 ms to 1.2 s (labrpc draws 200 ms plus a skewed delay of up to 2 s, mostly short;
 * this keeps its mean, 700 ms), with an RPC timeout long enough that many still arrive while
 * their call waits.
 */
export const longReorderingNetwork: Partial<NetworkConfig> = {
  ...unreliableNetwork,
  reorderRate: 2 / 3,
  reorderDelayMs: { min: 200, max: 1200 },
  reorderRepliesOnly: true,
  rpcTimeoutMs: 2500,
};

/** The receiving side of each RPC, as a node offers it to the network. */
export interface RpcHandlers {
  handleRequestVote(args: RequestVoteArgs): RequestVoteReply | Promise<RequestVoteReply>;
  handleAppendEntries(args: AppendEntriesArgs): AppendEntriesReply | Promise<AppendEntriesReply>;
  handleInstallSnapshot(
    args: InstallSnapshotArgs,
  ): InstallSnapshotReply | Promise<InstallSnapshotReply>;
  handlePreVote(args: PreVoteArgs): PreVoteReply | Promise<PreVoteReply>;
  handleTimeoutNow(args: TimeoutNowArgs): TimeoutNowReply | Promise<TimeoutNowReply>;
  handleReadIndex(args: ReadIndexArgs): ReadIndexReply | Promise<ReadIndexReply>;
}

/**
 * A call that failed: lost, timed out, or made by a node that is off the network. That is an
 * outcome a caller expects, not a bug, so it carries no stack, and the network makes each one
 * with `RpcError.of`, without running Error's constructor: even with no stack to capture, that
 * takes longer than a lost message's whole trip, and a chaos run has thousands of them.
 */
export class RpcError extends Error {
  static of(message: string): RpcError {
    const error = Object.create(RpcError.prototype) as RpcError;
    error.message = message;
    return error;
  }
}
RpcError.prototype.name = "RpcError";

/** What one node has put on the wire, for message and bandwidth budgets in tests. */
export interface TrafficCounters {
  /** Requests sent (each RPC counts once, whatever became of it). */
  rpcs: number;
  /** Bytes of JSON payload in every request and reply sent. */
  bytes: number;
}

/** What each RPC carries each way. */
interface Rpcs {
  RequestVote: { args: RequestVoteArgs; reply: RequestVoteReply };
  AppendEntries: { args: AppendEntriesArgs; reply: AppendEntriesReply };
  InstallSnapshot: { args: InstallSnapshotArgs; reply: InstallSnapshotReply };
  PreVote: { args: PreVoteArgs; reply: PreVoteReply };
  TimeoutNow: { args: TimeoutNowArgs; reply: TimeoutNowReply };
  ReadIndex: { args: ReadIndexArgs; reply: ReadIndexReply };
}

/** A message on the wire: what it carries, and where it goes. */
interface Envelope {
  msg: number;
  from: NodeId;
  to: NodeId;
  rpc: RpcName;
  type: "request" | "reply";
  heartbeat: boolean;
  /** What its trace events show: what the wire carries (sim/wire.ts), never a live object. */
  details: MessageDetails;
  /** A request: whether its caller still waits for the reply. */
  awaited: boolean;
  /** A request: the node that sent it; a reply reaches only that node, not one restarted since. */
  caller?: RpcHandlers;
  /** A reply: the request it answers. */
  answers?: Envelope;
}

export class SimNetwork {
  readonly config: NetworkConfig;
  private readonly members: readonly NodeId[];
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly tracer: Tracer;
  private readonly attached = new Map<NodeId, RpcHandlers>();
  // The three layers of rule 2, and the slow links of rule 3.
  private readonly disconnected = new Set<NodeId>();
  private groupOf: Map<NodeId, number> | null = null;
  private readonly cutLinks = new Set<string>();
  private readonly extraDelay = new Map<string, number>();
  private readonly traffic = new Map<NodeId, TrafficCounters>();
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
    this.config = { ...defaultNetworkConfig, ...config }; // its own copy: makeReliable changes it
  }

  /** Connects a running node; messages to a node that is not attached are dropped. */
  attach(id: NodeId, node: RpcHandlers): void {
    this.attached.set(id, node);
  }

  detach(id: NodeId): void {
    this.attached.delete(id);
  }

  isAttached(id: NodeId): boolean {
    return this.attached.has(id);
  }

  /** The calls node `from` makes; this is the Transport its consensus module is given. */
  transport(from: NodeId): Transport {
    return {
      requestVote: (to, args) => this.call(from, to, "RequestVote", args, false),
      // A heartbeat is an AppendEntries that carries no entries.
      appendEntries: (to, args) =>
        this.call(from, to, "AppendEntries", args, args.entries.length === 0),
      installSnapshot: (to, args) => this.call(from, to, "InstallSnapshot", args, false),
      preVote: (to, args) => this.call(from, to, "PreVote", args, false),
      timeoutNow: (to, args) => this.call(from, to, "TimeoutNow", args, false),
      readIndex: (to, args) => this.call(from, to, "ReadIndex", args, false),
    };
  }

  private call<R extends RpcName>(
    from: NodeId,
    to: NodeId,
    rpc: R,
    args: Rpcs[R]["args"],
    heartbeat: boolean,
  ): Promise<Rpcs[R]["reply"]> {
    // A stopped node sends nothing, even from a continuation that was already under way.
    if (!this.attached.has(from)) {
      return Promise.reject(RpcError.of(`n${from} is not on the network`));
    }
    return new Promise((resolve, reject) => {
      const request = this.envelope(from, to, rpc, args, heartbeat);
      request.awaited = true;
      request.caller = this.attached.get(from);
      const timeout = this.clock.setTimer(this.config.rpcTimeoutMs, () => {
        request.awaited = false;
        const error = `no reply within ${this.config.rpcTimeoutMs} ms`;
        this.tracer.emit(from, "rpc.error", { rpc, to, msg: request.msg, error });
        reject(RpcError.of(`${rpc} from n${from} to n${to}: ${error}`));
      });
      this.transmit(request, (node, payload) => {
        void this.respond(node, request, payload, (reply) => {
          if (!request.awaited) return; // a late or duplicated reply: the caller has moved on
          request.awaited = false;
          timeout.cancel();
          resolve(reply as Rpcs[R]["reply"]);
        });
      });
    });
  }

  /** Runs the receiver's handler on its copy of the request and sends its answer back. */
  private async respond(
    node: RpcHandlers,
    request: Envelope,
    payload: unknown,
    onReply: (reply: unknown) => void,
  ): Promise<void> {
    // The payload was decoded from what this network encoded for this RPC, so it has its shape.
    let answer: unknown;
    try {
      answer = await handle(node, request.rpc, payload);
    } catch {
      return; // a receiver that fails while handling a request answers nothing, as if it crashed
    }
    if (this.attached.get(request.to) !== node) return; // stopped while it worked on the request
    const reply = this.envelope(request.to, request.from, request.rpc, answer, request);
    this.transmit(reply, (_, copy) => onReply(copy));
  }

  /** A request (`heartbeat` given) or the reply to `answers`, encoded as a transport would. */
  private envelope(
    from: NodeId,
    to: NodeId,
    rpc: RpcName,
    payload: unknown,
    answers: boolean | Envelope,
  ): Envelope {
    const msg = this.nextMsg++;
    const request = typeof answers === "boolean" ? undefined : answers;
    const heartbeat = typeof answers === "boolean" ? answers : answers.heartbeat;
    const details = messageDetails(msg, rpc, request?.msg, heartbeat, encodeDecode(payload));
    const type = request === undefined ? "request" : "reply";
    return {
      msg,
      from,
      to,
      rpc,
      type,
      heartbeat,
      details,
      awaited: false,
      answers: request,
    };
  }

  /** What node `id` has sent so far. */
  counters(id: NodeId): TrafficCounters {
    return { ...(this.traffic.get(id) ?? { rpcs: 0, bytes: 0 }) };
  }

  /** Sends one message: traces it, then delivers it (maybe twice), or drops it. */
  private transmit(m: Envelope, onArrival: (node: RpcHandlers, payload: unknown) => void): void {
    const sent = this.traffic.get(m.from) ?? { rpcs: 0, bytes: 0 };
    if (m.type === "request") sent.rpcs++;
    sent.bytes += m.details.bytes;
    this.traffic.set(m.from, sent);
    this.tracer.emit(m.from, "send", Object.assign(messageFields(m.details), { to: m.to }));
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
      this.clock.setTimer(this.delay(m), () => this.arrive(m, copy > 0, onArrival));
    }
  }

  private arrive(
    m: Envelope,
    duplicate: boolean,
    onArrival: (node: RpcHandlers, payload: unknown) => void,
  ): void {
    const node = this.attached.get(m.to);
    if (node === undefined) {
      this.drop(m, "receiver dead");
      return;
    }
    if (!this.linkUp(m.from, m.to)) {
      this.drop(m, "link cut");
      return;
    }
    const copy = duplicate ? { duplicate: true as const } : {};
    // A reply whose call is over (timed out, answered by an earlier copy, or made by a node that
    // has since crashed) reaches no one.
    const over = m.answers !== undefined && (!m.answers.awaited || m.answers.caller !== node);
    const late = over ? { late: true as const } : {};
    const details = Object.assign(messageFields(m.details), { from: m.from }, copy, late);
    this.tracer.emit(m.to, "deliver", details);
    onArrival(node, copyDecoded(m.details.payload));
  }

  private drop(m: Envelope, reason: "lost" | "link cut" | "receiver dead"): void {
    this.tracer.emit(m.from, "drop", Object.assign(messageFields(m.details), { to: m.to, reason }));
  }

  private delay(m: Envelope): number {
    const base =
      this.config.latency(this.random) + (this.extraDelay.get(linkKey(m.from, m.to)) ?? 0);
    if (this.config.reorderRepliesOnly && m.type === "request") return base;
    if (!this.random.chance(this.config.reorderRate)) return base;
    const { min, max } = this.config.reorderDelayMs;
    return base + this.random.int(min, max);
  }

  // ---- Link control: rule 2's three layers, and slow links ----

  /** Whether a message from `from` to `to` would get through now (rule 2). */
  linkUp(from: NodeId, to: NodeId): boolean {
    if (this.disconnected.has(from) || this.disconnected.has(to)) return false;
    if (this.groupOf !== null && this.groupOf.get(from) !== this.groupOf.get(to)) return false;
    return !this.cutLinks.has(linkKey(from, to));
  }

  isConnected(id: NodeId): boolean {
    return !this.disconnected.has(id);
  }

  /** Disconnects `id` from everyone until `reconnect(id)` or `heal()`. */
  isolate(id: NodeId): void {
    this.disconnected.add(id);
  }

  /** Connects `id` again: it reaches the connected nodes of its group, over links not cut. */
  reconnect(id: NodeId): void {
    this.disconnected.delete(id);
  }

  /** Replaces the groups: links cross no group boundary. A node named in no group is alone. */
  partition(groups: readonly (readonly NodeId[])[]): void {
    const groupOf = new Map<NodeId, number>();
    groups.forEach((group, g) => {
      for (const id of group) groupOf.set(id, g);
    });
    let alone = groups.length;
    for (const id of this.members) if (!groupOf.has(id)) groupOf.set(id, alone++);
    this.groupOf = groupOf;
  }

  /** The groups of the current partition, each node named in one (one group when none). */
  partitionGroups(): NodeId[][] {
    const groups = new Map<number, NodeId[]>();
    for (const id of this.members) {
      const g = this.groupOf?.get(id) ?? 0;
      groups.set(g, [...(groups.get(g) ?? []), id]);
    }
    return [...groups.values()];
  }

  /** Cuts one direction of one link: `from` can no longer reach `to`. */
  cut(from: NodeId, to: NodeId): void {
    this.cutLinks.add(linkKey(from, to));
  }

  uncut(from: NodeId, to: NodeId): void {
    this.cutLinks.delete(linkKey(from, to));
  }

  /** Adds `extraMs` to every message from `from` to `to` sent from now on (0 makes it fast). */
  slow(from: NodeId, to: NodeId, extraMs: number): void {
    if (!Number.isInteger(extraMs) || extraMs < 0) {
      throw new Error(`extra delay must be a non-negative integer of ms, got ${extraMs}`);
    }
    if (extraMs === 0) this.extraDelay.delete(linkKey(from, to));
    else this.extraDelay.set(linkKey(from, to), extraMs);
  }

  /** From now on no message is lost, duplicated or held back for reordering. */
  makeReliable(): void {
    Object.assign(this.config, { lossRate: 0, duplicateRate: 0, reorderRate: 0 });
  }

  /** Everyone connected, one group, no cuts, no slow links. */
  heal(): void {
    this.disconnected.clear();
    this.groupOf = null;
    this.cutLinks.clear();
    this.extraDelay.clear();
  }

  /**
   * Groups of attached nodes that reach each other both ways, directly or through others in
   * the group. With no one-way cuts, every node of a group reaches every other one directly.
   */
  reachGroups(): NodeId[][] {
    const live = this.members.filter((id) => this.attached.has(id));
    const seen = new Set<NodeId>();
    const groups: NodeId[][] = [];
    for (const start of live) {
      if (seen.has(start)) continue;
      const group = [start];
      seen.add(start);
      for (let i = 0; i < group.length; i++) {
        for (const other of live) {
          const a = group[i]!;
          if (seen.has(other) || !this.linkUp(a, other) || !this.linkUp(other, a)) continue;
          seen.add(other);
          group.push(other);
        }
      }
      groups.push(group.sort((a, b) => a - b));
    }
    return groups;
  }

  /** The view a harness event carries, given which nodes the harness counts as cut off. */
  view(cutOff: NodeId[]): NetworkView {
    const dead = this.members.filter((id) => !this.attached.has(id));
    return { groups: this.reachGroups(), cutOff, dead };
  }
}

// ---- A network beside the nodes' one ----

/** An endpoint of a side network: a node by its id, or anything else by a name (a client). */
export type Endpoint = NodeId | string;

/** How a side network's messages travel: their delay, and how many are lost. */
export interface SideNetworkConfig {
  latency: LatencyModel;
  lossRate: number;
}

/**
 * Links between the nodes and endpoints that are not nodes (part 4's clients), on the nodes'
 * clock and by the timing rule of their links (rule 3: a message goes through only if its link
 * is up both when it leaves and when it arrives), with a delay and a loss of their own, drawn
 * from a random stream of their own (so their draws do not shift the nodes' network's). A link is
 * one direction between two endpoints, cut or not. What a message carries, and what happens when
 * it arrives, is the caller's.
 */
export class SideNetwork {
  readonly config: SideNetworkConfig;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly cutLinks = new Set<string>();

  constructor(clock: Clock, random: Random, config: SideNetworkConfig) {
    this.clock = clock;
    this.random = random;
    this.config = { ...config }; // its own copy: makeReliable changes it
  }

  /** Sends one message: `arrive` runs when it gets to `to`, unless it is lost or its link is cut. */
  send(from: Endpoint, to: Endpoint, arrive: () => void): void {
    if (!this.linkUp(from, to) || this.random.chance(this.config.lossRate)) return;
    this.clock.setTimer(this.config.latency(this.random), () => {
      if (this.linkUp(from, to)) arrive();
    });
  }

  linkUp(from: Endpoint, to: Endpoint): boolean {
    return !this.cutLinks.has(`${from}>${to}`);
  }

  /** Cuts one direction of one link, or restores it (`up`). */
  setLink(from: Endpoint, to: Endpoint, up: boolean): void {
    if (up) this.cutLinks.delete(`${from}>${to}`);
    else this.cutLinks.add(`${from}>${to}`);
  }

  /** From now on no message is lost (delays stay). */
  makeReliable(): void {
    this.config.lossRate = 0;
  }
}

/**
 * Runs `node`'s handler of `rpc` on `payload`, which the network decoded for that RPC (the real
 * nodes' answering side, kv/src/real/raft-http.ts, uses it too).
 */
export function handle(node: RpcHandlers, rpc: RpcName, payload: unknown): unknown {
  switch (rpc) {
    case "RequestVote":
      return node.handleRequestVote(payload as RequestVoteArgs);
    case "AppendEntries":
      return node.handleAppendEntries(payload as AppendEntriesArgs);
    case "InstallSnapshot":
      return node.handleInstallSnapshot(payload as InstallSnapshotArgs);
    case "PreVote":
      return node.handlePreVote(payload as PreVoteArgs);
    case "TimeoutNow":
      return node.handleTimeoutNow(payload as TimeoutNowArgs);
    case "ReadIndex":
      return node.handleReadIndex(payload as ReadIndexArgs);
  }
}

/** The fields every event about one message carries (docs/trace-format.md). */
function messageDetails(
  msg: number,
  rpc: RpcName,
  request: number | undefined,
  heartbeat: boolean,
  { copy: payload, bytes }: { copy: unknown; bytes: number },
): MessageDetails {
  // Built here from an RPC name and the payload encoded for it, so it has that RPC's shape.
  return (
    request === undefined
      ? { rpc, type: "request", payload, msg, heartbeat, bytes }
      : { rpc, type: "reply", request, payload, msg, heartbeat, bytes }
  ) as MessageDetails;
}

/**
 * A fresh copy of a message's fields, for one event about the message to add its own to. Written
 * out, not spread: on Node 20 an object spread followed by further properties takes microseconds
 * (V8 makes each such object a shape of its own), and a chaos run traces thousands of messages.
 */
function messageFields(d: MessageDetails): MessageDetails {
  const { msg, heartbeat, bytes } = d;
  return (
    d.type === "request"
      ? { rpc: d.rpc, type: d.type, payload: d.payload, msg, heartbeat, bytes }
      : { rpc: d.rpc, type: d.type, request: d.request, payload: d.payload, msg, heartbeat, bytes }
  ) as MessageDetails;
}

function linkKey(from: NodeId, to: NodeId): string {
  return `${from}>${to}`;
}
