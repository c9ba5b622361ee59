// The cluster view's logs: one row per node, one column per log index, each entry showing its
// term and its command in a few words, tinted by term. Committed entries are solid and the others
// dashed, a bar follows commitIndex, applied entries are underlined, entries not saved yet are
// hatched (part 3 on: a crash now loses them), and under each follower the current leader's
// nextIndex (▲) and matchIndex (●) for it, as Figure 2's leader keeps them.
//
// Long logs show their last columns, after a first cell that stands for the entries before them.
// That first cell is also where a compacted prefix goes: a node whose state carries a snapshot
// (`lastIncludedIndex`, `lastIncludedTerm`, part 5's InstallSnapshot) draws it there as
// `snapshot ≤[40] T3`, and its log entries after it.

import type { Entry, NodeState } from "../state.ts";
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
}

/** The snapshot a node's state carries, if any (no part before part 5 writes one). */
const snapshotOf = (state: NodeState | undefined) => state?.snapshot ?? null;

/** The table of every node's log at one moment. */
export function logsTable(rows: LogRow[], storage: boolean): HTMLTableElement {
  const longest = Math.max(0, ...rows.map((r) => r.state?.log.length ?? 0));
  const last = Math.max(longest, MIN_COLUMNS);
  const first = Math.max(1, last - COLUMNS + 1);
  const table = el("table", "cv-logs");
  const head = el("tr", "indices");
  head.append(el("th", "", "index"));
  const prefix = first > 1 || rows.some((r) => snapshotOf(r.state) !== null);
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
  if (prefix) tr.append(prefixCell(state, first));
  for (let index = first; index <= last; index++) tr.append(entryCell(row, index));
  if (storage) {
    const disk = state?.disk;
    const td = el(
      "td",
      "disk",
      disk ? `T${disk.term} ${vote(disk.votedFor)} [${disk.lastLogIndex}]` : "",
    );
    if (disk) {
      td.title = `its storage holds term ${disk.term}, ${vote(disk.votedFor)}, the log to [${disk.lastLogIndex}]: what a crash now would restart it with`;
    }
    tr.append(td);
  }
  return tr;
}

const vote = (id: number | null) => (id === null ? "no vote" : `voted n${id}`);

/** The first cell: a snapshot's prefix, or the entries before the columns drawn. */
function prefixCell(state: NodeState | undefined, first: number): HTMLTableCellElement {
  const snapshot = snapshotOf(state);
  if (snapshot !== null) {
    const td = el(
      "td",
      "snapshot",
      `snapshot ≤[${snapshot.lastIncludedIndex}] T${snapshot.lastIncludedTerm}`,
    );
    td.title = "entries up to here are compacted into a snapshot";
    return td;
  }
  const held = Math.min(first - 1, state?.log.length ?? 0);
  const td = el("td", "earlier", held > 0 ? `[1–${held}]` : "");
  if (held > 0)
    td.title = `${held} earlier entries, not drawn: step back or hover the table's rows`;
  return td;
}

function entryCell(row: LogRow, index: number): HTMLTableCellElement {
  const state = row.state;
  const entry: Entry | undefined = state?.log[index - 1];
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
