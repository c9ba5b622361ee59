import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { check } from "../src/check.ts";
import type { History } from "../src/history.ts";
import { readHistory } from "../src/parse/index.ts";
import { renderHtml } from "../src/view/html.ts";
import { findChromium } from "./chromium.ts";
import { corpusEntries, repoRoot } from "./corpus.ts";
import { hostile, hostileHistory } from "./hostile.ts";

const outDir = join(repoRoot, "tools/lincheck/out");

let launched: Promise<Browser> | undefined;

/**
 * The browser, launched by the first test that needs it. Without Chromium each test fails with
 * the command that installs it: a failing beforeAll would leave them counted as skipped.
 */
function browser(): Promise<Browser> {
  launched ??= chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  return launched;
}

afterAll(async () => {
  await (await launched?.catch(() => undefined))?.close();
});

/** Write the page for a history, open it from file:// and collect anything the console complains about. */
async function open(
  history: History,
  name: string,
): Promise<{ page: Page; errors: string[]; breaker?: number }> {
  const result = check(history.model, history.operations);
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${name}.html`);
  writeFileSync(file, renderHtml(history, result));
  const page = await (await browser()).newPage({ viewport: { width: 1400, height: 900 } });
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(pathToFileURL(file).href);
  return { page, errors, breaker: result.partitions.find((p) => p.breaker !== undefined)?.breaker };
}

describe("the HTML page in a real browser", () => {
  it("highlights the operation that breaks an illegal corpus history, and shows states on hover", async () => {
    const entry = corpusEntries().find((e) => e.file === "jepsen/etcd_000.log")!;
    expect(entry.linearizable).toBe(false);
    const { page, errors, breaker } = await open(readHistory(entry.path), "etcd_000");
    expect(breaker).toBeTypeOf("number");
    const highlighted = page.locator(".op.breaker");
    await expect(highlighted.count()).resolves.toBe(1);
    await expect(highlighted.getAttribute("data-op")).resolves.toBe(String(breaker));

    await highlighted.hover();
    const tip = page.locator("#tip");
    await expect(tip.isVisible()).resolves.toBe(true);
    const text = await tip.textContent();
    expect(text).toContain(`#${breaker} `);
    expect(text).toContain("state before:");
    expect(text).toContain("the history breaks here");

    await page.locator(".op.linearized").first().hover();
    expect(await tip.textContent()).toMatch(
      /linearized 1\.\nstate before: nil\nstate after: {2}\S+/,
    );
    await page.locator(".op.breaker").scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(outDir, "etcd_000.png") });
    expect(errors).toEqual([]);
  });

  it("renders markup from the history as text, never running it", async () => {
    const { page, errors } = await open(hostileHistory(), "hostile");
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator("h1").textContent()).toContain(hostile);
    expect(await page.locator(".op.breaker").textContent()).toContain(hostile);
    expect(errors).toEqual([]);
  });
});
