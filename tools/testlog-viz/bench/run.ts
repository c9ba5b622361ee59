// pnpm --filter testlog-viz bench: times each stage of rendering a 100,000-event trace.
import { mkdirSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { renderPage } from "../src/html.ts";
import { buildTimeline } from "../src/model.ts";
import { renderText } from "../src/text.ts";
import { parseTrace } from "../src/trace.ts";
import { synthTrace } from "./synth.ts";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);

function timed<T>(label: string, work: () => T): T {
  const started = performance.now();
  const result = work();
  console.log(`${label.padEnd(28)} ${(performance.now() - started).toFixed(0).padStart(6)} ms`);
  return result;
}

const text = synthTrace(EVENTS);
console.log(
  `trace: ${text.split("\n").length - 1} events, ${(text.length / 1e6).toFixed(1)} MB of JSON lines`,
);
const started = performance.now();
const trace = timed("parse", () => parseTrace(text, "synthetic.jsonl"));
const timeline = timed("build timeline", () => buildTimeline(trace));
const html = timed("render HTML page", () => renderPage(timeline));
console.log(
  `${"total (file to page)".padEnd(28)} ${(performance.now() - started).toFixed(0).padStart(6)} ms`,
);
timed("render terminal view", () => renderText(timeline));
const out = new URL("../out/", import.meta.url);
mkdirSync(out, { recursive: true });
writeFileSync(new URL("bench-100k.html", out), html);
console.log(`page: ${(html.length / 1e6).toFixed(1)} MB, written to out/bench-100k.html`);
