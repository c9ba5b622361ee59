// A client of a real cluster: KvClient on the HTTP transport, the real clock and a seeded random,
// each operation traced (client.invoke ... client.complete, as in the simulation) and, for the
// tests, recorded in a History that lincheck checks. The command-line client and the tests both
// use it.

import { SeededRandom } from "part3-persistence/random";
import { ClientError, type ClientOptions, KvClient, KvOperations } from "../kv/client.ts";
import type { KvCommand, KvResult } from "../kv/commands.ts";
import type { History } from "../kv/history.ts";
import type { ClusterMap } from "./addresses.ts";
import { freshSeed, RealClock } from "./clock.ts";
import { type ClientTracer, HttpKvTransport } from "./kv-transport.ts";
import type { TraceFile } from "./trace-file.ts";

export interface RealClientOptions extends Partial<Omit<ClientOptions, "id" | "nodes">> {
  id: string;
  cluster: ClusterMap;
  /** Where the client's events go (a file shared by several clients is fine). */
  trace?: TraceFile;
  /** Records every operation for lincheck, times from `now`. */
  history?: { history: History; now: () => number };
  seed?: number;
}

export class RealClient extends KvOperations {
  readonly id: string;
  readonly transport: HttpKvTransport;
  private readonly client: KvClient;
  private readonly trace: ClientTracer | undefined;
  private readonly record: RealClientOptions["history"];
  /** The number of the client's next request, as KvClient numbers them (one at a time). */
  private seq = 0;

  constructor(options: RealClientOptions) {
    super();
    const { id, cluster, trace, history, seed, ...clientOptions } = options;
    this.id = id;
    this.trace = trace === undefined ? undefined : clientTracer(trace);
    this.record = history;
    this.transport = new HttpKvTransport(cluster, { client: id, trace: this.trace });
    const clock = new RealClock({ keepAlive: true });
    const random = new SeededRandom(seed ?? freshSeed());
    this.client = new KvClient(this.transport, clock, random, {
      ...clientOptions,
      id,
      nodes: [...cluster.keys()],
    });
  }

  /** Runs one operation; its invocation and its outcome are traced and recorded. */
  async run(command: KvCommand): Promise<KvResult> {
    const seq = ++this.seq;
    const op = this.record?.history.begin(this.id, command, this.record.now());
    this.trace?.("client.invoke", { client: this.id, seq, command });
    try {
      const result = await this.client.run(command);
      if (op !== undefined) this.record!.history.end(op, this.record!.now(), result);
      this.trace?.("client.complete", { client: this.id, seq, result });
      return result;
    } catch (error) {
      const definite = error instanceof ClientError && error.definite;
      if (op !== undefined) this.record!.history.fail(op, definite);
      const message = error instanceof Error ? error.message : String(error);
      this.trace?.("client.complete", { client: this.id, seq, error: message, definite });
      throw error;
    }
  }

  close(): void {
    this.transport.close();
  }
}

/** Client events as trace lines: `node`, `term` and `role` are null, as for the simulation's. */
export function clientTracer(file: TraceFile): ClientTracer {
  return (kind, details) => file.write({ node: null, term: null, role: null, kind, details });
}
