// The reader's actions: what each one is, how it is written in a link, and what it does to the
// cluster (always through the cluster's own methods, so each shows in the trace as the tests'
// faults do). A link lists each action with the gate it happened at (gate.ts), so opening the
// link does the same things at the same moments.

import type { PartInfo } from "../parts.ts";
import type { KvClientLike, PartModule, SimClusterLike } from "./types.ts";

export type Action =
  | { kind: "isolate" | "reconnect" | "crash" | "restart" | "timeout" | "snapshot"; node: number }
  | { kind: "transfer"; node: number }
  /** Part 6 on: a linearizable read (ReadIndex) on the node. */
  | { kind: "read"; node: number }
  | { kind: "heal" }
  | { kind: "partition"; groups: number[][] }
  | { kind: "cut" | "uncut"; from: number; to: number }
  | { kind: "slow"; from: number; to: number; ms: number }
  | { kind: "loss"; percent: number }
  /** `node` -1: whichever node leads (the one of the highest term, if two think they do). */
  | { kind: "submit"; node: number; command: string }
  | { kind: "get"; client: string; key: string }
  | { kind: "put" | "append"; client: string; key: string; value: string };

export type ActionKind = Action["kind"];

/** An action and the gate it was taken at. */
export interface TimedAction {
  gate: number;
  action: Action;
}

// ---- Links: `<gate>.<kind>.<field>.<field>…`, actions joined by commas ----

/** Text in a link field: URI-escaped, and its dots too (dots separate fields). */
const esc = (text: string) => encodeURIComponent(text).replace(/\./g, "%2E");

function fields(a: Action): string[] {
  switch (a.kind) {
    case "heal":
      return [];
    case "partition":
      return [a.groups.map((g) => g.join("-")).join("_")];
    case "cut":
    case "uncut":
      return [String(a.from), String(a.to)];
    case "slow":
      return [String(a.from), String(a.to), String(a.ms)];
    case "loss":
      return [String(a.percent)];
    case "submit":
      return [a.node < 0 ? "leader" : String(a.node), esc(a.command)];
    case "get":
      return [esc(a.client), esc(a.key)];
    case "put":
    case "append":
      return [esc(a.client), esc(a.key), esc(a.value)];
    default:
      return [String(a.node)];
  }
}

export function encodeActions(actions: readonly TimedAction[]): string {
  return actions
    .map(({ gate, action }) => [gate, action.kind, ...fields(action)].join("."))
    .join(",");
}

export class LinkError extends Error {}

export function decodeActions(text: string): TimedAction[] {
  if (text === "") return [];
  return text.split(",").map((item) => {
    const [gate, kind, ...rest] = item.split(".");
    const g = Number(gate);
    if (!Number.isSafeInteger(g) || g < 0) throw new LinkError(`action "${item}": no gate number`);
    return { gate: g, action: decodeAction(kind ?? "", rest, item) };
  });
}

function decodeAction(kind: string, f: string[], item: string): Action {
  const int = (i: number) => {
    const value = Number(f[i]);
    if (f[i] === undefined || !Number.isSafeInteger(value)) {
      throw new LinkError(`action "${item}": field ${i + 1} is not a whole number`);
    }
    return value;
  };
  const text = (i: number) => {
    if (f[i] === undefined) throw new LinkError(`action "${item}": field ${i + 1} is missing`);
    return decodeURIComponent(f[i]);
  };
  switch (kind) {
    case "heal":
      return { kind };
    case "partition":
      return {
        kind,
        groups: text(0)
          .split("_")
          .map((g) => g.split("-").map(Number)),
      };
    case "cut":
    case "uncut":
      return { kind, from: int(0), to: int(1) };
    case "slow":
      return { kind, from: int(0), to: int(1), ms: int(2) };
    case "loss":
      return { kind, percent: int(0) };
    case "submit":
      return { kind, node: f[0] === "leader" ? -1 : int(0), command: text(1) };
    case "get":
      return { kind, client: text(0), key: text(1) };
    case "put":
    case "append":
      return { kind, client: text(0), key: text(1), value: text(2) };
    case "isolate":
    case "reconnect":
    case "crash":
    case "restart":
    case "timeout":
    case "snapshot":
    case "transfer":
    case "read":
      return { kind, node: int(0) };
    default:
      throw new LinkError(`action "${item}": unknown kind "${kind}"`);
  }
}

// ---- What an action does ----

/** Refused before it touches the cluster: the reason says what to do instead. */
export class ActionError extends Error {}

/** What applying an action needs besides the cluster. */
export interface ActionContext {
  cluster: SimClusterLike;
  info: PartInfo;
  part: PartModule;
  /** Links cut now (`from>to`), as the trace tells: cut adds, uncut removes, heal clears. */
  cutLinks: ReadonlySet<string>;
  /** A node the reader timed out: which links were cut for it (see `timeout`). */
  starve(node: number, cuts: [number, number][]): void;
  /** The cluster's client of that name: made at its first operation, the same one after that. */
  kvClient(id: string): KvClientLike;
  /** Runs a key/value operation after the client's previous one (a client runs one at a time). */
  queueKv(client: string, run: () => Promise<unknown>): void;
}

const isDead = (c: SimClusterLike, id: number) => c.state(id).role === "dead";

function checkNode(c: SimClusterLike, id: number): void {
  if (!c.ids.includes(id))
    throw new ActionError(`no node n${id}: the nodes are n0 to n${c.ids.length - 1}`);
}

type Handler<K extends ActionKind> = (ctx: ActionContext, a: Action & { kind: K }) => void;

const HANDLERS: { [K in ActionKind]: Handler<K> } = {
  isolate: ({ cluster }, a) => cluster.isolate(a.node),
  reconnect: ({ cluster }, a) => cluster.reconnect(a.node),
  heal: ({ cluster }) => cluster.heal(),
  partition: ({ cluster }, a) => cluster.partition(...checkedGroups(cluster, a.groups)),
  cut: ({ cluster }, a) => cluster.cut(a.from, a.to),
  uncut: ({ cluster }, a) => cluster.uncut(a.from, a.to),
  slow: ({ cluster }, a) => {
    if (!Number.isInteger(a.ms) || a.ms < 0)
      throw new ActionError("a delay is a whole number of ms");
    cluster.slow(a.from, a.to, a.ms);
  },
  loss: ({ cluster }, a) => setLoss(cluster, a.percent),
  crash: ({ cluster }, a) => {
    if (isDead(cluster, a.node)) throw new ActionError(`n${a.node} is down already`);
    cluster.crash(a.node);
  },
  restart: (ctx, a) => restart(ctx, a.node),
  timeout: (ctx, a) => timeout(ctx, a.node),
  submit: (ctx, a) => submit(ctx, a.node, a.command),
  get: (ctx, a) => kv(ctx, a),
  put: (ctx, a) => kv(ctx, a),
  append: (ctx, a) => kv(ctx, a),
  snapshot: (ctx, a) => {
    if (!ctx.info.snapshot || ctx.part.snapshot === undefined) {
      throw new ActionError(`${ctx.info.name} has no snapshots (they come in part 5)`);
    }
    ctx.part.snapshot(ctx.cluster, a.node);
  },
  transfer: (ctx, a) => {
    if (!ctx.info.transfer || ctx.part.transfer === undefined) {
      throw new ActionError(`${ctx.info.name} cannot transfer leadership (it comes in part 6)`);
    }
    ctx.part.transfer(ctx.cluster, a.node);
  },
  read: (ctx, a) => {
    if (!ctx.info.reads || ctx.part.read === undefined) {
      throw new ActionError(
        `${ctx.info.name} has no reads without a log entry (ReadIndex comes in part 6)`,
      );
    }
    ctx.part.read(ctx.cluster, a.node);
  },
};

/** Applies one action; throws ActionError, before changing anything, when it cannot be done. */
export function applyAction(ctx: ActionContext, a: Action): void {
  for (const id of nodesOf(a)) checkNode(ctx.cluster, id);
  (HANDLERS[a.kind] as Handler<ActionKind>)(ctx, a as never);
}

function nodesOf(a: Action): number[] {
  if ("node" in a) return a.kind === "submit" && a.node < 0 ? [] : [a.node];
  if ("from" in a) return [a.from, a.to];
  return [];
}

function checkedGroups(c: SimClusterLike, groups: number[][]): number[][] {
  const seen = new Set<number>();
  for (const id of groups.flat()) {
    checkNode(c, id);
    if (seen.has(id)) throw new ActionError(`n${id} is in two groups`);
    seen.add(id);
  }
  if (groups.length < 2 && seen.size === c.ids.length) {
    throw new ActionError("a partition needs at least two groups (heal joins everyone)");
  }
  return groups;
}

function setLoss(c: SimClusterLike, percent: number): void {
  if (!(percent >= 0 && percent <= 100))
    throw new ActionError("message loss is a percentage, 0 to 100");
  // The network reads its config at every message, as makeReliable() relies on.
  c.network.config.lossRate = percent / 100;
  c.note(`the reader sets message loss to ${percent}%: each message is lost with that chance`);
}

function restart(ctx: ActionContext, node: number): void {
  const c = ctx.cluster;
  if (ctx.info.crash !== "restart" || c.restart === undefined) {
    throw new ActionError(
      `${ctx.info.name} keeps nothing on disk: a crashed node stays down (restarts come in part 3)`,
    );
  }
  if (!isDead(c, node)) throw new ActionError(`n${node} is running; crash it first`);
  c.restart(node);
}

/**
 * "Time out" a node as RaftScope does, within the rules this code is checked against: its
 * election timer may fire only when it is due (the conformance checks hold every timer to its
 * drawn length), so the node is made to hear nothing until then. Every link into it is cut (those
 * the reader had not cut already), and the session restores them at the gate after its timer
 * fires; the node then runs its election as it would after losing its leader.
 */
function timeout(ctx: ActionContext, node: number): void {
  const c = ctx.cluster;
  const { role } = c.state(node);
  if (role === "dead") throw new ActionError(`n${node} is down: it has no timer`);
  if (role === "leader") throw new ActionError(`n${node} leads: a leader has no election timer`);
  const cuts: [number, number][] = c.ids
    .filter((from) => from !== node && !ctx.cutLinks.has(`${from}>${node}`))
    .map((from) => [from, node]);
  c.note(`the reader times out n${node}: it hears nothing until its election timer fires`);
  for (const [from, to] of cuts) c.cut(from, to);
  ctx.starve(node, cuts);
}

function submit(ctx: ActionContext, node: number, command: string): void {
  const c = ctx.cluster;
  if (ctx.info.commands !== "submit" || c.submitToServer === undefined) {
    throw new ActionError(
      ctx.info.commands === "kv"
        ? "part 4 on: use a client's put, get or append"
        : `${ctx.info.name} has no log to submit to (commands come in part 2)`,
    );
  }
  const target = node >= 0 ? node : leaderOf(c);
  if (target === undefined) {
    c.note(`the reader submits ${JSON.stringify(command)}, but no node leads now`);
    return;
  }
  c.submitToServer(target, command);
}

/** The live node that leads the highest term, if any. */
function leaderOf(c: SimClusterLike): number | undefined {
  let best: { id: number; term: number } | undefined;
  for (const id of c.ids) {
    const s = c.state(id);
    if (s.role === "leader" && (best === undefined || s.currentTerm > best.term)) {
      best = { id, term: s.currentTerm };
    }
  }
  return best?.id;
}

function kv(ctx: ActionContext, a: Extract<Action, { client: string }>): void {
  const c = ctx.cluster;
  if (ctx.info.commands !== "kv" || c.client === undefined) {
    throw new ActionError(
      `${ctx.info.name} has no key/value store (it comes in part 4): submit a command instead`,
    );
  }
  if (a.key === "") throw new ActionError("a key cannot be empty");
  // One client per name: its requests are numbered, and the store runs each number once.
  const client = ctx.kvClient(a.client);
  ctx.queueKv(a.client, () =>
    a.kind === "get" ? client.get(a.key) : client[a.kind](a.key, a.value),
  );
}

/** One line for the reader: what the action was. */
export function describeAction(a: Action): string {
  switch (a.kind) {
    case "heal":
      return "heal the network";
    case "partition":
      return `partition ${a.groups.map((g) => `{${g.map((n) => `n${n}`).join(" ")}}`).join(" ")}`;
    case "cut":
      return `cut n${a.from} → n${a.to}`;
    case "uncut":
      return `restore n${a.from} → n${a.to}`;
    case "slow":
      return `slow n${a.from} → n${a.to} by ${a.ms} ms`;
    case "loss":
      return `message loss ${a.percent}%`;
    case "submit":
      return `submit ${JSON.stringify(a.command)} to ${a.node < 0 ? "the leader" : `n${a.node}`}`;
    case "get":
      return `${a.client}: get ${a.key}`;
    case "put":
    case "append":
      return `${a.client}: ${a.kind} ${a.key} ${JSON.stringify(a.value)}`;
    case "timeout":
      return `time out n${a.node}`;
    case "transfer":
      return `transfer leadership to n${a.node}`;
    case "read":
      return `read on n${a.node}`;
    default:
      return `${a.kind} n${a.node}`;
  }
}
