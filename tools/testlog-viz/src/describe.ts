// Turns one event into the short line a reader sees in its cell. The words of a known kind are
// the part's own sentence (kinds.ts); what the viz adds is the tone of the row, and every detail
// field the sentence cannot know about, as key=value, so fields and kinds added by later parts
// are never hidden.

import { declaredFields, sentence } from "./kinds.ts";
import { readableCommand, readablePayload } from "./readable.ts";
import type { Details, TraceEvent } from "./trace.ts";

/**
 * How a row should stand out: failures in red, passes in green, lost messages greyed, a
 * violation the test provoked on purpose ("expected", set by the model from test.end) in amber,
 * and a leader's report that a follower lost data it had acknowledged (part 5's `data.lost`)
 * red across the whole row ("alarm"): not a failure of this code, but what no one may miss.
 */
export type Tone = "plain" | "bad" | "good" | "muted" | "expected" | "alarm";

export interface Description {
  text: string;
  tone: Tone;
}

type Known = Extract<TraceEvent, { known: true }>;

/** `sentenceOf` is the part's sentence; tests pass another to see what a failing one does. */
export function describe(
  event: TraceEvent,
  sentenceOf: (e: Known) => string = sentence,
): Description {
  if (!event.known) return { text: formatFields(event.details, []), tone: "plain" };
  // part 4's process.start sentence names every field a process adds (seed, run, …) itself
  const extra =
    event.kind === "process.start" ? "" : formatFields(event.details, declaredFields(event.kind));
  let text: string;
  try {
    text = sentenceOf(event);
  } catch (error) {
    // The page must open whatever one sentence does; the fields still say what happened.
    const why = error instanceof Error ? error.message : String(error);
    return {
      text: `${formatFields(event.details, [])}  (no sentence: ${why})`,
      tone: toneOf(event),
    };
  }
  text = readableValues(event, text);
  return { text: extra === "" ? text : `${text}  ${extra}`, tone: toneOf(event) };
}

/**
 * The part's sentence with the JSON values it embeds (a message's payload, log entries'
 * commands) read as words (readable.ts). Each is swapped where the sentence holds its exact
 * JSON, so a sentence that words them itself is left as it is.
 */
function readableValues(event: Known, text: string): string {
  const swap = (value: unknown, words: string) => {
    const json = JSON.stringify(value);
    return json === undefined ? text : text.split(json).join(words);
  };
  switch (event.kind) {
    case "send":
    case "deliver":
    case "drop": {
      const { rpc, type, payload } = event.details;
      return swap(payload, `(${readablePayload(rpc, type, payload)})`);
    }
    case "log.append":
      for (const { command } of event.details.entries)
        text = swap(command, readableCommand(command));
      return text;
    case "apply":
    case "submit":
      return swap(event.details.command, readableCommand(event.details.command));
    default:
      return text;
  }
}

function toneOf(event: Known): Tone {
  switch (event.kind) {
    case "test.end":
      return event.details.result === "pass" ? "good" : "bad";
    case "check":
      return event.details.ok ? "plain" : "bad";
    case "violation":
      return "bad";
    case "data.lost":
      return "alarm";
    case "drop":
    case "rpc.error":
      return "muted";
    default:
      return "plain";
  }
}

/** `key=value` for every field not in `skip`. */
function formatFields(details: Details, skip: string[]): string {
  return Object.entries(details)
    .filter(([key]) => !skip.includes(key))
    .map(([key, value]) => `${key}=${formatValue(value)}`)
    .join(" ");
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
