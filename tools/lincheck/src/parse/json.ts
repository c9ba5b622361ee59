// lincheck's own format, JSON Lines: the one the README documents and a program writes.

import { HistoryError, type Operation, shapeOf } from "../history.ts";
import type { Model } from "../model.ts";
import { object } from "../models/decode.ts";
import { modelNamed, models } from "../models/index.ts";
import { nonBlankLines } from "./lines.ts";

/**
 * lincheck's own format, JSON Lines: a header line `{"model": "kv"}`, then one operation per line,
 * `{"client": "c1", "call": 0, "return": 3, "input": {...}, "output": {...}}`. An operation whose
 * client never heard back has `"return": null` (or no "return") and no "output".
 */
export function parseJsonHistory(
  file: string,
  text: string,
): { model: Model; operations: Operation[] } {
  let model: Model | undefined;
  const operations: Operation[] = [];
  for (const { raw, line } of nonBlankLines(text)) {
    try {
      const obj = object(JSON.parse(raw), "each line");
      if (model === undefined) model = header(obj);
      else operations.push(operation(model, obj, operations.length, line));
    } catch (e) {
      throw new HistoryError(file, line, (e as Error).message);
    }
  }
  if (model === undefined) throw new HistoryError(file, 0, "empty history: no header line");
  if (operations.length === 0) throw new HistoryError(file, 0, "no operations in the history");
  return { model, operations };
}

function header(obj: Record<string, unknown>): Model {
  const model = typeof obj.model === "string" ? modelNamed(obj.model) : undefined;
  if (model === undefined) {
    const names = Object.keys(models).join(", ");
    throw new Error(`the first line must be {"model": ...} naming one of ${names}`);
  }
  return model;
}

function operation(
  model: Model,
  obj: Record<string, unknown>,
  id: number,
  line: number,
): Operation {
  const shape = shapeOf(obj.client, obj.call, obj.return, obj.output !== undefined);
  if (obj.input === undefined) throw new Error(`"input" is missing: the operation invoked`);
  const input = model.decodeInput(obj.input);
  const output = shape.ret === undefined ? undefined : model.decodeOutput(input, obj.output);
  return { id, ...shape, input, output, line };
}
