// The register model: one register (read, write, cas), as in Jepsen's etcd tests, whose logs make up
// most of the corpus (test/corpus).

import type { Model } from "../model.ts";
import { object, opName, result, type Scalar, scalar, show } from "./decode.ts";
import { deterministicStep, type Effect, sameResult } from "./deterministic.ts";

/** A single register; null means "no value yet", which is how it starts. */
export type RegisterState = Scalar;

export type RegisterInput =
  | { op: "read" }
  | { op: "write"; value: Scalar }
  | { op: "cas"; from: Scalar; to: Scalar };

/** read returns `value`, cas returns `ok` (whether it swapped), write returns nothing. */
export interface RegisterOutput {
  value?: Scalar;
  ok?: boolean;
}

export function applyRegister(
  state: RegisterState,
  input: RegisterInput,
): Effect<RegisterState, RegisterOutput> {
  switch (input.op) {
    case "read":
      return { output: { value: state }, next: state };
    case "write":
      return { output: {}, next: input.value };
    case "cas": {
      const swapped = state === input.from;
      return { output: { ok: swapped }, next: swapped ? input.to : state };
    }
  }
}

function decodeInput(json: unknown): RegisterInput {
  const obj = object(json, "input");
  const op = opName(obj, ["read", "write", "cas"] as const);
  if (op === "read") return { op };
  if (op === "write") return { op, value: scalar(obj, "value") };
  return { op, from: scalar(obj, "from"), to: scalar(obj, "to") };
}

function decodeOutput(input: RegisterInput, json: unknown): RegisterOutput {
  return result(
    json,
    input.op === "read" ? "value" : input.op === "cas" ? "ok" : "nothing",
    scalar,
  );
}

function describeOperation(input: RegisterInput, output: RegisterOutput | undefined): string {
  const result = (text: string) => (output === undefined ? " -> ?" : ` -> ${text}`);
  switch (input.op) {
    case "read":
      return `read()${result(show(output?.value ?? null))}`;
    case "write":
      return `write(${show(input.value)})${output === undefined ? " -> ?" : ""}`;
    case "cas":
      return `cas(${show(input.from)}, ${show(input.to)})${result(String(output?.ok))}`;
  }
}

export const registerModel: Model<RegisterState, RegisterInput, RegisterOutput> = {
  name: "register",
  init: () => null,
  step: deterministicStep(applyRegister, sameResult),
  readOnly: (input, output) => input.op === "read" || (input.op === "cas" && output?.ok === false),
  equal: (a, b) => a === b,
  hash: (state) => (typeof state === "string" ? `s${state}` : String(state)),
  describeOperation,
  describeState: (state) => show(state),
  decodeInput,
  decodeOutput,
};
