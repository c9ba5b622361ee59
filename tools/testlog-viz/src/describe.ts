// Turns one event into the short line a reader sees in its cell.
// Known kinds get a sentence; every detail field a formatter does not use is appended as
// key=value, so kinds and fields added by later parts are never hidden.

import type { Details, TraceEvent } from "./trace.ts";

/** How a row should stand out: failures in red, passes in green, lost messages greyed. */
export type Tone = "plain" | "bad" | "good" | "muted";

export interface Description {
  text: string;
  tone: Tone;
}

/** Reads detail fields and remembers which ones were used. */
class Fields {
  readonly used = new Set<string>();
  readonly details: Details;
  constructor(details: Details) {
    this.details = details;
  }
  get(key: string): unknown {
    this.used.add(key);
    return this.details[key];
  }
  str(key: string): string {
    const value = this.get(key);
    return value === undefined ? "?" : formatValue(value);
  }
  node(key: string): string {
    return `n${this.str(key)}`;
  }
  /** The remaining fields, which the sentence did not mention. */
  rest(): string {
    return Object.entries(this.details)
      .filter(([key]) => !this.used.has(key))
      .map(([key, value]) => `${key}=${formatValue(value)}`)
      .join(" ");
  }
}

type Formatter = (f: Fields) => string | [string, Tone];

const reason = (f: Fields) => (f.details.reason === undefined ? "" : ` (${f.str("reason")})`);

const message = (arrow: string, peer: string) => (f: Fields) => {
  const isReply = f.get("type") === "reply";
  // a drop names only its own message; the reply it carried links to the request anyway
  const answers =
    isReply && f.details.request !== undefined ? ` (answers #${f.str("request")})` : "";
  const dup = f.get("duplicate") === true ? " (duplicate)" : "";
  f.get("heartbeat"); // shown by the row's heartbeat marker instead
  const payload = f.details.payload === undefined ? "" : ` ${f.str("payload")}`;
  const what = `${f.str("rpc")}${isReply ? " reply" : ""} #${f.str("msg")}`;
  return `${arrow} ${f.node(peer)} ${what}${answers}${dup}${payload}`;
};

const onNode = (verb: string) => (f: Fields) => `${verb} ${f.node("node")}`;

const FORMATTERS = new Map<string, Formatter>(
  Object.entries({
    "test.start": (f) => {
      // the page header shows these; the row keeps only what describes the cluster
      for (const key of ["file", "part", "replay", "render"]) f.get(key);
      return `test "${f.str("test")}" starts: seed ${f.str("seed")}, nodes ${f.str("nodes")}`;
    },
    "test.end": (f) =>
      f.get("result") === "pass"
        ? ["PASS", "good"]
        : [`FAIL${f.details.error === undefined ? "" : `: ${f.str("error")}`}`, "bad"],
    role: (f) => `${f.str("from")} → ${f.str("to")}${reason(f)}`,
    term: (f) => `term ${f.str("from")} → ${f.str("to")}${reason(f)}`,
    "election.timeout": (f) => `election timeout after ${f.str("timeoutMs")}ms`,
    vote: (f) =>
      `${f.get("granted") === true ? "votes for" : "refuses"} ${f.node("candidate")} ` +
      `in term ${f.str("candidateTerm")}${reason(f)}`,
    "vote.reply": (f) =>
      `${f.get("granted") === true ? "vote granted" : "vote refused"} by ${f.node("from")}, ` +
      `${f.str("votes")} of ${f.str("needed")} needed`,
    send: message("→", "to"),
    deliver: message("←", "from"),
    drop: (f) => [`${message("✕ →", "to")(f)} dropped${reason(f)}`, "muted"],
    isolate: onNode("isolate"),
    reconnect: onNode("reconnect"),
    crash: onNode("crash"),
    restart: onNode("restart"),
    partition: (f) => {
      const groups = f.get("groups");
      const text = Array.isArray(groups) ? groups.map(formatValue).join(" | ") : "?";
      return `partition ${text}`;
    },
    cut: (f) => `cut link ${f.node("from")} → ${f.node("to")}`,
    uncut: (f) => `restore link ${f.node("from")} → ${f.node("to")}`,
    check: (f) => {
      const ok = f.get("ok") === true;
      const outcome = f.details.error !== undefined ? f.str("error") : f.str("result");
      return [`${ok ? "✓" : "✗"} ${f.str("name")}: ${outcome}`, ok ? "plain" : "bad"];
    },
    violation: (f) => [`VIOLATION of ${f.str("invariant")}: ${f.str("message")}`, "bad"],
    note: (f) => f.str("text"),
    "reply.stale": (f) => `ignores stale ${f.str("rpc")} reply from ${f.node("from")}${reason(f)}`,
    "rpc.error": (f) => [
      `${f.str("rpc")} #${f.str("msg")} to ${f.node("to")} failed: ${f.str("error")}`,
      "muted",
    ],
  } satisfies Record<string, Formatter>),
);

/** Harness events carry these for the lane marks; the text need not repeat them. */
const SHOWN_ELSEWHERE = ["cutOff", "dead"];

export function describe(event: TraceEvent): Description {
  const fields = new Fields(event.details);
  for (const key of SHOWN_ELSEWHERE) if (event.node === null) fields.used.add(key);
  // A Map, not an object: a kind named like an Object.prototype member must not match.
  const out = FORMATTERS.get(event.kind)?.(fields) ?? "";
  const [sentence, tone] = typeof out === "string" ? [out, "plain" as Tone] : out;
  // Unknown kinds: the views show the kind next to the text, so the text is just the fields.
  const text = [sentence, fields.rest()].filter((s) => s !== "").join("  ");
  return { text, tone };
}

/** Compact JSON-like text for a detail value: strings bare, objects without quoted keys. */
export function formatValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return `[${value.map(formatNested).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const inner = Object.entries(value).map(([k, v]) => `${k}:${formatNested(v)}`);
    return `{${inner.join(" ")}}`;
  }
  return String(value);
}

function formatNested(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : formatValue(value);
}
