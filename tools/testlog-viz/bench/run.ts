// pnpm --filter testlog-viz bench: times each stage of rendering a 100,000-event trace, then
// (when a Chromium is installed) how long the page takes to open, refilter and show the state.
import { mkdirSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { chromium } from "playwright-core";
import { pageScript } from "../src/bundle.ts";
import { ClusterModel } from "../src/cluster-model.ts";
import { renderPage } from "../src/html.ts";
import { buildTimeline } from "../src/model.ts";
import { StateReplay } from "../src/state.ts";
import { renderText } from "../src/text.ts";
import { parseTrace } from "../src/trace.ts";
import { findChromium } from "../test/chromium.ts";
import { synthTrace } from "./synth.ts";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);

function report(label: string, ms: number) {
  console.log(`${label.padEnd(40)} ${ms.toFixed(0).padStart(6)} ms`);
}

function timed<T>(label: string, work: () => T): T {
  const started = performance.now();
  const result = work();
  report(label, performance.now() - started);
  return result;
}

async function timedAsync(label: string, work: () => Promise<unknown>) {
  const started = performance.now();
  await work();
  report(label, performance.now() - started);
}

const text = synthTrace(EVENTS);
console.log(
  `trace: ${text.split("\n").length - 1} events, ${(text.length / 1e6).toFixed(1)} MB of JSON lines`,
);
timed("bundle the page script (once a run)", pageScript);
const started = performance.now();
const trace = timed("parse", () => parseTrace(text, "synthetic.jsonl"));
if (trace.warnings.length > 0) throw new Error(`the synthetic trace is off: ${trace.warnings[0]}`);
const timeline = timed("build timeline", () => buildTimeline(trace));
const html = timed("render HTML page", () => renderPage(timeline));
report("total (trace text to page)", performance.now() - started);
timed("render terminal view", () => renderText(timeline));
timed("cluster state after the last row", () =>
  new StateReplay(trace.nodes, (i) => timeline.rows[i]?.ops ?? null).after(
    timeline.rows.length - 1,
  ),
);
timed("cluster view's model of every event", () => {
  const model = new ClusterModel(trace.nodes);
  model.appendEvents(trace.events);
  const last = trace.events.length - 1;
  return [model.stateAt(last), model.flightsAt(last, trace.events[last]!.t)];
});
const out = new URL("../out/", import.meta.url);
mkdirSync(out, { recursive: true });
const file = new URL("bench-100k.html", out);
writeFileSync(file, html);
console.log(`page: ${(html.length / 1e6).toFixed(1)} MB, written to out/bench-100k.html`);

let chromiumPath: string | undefined;
try {
  chromiumPath = findChromium();
} catch (error) {
  console.log(`(browser timings skipped: ${error instanceof Error ? error.message : error})`);
}
if (chromiumPath !== undefined) {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu"],
  });
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  await timedAsync("chromium: open page, first rows", async () => {
    await page.goto(file.href);
    await page.waitForSelector("#timeline tbody tr");
  });
  await timedAsync("chromium: hide heartbeats (key h)", async () => {
    await page.keyboard.press("h");
    await page.waitForFunction("document.querySelectorAll('#timeline tbody tr.hb').length === 0");
  });
  await timedAsync("chromium: link a message", () =>
    page.locator(".ev[data-conv]").first().click(),
  );
  await timedAsync("chromium: select a row, draw its state", async () => {
    await page.locator("#timeline tbody tr td.time").last().click();
    await page.waitForSelector("#state .node-state");
  });
  await timedAsync("chromium: step 20 rows down (key j)", async () => {
    for (let i = 0; i < 20; i++) await page.keyboard.press("j");
    await page.waitForSelector("#state .node-state");
  });
  await timedAsync("chromium: scrub the cluster view to the middle", async () => {
    await page.locator(".cv-scrub").evaluate((input) => {
      (input as unknown as { value: string }).value = "1000";
      input.dispatchEvent(new Event("input"));
    });
    await page.waitForSelector("#cluster-view .node");
  });
  // frames the cluster view draws in two seconds of playing (the table's row following it)
  await page.keyboard.press(" ");
  const frames = await page.evaluate(`new Promise((resolve) => {
    const view = document.getElementById("cluster-view");
    let frames = 0;
    let last = view.dataset.t;
    const began = performance.now();
    const tick = () => {
      if (view.dataset.t !== last) { frames++; last = view.dataset.t; }
      if (performance.now() - began < 2000) requestAnimationFrame(tick); else resolve(frames);
    };
    requestAnimationFrame(tick);
  })`);
  await page.keyboard.press(" ");
  console.log(
    `${"chromium: cluster view playing".padEnd(40)} ${String(Number(frames) / 2).padStart(6)} frames/s`,
  );
  await browser.close();
}
