// Draws the timeline's rows from the page data, a chunk at a time as the reader scrolls, so huge
// traces open quickly; filters rebuild the list of matching rows and start again from the top.

import {
  type ClientLaneTuple,
  type LaneTuple,
  type PageData,
  R,
  type RowTuple,
} from "../page-data.ts";
import { el, groupColour, groupLetter } from "./dom.ts";

const CHUNK = 400;
/** Longer texts are clipped to one line until expanded, like batches, so no row grows tall. */
export const CLIP_FROM = 200;

export interface Filters {
  columns: Set<number>;
  kinds: Set<number>;
  heartbeats: boolean;
}

export class Rows {
  readonly data: PageData;
  readonly shown: Filters;
  /** rows expanded by the reader: their batch or long text shown in full */
  readonly expanded = new Set<number>();
  /** data indices of the rows that pass the filters, in order */
  matching: number[] = [];
  drawn = 0;
  private readonly elementOf = new Map<number, HTMLTableRowElement>();
  private readonly tbody: HTMLElement;
  private readonly status: HTMLElement;
  /** called for every row drawn, so links and the selection mark it too */
  onDraw: (i: number, tr: HTMLTableRowElement) => void = () => {};

  constructor(data: PageData, tbody: HTMLElement, status: HTMLElement) {
    this.data = data;
    this.tbody = tbody;
    this.status = status;
    this.shown = {
      columns: new Set(data.columns.map((_, i) => i)),
      kinds: new Set(data.kinds.map((_, i) => i)),
      heartbeats: true,
    };
  }

  refilter(): void {
    const { columns, kinds, heartbeats } = this.shown;
    this.matching = [];
    this.data.rows.forEach((row, i) => {
      if (columns.has(row[R.COLUMN]) && kinds.has(row[R.KIND]) && (heartbeats || !row[R.HB])) {
        this.matching.push(i);
      }
    });
    this.tbody.replaceChildren();
    this.elementOf.clear();
    this.drawn = 0;
    this.drawMore();
  }

  /** Draws the next chunk, or up to position `until` of `matching`. */
  drawMore(until = 0): void {
    const end = Math.min(this.matching.length, Math.max(this.drawn + CHUNK, until));
    const fragment = document.createDocumentFragment();
    for (; this.drawn < end; this.drawn++) {
      const i = this.matching[this.drawn]!;
      const tr = this.rowElement(i);
      this.elementOf.set(i, tr);
      this.onDraw(i, tr);
      fragment.append(tr);
    }
    this.tbody.append(fragment);
    const more = this.drawn < this.matching.length ? " (more appear as you scroll)" : "";
    this.status.textContent = `${this.matching.length} of ${this.data.rows.length} events match the filters; ${this.drawn} drawn${more}`;
  }

  /** Row i's element if it is drawn. */
  drawnRow(i: number): HTMLTableRowElement | undefined {
    return this.elementOf.get(i);
  }

  /** Draws rows until row i (if it passes the filters) and returns its element. */
  reveal(i: number): HTMLTableRowElement | undefined {
    const at = this.matching.indexOf(i);
    if (at >= this.drawn) this.drawMore(at + 1);
    return this.elementOf.get(i);
  }

  /** Redraws row i in place (after expanding or collapsing it). */
  redraw(i: number): HTMLTableRowElement | undefined {
    const old = this.elementOf.get(i);
    if (old === undefined) return undefined;
    const tr = this.rowElement(i);
    this.elementOf.set(i, tr);
    this.onDraw(i, tr);
    old.replaceWith(tr);
    return tr;
  }

  private rowElement(i: number): HTMLTableRowElement {
    const row = this.data.rows[i]!;
    const kind = this.data.kinds[row[R.KIND]] ?? "?";
    const tr = el("tr");
    tr.className = [
      `k-${kind.replace(/[^a-z0-9-]/gi, "_")}`,
      row[R.TONE] && `tone-${row[R.TONE]}`,
      row[R.HB] ? "hb" : "",
      row[R.AFTER_SHUTDOWN] ? "after-shutdown" : "",
    ]
      .filter((c) => c !== "")
      .join(" ");
    tr.dataset.i = String(i);
    const column = row[R.COLUMN];
    const { nodes, clients } = this.data;
    if (column <= nodes.length) tr.dataset.node = column === 0 ? "test" : String(nodes[column - 1]);
    else tr.dataset.client = clients[column - 1 - nodes.length] ?? "";
    const cells = [el("td", "time", String(row[R.T])), el("td", "test")];
    for (const lane of this.data.lanes[row[R.LANES]] ?? []) cells.push(laneCell(lane));
    (this.data.clientLanes[row[R.CLIENTS]] ?? []).forEach((lane, c) => {
      const invoked = kind === "client.invoke" && column === nodes.length + 1 + c;
      cells.push(clientCell(lane, invoked));
    });
    tr.append(...cells);
    cells[column === 0 ? 1 : column + 1]?.append(this.eventSpan(row, i, kind));
    const peer = row[R.PEER];
    if (peer !== 0) cells[peer[0] + 1]?.append(peerMark(peer[1]));
    return tr;
  }

  private eventSpan(row: RowTuple, i: number, kind: string): HTMLElement {
    const span = el("span", "ev");
    span.append(el("span", "kind", kind));
    const text = row[R.TEXT];
    const batch = row[R.BATCH];
    const open = this.expanded.has(i);
    // Every row is clamped to a few lines by CSS; batches and long texts to one line, with a
    // summary to click. Expanded rows (click, or e on the selected row) show everything.
    if (open) span.classList.add("expanded");
    if (batch !== 0 || text.length >= CLIP_FROM) {
      if (!open) span.classList.add("clip");
      // a batch says what it holds; a long text is clipped where the row ends: say so, not its length
      const label = batch === 0 ? (open ? "fold" : "full text") : batch;
      const more = el("span", "more", `${open ? "▾" : "▸"} ${label}`);
      more.title = open ? "collapse (e)" : "show in full (e)";
      span.append(more);
    }
    const txt = el("span", "txt", text);
    if (!open && text.length > 80) txt.title = text;
    span.append(txt);
    if (row[R.CONV] >= 0) {
      // messages are the timeline's tab stops, with the selected row
      span.dataset.conv = String(row[R.CONV]);
      span.tabIndex = 0;
      span.setAttribute("role", "button");
    }
    span.dataset.i = String(i);
    return span;
  }
}

const ROLE_CLASSES = new Set(["follower", "candidate", "leader"]);

/** A node's cell: tinted by role, labelled with role letter and term, marked when cut off. */
export function laneCell([role, term, cut, dead, group]: LaneTuple): HTMLTableCellElement {
  const td = el("td", "lane");
  td.classList.add(dead ? "dead" : ROLE_CLASSES.has(role) ? `r-${role}` : "r-other");
  if (cut) td.classList.add("cut");
  if (group >= 0) {
    td.classList.add("banded");
    td.style.borderLeftColor = groupColour(group);
    const badge = el("span", "grp", groupLetter(group));
    badge.title = `in group ${groupLetter(group)} of the split network`;
    td.append(badge);
  }
  const letter = dead ? "✝" : role.slice(0, 1).toUpperCase();
  const lab = el("span", "lab", `${cut ? "✂ " : ""}${letter}${term ?? ""}`);
  lab.title = `${role}${dead ? " (dead)" : ""}, term ${term ?? "?"}${cut ? ", cut off" : ""}`;
  td.append(lab);
  return td;
}

const OP_STATES: Record<string, [mark: string, says: string]> = {
  pending: ["", "running"],
  ok: ["✓", "done"],
  failed: ["✗", "failed: it did not take effect"],
  maybe: ["?", "failed: it may have taken effect"],
};

/**
 * A client's cell: while an operation runs, a bar down the lane from its invocation (a cap on
 * top) to its completion (tinted by how it ended), labelled with its number and what it does.
 */
export function clientCell(lane: ClientLaneTuple, invoked: boolean): HTMLTableCellElement {
  const td = el("td", "lane client");
  if (lane === 0) return td;
  const [seq, op, state] = lane;
  const [mark, says] = OP_STATES[state] ?? ["", state];
  td.classList.add("op", `op-${state}`);
  if (invoked) td.classList.add("op-first");
  const lab = el("span", "lab", `${mark}#${seq} ${op}`);
  lab.title = `operation #${seq}, ${op}: ${says}`;
  td.append(lab);
  return td;
}

/** In a node's cell: a client's attempt reached it, or its answer (or its silence) came back. */
function peerMark(text: string): HTMLElement {
  const mark = el("span", "peer-mark", text);
  mark.title = "a client's attempt at this node (the client's column says more)";
  return mark;
}
