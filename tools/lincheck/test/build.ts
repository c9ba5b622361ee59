import type { Operation } from "../src/history.ts";

/** [client, call, return (undefined: no response), input, output] */
export type Row = [string, number, number | undefined, unknown, unknown?];

/** A history from compact rows, for hand-made tests. */
export function ops(rows: Row[]): Operation[] {
  return rows.map(([client, call, ret, input, output], id) => ({
    id,
    client,
    call,
    ret,
    input,
    output: ret === undefined ? undefined : output,
    line: id + 1,
  }));
}
