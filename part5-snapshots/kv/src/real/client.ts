// The client's side of a node's HTTP API: KvClient (src/kv/client.ts) on a real cluster.
//
// - HttpKvTransport is KvClient's KvTransport over POST /kv (the protocol of commands.ts as JSON),
//   connections kept alive. It never follows a redirect: a follower's answer carries the leader's
//   id (leaderHint), and KvClient decides where to go next. A call that fails tells KvClient
//   whether the node may have read the request (a connection was made: the failure is
//   indefinite) or cannot have (refused: definite), which is how the client knows whether an
//   operation that gave up may still take effect.
// - RealClient is KvClient on that transport, the real clock and a seeded random: each operation
//   traced (client.invoke ... client.complete, as in the simulation, with each attempt's
//   client.send and client.answer) and, for the tests, recorded in a History that lincheck checks.
//   The command-line client (`pnpm kv`), the tests and the benchmark all use it.

import { Agent } from "node:http";
import { SeededRandom } from "part5-snapshots/random";
import {
  ClientError,
  type ClientOptions,
  KvClient,
  KvOperations,
  type KvTransport,
  TransportError,
} from "../kv/client.ts";
import {
  isObject,
  type KvCommand,
  type KvRequest,
  type KvResponse,
  type KvResult,
} from "../kv/commands.ts";
import type { History } from "../kv/history.ts";
import type { ClientKinds } from "../trace.ts";
import { type ClusterMap, parseAddress } from "./addresses.ts";
import { freshSeed, RealClock } from "./clock.ts";
import { CallError, call } from "./http.ts";
import type { TraceFile } from "./trace-file.ts";

/** Answers are small but a get may return a 64 KiB value, JSON-escaped. */
const ANSWER_LIMIT = 1024 * 1024;

export type ClientTracer = <K extends keyof ClientKinds>(kind: K, details: ClientKinds[K]) => void;

export class HttpKvTransport implements KvTransport {
  private readonly cluster: ClusterMap;
  private readonly agent = new Agent({ keepAlive: true });
  private readonly trace: ClientTracer | undefined;
  private readonly client: string;
  private readonly attempts = new Map<number, number>();
  /** How many attempts got an HTTP answer at all: none means no node was reachable. */
  answered = 0;

  constructor(cluster: ClusterMap, options: { client: string; trace?: ClientTracer }) {
    this.cluster = new Map(cluster);
    this.client = options.client;
    this.trace = options.trace;
  }

  async send(to: number, request: KvRequest, timeoutMs: number): Promise<KvResponse> {
    const seq = request.seq ?? 0;
    const attempt = (this.attempts.get(seq) ?? 0) + 1;
    this.attempts.set(seq, attempt);
    this.trace?.("client.send", { client: this.client, seq, to, attempt });
    const answer = (status: ClientKinds["client.answer"]["status"], detail?: string) =>
      this.trace?.("client.answer", {
        client: this.client,
        seq,
        from: to,
        status,
        ...(detail === undefined ? {} : { detail }),
      });
    try {
      const response = await this.exchange(to, request, timeoutMs);
      answer(response.status, "error" in response ? response.error : undefined);
      return response;
    } catch (error) {
      answer("no answer", (error as Error).message);
      throw error;
    }
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private async exchange(to: number, request: KvRequest, timeoutMs: number): Promise<KvResponse> {
    const address = this.cluster.get(to);
    if (address === undefined) throw new TransportError(`n${to}'s address is not known`, false);
    const answer = await call(this.agent, address, "/kv", JSON.stringify(request), {
      timeoutMs,
      limit: ANSWER_LIMIT,
    }).catch((error: unknown) => {
      // Whether the node may have read the request decides whether a give-up is definite.
      if (error instanceof CallError) throw new TransportError(error.message, error.reached);
      throw error;
    });
    this.answered++;
    const response = responseOf(answer.status, answer.body);
    if (typeof response === "string")
      throw new TransportError(`HTTP ${answer.status}: ${response}`, true);
    this.learnLeader(response, answer.body);
    return response;
  }

  /** A follower names the leader by id and address; an id not given on the command line is learned. */
  private learnLeader(response: KvResponse, body: Buffer): void {
    if (response.status !== "not-leader" || response.leaderHint === null) return;
    if (this.cluster.has(response.leaderHint)) return;
    const leader = (JSON.parse(body.toString()) as { leader?: unknown }).leader;
    const address = typeof leader === "string" ? parseAddress(leader) : undefined;
    if (address !== undefined && typeof address !== "string")
      this.cluster.set(response.leaderHint, address);
  }
}

/**
 * A node's answer as KvClient needs it, or why it is not one. A refusal (4xx, {"error"}) is a
 * definite failure: the node did nothing with the request.
 */
export function responseOf(status: number, body: Buffer): KvResponse | string {
  let value: unknown;
  try {
    value = JSON.parse(body.toString());
  } catch {
    return "the answer is not JSON";
  }
  if (!isObject(value)) return "the answer is not a JSON object";
  const { session } = value;
  // The one 4xx that is not a refusal of the request: its session is gone (commands.ts).
  if (value.status === "session-expired") {
    return Number.isSafeInteger(session) && typeof value.error === "string"
      ? (value as KvResponse)
      : "a session-expired answer without session and error";
  }
  if (status >= 400 && status < 500 && typeof value.error === "string") {
    return { status: "failed", definite: true, error: `refused (${status}): ${value.error}` };
  }
  const { result, leaderHint, definite, error } = value;
  switch (value.status) {
    case "ok":
      return isObject(result) &&
        typeof result.existed === "boolean" &&
        (result.value === null || typeof result.value === "string") &&
        Number.isSafeInteger(value.index)
        ? (value as KvResponse)
        : "an ok answer without a result and an index";
    case "opened":
      return Number.isSafeInteger(session) && Number.isSafeInteger(value.index)
        ? (value as KvResponse)
        : "an opened answer without session and index";
    case "not-leader":
      return leaderHint === null || Number.isSafeInteger(leaderHint)
        ? (value as KvResponse)
        : "a not-leader answer without leaderHint";
    case "failed":
      return typeof definite === "boolean" && typeof error === "string"
        ? (value as KvResponse)
        : "a failed answer without definite and error";
    default:
      return `no answer status in ${JSON.stringify(value).slice(0, 200)}`;
  }
}

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
