// The cluster view's logs: one row per node, one column per log index, each entry showing its
// term and its command in a few words, tinted by term. Committed entries are solid and the others
// dashed, a bar follows commitIndex, applied entries are underlined, entries not saved yet are
// hatched (part 3 on: a crash now loses them), and under each follower the current leader's
// nextIndex (▲) and matchIndex (●) for it, as Figure 2's leader keeps them.
//
// Long logs show their last columns, after a first cell that stands for the entries before them.
// That first cell is also where a compacted prefix goes (part 5, §7): a node with a snapshot
// draws it as one dark block, `snapshot ≤[40] T3`, from the first cell over every column its
// snapshot covers, and its log entries start in the column after it; a follower receiving a
// leader's snapshot in chunks says how much of it it holds.

import type { Incoming } from "../cluster-model.ts";
import { baseOf, type Entry, entryAt, lastIndexOf, type NodeState } from "../state.ts";
import { el, termTint } from "./dom.ts";

/** The most columns drawn; longer logs show their last ones. */
const COLUMNS = 9;
/** Columns drawn even for short logs, so the table does not jump as logs grow. */
const MIN_COLUMNS = 8;

export interface LogRow {
  id: number;
  state: NodeState | undefined;
  dead: boolean;
  role: string;
  /** the current leader's [nextIndex, matchIndex] for this node, when there is a leader */
  progress: [number, number] | null;
  /** part 5: what it holds of a leader's snapshot whose chunks are coming in */
  incoming: Incoming["receiving"];
}

/** The snapshot a node's state carries, if any (no part before part 5 writes one). */
const snapshotOf = (state: NodeState | undefined) => state?.snapshot ?? null;

/** The table of every node's log at one moment. */
export function logsTable(rows: LogRow[], storage: boolean): HTMLTableElement {
  const longest = Math.max(0, ...rows.map((r) => (r.state ? lastIndexOf(r.state) : 0)));
  const last = Math.max(longest, MIN_COLUMNS);
  const first = Math.max(1, last - COLUMNS + 1);
  const table = el("table", "cv-logs");
  const head = el("tr", "indices");
  head.append(el("th", "", "index"));
  const prefix = first > 1 || rows.some((r) => snapshotOf(r.state) !== null || r.incoming !== null);
  if (prefix) head.append(el("th", "", "…"));
  for (let i = first; i <= last; i++) head.append(el("th", "", String(i)));
  if (storage) head.append(el("th", "disk", "disk"));
  table.append(head);
  for (const row of rows) table.append(logRow(row, first, last, prefix, storage));
  return table;
}

function logRow(
  row: LogRow,
  first: number,
  last: number,
  prefix: boolean,
  storage: boolean,
): HTMLTableRowElement {
  const tr = el("tr", row.dead ? "dead" : "");
  tr.dataset.node = String(row.id);
  tr.dataset.role = row.dead ? "dead" : row.role;
  tr.append(el("th", "who", `n${row.id}`));
  const state = row.state;
  // a snapshot's block covers the columns of the entries it holds
  const covered = state === undefined ? 0 : Math.max(0, Math.min(baseOf(state), last) - first + 1);
  if (prefix) tr.append(prefixCell(row, first, covered));
  for (let index = first + covered; index <= last; index++) tr.append(entryCell(row, index));
  if (storage) tr.append(diskCell(state));
  return tr;
}

function diskCell(state: NodeState | undefined): HTMLTableCellElement {
  const disk = state?.disk;
  if (!disk) return el("td", "disk", "");
  const td = el("td", "disk", `T${disk.term} ${vote(disk.votedFor)} [${disk.lastLogIndex}]`);
  // part 5: the snapshot it holds, on a line of its own so the column stays narrow
  if (disk.snapshotIndex !== undefined) {
    td.append(el("span", "disk-snapshot", `snapshot ≤[${disk.snapshotIndex}]`));
  }
  const held =
    disk.snapshotIndex === undefined ? "" : `, a snapshot through [${disk.snapshotIndex}]`;
  td.title = `its storage holds term ${disk.term}, ${vote(disk.votedFor)}${held}, the log to [${disk.lastLogIndex}]: what a crash now would restart it with`;
  return td;
}

const vote = (id: number | null) => (id === null ? "no vote" : `voted n${id}`);

/**
 * The first cell: a snapshot's block over the `covered` columns it holds (part 5), or the
 * entries before the columns drawn; either way, a snapshot coming in chunks.
 */
function prefixCell(row: LogRow, first: number, covered: number): HTMLTableCellElement {
  const state = row.state;
  const snapshot = snapshotOf(state);
  const td = snapshot === null ? earlierCell(state, first) : el("td", "snapshot");
  if (snapshot !== null && state !== undefined) {
    const { lastIncludedIndex: index, lastIncludedTerm: term } = snapshot;
    td.colSpan = 1 + covered;
    td.dataset.index = String(index);
    td.dataset.term = String(term);
    td.append(el("b", "", `snapshot ≤[${index}] T${term}`));
    const hidden = Math.min(first - 1, lastIndexOf(state)) - index;
    if (hidden > 0) td.append(el("span", "then", ` then [${index + 1}–${index + hidden}]`));
    td.title =
      `a snapshot holds the state through [${index}] (term ${term}): the entries up to it are ` +
      `discarded, and the log starts at [${index + 1}]`;
  }
  const coming = row.incoming;
  if (coming !== null) {
    const mark = el("span", "incoming", `⇣ ≤[${coming.through}] ${coming.holds} ch.`);
    mark.title = `receiving n${coming.from}'s snapshot through [${coming.through}] in chunks: it holds ${coming.holds} characters of its text so far, in memory only`;
    td.append(mark);
  }
  return td;
}

/** The entries before the columns drawn, when there is no snapshot. */
function earlierCell(state: NodeState | undefined, first: number): HTMLTableCellElement {
  const held = Math.min(first - 1, state?.log.length ?? 0);
  const td = el("td", "earlier", held > 0 ? `[1–${held}]` : "");
  if (held > 0)
    td.title = `${held} earlier entries, not drawn: step back or hover the table's rows`;
  return td;
}

function entryCell(row: LogRow, index: number): HTMLTableCellElement {
  const state = row.state;
  const entry: Entry | undefined = state === undefined ? undefined : entryAt(state, index);
  const td = el("td", "slot");
  td.dataset.index = String(index);
  if (entry !== undefined && state !== undefined) {
    const [term, command] = entry;
    td.className = "slot entry";
    td.dataset.term = String(term);
    td.style.backgroundColor = termTint(term);
    td.append(el("b", "", `T${term}`), el("span", "cmd", shortCommand(command)));
    td.title = `[${index}] T${term} ${command}`;
    if (index <= state.commitIndex) td.classList.add("committed");
    if (index <= state.lastApplied) td.classList.add("applied");
    if (state.disk !== null && index > state.saved) {
      td.classList.add("unsaved");
      td.title += row.dead ? " (lost: it was not saved)" : " (not saved yet: a crash now loses it)";
    }
    if (index === state.commitIndex) td.classList.add("commit-edge");
  }
  if (row.progress !== null) {
    const [next, match] = row.progress;
    if (index === next) td.append(el("i", "next", "▲"));
    if (index === match) td.append(el("i", "match", "●"));
  }
  return td;
}

/**
 * A command in a cell, in as few characters as say it: a client's operation without its client
 * or quotes (`put x 1`), clipped if it is longer; the cell's tooltip has all of it.
 */
function shortCommand(command: string): string {
  const text = command.replace(/^[^\s#]+ #\d+: /, "").replace(/"/g, "");
  return text.length > 9 ? `${text.slice(0, 8)}…` : text;
}
