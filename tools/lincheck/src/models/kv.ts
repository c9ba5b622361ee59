import type { Model } from "../model.ts";
import { boolean, nullableString, object, opName, string } from "./decode.ts";
import { deterministicStep, type Effect, sameResult } from "./deterministic.ts";

/**
 * A key/value store of strings. The history is split per key, so a state is the value of one key:
 * null while the key is absent (at the start, and after a delete).
 */
export type KvState = string | null;

export type KvInput =
  | { op: "get"; key: string }
  | { op: "put"; key: string; value: string }
  | { op: "append"; key: string; value: string }
  | { op: "delete"; key: string }
  /** Set the key to `value` if its current value is `expected` (null: if the key is absent). */
  | { op: "cas"; key: string; expected: string | null; value: string };

/** get returns `value` (an absent key reads as ""), cas returns `ok`, the others nothing. */
export interface KvOutput {
  value?: string;
  ok?: boolean;
}

export function applyKv(state: KvState, input: KvInput): Effect<KvState, KvOutput> {
  switch (input.op) {
    case "get":
      return { output: { value: state ?? "" }, next: state };
    case "put":
      return { output: {}, next: input.value };
    case "append":
      return { output: {}, next: (state ?? "") + input.value };
    case "delete":
      return { output: {}, next: null };
    case "cas": {
      const swapped = state === input.expected;
      return { output: { ok: swapped }, next: swapped ? input.value : state };
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
  const obj = object(json, "output");
  if (input.op === "get") return { value: string(obj, "value") };
  if (input.op === "cas") return { ok: boolean(obj, "ok") };
  return {};
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

export const kvModel: Model<KvState, KvInput, KvOutput> = {
  name: "kv",
  init: () => null,
  step: deterministicStep(applyKv, sameResult),
  partitionKey: (input) => input.key,
  equal: (a, b) => a === b,
  hash: (state) => (state === null ? "\u0000absent" : state),
  describeOperation,
  describeState: (state) => (state === null ? "(absent)" : JSON.stringify(state)),
  decodeInput,
  decodeOutput,
};
