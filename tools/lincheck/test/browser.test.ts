import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { check } from "../src/check.ts";
import { describeOp } from "../src/explain.ts";
import type { History } from "../src/history.ts";
import { readHistory } from "../src/parse/index.ts";
import { renderHtml } from "../src/view/html.ts";
import type { PartitionData } from "../src/view/layout.ts";
import { findChromium } from "./chromium.ts";
import { corpusEntries, repoRoot } from "./corpus.ts";
import { hostile, hostileHistory } from "./hostile.ts";

/** The parts of DOM elements the tests read (the typecheck has no DOM library). */
type Shown = { dataset: Record<string, string | undefined>; style: { left: string } };
type Slider = { value: string; min: string; max: string; dispatchEvent(event: Event): boolean };

// Pages and screenshots go to an ignored folder, to look at after a run.
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
async function open(history: History, name: string): Promise<{ page: Page; errors: string[] }> {
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
  return { page, errors };
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(outDir, `${name}.png`) });

/** etcd_000: not linearizable, #43 breaks it, and its dead ends leave the register in 4 states. */
const etcd000 = () =>
  readHistory(corpusEntries().find((e) => e.file === "jepsen/etcd_000.log")!.path);

/** The partition data the page embeds, as its script reads it. */
async function dataOf(page: Page): Promise<PartitionData> {
  const text = await page.locator("section.partition script.data").first().textContent();
  return JSON.parse(text!) as PartitionData;
}

/** Whether an element lies wholly inside the window and inside its scrolling timeline. */
async function inView(page: Page, selector: string): Promise<boolean> {
  return page.locator(selector).evaluate((el) => {
    type Box = { left: number; right: number; top: number; bottom: number };
    const box: Box = el.getBoundingClientRect();
    const scroll: Box = el.closest(".scroll")!.getBoundingClientRect();
    const { innerWidth, innerHeight } = globalThis as unknown as Record<string, number>;
    const win: Box = { left: 0, top: 0, right: innerWidth!, bottom: innerHeight! };
    const inside = (b: Box, o: Box) =>
      b.left >= o.left && b.right <= o.right && b.top >= o.top && b.bottom <= o.bottom;
    return inside(box, win) && box.left >= scroll.left && box.right <= scroll.right;
  });
}

describe("the HTML page in a real browser", () => {
  it("jumps to the operation that breaks the history, zoomed so its label is whole", async () => {
    const history = etcd000();
    const { page, errors } = await open(history, "etcd_000");
    const breaker = history.operations[43]!;
    await expect(page.locator("#jump").textContent()).resolves.toContain("#43");
    await expect(inView(page, '.op[data-op="43"]')).resolves.toBe(false);
    await page.click("#jump");
    const bar = page.locator('.op[data-op="43"]');
    await expect(bar.getAttribute("class")).resolves.toMatch(
      /\bbreaker\b.*\bselected\b|\bselected\b.*\bbreaker\b/,
    );
    await expect(inView(page, '.op[data-op="43"]')).resolves.toBe(true);
    const fits = await bar.locator(".text").evaluate((t) => t.scrollWidth <= t.clientWidth);
    expect(fits).toBe(true);
    const details = await page.locator("#details").textContent();
    expect(details?.split("\n")[0]).toBe(describeOp(history, breaker));
    expect(details).toContain("the history breaks here");
    await shot(page, "etcd_000-jump");
    expect(errors).toEqual([]);
  });

  it("numbers operations as the command does: bars, tooltips and text agree", async () => {
    const history = etcd000();
    const { page, errors } = await open(history, "etcd_000-numbers");
    const ids = await page
      .locator(".op")
      .evaluateAll((els) =>
        els.map((el) => [
          (el as unknown as Shown).dataset.op,
          el.querySelector(".id")!.textContent,
        ]),
      );
    expect(ids).toHaveLength(history.operations.length);
    for (const [op, shown] of ids) expect(shown).toBe(`#${op}`);
    for (const id of [0, 17, 43]) {
      await page.locator(`.op[data-op="${id}"]`).scrollIntoViewIfNeeded();
      await page.locator(`.op[data-op="${id}"]`).hover();
      const tip = await page.locator("#tip").textContent();
      expect(tip?.split("\n")[0]).toBe(describeOp(history, history.operations[id]!));
    }
    expect(errors).toEqual([]);
  });
});

describe("the HTML page in a real browser: stepping and zoom", () => {
  it("steps through the partial linearizations, and a click shows the one containing an operation", async () => {
    const { page, errors } = await open(etcd000(), "etcd_000-step");
    const data = await dataOf(page);
    expect(data.partials.length).toBeGreaterThanOrEqual(2);
    const which = page.locator("section .which");
    const ends = new Set<number>();
    for (let k = 0; k < data.partials.length; k++) {
      await expect(which.textContent()).resolves.toContain(
        `partial linearization ${k + 1} of ${data.partials.length}`,
      );
      const steps = data.partials[k]!.steps;
      const shown = await page
        .locator(".op.linearized")
        .evaluateAll((els) => els.map((el) => Number((el as unknown as Shown).dataset.op)));
      expect(shown.sort((a, b) => a - b)).toEqual(steps.map((s) => s[0]).sort((a, b) => a - b));
      // One point per step, where the data puts it: the points show this partial's order.
      const points = await page
        .locator(".point")
        .evaluateAll((els) =>
          els.map((el) => [
            Number((el as unknown as Shown).dataset.op),
            (el as unknown as Shown).style.left,
          ]),
        );
      const expected = steps.map(([op, , x]) => [op, `calc(var(--slot) * ${x})`]);
      const byOp = (a: (string | number)[], b: (string | number)[]) => Number(a[0]) - Number(b[0]);
      expect(points.sort(byOp)).toEqual(expected.sort(byOp));
      ends.add(steps[steps.length - 1]![1]);
      if (k === 1) await shot(page, "etcd_000-step2");
      await page.click("section .next");
    }
    // Each is a dead end in its own state, and the stepping wraps around.
    expect(ends.size).toBe(data.partials.length);
    await expect(which.textContent()).resolves.toContain(`partial linearization 1 of`);
    await page.click("section .prev");
    await expect(which.textContent()).resolves.toContain(
      `partial linearization ${data.partials.length} of`,
    );
    await page.locator('.op[data-op="0"]').click();
    await expect(which.textContent()).resolves.toContain(
      `partial linearization ${data.partialOf[0]! + 1} of`,
    );
    await expect(page.locator("#details").textContent()).resolves.toMatch(/^#0 client/);
    expect(errors).toEqual([]);
  });
});

describe("the HTML page in a real browser: zoom", () => {
  it("keeps every operation's number whole at any zoom the page offers", async () => {
    const { page, errors } = await open(etcd000(), "etcd_000-zoom");
    const zoom = page.locator("#zoom");
    for (const end of ["min", "max"] as const) {
      await zoom.evaluate((el, which) => {
        const input = el as unknown as Slider;
        input.value = which === "min" ? input.min : input.max;
        input.dispatchEvent(new Event("input"));
      }, end);
      const clipped = await page.locator(".op").evaluateAll(
        (els) =>
          els.filter((el) => {
            const id = el.querySelector(".id")!.getBoundingClientRect();
            return id.right > el.getBoundingClientRect().right - 2;
          }).length,
      );
      expect(clipped, `zoom ${end}`).toBe(0);
      await shot(page, `etcd_000-zoom-${end}`);
    }
    // Zoomed in all the way, the labels are whole too.
    const cut = await page
      .locator(".op:not(.pending) .text")
      .evaluateAll((els) => els.filter((t) => t.scrollWidth > t.clientWidth).length);
    expect(cut).toBe(0);
    expect(errors).toEqual([]);
  });
});

describe("the HTML page in a real browser: hostile input", () => {
  it("renders markup from the history as text, never running it", async () => {
    const { page, errors } = await open(hostileHistory(), "hostile");
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator("h1").textContent()).toContain(hostile);
    expect(await page.locator(".op.breaker").textContent()).toContain(hostile);
    await page.click("#jump");
    expect(await page.locator("#details").textContent()).toContain(hostile);
    expect(errors).toEqual([]);
  });
});
