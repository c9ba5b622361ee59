// A trace as a file (JSON lines, docs/trace-format.md), and its fingerprint: the SHA-256 of those
// lines, computed the same way in the browser and in Node (WebCrypto is in both).

import type { TraceEventLike } from "./types.ts";

export function jsonLines(events: readonly TraceEventLike[]): string {
  return events.map((e) => `${JSON.stringify(e)}\n`).join("");
}

export async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The fingerprint the tests compare across runtimes. */
export function traceHash(events: readonly TraceEventLike[]): Promise<string> {
  return sha256(jsonLines(events));
}

/**
 * The file a reader downloads: the trace, closed with a test.end line (the session's verdict so
 * far) so that `pnpm viz` reads it as a finished run. The trace's own events are unchanged.
 */
export function downloadText(
  events: readonly TraceEventLike[],
  verdict: { failed: boolean; error?: string },
): string {
  const last = events.at(-1);
  if (last?.kind === "test.end") return jsonLines(events);
  const t = last?.t ?? 0;
  const details = verdict.failed
    ? { result: "fail", error: verdict.error ?? "failed" }
    : { result: "pass" };
  return jsonLines([
    ...events,
    { t, node: null, term: null, role: null, kind: "test.end", details },
  ]);
}
