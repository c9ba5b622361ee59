// Pairs invocation and completion lines into operations, for the two log formats that write them
// apart (Jepsen's and the kv logs).

import { HistoryError, type Operation } from "../history.ts";

/**
 * Logs that record invocations and completions as separate lines (Jepsen's, the kv logs) are
 * paired up per client here: a client has at most one operation in flight. Time is the line
 * number, which preserves the only thing that matters, the real-time order of events.
 */
export class Pairing<I, O> {
  private readonly file: string;
  private readonly open = new Map<string, Operation<I, O>>();
  private readonly ops: Operation<I, O>[] = [];

  constructor(file: string) {
    this.file = file;
  }

  invoke(client: string, line: number, input: I): void {
    const inFlight = this.open.get(client);
    if (inFlight) {
      this.fail(
        line,
        `client ${client} invokes again before its call on line ${inFlight.line} returned`,
      );
    }
    const op: Operation<I, O> = {
      id: -1,
      client,
      call: line,
      ret: undefined,
      input,
      output: undefined,
      line,
    };
    this.open.set(client, op);
    this.ops.push(op);
  }

  /** The operation's response: it returns `output` at this line. */
  complete(client: string, line: number, output: O): void {
    const op = this.take(client, line);
    op.ret = line;
    op.output = output;
  }

  /** The client never hears back (timed out): the operation stays pending forever. */
  abandon(client: string, line: number): void {
    this.take(client, line);
  }

  /** The operation certainly did not take effect: it leaves the history. */
  drop(client: string, line: number): void {
    const op = this.take(client, line);
    this.ops.splice(this.ops.indexOf(op), 1);
  }

  /** The in-flight operation of `client`, for a completion line that repeats its input. */
  inFlight(client: string, line: number): Operation<I, O> {
    return (
      this.open.get(client) ??
      this.fail(line, `client ${client} completes an operation it never invoked`)
    );
  }

  /** Operations still open at the end never returned: they stay pending. */
  finish(): Operation<I, O>[] {
    if (this.ops.length === 0) throw new HistoryError(this.file, 0, "no operations in the history");
    this.ops.forEach((op, i) => {
      op.id = i;
    });
    return this.ops;
  }

  fail(line: number, message: string): never {
    throw new HistoryError(this.file, line, message);
  }

  private take(client: string, line: number): Operation<I, O> {
    const op = this.inFlight(client, line);
    this.open.delete(client);
    return op;
  }
}
