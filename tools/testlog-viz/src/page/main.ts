// The page's script: reads the timeline from #trace-data (page-data.ts), draws its rows, and
// wires the filters, message links, row selection with the cluster's state, and the keys.
// Bundled by esbuild into the page (bundle.ts); it fetches nothing.

import { type PageData, R } from "../page-data.ts";
import { ClusterView, type Selection } from "./cluster-view.ts";
import { byId, targetOf } from "./dom.ts";
import { Links } from "./links.ts";
import { Player } from "./player.ts";
import { Rows } from "./rows.ts";
import { StateView } from "./state-view.ts";

const data: PageData = JSON.parse(byId("trace-data", HTMLScriptElement).textContent ?? "");
const rows = new Rows(
  data,
  byId("timeline", HTMLTableElement).tBodies[0]!,
  byId("status", HTMLElement),
);
const links = new Links(data, rows);
const stateView = new StateView(data, byId("state-body", HTMLElement));
const causes = new Set(data.failure?.causes ?? []);
let selected: number | null = null;

const view = new ClusterView(byId("cluster-view", HTMLElement), {
  nodes: data.nodes,
  clock: data.clock,
  origin: data.origin,
  onSelect: picked,
});
view.append(JSON.parse(byId("trace-events", HTMLScriptElement).textContent ?? "[]"));
const player = new Player(byId("cluster-player", HTMLElement), view, {
  clock: data.clock,
  onMove: follow,
});
view.onDraw = () => player.refresh();

rows.onDraw = (i, tr) => {
  links.decorate(i, tr);
  if (i === selected) markSelected(tr);
  if (causes.has(i)) {
    tr.classList.add("cause");
    tr.title = "one of the events that led to the failure";
  }
};

function markSelected(tr: HTMLTableRowElement): void {
  tr.classList.add("selected");
  tr.tabIndex = 0; // the selected row is a tab stop, so the keys find their way back to it
  tr.setAttribute("aria-selected", "true");
}

/**
 * Selects row i: marks it, shows the cluster's state at that moment, scrolls it into view
 * (to the middle of the window when it comes from far away: a note, a linked message), and
 * moves the cluster view there (gliding, so messages are seen to travel), unless the cluster
 * view is what moved.
 */
function select(i: number | null, focus: boolean, jump = false, moveView = true): void {
  if (moveView && following !== null) {
    // the reader chose a row: a table update still to come from the player is void
    clearTimeout(following.timer);
    following = null;
  }
  if (selected !== null) {
    const old = rows.drawnRow(selected);
    old?.classList.remove("selected");
    old?.removeAttribute("tabindex");
    old?.removeAttribute("aria-selected");
  }
  selected = i;
  if (i === null) {
    stateView.clear();
    return;
  }
  stateView.show(i);
  if (moveView) {
    player.pause();
    view.showAt({ index: i }, { animate: !jump });
  }
  const tr = rows.reveal(i);
  if (tr !== undefined) {
    markSelected(tr);
    if (jump) tr.scrollIntoView({ block: "center" });
    keepClear(tr);
    if (focus) tr.focus({ preventScroll: true });
  }
}

/**
 * Scrolls so that a row stands clear of the sticky heading above and the state panel below,
 * with a row or two to spare: stepping down never leaves the selection at the panel's edge.
 */
function keepClear(tr: HTMLTableRowElement): void {
  const box = tr.getBoundingClientRect();
  const head = byId("timeline", HTMLTableElement).tHead?.getBoundingClientRect().height ?? 0;
  const panel = byId("state", HTMLElement).getBoundingClientRect();
  const bottom = Math.min(window.innerHeight, panel.top) - 2 * box.height;
  const top = head + box.height;
  if (box.bottom > bottom) window.scrollBy(0, box.bottom - bottom);
  else if (box.top < top) window.scrollBy(0, box.top - top);
}

/** How often the table follows a playing or scrubbed cluster view, at most (ms). */
const FOLLOW_EVERY = 200;
let following: { row: number; timer: number } | null = null;

/**
 * The cluster view moved by itself (playing, scrubbed): the table's selection follows, without
 * moving the view again, a few times a second at most. Selecting a row lays out the table,
 * which for a trace of many thousands of rows costs more than a frame.
 */
function follow(row: number): void {
  if (following !== null) {
    following.row = row;
    return;
  }
  following = {
    row,
    timer: window.setTimeout(() => {
      const latest = following?.row ?? row;
      following = null;
      select(latest, false, false, false);
    }, FOLLOW_EVERY),
  };
}

/** The reader picked something in the cluster view: select its row in the table. */
function picked(selection: Selection): void {
  if (selection.kind === "message") {
    const conv = data.rows[selection.index]?.[R.CONV] ?? -1;
    if (conv >= 0) links.link(conv);
    select(selection.index, false, true);
    return;
  }
  const column =
    selection.kind === "node"
      ? data.nodes.indexOf(selection.node) + 1
      : 1 + data.nodes.length + data.clients.indexOf(selection.client);
  // that node's (or client's) last event so far, what it did most recently; else its first
  const own = (i: number) => data.rows[i]?.[R.COLUMN] === column;
  let row = -1;
  for (let i = selection.index; i >= 0 && row < 0; i--) if (own(i)) row = i;
  for (let i = selection.index + 1; i < data.rows.length && row < 0; i++) if (own(i)) row = i;
  if (row >= 0) select(row, false, true);
  view.select(selection.kind === "node" ? selection.node : null);
}

/** The next or previous row that passes the filters. */
function stepSelection(direction: 1 | -1): void {
  const at = selected === null ? -1 : rows.matching.indexOf(selected);
  const next = at < 0 ? (direction > 0 ? 0 : rows.matching.length - 1) : at + direction;
  const i = rows.matching[next];
  if (i !== undefined) select(i, true);
}

function toggleExpanded(i: number): void {
  if (rows.expanded.has(i)) rows.expanded.delete(i);
  else rows.expanded.add(i);
  rows.redraw(i);
}

const rowOf = (target: Element | null) => target?.closest<HTMLTableRowElement>("tr[data-i]");

function wireTimeline(tbody: HTMLElement): void {
  tbody.addEventListener("click", (e) => {
    const target = targetOf(e);
    const tr = rowOf(target);
    if (!tr) return;
    const i = Number(tr.dataset.i);
    if (target?.closest(".more")) toggleExpanded(i);
    const span = target?.closest<HTMLElement>(".ev[data-conv]");
    if (span) links.toggle(span);
    if (i !== selected) select(i, false);
  });
  // Tabbing onto a message selects its row too, so the state view follows the keyboard.
  tbody.addEventListener("focusin", (e) => {
    const tr = rowOf(targetOf(e));
    if (tr && Number(tr.dataset.i) !== selected) select(Number(tr.dataset.i), false);
  });
  for (const [type, on] of [
    ["mouseover", true],
    ["mouseout", false],
  ] as const) {
    tbody.addEventListener(type, (e) => {
      const span = targetOf(e)?.closest<HTMLElement>(".ev[data-conv]");
      if (span) links.mark(Number(span.dataset.conv), on, "hover");
    });
  }
}

function wireFilters(): void {
  const hb = byId("show-hb", HTMLInputElement);
  hb.addEventListener("change", () => {
    rows.shown.heartbeats = hb.checked;
    rows.refilter();
  });
  const bind = (selector: string, attr: string, set: Set<number>) => {
    for (const box of document.querySelectorAll<HTMLInputElement>(selector)) {
      box.addEventListener("change", () => {
        const value = Number(box.getAttribute(attr));
        if (box.checked) set.add(value);
        else set.delete(value);
        rows.refilter();
      });
    }
  };
  bind("#node-filter input", "data-col", rows.shown.columns);
  bind("#kind-filter input", "data-kind", rows.shown.kinds);
  for (const [id, on] of [
    ["kinds-all", true],
    ["kinds-none", false],
  ] as const) {
    byId(id, HTMLButtonElement).addEventListener("click", () => {
      for (const box of document.querySelectorAll<HTMLInputElement>("#kind-filter input")) {
        box.checked = on;
        if (on) rows.shown.kinds.add(Number(box.dataset.kind));
        else rows.shown.kinds.delete(Number(box.dataset.kind));
      }
      rows.refilter();
    });
  }
}

/** The story's notes in the summary jump to their rows. */
function wireNotes(): void {
  for (const a of document.querySelectorAll<HTMLAnchorElement>("a[data-row]")) {
    a.addEventListener("click", (e) => {
      e.preventDefault();
      select(Number(a.dataset.row), true, true);
    });
  }
}

const KEYS: Record<string, () => void> = {
  ArrowDown: () => stepSelection(1),
  j: () => stepSelection(1),
  ArrowUp: () => stepSelection(-1),
  k: () => stepSelection(-1),
  e: () => selected !== null && toggleExpanded(selected),
  s: () => byId("state", HTMLElement).classList.toggle("closed"),
  c: () =>
    document.body.classList.toggle(
      "no-cluster",
      byId("cluster", HTMLElement).classList.toggle("closed"),
    ),
  " ": () => startOrPause(),
  h: () => byId("show-hb", HTMLInputElement).click(),
  n: () => stepLinked(1),
  p: () => stepLinked(-1),
  Escape: () => links.clear(),
};

/** Space: play the cluster view from the selected row (or the start), or pause it. */
function startOrPause(): void {
  if (!player.playing && selected !== null && view.position.index !== selected) {
    view.showAt({ index: selected });
  }
  player.toggle();
}

function stepLinked(direction: 1 | -1): void {
  const i = links.step(direction);
  if (i === null) return;
  select(i, false, true);
  document.querySelector<HTMLElement>(".ev.current")?.focus({ preventScroll: true });
}

function onKey(e: KeyboardEvent): void {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const target = targetOf(e);
  // single-letter keys must not fire while typing; this page has no text fields, but stay safe
  if (target?.matches("input:not([type=checkbox]), textarea, select")) return;
  const span = target?.closest<HTMLElement>(".ev[data-conv]");
  if (span && (e.key === "Enter" || e.key === " ")) {
    e.preventDefault();
    links.toggle(span);
    return;
  }
  if (e.key === "Enter" && selected !== null && target?.matches("tr.selected")) {
    toggleExpanded(selected);
    return;
  }
  const action = KEYS[e.key];
  if (action === undefined) return;
  e.preventDefault();
  action();
}

wireTimeline(byId("timeline", HTMLTableElement).tBodies[0]!);
wireFilters();
wireNotes();
document.addEventListener("keydown", onKey);
new IntersectionObserver(
  (entries) => {
    if (entries.some((entry) => entry.isIntersecting) && rows.drawn < rows.matching.length) {
      rows.drawMore();
    }
  },
  { rootMargin: "800px" },
).observe(byId("more", HTMLElement));
rows.refilter();
stateView.clear();
view.showAt({ index: 0 });
if (data.failure !== null) {
  // a failing test opens at its first violation, its causes marked in both views
  view.highlight(data.failure.nodes);
  select(data.failure.row, false, true);
}
