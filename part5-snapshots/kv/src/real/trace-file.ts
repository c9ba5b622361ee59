// How a real process traces: its file, the ids of its messages, and a node's log.
//
// The file is the format of docs/trace-format.md (JSON lines, one event a line, the same six
// fields), with what a reader merging the files of one run needs, all announced by the file's
// first event, `process.start` (its `clock` is "wall", its `run` names the run):
//
// - `t` is wall-clock time, milliseconds since 1970 (Date.now()), not virtual time since the
//   cluster started: the processes of a run share no clock but the wall clock. Merge the files of
//   a run by `t` (and, within one file, by line order: several events share a millisecond).
// - `msg` ids are unique across all processes of the run, restarts included (messageIds below),
//   so a reply's `request` names a request in another file.
// - Every process of one run writes into one folder, `<trace folder>/<run>/`, and names the run in
//   its `process.start`: files of different runs are never taken for one.
//
// Each line is written with one write() as it happens, not buffered: a node killed with SIGKILL
// leaves every event before its death in the file (the kernel holds what write() was given).
// A node's tracer also logs the events a person watching its terminal wants, one line each.

import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import type { Role } from "part5-snapshots";
import type { NetworkKinds, NodeKinds } from "part5-snapshots/trace";
import { type RealKinds, sentences } from "../trace.ts";
import { MAX_NODE_ID } from "./addresses.ts";

export interface TraceLine {
  t: number;
  node: number | null;
  term: number | null;
  role: Role | null;
  kind: string;
  details: object;
}

export class TraceFile {
  readonly file: string;
  private fd: number | undefined;

  /** Opens `file` for writing, creating its folder; `append` keeps what is there already. */
  constructor(file: string, options: { append: boolean }) {
    this.file = file;
    mkdirSync(path.dirname(file), { recursive: true });
    this.fd = openSync(file, options.append ? "a" : "w");
  }

  write(event: Omit<TraceLine, "t">): void {
    if (this.fd === undefined) return;
    const line: TraceLine = { t: Date.now(), ...event };
    writeSync(this.fd, `${JSON.stringify(line)}\n`);
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}

/** The details every first line carries: who writes, and the run it belongs to. */
export function processStart(
  program: RealKinds["process.start"]["program"],
  run: string,
  extra: Record<string, unknown>,
): RealKinds["process.start"] {
  const started = new Date().toISOString();
  return { program, pid: process.pid, clock: "wall", started, run, ...extra };
}

/**
 * A new run's id, which is also its folder's name: the local time and this process's id,
 * `20261123-140502-4711`. Ids sort by time; two runs started in one second differ by pid.
 */
export function newRunId(at = new Date()): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const day = `${at.getFullYear()}${two(at.getMonth() + 1)}${two(at.getDate())}`;
  return `${day}-${two(at.getHours())}${two(at.getMinutes())}${two(at.getSeconds())}-${process.pid}`;
}

/** Why `run` cannot name a run (it becomes a folder name), or undefined if it can. */
export function runIdProblem(run: string): string | undefined {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(run)
    ? undefined
    : `a run id is 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit; got "${run}"`;
}

/** Where the files of run `run` go: a folder of their own under the trace folder. */
export function runFolder(traceDir: string, run: string): string {
  return path.join(traceDir, run);
}

// Message ids, unique across every process of a cluster and every restart, so that every reply
// still names the one request it answers once the files of a run are merged. The id is a number,
// as the trace format says, read in decimal:
//
//   node · 10^14  +  (incarnation mod 10^4) · 10^10  +  count
//
// e.g. 200030000000017 is node 2, incarnation 3, its 17th message: the last ten digits count, the
// four before them say which start of the node, the rest which node. The incarnation is the
// number of times the node has started on its data folder, kept in the folder itself (a counter
// the node increments, durably, before it sends anything), so no two starts share a prefix. With
// node ids up to 89 the largest id stays below 2^53, a number JSON carries exactly.

const COUNT_SPAN = 10 ** 10;
const INCARNATION_SPAN = 10 ** 4;
export const INCARNATION_FILE = "incarnation";

/** The ids one start of node `node` gives its messages: 1, 2, 3... behind its prefix. */
export function messageIds(node: number, incarnation: number): () => number {
  if (!Number.isSafeInteger(node) || node < 0 || node > MAX_NODE_ID) {
    throw new Error(`node id ${node} is not in 0..${MAX_NODE_ID}`);
  }
  const prefix = (node * INCARNATION_SPAN + (incarnation % INCARNATION_SPAN)) * COUNT_SPAN;
  let count = 0;
  return () => {
    count++;
    // Ten billion messages: at a thousand a second, four months without a restart.
    if (count >= COUNT_SPAN) throw new Error("message ids of this start are used up: restart it");
    return prefix + count;
  };
}

/** What a message id says: which node, which start of it, which message. */
export function messageOrigin(msg: number): { node: number; incarnation: number; count: number } {
  return {
    node: Math.floor(msg / (INCARNATION_SPAN * COUNT_SPAN)),
    incarnation: Math.floor(msg / COUNT_SPAN) % INCARNATION_SPAN,
    count: msg % COUNT_SPAN,
  };
}

/**
 * Counts one more start of the node on `folder` and returns its number (1 for the first).
 * Written to a temporary file, synced, then renamed over the old one: a crash leaves the old
 * number or the new one, never half of one. Call it while holding the folder's lock (open the
 * storage first), so two processes cannot take the same number.
 */
export function nextIncarnation(folder: string): number {
  const file = path.join(folder, INCARNATION_FILE);
  let previous = 0;
  try {
    previous = Number.parseInt(readFileSync(file, "utf8"), 10);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  if (!Number.isSafeInteger(previous) || previous < 0) {
    throw new Error(`${file} does not hold a whole number: delete it to start counting again`);
  }
  const next = previous + 1;
  const temporary = `${file}.tmp`;
  const fd = openSync(temporary, "w");
  try {
    writeSync(fd, `${next}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
  return next;
}

// A node's events: each goes to its trace file and, if it is one a person watching the terminal
// wants (a role or term change, a halt, a fault), to its log as one line. With `verbose`, every
// event is logged, messages included.

export interface NodeEventKinds
  extends NodeKinds,
    NetworkKinds,
    Pick<RealKinds, "process.start" | "process.stop" | "faults"> {}

export type NodeTracer = <K extends keyof NodeEventKinds>(
  kind: K,
  details: NodeEventKinds[K],
) => void;

/**
 * What the terminal shows without --verbose: the changes a person watching wants to see, a
 * snapshot installed or restored, and, loudly, a follower that lost what it acknowledged.
 */
const LOGGED = new Set<string>([
  "role",
  "term",
  "halt",
  "process.stop",
  "faults",
  "snapshot.install",
  "snapshot.restore",
  "data.lost",
]);

export interface NodeTraceOptions {
  id: number;
  /** The node's term and role now (before the module exists: term 0, follower). */
  state: () => { term: number; role: Role };
  file: TraceFile | undefined;
  log: (line: string) => void;
  verbose: boolean;
}

export function nodeTracer(options: NodeTraceOptions): NodeTracer {
  return (kind, details) => {
    const { term, role } = options.state();
    options.file?.write({ node: options.id, term, role, kind, details });
    if (options.verbose || LOGGED.has(kind)) {
      options.log(logLine(new Date(), term, role, sentence(kind, details)));
    }
  };
}

/** One line of a node's log: `12:03:04.567 T3 leader    commitIndex 4 → 5 (...)`. */
export function logLine(at: Date, term: number, role: Role, text: string): string {
  return `${clockTime(at)} T${term} ${role.padEnd(9)} ${text}`;
}

export function clockTime(at: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const ms = String(at.getMilliseconds()).padStart(3, "0");
  return `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}.${ms}`;
}

const allSentences = sentences as Record<string, (d: unknown) => string>;

/** The sentence for any kind a real process writes: part 3's, part 4's or its own. */
export function sentence(kind: string, details: unknown): string {
  const describe = allSentences[kind];
  return describe === undefined ? `${kind} ${JSON.stringify(details)}` : describe(details);
}
