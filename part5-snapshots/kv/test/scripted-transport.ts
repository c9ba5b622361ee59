// A KvTransport whose every answer the test scripts, on a virtual clock: for the client's unit
// tests (client.test.ts), which need the client alone, without a cluster behind it. A request
// that opens a session is answered at once, with the next session number, and kept apart
// (`opens`): the script answers the operations' attempts.

import type { VirtualClock } from "part5-snapshots/clock";
import type { Random } from "part5-snapshots/random";
import { type KvTransport, TransportError } from "../src/kv/client.ts";
import type { KvRequest, KvResponse } from "../src/kv/commands.ts";

/**
 * What one attempt gets: an answer from the node; "no answer" (the call times out, and the node
 * may have read the request); "refused" (the node is down: it never read it); or an Error that
 * is not a TransportError (a fault of the transport itself).
 */
export type Scripted = KvResponse | "no answer" | "refused" | Error;

export interface Sent {
  /** Virtual time of the attempt. */
  t: number;
  to: number;
  request: KvRequest;
  timeoutMs: number;
}

export const ok = (value: string | null = null): KvResponse => ({
  status: "ok",
  result: { value, existed: value !== null },
  index: 1,
});

export const notLeader = (leaderHint: number | null = null): KvResponse => ({
  status: "not-leader",
  leaderHint,
});

export const expired = (session: number): KvResponse => ({
  status: "session-expired",
  session,
  error: `session ${session} is not open`,
});

export const failed = (definite: boolean): KvResponse => ({
  status: "failed",
  definite,
  error: definite ? "lost with its leader" : "not applied in time",
});

export class ScriptedTransport implements KvTransport {
  readonly sent: Sent[] = [];
  /** The requests that opened a session, each answered with the next number from 1. */
  readonly opens: Sent[] = [];
  private readonly clock: VirtualClock;
  private readonly script: (to: number, attempt: number) => Scripted;
  private readonly latencyMs: number;

  /** `script(to, n)` answers the n-th attempt (from 0) of the whole run, made at node `to`. */
  constructor(
    clock: VirtualClock,
    script: (to: number, attempt: number) => Scripted,
    latencyMs = 0,
  ) {
    this.clock = clock;
    this.script = script;
    this.latencyMs = latencyMs;
  }

  send(to: number, request: KvRequest, timeoutMs: number): Promise<KvResponse> {
    const t = this.clock.now();
    if (request.open === true) {
      this.opens.push({ t, to, request: structuredClone(request), timeoutMs });
      const session = this.opens.length;
      return Promise.resolve({ status: "opened", session, index: session });
    }
    this.sent.push({ t, to, request: structuredClone(request), timeoutMs });
    const answer = this.script(to, this.sent.length - 1);
    return new Promise((resolve, reject) => {
      if (answer === "no answer") {
        this.clock.setTimer(timeoutMs, () =>
          reject(new TransportError(`no answer within ${timeoutMs} ms`, true)),
        );
      } else if (answer === "refused") {
        this.clock.setTimer(this.latencyMs, () =>
          reject(new TransportError("connection refused", false)),
        );
      } else if (answer instanceof Error) {
        reject(answer);
      } else {
        this.clock.setTimer(Math.min(this.latencyMs, timeoutMs), () => resolve(answer));
      }
    });
  }

  /** The virtual time between one attempt and the next. */
  gaps(): number[] {
    return this.sent.slice(1).map((s, i) => s.t - this.sent[i]!.t);
  }
}

/** A Random that always draws the top of the range: backoff waits its whole bound. */
export const drawsHighest: Random = {
  next: () => 1 - 2 ** -32,
  int: (_, max) => max,
  chance: () => false,
};

/** Runs virtual time until `promise` settles; returns its value or its error. */
export async function settle<T>(
  clock: VirtualClock,
  promise: Promise<T>,
): Promise<{ value: T; at: number } | { error: unknown; at: number }> {
  let outcome: { value: T; at: number } | { error: unknown; at: number } | undefined;
  promise.then(
    (value) => {
      outcome = { value, at: clock.now() };
    },
    (error: unknown) => {
      outcome = { error, at: clock.now() };
    },
  );
  await clock.runUntil(clock.now() + 600_000, () => outcome !== undefined);
  if (outcome === undefined)
    throw new Error("the operation did not settle in 600 s of virtual time");
  return outcome;
}
