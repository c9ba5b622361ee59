// What a page's script receives: a compact JSON copy of the timeline (html.ts writes it, the
// page's script in page/ reads it). Rows and lanes are tuples, not objects: a trace of 100,000
// events makes a page of a few megabytes instead of tens.

import type { AvailabilityConfig } from "./model.ts";
import type { Op } from "./state.ts";

/** One node's lane: role, term, cut off, dead, group of a split network (-1: not split). */
export type LaneTuple = [role: string, term: number | null, cut: 0 | 1, dead: 0 | 1, group: number];

/** One client's lane: the operation it runs (its number, `put x`, its state), or 0 when idle. */
export type ClientLaneTuple = [seq: number, op: string, state: string] | 0;

export type RowTuple = [
  t: number,
  /** index into PageData.columns; 0 is TEST */
  column: number,
  kind: number,
  text: string,
  tone: string,
  msg: number,
  conv: number,
  heartbeat: 0 | 1,
  /** index into PageData.lanes */
  lanes: number,
  ops: Op[] | 0,
  /** a batch's summary ("50 entries [2]–[51], terms 1–3"), or 0 */
  batch: string | 0,
  afterShutdown: 0 | 1,
  /** index into PageData.clientLanes */
  clients: number,
  /** a client's attempt: the column of the node it went to and what that cell says, or 0 */
  peer: [column: number, text: string] | 0,
];

export interface PageData {
  nodes: number[];
  clients: string[];
  /** the part keeps state on disk (part 3 on): the state view marks what is not saved */
  storage: boolean;
  /** the trace has logs (part 2 on); part 1's has elections only */
  logs: boolean;
  /** how the rows' times read: virtual ms of a test, or wall-clock ms since `origin` (a merged run) */
  clock: "virtual" | "wall";
  origin: number;
  /** part 6 on: the lease its nodes keep (null before part 6) */
  availability: AvailabilityConfig | null;
  /** the first failure (failure.ts): its row, the rows that led there and their nodes */
  failure: { row: number; causes: number[]; nodes: number[]; expected: boolean } | null;
  columns: string[];
  kinds: string[];
  /** distinct lane states; rows point at them, since lanes rarely change between rows */
  lanes: LaneTuple[][];
  /** distinct states of the client lanes, as `lanes` for the nodes */
  clientLanes: ClientLaneTuple[][];
  rows: RowTuple[];
}

/** Positions in a RowTuple. */
export const R = {
  T: 0,
  COLUMN: 1,
  KIND: 2,
  TEXT: 3,
  TONE: 4,
  MSG: 5,
  CONV: 6,
  HB: 7,
  LANES: 8,
  OPS: 9,
  BATCH: 10,
  AFTER_SHUTDOWN: 11,
  CLIENTS: 12,
  PEER: 13,
} as const;
