// Jepsen etcd logs (register model): the jepsen.util lines of invocations and completions, paired
// per process into operations; every other line of the log is ignored.

import type { Operation } from "../history.ts";
import type { Scalar } from "../models/decode.ts";
import type { RegisterInput, RegisterOutput } from "../models/register.ts";
import { type Edn, isKeyword, readEdnOr } from "./edn.ts";
import { nonBlankLines } from "./lines.ts";
import { Pairing } from "./pairing.ts";

/** `INFO  jepsen.util - <process> :<type> :<f> <value>`, separated by tabs or spaces. */
const EVENT = /jepsen\.util - (\S+)\s+:(invoke|ok|fail|info)\s+:(read|write|cas)(?:\s+(.*))?$/;

type Log = Pairing<RegisterInput, RegisterOutput>;

function registerValue(v: Edn, log: Log, line: number): Scalar {
  if (v === null || typeof v === "number") return v;
  return log.fail(line, `expected an integer or nil, got ${JSON.stringify(v)}`);
}

function input(f: string, value: Edn, log: Log, line: number): RegisterInput {
  if (f === "read") return { op: "read" };
  if (f === "write") return { op: "write", value: registerValue(value, log, line) };
  if (!Array.isArray(value) || value.length !== 2) log.fail(line, "cas needs a value [from to]");
  return {
    op: "cas",
    from: registerValue(value[0]!, log, line),
    to: registerValue(value[1]!, log, line),
  };
}

function completion(log: Log, line: number, type: string, f: string, value: Edn, process: string) {
  const op = log.inFlight(process, line);
  if (op.input.op !== f) log.fail(line, `:${f} completes a :${op.input.op} (line ${op.line})`);
  if (type === "info" || (type === "fail" && f === "read")) log.abandon(process, line);
  else if (type === "fail" && f === "cas") log.complete(process, line, { ok: false });
  else if (type === "fail") log.drop(process, line);
  else if (f === "read") log.complete(process, line, { value: registerValue(value, log, line) });
  else log.complete(process, line, f === "cas" ? { ok: true } : {});
}

/** The event's value; an event that needs one and has none is named, with what was expected. */
function eventValue(
  text: string | undefined,
  type: string,
  f: string,
  log: Log,
  line: number,
): Edn {
  if (text !== undefined && text.trim() !== "") return readEdnOr(text, (m) => log.fail(line, m));
  if (type === "invoke" && f === "write")
    log.fail(line, "the :invoke :write has no value (the value written)");
  if (type === "invoke" && f === "cas") log.fail(line, "the :invoke :cas has no value ([from to])");
  if (type === "ok" && f === "read")
    log.fail(line, "the :ok :read has no value (the value read, or nil)");
  return null;
}

/**
 * A Jepsen log of one register. `:fail :cas` is a completed cas that did not swap; `:info` (and a
 * timed-out read) never returns, so its outcome is unknown. Lines that are not jepsen.util events
 * are other log output and are ignored; an event line that cannot be read is an error.
 */
export function parseJepsen(
  file: string,
  text: string,
): Operation<RegisterInput, RegisterOutput>[] {
  const log: Log = new Pairing(file);
  for (const { raw, line } of nonBlankLines(text)) {
    if (!raw.includes("jepsen.util")) continue;
    const m = EVENT.exec(raw);
    if (m === null) log.fail(line, "cannot read this jepsen.util event");
    const [, process, type, f, valueText] = m as unknown as (string | undefined)[];
    const value = eventValue(valueText, type!, f!, log, line);
    if (type === "invoke") log.invoke(process!, line, input(f!, value, log, line));
    else completion(log, line, type!, f!, isKeyword(value) ? null : value, process!);
  }
  return log.finish();
}
