// Merges the trace files of one run into one trace. Part 4's real processes each write their own
// file in the same format: a node's process its own events, the client side the clients' (and
// the test's) events, `t` in wall-clock milliseconds, message ids unique across processes. The
// merged trace has every file's events on one timeline, every node's column, the clients', and
// messages linked across files by their ids. It assumes the files' clocks are one machine's
// clock: their order across files is only as good as that, so a message delivered before it was
// sent (by those clocks) is reported.

import { basename } from "node:path";
import { clientOpOf } from "./kinds.ts";
import { assemble, type Trace, type TraceEvent } from "./trace.ts";

/** A file of the run, read by `readEvents`. */
export interface ReadFile {
  /** the file's path, for warnings and the page's header */
  source: string;
  events: TraceEvent[];
  warnings: string[];
}

/** One trace from the files of one run; `source` names it (its page is named after it). */
export function mergeTraces(
  files: readonly ReadFile[],
  source: string,
  otherRuns: string[] = [],
): Trace {
  const names = files.map((file) => basename(file.source));
  const warnings = files.flatMap((file, i) => file.warnings.map((w) => `${names[i]}: ${w}`));
  const merged = interleave(files.map((file) => file.events));
  const origin = merged[0]?.event.t ?? 0;
  // wall-clock milliseconds are unreadable as row times: rows count from the first event
  const events = merged.map(({ event }) => ({ ...event, t: event.t - origin }));
  warnings.push(...clockWarnings(merged, names));
  const run = { files: files.map((f) => f.source), origin, otherRuns };
  return assemble(source, events, warnings, run);
}

/** The run a file belongs to: its `process.start`'s `run`, or null for a file that names none. */
function runOf(file: ReadFile): string | null {
  for (const e of file.events) {
    if (e.known && e.kind === "process.start" && typeof e.details.run === "string") {
      return e.details.run;
    }
  }
  return null;
}

/**
 * The files grouped by run, in the order their runs first appear: a trace folder that two
 * starts of kv:cluster wrote into holds both runs' files, and merging them would draw one
 * cluster with two of every node. Files that name no run go together, apart from the others.
 */
export function splitRuns(files: readonly ReadFile[]): { run: string | null; files: ReadFile[] }[] {
  const groups = new Map<string | null, ReadFile[]>();
  for (const file of files) {
    const run = runOf(file);
    groups.set(run, [...(groups.get(run) ?? []), file]);
  }
  return [...groups].map(([run, files]) => ({ run, files }));
}

/** What an event makes happen that an event of another file may answer. */
function provides(e: TraceEvent): string | null {
  if (!e.known) return null;
  if (e.kind === "send") return `msg ${e.details.msg}`;
  if (e.kind === "client.send") return `op ${e.details.client} ${e.details.seq} at ${e.details.to}`;
  return null;
}

/** What an event answers: a delivery its message's send, a node's submit a client's attempt. */
function answers(e: TraceEvent): string | null {
  if (!e.known) return null;
  if (e.kind === "deliver") return `msg ${e.details.msg}`;
  if (e.kind === "submit") {
    const op = clientOpOf(e.details.command);
    return op === null ? null : `op ${op.client} ${op.seq} at ${e.node}`;
  }
  return null;
}

/** How many times each key occurs. */
class Counts extends Map<string, number> {
  add(key: string | null): void {
    if (key !== null) this.set(key, this.count(key) + 1);
  }
  count(key: string): number {
    return this.get(key) ?? 0;
  }
}

/**
 * The files' events by time, each file's in its own order (a k-way merge). At equal times an
 * event that answers another waits for it, since a millisecond clock often gives a send and its
 * delivery on the same machine the same `t`; otherwise ties go to the file given first. It waits
 * only while every cause seen so far is answered and another is still to come: a duplicate
 * delivery or a retried attempt needs no cause of its own.
 */
function interleave(files: TraceEvent[][]): { event: TraceEvent; file: number }[] {
  const [provided, happened, answered] = [new Counts(), new Counts(), new Counts()];
  for (const e of files.flat()) provided.add(provides(e));
  const waits = (e: TraceEvent) => {
    const cause = answers(e);
    if (cause === null) return false;
    const seen = happened.count(cause);
    return seen <= answered.count(cause) && seen < provided.count(cause);
  };
  const next = files.map(() => 0);
  const out: { event: TraceEvent; file: number }[] = [];
  for (;;) {
    let pick = -1;
    files.forEach((events, f) => {
      const e = events[next[f]!];
      const best = pick < 0 ? undefined : files[pick]![next[pick]!]!;
      if (e === undefined) return;
      if (best === undefined || e.t < best.t || (e.t === best.t && waits(best) && !waits(e))) {
        pick = f;
      }
    });
    if (pick < 0) return out;
    const event = files[pick]![next[pick]!++]!;
    happened.add(provides(event));
    answered.add(answers(event));
    out.push({ event, file: pick });
  }
}

/** Deliveries earlier than their sends: the files' clocks disagree (or are not one machine's). */
function clockWarnings(merged: { event: TraceEvent; file: number }[], names: string[]): string[] {
  const sent = new Map<number, { t: number; file: number }>();
  for (const { event, file } of merged) {
    if (event.known && event.kind === "send") sent.set(event.details.msg, { t: event.t, file });
  }
  const early = merged.flatMap(({ event, file }) => {
    if (!event.known || event.kind !== "deliver") return [];
    const send = sent.get(event.details.msg);
    if (send === undefined || event.t >= send.t) return [];
    return [
      `#${event.details.msg} by ${send.t - event.t} ms (sent in ${names[send.file]}, delivered in ${names[file]})`,
    ];
  });
  if (early.length === 0) return [];
  return [
    `${early.length} of the messages arrive before they were sent, by the files' clocks: ` +
      `${early.slice(0, 3).join(", ")}${early.length > 3 ? ", …" : ""}. The merged view assumes ` +
      "the files' clocks are one machine's clock, so rows of different files may be out of order",
  ];
}
