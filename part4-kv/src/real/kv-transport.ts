// The client's side of the HTTP API: KvClient's KvTransport over POST /kv (the protocol of
// commands.ts as JSON), connections kept alive. It never follows a redirect: a follower's answer
// carries the leader's id (leaderHint), and KvClient decides where to go next. Each attempt and
// its answer can be traced as the simulation traces them (client.send, client.answer).

import { Agent } from "node:http";
import { type KvTransport, TransportError } from "../kv/client.ts";
import { isObject, type KvRequest, type KvResponse } from "../kv/commands.ts";
import type { ClientKinds } from "../trace.ts";
import { type ClusterMap, parseAddress } from "./addresses.ts";
import { call } from "./http.ts";

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
      answer(response.status, response.status === "failed" ? response.error : undefined);
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
    // A failed call is a TransportError that says whether the request may have been read.
    const answer = await call(this.agent, address, "/kv", JSON.stringify(request), {
      timeoutMs,
      limit: ANSWER_LIMIT,
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
