// What the browser tests share: the system's Chromium (chromium.ts finds it, playwright-core
// drives it), pages rendered under out/browser/ and opened from file://, every console error
// and every request recorded, and the screenshots they leave there to be looked at.
import { mkdirSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { expect } from "vitest";
import { renderPage } from "../src/html.ts";
import type { Timeline } from "../src/model.ts";
import { findChromium } from "./chromium.ts";

export const OUT = new URL("../out/browser/", import.meta.url);

export function launch(): Promise<Browser> {
  return chromium.launch({
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
}

export interface Opened {
  page: Page;
  /** console errors and uncaught exceptions */
  errors: string[];
  /** every URL the page asked for after it loaded itself */
  requests: string[];
}

/** Writes the page under out/, opens it from file:// and records errors and requests. */
export async function open(
  browser: Browser,
  name: string,
  timeline: Timeline,
  viewport = { width: 1300, height: 900 },
): Promise<Opened> {
  mkdirSync(OUT, { recursive: true });
  const file = new URL(name, OUT);
  writeFileSync(file, renderPage(timeline));
  // the page is taller than the window: the state panel sits at its bottom
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  const href = pathToFileURL(file.pathname).href;
  page.on("request", (request) => {
    if (request.url() !== href) requests.push(request.url());
  });
  await page.goto(href);
  await page.waitForSelector("#timeline tbody tr");
  return { page, errors, requests };
}

/** How every page's test ends: a screenshot when named, no console errors, the page closed. */
export async function finish(opened: Opened, screenshot?: string): Promise<void> {
  const { page, errors, requests } = opened;
  if (screenshot !== undefined) await page.screenshot({ path: new URL(screenshot, OUT).pathname });
  expect(errors).toEqual([]);
  expect(requests, "requests leaving the page").toEqual([]);
  await page.close();
}
