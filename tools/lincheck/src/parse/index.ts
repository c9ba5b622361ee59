import { readFileSync } from "node:fs";
import { type History, HistoryError } from "../history.ts";
import { kvModel } from "../models/kv.ts";
import { registerModel } from "../models/register.ts";
import { parseJepsen } from "./jepsen.ts";
import { parseJsonHistory } from "./json.ts";
import { parseKvLog } from "./kvlog.ts";
import { nonBlankLines } from "./lines.ts";

export const formats = ["json", "jepsen", "kv"] as const;
export type Format = (typeof formats)[number];

/** Recognise the format from the first line that says anything. */
export function detectFormat(file: string, text: string): Format {
  const [firstLine] = nonBlankLines(text);
  if (firstLine === undefined) throw new HistoryError(file, 0, "the file is empty");
  const { raw: first, line } = firstLine;
  if (first.includes("jepsen.util")) return "jepsen";
  if (/^\s*\{\s*:/.test(first)) return "kv";
  if (/^\s*\{\s*"/.test(first)) return "json";
  throw new HistoryError(
    file,
    line,
    "unrecognised format (expected lincheck JSON lines, a Jepsen log or a kv log)",
  );
}

export function parseHistory(file: string, text: string, format?: Format): History {
  switch (format ?? detectFormat(file, text)) {
    case "json":
      return { file, ...parseJsonHistory(file, text) };
    case "jepsen":
      return { file, model: registerModel, operations: parseJepsen(file, text) };
    case "kv":
      return { file, model: kvModel, operations: parseKvLog(file, text) };
  }
}

export function readHistory(file: string, format?: Format): History {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new HistoryError(
      file,
      0,
      `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    );
  }
  return parseHistory(file, text, format);
}
