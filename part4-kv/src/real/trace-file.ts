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
import type { RealKinds } from "../trace.ts";

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
