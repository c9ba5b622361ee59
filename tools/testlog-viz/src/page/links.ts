// Message links: clicking a message marks its send, deliveries, drop and reply with the reply's
// delivery; hovering previews the same; n / p step through them.

import { type PageData, R } from "../page-data.ts";
import type { Rows } from "./rows.ts";

export class Links {
  /** the conversation shown as linked, if any */
  linked: number | null = null;
  /** conversation id → data indices of its rows */
  private readonly conversations = new Map<number, number[]>();
  private readonly rows: Rows;

  constructor(data: PageData, rows: Rows) {
    this.rows = rows;
    data.rows.forEach((row, i) => {
      const conv = row[R.CONV];
      if (conv < 0) return;
      const list = this.conversations.get(conv) ?? [];
      if (list.length === 0) this.conversations.set(conv, list);
      list.push(i);
    });
  }

  /** Marks a freshly drawn row if it belongs to the linked conversation. */
  decorate(i: number, tr: HTMLTableRowElement): void {
    const conv = this.rows.data.rows[i]?.[R.CONV];
    if (this.linked !== null && conv === this.linked)
      tr.querySelector(".ev")?.classList.add("linked");
  }

  /** Linking draws every row of the conversation; hovering only marks rows already drawn. */
  mark(conv: number, on: boolean, cls: "linked" | "hover" = "linked"): void {
    for (const i of this.conversations.get(conv) ?? []) {
      const tr = cls === "linked" && on ? this.rows.reveal(i) : this.rows.drawnRow(i);
      tr?.querySelector(".ev")?.classList.toggle(cls, on);
    }
  }

  /** Links the message of `span`, or unlinks it when it is the one linked. */
  toggle(span: HTMLElement): void {
    const conv = Number(span.dataset.conv);
    const again = this.linked === conv && span.classList.contains("linked");
    this.clear();
    if (again) return;
    this.linked = conv;
    this.mark(conv, true);
    span.classList.add("current");
  }

  /** Links a conversation by its id (a message picked in the cluster view). */
  link(conv: number): void {
    this.clear();
    this.linked = conv;
    this.mark(conv, true);
  }

  clear(): void {
    document.querySelector(".ev.current")?.classList.remove("current");
    if (this.linked !== null) this.mark(this.linked, false);
    this.linked = null;
  }

  /** n / p: the next or previous row of the linked message; returns its data index. */
  step(direction: 1 | -1): number | null {
    if (this.linked === null) return null;
    const spans = [...document.querySelectorAll<HTMLElement>(".ev.linked")];
    const current = document.querySelector<HTMLElement>(".ev.current");
    const next = spans[(current ? spans.indexOf(current) : -1) + direction];
    if (next === undefined) return null;
    current?.classList.remove("current");
    next.classList.add("current");
    return Number(next.dataset.i);
  }
}
