// The cluster view: a picture of the cluster at one moment of a trace, the way RaftScope draws
// one, from the trace events that tests, real processes or a simulation in the browser write.
// A self-contained browser module: the timeline page uses it beside its table, and the
// playground bundles it into its own page. Its CSS is cluster-view.css, beside this file.
//
// API
//
//   const view = new ClusterView(container, options?)
//     Draws into `container` (an empty element; the view fills its width). options:
//       nodes?: number[]              the cluster's node ids, if known before their events
//       clock?: "virtual" | "wall"    how times read: "412 ms" of virtual time (tests, the
//                                     playground) or "+2.305 s" of wall-clock time (real runs)
//       origin?: number               clock "wall": the epoch milliseconds that t = 0 stands for
//       onSelect?: (s: Selection) => void
//                                     the reader clicked (or pressed Enter on) a node, a message
//                                     or a client; `index` is the event to show for it
//   view.append(events: unknown[])     trace events, in order, as docs/trace-format.md writes them
//                                     ({t, node, term, role, kind, details}); call it as often as
//                                     events come. Malformed ones are skipped, listed in
//                                     view.model.problems.
//   view.showAt({ index } | { t }, { animate? })
//                                     the cluster just after event `index` (0-based, in the order
//                                     appended), or at time t (after the last event at or before
//                                     it); `animate` glides from the moment shown before, so
//                                     messages move between two rows.
//   view.highlight(nodes)             marks nodes (a failure's) in red; [] clears
//   view.position                     { index, t } shown now; view.duration: the last event's t
//   view.onDraw = () => …             called after each drawing (player.ts keeps its scrubber so)
//   view.select(node | null)          marks a node as picked
//   view.model                        the ClusterModel (src/cluster-model.ts): events, flights,
//                                     timers, state at any index, for a caller that wants more
//   view.destroy()                    stops its animation and empties the container
//
// Player (player.ts) adds play, pause, speed and a scrubber over the trace's time to a view.

import { ClusterModel, type FlightAt } from "../cluster-model.ts";
import { describe } from "../describe.ts";
import type { Lane } from "../model.ts";
import type { TraceEvent } from "../trace.ts";
import { availabilityBadges } from "./availability.ts";
import {
  CLIENT_ROW,
  drawCuts,
  drawGroups,
  FlightGlyph,
  layout,
  NET_HEIGHT,
  NodeGlyph,
  type NodeLook,
  type Point,
  radiusFor,
  WIDTH,
} from "./cluster-draw.ts";
import { logsTable } from "./cluster-logs.ts";
import { attrs, el, svg, targetOf } from "./dom.ts";

export type Selection =
  | { kind: "node"; node: number; index: number }
  | { kind: "message"; msg: number; index: number }
  | { kind: "client"; client: string; index: number };

export interface ClusterViewOptions {
  nodes?: readonly number[];
  clock?: "virtual" | "wall";
  origin?: number;
  onSelect?: (selection: Selection) => void;
}

/** How long a step between two rows glides, in ms of the reader's time. */
const GLIDE_MS = 280;

export class ClusterView {
  readonly model: ClusterModel;
  position = { index: -1, t: 0 };
  /** Called after every drawing (a player keeps its scrubber in step). */
  onDraw: () => void = () => {};
  private readonly options: ClusterViewOptions;
  private readonly root: HTMLElement;
  private readonly caption = el("p", "cv-caption");
  private readonly picture = svg("svg", "cv-net");
  private readonly layers = {
    groups: svg("g", "groups"),
    cuts: svg("g", "cuts"),
    attempts: svg("g", "attempts"),
    flights: svg("g", "flights"),
    nodes: svg("g", "nodes"),
    clients: svg("g", "clients"),
  };
  private readonly logs = el("div", "cv-logs-box");
  private readonly glyphs = new Map<number, NodeGlyph>();
  private readonly flying = new Map<object, FlightGlyph>();
  private blamed = new Set<number>();
  private selected: number | null = null;
  private glide = 0;
  private drawnLogs = -2;

  constructor(container: HTMLElement, options: ClusterViewOptions = {}) {
    this.options = options;
    this.model = new ClusterModel(options.nodes ?? []);
    this.root = container;
    container.classList.add("cv");
    this.picture.setAttribute("role", "img");
    this.picture.append(...Object.values(this.layers));
    container.replaceChildren(this.caption, this.picture, this.logs);
    container.addEventListener("click", (e) => this.clicked(e));
    container.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && targetOf(e)?.closest("[data-node],[data-msg],[data-client]")) {
        e.preventDefault();
        e.stopPropagation();
        this.clicked(e);
      }
    });
  }

  append(events: readonly unknown[]): void {
    this.model.append(events);
  }

  /** Events already read (the timeline page's): the same as `append`, without reading again. */
  appendEvents(events: readonly TraceEvent[]): void {
    this.model.appendEvents(events);
  }

  get duration(): number {
    return this.model.events.at(-1)?.t ?? 0;
  }

  showAt(at: { index: number } | { t: number }, options: { animate?: boolean } = {}): void {
    const events = this.model.events;
    const index = "index" in at ? Math.min(at.index, events.length - 1) : this.model.indexAt(at.t);
    const t = "t" in at ? at.t : (events[index]?.t ?? 0);
    cancelAnimationFrame(this.glide);
    const from = this.position;
    if (options.animate && index > from.index && from.index >= 0 && t > from.t) {
      this.glideTo(from, { index, t });
      return;
    }
    this.draw(index, t);
  }

  /** Moves from one moment to a later one by the clock, so messages are seen travelling. */
  private glideTo(from: { index: number; t: number }, to: { index: number; t: number }): void {
    const began = performance.now();
    const step = (now: number) => {
      const f = Math.min(1, (now - began) / GLIDE_MS);
      if (f >= 1) {
        this.draw(to.index, to.t);
        return;
      }
      const t = from.t + (to.t - from.t) * f;
      this.draw(Math.max(from.index, Math.min(to.index, this.model.indexAt(t))), t);
      this.glide = requestAnimationFrame(step);
    };
    this.glide = requestAnimationFrame(step);
  }

  highlight(nodes: readonly number[]): void {
    this.blamed = new Set(nodes);
    this.draw(this.position.index, this.position.t);
  }

  /** Marks a node as the one the reader picked (null: none). */
  select(node: number | null): void {
    this.selected = node;
    this.draw(this.position.index, this.position.t);
  }

  destroy(): void {
    cancelAnimationFrame(this.glide);
    this.root.replaceChildren();
  }

  private draw(index: number, t: number): void {
    this.position = { index, t };
    // the moment shown, on the element itself: for a page's script and for tests
    this.root.dataset.index = String(index);
    this.root.dataset.t = String(t);
    const ids = [...this.model.nodes].sort((a, b) => a - b);
    const lanes = this.model.lanesAt(index);
    const laneOf = (id: number): Lane | undefined => lanes[this.model.nodes.indexOf(id)];
    const { at, boxes } = layout(ids, (id) => {
      const lane = laneOf(id);
      return lane === undefined || lane.dead ? null : lane.group;
    });
    const clients = this.model.clients.length > 0;
    const height = NET_HEIGHT + (clients ? CLIENT_ROW : 0);
    attrs(this.picture, { viewBox: `0 0 ${WIDTH} ${height}` });
    drawGroups(this.layers.groups, boxes);
    drawCuts(this.layers.cuts, this.model.cutsAt(index), at);
    this.drawNodes(ids, index, t, at, laneOf);
    this.drawFlights(index, t, at, radiusFor(ids.length));
    this.drawClients(index, t, at);
    if (this.drawnLogs !== index) this.drawLogs(ids, index, laneOf);
    this.caption.replaceChildren(...this.captionOf(index, t));
    this.picture.setAttribute("aria-label", this.summary(ids, laneOf));
    this.onDraw();
  }

  private drawNodes(
    ids: number[],
    index: number,
    t: number,
    at: Map<number, Point>,
    laneOf: (id: number) => Lane | undefined,
  ): void {
    const state = this.model.stateAt(index);
    const r = radiusFor(ids.length);
    for (const id of ids) {
      let glyph = this.glyphs.get(id);
      if (glyph === undefined) {
        glyph = new NodeGlyph(id, r);
        this.glyphs.set(id, glyph);
        this.layers.nodes.append(glyph.root);
      }
      const lane = laneOf(id) ?? {
        role: "follower",
        term: 0,
        cut: false,
        dead: false,
        group: null,
      };
      const look: NodeLook = {
        id,
        role: lane.role,
        term: lane.term,
        dead: lane.dead,
        why: lane.dead ? this.model.deathOf(id, index) : null,
        cut: lane.cut,
        votedFor: state.get(id)?.votedFor ?? null,
        timer: lane.dead ? null : this.timerOf(id, index, t),
        votes:
          lane.role === "candidate" && !lane.dead
            ? { held: this.model.votesOf(id, index, lane.term ?? 0), of: ids.length }
            : null,
        blamed: this.blamed.has(id),
        selected: this.selected === id,
        lost: this.lostWords(id, index),
        prevote: null,
        badges: [],
      };
      const node = state.get(id);
      if (node !== undefined && !lane.dead) {
        const { prevote } = node;
        look.prevote =
          prevote === undefined || lane.role !== "follower" ? null : { ...prevote, of: ids.length };
        look.badges = availabilityBadges(node, lane.role, t, this.model.availability?.leaseMs);
      }
      glyph.update(look, at.get(id)!);
    }
  }

  /** Part 5: a leader's report that this node lost data it had acknowledged, in words. */
  private lostWords(id: number, index: number): string | null {
    const report = this.model.lostDataAt(id, index);
    if (report === null) return null;
    return `lost data: it had acknowledged [${report.acknowledged}] to n${report.by} (at ${this.timeText(report.t)})`;
  }

  /**
   * How much of a node's election timer is left. A run that fired is exact: the trace says how
   * long it ran. One reset before it fired drew a timeout the trace never tells; it is drawn
   * against the longest timeout of the range, dashed.
   */
  private timerOf(id: number, index: number, t: number): NodeLook["timer"] {
    const run = this.model.timerAt(id, index);
    if (run === null) return null;
    // part 6's drift: a node's timers run on its own clock, `rate` of its ms to each of the trace's
    const rate = this.model.stateAt(index).get(id)?.clockRate ?? 1;
    const own = rate === 1 ? "" : ` on its own clock, which runs ×${rate}`;
    if (run.fired !== null) {
      const left = Math.max(0, run.fired.t - t);
      // the trace's time it ran: its timeout on the node's clock, whatever rate that clock ran at
      const span = run.fired.t - run.start.t || run.fired.afterMs;
      const words = `election timer: fires in ${round(left)} ms (a ${run.fired.afterMs} ms timeout${own})`;
      return { left: left / span, exact: true, words };
    }
    const [min, max] = this.model.range();
    const since = Math.max(0, t - run.start.t);
    const words =
      `election timer: reset ${round(since)} ms ago; it fires ${min}–${max} ms after a reset${own} ` +
      "(this one was reset again before it fired, so the trace does not say exactly when)";
    return { left: 1 - (since * rate) / max, exact: false, words };
  }

  private drawFlights(index: number, t: number, at: Map<number, Point>, r: number): void {
    const now = this.model.flightsAt(index, t);
    const keep = new Set<object>();
    const fall = this.model.typicalFlight();
    for (const flight of now) {
      const from = at.get(flight.flight.from);
      const to = at.get(flight.flight.to);
      if (from === undefined || to === undefined) continue;
      keep.add(flight.flight);
      let glyph = this.flying.get(flight.flight);
      if (glyph === undefined) {
        glyph = new FlightGlyph(flight);
        this.flying.set(flight.flight, glyph);
        this.layers.flights.append(glyph.root);
      }
      const fallen = flight.falling ? Math.min(1, (t - (flight.flight.end?.t ?? t)) / fall) : 0;
      glyph.update(flight, from, to, r, fallen);
    }
    for (const [flight, glyph] of this.flying) {
      if (keep.has(flight)) continue;
      glyph.root.remove();
      this.flying.delete(flight);
    }
  }

  /** Clients in a row below the nodes, each with its operation; a line to the node it tries. */
  private drawClients(index: number, t: number, at: Map<number, Point>): void {
    const names = this.model.clients;
    const lanes = this.model.clientLanesAt(index);
    const w = WIDTH / Math.max(1, names.length);
    const y = NET_HEIGHT + 14;
    const boxes = names.map((name, i) => {
      const lane = lanes[i] ?? null;
      const g = svg("g", `client${lane === null ? "" : ` op-${lane.state}`}`, {
        "data-client": name,
        tabindex: 0,
        role: "button",
        transform: `translate(${i * w + w / 2} ${y})`,
      });
      const box = svg("rect", "client-box", { x: -62, y: 0, width: 124, height: 40, rx: 6 });
      const label = svg("text", "client-name", { x: 0, y: 15 });
      label.textContent = `client ${name}`;
      const op = svg("text", "client-op", { x: 0, y: 31 });
      op.textContent = lane === null ? "idle" : `${MARK[lane.state] ?? ""}#${lane.seq} ${lane.op}`;
      g.append(box, label, op);
      return g;
    });
    this.layers.clients.replaceChildren(...boxes);
    const lines = this.model.attempts.flatMap((a) => {
      const open = a.sent.index <= index && (a.end === null || a.end.index > index);
      const answered =
        a.end !== null && a.end.index <= index && t - a.end.t < 3 * this.model.typicalFlight();
      const node = at.get(a.to);
      const column = names.indexOf(a.client);
      if ((!open && !answered) || node === undefined || column < 0) return [];
      const line = svg(
        "line",
        `attempt${answered ? ` answered s-${a.status?.replace(/\s/g, "-")}` : ""}`,
        {
          x1: column * w + w / 2,
          y1: y,
          x2: node.x,
          y2: node.y,
        },
      );
      const tip = svg("title");
      tip.textContent = `${a.client} #${a.seq} at n${a.to}${answered ? `: ${a.status}` : ": waiting for the answer"}`;
      line.append(tip);
      return [line];
    });
    this.layers.attempts.replaceChildren(...lines);
  }

  private drawLogs(ids: number[], index: number, laneOf: (id: number) => Lane | undefined): void {
    this.drawnLogs = index;
    if (!this.model.logs) {
      this.logs.replaceChildren(
        el("p", "cv-note", "No logs in this trace: elections only (part 1)."),
      );
      return;
    }
    const state = this.model.stateAt(index);
    const leader = ids.find((id) => laneOf(id)?.role === "leader" && !laneOf(id)?.dead);
    const progress = leader === undefined ? undefined : state.get(leader)?.progress;
    const rows = ids.map((id) => ({
      id,
      state: state.get(id),
      dead: laneOf(id)?.dead ?? false,
      role: laneOf(id)?.role ?? "follower",
      progress: progress?.get(id) ?? null,
      incoming: this.model.incomingAt(id, index),
    }));
    this.logs.replaceChildren(logsTable(rows, this.model.storage));
  }

  /** "412 ms · event 123 of 456 · n2 send: → n0 AppendEntries …" */
  private captionOf(index: number, t: number): (string | HTMLElement)[] {
    const total = this.model.events.length;
    const e = this.model.events[index];
    const when = el("strong", "cv-time", this.timeText(t));
    if (this.options.clock === "wall" && this.options.origin !== undefined) {
      when.title = new Date(this.options.origin + t).toISOString();
    }
    if (e === undefined) return [when, ` · before the first of ${total} events`];
    const who = e.node === null ? "TEST" : `n${e.node}`;
    const { text } = describe(e);
    const said = text.length > 140 ? `${text.slice(0, 139)}…` : text;
    return [
      when,
      ` · event ${index + 1} of ${total} · `,
      el("b", "", `${who} ${e.kind}`),
      ` ${said}`,
    ];
  }

  timeText(t: number): string {
    return this.options.clock === "wall" ? `+${(t / 1000).toFixed(3)} s` : `${round(t)} ms`;
  }

  /** What the picture shows, for a screen reader. */
  private summary(ids: number[], laneOf: (id: number) => Lane | undefined): string {
    const nodes = ids.map((id) => {
      const lane = laneOf(id);
      return lane?.dead
        ? `n${id} down`
        : `n${id} ${lane?.role ?? "follower"} in term ${lane?.term ?? 0}`;
    });
    return `the cluster: ${nodes.join(", ")}`;
  }

  private clicked(e: Event): void {
    const target = targetOf(e)?.closest<SVGElement>("[data-node],[data-msg],[data-client]");
    const index = this.position.index;
    if (!target || this.options.onSelect === undefined) return;
    const { node, msg, client } = target.dataset;
    if (node !== undefined) this.options.onSelect({ kind: "node", node: Number(node), index });
    else if (client !== undefined) this.options.onSelect({ kind: "client", client, index });
    else if (msg !== undefined) {
      const flight = [...this.flying.keys()].find(
        (f) => (f as FlightAt["flight"]).msg === Number(msg),
      );
      const sent = (flight as FlightAt["flight"] | undefined)?.sent.index ?? index;
      this.options.onSelect({ kind: "message", msg: Number(msg), index: sent });
    }
  }
}

const MARK: Record<string, string> = { ok: "✓", failed: "✗", maybe: "?" };

const round = (ms: number) => (Number.isInteger(ms) ? ms : Number(ms.toFixed(1)));
