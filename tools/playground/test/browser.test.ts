// The built playground in a real browser (the system's Chromium, driven by playwright-core):
// it loads from file:// with no console error and no request leaving its folder, elects leaders,
// plays a link to the same trace as Node, records the reader's clicks as a link Node plays the
// same, shows a mutant's violation with its rule and the events behind it, runs the parts' test
// scenarios and lets the reader take one over, and downloads a trace `pnpm viz` renders.
// Never skipped: without a Chromium every test here fails, saying how to install one.
// The picture is testlog-viz's cluster view. Screenshots go to out/browser/.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { findChromium } from "../../testlog-viz/test/chromium.ts";
import { REPO, TOOL_DIR } from "../src/build/bundle.ts";
import { buildSite } from "../src/build/site.ts";
import { traceHash } from "../src/engine/hash.ts";
import { fromFragment } from "../src/engine/spec.ts";
import { nodeEngine } from "../src/node/bundled.ts";
import { PARTS, partInfo } from "../src/parts.ts";
import { rejoin, SCRIPT, SCRIPT5, SCRIPT5_UNTIL_RESTART, SCRIPT6 } from "./sessions.ts";

const OUT = path.join(TOOL_DIR, "out", "browser");
const SITE = path.join(TOOL_DIR, "out", "browser-site");
const SITE_URL = pathToFileURL(SITE).href;

let browser: Browser;
beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  await buildSite(SITE);
  browser = await chromium.launch({
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
});
afterAll(async () => {
  await browser?.close();
});

interface Opened {
  page: Page;
  /** console errors, page errors, and every request for anything outside the built folder */
  problems: string[];
}

/** Opens the built page at `fragment`; every request is checked: only the site's own files load. */
async function open(fragment: string): Promise<Opened> {
  const context = await browser.newContext({
    viewport: { width: 1400, height: 1000 },
    acceptDownloads: true,
  });
  const problems: string[] = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(`${SITE_URL}/`)) return route.continue();
    problems.push(`request left the page: ${url}`);
    return route.abort();
  });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  await page.goto(`${SITE_URL}/index.html#${fragment}`);
  await page.waitForSelector("#node-pick button");
  return { page, problems };
}

async function finish({ page, problems }: Opened, screenshot?: string): Promise<void> {
  if (screenshot !== undefined)
    await page.screenshot({ path: path.join(OUT, screenshot), fullPage: true });
  expect(problems).toEqual([]);
  await page.context().close();
}

/** Polls `read` (a few times a second, for up to a minute) until it gives a value. */
async function until<T>(read: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** The number in the page's clock line: "t = 123 ms · gate 45 · 678 events". */
async function clock(page: Page, field: "t" | "events"): Promise<number> {
  const text = (await page.locator("#clock").textContent()) ?? "";
  const found = field === "t" ? /t = (\d+)/.exec(text) : /(\d+) events/.exec(text);
  return Number(found?.[1] ?? Number.NaN);
}

/** The trace hash the page shows once the session holds, for all the events it has. */
function pageHash(page: Page): Promise<string> {
  return until(async () => {
    const out = page.locator("#hash");
    const hash = await out.getAttribute("data-hash");
    const events = await out.getAttribute("data-events");
    return hash !== null && Number(events) === (await clock(page, "events")) ? hash : undefined;
  }, "the trace's hash");
}

/** Waits until the element's text contains `text` (is exactly `text` with `exact`). */
async function waitText(page: Page, selector: string, text: string, exact = false): Promise<void> {
  await until(async () => {
    const got = (await page.locator(selector).textContent()) ?? "";
    return (exact ? got === text : got.includes(text)) ? true : undefined;
  }, `${selector} to say "${text}"`);
}

/** The same link played in Node (the part's Node bundle, in this process): its trace hash, and the session. */
async function nodeRun(link: string) {
  const spec = fromFragment(link);
  const engine = await nodeEngine(spec.part);
  const session = new engine.Session(await engine.runtime, spec);
  session.start();
  await session.settledNow();
  session.close();
  return { hash: await traceHash(session.events), session };
}

/**
 * The link played by Node twice, from the parts' source (tsx, no bundle: `--replay --direct`) and
 * from the part's Node bundle: both must give the hash the page shows. Returns the bundle's run.
 */
async function sameInNode(link: string, browserHash: string) {
  const direct = spawnSync(
    path.join(TOOL_DIR, "node_modules", ".bin", "tsx"),
    [path.join(TOOL_DIR, "src", "cli.ts"), "--replay", link, "--direct"],
    { encoding: "utf8" },
  );
  expect(direct.status, direct.stderr).toBe(0);
  expect(direct.stdout).toContain(`sha256 ${browserHash}`);
  const node = await nodeRun(link);
  expect(node.hash).toBe(browserHash);
  return node;
}

const leaderShown = (page: Page) =>
  page.waitForSelector("#view g.node.role-leader", { timeout: 60_000 });

describe("the static build in Chromium", () => {
  test.each(PARTS.map((p) => p.name))(
    "%s loads without errors and elects a leader within a few seconds of virtual time",
    async (part) => {
      const opened = await open(`part=${part}&n=3&seed=1&at=300`);
      const { page } = opened;
      await pageHash(page);
      // the snapshot action and the note on a free session's settings are part 5's and 6's,
      // the transfer, the read and the options' switches part 6's
      const info = partInfo(part);
      expect(await page.locator("#node-snapshot").count()).toBe(info.snapshot ? 1 : 0);
      expect(await page.locator("#part-note").isVisible()).toBe(info.session !== undefined);
      expect(await page.locator("#node-transfer").count()).toBe(info.transfer ? 1 : 0);
      expect(await page.locator("#node-read").count()).toBe(info.reads ? 1 : 0);
      expect(await page.locator("#switches input:checked").count()).toBe(
        info.switches?.length ?? 0,
      );
      const won = await page
        .locator("#event-list li", { hasText: "candidate → leader" })
        .first()
        .textContent();
      const t = Number(/^\s*(\d+) ms/.exec(won ?? "")?.[1]);
      expect(t).toBeGreaterThan(0);
      expect(t).toBeLessThan(3000);
      await leaderShown(page);
      await finish(opened, `${part}-elected.png`);
    },
  );

  test("at real-time speed the picture follows the cluster: a leader within seconds", async () => {
    const opened = await open("part=part2-replication&n=5&seed=2");
    await opened.page.selectOption("#speed", "1");
    await leaderShown(opened.page);
    await finish(opened, "part2-live.png");
  });
});

describe("one session, the same trace in Chromium and in Node", () => {
  test("a scripted link: the hash in Chromium is the hash of the parts' source run by Node (tsx)", async () => {
    const opened = await open(SCRIPT);
    await sameInNode(SCRIPT, await pageHash(opened.page));
    await finish(opened, "part3-scripted.png");
  });

  test("part 4's clients: put, get and append through the simulated clients, the same in both", async () => {
    const link =
      "part=part4-kv&n=3&seed=4&a=60.put.c1.x.1,61.get.c2.x,62.append.c1.x.2,300.crash.0,420.put.c3.y.z&at=900";
    const opened = await open(link);
    const browserHash = await pageHash(opened.page);
    expect((await nodeRun(link)).hash).toBe(browserHash);
    await waitText(opened.page, "#event-list", "c2 #1 done");
    await finish(opened, "part4-clients.png");
  });

  test("the reader's clicks become a link that Node plays to the same trace", async () => {
    const opened = await open("part=part3-persistence&n=3&seed=5");
    const { page } = opened;
    await page.selectOption("#speed", "1");
    await leaderShown(page);
    await page.click("#play"); // pause
    const leader = await page.locator("#view g.node.role-leader").first().getAttribute("data-node");
    await page.click(`#view g.node[data-node="${leader}"]`);
    await page.click("#node-crash");
    await page.fill("#command", "y=2");
    await page.click("#submit-form button[type=submit]");
    await page.click("#play");
    await page.waitForTimeout(700);
    await page.click("#play");
    await page.click("#node-restart");
    await page.fill(
      "#groups",
      `${leader} | ${[0, 1, 2].filter((n) => String(n) !== leader).join(" ")}`,
    );
    await page.click("#partition-form button[type=submit]");
    await page.click("#heal");
    await page.click("#step");
    await page.click("#step");
    await page.click("#copy-link");
    expect(await page.locator("#action-error").textContent()).toBe("");
    const link = await page.locator("#link").inputValue();
    expect(link).toMatch(
      /a=\d+\.crash\.\d,\d+\.submit\.leader\.y%3D2,\d+\.restart\.\d,\d+\.partition\.[\d_-]+,\d+\.heal/,
    );
    const browserHash = await pageHash(page);
    expect((await nodeRun(link)).hash).toBe(browserHash);
    await finish(opened, "part3-clicked.png");
  });
});

/** Steps (the page's own button) until `selector` shows, one event at a time, at most `max` times. */
async function stepUntil(page: Page, selector: string, max: number): Promise<number> {
  const last = async () =>
    Number(await page.locator("#event-list li:last-child").getAttribute("data-i"));
  for (let steps = 0; steps < max; steps++) {
    if ((await page.locator(selector).count()) > 0) return steps;
    const before = await last();
    await page.click("#step");
    await until(async () => ((await last()) > before ? true : undefined), "one more event");
  }
  throw new Error(`${selector} did not show in ${max} steps`);
}

describe("part 5: snapshots in the page", () => {
  test("a scripted session where the reader's snapshot reaches a lagging follower: the hash in Chromium is Node's", async () => {
    const opened = await open(SCRIPT5);
    const node = await sameInNode(SCRIPT5, await pageHash(opened.page));
    const kinds = node.session.events.map((e) => `${e.node}:${e.kind}`);
    expect(kinds).toContain("0:snapshot.install");
    await waitText(opened.page, "#event-list", "installs n2's snapshot through [4] T1");
    await finish(opened, "part5-scripted.png");
  });

  test("the reader watches InstallSnapshot bring a follower back, then takes a snapshot: the page shows both, Node agrees", async () => {
    const opened = await open(`${SCRIPT5_UNTIL_RESTART}&at=80`);
    const { page } = opened;
    await pageHash(page);
    await waitText(page, "#part-note", "after every 5 entries it applies");
    expect(await page.locator("#node-snapshot").textContent()).toBe("take a snapshot");
    // one event at a time until a chunk of n2's snapshot is on its way to n0, drawn as a square
    await stepUntil(page, "#view g.flight.InstallSnapshot.request:not(.doomed)", 400);
    const label = await page
      .locator("#view g.flight.InstallSnapshot.request text.label")
      .first()
      .textContent();
    // The first chunk (bytes 0..128), or, as seen once with both cores held by busy processes
    // (pnpm test:loaded), the last one: the first's flight had ended by the time the page was read.
    expect(label).toMatch(/^≤\[4\] (0\.\.128|128\.\.141 last)$/);
    await page.screenshot({ path: path.join(OUT, "part5-install-on-its-way.png"), fullPage: true });
    // installed: n0's log row starts with the snapshot's block
    await stepUntil(page, '#view .cv-logs tr[data-node="0"] td.snapshot', 400);
    expect(await page.locator('#view .cv-logs tr[data-node="0"] td.snapshot').textContent()).toBe(
      "snapshot ≤[4] T1",
    );
    // the reader's own snapshot, on n1 (which has applied [4] and holds no snapshot)
    await page.click('#node-pick button[data-node="1"]');
    await page.click("#node-snapshot");
    expect(await page.locator("#action-error").textContent()).toBe("");
    await stepUntil(page, '#view .cv-logs tr[data-node="1"] td.snapshot', 50);
    await waitText(page, "#event-list", "the reader has n1 take a snapshot");
    await page.click("#copy-link");
    const link = await page.locator("#link").inputValue();
    expect(link).toMatch(/,\d+\.snapshot\.1&at=\d+$/);
    const browserHash = await pageHash(page);
    const node = await nodeRun(link);
    expect(node.hash).toBe(browserHash);
    const taken = node.session.events.filter((e) => e.kind === "snapshot.take");
    expect(taken.map((e) => [e.node, e.details.lastIncludedIndex])).toEqual([
      [2, 4],
      [1, 4],
    ]);
    await finish(opened, "part5-snapshot-clicked.png");
  });
});

describe("part 6: leadership transfer, reads and the options in the page", () => {
  test("a scripted session that hands the leadership over: the hash in Chromium is Node's (tsx and bundle)", async () => {
    const opened = await open(SCRIPT6);
    const { page } = opened;
    const node = await sameInNode(SCRIPT6, await pageHash(page));
    const kinds = node.session.events.map((e) => `${e.node}:${e.kind}`);
    expect(kinds).toContain("2:transfer.start");
    await waitText(page, "#event-list", "hands leadership to n0");
    await waitText(page, "#event-list", "read #2 served");
    // the picture: n0 leads term 2 now
    await page.waitForSelector('#view g.node.role-leader[data-node="0"]');
    await finish(opened, "part6-scripted.png");
  });

  test('the reader clicks "make it leader" on a follower: TimeoutNow flies, the follower leads, Node agrees', async () => {
    const opened = await open("part=part6-availability&n=3&seed=1&a=40.submit.leader.x&at=60");
    const { page } = opened;
    await pageHash(page); // held at gate 60: n2 leads term 1
    await page.click('#node-pick button[data-node="1"]');
    expect(await page.locator("#node-transfer").textContent()).toBe("make it leader");
    await page.click("#node-transfer");
    expect(await page.locator("#action-error").textContent()).toBe("");
    await page.click('#node-pick button[data-node="0"]');
    await page.click("#node-read");
    // one event at a time until TimeoutNow is on its way, drawn as a diamond
    await stepUntil(page, "#view g.flight.TimeoutNow.request", 200);
    expect(
      await page
        .locator("#view g.flight.TimeoutNow.request .dot")
        .first()
        .evaluate((d) => d.tagName),
    ).toBe("polygon");
    await page.screenshot({ path: path.join(OUT, "part6-timeout-now.png"), fullPage: true });
    await stepUntil(page, '#view g.node.role-leader[data-node="1"]', 200);
    await waitText(
      page,
      "#event-list",
      "the reader asks the leader n2 to hand its leadership to n1",
    );
    await page.click("#copy-link");
    const link = await page.locator("#link").inputValue();
    expect(link).toMatch(/a=40\.submit\.leader\.x,\d+\.transfer\.1,\d+\.read\.0&at=\d+$/);
    const browserHash = await pageHash(page);
    const node = await nodeRun(link);
    expect(node.hash).toBe(browserHash);
    const leaders = node.session.events.filter(
      (e) => e.kind === "role" && e.details.to === "leader",
    );
    expect(leaders.map((e) => e.node)).toEqual([2, 1]);
    await finish(opened, "part6-transfer-clicked.png");
  });

  test("PreVote switched off: the link says so, and a node back from isolation deposes the leader", async () => {
    const opened = await open("part=part6-availability&n=3&seed=1");
    const { page } = opened;
    expect(await page.locator("#switch-preVote").isChecked()).toBe(true);
    await page.uncheck("#switch-preVote");
    await Promise.all([page.waitForEvent("load"), page.click("#new-session")]);
    await page.waitForSelector("#node-pick button");
    expect(page.url()).toContain("off=preVote");
    expect(await page.locator("#switch-preVote").isChecked()).toBe(false);
    expect(await page.locator("#switch-checkQuorum").isChecked()).toBe(true);
    await waitText(page, "#driver", "Turned off: PreVote.");
    await finish(opened);
    // the same rejoin as Node's test, played in the page: the leader is deposed
    const played = await open(rejoin("preVote"));
    const hash = await pageHash(played.page);
    const node = await nodeRun(rejoin("preVote"));
    expect(node.hash).toBe(hash);
    await waitText(played.page, "#event-list", "n1 replied to AppendEntries with a higher term");
    await finish(played, "part6-without-prevote.png");
  });
});

describe("a mutant switch", () => {
  test("count a tie as a majority: Election Safety breaks, shown with its rule and the events behind it", async () => {
    const opened = await open("part=part1-election&n=4&seed=1");
    const { page } = opened;
    await page.selectOption("#mutant", "majority-counted-with->=");
    await Promise.all([page.waitForEvent("load"), page.click("#new-session")]);
    await page.waitForSelector("#node-pick button");
    expect(page.url()).toContain("mutant=majority-counted-with");
    await page.click("#play"); // pause before the first election (150 ms of virtual time at 1/30)
    await page.fill("#groups", "0 1 | 2 3");
    await page.click("#partition-form button[type=submit]");
    await page.selectOption("#speed", "Infinity");
    await page.click("#play");
    await page.waitForSelector("#violation:not([hidden])");
    await waitText(page, "#violation-rule", "Election Safety violated", true);
    await waitText(page, "#violation-message", "are both leaders of term");
    await waitText(page, "#violation-where", "§5.2");
    const behind = await page.locator("#violation-events li").allTextContents();
    expect(behind.filter((l) => l.includes("candidate → leader")).length).toBe(2);
    expect(await page.locator("#phase").textContent()).toContain("VIOLATION");
    await page.click("#copy-link");
    const link = await page.locator("#link").inputValue();
    const browserHash = await pageHash(page);
    const node = await nodeRun(link);
    expect(node.hash).toBe(browserHash);
    expect(node.session.violation?.invariant).toBe("Election Safety");
    await finish(opened, "part1-mutant-violation.png");
  });
});

describe("the parts' test scenarios", () => {
  test.each([
    [
      "part1-election",
      "part1-election/test/go-series.test.ts",
      "Go series, elections > basic election",
    ],
    [
      "part3-persistence",
      "part3-persistence/test/golden.test.ts",
      "commit one command, event by event",
    ],
    [
      "part4-kv",
      "part4-kv/test/basic.test.ts",
      "the key/value store, first steps > two clients see one another's writes",
    ],
    [
      "part5-snapshots",
      "part5-snapshots/test/snapshot-scenarios.test.ts",
      "catching up after compaction > a follower that crashes in the middle of receiving chunks gets the whole snapshot again after its restart",
    ],
    [
      "part6-availability",
      "part6-availability/test/availability.test.ts",
      "availability scenarios: failing without the option, recovering with it > a node that reaches only some peers: with part 6's defaults, and without preVote and checkQuorum",
    ],
  ])("%s: %s is listed by name, loads, runs and passes", async (part, file, name) => {
    const opened = await open(`part=${part}`);
    const { page } = opened;
    const options = await page.locator("#scenario option").count();
    expect(options).toBeGreaterThan(20);
    await page.selectOption("#scenario", JSON.stringify([file, name]));
    await Promise.all([page.waitForEvent("load"), page.click("#load-scenario")]);
    await page.waitForSelector("#node-pick button");
    await page.selectOption("#speed", "Infinity");
    await waitText(page, "#phase", "ended · test pass", true);
    // the picture and the clock show where the test ended, not its start
    expect(await clock(page, "t")).toBeGreaterThan(0);
    await finish(opened, `${part}-scenario.png`);
  });

  test("taken over: the test stops where it stands, the reader's actions drive the cluster, Node agrees", async () => {
    const story = "the story: election, replication, leader failure, re-election, repair";
    const opened = await open(
      `part=part2-replication&file=part2-replication%2Ftest%2Fstory.test.ts&test=${encodeURIComponent(story)}`,
    );
    const { page } = opened;
    expect(await page.locator("#node-crash").isDisabled()).toBe(true);
    await page.selectOption("#speed", "0.1");
    await until(
      async () => ((await clock(page, "t")) > 300 ? true : undefined),
      "300 ms of the story",
    );
    await page.click("#play");
    await page.click("#take-over");
    await waitText(page, "#driver", "You took the cluster over");
    await page.click('#node-pick button[data-node="1"]');
    await page.click("#node-crash");
    await page.fill("#command", "mine");
    await page.click("#submit-form button[type=submit]");
    await page.selectOption("#speed", "Infinity");
    await page.click("#play");
    await page.waitForTimeout(300);
    await page.click("#play");
    await page.click("#copy-link");
    const link = await page.locator("#link").inputValue();
    expect(link).toMatch(/&take=\d+&a=\d+\.crash\.1,\d+\.submit\.leader\.mine/);
    const browserHash = await pageHash(page);
    const node = await nodeRun(link);
    expect(node.hash).toBe(browserHash);
    const notes = node.session.events.filter((e) => e.kind === "note").map((e) => e.details.text);
    expect(notes).toContain("the reader takes the cluster over from the test");
    await finish(opened, "part2-taken-over.png");
  });

  test("the trace downloads as JSON lines that pnpm viz renders", async () => {
    const opened = await open("part=part2-replication&n=3&seed=1&a=30.submit.leader.x&at=400");
    const { page } = opened;
    await pageHash(page);
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
    const dir = mkdtempSync(path.join(tmpdir(), "playground-download-"));
    const file = path.join(dir, download.suggestedFilename());
    await download.saveAs(file);
    expect(path.basename(file)).toBe("playground-part2-replication-seed1.jsonl");
    const viz = spawnSync("pnpm", ["viz", file, "--out", dir], { cwd: REPO, encoding: "utf8" });
    expect(viz.status, viz.stderr).toBe(0);
    expect(viz.stdout).toMatch(/^PASS {2}playground session/m);
    expect(existsSync(path.join(dir, "index.html"))).toBe(true);
    await finish(opened);
  });
});
