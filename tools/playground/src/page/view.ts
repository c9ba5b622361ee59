// TEMPORARY: the cluster picture until testlog-viz's cluster view (issue 17, being built beside
// this) lands; then that view, imported from tools/testlog-viz/src/page/, takes this file's
// place behind the same three calls (reset, append, showAt). It draws only what a reader needs to
// play meanwhile: each node's role, term, vote, log length and commit index, whether it is down or
// cut off, and the messages in flight.

import type { TraceEventLike } from "../engine/types.ts";

export interface ClusterPicture {
  /** A new cluster: its node ids. */
  reset(nodes: readonly number[]): void;
  /** Events of the trace, in order, as the simulation makes them (they may run ahead of what is shown). */
  append(events: readonly TraceEventLike[]): void;
  /** Shows the cluster after the first `index` events, at virtual time `t`. */
  showAt(index: number, t: number): void;
  /** The reader picked a node (clicked it). */
  onSelect: (node: number) => void;
  select(node: number): void;
}

interface NodeLook {
  role: string;
  term: number;
  vote: number | null;
  log: number;
  commit: number;
  cutOff: boolean;
}

interface Flight {
  from: number;
  to: number;
  rpc: string;
  type: string;
  heartbeat: boolean;
  sent: number;
  sentAt: number;
  end: number | null;
  endAt: number;
  dropped: boolean;
}

const SVG = "http://www.w3.org/2000/svg";
const FILL: Record<string, string> = {
  leader: "var(--leader)",
  candidate: "var(--candidate)",
  follower: "var(--follower)",
  dead: "var(--dead)",
};

export class PlaceholderView implements ClusterPicture {
  onSelect: (node: number) => void = () => {};
  private nodes: number[] = [];
  private events: TraceEventLike[] = [];
  private flights = new Map<number, Flight>();
  private selected = 0;
  private readonly svg: SVGSVGElement;
  private flightLayer: SVGElement = el("g", {});
  private readonly nodeEls = new Map<
    number,
    { g: SVGElement; ring: SVGElement; name: SVGElement; term: SVGElement; log: SVGElement }
  >();
  /** What was drawn last: nothing is drawn again until the moment or the selection changes. */
  private drawn = "";

  constructor(container: HTMLElement) {
    const note = document.createElement("p");
    note.className = "temporary";
    note.textContent =
      "a temporary picture: testlog-viz's cluster view (issue 17) takes its place when it lands";
    this.svg = document.createElementNS(SVG, "svg");
    this.svg.setAttribute("viewBox", "-220 -200 440 400");
    this.svg.setAttribute("role", "img");
    container.replaceChildren(this.svg, note);
  }

  reset(nodes: readonly number[]): void {
    this.nodes = [...nodes];
    this.events = [];
    this.flights.clear();
    this.drawn = "";
    this.flightLayer = el("g", {});
    this.nodeEls.clear();
    const groups = this.nodes.map((id) => {
      const parts = {
        g: el("g", { class: "node", "data-node": id, transform: this.placeOf(id) }),
        ring: el("circle", { r: 38 }),
        name: text(`n${id}`, -8, 16, 700),
        term: text("", 10, 12, 400),
        log: text("", 26, 11, 400),
      };
      parts.g.setAttribute("role", "button");
      parts.g.addEventListener("click", () => this.onSelect(id));
      parts.g.append(parts.ring, parts.name, parts.term, parts.log);
      this.nodeEls.set(id, parts);
      return parts.g;
    });
    this.svg.replaceChildren(this.flightLayer, ...groups);
  }

  private placeOf(id: number): string {
    const { x, y } = this.at(id);
    return `translate(${x.toFixed(1)} ${y.toFixed(1)})`;
  }

  private at(id: number): { x: number; y: number } {
    const k = this.nodes.indexOf(id);
    const angle = -Math.PI / 2 + (2 * Math.PI * k) / Math.max(1, this.nodes.length);
    return { x: Math.cos(angle) * 150, y: Math.sin(angle) * 150 };
  }

  append(events: readonly TraceEventLike[]): void {
    for (const e of events) {
      const i = this.events.length;
      this.events.push(e);
      const d = e.details;
      if (e.kind === "send") {
        this.flights.set(d.msg, {
          from: e.node!,
          to: d.to,
          rpc: d.rpc,
          type: d.type,
          heartbeat: d.heartbeat,
          sent: i,
          sentAt: e.t,
          end: null,
          endAt: e.t,
          dropped: false,
        });
      } else if (e.kind === "deliver" || e.kind === "drop") {
        const f = this.flights.get(d.msg);
        if (f !== undefined && f.end === null) {
          f.end = i;
          f.endAt = e.t;
          f.dropped = e.kind === "drop";
        }
      }
    }
  }

  select(node: number): void {
    this.selected = node;
  }

  showAt(index: number, t: number): void {
    const key = `${index}@${t}@${this.selected}`;
    if (key === this.drawn) return;
    this.drawn = key;
    const looks = this.looksAt(index);
    for (const id of this.nodes) this.drawNode(id, looks.get(id)!);
    const dots: SVGElement[] = [];
    for (const f of this.flights.values()) {
      if (f.sent >= index || (f.end !== null && f.end < index)) continue;
      const a = this.at(f.from);
      const b = this.at(f.to);
      const span = Math.max(1, (f.end === null ? f.sentAt + 5 : f.endAt) - f.sentAt);
      const k = Math.min(0.95, Math.max(0.05, (t - f.sentAt) / span));
      const colour = f.rpc === "RequestVote" ? "#e69b00" : "#3a7bd5";
      dots.push(
        el("circle", {
          cx: a.x + (b.x - a.x) * k,
          cy: a.y + (b.y - a.y) * k,
          r: f.heartbeat ? 4 : 6,
          fill: f.type === "reply" ? "#fff" : colour,
          stroke: colour,
          "stroke-width": 2,
        }),
      );
    }
    this.flightLayer.replaceChildren(...dots);
  }

  private drawNode(id: number, look: NodeLook): void {
    const parts = this.nodeEls.get(id);
    if (parts === undefined) return;
    parts.g.setAttribute("aria-label", `n${id}: ${look.role}, term ${look.term}`);
    const chosen = id === this.selected;
    set(parts.ring, {
      fill: FILL[look.role] ?? "#fff",
      stroke: look.cutOff ? "var(--bad)" : chosen ? "#24292f" : "#8c959f",
      "stroke-width": chosen ? 4 : 2,
      "stroke-dasharray": look.cutOff ? "6 4" : "none",
    });
    parts.term.textContent = `T${look.term}${look.vote === null ? "" : ` → n${look.vote}`}`;
    parts.log.textContent = look.role === "dead" ? "down" : `log ${look.log} · c ${look.commit}`;
  }

  private looksAt(index: number): Map<number, NodeLook> {
    const looks = new Map<number, NodeLook>();
    for (const id of this.nodes) {
      looks.set(id, { role: "follower", term: 0, vote: null, log: 0, commit: 0, cutOff: false });
    }
    for (const e of this.events.slice(0, index)) {
      const d = e.details;
      if (e.node === null) {
        if (d?.network?.cutOff) {
          for (const [id, look] of looks) look.cutOff = d.network.cutOff.includes(id);
        }
        if (e.kind === "restart") {
          Object.assign(looks.get(d.node) ?? {}, {
            role: "follower",
            term: d.currentTerm,
            log: d.log.length,
            commit: 0,
            vote: d.votedFor,
          });
        }
        continue;
      }
      const look = looks.get(e.node);
      if (look === undefined) continue;
      if (e.role !== null) look.role = e.role;
      if (e.term !== null && e.term !== look.term) {
        look.term = e.term;
        look.vote = null;
      }
      if (e.kind === "vote" && d.granted) look.vote = d.candidate;
      if (e.kind === "log.append") look.log = d.index + d.entries.length - 1;
      if (e.kind === "log.truncate") look.log = d.from - 1;
      if (e.kind === "commit") look.commit = d.to;
    }
    return looks;
  }
}

function el(name: string, attributes: Record<string, string | number>): SVGElement {
  return set(document.createElementNS(SVG, name), attributes);
}

function set(element: SVGElement, attributes: Record<string, string | number>): SVGElement {
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

function text(content: string, y: number, size: number, weight: number): SVGElement {
  const t = el("text", { y, "text-anchor": "middle", "font-size": size, "font-weight": weight });
  t.textContent = content;
  return t;
}
