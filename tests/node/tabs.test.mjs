// Many tabs and many navigations against one admin listener. The listener speaks
// HTTP/1.1, where Chromium keeps at most six connections to a host: when every tab held
// its own event stream, the seventh tab never loaded, and pages left in the back/forward
// cache kept theirs until navigation hung. The tabs now share one stream.

import { test } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS, api, signedIn } from "./lib/browser.mjs";
import { sandboxAndBrowser } from "./lib/suite.mjs";

const WAIT = { timeout: 10_000 };
const env = sandboxAndBrowser();

test("twenty tabs all load, are live, and all see a new conversation", async () => {
  const { context, page: first } = await signedIn(env.browser, env.server, "/conversations");
  // Every later tab counts the event streams it holds open: each opens one at once, in
  // case it is the only tab, and must close it on hearing that the first tab holds one.
  await context.addInitScript(() => {
    const Base = window.EventSource;
    window.openStreams = 0;
    window.EventSource = class extends Base {
      constructor(...args) {
        super(...args);
        window.openStreams += 1;
      }
      close() {
        if (this.readyState !== Base.CLOSED) window.openStreams -= 1;
        super.close();
      }
    };
  });
  const pages = [first];
  let slowest = 0;
  for (let i = 1; i < 20; i++) {
    const page = await context.newPage();
    const opened = Date.now();
    await page.goto(`${env.server.adminOrigin}/conversations`, { timeout: 10_000 });
    await page.getByTestId("live-state").filter({ hasText: "Live" }).waitFor(WAIT);
    await page.getByTestId("conv-count").waitFor(WAIT);
    assert.ok(Date.now() - opened < 10_000, `tab ${i + 1} took ${Date.now() - opened} ms`);
    slowest = Math.max(slowest, Date.now() - opened);
    pages.push(page);
  }
  console.log(`20 tabs: the slowest loaded and went live in ${slowest} ms`);
  const held = await Promise.all(pages.slice(1).map((p) => p.evaluate(() => window.openStreams)));
  assert.deepEqual(held, Array(19).fill(0), "tabs 2–20 hold no stream of their own");

  // One event, seen live in every tab (the ones not holding the stream hear it relayed).
  const name = "Tabitha Twenty";
  const created = await api(first, "POST", "/tester/conversations", { name, email: "tabitha@example.com", language: "en" });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  for (const page of pages) {
    await page.getByTestId("conv-row").filter({ hasText: name }).waitFor(WAIT);
  }

  // The tab holding the stream closes: another takes it over and the rest stay live.
  await first.close();
  const second = "Samuel Second";
  await api(pages[1], "POST", "/tester/conversations", { name: second, email: "samuel@example.com", language: "en" });
  for (const page of pages.slice(1)) {
    await page.getByTestId("conv-row").filter({ hasText: second }).waitFor(WAIT);
    await page.getByTestId("live-state").filter({ hasText: "Live" }).waitFor(WAIT);
  }
  await context.close();
});

test("fifty navigations in one tab each load (pages in the back/forward cache keep no stream)", async () => {
  // As users have it: Playwright turns the back/forward cache off unless told not to.
  const cached = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
    ignoreDefaultArgs: ["--disable-back-forward-cache"],
  });
  const { page } = await signedIn(cached, env.server, "/");
  const paths = ["/conversations", "/tester", "/inspector", "/", "/settings/endpoint"];
  let slowest = 0;
  for (let i = 0; i < 50; i++) {
    const path = paths[i % paths.length];
    const started = Date.now();
    // A full navigation, as from the address bar (not the app's own router).
    await page.goto(`${env.server.adminOrigin}${path}`, { timeout: 10_000 });
    await page.getByTestId("live-state").filter({ hasText: "Live" }).waitFor(WAIT);
    assert.ok(Date.now() - started < 10_000, `navigation ${i + 1} to ${path} took ${Date.now() - started} ms`);
    slowest = Math.max(slowest, Date.now() - started);
  }
  console.log(`50 navigations: the slowest loaded and went live in ${slowest} ms`);
  // Back through the cache: the page shown again comes from it and is live again.
  await page.evaluate(() => addEventListener("pageshow", (e) => (window.shownFromCache = e.persisted)));
  await page.goto(`${env.server.adminOrigin}/tester`);
  await page.getByTestId("live-state").filter({ hasText: "Live" }).waitFor(WAIT);
  // A page restored from the cache fires no "load": wait for the navigation to commit.
  await page.goBack({ waitUntil: "commit" });
  await page.getByTestId("live-state").filter({ hasText: "Live" }).waitFor(WAIT);
  assert.equal(await page.evaluate(() => window.shownFromCache), true, "the back/forward cache was in use");
  await cached.close();
});
