// The kv model: a key/value store of strings (get, put, append, delete, cas), split per key, which is
// what part4-kv's store is judged against. Writes may report what they replaced ("previous"), which
// the check holds them to.

import type { Model } from "../model.ts";
import { nullableString, object, opName, result, string } from "./decode.ts";
import { deterministicStep, type Effect, sameResult } from "./deterministic.ts";

/**
 * A key/value store of strings. The history is split per key, so a state is the value of one key:
 * null while the key is absent (at the start, and after a delete). The value carries its hash,
 * extended as appends grow it (FNV-1a reads the characters left to right, so the hash of `v + w`
 * continues from the hash of `v`): numbering the states the search meets then never rereads a
 * long value.
 */
export type KvState = null | { readonly value: string; readonly hash: number };

const FNV_OFFSET = 0x811c9dc5 & 0x3fffffff;

/**
 * FNV-1a over `text`, continuing from `hash`, kept to 30 bits so that V8 stores it unboxed (a small
 * integer). Cutting the top bits after each piece of text is the same as cutting them at the end:
 * the low bits of a product depend only on the low bits of its factors.
 */
function fnv(hash: number, text: string): number {
  let h = hash;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h & 0x3fffffff;
}

/** The state holding `text` after `state`'s value (absent counts as ""). */
function appended(state: KvState, text: string): KvState {
  return { value: (state?.value ?? "") + text, hash: fnv(state?.hash ?? FNV_OFFSET, text) };
}

export type KvInput =
  | { op: "get"; key: string }
  | { op: "put"; key: string; value: string }
  | { op: "append"; key: string; value: string }
  | { op: "delete"; key: string }
  /** Set the key to `value` if its current value is `expected` (null: if the key is absent). */
  | { op: "cas"; key: string; expected: string | null; value: string };

/**
 * get returns `value` (an absent key reads as ""), cas returns `ok`, the others nothing. A write
 * (put, append, delete, cas) may also say what it replaced, `previous` (null: the key was absent),
 * as raft-ts's store answers; when it does, the check holds it to that, which pins down the order
 * of concurrent writes that no read observes.
 */
export interface KvOutput {
  value?: string;
  ok?: boolean;
  previous?: string | null;
}

export function applyKv(state: KvState, input: KvInput): Effect<KvState, KvOutput> {
  switch (input.op) {
    case "get":
      return { output: { value: state?.value ?? "" }, next: state };
    case "put":
      return { output: {}, next: appended(null, input.value) };
    case "append":
      return { output: {}, next: appended(state, input.value) };
    case "delete":
      return { output: {}, next: null };
    case "cas": {
      const swapped = (state?.value ?? null) === input.expected;
      return { output: { ok: swapped }, next: swapped ? appended(null, input.value) : state };
    }
  }
}

function decodeInput(json: unknown): KvInput {
  const obj = object(json, "input");
  const op = opName(obj, ["get", "put", "append", "delete", "cas"] as const);
  const key = string(obj, "key");
  if (op === "get" || op === "delete") return { op, key };
  if (op === "cas") {
    return { op, key, expected: nullableString(obj, "expected"), value: string(obj, "value") };
  }
  return { op, key, value: string(obj, "value") };
}

function decodeOutput(input: KvInput, json: unknown): KvOutput {
  const output = result(
    json,
    input.op === "get" ? "value" : input.op === "cas" ? "ok" : "nothing",
    string,
  );
  const obj = object(json, "output");
  if (input.op === "get" || !Object.hasOwn(obj, "previous")) return output;
  return { ...output, previous: nullableString(obj, "previous") };
}

function describeOperation(input: KvInput, output: KvOutput | undefined): string {
  const q = JSON.stringify;
  const unknown = output === undefined ? " -> ?" : "";
  switch (input.op) {
    case "get":
      return `get(${q(input.key)})${unknown || ` -> ${q(output?.value)}`}`;
    case "put":
    case "append":
      return `${input.op}(${q(input.key)}, ${q(input.value)})${unknown}`;
    case "delete":
      return `delete(${q(input.key)})${unknown}`;
    case "cas": {
      const expected = input.expected === null ? "absent" : q(input.expected);
      return `cas(${q(input.key)}, ${expected}, ${q(input.value)})${unknown || ` -> ${output?.ok}`}`;
    }
  }
}

const step = deterministicStep(applyKv, sameResult);

/** The hash of each value an output reports, computed once per output (see holds). */
const seenHashes = new WeakMap<KvOutput, number>();

/**
 * Whether `state` holds `value`, which `seen` reported (a get's value, or what a write replaced),
 * without building anything. The search asks this millions of times, mostly about a value that
 * differs from the state. Comparing two long strings of equal length makes V8 flatten the one an
 * append built, which allocates, so hashes are compared first.
 */
function holds(state: { value: string; hash: number }, value: string, seen: KvOutput): boolean {
  if (state.value.length !== value.length) return false;
  let hash = seenHashes.get(seen);
  if (hash === undefined) {
    hash = fnv(FNV_OFFSET, value);
    seenHashes.set(seen, hash);
  }
  return hash === state.hash && state.value === value;
}

/** Whether a get that returned `seen` could have read `state` (an absent key reads as ""). */
function reads(state: KvState, seen: KvOutput): boolean {
  const value = seen.value ?? "";
  return state === null ? value === "" : holds(state, value, seen);
}

/** Whether a write that said it replaced `seen.previous` (if it said) could have replaced `state`. */
function replaced(state: KvState, seen: KvOutput | undefined): boolean {
  const previous = seen?.previous;
  if (previous === undefined) return true;
  if (previous === null || state === null) return previous === state;
  return holds(state, previous, seen!);
}

export const kvModel: Model<KvState, KvInput, KvOutput> = {
  name: "kv",
  init: () => null,
  step: (state, input, output) => {
    if (input.op === "get")
      return { ok: output === undefined || reads(state, output), next: state };
    const effect = step(state, input, output);
    return replaced(state, output) ? effect : { ok: false, next: effect.next };
  },
  partitionKey: (input) => input.key,
  readOnly: (input, output) => input.op === "get" || (input.op === "cas" && output?.ok === false),
  equal: (a, b) => a === b || (a?.hash === b?.hash && a?.value === b?.value),
  hash: (state) => (state === null ? -1 : state.hash),
  describeOperation,
  describeState: (state) => (state === null ? "(absent)" : JSON.stringify(state.value)),
  decodeInput,
  decodeOutput,
};
