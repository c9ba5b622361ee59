// Opens rendered pages in a real browser (Debian's chromium, driven by playwright-core) and
// checks what a reader sees and does. Never skipped: .ci/run installs chromium when missing.
import { mkdirSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { renderPage } from "../src/html.ts";
import { buildTimeline, type Timeline } from "../src/model.ts";
import { parseTrace } from "../src/trace.ts";
import { end, fixture, harness, onNode, start, timelineOf } from "./build.ts";

const OUT = new URL("../out/browser/", import.meta.url);
const LEADER_TINT = "rgb(191, 230, 179)";
const FOLLOWER_TINT = "rgb(255, 255, 255)";

/** A trace written by part1-election's own tests (see test/fixtures/README.md). */
const real = buildTimeline(
  parseTrace(fixture("part1-old-leader-reconnects.jsonl"), "part1-old-leader-reconnects.jsonl"),
);

let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
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
});
afterAll(async () => {
  await browser?.close();
});

/** Writes the page under out/, opens it from file:// and records every console error. */
async function open(name: string, timeline: Timeline): Promise<{ page: Page; errors: string[] }> {
  mkdirSync(OUT, { recursive: true });
  const file = new URL(name, OUT);
  writeFileSync(file, renderPage(timeline));
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(pathToFileURL(file.pathname).href);
  await page.waitForSelector("#timeline tbody tr");
  return { page, errors };
}

const rowCount = (page: Page) => page.locator("#timeline tbody tr").count();

describe("a page rendered from a real part1 trace, in chromium", () => {
  test("one column per node, every row drawn, leader cells tinted green", async () => {
    const { page, errors } = await open("part1-old-leader-reconnects.html", real);
    const heads = await page.locator("thead th.node").allTextContents();
    expect(heads).toEqual(real.trace.nodes.map((id) => `n${id}`));
    expect(await rowCount(page)).toBe(real.rows.length);
    const cellsPerRow = await page
      .locator("#timeline tbody tr")
      .evaluateAll((rows) => rows.map((r) => r.children.length));
    expect([...new Set(cellsPerRow)]).toEqual([2 + real.trace.nodes.length]);

    // The node that became leader: its cell on that row, and every leader cell, carries the tint.
    const wonAt = real.rows.findIndex(
      (r) => r.kind === "role" && r.text.startsWith("candidate → leader"),
    );
    const column = real.trace.nodes.indexOf(real.rows[wonAt]!.node!);
    const cell = page.locator(`tr[data-i="${wonAt}"] td`).nth(2 + column);
    expect(
      await cell.evaluate(
        (td) => td.ownerDocument.defaultView!.getComputedStyle(td).backgroundColor,
      ),
    ).toBe(LEADER_TINT);
    expect(await cell.locator(".lab").textContent()).toMatch(/^L\d+$/);
    const leaderLanes = real.rows
      .flatMap((r) => r.lanes)
      .filter((l) => l.role === "leader" && !l.dead).length;
    expect(leaderLanes).toBeGreaterThan(0);
    expect(await page.locator("td.r-leader").count()).toBe(leaderLanes);
    const tints = await page
      .locator("td.r-leader")
      .evaluateAll((tds) =>
        tds.map((td) => td.ownerDocument.defaultView!.getComputedStyle(td).backgroundColor),
      );
    expect([...new Set(tints)]).toEqual([LEADER_TINT]);
    const first = page.locator('tr[data-i="0"] td.lane').first();
    expect(
      await first.evaluate(
        (td) => td.ownerDocument.defaultView!.getComputedStyle(td).backgroundColor,
      ),
    ).toBe(FOLLOWER_TINT);

    // the isolated old leader's cells are marked cut off, and only those
    const cutLanes = real.rows.flatMap((r) => r.lanes).filter((l) => l.cut).length;
    expect(cutLanes).toBeGreaterThan(0);
    expect(await page.locator("td.cut").count()).toBe(cutLanes);
    expect(await page.locator("td.cut .lab").first().textContent()).toMatch(/^✂ /);

    await page.screenshot({ path: new URL("part1-old-leader-reconnects.png", OUT).pathname });
    expect(errors).toEqual([]);
    await page.close();
  });

  test("filters hide exactly the rows they name: a kind, a node, heartbeats (key h)", async () => {
    const { page, errors } = await open("part1-filters.html", real);
    const sends = real.rows.filter((r) => r.kind === "send").length;
    await page
      .locator("#kind-filter label", { hasText: /^\s*send\b/ })
      .locator("input")
      .uncheck();
    expect(await page.locator("tr.k-send").count()).toBe(0);
    expect(await rowCount(page)).toBe(real.rows.length - sends);

    const n0 = real.trace.nodes[0]!;
    const n0Rows = real.rows.filter((r) => r.node === n0 && r.kind !== "send").length;
    await page.locator(`#node-filter input[data-col="0"]`).uncheck();
    expect(await page.locator(`tr[data-node="${n0}"]`).count()).toBe(0);
    expect(await rowCount(page)).toBe(real.rows.length - sends - n0Rows);

    await page.locator(`#node-filter input[data-col="0"]`).check();
    await page.locator("#kinds-all").click();
    expect(await rowCount(page)).toBe(real.rows.length);
    await page.locator("body").press("h");
    expect(await page.locator("#show-hb").isChecked()).toBe(false);
    expect(await page.locator("tr.hb").count()).toBe(0);
    expect(await rowCount(page)).toBe(real.rows.filter((r) => !r.heartbeat).length);
    expect(await page.locator("#status").textContent()).toContain(
      `of ${real.rows.length} events match`,
    );
    expect(errors).toEqual([]);
    await page.close();
  });

  test("clicking a send highlights its delivery and the reply; hovering previews; Esc clears", async () => {
    const { page, errors } = await open("part1-links.html", real);
    const sendAt = real.rows.findIndex((r) => r.kind === "send" && r.text.includes("RequestVote"));
    const conv = real.rows[sendAt]!.conv!;
    const members = real.rows.flatMap((r, i) => (r.conv === conv ? [i] : []));
    const deliverAt = members.find((i) => real.rows[i]!.kind === "deliver")!;
    expect(members.length).toBeGreaterThanOrEqual(4); // request sent and delivered, reply sent and delivered

    await page.locator(`tr[data-i="${deliverAt}"] .ev`).hover();
    expect(await page.locator(".ev.hover").count()).toBe(members.length);
    await page.locator(`tr[data-i="${sendAt}"] .ev`).click();
    const linked = await page
      .locator(".ev.linked")
      .evaluateAll((spans) => spans.map((s) => Number(s.getAttribute("data-i"))));
    expect(linked).toEqual(members);
    expect(await page.locator(`tr[data-i="${deliverAt}"] .ev`).getAttribute("class")).toContain(
      "linked",
    );
    expect(await page.locator(`tr[data-i="${sendAt}"] .ev`).getAttribute("class")).toContain(
      "current",
    );

    await page.keyboard.press("n"); // step to the next row of the same message
    expect(await page.locator(".ev.current").getAttribute("data-i")).toBe(String(members[1]));
    await page.keyboard.press("Escape");
    expect(await page.locator(".ev.linked").count()).toBe(0);
    await page.locator(`tr[data-i="${deliverAt}"] .ev`).focus();
    await page.keyboard.press("Enter");
    expect(await page.locator(".ev.linked").count()).toBe(members.length);
    await page.screenshot({ path: new URL("part1-links.png", OUT).pathname });
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe("failures in chromium", () => {
  test("a violation and a failed check are red in the TEST column, a crashed node's lane is grey", async () => {
    const timeline = timelineOf(
      start([0, 1]),
      harness(1, "crash", { node: 1, cutOff: [], dead: [1] }),
      harness(2, "check", { name: "checkSingleLeader", ok: false, error: "no leader" }),
      harness(3, "violation", { invariant: "Election Safety", message: "two leaders in term 1" }),
      end(4, "fail"),
    );
    const { page, errors } = await open("failures.html", timeline);
    const color = (selector: string) =>
      page
        .locator(selector)
        .evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).color);
    expect(await color('tr[data-i="2"] .ev')).toBe("rgb(176, 0, 32)");
    expect(await color('tr[data-i="3"] .ev')).toBe("rgb(176, 0, 32)");
    expect(await color('tr[data-i="3"] .lab >> nth=0')).not.toBe("rgb(176, 0, 32)");
    expect(await page.locator('tr[data-i="3"] td.lane').nth(1).getAttribute("class")).toBe(
      "lane dead",
    );
    expect(await page.locator('tr[data-i="3"] .lab').nth(1).textContent()).toBe("✝0");
    expect(await page.locator("h1 .badge").textContent()).toBe("FAIL");
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe("a long trace, in chromium", () => {
  test("draws rows a chunk at a time, more on scroll, and linking draws far rows", async () => {
    // a message sent early and delivered 1,000 rows later, with a filler event in between
    const filler = Array.from({ length: 1000 }, (_, i) =>
      onNode(2 + i, 1, 1, "follower", "tick", { i }),
    );
    const timeline = timelineOf(
      start([0, 1]),
      onNode(1, 0, 1, "leader", "send", { msg: 7, to: 1, rpc: "AppendEntries", type: "request" }),
      ...filler,
      onNode(1005, 1, 1, "follower", "deliver", {
        msg: 7,
        from: 0,
        rpc: "AppendEntries",
        type: "request",
      }),
      end(1006),
    );
    const { page, errors } = await open("long.html", timeline);
    expect(await rowCount(page)).toBe(400);
    await page.locator("#more").scrollIntoViewIfNeeded();
    await expect.poll(() => rowCount(page)).toBeGreaterThan(400);

    // a filter starts drawing from the top again
    await page.evaluate("window.scrollTo(0, 0)"); // a string: this repo's typecheck has no DOM types
    const ticks = page.locator("#kind-filter label", { hasText: /^\s*tick\b/ }).locator("input");
    await ticks.uncheck();
    expect(await rowCount(page)).toBe(4);
    await ticks.check();
    expect(await rowCount(page)).toBe(400);

    await page.locator('tr[data-i="1"] .ev').click();
    expect(await page.locator('tr[data-i="1002"] .ev').getAttribute("class")).toContain("linked");
    expect(errors).toEqual([]);
    await page.close();
  });
});
