// Histories that are linearizable by construction, from a seed: the property tests check that
// every one is accepted (and that a corrupted response is judged as brute force judges it), and the
// benchmark times a large one. Not used by the checker itself.

import type { Operation } from "./history.ts";
import type { Model } from "./model.ts";
import type { Effect } from "./models/deterministic.ts";
import { applyKv, type KvInput, kvModel } from "./models/kv.ts";
import { applyRegister, type RegisterInput, registerModel } from "./models/register.ts";

/** mulberry32: a tiny seeded generator, so every simulated history can be replayed from its seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SimOptions {
  model: "kv" | "register";
  clients: number;
  operations: number;
  /** kv only: how many keys. */
  keys?: number;
  /** Probability that a client never hears back (the operation then happened or not, at random). */
  timeoutRate?: number;
  seed: number;
}

type Rng = () => number;
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;

/** Few distinct values, so reads and cas often depend on which write came first. */
const VALUES = ["a", "b", "c"];

function kvInput(rng: Rng, keys: number): KvInput {
  const key = `k${Math.floor(rng() * keys)}`;
  const value = pick(rng, VALUES);
  switch (pick(rng, ["get", "get", "put", "append", "delete", "cas"] as const)) {
    case "get":
      return { op: "get", key };
    case "put":
      return { op: "put", key, value };
    case "append":
      return { op: "append", key, value };
    case "delete":
      return { op: "delete", key };
    case "cas":
      return { op: "cas", key, expected: pick(rng, [null, ...VALUES]), value };
  }
}

function registerInput(rng: Rng): RegisterInput {
  const value = () => Math.floor(rng() * 3);
  const kind = pick(rng, ["read", "read", "write", "cas"] as const);
  if (kind === "read") return { op: "read" };
  if (kind === "write") return { op: "write", value: value() };
  return { op: "cas", from: pick(rng, [null, value()]), to: value() };
}

interface Sim {
  model: Model;
  input: (rng: Rng) => unknown;
  apply: (state: unknown, input: unknown) => Effect<unknown, unknown>;
}

function sim(options: SimOptions): Sim {
  if (options.model === "register") {
    return { model: registerModel, input: registerInput, apply: applyRegister as Sim["apply"] };
  }
  const keys = options.keys ?? 5;
  return { model: kvModel, input: (rng) => kvInput(rng, keys), apply: applyKv as Sim["apply"] };
}

interface Planned {
  op: Operation;
  /** When the store applies it: strictly inside [call, return]. */
  effectAt: number;
  happens: boolean;
}

function plan(options: SimOptions, rng: Rng, input: (rng: Rng) => unknown): Planned[] {
  const clock = new Array<number>(options.clients).fill(0);
  const names = clock.map((_, c) => `${c}`);
  const planned: Planned[] = [];
  for (let id = 0; id < options.operations; id++) {
    const c = Math.floor(rng() * options.clients);
    const call = clock[c]! + Math.floor(rng() * 3);
    const ret = call + 1 + Math.floor(rng() * 6);
    const lost = rng() < (options.timeoutRate ?? 0);
    const op: Operation = {
      id,
      client: names[c]!,
      call,
      ret,
      input: input(rng),
      output: undefined,
      line: id + 1,
    };
    planned.push({ op, effectAt: call + rng() * (ret - call), happens: !lost || rng() < 0.5 });
    clock[c] = ret;
    if (lost) {
      // Like Jepsen, a client that timed out is replaced by a fresh one.
      op.ret = undefined;
      names[c] = `${c}.${id}`;
    }
  }
  return planned;
}

/**
 * A history from a store that is linearizable by construction: each operation takes effect at one
 * instant inside its interval, in that order. With timeouts, a client never hears back, and the
 * operation took effect or did not, at random.
 */
export function simulate(options: SimOptions): { model: Model; operations: Operation[] } {
  const rng = random(options.seed);
  const { model, input, apply } = sim(options);
  const planned = plan(options, rng, input);
  const states = new Map<string | null, unknown>();
  for (const p of [...planned].sort((a, b) => a.effectAt - b.effectAt)) {
    if (!p.happens) continue;
    const key = model.partitionKey?.(p.op.input) ?? null;
    const effect = apply(states.has(key) ? states.get(key) : model.init(), p.op.input);
    states.set(key, effect.next);
    if (p.op.ret !== undefined) p.op.output = effect.output;
  }
  return { model, operations: planned.map((p) => p.op) };
}
