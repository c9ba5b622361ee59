import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { check } from "../src/check.ts";
import { describeOp } from "../src/explain.ts";
import type { History } from "../src/history.ts";
import { kvModel } from "../src/models/kv.ts";
import { readHistory } from "../src/parse/index.ts";
import { type PageOptions, renderHtml } from "../src/view/html.ts";
import type { PartitionData } from "../src/view/layout.ts";
import { ops } from "./build.ts";
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
async function open(
  history: History,
  name: string,
  options: PageOptions = {},
  viewport = { width: 1400, height: 900 },
): Promise<{ page: Page; errors: string[] }> {
  const result = check(history.model, history.operations);
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${name}.html`);
  writeFileSync(file, renderHtml(history, result, options));
  const page = await (await browser()).newPage({ viewport });
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(pathToFileURL(file).href);
  return { page, errors };
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(outDir, `${name}.png`) });

/** Move the zoom slider to one end, as a reader dragging it does. */
function slide(page: Page, end: "min" | "max"): Promise<void> {
  return page.locator("#zoom").evaluate((el, which) => {
    const input = el as unknown as Slider;
    input.value = which === "min" ? input.min : input.max;
    input.dispatchEvent(new Event("input"));
  }, end);
}

/** The README's example: five operations, one of which never returned. */
const staleRead = () => readHistory(join(repoRoot, "tools/lincheck/examples/stale-read.jsonl"));

/**
 * One client's operations one after another, as part4-kv's clients run them: c1 calls each at
 * the instant the previous returned, c2 one instant later, and c3's append never returns while its
 * next operation runs (the lane then needs a second row).
 */
const handOvers = (): History => {
  const append = (value: string) => ({ op: "append", key: "x", value });
  const get = { op: "get", key: "x" };
  const operations = ops([
    ["c1", 0, 10, { op: "put", key: "x", value: "a" }, {}],
    ["c1", 10, 20, append("b"), {}],
    ["c1", 20, 30, get, { value: "abc" }],
    ["c2", 5, 15, get, { value: "a" }],
    ["c2", 16, 25, append("c"), {}],
    ["c2", 26, 35, get, { value: "abc" }],
    ["c3", 12, undefined, append("d")],
    ["c3", 22, 32, get, { value: "abc" }],
  ]);
  return { file: "hand-overs.jsonl", model: kvModel, operations };
};

/** Each operation's box on the page, per lane, in the order the lane lists them. */
async function boxes(page: Page) {
  return page.locator(".lane").evaluateAll((lanes) =>
    lanes.map((lane) =>
      [...lane.querySelectorAll(".op")].map((el) => {
        const box = el.getBoundingClientRect();
        const id = el.querySelector(".id")!;
        const style = (
          globalThis as unknown as { getComputedStyle(e: unknown): { backgroundImage: string } }
        ).getComputedStyle(el);
        return {
          id: el.querySelector(".id")!.textContent,
          left: box.left,
          right: box.right,
          top: box.top,
          shade: style.backgroundImage,
          idWhole: id.getBoundingClientRect().right <= box.right - 2,
        };
      }),
    ),
  );
}

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
    for (const end of ["min", "max"] as const) {
      await slide(page, end);
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

describe("the HTML page in a real browser: fitted to the window", () => {
  /** The zoom, and how the widest timeline sits in its scrolling box. */
  const fit = (page: Page) =>
    page
      .locator(".scroll")
      .first()
      .evaluate((scroll) => {
        const track = scroll.querySelector(".track")!.getBoundingClientRect();
        const zoom = scroll.ownerDocument.querySelector("#zoom") as unknown as Slider & {
          dataset: { readable: string };
        };
        return {
          zoom: Number(zoom.value),
          readable: Number(zoom.dataset.readable),
          room: scroll.getBoundingClientRect().right - track.left,
          track: track.width,
          scrolls: scroll.scrollWidth > scroll.clientWidth,
        };
      });

  /**
   * Resizes the window and waits until the page has seen it: the window reports the new width and
   * two frames have passed (a resize event is dispatched before a frame's animation callbacks), so
   * the page's resize handler has run however busy the machine is.
   */
  const resize = async (page: Page, width: number) => {
    await page.setViewportSize({ width, height: 900 });
    // The page's globals, typed here (the tests are compiled without the DOM's types).
    type Browser = {
      innerWidth: number;
      requestAnimationFrame(callback: () => void): number;
    };
    await page.waitForFunction((w) => (globalThis as unknown as Browser).innerWidth === w, width);
    await page.evaluate(() => {
      const { requestAnimationFrame } = globalThis as unknown as Browser;
      return new Promise<void>((done) =>
        requestAnimationFrame(() => requestAnimationFrame(() => done())),
      );
    });
  };

  it("opens a short history across the whole width, every label whole, and follows the window", async () => {
    const { page, errors } = await open(staleRead(), "stale-read-fit");
    const wide = await fit(page);
    // The ten slots of the history fill the room beside the client names, to within a slot.
    expect(wide.scrolls).toBe(false);
    expect(wide.track).toBeLessThanOrEqual(wide.room);
    expect(wide.track).toBeGreaterThan(wide.room - wide.zoom);
    expect(wide.zoom).toBeGreaterThan(4 * wide.readable);
    const cut = await page
      .locator(".op .text")
      .evaluateAll((els) => els.filter((t) => t.scrollWidth > t.clientWidth).length);
    expect(cut).toBe(0);
    await shot(page, "stale-read-fit");
    await resize(page, 800);
    const narrow = await fit(page);
    expect(narrow.scrolls).toBe(false);
    expect(narrow.track).toBeGreaterThan(narrow.room - narrow.zoom);
    expect(narrow.zoom).toBeLessThan(wide.zoom);
    // Zoomed by hand, it stays as the reader set it; "fit" fits it again.
    await page.click("#zoom-in");
    const zoomed = (await fit(page)).zoom;
    await resize(page, 1400);
    expect((await fit(page)).zoom).toBe(zoomed);
    await page.click("#zoom-fit");
    expect((await fit(page)).zoom).toBe(wide.zoom);
    expect(errors).toEqual([]);
  });

  it("opens a history too long to fit at the zoom where labels stay readable, scrolling", async () => {
    const { page, errors } = await open(etcd000(), "etcd_000-readable");
    const opened = await fit(page);
    expect(opened.zoom).toBe(opened.readable);
    expect(opened.scrolls).toBe(true);
    expect(errors).toEqual([]);
  });
});

describe("the HTML page in a real browser: one client's operations told apart", () => {
  it("draws each operation apart from its neighbours: a gap, a shade, its own label", async () => {
    const { page, errors } = await open(handOvers(), "hand-overs");
    for (const end of ["fit", "min"] as const) {
      if (end === "min") await slide(page, "min");
      const lanes = await boxes(page);
      expect(lanes.map((l) => l.map((b) => b.id))).toEqual([
        ["#0", "#1", "#2"],
        ["#3", "#4", "#5"],
        ["#6", "#7"],
      ]);
      for (const lane of lanes.slice(0, 2)) {
        for (let i = 1; i < lane.length; i++) {
          const [a, b] = [lane[i - 1]!, lane[i]!];
          expect(b.top, `${b.id} on ${a.id}'s row (${end})`).toBe(a.top);
          expect(b.left - a.right, `gap ${a.id}-${b.id} (${end})`).toBeGreaterThanOrEqual(2);
          expect(b.shade, `${a.id} and ${b.id} shaded apart`).not.toBe(a.shade);
        }
        expect(lane.every((b) => b.idWhole)).toBe(true);
      }
      // #6 never returned, so #7 ran beside it: a row of its own, below.
      const [pending, next] = lanes[2]!;
      expect(next!.top).toBeGreaterThanOrEqual(pending!.top + 20);
      await shot(page, `hand-overs-${end}`);
    }
    // Each linearization point lies on its own operation's bar.
    const stray = await page.locator(".point").evaluateAll(
      (points) =>
        points.filter((p) => {
          const id = (p as unknown as Shown).dataset.op;
          const bar = p
            .parentElement!.querySelector(`.op[data-op="${id}"]`)!
            .getBoundingClientRect();
          const x = p.getBoundingClientRect().left + 1;
          return x < bar.left || x > bar.right;
        }).length,
    );
    expect(stray).toBe(0);
    expect(errors).toEqual([]);
  });
});

describe("the HTML page in a real browser: the way back to the timeline", () => {
  it("links to the test's timeline beside it, when given one", async () => {
    const timeline = join(outDir, "kv--t-stale.html");
    writeFileSync(timeline, "<!doctype html><title>timeline</title><p>the test's timeline</p>");
    const { page, errors } = await open(staleRead(), "kv--t-stale.history", {
      timeline: "kv--t-stale.html",
    });
    const link = page.locator("a#timeline");
    await expect(link.isVisible()).resolves.toBe(true);
    await expect(link.textContent()).resolves.toBe("The test's timeline");
    await shot(page, "kv--t-stale.history");
    await link.click();
    await page.waitForURL(pathToFileURL(timeline).href);
    await expect(page.title()).resolves.toBe("timeline");
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
