// A simulated cluster wired together: one virtual clock, one seeded random source, one tracer,
// the simulated network and n consensus modules. No test framework here, so benchmarks and
// scripts build clusters the same way the tests do.

import { VirtualClock } from "../src/clock.ts";
import { type NetworkConfig, SimNetwork, type TrafficCounters } from "../src/network.ts";
import {
  type AppliedEntry,
  type NodeId,
  type NodeState,
  type RaftConfig,
  RaftNode,
} from "../src/raft.ts";
import { SeededRandom } from "../src/random.ts";
import { Tracer } from "../src/trace.ts";

export interface SimOptions {
  seed: number;
  raft?: Partial<RaftConfig>;
  network?: Partial<NetworkConfig>;
}

export class SimCluster {
  readonly seed: number;
  readonly ids: readonly NodeId[];
  readonly clock = new VirtualClock();
  readonly tracer: Tracer;
  readonly network: SimNetwork;
  /** What each node has applied, in order: what its state machine has seen. */
  readonly applied = new Map<NodeId, AppliedEntry[]>();
  private readonly nodes = new Map<NodeId, RaftNode>();

  /** Builds `n` nodes (ids 0..n-1); they do nothing until `startNodes`. */
  constructor(n: number, options: SimOptions) {
    this.seed = options.seed;
    this.ids = Array.from({ length: n }, (_, i) => i);
    // Separate streams for the network and each node, so a change in how often one draws
    // does not shift what the others draw.
    const random = new SeededRandom(this.seed);
    this.tracer = new Tracer(this.clock, (id) => {
      const s = this.node(id).getState();
      return { term: s.currentTerm, role: s.role };
    });
    const env = { clock: this.clock, random: random.fork(), tracer: this.tracer };
    this.network = new SimNetwork(this.ids, env, options.network);
    for (const id of this.ids) {
      const peers = this.ids.filter((peer) => peer !== id);
      const node = new RaftNode(
        id,
        peers,
        {
          clock: this.clock,
          random: random.fork(),
          transport: this.network.transport(id),
          trace: (kind, details) => this.tracer.emit(id, kind, details),
        },
        options.raft,
      );
      this.nodes.set(id, node);
      const applied: AppliedEntry[] = [];
      this.applied.set(id, applied);
      node.onApply((entry) => applied.push(entry));
    }
  }

  startNodes(): void {
    for (const [id, node] of this.nodes) {
      this.network.attach(id, node);
      node.start();
    }
  }

  node(id: NodeId): RaftNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node n${id} in this cluster`);
    return node;
  }

  state(id: NodeId): NodeState {
    return this.node(id).getState();
  }

  /** Stops a node for good and takes it off the network. */
  stopNode(id: NodeId): void {
    if (this.state(id).role !== "dead") this.node(id).stop();
    this.network.detach(id);
  }

  /** Requests and bytes sent by `ids` (default: every node) since the start. */
  traffic(ids: readonly NodeId[] = this.ids): TrafficCounters {
    const total = { rpcs: 0, bytes: 0 };
    for (const id of ids) {
      const sent = this.network.counters(id);
      total.rpcs += sent.rpcs;
      total.bytes += sent.bytes;
    }
    return total;
  }

  liveIds(): NodeId[] {
    return this.ids.filter((id) => this.state(id).role !== "dead");
  }

  leaders(): NodeState[] {
    return this.liveIds()
      .map((id) => this.state(id))
      .filter((s) => s.role === "leader");
  }
}
