import type { History } from "../src/history.ts";
import { kvModel } from "../src/models/kv.ts";
import { ops } from "./build.ts";

export const hostile = "<script>window.__pwned = 1</script>";

/** A history whose key, values and client name are all markup, and which is not linearizable. */
export function hostileHistory(): History {
  const operations = ops([
    [hostile, 0, 1, { op: "put", key: hostile, value: `"'&${hostile}` }, {}],
    ["b", 2, 3, { op: "get", key: hostile }, { value: hostile }],
  ]);
  return { file: `${hostile}.jsonl`, model: kvModel, operations };
}
