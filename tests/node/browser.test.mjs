// The UI in a real browser (Debian's Chromium through playwright-core), served by the
// headless server exactly as the desktop window gets it.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { artifacts, startServer } from "./lib/relay.mjs";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("the status screen shows the running relay, live, on the sandbox", async () => {
  const context = await browser.newContext();
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.adminOrigin });
  const page = await context.newPage();
  await page.goto(server.adminUrl);

  // The one-time link's token leaves the address bar.
  assert.equal(page.url(), `${server.adminOrigin}/`);
  assert.equal(await page.title(), "Switchboard");
  await page.getByTestId("relay-state").waitFor();
  assert.equal(await page.getByTestId("relay-state").innerText(), "Running");
  assert.equal(await page.getByTestId("sandbox-state").innerText(), "On");
  assert.equal(await page.getByTestId("mode-badge").innerText(), "Sandbox");
  assert.equal(await page.getByTestId("endpoint-url").inputValue(), server.endpointUrl);
  assert.equal(await page.getByTestId("admin-listen").innerText(), `127.0.0.1:${new URL(server.adminOrigin).port}`);
  assert.equal(await page.getByTestId("endpoint-listen").innerText(), new URL(server.endpointUrl).host);
  assert.equal(await page.getByTestId("api-key-state").innerText(), "not set");
  await page.getByText("Live", { exact: true }).waitFor();

  await page.getByTestId("copy-endpoint").click();
  await page.getByText("Endpoint URL copied").waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), server.endpointUrl);

  await page.screenshot({ path: join(artifacts, "browser-status.png"), fullPage: true });
  await context.close();
});

test("one live connection per tab, whichever pages are opened", async () => {
  // Plain HTTP/1.1 on loopback: a browser keeps at most six connections to the admin
  // listener, and every open live feed holds one. Two per tab would stall the UI's API
  // calls with three tabs open.
  const context = await browser.newContext();
  const page = await context.newPage();
  const feeds = [];
  page.on("request", (r) => {
    if (new URL(r.url()).pathname === "/api/events") feeds.push(r.url());
  });
  await page.goto(server.adminUrl);
  await page.getByText("Live", { exact: true }).waitFor();
  for (const name of ["Conversations", "Inspector", "Agent console", "Tester", "Status"]) {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true }).click();
    await page.getByText("Live", { exact: true }).waitFor();
  }
  assert.equal(feeds.length, 1, `live feeds opened: ${feeds.length}`);
  await context.close();
});

test("without the admin link the page says what is missing", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.adminOrigin}/`);
  const problem = page.getByTestId("api-error");
  await problem.waitFor();
  const text = await problem.innerText();
  assert.match(text, /access link/);
  assert.match(text, /admin link/);
  await context.close();
});

test("the admin credential never reaches another web server on 127.0.0.1", async () => {
  // Browsers scope cookies by host, not port: a cookie for this admin UI would ride along
  // to every other local server the user visits, handing any local process admin rights.
  const { createServer } = await import("node:http");
  const seen = [];
  const other = createServer((req, res) => {
    seen.push({ url: req.url, headers: req.headers });
    res.end("another local server");
  });
  await new Promise((r) => other.listen(0, "127.0.0.1", r));
  const otherOrigin = `http://127.0.0.1:${other.address().port}`;
  const token = new URL(server.adminUrl).searchParams.get("token");
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(server.adminUrl);
    await page.getByText("Live", { exact: true }).waitFor();
    // The token is out of the address bar and history, and the page still works.
    assert.equal(page.url(), `${server.adminOrigin}/`);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Conversations", exact: true }).click();
    await page.getByText("Live", { exact: true }).waitFor();
    assert.deepEqual(await context.cookies(), [], "no cookie is set");

    // The same browser, then, visits another server on the same host.
    await page.goto(`${otherOrigin}/elsewhere`);
    await page.getByText("another local server").waitFor();
    assert.ok(seen.length > 0, "the other server was visited");
    for (const { url, headers } of seen) {
      const carried = JSON.stringify(headers);
      assert.ok(!carried.includes(token), `the admin token reached ${url}: ${carried}`);
      assert.equal(headers.cookie, undefined, `a cookie reached ${url}`);
    }
    // A new tab of the admin UI (same origin) is still signed in.
    const tab = await context.newPage();
    await tab.goto(`${server.adminOrigin}/inspector`);
    await tab.getByText("Live", { exact: true }).waitFor();
    await context.close();
  } finally {
    await new Promise((r) => other.close(r));
  }
});
