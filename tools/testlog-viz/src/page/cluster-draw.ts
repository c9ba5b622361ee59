// The cluster view's picture, in SVG: where each node stands (on one ring, or one ring per group
// while the network is split), each node's glyph (role, term, vote, election timer, the votes a
// candidate holds, dead or cut off, and from part 5 a lost-data report), each message on its way
// (part 5's InstallSnapshot chunks labelled with where they go in the snapshot), each cut link,
// and the clients with the attempt each is making. cluster-view.ts decides what to show; this
// draws it.

import type { FlightAt } from "../cluster-model.ts";
import { readablePayload } from "../readable.ts";
import type { Badge } from "./availability.ts";
import { attrs, groupColour, groupLetter, svg } from "./dom.ts";

export interface Point {
  x: number;
  y: number;
}

export const WIDTH = 560;
/** the nodes' part of the picture; clients, when there are any, get a row below it */
export const NET_HEIGHT = 330;
export const CLIENT_ROW = 64;

/** What one node's glyph shows. */
export interface NodeLook {
  id: number;
  role: string;
  term: number | null;
  dead: boolean;
  /** why it is down: "crashed by the test", "killed by SIGKILL", "halted: …" */
  why: string | null;
  cut: boolean;
  votedFor: number | null;
  /** its election timer: how much is left (1 full, 0 firing), and whether the trace says exactly */
  timer: { left: number; exact: boolean; words: string } | null;
  /** a candidate's votes (itself first) and how many nodes there are */
  votes: { held: number[]; of: number } | null;
  /** the failure's nodes: the first violation names them */
  blamed: boolean;
  selected: boolean;
  /** part 5: a leader reported that this node lost data it had acknowledged (`data.lost`) */
  lost: string | null;
  /** part 6 (§9.6): the pre-vote it asks for: the would-be term, the would-be votes held */
  prevote: { term: number; votes: number; of: number } | null;
  /** part 6: what else it is doing, as short badges with their words for the tooltip */
  badges: Badge[];
}

/** A group of a split network: the box its nodes stand in. */
export interface GroupBox {
  group: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Node radius: smaller for larger clusters, so rings do not overlap. */
export const radiusFor = (count: number) => (count <= 5 ? 28 : count <= 7 ? 23 : 18);

/** Points on a ring around (cx, cy), the first at the top, clockwise. */
function ring(count: number, cx: number, cy: number, r: number): Point[] {
  if (count === 1) return [{ x: cx, y: cy }];
  return Array.from({ length: count }, (_, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / count;
    return { x: cx + r * Math.cos(angle), y: cy + r * Math.sin(angle) };
  });
}

/**
 * Where the nodes stand: one ring when every live node reaches every other; while the network is
 * split, one ring per group side by side, each in a box of its group's colour, and the dead
 * nodes (they are in no group) in a row at the bottom.
 */
export function layout(
  ids: readonly number[],
  groupOf: (id: number) => number | null,
): { at: Map<number, Point>; boxes: GroupBox[] } {
  const at = new Map<number, Point>();
  const groups = [...new Set(ids.map(groupOf).filter((g): g is number => g !== null))].sort();
  if (groups.length < 2) {
    const points = ring(ids.length, WIDTH / 2, NET_HEIGHT / 2, NET_HEIGHT / 2 - 52);
    ids.forEach((id, i) => {
      at.set(id, points[i]!);
    });
    return { at, boxes: [] };
  }
  const boxes: GroupBox[] = [];
  const w = (WIDTH - 20) / groups.length;
  groups.forEach((group, g) => {
    const members = ids.filter((id) => groupOf(id) === group);
    const box = { group, x: 10 + g * w, y: 8, w: w - 10, h: NET_HEIGHT - 90 };
    boxes.push(box);
    const r = Math.min(box.w, box.h) / 2 - 54;
    const points = ring(members.length, box.x + box.w / 2, box.y + box.h / 2 + 12, r);
    members.forEach((id, i) => {
      at.set(id, points[i]!);
    });
  });
  const rest = ids.filter((id) => groupOf(id) === null);
  rest.forEach((id, i) => {
    at.set(id, { x: WIDTH / 2 + (i - (rest.length - 1) / 2) * 80, y: NET_HEIGHT - 40 });
  });
  return { at, boxes };
}

const ROLE_WORD: Record<string, string> = {
  follower: "follower",
  candidate: "candidate",
  leader: "leader",
  dead: "down",
};

/** One node: a circle tinted by role, its term inside, its timer as an arc that runs down. */
export class NodeGlyph {
  readonly root: SVGGElement;
  private readonly circle = svg("circle", "body");
  private readonly track = svg("circle", "timer-track");
  private readonly timer = svg("path", "timer");
  private readonly cutRing = svg("circle", "cut-ring");
  private readonly name = svg("text", "name");
  private readonly term = svg("text", "term");
  private readonly role = svg("text", "role");
  private readonly below = svg("text", "below");
  private readonly badges = svg("text", "badges");
  private readonly votes = svg("g", "votes");
  private readonly tip = svg("title");

  readonly id: number;
  private readonly r: number;

  constructor(id: number, r: number) {
    this.id = id;
    this.r = r;
    this.root = svg("g", "node", { "data-node": id, tabindex: 0, role: "button" });
    this.root.append(this.tip, this.cutRing, this.circle, this.track, this.timer, this.votes);
    this.root.append(this.name, this.term, this.role, this.below, this.badges);
    attrs(this.circle, { r, cx: 0, cy: 0 });
    attrs(this.cutRing, { r: r + 9, cx: 0, cy: 0 });
    attrs(this.track, { r: r + 4, cx: 0, cy: 0 });
    attrs(this.name, { x: 0, y: -r - 14 });
    attrs(this.term, { x: 0, y: -2 });
    attrs(this.role, { x: 0, y: 12 });
    attrs(this.below, { x: 0, y: r + 18 });
    attrs(this.badges, { x: 0, y: r + 31 });
    this.name.textContent = `n${id}`;
  }

  update(look: NodeLook, at: Point): void {
    const state = look.dead ? "dead" : look.role;
    const classes = ["node", `role-${state}`];
    if (look.cut) classes.push("cut");
    if (look.blamed) classes.push("blamed");
    if (look.selected) classes.push("selected");
    if (look.lost !== null) classes.push("lost");
    if (look.prevote !== null && !look.dead) classes.push("precandidate");
    attrs(this.root, { class: classes.join(" "), transform: `translate(${at.x} ${at.y})` });
    this.term.textContent = look.dead ? "✝" : `T${look.term ?? "?"}`;
    this.role.textContent =
      look.prevote !== null && !look.dead ? "pre-vote" : (ROLE_WORD[state] ?? state);
    this.badges.textContent = look.dead ? "" : look.badges.map((b) => b.text).join(" · ");
    this.below.textContent = look.dead
      ? (look.why ?? "down")
      : look.lost !== null
        ? "LOST DATA"
        : look.votedFor === null
          ? ""
          : `voted n${look.votedFor}`;
    attrs(this.timer, {
      d: look.timer === null ? "" : arc(this.r + 4, look.timer.left),
      class: look.timer?.exact ? "timer exact" : "timer",
    });
    attrs(this.track, { class: look.timer === null ? "timer-track off" : "timer-track" });
    this.drawVotes(
      look.votes ??
        (look.prevote === null || look.dead
          ? null
          : {
              held: Array.from({ length: look.prevote.votes }, () => look.id),
              of: look.prevote.of,
            }),
      look.votes === null && look.prevote !== null,
    );
    this.tip.textContent = tooltip(look);
  }

  /** A candidate's votes: a dot per node of the cluster, filled for each vote it holds. */
  private drawVotes(votes: NodeLook["votes"], pre = false): void {
    if (votes === null) {
      this.votes.replaceChildren();
      return;
    }
    // a row of dots above the term: filled for each vote held, hollow for the others
    const gap = Math.min(8, (this.r * 1.3) / Math.max(1, votes.of - 1));
    const dots = Array.from({ length: votes.of }, (_, i) =>
      svg("circle", `vote${i < votes.held.length ? " held" : ""}${pre ? " pre" : ""}`, {
        cx: (i - (votes.of - 1) / 2) * gap,
        cy: -this.r * 0.58,
        r: 2.6,
      }),
    );
    this.votes.replaceChildren(...dots);
  }
}

function tooltip(look: NodeLook): string {
  const lines = [`n${look.id}: ${look.dead ? `down (${look.why ?? "stopped"})` : look.role}`];
  lines.push(
    `currentTerm ${look.term ?? "?"}, votedFor ${look.votedFor === null ? "none" : `n${look.votedFor}`}`,
  );
  if (look.cut) lines.push("cut off by the test: it reaches no one");
  if (look.lost !== null) lines.push(look.lost);
  if (look.timer !== null) lines.push(look.timer.words);
  if (look.votes !== null)
    lines.push(`votes held: ${look.votes.held.map((id) => `n${id}`).join(", ")}`);
  if (look.prevote !== null) {
    lines.push(
      `asks for pre-votes (§9.6): would a majority vote for it in term ${look.prevote.term}? ` +
        `${look.prevote.votes} of ${look.prevote.of} would, itself included; its term stays until a majority would`,
    );
  }
  for (const badge of look.badges) lines.push(badge.words);
  return lines.join("\n");
}

/** An arc of a circle of radius r from the top, clockwise, for `fraction` of the way round. */
function arc(r: number, fraction: number): string {
  const f = Math.max(0, Math.min(0.9999, fraction));
  if (f <= 0) return "";
  const angle = -Math.PI / 2 + 2 * Math.PI * f;
  const x = r * Math.cos(angle);
  const y = r * Math.sin(angle);
  return `M 0 ${-r} A ${r} ${r} 0 ${f > 0.5 ? 1 : 0} 1 ${x.toFixed(2)} ${y.toFixed(2)}`;
}

/** Group boxes of a split network, each labelled with its letter, in its colour. */
export function drawGroups(layer: SVGGElement, boxes: GroupBox[]): void {
  layer.replaceChildren(
    ...boxes.flatMap((b) => {
      const colour = groupColour(b.group);
      const rect = svg("rect", "group", { x: b.x, y: b.y, width: b.w, height: b.h, rx: 14 });
      rect.style.stroke = colour;
      const label = svg("text", "group-label", { x: b.x + 12, y: b.y + 20 });
      label.style.fill = colour;
      label.textContent = `group ${groupLetter(b.group)}`;
      return [rect, label];
    }),
  );
}

/** The links the test cut one way, as a red dashed arrow with scissors. */
export function drawCuts(
  layer: SVGGElement,
  cuts: [number, number][],
  at: Map<number, Point>,
): void {
  layer.replaceChildren(
    ...cuts.flatMap(([from, to]) => {
      const a = at.get(from);
      const b = at.get(to);
      if (a === undefined || b === undefined) return [];
      const line = svg("line", "cut-link", { x1: a.x, y1: a.y, x2: b.x, y2: b.y });
      const mid = svg("text", "cut-mark", { x: (a.x * 2 + b.x) / 3, y: (a.y * 2 + b.y) / 3 });
      mid.textContent = "✂";
      const tip = svg("title");
      tip.textContent = `the link n${from} → n${to} is cut (one way)`;
      line.append(tip);
      return [line, mid];
    }),
  );
}

/**
 * One message on its way: its track, and a dot whose shape says request or reply. Part 5's
 * InstallSnapshot is a square (a piece of a file, not an entry list) in a colour of its own, and
 * a request is labelled with its chunk: `≤[20] 0..256` (its snapshot's last entry, where the
 * chunk goes in the snapshot's text), and `last` on the last one (`done`).
 */
export class FlightGlyph {
  readonly root: SVGGElement;
  private readonly track = svg("line", "track");
  private readonly dot: SVGCircleElement | SVGRectElement | SVGPolygonElement;
  private readonly mark = svg("text", "mark");
  private readonly label = svg("text", "label");
  private readonly tip = svg("title");

  constructor(at: FlightAt) {
    const f = at.flight;
    const classes = ["flight", f.rpc, f.type];
    if (f.heartbeat) classes.push("heartbeat");
    if (f.late) classes.push("late");
    if (f.duplicate) classes.push("duplicate");
    if (f.how === "dropped") classes.push("doomed");
    // part 6 (§3.10): the RequestVote of a transfer's target, which voters' leases let through
    if (f.rpc === "RequestVote" && f.payload.leadershipTransfer === true) classes.push("transfer");
    this.root = svg("g", classes.join(" "), { "data-msg": f.msg, tabindex: 0, role: "button" });
    const square = f.rpc === "InstallSnapshot";
    this.dot = square
      ? svg("rect", "dot", { width: 14, height: 14, rx: 2 })
      : f.rpc === "TimeoutNow"
        ? svg("polygon", "dot", { points: "0,-9 8,0 0,9 -8,0" })
        : svg("circle", "dot", { r: f.heartbeat ? 4 : 7 });
    this.root.append(this.tip, this.track, this.dot, this.mark, this.label);
    this.mark.textContent = replyMark(at);
    this.label.textContent = flightLabel(f);
    const where =
      f.how === "dropped" ? ` — dropped: ${f.reason}` : f.late ? " — late: its call is over" : "";
    this.tip.textContent =
      `${f.rpc} ${f.type} #${f.msg} n${f.from} → n${f.to}${where}\n` +
      readablePayload(f.rpc, f.type, f.payload);
  }

  /** Places it `progress` of the way between the two nodes' edges; a dropped one falls. */
  update(at: FlightAt, from: Point, to: Point, r: number, fallen: number): void {
    const dx = to.x - from.x;
    const dy = to.y - from.y;
    const length = Math.hypot(dx, dy) || 1;
    const travel = Math.max(0, length - 2 * r);
    const along = (r + at.progress * travel) / length;
    const x = from.x + dx * along;
    const y = from.y + dy * along + (at.falling ? fallen * 30 : 0);
    attrs(this.track, { x1: from.x, y1: from.y, x2: to.x, y2: to.y });
    if (this.dot instanceof SVGRectElement) {
      attrs(this.dot, { x: (x - 7).toFixed(1), y: (y - 7).toFixed(1) });
    } else if (this.dot instanceof SVGPolygonElement) {
      attrs(this.dot, { transform: `translate(${x.toFixed(1)} ${y.toFixed(1)})` });
    } else attrs(this.dot, { cx: x.toFixed(1), cy: y.toFixed(1) });
    attrs(this.mark, { x: x.toFixed(1), y: (y + 3.5).toFixed(1) });
    attrs(this.label, { x: (x + 10).toFixed(1), y: (y - 8).toFixed(1) });
    if (at.falling) {
      this.mark.textContent = "✗";
      this.root.style.opacity = String(Math.max(0.15, 1 - fallen));
    }
    this.root.classList.toggle("falling", at.falling);
  }
}

/**
 * What a message says beside its dot, where its kind alone would not: an InstallSnapshot
 * chunk's place, part 6's pre-votes (`pre T5`, told apart from real votes), a transfer's
 * RequestVote, TimeoutNow, and a follower's ReadIndex and the read index its leader answers.
 */
function flightLabel(f: FlightAt["flight"]): string {
  const { rpc, type, payload } = f;
  const request = type === "request";
  switch (rpc) {
    case "InstallSnapshot":
      return request ? chunkLabel(payload) : "";
    case "PreVote":
      return request ? `pre T${payload.term}` : "pre";
    case "RequestVote":
      return request && payload.leadershipTransfer === true ? "transfer" : "";
    case "TimeoutNow":
      return request ? "TimeoutNow" : "";
    case "ReadIndex":
      return request ? "read?" : payload.success === true ? `read ≤[${payload.readIndex}]` : "";
    default:
      return "";
  }
}

/** An InstallSnapshot request's chunk: `≤[20] 0..256`, and `last` when it is the last. */
function chunkLabel(payload: FlightAt["flight"]["payload"]): string {
  const { lastIncludedIndex, offset, data, done } = payload;
  const size = typeof data === "string" ? data.length : 0;
  const at = typeof offset === "number" ? `${offset}..${offset + size}` : "?";
  return `≤[${lastIncludedIndex}] ${at}${done === true ? " last" : ""}`;
}

/** A reply says at a glance how it went: ✓ granted or success (a chunk taken), – refused. */
function replyMark(at: FlightAt): string {
  const { type, payload } = at.flight;
  if (type !== "reply") return "";
  const yes = payload.voteGranted === true || payload.success === true;
  return yes ? "✓" : "–";
}
