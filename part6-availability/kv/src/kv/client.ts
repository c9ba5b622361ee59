// The client (§8): it finds the leader, retries until its deadline, and says in the end whether
// an operation that failed may have taken effect. The same code runs against the simulated cluster
// (virtual clock, seeded random, simulated transport) and the real one (HTTP, wall clock).
//
// Each client opens a session (the store numbers it), numbers its requests and sends every retry
// of one with the same number, so the store executes it once and answers each retry with that
// first answer: retrying is always safe. A session the store has forgotten (idle too long) is
// opened anew; the request it was forgotten under fails as "maybe" if an attempt of it may have
// run before (§6.3), and is retried in the new session if none can have.
// Finding the leader: the last node that answered, else the hint of a node that is not leader,
// else the next node in turn. Between attempts it waits a random time up to a bound that doubles
// each time (exponential backoff with full jitter), so that many clients do not retry in step.
// A client may name a node it reads from (`readFrom`, the one nearest to it, say): each get goes
// there first, and a store with follower reads answers it there (§6.4); else that node points to
// the leader, and the get goes on as any other operation.
// A failure is definite when no attempt could have taken effect (every node said it is not the
// leader, or refused the connection before reading the request), as Maelstrom's definite errors
// are; otherwise it is indefinite: the operation may have happened, or may still.

import type { Clock } from "part6-availability/clock";
import type { Random } from "part6-availability/random";
import type { KvCommand, KvRequest, KvResponse, KvResult } from "./commands.ts";

/** How the client reaches one node. */
export interface KvTransport {
  /** Sends `request` to node `to`; rejects with a TransportError when no answer comes back. */
  send(to: number, request: KvRequest, timeoutMs: number): Promise<KvResponse>;
}

export class TransportError extends Error {
  /** Whether the node may have read the request before the call failed. */
  readonly maybeDelivered: boolean;
  constructor(message: string, maybeDelivered: boolean) {
    super(message);
    this.maybeDelivered = maybeDelivered;
  }
}

/** An operation that did not succeed by its deadline. */
export class ClientError extends Error {
  /** True: it did not take effect and never will. False: it may have, or may still. */
  readonly definite: boolean;
  constructor(message: string, definite: boolean) {
    super(message);
    this.definite = definite;
  }
}

export interface ClientOptions {
  /** Identifies the client's session for exactly-once execution; unique per client. */
  id: string;
  nodes: readonly number[];
  attemptTimeoutMs: number;
  deadlineMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** A node each get goes to first (its first attempt, after any session is open). */
  readFrom?: number;
}

export const defaultClientOptions = {
  attemptTimeoutMs: 1000,
  deadlineMs: 10_000,
  backoffBaseMs: 10,
  backoffMaxMs: 500,
};

/** The five operations, each a command that `run` carries out. */
export abstract class KvOperations {
  abstract run(command: KvCommand): Promise<KvResult>;

  get(key: string): Promise<KvResult> {
    return this.run({ op: "get", key });
  }
  put(key: string, value: string): Promise<KvResult> {
    return this.run({ op: "put", key, value });
  }
  append(key: string, value: string): Promise<KvResult> {
    return this.run({ op: "append", key, value });
  }
  cas(key: string, expected: string | null, value: string): Promise<KvResult> {
    return this.run({ op: "cas", key, expected, value });
  }
  delete(key: string): Promise<KvResult> {
    return this.run({ op: "delete", key });
  }
}

export class KvClient extends KvOperations {
  private readonly transport: KvTransport;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly options: ClientOptions;
  private seq = 0;
  /** The session the store opened for this client, once it has. */
  private session: number | undefined;
  /** The node believed to lead. */
  private leader: number;
  /** An operation is under way: a client runs one at a time (its requests are numbered so). */
  private busy = false;

  constructor(
    transport: KvTransport,
    clock: Clock,
    random: Random,
    options: Pick<ClientOptions, "id" | "nodes"> & Partial<ClientOptions>,
  ) {
    super();
    this.transport = transport;
    this.clock = clock;
    this.random = random;
    this.options = { ...defaultClientOptions, ...options };
    if (this.options.nodes.length === 0) throw new Error("a client needs at least one node");
    this.leader = this.options.nodes[0]!;
  }

  /** Runs one command, exactly once, or throws a ClientError that says whether it may have run. */
  async run(command: KvCommand): Promise<KvResult> {
    if (this.busy) {
      throw new Error(`client ${this.options.id} runs one operation at a time; use another client`);
    }
    this.busy = true;
    try {
      return await this.runOnce(command);
    } finally {
      this.busy = false;
    }
  }

  private async runOnce(command: KvCommand): Promise<KvResult> {
    const seq = ++this.seq;
    const request = (): KvRequest =>
      this.session === undefined
        ? { client: this.options.id, open: true }
        : { client: this.options.id, session: this.session, seq, command };
    const deadline = this.clock.now() + this.options.deadlineMs;
    let maybe = false;
    let last = "no attempt was made";
    // The backoff grows with the attempts that failed (an open answered is no failure).
    let failed = 0;
    let readFrom = command.op === "get" ? this.options.readFrom : undefined;
    while (this.clock.now() < deadline) {
      const timeout = Math.min(this.options.attemptTimeoutMs, deadline - this.clock.now());
      const sent = request();
      const to = sent.open === true || readFrom === undefined ? this.leader : readFrom;
      if (sent.open !== true) readFrom = undefined; // one try there; then as any operation
      const outcome = await this.attempt(sent, timeout, to);
      if (outcome.kind === "done") return outcome.result;
      if (outcome.kind === "opened") {
        this.session = outcome.session;
        continue;
      }
      if (outcome.kind === "expired") {
        this.session = undefined;
        // No attempt may have run it: it never will (its session is gone), so it can go again.
        if (!maybe) continue;
        throw new ClientError(
          `${describe(command)} failed (it may have taken effect): ${outcome.why}`,
          false,
        );
      }
      // An open changes nothing: only an attempt of the operation itself may have taken effect.
      if (sent.open !== true) maybe ||= outcome.maybe;
      last = outcome.why;
      failed++;
      if (!outcome.retryAtOnce) await this.backoff(failed, deadline);
    }
    const verdict = maybe ? "it may have taken effect" : "it did not take effect";
    throw new ClientError(
      `${describe(command)} failed by its deadline (${verdict}): ${last}`,
      !maybe,
    );
  }

  /**
   * One try at node `to` (the node believed to lead, or the one a get is read from), and what to
   * do next. Only a failure of the node believed to lead moves the client on to another.
   */
  private async attempt(request: KvRequest, timeoutMs: number, to: number): Promise<Outcome> {
    let response: KvResponse;
    try {
      response = await this.transport.send(to, request, timeoutMs);
    } catch (error) {
      if (to === this.leader) this.leader = this.nextAfter(to);
      const maybe = !(error instanceof TransportError) || error.maybeDelivered;
      return {
        kind: "retry",
        maybe,
        retryAtOnce: false,
        why: `n${to}: ${(error as Error).message}`,
      };
    }
    if (response.status === "ok") return { kind: "done", result: response.result };
    if (response.status === "opened") return { kind: "opened", session: response.session };
    if (response.status === "session-expired") {
      return { kind: "expired", why: `n${to}: ${response.error}` };
    }
    if (response.status === "not-leader") {
      // A hint names a node of the cluster; one this client was not told of is no use to it.
      const hint = response.leaderHint;
      const hinted = hint !== null && hint !== to && this.options.nodes.includes(hint);
      if (hinted) this.leader = hint;
      else if (to === this.leader) this.leader = this.nextAfter(to);
      return { kind: "retry", maybe: false, retryAtOnce: hinted, why: `n${to} is not the leader` };
    }
    return {
      kind: "retry",
      maybe: !response.definite,
      retryAtOnce: to !== this.leader, // a failed read elsewhere: the leader may still serve it
      why: `n${to}: ${response.error}`,
    };
  }

  private nextAfter(node: number): number {
    const nodes = this.options.nodes;
    return nodes[(nodes.indexOf(node) + 1) % nodes.length]!;
  }

  /** Waits a random time up to base · 2^attempt (capped), never past the deadline. */
  private backoff(attempt: number, deadline: number): Promise<void> {
    const { backoffBaseMs: base, backoffMaxMs: max } = this.options;
    const bound = Math.min(max, base * 2 ** Math.min(attempt, 20));
    const wait = Math.min(this.random.int(0, bound), Math.max(0, deadline - this.clock.now()));
    return new Promise((resolve) => this.clock.setTimer(wait, resolve));
  }
}

type Outcome =
  | { kind: "done"; result: KvResult }
  | { kind: "opened"; session: number }
  | { kind: "expired"; why: string }
  | { kind: "retry"; maybe: boolean; retryAtOnce: boolean; why: string };

function describe(command: KvCommand): string {
  return `${command.op} ${JSON.stringify(command.key)}`;
}
