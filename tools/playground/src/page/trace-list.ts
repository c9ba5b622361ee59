// The trace as the reader follows it: one line per event, in the part's own words (its
// src/trace.ts sentences), the latest two thousand kept on the page; and, at a violation, the
// rule, where the paper states it, and the events that led there.

import { causesOf, RULES } from "testlog-viz/src/failure.ts";
import type { ClusterView } from "testlog-viz/src/page/cluster-view.ts";
import type { Session, TraceEventLike } from "../engine/api.ts";
import { byId, el } from "./dom.ts";

/** Lines kept on the page; the downloaded trace has every event. */
const KEEP = 2000;

export function lineOf(describe: (e: TraceEventLike) => string, e: TraceEventLike): string {
  const who = e.node === null ? "TEST" : `n${e.node} T${e.term} ${e.role ?? ""}`;
  return `${String(e.t).padStart(6)} ms  ${who.padEnd(16)}  ${describe(e)}`;
}

function classOf(e: TraceEventLike): string {
  if (e.kind === "violation") return "violation";
  if (e.node === null) return "harness";
  return e.role ?? "";
}

export class TraceList {
  private readonly list = byId("event-list", HTMLOListElement);
  private readonly count = byId("event-count", HTMLElement);
  private listed = 0;
  private dropped = 0;
  private readonly describe: (e: TraceEventLike) => string;

  constructor(describe: (e: TraceEventLike) => string) {
    this.describe = describe;
  }

  reset(): void {
    this.list.replaceChildren();
    this.listed = 0;
    this.dropped = 0;
  }

  /** Lists events up to `shown` (of `events`), keeping the view at the bottom if it was there. */
  show(events: readonly TraceEventLike[], shown: number): void {
    if (shown < this.listed) this.reset();
    if (shown === this.listed) return;
    const atBottom = this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - 4;
    const from = Math.max(this.listed, shown - KEEP);
    this.dropped += from - this.listed;
    const fragment = document.createDocumentFragment();
    for (let i = from; i < shown; i++) {
      const e = events[i]!;
      const li = el("li", classOf(e), lineOf(this.describe, e));
      li.dataset.i = String(i);
      fragment.append(li);
    }
    this.list.append(fragment);
    const rows = this.list.querySelectorAll("li:not(.earlier)");
    for (let i = 0; i < rows.length - KEEP; i++) {
      rows[i]!.remove();
      this.dropped++;
    }
    this.list.querySelector("li.earlier")?.remove();
    if (this.dropped > 0) {
      this.list.prepend(
        el("li", "earlier", `… ${this.dropped} earlier events (the downloaded trace has them all)`),
      );
    }
    this.listed = shown;
    this.count.textContent = `(${shown} events)`;
    if (atBottom) this.list.scrollTop = this.list.scrollHeight;
  }
}

/**
 * Shows the session's first violation: the rule (with where the paper states it, as testlog-viz
 * says it), what broke, and the events that led there (testlog-viz's choice of them, over the
 * cluster view's copy of the trace), and marks their nodes in the picture.
 */
export function showViolation(
  session: Session,
  view: ClusterView,
  describe: (e: TraceEventLike) => string,
): void {
  const v = session.violation;
  const panel = byId("violation", HTMLElement);
  panel.hidden = v === null;
  if (v === null || panel.dataset.shown === "1") return;
  panel.dataset.shown = "1";
  const rule = RULES[v.invariant];
  byId("violation-rule", HTMLElement).textContent = `${v.invariant} violated`;
  byId("violation-message", HTMLElement).textContent = v.message;
  byId("violation-where", HTMLElement).textContent =
    rule === undefined ? "" : `${rule.section}: ${rule.says}`;
  const events = view.model.events;
  const at = events.findIndex((e) => e.kind === "violation");
  const causes = at < 0 ? [] : causesOf(events, at, v.invariant, v.message);
  const culprit = causes.at(-1);
  byId("violation-events", HTMLOListElement).replaceChildren(
    ...causes.map((i) =>
      el("li", i === culprit ? "breaking" : "", lineOf(describe, events[i] as TraceEventLike)),
    ),
  );
  view.highlight([
    ...new Set(causes.map((i) => events[i]!.node).filter((n): n is number => n !== null)),
  ]);
}
