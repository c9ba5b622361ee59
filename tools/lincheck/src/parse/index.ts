// Reading a history file: recognises its format from the first line that says anything (or is
// told it), and hands the text to that format's parser. Every error is a HistoryError naming the file
// and the line.

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

const FORMAT_NAMES: Record<Format, string> = {
  json: "a lincheck JSON history",
  jepsen: "a Jepsen log",
  kv: "a kv log",
};

/** The format the first line that says anything looks like, if any, and that line's number. */
function sniff(text: string): { format: Format | undefined; line: number } | undefined {
  const [firstLine] = nonBlankLines(text);
  if (firstLine === undefined) return undefined;
  const { raw: first, line } = firstLine;
  if (first.includes("jepsen.util")) return { format: "jepsen", line };
  if (/^\s*\{\s*:/.test(first)) return { format: "kv", line };
  if (/^\s*\{\s*"/.test(first)) return { format: "json", line };
  return { format: undefined, line };
}

/** Recognise the format from the first line that says anything. */
export function detectFormat(file: string, text: string): Format {
  const seen = sniff(text);
  if (seen === undefined) throw new HistoryError(file, 0, "the file is empty");
  if (seen.format !== undefined) return seen.format;
  throw new HistoryError(
    file,
    seen.line,
    "unrecognised format (expected lincheck JSON lines, a Jepsen log or a kv log)",
  );
}

/**
 * The format to read the file as. A forced format is for a file whose first line does not say
 * (a Jepsen log that starts with other output); one that contradicts a first line that does say
 * is a mistake worth naming, rather than a parse of every line as the wrong thing.
 */
function formatOf(file: string, text: string, forced: Format | undefined): Format {
  if (forced === undefined) return detectFormat(file, text);
  const seen = sniff(text);
  if (seen?.format !== undefined && seen.format !== forced) {
    throw new HistoryError(
      file,
      seen.line,
      `--format ${forced} does not match the file: this line looks like ${FORMAT_NAMES[seen.format]}, ` +
        `not ${FORMAT_NAMES[forced]} (leave --format out to read it as it is)`,
    );
  }
  return forced;
}

export function parseHistory(file: string, text: string, format?: Format): History {
  switch (formatOf(file, text, format)) {
    case "json":
      return { file, ...parseJsonHistory(file, text) };
    case "jepsen":
      return { file, model: registerModel, operations: parseJepsen(file, text) };
    case "kv":
      return { file, model: kvModel, operations: parseKvLog(file, text) };
  }
}

/** What a file that cannot be read gets, in words, beside the system's code. */
const UNREADABLE: Record<string, string> = {
  ENOENT: "no such file",
  EISDIR: "a folder, not a history file",
  EACCES: "permission denied",
};

export function readHistory(file: string, format?: Format): History {
  return readHistoryFile(file, file, format);
}

/** readHistory, reading `path` but naming the file `name` (as the user typed it) in messages. */
export function readHistoryFile(path: string, name: string, format?: Format): History {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    const words = UNREADABLE[code];
    throw new HistoryError(name, 0, `cannot read: ${code}${words ? ` (${words})` : ""}`);
  }
  return parseHistory(name, text, format);
}
