// The admin's workflow on the Endpoint and Handover settings pages, as a demanding admin
// meets it: testing the sandbox, fixing fields, keys, JSON mistakes, moving settings
// between machines, and what each button says it did. A real browser against the
// headless server, with the built-in 8x8 emulator (sandbox) standing in for 8x8.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { startServer } from "./lib/relay.mjs";
import { launchBrowser, openAdmin, openSettings, save } from "./lib/settings-browser.mjs";

const SANDBOX_KEY = "sandbox-key";

let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

/** A fresh server and an admin page for one test, both closed when the test ends. */
async function session(t, contextOptions, serverArgs = [], serverOptions = {}) {
  const server = await startServer(serverArgs, serverOptions);
  const admin = await openAdmin(browser, server, contextOptions);
  t.after(async () => {
    await admin.context.close();
    await server.stop();
  });
  const view = await getSettingsView(admin.page, server);
  return { server, ...admin, sandboxUrl: view.sandbox.baseUrl };
}

async function getSettingsView(page, server) {
  return (await page.context().request.get(`${server.adminOrigin}/api/settings`, { headers: server.auth })).json();
}

function noPageErrors(pageErrors) {
  assert.deepEqual(pageErrors.map((e) => e.message), []);
}

/** Writes `text` to a file the page's file picker can take. */
async function fileWith(name, text) {
  const path = join(tmpdir(), `sb-${process.pid}-${Date.now()}-${name}`);
  await writeFile(path, text);
  return path;
}

async function exportFile(page) {
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export settings" }).click();
  return (await download).path();
}

test("Test connection on the sandbox needs no key; another Base URL or a real tenant still does", async (t) => {
  const { page, pageErrors, server, sandboxUrl } = await session(t);
  await openSettings(page, "Endpoint settings");
  assert.equal(await page.getByTestId("sandbox-mode").innerText(), "Sandbox");
  const result = page.getByTestId("endpoint-test-result");

  // What the page shows is the sandbox: testing it works, with no key anywhere.
  await page.getByTestId("endpoint-test").click();
  await result.locator(".ok, .bad").waitFor({ timeout: 15_000 });
  assert.match(await result.innerText(), /✓/);
  assert.match(await result.innerText(), /sandbox/i);
  assert.doesNotMatch(await result.innerText(), /(Type|Enter) the API key/);

  // The Handover page, sharing the endpoint's connection, tests the same sandbox.
  await openSettings(page, "Handover settings");
  await page.getByLabel("Use the endpoint's connection").uncheck();
  const handoverResult = page.getByTestId("handover-test-result");
  await page.getByTestId("handover-test").click();
  await handoverResult.locator(".ok, .bad").waitFor({ timeout: 15_000 });
  assert.match(await handoverResult.innerText(), /✓.*sandbox/is);
  page.once("dialog", (d) => void d.accept());
  await openSettings(page, "Endpoint settings");

  // Another Base URL is not the sandbox: it takes a typed key, and is not called.
  await page.getByLabel("Base URL", { exact: true }).fill("https://other.example.test");
  await page.getByTestId("endpoint-test").click();
  await result.locator(".ok, .bad").waitFor({ timeout: 15_000 });
  assert.match(await result.innerText(), /✗/);
  assert.match(await result.innerText(), /API key/);
  await page.getByTestId("discard").click();

  // Switching this draft to a real tenant: the test is of the real tenant, which needs a key.
  await page.getByTestId("switch-to-real").click();
  await page.getByLabel("Base URL", { exact: true }).fill(sandboxUrl);
  await page.getByTestId("endpoint-test").click();
  await result.locator(".ok, .bad").waitFor({ timeout: 15_000 });
  assert.match(await result.innerText(), /✗/);
  assert.match(await result.innerText(), /API key/);
  // Typed, it is what is sent (the emulator knows the sandbox's key).
  await page.getByLabel("API key", { exact: true }).fill(SANDBOX_KEY);
  await page.getByTestId("endpoint-test").click();
  await result.locator(".ok").waitFor({ timeout: 15_000 });
  assert.doesNotMatch(await result.innerText(), /sandbox/i);
  void server;
  noPageErrors(pageErrors);
});

test("a fixed field clears the save problem, and Discard clears the test result", async (t) => {
  const { page, pageErrors } = await session(t);
  await openSettings(page, "Endpoint settings");
  const tenant = page.getByLabel("8x8-Tenant (optional)");
  await tenant.fill("two words");
  await page.getByTestId("save").click();
  await page.getByTestId("save-problem").waitFor();
  assert.match(await page.getByTestId("save-problem").innerText(), /need attention/);
  await tenant.fill("one-word");
  await page.getByTestId("dirty-state").waitFor({ timeout: 3000 });
  assert.equal(await page.getByTestId("save-problem").count(), 0);
  assert.equal(await page.getByTestId("dirty-state").innerText(), "Unsaved changes");
  await page.getByTestId("discard").click();

  // A test result belongs to the values it tested; Discard puts the saved ones back.
  await page.getByLabel("Base URL", { exact: true }).fill("http://127.0.0.1:9");
  await page.getByTestId("endpoint-key-replace").click();
  await page.getByLabel("API key", { exact: true }).fill("some-key");
  await page.getByTestId("endpoint-test").click();
  const result = page.getByTestId("endpoint-test-result");
  await result.locator(".bad").waitFor({ timeout: 15_000 });
  await page.getByTestId("discard").click();
  assert.equal((await result.innerText()).trim(), "");
  noPageErrors(pageErrors);
});

test("the key area: one label, words for an unset key, and where keys really live", async (t) => {
  const { page, pageErrors } = await session(t);
  await openSettings(page, "Endpoint settings");
  const area = page.getByTestId("endpoint-key");
  // This server runs with --secrets env: no keychain; the hint says so.
  const hint = await page.locator("#f-keys-endpoint-hint").innerText();
  assert.doesNotMatch(hint, /saved only in the OS keychain/);
  assert.match(hint, /SWITCHBOARD_API_KEY/);
  assert.match(hint, /memory|restart/i);

  await page.getByTestId("endpoint-key-replace").click();
  const text = await area.innerText();
  assert.doesNotMatch(text, /not set/, "one way of saying there is no key: the empty field");
  assert.equal((text.match(/API key/gi) ?? []).length, 1, text);
  await page.getByTestId("save").click();
  const error = await page.getByTestId("f-keys-endpoint-error").innerText();
  assert.doesNotMatch(error, /replacement/, "there is nothing to replace");
  assert.match(error, /Cancel/);
  noPageErrors(pageErrors);
});

test("a field with a problem has a red border, like its message", async (t) => {
  const { page, pageErrors } = await session(t);
  await openSettings(page, "Endpoint settings");
  const colours = (id) =>
    page.evaluate((id) => {
      const input = document.getElementById(id);
      const error = document.getElementById(`${id}-error`);
      return { border: getComputedStyle(input).borderTopColor, error: error && getComputedStyle(error).color };
    }, id);
  const before = await colours("f-connection-tenant");
  await page.getByLabel("8x8-Tenant (optional)").fill("two words");
  await page.getByLabel("8x8-Tenant (optional)").blur();
  const after = await colours("f-connection-tenant");
  assert.ok(after.error, "the message is shown");
  assert.notEqual(after.border, before.border);
  assert.equal(after.border, after.error);
  await page.getByTestId("retention-deliveriesDays").fill("0");
  await page.getByTestId("retention-deliveriesDays").blur();
  const days = await colours("f-retention-deliveriesDays");
  assert.equal(days.border, days.error);
  noPageErrors(pageErrors);
});

test("JSON mistakes are refused in the admin's terms: duplicate keys named, a cut-short text said so", async (t) => {
  const { page, pageErrors } = await session(t);
  await openSettings(page, "Handover settings");
  const editor = page.locator("#f-handover-jsonProperties");
  const error = page.locator("#f-handover-jsonProperties-error");

  await editor.fill('{"intent": "billing", "tier": 1, "intent": "sales"}');
  await error.waitFor();
  await page.waitForFunction(() => /intent/.test(document.getElementById("f-handover-jsonProperties-error")?.textContent ?? ""));
  assert.match(await error.innerText(), /"intent".*(twice|more than once)/);

  await editor.fill('{"intent": ');
  await page.waitForFunction(() => /cut short/.test(document.getElementById("f-handover-jsonProperties-error")?.textContent ?? ""));
  assert.doesNotMatch(await error.innerText(), /EOF/);
  assert.match(await error.innerText(), /ends in the middle/);
  await page.getByTestId("discard").click();

  // An imported file: the same rules, nothing changes.
  const before = await page.getByLabel("Handover message").inputValue();
  const refused = async (text) => {
    await page.getByTestId("import-settings").setInputFiles(await fileWith("bad.json", text));
    await page.getByTestId("import-problem").waitFor();
    const message = await page.getByTestId("import-problem").innerText();
    assert.equal(await page.getByLabel("Handover message").inputValue(), before, "nothing was imported");
    return message;
  };
  let message = await refused('{"switchboardSettings": 1, "settings": {"handover": {"queueId": "1", "queueId": "2"}}}');
  assert.match(message, /"queueId"/);
  assert.match(message, /twice|more than once/);
  assert.doesNotMatch(message, /`/);

  const cut = '{"switchboardSettings": 1, "settings": {"handover": {"handoverMessage": ';
  message = await refused(cut);
  assert.match(message, /ends in the middle of a value \(line 1, column \d+\)/);
  assert.match(message, /cut short/);
  assert.doesNotMatch(message, /EOF/);

  message = await refused('{"settings": {}}');
  assert.match(message, /not a Switchboard settings export/);
  assert.match(message, /no switchboardSettings section/);
  assert.doesNotMatch(message, /missing field|`/);

  message = await refused('{"switchboardSettings": 1, "settings": {"handover": {"inactivityTimeoutMinutes": "ten"}}}');
  assert.match(message, /handover\.inactivityTimeoutMinutes|Inactivity timeout/);
  assert.doesNotMatch(message, /invalid type|`/);
  noPageErrors(pageErrors);
});

test("Import shows what would change and applies only on confirm; Export is a pretty file from the same kind of button", async (t) => {
  const { page, pageErrors, server } = await session(t);
  await openSettings(page, "Endpoint settings");

  // Export and Import: two buttons that look alike.
  const exportButton = page.getByRole("button", { name: "Export settings" });
  const importButton = page.getByRole("button", { name: "Import settings…" });
  const look = (l) =>
    l.evaluate((el) => {
      const s = getComputedStyle(el);
      return { tag: el.tagName, height: el.getBoundingClientRect().height, border: s.border, background: s.backgroundColor, font: s.font, padding: s.padding };
    });
  assert.deepEqual(await look(importButton), await look(exportButton));

  await page.getByLabel("8x8-Tenant (optional)").fill("exported-tenant");
  await save(page);
  const exported = await readFile(await exportFile(page), "utf8");
  assert.ok(exported.split("\n").length > 20, "one setting a line, not one long line");
  assert.match(exported, /\n {2}"settings": \{\n {4}"/);
  assert.equal(JSON.parse(exported).settings.connection.tenant, "exported-tenant");

  await page.getByLabel("8x8-Tenant (optional)").fill("later-tenant");
  await page.getByLabel("Accept Conversation Active Event").uncheck();
  await save(page);

  // Picking the file shows the changes; nothing is applied yet.
  const file = await fileWith("export.json", exported);
  await page.getByTestId("import-settings").setInputFiles(file);
  const preview = page.getByTestId("import-preview");
  await preview.waitFor();
  const summary = await preview.innerText();
  assert.match(summary, /8x8-Tenant/);
  assert.match(summary, /later-tenant/);
  assert.match(summary, /exported-tenant/);
  assert.match(summary, /Accept Conversation Active Event/);
  assert.doesNotMatch(summary, /Handover message|Retention|Data kept/, "unchanged fields are not listed");
  assert.equal((await getSettingsView(page, server)).settings.connection.tenant, "later-tenant");

  // Cancel: nothing changes.
  await preview.getByRole("button", { name: "Cancel" }).click();
  assert.equal(await preview.count(), 0);
  assert.equal(await page.getByLabel("8x8-Tenant (optional)").inputValue(), "later-tenant");
  assert.equal((await getSettingsView(page, server)).settings.connection.tenant, "later-tenant");

  // Again, and confirm: applied.
  await page.getByTestId("import-settings").setInputFiles(file);
  await preview.waitFor();
  await preview.getByRole("button", { name: /^Import/ }).click();
  await page.getByText("Settings imported").waitFor();
  assert.equal(await page.getByLabel("8x8-Tenant (optional)").inputValue(), "exported-tenant");
  assert.equal((await getSettingsView(page, server)).settings.connection.tenant, "exported-tenant");

  // The same file again: nothing would change, and the page says so.
  await page.getByTestId("import-settings").setInputFiles(file);
  await preview.waitFor();
  assert.match(await preview.innerText(), /same as the saved settings|nothing would change/i);
  await preview.getByRole("button", { name: "Cancel" }).click();
  noPageErrors(pageErrors);
});

test("Register webhook says what it did once; Reload channels says what it loaded; Regenerate says the sandbox followed", async (t) => {
  const { page, pageErrors } = await session(t);
  await openSettings(page, "Endpoint settings");
  await page.getByTestId("webhook-state").getByText(/No webhook|Registered/).waitFor();
  await page.getByTestId("register-webhook").click();
  const result = page.getByTestId("webhook-result");
  await result.locator(".ok, .bad").waitFor({ timeout: 20_000 });
  const said = await result.innerText();
  assert.equal((said.match(/verified/g) ?? []).length, 1, said);
  assert.equal((said.match(/created|updated|unchanged/gi) ?? []).length, 1, said);

  // Regenerate: the sandbox's webhook follows at once, and the toast says so.
  await page.getByTestId("regenerate").click();
  await page.getByTestId("regenerate-confirm").click();
  const toast = page.locator(".toast");
  await toast.getByText(/New Endpoint URL/).waitFor();
  const words = await toast.innerText();
  assert.doesNotMatch(words, /update it in 8x8/);
  assert.match(words, /sandbox/i);
  await page.getByTestId("webhook-state").getByText("up to date").waitFor();

  await openSettings(page, "Handover settings");
  await page.getByTestId("channel-list").waitFor();
  const status = page.getByTestId("channels-status");
  await status.getByText(/Loaded 1 channel\b/).waitFor();
  assert.match(await status.innerText(), /sandbox/i);
  const first = await status.innerText();
  // The status names the time to the second: a reload a second later says a new one.
  await page.waitForTimeout(1100);
  await page.getByTestId("load-channels").click();
  await page.waitForFunction(
    (first) => {
      const text = document.querySelector("[data-testid=channels-status]")?.textContent ?? "";
      return /Loaded 1 channel\b/.test(text) && text !== first;
    },
    first,
    { timeout: 15_000 },
  );
  noPageErrors(pageErrors);
});

test("Reload channels names the failure when 8x8 cannot be reached", async (t) => {
  const { page, pageErrors } = await session(t, undefined, ["--sandbox", "off"]);
  await openSettings(page, "Handover settings");
  await page.getByLabel("Use the endpoint's connection").uncheck();
  await page.getByLabel("Base URL", { exact: true }).fill("http://127.0.0.1:9");
  await page.getByTestId("handover-key-replace").click();
  await page.getByLabel("API key", { exact: true }).fill("some-key");
  await save(page);
  await page.getByTestId("load-channels").click();
  await page.getByTestId("channels-problem").waitFor({ timeout: 20_000 });
  assert.match(await page.getByTestId("channels-problem").innerText(), /reach|127\.0\.0\.1:9/i);
  assert.equal(await page.getByTestId("channels-status").count(), 0);
  noPageErrors(pageErrors);
});

test("the top navigation stays on one line at the desktop window's size", async (t) => {
  const { page, pageErrors } = await session(t, { viewport: { width: 1100, height: 760 } });
  const rows = () =>
    page.evaluate(() => {
      const links = [...document.querySelectorAll('nav[aria-label="Main"] a')];
      return new Set(links.map((a) => Math.round(a.getBoundingClientRect().top))).size;
    });
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  for (const width of [1100, 1440]) {
    await page.setViewportSize({ width, height: 760 });
    assert.equal(await rows(), 1, `one row of links at ${width} px`);
    assert.ok((await overflow()) <= 0, `no sideways scrolling at ${width} px`);
  }
  await page.setViewportSize({ width: 800, height: 760 });
  assert.ok((await overflow()) <= 0, "no sideways scrolling at 800 px");
  for (const name of ["Status", "Inspector"]) {
    assert.ok(await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name }).isVisible());
  }
  noPageErrors(pageErrors);
});
