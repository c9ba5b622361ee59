import { readFileSync } from "node:fs";
import ejs from "ejs";
import type { CheckResult } from "../check.ts";
import type { History } from "../history.ts";
import { layout } from "./layout.ts";

const TEMPLATE = readFileSync(new URL("./page.ejs", import.meta.url), "utf8");

const VERDICT_TEXT = {
  linearizable: "Linearizable",
  "not-linearizable": "Not linearizable",
  unknown: "Unknown (budget exhausted)",
} as const;

/**
 * One self-contained page: styles and script are inline and nothing is fetched, so it opens from
 * file://. Every text from the history goes through ejs's escaping <%= %>, never <%- %>.
 */
export function renderHtml(history: History, result: CheckResult): string {
  return ejs.render(TEMPLATE, {
    file: history.file,
    verdict: result.verdict,
    verdictText: VERDICT_TEXT[result.verdict],
    modelName: history.model.name,
    operationCount: history.operations.length,
    elapsed: `${result.elapsedMs.toFixed(1)} ms`,
    partitions: layout(history, result),
  });
}
