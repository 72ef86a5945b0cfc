// Debian's Chromium through playwright-core, with the flags every browser test uses, and
// a page already signed in to a server's admin UI (the one-time link hands the page its
// token, which it keeps in its own storage).

import { chromium } from "playwright-core";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export function launch() {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: CHROMIUM_ARGS });
}

/** A new context signed in to `server`, and a page on `path`. */
export async function signedIn(browser, server, path = "/") {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  await page.goto(server.adminUrl);
  await page.getByTestId("live-state").waitFor();
  if (path !== "/") await page.goto(`${server.adminOrigin}${path}`);
  return { context, page };
}

/** The admin API from Node with the page's token (for set-up and checks). */
export async function api(page, method, path, body) {
  const token = await page.evaluate(() => localStorage.getItem("switchboard-admin-token"));
  const response = await page.request.fetch(`${new URL(page.url()).origin}/api${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      origin: new URL(page.url()).origin,
      authorization: `Bearer ${token}`,
    },
    data: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status(), body: text ? JSON.parse(text) : null };
}

/** Polls `check` (async; returns a value or a falsy one) until it answers, for at most `ms`. */
export async function until(check, what, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
