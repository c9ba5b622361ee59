// The cluster's state at the selected row: for every node its role, term and vote, its log as a
// strip of entries tinted by term with commitIndex and lastApplied marked (from part 3 on the
// entries not saved yet hatched, with what its storage holds beside; from part 5 the snapshot
// its log was compacted into, `lastIncludedIndex` and its term, drawn before the strip, which
// then starts after it), and for a leader the nextIndex and matchIndex of each follower. Everything comes from replaying the rows' state
// operations (state.ts), the same code the model's tests check. What changed since the row shown
// before is flashed, so stepping through rows animates the cluster.

import { type LaneTuple, type PageData, R } from "../page-data.ts";
import {
  baseOf,
  type ClusterState,
  entryAt,
  lastIndexOf,
  type NodeState,
  StateReplay,
} from "../state.ts";
import { availabilityBadges } from "./availability.ts";
import { el, groupColour, groupLetter, termTint } from "./dom.ts";

/** Logs longer than this are drawn as thin bars without the term written in each. */
const THIN_FROM = 40;

export class StateView {
  private readonly data: PageData;
  private readonly root: HTMLElement;
  private readonly replay: StateReplay;
  private previous: { row: number; state: ClusterState } | null = null;

  constructor(data: PageData, root: HTMLElement) {
    this.data = data;
    this.root = root;
    this.replay = new StateReplay(data.nodes, (i) => data.rows[i]?.[R.OPS] || null, data.storage);
  }

  show(i: number): void {
    const row = this.data.rows[i];
    if (row === undefined) return;
    const state = this.replay.after(i);
    const lanes = this.data.lanes[row[R.LANES]] ?? [];
    const before = this.previous?.state;
    const heading = el("p", "at");
    const text = row[R.TEXT];
    heading.append(
      el("strong", "", `after row ${i + 1} of ${this.data.rows.length}, at ${row[R.T]} ms, `),
      `${this.data.columns[row[R.COLUMN]]} ${this.data.kinds[row[R.KIND]]}: `,
      text.length > 160 ? `${text.slice(0, 159)}…` : text,
    );
    const nodes = this.data.nodes.map((id, column) => {
      const line = nodeLine(id, lanes[column], state.get(id), before?.get(id), this.data.logs);
      const lane = lanes[column];
      const node = state.get(id);
      if (this.data.availability !== null && node !== undefined && lane !== undefined && !lane[3]) {
        line.append(...availabilityOf(node, lane[0], row[R.T], this.data.availability.leaseMs));
      }
      return line;
    });
    this.root.replaceChildren(heading, networkLine(this.data.nodes, lanes), ...nodes);
    this.root.dataset.row = String(i);
    this.previous = { row: i, state };
  }

  clear(): void {
    this.previous = null;
    this.root.replaceChildren(
      el(
        "p",
        "hint",
        "Select a row (click it, or press ↓) to see every node's state at that moment.",
      ),
    );
    delete this.root.dataset.row;
  }
}

/**
 * Part 6's state of a live node, each its own field: a pre-vote it asks for, the leader it knows
 * and its lease, the transfer it runs, its reads, its clock's rate, a leader's write in flight.
 */
function availabilityOf(
  node: NodeState,
  role: string,
  t: number,
  leaseMs: number | null,
): (string | HTMLElement)[] {
  const fields: HTMLElement[] = [];
  if (node.prevote !== undefined && role === "follower") {
    const { term, votes } = node.prevote;
    const span = el("span", "prevote", `pre-vote T${term}: ${votes} would vote`);
    span.title = `asks for pre-votes (§9.6): would a majority vote for it in term ${term}? Its term and vote do not change until one would`;
    fields.push(span);
  }
  if (node.leader !== undefined && role !== "leader") {
    fields.push(el("span", "leader-known", `leader n${node.leader.id}`));
  }
  for (const badge of availabilityBadges(node, role, t, leaseMs)) {
    const span = el("span", "p6", badge.text === "lease" ? leaseText(node, t) : badge.text);
    span.title = badge.words;
    fields.push(span);
  }
  return fields.flatMap((f) => [" ", f]);
}

/** The lease in a few words: how long ago its node heard from the leader (by its own clock). */
function leaseText(node: NodeState, t: number): string {
  const heard = node.leader?.heardAt;
  if (heard === null || heard === undefined) return "lease (leads)";
  return `lease (heard ${Math.round((t - heard) * (node.clockRate ?? 1))} ms ago)`;
}

/** Which nodes reach which while the network is split; who is cut off or stopped. */
function networkLine(nodes: number[], lanes: LaneTuple[]): HTMLElement {
  const p = el("p", "network");
  const groups = new Map<number, number[]>();
  lanes.forEach((lane, column) => {
    if (lane[4] >= 0) groups.set(lane[4], [...(groups.get(lane[4]) ?? []), nodes[column]!]);
  });
  const names = (ids: number[]) => ids.map((id) => `n${id}`).join(" ");
  if (groups.size === 0) {
    p.textContent = "network: every live node reaches every other";
  } else {
    p.append("network split: ");
    for (const [group, ids] of [...groups].sort((a, b) => a[0] - b[0])) {
      const band = el("span", "group banded", `${groupLetter(group)} {${names(ids)}}`);
      band.style.borderLeftColor = groupColour(group);
      band.dataset.group = groupLetter(group);
      p.append(band, " ");
    }
  }
  const dead = nodes.filter((_, c) => lanes[c]?.[3]);
  const cut = nodes.filter((_, c) => lanes[c]?.[2]);
  if (cut.length > 0) p.append(` · cut off: ${names(cut)}`);
  if (dead.length > 0) p.append(` · stopped: ${names(dead)}`);
  return p;
}

function nodeLine(
  id: number,
  lane: LaneTuple | undefined,
  node: NodeState | undefined,
  before: NodeState | undefined,
  logs: boolean,
): HTMLElement {
  const [role, term, , dead] = lane ?? ["follower", 0, 0, 0, -1];
  const line = el("div", `node-state ${dead ? "dead" : `r-${role}`}`);
  line.dataset.node = String(id);
  const who = el("span", "who", `n${id}`);
  // a dead node leads nothing, whatever role it last wrote: say "down", and what it was in the title
  const rt = el("span", "rt", `${dead ? "✝ down" : role} T${term ?? "?"}`);
  if (dead) rt.title = `down; it was ${role} when it stopped`;
  line.append(who, rt);
  if (node === undefined) return line;
  const voted = el("span", "voted", node.votedFor === null ? "no vote" : `voted n${node.votedFor}`);
  if (before !== undefined && before.votedFor !== node.votedFor) voted.classList.add("fresh");
  const indices = el("span", "indices", `commit ${node.commitIndex} · applied ${node.lastApplied}`);
  const moved =
    before !== undefined &&
    (before.commitIndex !== node.commitIndex || before.lastApplied !== node.lastApplied);
  if (moved) indices.classList.add("fresh");
  // part 1's trace has no logs: its nodes have votes, not an empty log committed to 0
  if (logs) {
    line.append(voted);
    if (node.snapshot !== undefined) line.append(snapshotOf(node, before));
    line.append(logStrip(id, node, before), indices);
  } else line.append(voted);
  if (node.disk !== null) line.append(diskOf(node, term, before));
  if (role === "leader" && !dead && node.progress.size > 0) line.append(progressOf(node));
  // spaces between the fields, so their text reads apart when copied or read aloud
  for (const field of [...line.children].slice(1)) field.before(" ");
  return line;
}

/**
 * Part 5: the compacted prefix, as a block before the log strip: the snapshot's last entry and
 * its term (§7: `lastIncludedIndex`, `lastIncludedTerm`); the strip starts at the entry after it.
 */
function snapshotOf(node: NodeState, before: NodeState | undefined): HTMLElement {
  const { lastIncludedIndex: index, lastIncludedTerm: term } = node.snapshot!;
  const block = el("span", "snapshot", `snapshot ≤[${index}] T${term}`);
  block.dataset.index = String(index);
  block.dataset.term = String(term);
  block.title =
    `a snapshot holds the state through [${index}] (term ${term}): ` +
    `the log's entries up to it are discarded, and the log starts at [${index + 1}]`;
  const old = before?.snapshot;
  if (before !== undefined && (old?.lastIncludedIndex !== index || old.lastIncludedTerm !== term)) {
    block.classList.add("fresh");
  }
  return block;
}

/** What the node's storage holds: what a crash now would restart it with (part 3 on). */
function diskOf(node: NodeState, term: number | null, before: NodeState | undefined): HTMLElement {
  const disk = node.disk!;
  const vote = disk.votedFor === null ? "no vote" : `voted n${disk.votedFor}`;
  const snapshot = disk.snapshotIndex === undefined ? "" : ` · snapshot ≤[${disk.snapshotIndex}]`;
  const span = el(
    "span",
    "disk",
    `disk: T${disk.term} · ${vote}${snapshot} · log to [${disk.lastLogIndex}]`,
  );
  const behind =
    disk.term !== term ||
    disk.votedFor !== node.votedFor ||
    disk.lastLogIndex !== lastIndexOf(node) ||
    disk.snapshotIndex !== node.snapshot?.lastIncludedIndex ||
    node.saved < lastIndexOf(node);
  if (behind) span.classList.add("behind");
  const saved =
    disk.snapshotIndex === undefined ? "" : `, its snapshot through [${disk.snapshotIndex}]`;
  span.title =
    `what this node's storage holds: a crash now restarts it in term ${disk.term}, ${vote}${saved}, ` +
    `its log to [${disk.lastLogIndex}]${behind ? "; memory holds changes not saved yet" : ""}`;
  // by content: every replay of the state makes new disk records
  const old = before?.disk;
  const same =
    old === null ||
    old === undefined ||
    (old.term === disk.term &&
      old.votedFor === disk.votedFor &&
      old.lastLogIndex === disk.lastLogIndex &&
      old.snapshotIndex === disk.snapshotIndex);
  if (!same) span.classList.add("fresh");
  return span;
}

/**
 * The log as entries tinted by term; committed ones solid, applied ones dotted beneath. From
 * part 5 it holds the entries after the node's snapshot.
 */
function logStrip(id: number, node: NodeState, before: NodeState | undefined): HTMLElement {
  const strip = el("span", `log${node.log.length >= THIN_FROM ? " thin" : ""}`);
  const base = baseOf(node);
  const after = base > 0 ? ` after its snapshot through [${base}]` : "";
  strip.setAttribute("aria-label", `log of n${id}: ${node.log.length} entries${after}`);
  node.log.forEach(([term, command], at) => {
    const index = base + at + 1;
    const entry = el("span", "entry", node.log.length < THIN_FROM ? String(term) : "");
    entry.dataset.index = String(index);
    entry.dataset.term = String(term);
    // the colour only: a background shorthand would wipe the hatching of unsaved entries
    entry.style.backgroundColor = termTint(term);
    entry.title = `[${index}] T${term} ${command}`;
    if (index <= node.commitIndex) entry.classList.add("committed");
    if (index <= node.lastApplied) entry.classList.add("applied");
    if (node.disk !== null && index > node.saved) {
      // hatched: in memory only, so a crash now would lose it
      entry.classList.add("unsaved");
      entry.title += " (not saved yet: a crash now loses it)";
    }
    const old = before === undefined ? undefined : entryAt(before, index);
    if (before !== undefined && (old === undefined || old[0] !== term || old[1] !== command)) {
      entry.classList.add("fresh");
    }
    strip.append(entry);
    if (index === node.commitIndex) strip.append(commitMark(node.commitIndex));
  });
  if (node.log.length === 0) {
    strip.append(el("span", "empty", base > 0 ? "no entry after it" : "empty log"));
  }
  return strip;
}

function commitMark(commitIndex: number): HTMLElement {
  const mark = el("span", "commit-mark");
  mark.title = `commitIndex ${commitIndex}: entries up to here are committed`;
  return mark;
}

function progressOf(node: NodeState): HTMLElement {
  const out = el("span", "progress");
  const peers = [...node.progress].sort((a, b) => a[0] - b[0]);
  for (const [peer, [next, match]] of peers) {
    const item = el("span", "peer", `n${peer} next ${next} match ${match}`);
    item.dataset.peer = String(peer);
    out.append(item);
  }
  return out;
}
