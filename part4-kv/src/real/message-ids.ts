// Message ids that are unique across every process of a cluster, restarts included, so that the
// trace files of one run can be merged into one timeline and every reply still names the one
// request it answers (docs/trace-format.md: `msg`, and a reply's `request`).
//
// The id is a number, as the trace format says, read in decimal:
//
//   node · 10^14  +  (incarnation mod 10^4) · 10^10  +  count
//
// e.g. 200030000000017 is node 2, incarnation 3, its 17th message: the last ten digits count, the
// four before them say which start of the node, the rest which node. The incarnation is the
// number of times the node has started on its data folder, kept in the folder itself (a counter
// the node increments, durably, before it sends anything), so no two starts share a prefix. With
// node ids up to 89 the largest id stays below 2^53, a number JSON carries exactly.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import path from "node:path";
import { MAX_NODE_ID } from "./addresses.ts";

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
