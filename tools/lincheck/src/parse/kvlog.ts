// The kv logs of the corpus (kv model): one EDN map per line, invocations and completions paired
// per process into operations.

import type { Operation } from "../history.ts";
import type { KvInput, KvOutput } from "../models/kv.ts";
import { type Edn, isKeyword, readEdnOr } from "./edn.ts";
import { nonBlankLines } from "./lines.ts";
import { Pairing } from "./pairing.ts";

type Log = Pairing<KvInput, KvOutput>;

function field(map: Map<string, Edn>, name: string, log: Log, line: number): Edn {
  if (!map.has(name)) log.fail(line, `missing :${name}`);
  return map.get(name)!;
}

function keywordField(map: Map<string, Edn>, name: string, log: Log, line: number): string {
  const v = field(map, name, log, line);
  return isKeyword(v) ? v.keyword : log.fail(line, `:${name} must be a keyword`);
}

function stringField(map: Map<string, Edn>, name: string, log: Log, line: number): string {
  const v = field(map, name, log, line);
  return typeof v === "string" ? v : log.fail(line, `:${name} must be a string`);
}

function input(f: string, map: Map<string, Edn>, log: Log, line: number): KvInput {
  const key = stringField(map, "key", log, line);
  if (f === "get") return { op: "get", key };
  if (f === "put" || f === "append")
    return { op: f, key, value: stringField(map, "value", log, line) };
  return log.fail(line, `unknown :f :${f} (expected :get, :put or :append)`);
}

function event(log: Log, line: number, map: Map<string, Edn>): void {
  const process = String(field(map, "process", log, line));
  const type = keywordField(map, "type", log, line);
  const f = keywordField(map, "f", log, line);
  if (type === "invoke") {
    log.invoke(process, line, input(f, map, log, line));
    return;
  }
  const op = log.inFlight(process, line);
  if (op.input.op !== f) log.fail(line, `:${f} completes a :${op.input.op} (line ${op.line})`);
  if (type === "info") log.abandon(process, line);
  else if (type === "fail") log.drop(process, line);
  else if (type === "ok") {
    log.complete(process, line, f === "get" ? { value: stringField(map, "value", log, line) } : {});
  } else log.fail(line, `unknown :type :${type}`);
}

/**
 * The key/value logs: one EDN map per line,
 * `{:process P, :type :invoke|:ok|:fail|:info, :f :get|:put|:append, :key "K", :value V}`.
 * `:info` never returns (outcome unknown); `:fail` certainly did not happen and is left out.
 */
export function parseKvLog(file: string, text: string): Operation<KvInput, KvOutput>[] {
  const log: Log = new Pairing(file);
  for (const { raw, line } of nonBlankLines(text)) {
    const value = readEdnOr(raw, (message) => log.fail(line, message));
    if (!(value instanceof Map)) log.fail(line, "expected a map {:process ...}");
    event(log, line, value);
  }
  return log.finish();
}
