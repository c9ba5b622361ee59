// Part 4's trace: every kind of part 3's (docs/trace-format.md), plus the clients' side: each
// operation a client runs, each attempt it makes at a node, and how it ended. The safety checks
// read part 3's kinds as before; these are for the timeline (a column of their own) and for the
// history that lincheck checks. Each kind's sentence is written once, here, beside part 3's.

import {
  type TraceEvent as RaftEvent,
  type TraceKinds as RaftKinds,
  sentences as raftSentences,
} from "part3-persistence/trace";
import { describeCommand, type KvCommand, type KvResult } from "./kv/commands.ts";

/** Kinds a client emits (`node` is null; `client` names the client). */
export interface ClientKinds {
  /** An operation starts: what lincheck calls its invocation. */
  "client.invoke": { client: string; seq: number; command: KvCommand };
  /** One attempt at one node. */
  "client.send": { client: string; seq: number; to: number; attempt: number };
  /** What that node answered, or why no answer came. */
  "client.answer": {
    client: string;
    seq: number;
    from: number;
    status: "ok" | "not-leader" | "failed" | "no answer";
    detail?: string;
  };
  /** The operation ended: its result, or an error that says whether it may have taken effect. */
  "client.complete": {
    client: string;
    seq: number;
    result?: KvResult;
    error?: string;
    definite?: boolean;
  };
}

export type ClientKind = keyof ClientKinds;
export interface KvTraceKinds extends RaftKinds, ClientKinds {}
export type KvKind = keyof KvTraceKinds;

export interface ClientEvent<K extends ClientKind = ClientKind> {
  t: number;
  node: null;
  term: null;
  role: null;
  kind: K;
  details: ClientKinds[K];
}

/** Any event of a part 4 trace. */
export type KvTraceEvent = RaftEvent | { [K in ClientKind]: ClientEvent<K> }[ClientKind];

type ClientSentences = { [K in ClientKind]: (details: ClientKinds[K]) => string };

const clientSentences: ClientSentences = {
  "client.invoke": (d) => `${d.client} #${d.seq}: ${describeCommand(d.command)}`,
  "client.send": (d) => `${d.client} #${d.seq} → n${d.to} (attempt ${d.attempt})`,
  "client.answer": (d) =>
    `${d.client} #${d.seq} ← n${d.from}: ${d.status}${d.detail === undefined ? "" : ` (${d.detail})`}`,
  "client.complete": (d) =>
    d.result !== undefined
      ? `${d.client} #${d.seq} done: ${describeResult(d.result)}`
      : `${d.client} #${d.seq} FAILED (${d.definite ? "did not take effect" : "may have taken effect"}): ${d.error}`,
};

/** Every sentence of a part 4 trace: part 3's and the clients'. */
export const sentences = { ...raftSentences, ...clientSentences };

export function describeResult(r: KvResult): string {
  const was = r.existed ? JSON.stringify(r.value) : "absent";
  return r.ok === undefined ? `was ${was}` : `${r.ok ? "swapped" : "not swapped"}, was ${was}`;
}

/** The sentence for one event. */
export function describe(event: KvTraceEvent): string {
  const sentence = sentences[event.kind] as (details: KvTraceEvent["details"]) => string;
  return sentence(event.details);
}
