// A history, as the checker sees it: numbered operations, each an invocation and (unless the
// client never heard back) a response. The parsers and historyFrom build one; shapeOf holds the
// rules both share, so a record made in code is held to exactly what a line of a file is.

import type { Model } from "./model.ts";

/** One client operation: an invocation and, unless the client never heard back, a response. */
export interface Operation<I = unknown, O = unknown> {
  /** Index in the history, 0-based; stable across partitions. */
  id: number;
  client: string;
  /** Invocation time. */
  call: number;
  /** Response time, or undefined when the outcome is unknown (timed out, crashed client). */
  ret: number | undefined;
  input: I;
  /** The observed output; undefined exactly when `ret` is. */
  output: O | undefined;
  /** Line of the input file the operation was read from (its invocation), for messages; absent
   * for an operation recorded in code. */
  line?: number;
}

export interface History {
  file: string;
  model: Model;
  operations: Operation[];
}

/**
 * Bad input: always names the file and the line, so a user can go and look. Line 0 means the
 * file as a whole (it cannot be read, or is empty).
 */
export class HistoryError extends Error {
  readonly file: string;
  readonly line: number;

  constructor(file: string, line: number, message: string) {
    super(line > 0 ? `${file}:${line}: ${message}` : `${file}: ${message}`);
    this.name = "HistoryError";
    this.file = file;
    this.line = line;
  }
}

/**
 * One operation as a program records it (the fields of the JSON format): who invoked it, when, with
 * what input, and, if the client heard back, when and what it saw.
 */
export interface Recorded<I = unknown, O = unknown> {
  client: string | number;
  call: number;
  /** Response time; leave it out (or undefined, or null) when the client never heard back. */
  return?: number | null;
  input: I;
  /** What the client saw: required with `return`, not allowed without it. */
  output?: O;
}

function time(v: unknown, field: string): number {
  if (v === undefined) throw new Error(`"${field}" is missing`);
  if (typeof v === "number" && Number.isFinite(v)) return v;
  throw new Error(`"${field}" must be a number, got ${JSON.stringify(v)}`);
}

/**
 * What the JSON reader and historyFrom both require of an operation besides its input and output:
 * a client, a call time, a return time no earlier (or none), and an output exactly when there is a
 * return. Throws an Error saying what is wrong.
 */
export function shapeOf(
  client: unknown,
  call: unknown,
  ret: unknown,
  hasOutput: boolean,
): { client: string; call: number; ret: number | undefined } {
  if (typeof client !== "string" && typeof client !== "number") {
    throw new Error(`"client" must be a string or a number, got ${JSON.stringify(client)}`);
  }
  const at = time(call, "call");
  const back = ret === undefined || ret === null ? undefined : time(ret, "return");
  if (back !== undefined && back < at)
    throw new Error(`"return" (${back}) is before "call" (${at})`);
  if (back !== undefined && !hasOutput) {
    throw new Error(
      `"output" is missing: an operation with a "return" needs the output the client saw`,
    );
  }
  if (back === undefined && hasOutput) {
    throw new Error(
      `an operation without "return" has an unknown outcome: it cannot have "output"`,
    );
  }
  return { client: String(client), call: at, ret: back };
}

/**
 * A history recorded in code, ready for check(): operations get their index in `records` as id.
 * A bad record is a HistoryError naming it ("operation #3: ..."), never a wrong verdict. Inputs
 * and outputs are taken as they are: TypeScript checks them against the model's types.
 */
export function historyFrom<S, I, O>(
  model: Model<S, I, O>,
  records: readonly Recorded<I, O>[],
  name = "history",
): History {
  if (records.length === 0) throw new HistoryError(name, 0, "no operations in the history");
  const operations = records.map((r, id): Operation => {
    try {
      const shape = shapeOf(r.client, r.call, r.return, r.output !== undefined);
      return {
        id,
        ...shape,
        input: r.input,
        output: shape.ret === undefined ? undefined : r.output,
      };
    } catch (e) {
      throw new HistoryError(name, 0, `operation #${id}: ${(e as Error).message}`);
    }
  });
  return { file: name, model: model as Model, operations };
}
