// The trace of a real process, in the format of docs/trace-format.md (JSON lines, one event a
// line, the same six fields), with two differences a reader merging the files of one run needs
// to know, both announced by the file's first event, `process.start` (its `clock` is "wall"):
//
// - `t` is wall-clock time, milliseconds since 1970 (Date.now()), not virtual time since the
//   cluster started: the processes of a run share no clock but the wall clock. Merge the files of
//   a run by `t` (and, within one file, by line order: several events share a millisecond).
// - `msg` ids are unique across all processes of the run (message-ids.ts), so a reply's
//   `request` names a request in another file.
//
// Each line is written with one write() as it happens, not buffered: a node killed with SIGKILL
// leaves every event before its death in the file (the kernel holds what write() was given).

import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import path from "node:path";
import type { Role } from "part3-persistence";

/** Kinds only real processes write; everything else is part 3's and part 4's (src/trace.ts). */
export interface RealKinds {
  /** First line of every file: who writes it, and how to read its times and ids. */
  "process.start": {
    program: "node" | "client" | "test";
    pid: number;
    /** `t` is wall-clock milliseconds since 1970. */
    clock: "wall";
    /** ISO 8601 of the same instant, for a reader. */
    started: string;
  } & Record<string, unknown>;
  /** The process stops cleanly (a killed one has no such line). */
  "process.stop": { reason: string };
  /** A node's fault injection changed (--test-faults): it now drops Raft RPCs to and from these. */
  faults: { drop: number[] };
  /** A test did something to a process (a harness event, `node` null). */
  fault: { action: "kill" | "restart" | "pause" | "resume" | "cut" | "heal"; node: number };
}

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

/** The details every first line carries. */
export function processStart(
  program: RealKinds["process.start"]["program"],
  extra: Record<string, unknown>,
): RealKinds["process.start"] {
  return { program, pid: process.pid, clock: "wall", started: new Date().toISOString(), ...extra };
}

/** Sentences for the kinds above, as src/trace.ts has them for the others. */
export const realSentences: { [K in keyof RealKinds]: (details: RealKinds[K]) => string } = {
  "process.start": (d) =>
    `${d.program} process ${d.pid} starts${Object.entries(d)
      .filter(([key]) => !["program", "pid", "clock", "started"].includes(key))
      .map(
        ([key, value]) => `, ${key} ${typeof value === "string" ? value : JSON.stringify(value)}`,
      )
      .join("")}`,
  "process.stop": (d) => `stops: ${d.reason}`,
  faults: (d) =>
    d.drop.length === 0
      ? "fault injection: drops no Raft message"
      : `fault injection: drops every Raft message to and from ${d.drop.map((n) => `n${n}`).join(", ")}`,
  fault: (d) => `test: ${d.action} n${d.node}`,
};
