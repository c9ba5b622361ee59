// Opens rendered pages in a real browser (the system's Chromium, found by chromium.ts and driven
// by playwright-core) and checks what a reader sees and does. Never skipped: without a Chromium
// every test here fails, saying how to install one. Screenshots go to out/browser/.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildTimeline, type Timeline } from "../src/model.ts";
import { end, harness, message, network, onNode, start, timelineOf } from "./build.ts";
import { finish as finishPage, launch, OUT, open as openPage } from "./pages.ts";
import { mergedRun, realTimeline } from "./real.ts";

const LEADER_TINT = "rgb(191, 230, 179)";
const FOLLOWER_TINT = "rgb(255, 255, 255)";

/** A trace written by part1-election's own tests (see test/fixtures/README.md). */
const real = realTimeline("part1-old-leader-reconnects.jsonl");

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

/** The page, and the record of its errors and requests that `finish` checks. */
const opened = new WeakMap<Page, Awaited<ReturnType<typeof openPage>>>();

async function open(name: string, timeline: Timeline): Promise<{ page: Page; errors: string[] }> {
  const result = await openPage(browser, name, timeline);
  opened.set(result.page, result);
  return result;
}

/** How every page's test ends: a screenshot when named, no console errors nor requests. */
async function finish(page: Page, _errors: string[], screenshot?: string): Promise<void> {
  await finishPage(opened.get(page)!, screenshot);
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

    await finish(page, errors, "part1-old-leader-reconnects.png");
  });
});

describe("filters on a real part1 trace, in chromium", () => {
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
    await page.locator(`#node-filter input[data-col="1"]`).uncheck();
    expect(await page.locator(`tr[data-node="${n0}"]`).count()).toBe(0);
    expect(await rowCount(page)).toBe(real.rows.length - sends - n0Rows);

    await page.locator(`#node-filter input[data-col="1"]`).check();
    await page.locator("#kinds-all").click();
    expect(await rowCount(page)).toBe(real.rows.length);
    await page.locator("body").press("h");
    expect(await page.locator("#show-hb").isChecked()).toBe(false);
    expect(await page.locator("tr.hb").count()).toBe(0);
    expect(await rowCount(page)).toBe(real.rows.filter((r) => !r.heartbeat).length);
    expect(await page.locator("#status").textContent()).toContain(
      `of ${real.rows.length} events match`,
    );
    await finish(page, errors);
  });
});

describe("message links on a real part1 trace, in chromium", () => {
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
    await finish(page, errors, "part1-links.png");
  });
});

describe("failures in chromium", () => {
  test("a violation and a failed check are red in the TEST column, a crashed node's lane is grey", async () => {
    const timeline = timelineOf(
      start([0, 1]),
      harness(1, "crash", { node: 1, ...network([[0]], [], [1]) }),
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
    await finish(page, errors);
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
      onNode(1, 0, 1, "leader", "send", { ...message(7, "AppendEntries", "request"), to: 1 }),
      ...filler,
      onNode(1005, 1, 1, "follower", "deliver", {
        ...message(7, "AppendEntries", "request"),
        from: 0,
      }),
      end(1006),
    );
    const { page, errors } = await open("long.html", timeline);
    expect(await rowCount(page)).toBe(400);
    await page.locator("#more").scrollIntoViewIfNeeded();
    await expect.poll(() => rowCount(page)).toBeGreaterThan(400);

    // a filter starts drawing from the top again
    await page.evaluate("window.scrollTo(0, 0)"); // a string: the tests' typecheck has no DOM types
    const ticks = page.locator("#kind-filter label", { hasText: /^\s*tick\b/ }).locator("input");
    await ticks.uncheck();
    expect(await rowCount(page)).toBe(4);
    await ticks.check();
    expect(await rowCount(page)).toBe(400);

    await page.locator('tr[data-i="1"] .ev').click();
    expect(await page.locator('tr[data-i="1002"] .ev').getAttribute("class")).toContain("linked");
    await finish(page, errors);
  });
});

const story = realTimeline("part2-story.jsonl");
const halted = realTimeline("part3-halt-before-durable.jsonl");
const batches = realTimeline("part2-batches.jsonl");

/**
 * What the trace says about one node after row `last`, replayed here from the events themselves
 * (not through the viz's state code): its log's terms, commitIndex and lastApplied.
 */
function fromTrace(timeline: Timeline, node: number, last: number) {
  const terms: number[] = [];
  let commit = 0;
  let applied = 0;
  for (const e of timeline.trace.events.slice(0, last + 1)) {
    if (e.node !== node || !e.known) continue;
    if (e.kind === "log.append")
      terms.splice(e.details.index - 1, Infinity, ...e.details.entries.map((x) => x.term));
    if (e.kind === "log.truncate") terms.length = e.details.from - 1;
    if (e.kind === "commit") commit = e.details.to;
    if (e.kind === "apply") applied = e.details.index;
  }
  return { terms, commit, applied, mark: commit };
}

/** The state panel's drawing of one node: its entries' terms, how many are committed and applied. */
async function drawnState(page: Page, node: number) {
  const line = page.locator(`#state .node-state[data-node="${node}"]`);
  return {
    terms: await line
      .locator(".entry")
      .evaluateAll((es) => es.map((e) => Number(e.getAttribute("data-term")))),
    commit: await line.locator(".entry.committed").count(),
    applied: await line.locator(".entry.applied").count(),
    // how many entries stand before the commitIndex mark (none drawn: 0)
    mark: await line.locator(".log").evaluate((log) =>
      Math.max(
        0,
        [...log.children].findIndex((e) => e.matches(".commit-mark")),
      ),
    ),
  };
}

describe("the cluster's state at the selected row, in chromium", () => {
  test("stepping rows with the keyboard redraws the logs and commit marks the trace describes", async () => {
    const { page, errors } = await open("part2-story-state.html", story);
    expect(await page.locator("#state .hint").textContent()).toContain("Select a row");
    await page.keyboard.press("ArrowDown"); // no row selected yet: the first one
    expect(await page.locator("tr.selected").getAttribute("data-i")).toBe("0");

    // from just before the old leader's stray entry is cut, through its repair, to the commit
    const truncate = story.rows.findIndex((r) => r.kind === "log.truncate");
    const old = story.rows[truncate]!.node!;
    const nodes = story.trace.nodes;
    await page.locator(`tr[data-i="${truncate - 2}"] td.time`).click();
    for (let row = truncate - 2; row <= truncate + 3; row++) {
      expect(await page.locator("#state-body").getAttribute("data-row")).toBe(String(row));
      for (const id of nodes)
        expect(await drawnState(page, id), `n${id} after row ${row}`).toEqual(
          fromTrace(story, id, row),
        );
      if (row === truncate) {
        expect((await drawnState(page, old)).terms).toEqual([1, 1]);
        await page.screenshot({ path: new URL("part2-story-state-truncated.png", OUT).pathname });
      }
      if (row < truncate + 3) await page.keyboard.press("ArrowDown");
    }
    expect((await drawnState(page, old)).terms).toEqual([1, 1, 2]);
    // what the last step changed is flashed: stepping animates the cluster
    expect(
      await page.locator(`#state .node-state[data-node="${old}"] .fresh`).count(),
    ).toBeGreaterThan(0);
    await page.keyboard.press("k"); // and back up
    expect(await page.locator("tr.selected").getAttribute("data-i")).toBe(String(truncate + 2));

    await finish(page, errors, "part2-story-state.png");
  });
});

describe("stepping down the rows, in chromium", () => {
  test("↓ keeps the selected row clear of the state panel, a row or two above it", async () => {
    const { page, errors } = await open("part2-story-stepping.html", story);
    await page.locator('tr[data-i="0"] td.time').click();
    for (let step = 1; step <= 60; step++) {
      await page.keyboard.press("ArrowDown");
      if (step % 6 !== 0) continue;
      const row = (await page.locator("tr.selected").boundingBox())!;
      const panel = (await page.locator("#state").boundingBox())!;
      expect(row.y + row.height, `after ${step} steps`).toBeLessThanOrEqual(panel.y - row.height);
      expect(row.y).toBeGreaterThanOrEqual(0);
    }
    await finish(page, errors, "part2-story-stepped.png");
  });

  test("part 3: disk is flashed only when what it holds changes, and the fields read apart", async () => {
    const { page, errors } = await open("part3-disk.html", halted);
    const first = halted.rows.findIndex((r) => r.kind === "persist");
    await page.locator(`tr[data-i="${first}"] td.time`).click();
    let flashed = 0;
    for (let row = first + 1; row < first + 40; row++) {
      await page.keyboard.press("ArrowDown");
      const fresh = await page.locator("#state .disk.fresh").count();
      // only a save changes what a disk holds
      if (halted.rows[row]!.kind !== "persist") expect(fresh, `row ${row}`).toBe(0);
      flashed += fresh;
    }
    expect(flashed).toBeGreaterThan(0);
    const text = await page.locator("#state .node-state").first().textContent();
    expect(text).toMatch(/applied \d+ disk: /);
    await finish(page, errors);
  });
});

describe("a leader's progress, and a part1 trace's state, in chromium", () => {
  test("a leader's row shows each follower's nextIndex and matchIndex from its progress events", async () => {
    const { page, errors } = await open("part2-story-progress.html", story);
    const lastProgress = story.rows.findLastIndex((r) => r.kind === "progress" && !r.afterShutdown);
    await page.locator(`tr[data-i="${lastProgress}"] td.time`).click();
    const leader = story.rows[lastProgress]!.node!;
    const peers = await page
      .locator(`#state .node-state[data-node="${leader}"] .peer`)
      .allTextContents();
    expect(peers.join(" · ")).toMatch(/^n\d next \d+ match \d+ · n\d next \d+ match \d+$/);
    expect(peers).toContain(
      story.rows[lastProgress]!.text.replace(
        /^(n\d+): nextIndex (\d+), matchIndex (\d+).*/,
        "$1 next $2 match $3",
      ),
    );
    await finish(page, errors);
  });

  test("a part1 trace: roles, terms and votes, and no logs it does not have", async () => {
    const { page, errors } = await open("part1-state.html", real);
    const last = real.rows.length - 1;
    await page.locator(`tr[data-i="${last}"] td.time`).click();
    expect(await page.locator("#state .node-state").count()).toBe(real.trace.nodes.length);
    // part 1 has no logs: no "empty log · commit 0 · applied 0" before logs exist
    for (const absent of [".entry", ".empty", ".log", ".indices"]) {
      expect(await page.locator(`#state ${absent}`).count(), absent).toBe(0);
    }
    expect(await page.locator("#state .voted").first().textContent()).toMatch(
      /^(voted n\d+|no vote)$/,
    );
    // the fields read apart: "leader T2 voted n0", never "T2voted"
    expect(await page.locator("#state .node-state").first().textContent()).toMatch(
      /^n\d+ \S.* T\d+ (voted n\d+|no vote)$/,
    );
    await finish(page, errors);
  });
});

describe("partitions, batches and tab stops, in chromium", () => {
  test("while a partition lasts, every node's cell shows its group, and the state panel lists the groups", async () => {
    const { page, errors } = await open("part2-partition.html", batches);
    const at = batches.rows.findIndex((r) => r.kind === "partition");
    const event = batches.trace.events[at]!;
    if (!event.known || event.kind !== "partition") throw new Error("the fixture has no partition");
    const { groups } = event.details.network;
    const letters = await page.locator(`tr[data-i="${at}"] td.lane .grp`).allTextContents();
    const expected = batches.trace.nodes.map((id) => "AB"[groups.findIndex((g) => g.includes(id))]);
    expect(letters).toEqual(expected);
    await page.locator(`tr[data-i="${at}"] td.time`).click();
    const shown = await page.locator("#state .network .group").allTextContents();
    expect(shown).toEqual(
      groups.map((g, i) => `${"AB"[i]} {${g.map((id) => `n${id}`).join(" ")}}`),
    );
    await page.screenshot({ path: new URL("part2-partition.png", OUT).pathname });
    const healed = batches.rows.findIndex((r) => r.kind === "heal");
    expect(await page.locator(`tr[data-i="${healed}"] .grp`).count()).toBe(0);
    expect(await page.locator(`tr[data-i="${healed - 1}"] .grp`).count()).toBe(
      batches.trace.nodes.length,
    );
    await finish(page, errors);
  });

  test("a batch of entries is one line with its count, range and terms, and expands on demand", async () => {
    const { page, errors } = await open("part2-batches.html", batches);
    const at = batches.rows.findIndex(
      (r) => r.kind === "log.append" && (r.batch?.count ?? 0) === 8,
    );
    expect(at).toBeGreaterThan(0);
    const row = page.locator(`tr[data-i="${at}"]`);
    await row.scrollIntoViewIfNeeded();
    expect(await row.locator(".more").textContent()).toBe("▸ 8 entries [1]–[8], term 1");
    const collapsed = (await row.boundingBox())!.height;
    expect(collapsed).toBeLessThan(80); // kind and summary, then one clipped line
    await row.locator(".more").click();
    const expandedRow = page.locator(`tr[data-i="${at}"]`);
    expect(await expandedRow.locator(".ev").getAttribute("class")).toContain("expanded");
    expect((await expandedRow.boundingBox())!.height).toBeGreaterThan(collapsed);
    await page.screenshot({ path: new URL("part2-batch-expanded.png", OUT).pathname });
    await page.keyboard.press("e"); // the clicked row is selected: e folds it again
    expect((await page.locator(`tr[data-i="${at}"]`).boundingBox())!.height).toBe(collapsed);
    // no drawn row grows tall, whatever its payload
    const heights = await page
      .locator("#timeline tbody tr")
      .evaluateAll((rows) => rows.map((r) => r.getBoundingClientRect().height));
    expect(Math.max(...heights)).toBeLessThan(80);
    await finish(page, errors);
  });
});

describe("tab stops, in chromium", () => {
  test("only messages and the selected row are tab stops", async () => {
    const { page, errors } = await open("part2-tabs.html", story);
    const stops = () =>
      page
        .locator("#timeline tbody [tabindex]")
        .evaluateAll((els) =>
          els
            .filter((e) => Number(e.getAttribute("tabindex")) >= 0)
            .map((e) =>
              e.matches(".ev[data-conv]")
                ? "message"
                : e.matches("tr.selected")
                  ? "selected"
                  : e.outerHTML.slice(0, 60),
            ),
        );
    const messages = story.rows.filter((r) => r.conv !== null).length;
    expect(await stops()).toEqual(Array(messages).fill("message"));
    const note = story.rows.findIndex((r) => r.kind === "note");
    await page.locator(`tr[data-i="${note}"] td.time`).click();
    const after = await stops();
    expect(after.filter((s) => s === "selected")).toHaveLength(1);
    expect(after).toHaveLength(messages + 1);
    // Tab from the selected row reaches the next message, which selects its row
    await page.keyboard.press("Tab");
    const focused = await page.evaluate("document.activeElement.closest('tr').dataset.i");
    const nextMessage = story.rows.findIndex((r, i) => i > note && r.conv !== null);
    expect(focused).toBe(String(nextMessage));
    expect(await page.locator("tr.selected").getAttribute("data-i")).toBe(String(nextMessage));
    await finish(page, errors);
  });
});

const restarted = realTimeline("part3-fast-backtracking.jsonl");

/** One node's line in the state panel: its entries, the unsaved ones, what its disk holds. */
async function drawnStorage(page: Page, node: number) {
  const line = page.locator(`#state .node-state[data-node="${node}"]`);
  return {
    dead: (await line.getAttribute("class"))!.includes("dead"),
    entries: await line.locator(".entry").count(),
    unsaved: await line.locator(".entry.unsaved").count(),
    committed: await line.locator(".entry.committed").count(),
    disk: await line.locator(".disk").textContent(),
  };
}

describe("part 3 in chromium: crashes, halts and restarts in the state view", () => {
  test("a leader halts with an unsaved entry; the restart brings back what was saved, uncommitted", async () => {
    const { page, errors } = await open("part3-halt.html", halted);
    const at = halted.rows.findIndex((r) => r.kind === "halt");
    const node = halted.rows[at]!.node!;
    const column = halted.trace.nodes.indexOf(node);
    await page.locator(`tr[data-i="${at - 1}"] td.time`).click();
    await page.keyboard.press("j"); // the halt row, reached from the keyboard
    expect(await page.locator("#state-body").getAttribute("data-row")).toBe(String(at));
    expect(
      await page.locator(`tr[data-i="${at}"] td.lane`).nth(column).getAttribute("class"),
    ).toContain("dead");
    expect(await drawnStorage(page, node)).toEqual({
      dead: true,
      entries: 3,
      unsaved: 1,
      committed: 2,
      disk: "disk: T1 · voted n2 · log to [2]",
    });
    expect(
      await page
        .locator(`#state .node-state[data-node="${node}"] .entry.unsaved`)
        .getAttribute("title"),
    ).toContain('"lost" (not saved yet: a crash now loses it)');
    await page.screenshot({ path: new URL("part3-halt.png", OUT).pathname });

    const back = halted.rows.findIndex((r) => r.kind === "restart");
    await page.locator(`tr[data-i="${back}"] td.time`).click();
    expect(await drawnStorage(page, node)).toEqual({
      dead: false,
      entries: 2,
      unsaved: 0,
      committed: 0, // commitIndex starts at 0 again
      disk: "disk: T1 · voted n2 · log to [2]",
    });
    expect(
      await page.locator(`tr[data-i="${back}"] td.lane .lab`).nth(column).textContent(),
    ).toMatch(/^(✂ )?F1$/);
    expect(
      await page.locator(`#state .node-state[data-node="${node}"] .indices`).textContent(),
    ).toBe("commit 0 · applied 0");
    await finish(page, errors, "part3-restart.png");
  });
});

describe("part 3 in chromium: crashed and restarted nodes", () => {
  test("crashed and restarted nodes: grey while down, then the log their storage gave back", async () => {
    const { page, errors } = await open("part3-crash-restart.html", restarted);
    const events = restarted.trace.events;
    for (const kind of ["crash", "restart"] as const) {
      const rows = restarted.rows.flatMap((r, i) => (r.kind === kind ? [i] : []));
      expect(rows.length).toBe(3);
      for (const i of rows) {
        const e = events[i]!;
        if (!e.known || (e.kind !== "crash" && e.kind !== "restart"))
          throw new Error("not a crash or restart");
        await page.locator(`tr[data-i="${i}"] td.time`).click();
        const drawn = await drawnStorage(page, e.details.node);
        expect(drawn.dead, `${kind} n${e.details.node}`).toBe(kind === "crash");
        if (e.kind !== "restart") continue;
        const terms = await page
          .locator(`#state .node-state[data-node="${e.details.node}"] .entry`)
          .evaluateAll((es) => es.map((x) => Number(x.getAttribute("data-term"))));
        expect(terms).toEqual(e.details.log.map((x) => x.term));
        expect([drawn.unsaved, drawn.committed]).toEqual([0, 0]);
      }
    }
    await finish(page, errors, "part3-crash-restart.png");
  });
});

const merged = buildTimeline(mergedRun());

describe("a merged run of real processes with clients, in chromium", () => {
  test("node and client columns, operations drawn from invoke to complete, attempts at nodes", async () => {
    const { page, errors } = await open("merged-run.html", merged);
    expect(await page.locator("thead th.node").allTextContents()).toEqual(["n0", "n1", "n2"]);
    expect(await page.locator("thead th.client").allTextContents()).toEqual(["a", "b"]);
    expect(await page.locator("dl.facts").textContent()).toContain(
      "4 files of one run: test.jsonl, n0.jsonl, n1.jsonl, n2.jsonl",
    );
    // every row's client cells: a running operation in its lane from invoke to complete
    const opCells = merged.rows.flatMap((r) => r.clients).filter((lane) => lane !== null).length;
    expect(await page.locator("td.client.op").count()).toBe(opCells);
    expect(await page.locator("td.client.op-first").count()).toBe(3);
    const ends = await page
      .locator("td.client.op:not(.op-pending)")
      .evaluateAll((tds) => tds.map((td) => td.className.replace(/.*op-(\w+).*/, "$1")));
    expect(ends).toEqual(["ok", "ok", "maybe"]);
    // each attempt marks the node it went to, on the attempt's own row
    const attempts = merged.rows.flatMap((r, i) =>
      r.kind === "client.send" ? [[i, r.peer!.node]] : [],
    );
    for (const [i, node] of attempts) {
      const cell = page.locator(`tr[data-i="${i}"] td.lane`).nth(merged.trace.nodes.indexOf(node!));
      expect(await cell.locator(".peer-mark").textContent()).toMatch(/^← [ab] #\d$/);
    }
    await finish(page, errors, "merged-run.png");
  });
});

describe("a merged run's operations linked across files, in chromium", () => {
  test("clicking an attempt links its operation across files: the node's submit and every apply", async () => {
    const { page, errors } = await open("merged-run-links.html", merged);
    const attempt = merged.rows.findIndex((r) => r.kind === "client.send" && r.peer?.node === 1);
    const conv = merged.rows[attempt]!.conv!;
    await page.locator(`tr[data-i="${attempt}"] .ev`).click();
    const linked = await page
      .locator(".ev.linked")
      .evaluateAll((spans) => spans.map((s) => Number(s.getAttribute("data-i"))));
    expect(linked).toEqual(merged.rows.flatMap((r, i) => (r.conv === conv ? [i] : [])));
    const kinds = linked.map(
      (i) => `${merged.rows[i]!.kind}@${merged.columns[merged.rows[i]!.column]}`,
    );
    expect(kinds).toEqual(
      expect.arrayContaining([
        "client.invoke@a",
        "submit@n1",
        "apply@n0",
        "apply@n1",
        "apply@n2",
        "client.complete@a",
      ]),
    );
    // the last row: n1 is down, n0 and n2 hold b's append at [3], not committed
    await page.locator(`tr[data-i="${merged.rows.length - 1}"] td.time`).click();
    for (const [node, dead] of [
      [0, false],
      [1, true],
      [2, false],
    ] as const) {
      const drawn = await drawnStorage(page, node);
      expect([drawn.dead, drawn.entries, drawn.committed], `n${node}`).toEqual([dead, 3, 2]);
    }
    await finish(page, errors, "merged-run-links.png");
  });
});
