// The key/value store in the simulation: part 3's simulated cluster, a KvService on every node
// (a new one, with an empty state machine, each time a node restarts: it rebuilds its state by
// applying the log again), and clients that reach the nodes over a client network of their own
// (part 3's SideNetwork: its delays, losses and cuts, by the nodes' network's timing rule).
// Everything is in virtual time and drawn from the seed, like the rest of the cluster.
//
// Every client operation is recorded as lincheck expects it (src/kv/history.ts), and every
// attempt goes into the trace, so a test can check its whole history for linearizability and a
// timeline shows the clients beside the nodes.

import { SimCluster, type SimOptions } from "part6-availability/sim/cluster";
import {
  SideNetwork,
  type SideNetworkConfig,
  uniformLatency,
} from "part6-availability/sim/network";
import { encodeDecode } from "part6-availability/sim/wire";
import {
  ClientError,
  type ClientOptions,
  KvClient,
  KvOperations,
  type KvTransport,
  TransportError,
} from "../kv/client.ts";
import type { KvCommand, KvRequest, KvResponse, KvResult } from "../kv/commands.ts";
import { History } from "../kv/history.ts";
import { KvService, type ServiceOptions } from "../kv/service.ts";
import type { ClientKind, ClientKinds, KvTraceEvent } from "../trace.ts";

export interface KvSimOptions extends SimOptions {
  service?: Partial<ServiceOptions>;
  /** The network between clients and nodes: its delays and its losses, each way. */
  clientNetwork?: SideNetworkConfig;
}

export class KvSimCluster extends SimCluster {
  readonly services: Map<number, KvService>;
  /** The whole trace: part 3's events and the clients'. */
  readonly events: KvTraceEvent[] = [];
  readonly history = new History();
  /** Between clients and nodes: a client in another partition reaches some nodes only. */
  readonly clientNetwork: SideNetwork;
  private readonly listeners: ((event: KvTraceEvent) => void)[] = [];

  constructor(n: number, options: KvSimOptions) {
    const services = new Map<number, KvService>();
    super(n, {
      ...options,
      // §8: a new leader's no-op commits what earlier terms left, without waiting for a client.
      raft: { noopOnElection: true, ...options.raft },
      // §7: the snapshots hold the store's state, sessions included (the service gives them).
      snapshots: "application",
      onNode: (id, node, cluster) =>
        services.set(id, new KvService(node, cluster.clock, options.service)),
    });
    this.services = services;
    const clientNetwork = options.clientNetwork ?? { latency: uniformLatency(1, 5), lossRate: 0 };
    this.clientNetwork = new SideNetwork(this.clock, this.randomStream(), clientNetwork);
    this.tracer.subscribe((event) => this.record(event));
  }

  /** Calls `listener` with every event from now on, the nodes' and the clients', in order. */
  subscribe(listener: (event: KvTraceEvent) => void): void {
    this.listeners.push(listener);
  }

  private record(event: KvTraceEvent): void {
    this.events.push(event);
    for (const listener of this.listeners) listener(event);
  }

  /** A client of this cluster, with its own session; its operations are recorded and traced. */
  client(id: string, options: Partial<ClientOptions> = {}): SimKvClient {
    return new SimKvClient(this, id, options);
  }

  /** The nodes client `client` can reach on the client network. */
  clientReach(client: string): number[] {
    return this.ids.filter((id) => this.clientNetwork.linkUp(client, id));
  }

  /** Which nodes client `client` reaches, both ways (clients are not on the nodes' network). */
  setClientReach(client: string, nodes: readonly number[]): void {
    for (const id of this.ids) {
      this.clientNetwork.setLink(client, id, nodes.includes(id));
      this.clientNetwork.setLink(id, client, nodes.includes(id));
    }
  }

  /** Runs virtual time until `promise` settles (at most `maxMs`), and returns what it gave. */
  async settle<T>(promise: Promise<T>, maxMs = 60_000): Promise<T> {
    let outcome: { value: T } | { error: unknown } | undefined;
    promise.then(
      (value) => {
        outcome = { value };
      },
      (error: unknown) => {
        outcome = { error };
      },
    );
    await this.runUntil(this.clock.now() + maxMs, () => outcome !== undefined);
    if (outcome === undefined) return this.checkFailed("settle", `not done within ${maxMs} ms`);
    if ("error" in outcome) throw outcome.error;
    return outcome.value;
  }

  /** Records one client event in the trace. */
  clientEvent<K extends ClientKind>(kind: K, details: ClientKinds[K]): void {
    const event = { t: this.clock.now(), node: null, term: null, role: null, kind, details };
    this.record(event as KvTraceEvent);
  }

  /** The transport a client uses: one simulated hop each way, seeded delays and losses. */
  transportFor(client: string): KvTransport {
    const attempts = new Map<number, number>();
    return {
      send: (to, request, timeoutMs) => {
        const attempt = (attempts.get(request.seq ?? 0) ?? 0) + 1;
        attempts.set(request.seq ?? 0, attempt);
        this.clientEvent("client.send", { client, seq: request.seq ?? 0, to, attempt });
        return this.carry(client, to, request, timeoutMs);
      },
    };
  }

  private carry(
    client: string,
    to: number,
    request: KvRequest,
    timeoutMs: number,
  ): Promise<KvResponse> {
    const answer = (status: ClientKinds["client.answer"]["status"], detail?: string) =>
      this.clientEvent("client.answer", {
        client,
        seq: request.seq ?? 0,
        from: to,
        status,
        ...(detail === undefined ? {} : { detail }),
      });
    return new Promise((resolve, reject) => {
      let settled = false;
      let delivered = false;
      const timer = this.clock.setTimer(timeoutMs, () => {
        settled = true;
        answer("no answer", `none within ${timeoutMs} ms`);
        reject(new TransportError(`no answer within ${timeoutMs} ms`, delivered));
      });
      this.clientNetwork.send(client, to, () => {
        if (settled) return;
        if (this.state(to).role === "dead") {
          settled = true;
          timer.cancel();
          answer("no answer", "connection refused: the node is down");
          reject(new TransportError(`n${to} is down`, false));
          return;
        }
        delivered = true;
        // A copy, as over a real connection: the service never holds the client's objects.
        const copy = encodeDecode(request).copy as KvRequest;
        const service = this.services.get(to)!;
        void service.handle(copy).then((response) => {
          // A node that crashed meanwhile (or restarted: a new service) sends nothing back.
          const gone = this.state(to).role === "dead" || this.services.get(to) !== service;
          if (gone) return;
          this.clientNetwork.send(to, client, () => {
            if (settled) return;
            settled = true;
            timer.cancel();
            answer(response.status, "error" in response ? response.error : undefined);
            resolve(encodeDecode(response).copy as KvResponse);
          });
        });
      });
    });
  }
}

/** A client of the simulated store: KvClient, with each operation recorded and traced. */
export class SimKvClient extends KvOperations {
  readonly id: string;
  private readonly cluster: KvSimCluster;
  private readonly client: KvClient;
  /** The number of the client's next request, as KvClient numbers them (one at a time). */
  private seq = 0;

  constructor(cluster: KvSimCluster, id: string, options: Partial<ClientOptions>) {
    super();
    this.id = id;
    this.cluster = cluster;
    this.client = new KvClient(cluster.transportFor(id), cluster.clock, cluster.randomStream(), {
      id,
      nodes: cluster.ids,
      ...options,
    });
  }

  /** Runs one operation through KvClient; its invocation and its outcome go into the history. */
  async run(command: KvCommand): Promise<KvResult> {
    const { cluster } = this;
    const seq = ++this.seq;
    const op = cluster.history.begin(this.id, command, cluster.clock.now());
    cluster.clientEvent("client.invoke", { client: this.id, seq, command });
    try {
      const result = await this.client.run(command);
      cluster.history.end(op, cluster.clock.now(), result);
      cluster.clientEvent("client.complete", { client: this.id, seq, result });
      return result;
    } catch (error) {
      const definite = error instanceof ClientError && error.definite;
      cluster.history.fail(op, definite);
      const message = error instanceof Error ? error.message : String(error);
      cluster.clientEvent("client.complete", { client: this.id, seq, error: message, definite });
      throw error;
    }
  }
}
