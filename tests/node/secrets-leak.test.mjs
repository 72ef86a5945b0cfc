// After a full settings round trip through the UI, the API keys are in the OS keychain
// and nowhere else: not in the settings file, the database (.db and -wal), the server's
// output, any admin API response or the page's HTML. Runs the server with
// `--secrets keychain` against the session's gnome-keyring (see scripts/lib/in-session.sh).

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { startServer } from "./lib/relay.mjs";
import { launchBrowser, openAdmin, openSettings, save } from "./lib/settings-browser.mjs";
import { switchboardAccounts } from "./lib/keyring.mjs";

// Distinctive values no program would print by chance.
const ENDPOINT_KEY = `leak-probe-endpoint-${randomBytes(12).toString("hex")}`;
const HANDOVER_KEY = `leak-probe-handover-${randomBytes(12).toString("hex")}`;

function filesUnder(dir) {
  return readdirSync(dir, { recursive: true })
    .map((name) => join(dir, String(name)))
    .filter((path) => statSync(path, { throwIfNoEntry: false })?.isFile());
}

/** Which of `places` (name → text or bytes) contain either key. */
function leaks(places) {
  const found = [];
  for (const [name, content] of places) {
    const bytes = Buffer.isBuffer(content) ? content : Buffer.from(String(content));
    for (const key of [ENDPOINT_KEY, HANDOVER_KEY]) {
      if (bytes.includes(key)) found.push(`${name} contains ${key.startsWith("leak-probe-endpoint") ? "the endpoint" : "the handover"} key`);
    }
  }
  return found;
}

function dataDirFiles(dataDir, label) {
  const files = filesUnder(dataDir);
  return files.map((path) => [`${label}: ${path.slice(dataDir.length + 1)}`, readFileSync(path)]);
}

/** Removes both keys through the API, so no later test finds them in the shared keyring. */
async function removeKeys(context, server) {
  const view = await (await context.request.get(`${server.adminOrigin}/api/settings`, { headers: server.auth })).json();
  await context.request.put(`${server.adminOrigin}/api/settings`, {
    headers: { ...server.auth, origin: server.adminOrigin },
    data: { settings: view.settings, keys: { endpoint: { action: "remove" }, handover: { action: "remove" } } },
  });
}

test("API keys reach the keychain and nowhere else, and survive a restart", async (t) => {
  const browser = await launchBrowser();
  // Debug logging: a key must not leak even in the detailed log.
  let server = await startServer(["--log", "debug"], { secrets: "keychain", keepDataDir: true });
  const dataDir = server.dataDir;
  let { context, page } = await openAdmin(browser, server);
  // One cleanup, in order: the keys leave the shared keyring even when the test failed.
  t.after(async () => {
    await removeKeys(context, server).catch(() => {});
    await browser.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const places = [];
  const watch = (page) =>
    page.on("response", async (response) => {
      const url = new URL(response.url());
      if (!url.pathname.startsWith("/api/") || url.pathname === "/api/events") return;
      try {
        places.push([`response ${response.request().method()} ${url.pathname}${url.search}`, await response.body()]);
      } catch {
        // A download's body belongs to the download; the export is fetched directly below.
      }
    });

  watch(page);
  const sandboxUrl = (await (await context.request.get(`${server.adminOrigin}/api/settings`, { headers: server.auth })).json()).sandbox.baseUrl;
  assert.equal((await (await context.request.get(`${server.adminOrigin}/api/settings`, { headers: server.auth })).json()).keychain.backend, "secretService");

  // Endpoint: a key through the form. The base URL stays on the emulator: nothing here
  // may call the real 8x8.
  await openSettings(page, "Endpoint settings");
  await page.getByLabel("Base URL", { exact: true }).fill(sandboxUrl);
  await page.getByTestId("endpoint-key-replace").click();
  await page.getByLabel("API key", { exact: true }).fill(ENDPOINT_KEY);
  // The typed key is tested before it is saved …
  await page.getByTestId("endpoint-test").click();
  await page.getByTestId("endpoint-test-result").locator(".ok, .bad").waitFor({ timeout: 15_000 });
  await save(page);
  assert.equal(await page.getByTestId("endpoint-key-state").innerText(), "set");
  // … and the stored key after.
  await page.getByTestId("endpoint-test").click();
  await page.getByTestId("endpoint-test-result").locator(".ok, .bad").waitFor({ timeout: 15_000 });
  places.push(["page HTML (endpoint)", await page.content()]);

  // Handover: its own key.
  await openSettings(page, "Handover settings");
  await page.getByLabel("Use the endpoint's connection").uncheck();
  await page.getByLabel("Base URL", { exact: true }).fill(sandboxUrl);
  await page.getByTestId("handover-key-replace").click();
  await page.getByLabel("API key", { exact: true }).fill(HANDOVER_KEY);
  await save(page);
  assert.equal(await page.getByTestId("handover-key-state").innerText(), "set");
  await page.getByTestId("load-channels").click();
  await page.getByTestId("load-channels").getByText(/Reload|Load/).waitFor();
  places.push(["page HTML (handover)", await page.content()]);

  await page.reload();
  await page.getByTestId("dirty-state").waitFor();
  places.push(["page HTML (handover, reloaded)", await page.content()]);
  await page.getByRole("link", { name: "Status" }).click();
  await page.getByTestId("relay-state").waitFor();
  places.push(["page HTML (status)", await page.content()]);

  for (const path of ["/api/settings", "/api/status", "/api/settings/export", "/api/webhook", "/api/channels?role=endpoint", "/api/channels?role=handover"]) {
    const response = await context.request.get(`${server.adminOrigin}${path}`, { headers: server.auth });
    places.push([`response GET ${path}`, await response.body()]);
  }

  // The keychain holds both keys.
  assert.deepEqual(switchboardAccounts(), ["endpoint-api-key", "handover-api-key"]);

  // Files while running (the -wal file exists only then), then after a clean stop.
  places.push(...dataDirFiles(dataDir, "data dir (running)"));
  assert.ok(filesUnder(dataDir).some((p) => p.endsWith(".db")), "the database is in the data dir");
  assert.ok(filesUnder(dataDir).some((p) => p.endsWith(".db-wal")), "the database's write-ahead log is in the data dir");
  await context.close();
  await server.stop();
  places.push(...dataDirFiles(dataDir, "data dir (stopped)"));
  places.push(["server output (first run)", server.output()]);

  // Restart on the same data dir: the keys come back from the keychain.
  server = await startServer(["--log", "debug"], { secrets: "keychain", dataDir });
  ({ context, page } = await openAdmin(browser, server));
  watch(page);
  await openSettings(page, "Endpoint settings");
  assert.equal(await page.getByTestId("endpoint-key-state").innerText(), "set");
  await openSettings(page, "Handover settings");
  assert.equal(await page.getByTestId("handover-key-state").innerText(), "set");
  places.push(["page HTML (after restart)", await page.content()]);
  places.push(["server output (second run)", server.output()]);
  places.push(...dataDirFiles(dataDir, "data dir (second run)"));

  assert.ok(places.some(([name]) => name.includes("settings")), "the settings file was checked");
  assert.deepEqual(leaks(places), []);

  // Remove both through the form: the keychain forgets them.
  await page.getByTestId("handover-key-remove").click();
  await save(page);
  assert.equal(await page.getByTestId("handover-key-state").innerText(), "not set");
  await openSettings(page, "Endpoint settings");
  await page.getByTestId("endpoint-key-remove").click();
  await save(page);
  assert.equal(await page.getByTestId("endpoint-key-state").innerText(), "not set");
  assert.deepEqual(switchboardAccounts(), [], "removed keys leave the keychain");
});

test("when the keychain cannot take the key, nothing is saved and the page says why", async (t) => {
  const browser = await launchBrowser();
  // No Secret Service on this bus address: every keychain call fails.
  const server = await startServer([], {
    secrets: "keychain",
    env: { DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/switchboard-test-bus" },
  });
  t.after(async () => {
    await browser.close();
    await server.stop();
  });
  const { page, pageErrors } = await openAdmin(browser, server);
  await openSettings(page, "Endpoint settings");
  assert.match(await page.getByTestId("keychain-notice").innerText(), /keychain is not available/);
  const tenant = page.getByLabel("8x8-Tenant (optional)");
  await tenant.fill("tenant-with-key");
  await page.getByTestId("endpoint-key-replace").click();
  await page.getByLabel("API key", { exact: true }).fill(ENDPOINT_KEY);
  await page.getByTestId("save").click();
  const problem = page.getByTestId("save-problem");
  await problem.waitFor({ timeout: 20_000 });
  assert.match(await problem.innerText(), /^Nothing was saved: .*keychain/i);
  // The edits stay in the form to retry; the server kept neither the tenant nor the key.
  assert.equal(await tenant.inputValue(), "tenant-with-key");
  assert.equal(await page.getByTestId("dirty-state").count(), 0);
  await page.reload();
  await page.getByTestId("dirty-state").waitFor();
  assert.equal(await tenant.inputValue(), "");
  assert.equal(await page.getByTestId("endpoint-key-state").innerText(), "not set");
  assert.ok(!server.output().includes(ENDPOINT_KEY), "the refused key is not logged");
  assert.deepEqual(pageErrors.map((e) => e.message), []);
});
