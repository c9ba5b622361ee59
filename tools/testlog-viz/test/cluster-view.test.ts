// The cluster view in Chromium (src/page/cluster-view.ts, player.ts), on real traces of parts 1
// to 6, a recorded run of real processes whose leader is SIGKILLed, and a failing test: what it
// draws at a moment is read against the trace's own events (through ClusterModel, which the
// unit tests hold to the events), messages are seen to move as the test scrubs and plays, the
// table and the view stay in step, and no page logs an error or asks for anything.
// Screenshots go to out/browser/cluster-*.png.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ClusterModel } from "../src/cluster-model.ts";
import { firstFailure } from "../src/failure.ts";
import { buildTimeline, type Timeline } from "../src/model.ts";
import { baseOf } from "../src/state.ts";
import { finish, launch, OUT, open } from "./pages.ts";
import { kvRun, realTimeline } from "./real.ts";

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

const modelOf = (timeline: Timeline) => {
  const model = new ClusterModel(timeline.trace.nodes);
  model.appendEvents(timeline.trace.events);
  return model;
};

/** The event the cluster view shows now. */
const shown = async (page: Page) =>
  Number(await page.locator("#cluster-view").getAttribute("data-index"));

/** Selects row i in the table (scrolling until it is drawn); the view glides there. */
async function selectRow(page: Page, i: number): Promise<void> {
  const row = page.locator(`tr[data-i="${i}"] td.time`);
  while ((await row.count()) === 0) {
    await page.evaluate(`document.getElementById("more").scrollIntoView()`);
    await page.waitForTimeout(50);
  }
  await row.dispatchEvent("click"); // not a pointer click: the state panel may cover the row
  await expect.poll(() => shown(page)).toBe(i);
}

/** Moves the player's scrubber to time t (as a reader drags it). */
async function scrubTo(page: Page, t: number, duration: number): Promise<void> {
  const value = Math.round((t / duration) * 2000);
  await page.locator(".cv-scrub").evaluate((input, v) => {
    (input as unknown as { value: string }).value = String(v);
    input.dispatchEvent(new Event("input"));
  }, value);
}

/**
 * Where a message's dot is (the centre of part 5's InstallSnapshot square, a rect 14 wide), and
 * how far it is from where its receiver stands.
 */
async function dotOf(page: Page, msg: number, to: number) {
  const dot = page.locator(`#cluster-view .flight[data-msg="${msg}"] .dot`).first();
  if ((await dot.count()) === 0) return null;
  const square = (await dot.getAttribute("cx")) === null;
  const x = square ? Number(await dot.getAttribute("x")) + 7 : Number(await dot.getAttribute("cx"));
  const y = square ? Number(await dot.getAttribute("y")) + 7 : Number(await dot.getAttribute("cy"));
  const where = await page
    .locator(`#cluster-view .node[data-node="${to}"]`)
    .getAttribute("transform");
  const [tx, ty] = where!.match(/-?[\d.]+/g)!.map(Number);
  return { x, y, toReceiver: Math.hypot(tx! - x, ty! - y) };
}

const story = realTimeline("part2-story.jsonl");

describe("the cluster view on part2's story (pnpm demo), in chromium", () => {
  test("three nodes; a message moves from sender to receiver as the scrubber moves", async () => {
    const opened = await open(browser, "cluster-part2-story.html", story);
    const { page } = opened;
    expect(await page.locator("#cluster-view .node").count()).toBe(3);
    const model = modelOf(story);
    const f = model.flights.find(
      (x) =>
        x.how === "delivered" &&
        !x.heartbeat &&
        x.rpc === "AppendEntries" &&
        x.end!.t - x.sent.t >= 3,
    )!;
    const duration = story.rows.at(-1)!.t;
    const span = f.end!.t - f.sent.t;
    await scrubTo(page, f.sent.t + span * 0.2, duration);
    const early = (await dotOf(page, f.msg, f.to))!;
    await scrubTo(page, f.sent.t + span * 0.8, duration);
    const late = (await dotOf(page, f.msg, f.to))!;
    expect(late.toReceiver).toBeLessThan(early.toReceiver - 10);
    // the table follows the scrubber: the row of the moment shown is selected (a few times a
    // second at most, so the selection of the first scrub may still show for a while)
    const moment = String(await shown(page));
    await expect
      .poll(() => page.locator("tr.selected").getAttribute("data-i"), { timeout: 20_000 })
      .toBe(moment);
    await page.screenshot({ path: new URL("cluster-part2-story-message.png", OUT).pathname });
    await scrubTo(page, f.end!.t + 0.5, duration);
    expect(await dotOf(page, f.msg, f.to)).toBeNull(); // delivered: gone
    await finish(opened);
  });

  test("space plays it (messages fly, the table's selection follows), space pauses; ↓ glides one row", async () => {
    const opened = await open(browser, "cluster-part2-story-play.html", story);
    const { page } = opened;
    const election = story.rows.findIndex((r) => r.kind === "election.timeout");
    await selectRow(page, election - 1);
    await page.locator("body").press(" ");
    // playing: the moment moves on, messages appear on their way, the table keeps up
    await expect.poll(() => shown(page), { timeout: 20_000 }).toBeGreaterThan(election + 3);
    await expect
      .poll(() => page.locator("#cluster-view .flight").count(), { timeout: 20_000 })
      .toBeGreaterThan(0);
    await page.locator("body").press(" ");
    const paused = await shown(page);
    await page.waitForTimeout(300);
    expect(await shown(page)).toBe(paused);
    expect(await page.locator("tr.selected").getAttribute("data-i")).toBe(String(paused));
    expect(await page.locator(".cv-play").textContent()).toBe("▶");
    await page.keyboard.press("ArrowDown");
    await expect.poll(() => shown(page)).toBe(paused + 1);
    await finish(opened, "cluster-part2-story-playing.png");
  });

  test("clicking a message in the view links it in the table; clicking a node selects its last event", async () => {
    const opened = await open(browser, "cluster-part2-story-click.html", story);
    const { page } = opened;
    const model = modelOf(story);
    const f = model.flights.find((x) => x.how === "delivered" && x.end!.index - x.sent.index > 2)!;
    await selectRow(page, f.sent.index + 1);
    await page
      .locator(`#cluster-view .flight[data-msg="${f.msg}"]`)
      .first()
      .click({ force: true, timeout: 5000 });
    expect(await page.locator("tr.selected").getAttribute("data-i")).toBe(String(f.sent.index));
    const linked = await page
      .locator(".ev.linked")
      .evaluateAll((spans) => spans.map((s) => Number(s.getAttribute("data-i"))));
    expect(linked).toContain(f.sent.index);
    expect(linked).toContain(f.end!.index);
    // a node: its last event up to the moment shown
    const later = story.rows.findIndex((r) => r.kind === "commit");
    await selectRow(page, later);
    const node = story.rows.find(
      (r, i) => i < later && r.node !== null && r.node !== story.rows[later]!.node,
    )!.node!;
    await page.locator(`#cluster-view .node[data-node="${node}"]`).click({ timeout: 5000 });
    const selected = Number(await page.locator("tr.selected").getAttribute("data-i"));
    expect(story.rows[selected]!.node).toBe(node);
    expect(selected).toBeLessThanOrEqual(later);
    expect(story.rows.slice(selected + 1, later + 1).some((r) => r.node === node)).toBe(false);
    expect(
      await page.locator(`#cluster-view .node[data-node="${node}"]`).getAttribute("class"),
    ).toContain("selected");
    await finish(opened);
  });
});

describe("the cluster view on parts 1, 3 and 4, in chromium", () => {
  test("part 1: no logs; a timer the trace says fires runs down exactly; the isolated node is cut off", async () => {
    const timeline = realTimeline("part1-old-leader-reconnects.jsonl");
    const opened = await open(browser, "cluster-part1.html", timeline);
    const { page } = opened;
    expect(await page.locator("#cluster-view .cv-note").textContent()).toContain("No logs");
    const fires = timeline.rows.findIndex((r, i) => i > 5 && r.kind === "election.timeout");
    const node = timeline.rows[fires]!.node!;
    await selectRow(page, fires - 1);
    const timer = page.locator(`#cluster-view .node[data-node="${node}"] .timer`);
    expect(await timer.getAttribute("class")).toBe("timer exact");
    // just before it fires, little of it is left: a short arc
    const length = await timer.evaluate((path) =>
      (path as unknown as { getTotalLength(): number }).getTotalLength(),
    );
    expect(length).toBeLessThan(2 * Math.PI * 32 * 0.5);
    const isolate = timeline.rows.findIndex((r) => r.kind === "isolate");
    await selectRow(page, isolate);
    expect(await page.locator("#cluster-view .node.cut").count()).toBe(1);
    await finish(opened, "cluster-part1.png");
  });

  test("part 3: a halted leader is down with its reason, its unsaved entry lost; restarted, it holds what it saved", async () => {
    const timeline = realTimeline("part3-halt-before-durable.jsonl");
    const opened = await open(browser, "cluster-part3.html", timeline);
    const { page } = opened;
    const halt = timeline.rows.findIndex((r) => r.kind === "halt");
    const node = timeline.rows[halt]!.node!;
    await selectRow(page, halt);
    const glyph = page.locator(`#cluster-view .node[data-node="${node}"]`);
    expect(await glyph.getAttribute("class")).toContain("role-dead");
    expect(await glyph.locator(".below").textContent()).toMatch(/^halted: /);
    const row = page.locator(`#cluster-view .cv-logs tr[data-node="${node}"]`);
    expect(await row.locator("td.entry.unsaved").count()).toBe(1);
    expect(await row.locator("td.entry.unsaved").getAttribute("title")).toContain("lost");
    await page.screenshot({ path: new URL("cluster-part3-halt.png", OUT).pathname });
    const back = timeline.rows.findIndex((r) => r.kind === "restart");
    await selectRow(page, back);
    expect(await glyph.getAttribute("class")).not.toContain("role-dead");
    const e = timeline.trace.events[back]!;
    const restored = e.known && e.kind === "restart" ? e.details.log.length : -1;
    expect(await row.locator("td.entry").count()).toBe(restored);
    expect(await row.locator("td.entry.committed").count()).toBe(0);
    await finish(opened, "cluster-part3-restart.png");
  });

  test("part 4: a box per client with its operation; an attempt is a line to the node it tries", async () => {
    const timeline = realTimeline("part4-two-clients.jsonl");
    const opened = await open(browser, "cluster-part4.html", timeline);
    const { page } = opened;
    expect(await page.locator("#cluster-view .client-name").allTextContents()).toEqual([
      "client a",
      "client b",
    ]);
    const attempt = timeline.rows.findIndex((r) => r.kind === "client.send");
    await selectRow(page, attempt);
    expect(await page.locator("#cluster-view .attempt").count()).toBe(1);
    expect(
      await page.locator("#cluster-view .client.op-pending .client-op").first().textContent(),
    ).toMatch(/^#1 put x$/);
    const applied = timeline.rows.findLastIndex((r) => r.kind === "apply");
    await selectRow(page, applied);
    // a's put in every log: in a few characters in its cell, whole in the cell's tooltip
    expect(await page.locator("#cluster-view .cv-logs td.entry .cmd").allTextContents()).toContain(
      "put x 1",
    );
    const titles = await page
      .locator("#cluster-view .cv-logs td.entry")
      .evaluateAll((tds) => tds.map((td) => td.getAttribute("title")));
    expect(titles).toContain('[2] T1 a #1: put "x" "1"');
    await finish(opened, "cluster-part4.png");
  });
});

/** The log indices a node's row of the cluster view's logs draws entries at. */
const drawnIndices = (page: Page, node: number) =>
  page
    .locator(`#cluster-view .cv-logs tr[data-node="${node}"] td.entry`)
    .evaluateAll((tds) => tds.map((td) => Number(td.getAttribute("data-index"))));

describe("the cluster view on part 5 (snapshots, InstallSnapshot), in chromium", () => {
  test("an InstallSnapshot flies as a square labelled with its chunk, its reply back; then the follower's log starts after the snapshot", async () => {
    const timeline = realTimeline("part5-slow-follower.jsonl");
    const opened = await open(browser, "cluster-part5-install.html", timeline);
    const { page } = opened;
    const model = modelOf(timeline);
    const f = model.flights.find((x) => x.rpc === "InstallSnapshot" && x.type === "request")!;
    const reply = model.flights.find((x) => x.rpc === "InstallSnapshot" && x.type === "reply")!;
    const duration = timeline.rows.at(-1)!.t;
    const span = f.end!.t - f.sent.t;
    expect(span).toBeGreaterThan(0);
    await scrubTo(page, f.sent.t + span * 0.2, duration);
    const early = (await dotOf(page, f.msg, f.to))!;
    await scrubTo(page, f.sent.t + span * 0.8, duration);
    const late = (await dotOf(page, f.msg, f.to))!;
    expect(late.toReceiver).toBeLessThan(early.toReceiver - 10);
    const glyph = page.locator(`#cluster-view .flight[data-msg="${f.msg}"]`);
    expect(await glyph.locator(".dot").evaluate((dot) => dot.tagName)).toBe("rect");
    expect(await glyph.getAttribute("class")).toBe("flight InstallSnapshot request");
    const { lastIncludedIndex, offset, data } = f.payload as unknown as {
      lastIncludedIndex: number;
      offset: number;
      data: string;
    };
    expect(await glyph.locator(".label").textContent()).toBe(
      `≤[${lastIncludedIndex}] ${offset}..${offset + data.length} last`,
    );
    // told apart from AppendEntries (blue) and RequestVote (amber) by its colour too
    const colour = await glyph
      .locator(".dot")
      .evaluate(
        (dot) =>
          (
            globalThis as unknown as { getComputedStyle(e: unknown): { fill: string } }
          ).getComputedStyle(dot).fill,
      );
    expect(colour).toBe("rgb(11, 132, 132)");
    await page.locator("#cluster-view").screenshot({
      path: new URL("cluster-part5-install-request.png", OUT).pathname,
    });
    await scrubTo(page, reply.sent.t + (reply.end!.t - reply.sent.t) / 2, duration);
    const back = page.locator(`#cluster-view .flight[data-msg="${reply.msg}"]`);
    expect(await back.getAttribute("class")).toBe("flight InstallSnapshot reply");
    expect(await back.locator(".mark").textContent()).toBe("✓");
    // installed: the snapshot is a block over the columns it holds, the log starts after it
    const installed = timeline.rows.findIndex((r) => r.kind === "snapshot.install");
    const follower = timeline.rows[installed]!.node!;
    const taken = timeline.rows.findIndex((r) => r.kind === "snapshot.chunk");
    await selectRow(page, taken);
    const before = model.stateAt(taken).get(follower)!;
    expect(await drawnIndices(page, follower)).toEqual(before.log.map((_, i) => i + 1));
    expect(before.log.length).toBeGreaterThan(0);
    await selectRow(page, installed);
    const block = page.locator(`#cluster-view .cv-logs tr[data-node="${follower}"] td.snapshot`);
    expect(await block.textContent()).toBe(`snapshot ≤[${lastIncludedIndex}] T1`);
    expect(await block.getAttribute("colspan")).toBe(String(1 + lastIncludedIndex));
    const line = page.locator(`#state .node-state[data-node="${follower}"]`);
    expect(await line.locator(".snapshot").textContent()).toBe(
      `snapshot ≤[${lastIncludedIndex}] T1`,
    );
    // the state panel: the compacted prefix before the log strip
    const order = await line.evaluate((div) =>
      [...div.children].map((c) => c.className.split(" ")[0]),
    );
    expect(order.indexOf("snapshot")).toBe(order.indexOf("log") - 1);
    // at the end, its log is what the state says: the entries after the snapshot, at their indices
    const last = timeline.rows.findIndex((r) => r.kind === "shutdown") - 1;
    await selectRow(page, last);
    const state = model.stateAt(last).get(follower)!;
    expect(await drawnIndices(page, follower)).toEqual(
      state.log.map((_, i) => baseOf(state) + 1 + i),
    );
    await finish(opened, "cluster-part5-installed.png");
  });

  test("chunks: what a follower holds of them, lost in a crash, sent again from 0 while playing; a restart from a snapshot", async () => {
    const timeline = realTimeline("part5-chunks.jsonl");
    const opened = await open(browser, "cluster-part5-chunks.html", timeline);
    const { page } = opened;
    const events = timeline.trace.events;
    const crash = events.findIndex((e) => e.kind === "crash");
    const chunk = events.findLastIndex((e, i) => i < crash && e.kind === "snapshot.chunk");
    const e = events[chunk]!;
    const d = e.known && e.kind === "snapshot.chunk" ? e.details : null;
    const away = e.node!;
    await selectRow(page, chunk);
    const logRow = page.locator(`#cluster-view .cv-logs tr[data-node="${away}"]`);
    expect(await logRow.locator(".incoming").textContent()).toBe(
      `⇣ ≤[${d!.lastIncludedIndex}] ${d!.offset + d!.size} ch.`,
    );
    await page.screenshot({ path: new URL("cluster-part5-chunks.png", OUT).pathname });
    await selectRow(page, crash);
    expect(await logRow.locator(".incoming").count()).toBe(0);
    // played from the restart: the leader's chunks are seen on their way again
    const restart = events.findIndex((x) => x.kind === "restart");
    await selectRow(page, restart);
    await page.locator("body").press(" ");
    await expect
      .poll(() => page.locator("#cluster-view .flight.InstallSnapshot.request").count(), {
        timeout: 20_000,
      })
      .toBeGreaterThan(0);
    await page.locator("body").press(" ");
    await page.locator("#cluster-view").screenshot({
      path: new URL("cluster-part5-chunks-playing.png", OUT).pathname,
    });
    // the other follower restarts from its snapshot and the entries after it
    const second = events.findLastIndex((x) => x.kind === "restart");
    const r = events[second]!;
    const loaded = r.known && r.kind === "restart" ? r.details : null;
    await selectRow(page, second);
    const other = loaded!.node;
    const base = loaded!.snapshot!.lastIncludedIndex;
    const block = page.locator(`#cluster-view .cv-logs tr[data-node="${other}"] td.snapshot`);
    expect(await block.textContent()).toMatch(new RegExp(`^snapshot ≤\\[${base}\\] T1`));
    expect(await drawnIndices(page, other)).toEqual(loaded!.log.map((_, i) => base + 1 + i));
    expect(
      await page.locator(`#state .node-state[data-node="${other}"] .indices`).textContent(),
    ).toBe(`commit ${base} · applied ${base}`);
    await finish(opened, "cluster-part5-restart.png");
  });

  test("data.lost is loud: a section at the top, a red row, the node marked in the picture", async () => {
    const timeline = realTimeline("part5-data-lost.jsonl");
    const opened = await open(browser, "cluster-part5-data-lost.html", timeline);
    const { page } = opened;
    const i = timeline.rows.findIndex((r) => r.kind === "data.lost");
    const e = timeline.trace.events[i]!;
    const peer = e.known && e.kind === "data.lost" ? e.details.peer : -1;
    const section = page.locator("section.lost-data");
    expect(await section.getAttribute("role")).toBe("alert");
    expect(await section.textContent()).toContain(
      `row ${i + 1}: n${e.node}: n${peer} HAS LOST DATA`,
    );
    await section.screenshot({
      path: new URL("cluster-part5-data-lost-section.png", OUT).pathname,
    });
    await section.locator(`a[data-row="${i}"]`).click();
    await expect.poll(() => shown(page)).toBe(i);
    expect(await page.locator(`tr[data-i="${i}"]`).getAttribute("class")).toContain("tone-alarm");
    const glyph = page.locator(`#cluster-view .node[data-node="${peer}"]`);
    expect(await glyph.getAttribute("class")).toContain("lost");
    expect(await glyph.locator(".below").textContent()).toBe("LOST DATA");
    await finish(opened, "cluster-part5-data-lost.png");
  });
});

/** A computed style of an element of the page, read in the page. */
const styleOf = (page: Page, selector: string, property: string) =>
  page
    .locator(selector)
    .first()
    .evaluate(
      (e, p) =>
        (
          globalThis as unknown as {
            getComputedStyle(e: unknown): { getPropertyValue(p: string): string };
          }
        )
          .getComputedStyle(e)
          .getPropertyValue(p),
      property,
    );

describe("the cluster view on part 6 (PreVote, lease, transfer, ReadIndex, drift), in chromium", () => {
  test("pre-votes fly dashed and labelled, their asker rings dashed; TimeoutNow, ReadIndex and the badges; the state panel says part 6's state", async () => {
    const timeline = realTimeline("part6-availability.jsonl");
    const opened = await open(browser, "cluster-part6.html", timeline);
    const { page } = opened;
    const model = modelOf(timeline);
    const events = timeline.trace.events;
    const duration = timeline.rows.at(-1)!.t;
    // a pre-vote in flight: dashed, labelled with the term it asks about, told apart from RequestVote
    const pre = model.flights.find(
      (f) => f.rpc === "PreVote" && f.type === "request" && f.end!.t - f.sent.t >= 2,
    )!;
    await scrubTo(page, pre.sent.t + (pre.end!.t - pre.sent.t) / 2, duration);
    const glyph = page.locator(`#cluster-view .flight[data-msg="${pre.msg}"]`);
    expect(await glyph.getAttribute("class")).toBe("flight PreVote request");
    expect(await glyph.locator(".label").textContent()).toBe(`pre T${pre.payload.term}`);
    expect(await styleOf(page, `.flight[data-msg="${pre.msg}"] .track`, "stroke-dasharray")).toBe(
      "5px, 4px",
    );
    const asker = page.locator(`#cluster-view .node[data-node="${pre.from}"]`);
    expect(await asker.getAttribute("class")).toContain("precandidate");
    expect(await asker.locator(".role").textContent()).toBe("pre-vote");
    await page.locator("#cluster-view").screenshot({
      path: new URL("cluster-part6-prevote.png", OUT).pathname,
    });
    // the transfer: the leader's badge names its target, TimeoutNow flies as a diamond
    const start = events.findIndex((e) => e.kind === "transfer.start");
    const target = (events[start]!.details as { target: number }).target;
    const now = model.flights.find((f) => f.rpc === "TimeoutNow" && f.type === "request")!;
    await selectRow(page, now.sent.index);
    const leader = page.locator(`#cluster-view .node[data-node="${events[start]!.node}"]`);
    expect(await leader.locator(".badges").textContent()).toContain(`→n${target}`);
    const diamond = page.locator(`#cluster-view .flight[data-msg="${now.msg}"]`);
    expect(await diamond.locator(".dot").evaluate((d) => d.tagName)).toBe("polygon");
    expect(await diamond.locator(".label").textContent()).toBe("TimeoutNow");
    const line = page.locator(`#state .node-state[data-node="${events[start]!.node}"]`);
    expect(await line.textContent()).toContain(`→n${target}`);
    await page.screenshot({ path: new URL("cluster-part6-transfer.png", OUT).pathname });
    // a follower's read: ReadIndex in its own colour, "1 read" under both nodes while it waits
    const ask = model.flights.find((f) => f.rpc === "ReadIndex" && f.type === "request")!;
    await selectRow(page, ask.sent.index);
    const read = page.locator(`#cluster-view .flight[data-msg="${ask.msg}"]`);
    expect(await read.locator(".label").textContent()).toBe("read?");
    expect(await styleOf(page, `.flight[data-msg="${ask.msg}"] .dot`, "fill")).toBe(
      "rgb(74, 58, 168)",
    );
    const follower = page.locator(`#cluster-view .node[data-node="${ask.from}"]`);
    expect(await follower.locator(".badges").textContent()).toContain("1 read");
    // the drifting node: its clock's rate under it and in the state panel
    const drift = events.findIndex((e) => e.kind === "drift");
    const fast = (events[drift]!.details as { node: number }).node;
    expect(
      await page.locator(`#cluster-view .node[data-node="${fast}"] .badges`).textContent(),
    ).toContain("clock ×1.5");
    expect(await page.locator(`#state .node-state[data-node="${fast}"]`).textContent()).toContain(
      "clock ×1.5",
    );
    // a follower that ignores a pre-vote under its lease: "lease (heard … ms ago)" in the panel
    const lease = events.findIndex((e) => e.kind === "lease" && e.details.heardMsAgo !== undefined);
    await selectRow(page, lease);
    const holder = page.locator(`#state .node-state[data-node="${events[lease]!.node}"]`);
    expect(await holder.locator(".p6", { hasText: "lease" }).textContent()).toMatch(
      /^lease \(heard \d+ ms ago\)$/,
    );
    expect(await holder.locator(".leader-known").textContent()).toMatch(/^leader n\d$/);
    await page.locator("#cluster-view").screenshot({
      path: new URL("cluster-part6-lease.png", OUT).pathname,
    });
    // CheckQuorum: the cut-off leader steps down in its own term
    const down = timeline.rows.findIndex(
      (r) => r.kind === "role" && r.text.includes("CheckQuorum"),
    );
    await selectRow(page, down);
    const stepped = page.locator(`#cluster-view .node[data-node="${events[down]!.node}"]`);
    expect(await stepped.getAttribute("class")).toContain("role-follower");
    expect(await stepped.locator(".badges").textContent()).toContain("no quorum");
    expect(await page.locator("#cluster-view .cv-caption").textContent()).toContain("CheckQuorum");
    expect(await page.locator(".cv-legend").textContent()).toContain("PreVote, dashed");
    await finish(opened, "cluster-part6-checkquorum.png");
  });
});

describe("the cluster view on real processes, in chromium", () => {
  test("a SIGKILLed leader is dead from the kill, not leading beside the new leader until it restarts", async () => {
    const timeline = buildTimeline(kvRun());
    const opened = await open(browser, "cluster-kv-run.html", timeline);
    const { page } = opened;
    const kill = timeline.trace.events.findIndex(
      (e) => e.kind === "process.exit" && e.details.signal === "SIGKILL",
    );
    const node = timeline.trace.events[kill]!.node!;
    const glyph = page.locator(`#cluster-view .node[data-node="${node}"]`);
    await selectRow(page, kill - 1);
    expect(await glyph.getAttribute("class")).toContain("role-leader");
    await page.keyboard.press("ArrowDown");
    await expect.poll(() => shown(page)).toBe(kill);
    expect(await glyph.getAttribute("class")).toContain("role-dead");
    expect(await glyph.locator(".below").textContent()).toBe("killed by SIGKILL");
    expect(await page.locator("#cluster-view .cv-caption").textContent()).toMatch(
      /^\+\d+\.\d{3} s/,
    );
    await page.screenshot({ path: new URL("cluster-kv-run-killed.png", OUT).pathname });
    // until its new process starts, it stays down, and the one leader is the new one
    const back = timeline.trace.events.findIndex((e, i) => i > kill && e.kind === "process.start");
    const newLeader = timeline.rows.findIndex(
      (r, i) => i > kill && r.kind === "role" && r.text.includes("→ leader"),
    );
    await selectRow(page, newLeader);
    expect(await glyph.getAttribute("class")).toContain("role-dead");
    expect(await page.locator("#cluster-view .node.role-leader").count()).toBe(1);
    await selectRow(page, back);
    expect(await glyph.getAttribute("class")).not.toContain("role-dead");
    await finish(opened, "cluster-kv-run-restarted.png");
  });
});

describe("why it failed, in chromium", () => {
  test("a failing test's page opens at its first violation, its causes marked in the table and the view", async () => {
    const timeline = realTimeline("part1-mutant-two-leaders.jsonl");
    const failure = firstFailure(timeline)!;
    const opened = await open(browser, "cluster-failure.html", timeline);
    const { page } = opened;
    expect(await page.locator("#failure").textContent()).toContain(
      "Election Safety (§5.2, Figure 3): at most one leader is elected in a term.",
    );
    expect(await page.locator("tr.selected").getAttribute("data-i")).toBe(String(failure.row));
    expect(await shown(page)).toBe(failure.row);
    const marked = await page
      .locator("tr.cause")
      .evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute("data-i"))));
    expect(marked).toEqual(failure.causes);
    const blamed = await page
      .locator("#cluster-view .node.blamed")
      .evaluateAll((gs) => gs.map((g) => Number(g.getAttribute("data-node"))));
    expect(blamed).toEqual(failure.nodes);
    expect(await page.locator("#cluster-view .node.role-leader").count()).toBe(2);
    await finish(opened, "cluster-failure.png");
  });
});
