// The history page: one self-contained HTML file (page.ejs filled with layout.ts's view), which
// draws every operation as a bar on its client's lane and lets a reader step through the partial
// linearizations the search reached, to see where the history breaks.

import { readFileSync } from "node:fs";
import ejs from "ejs";
import type { CheckOptions, CheckResult } from "../check.ts";
import type { History } from "../history.ts";
import { layout } from "./layout.ts";

const TEMPLATE = readFileSync(new URL("./page.ejs", import.meta.url), "utf8");

const VERDICT_TEXT = {
  linearizable: "Linearizable",
  "not-linearizable": "Not linearizable",
  unknown: "Unknown (a limit was reached)",
} as const;

/**
 * JSON to embed in a <script type="application/json"> element: "<" and ">" as escapes, so no
 * text from the history can close the element, and the line separators JavaScript once refused.
 */
function json(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => {
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

/** What renderHtml takes besides the history and its result. */
export interface PageOptions extends CheckOptions {
  /**
   * The href of the test's timeline page (testlog-viz), relative to where this page is written:
   * the page then links to it. part4-kv's test harness writes `X.history.html` beside the trace
   * `X.jsonl`, and dotest.sh renders the trace as `X.html` there, so the href is "X.html"
   * (URL-encoded, as any href).
   */
  timeline?: string;
}

/**
 * One self-contained page: styles, script and data are inline and nothing is fetched, so it
 * opens from file://. Text from the history goes through ejs's escaping <%= %>, or through
 * json() into a data element; <%- %> is used for nothing else. `options` are those the result was
 * checked with (the page searches failing partitions again to show their partial linearizations),
 * and what the page links to.
 */
export function renderHtml(
  history: History,
  result: CheckResult,
  options: PageOptions = {},
): string {
  const page = layout(history, result, options);
  return ejs.render(TEMPLATE, {
    file: history.file,
    timeline: options.timeline,
    verdict: result.verdict,
    verdictText: VERDICT_TEXT[result.verdict],
    modelName: history.model.name,
    operationCount: history.operations.length,
    elapsed: `${result.elapsedMs.toFixed(1)} ms`,
    page,
    json,
  });
}
