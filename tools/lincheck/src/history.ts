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
  /** Line of the input file the operation was read from (its invocation), for messages. */
  line: number;
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
