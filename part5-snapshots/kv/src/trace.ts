// Part 4's trace: every kind of part 3's (docs/trace-format.md), plus the clients' side: each
// operation a client runs, each attempt it makes at a node, and how it ended. The safety checks
// read part 3's kinds as before; these are for the timeline (a column of their own) and for the
// history that lincheck checks. Each kind's sentence is written once, here, beside part 3's.

import {
  type TraceEvent as RaftEvent,
  type TraceKinds as RaftKinds,
  sentences as raftSentences,
} from "part5-snapshots/trace";
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
    status: "ok" | "opened" | "not-leader" | "failed" | "session-expired" | "no answer";
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

/** Kinds only real processes write (src/real/): their files, and the faults a test injects. */
export interface RealKinds {
  /** First line of every file: who writes it, and how to read its times and ids. */
  "process.start": {
    program: "node" | "client" | "test" | "supervisor";
    pid: number;
    /** `t` is wall-clock milliseconds since 1970. */
    clock: "wall";
    /** ISO 8601 of the same instant, for a reader. */
    started: string;
    /** The run this process belongs to: every file of one run names the same one. */
    run: string;
  } & Record<string, unknown>;
  /** The process stops cleanly (a killed one has no such line). */
  "process.stop": { reason: string };
  /**
   * A supervisor (`pnpm kv:cluster`) saw node `node`'s process end: `code` if it exited, `signal`
   * if a signal ended it; `expected` when the supervisor had asked it to stop (or to die).
   */
  "process.exit": { pid: number; code: number | null; signal: string | null; expected: boolean };
  /** A supervisor started node `node` again, in a new process. */
  "process.restart": { pid: number };
  /** A node's fault injection changed (--test-faults): it now drops Raft RPCs to and from these. */
  faults: { drop: number[] };
  /** A test did something to a process (a harness event, `node` null). */
  fault: { action: "kill" | "restart" | "pause" | "resume" | "cut" | "heal"; node: number };
}

export type ClientKind = keyof ClientKinds;
export type RealKind = keyof RealKinds;
export interface KvTraceKinds extends RaftKinds, ClientKinds, RealKinds {}
export type KvKind = keyof KvTraceKinds;

export interface ClientEvent<K extends ClientKind = ClientKind> {
  t: number;
  node: null;
  term: null;
  role: null;
  kind: K;
  details: ClientKinds[K];
}

/** An event of a real process (`node` is the node, or null for a client or a test). */
export interface RealEvent<K extends RealKind = RealKind> {
  t: number;
  node: number | null;
  term: number | null;
  role: RaftEvent["role"];
  kind: K;
  details: RealKinds[K];
}

/** Any event of a part 4 trace. */
export type KvTraceEvent =
  | RaftEvent
  | { [K in ClientKind]: ClientEvent<K> }[ClientKind]
  | { [K in RealKind]: RealEvent<K> }[RealKind];

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

const realSentences: { [K in keyof RealKinds]: (details: RealKinds[K]) => string } = {
  "process.start": (d) =>
    `${d.program} process ${d.pid} starts${Object.entries(d)
      .filter(([key]) => !["program", "pid", "clock", "started"].includes(key))
      .map(
        ([key, value]) => `, ${key} ${typeof value === "string" ? value : JSON.stringify(value)}`,
      )
      .join("")}`,
  "process.stop": (d) => `stops: ${d.reason}`,
  "process.exit": (d) =>
    `process ${d.pid} ${d.signal === null ? `exited with status ${d.code}` : `was ended by ${d.signal}`}${d.expected ? "" : ", unexpectedly"}`,
  "process.restart": (d) => `started again: process ${d.pid}`,
  faults: (d) =>
    d.drop.length === 0
      ? "fault injection: drops no Raft message"
      : `fault injection: drops every Raft message to and from ${d.drop.map((n) => `n${n}`).join(", ")}`,
  fault: (d) => `test: ${d.action} n${d.node}`,
};

/** Every sentence of a part 4 trace: part 3's, the clients' and the real processes'. */
export const sentences = { ...raftSentences, ...clientSentences, ...realSentences };

export function describeResult(r: KvResult): string {
  const was = r.existed ? JSON.stringify(r.value) : "absent";
  return r.ok === undefined ? `was ${was}` : `${r.ok ? "swapped" : "not swapped"}, was ${was}`;
}

/** The sentence for one event. */
export function describe(event: KvTraceEvent): string {
  const sentence = sentences[event.kind] as (details: KvTraceEvent["details"]) => string;
  return sentence(event.details);
}
