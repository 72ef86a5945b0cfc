// Chromium (Debian's, through playwright-core) for the settings tests, and a page that
// has followed the server's one-time admin link, so it holds the admin token.

import { chromium } from "playwright-core";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
  });
}

/** A fresh context with clipboard access, on the status page after the admin link. */
export async function openAdmin(browser, server, contextOptions = {}) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, ...contextOptions });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.adminOrigin });
  const page = await context.newPage();
  // Any page error is a bug the user would meet; fail loudly instead of timing out later.
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(e));
  await page.goto(server.adminUrl);
  await page.getByTestId("relay-state").waitFor();
  return { context, page, pageErrors };
}

/** Goes to a settings page through the main navigation, as a user would. */
export async function openSettings(page, name) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name }).click();
  await page.getByRole("heading", { level: 2, name }).waitFor();
  await page.getByTestId("dirty-state").waitFor();
}

/** Clicks Save and waits until the page reports everything saved (not just any toast). */
export async function save(page) {
  await page.getByTestId("save").click();
  await page.getByTestId("dirty-state").getByText("All changes saved", { exact: true }).waitFor();
}
