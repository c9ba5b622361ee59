// A real node's events: each goes to its trace file (trace-file.ts) and, if it is one a person
// watching the terminal wants (a role or term change, a halt, a fault), to its log as one line.
// With `verbose`, every event is logged, messages included.

import type { Role } from "part3-persistence";
import type { NetworkKinds, NodeKinds } from "part3-persistence/trace";
import { type RealKinds, sentences } from "../trace.ts";
import type { TraceFile } from "./trace-file.ts";

export interface NodeEventKinds
  extends NodeKinds,
    NetworkKinds,
    Pick<RealKinds, "process.start" | "process.stop" | "faults"> {}

export type NodeTracer = <K extends keyof NodeEventKinds>(
  kind: K,
  details: NodeEventKinds[K],
) => void;

/** What the terminal shows without --verbose: the changes a person watching wants to see. */
const LOGGED = new Set<string>(["role", "term", "halt", "process.stop", "faults"]);

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
