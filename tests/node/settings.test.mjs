// The Endpoint and Handover settings pages in a real browser against the headless server,
// with the embedded 8x8 emulator (sandbox) standing in for 8x8.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { artifacts, startServer } from "./lib/relay.mjs";
import { codeEditor } from "./lib/code-editor.mjs";
import { launchBrowser, openAdmin, openSettings, save } from "./lib/settings-browser.mjs";

// The emulator's built-in credentials (GET {sandbox}/sim/info lists them).
const SANDBOX_KEY = "sandbox-key";
const SANDBOX_TENANT = "sandbox-tenant";

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
  const view = await (await admin.context.request.get(`${server.adminOrigin}/api/settings`, { headers: server.auth })).json();
  t.after(async () => {
    await admin.context.close();
    await server.stop();
  });
  return { server, ...admin, sandboxUrl: view.sandbox.baseUrl };
}

function noPageErrors(pageErrors) {
  assert.deepEqual(pageErrors.map((e) => e.message), []);
}

async function describedBy(locator) {
  const ids = ((await locator.getAttribute("aria-describedby")) ?? "").split(/\s+/).filter(Boolean);
  const texts = [];
  for (const id of ids) texts.push(await locator.page().locator(`#${id}`).innerText());
  return texts.join("\n");
}

test("both settings pages: invalid input is named beside its field, a save survives a reload, the key shows only as set", async (t) => {
  const { page, pageErrors, sandboxUrl } = await session(t);
  assert.match(sandboxUrl, /^http:\/\/127\.0\.0\.1:\d+/);

  await openSettings(page, "Endpoint settings");
  assert.equal(new URL(page.url()).pathname, "/settings/endpoint");
  assert.equal(await page.getByTestId("endpoint-key-state").innerText(), "not set");
  assert.equal(await page.getByTestId("sandbox-mode").innerText(), "Sandbox");
  // Nothing to save yet: both buttons wait for a change.
  assert.equal(await page.getByTestId("save").isDisabled(), true);
  assert.equal(await page.getByTestId("discard").isDisabled(), true);

  const baseUrl = page.getByLabel("Base URL", { exact: true });
  const tenant = page.getByLabel("8x8-Tenant (optional)");
  const publicUrl = page.getByLabel("Public base URL (optional)");

  // Invalid values: the message sits beside the field, linked for screen readers, and
  // Save refuses with the focus on the first bad field.
  await baseUrl.fill("http://api.example.com");
  await tenant.fill("two words");
  await publicUrl.fill("not a url");
  await page.getByTestId("endpoint-key-replace").click();
  await page.getByTestId("save").click();
  await page.getByTestId("save-problem").waitFor();
  assert.match(await page.getByTestId("save-problem").innerText(), /nothing was saved/i);
  assert.equal(await baseUrl.getAttribute("aria-invalid"), "true");
  assert.match(await describedBy(baseUrl), /must use https/);
  assert.match(await describedBy(tenant), /no spaces/);
  assert.match(await describedBy(publicUrl), /not a valid URL/);
  assert.match(await describedBy(page.getByLabel("API key", { exact: true })), /Type the new API key/);
  assert.equal(await page.evaluate(() => document.activeElement?.id), "f-connection-baseUrl");

  // Valid values, the sandbox's credentials, the greeting switched off.
  await baseUrl.fill(sandboxUrl);
  await tenant.fill(SANDBOX_TENANT);
  await publicUrl.fill("https://relay.example.test");
  await page.getByLabel("API key", { exact: true }).fill(SANDBOX_KEY);
  const greet = page.getByLabel("Accept Conversation Active Event");
  assert.equal(await greet.isChecked(), true);
  await greet.uncheck();
  assert.equal(await baseUrl.getAttribute("aria-invalid"), null);
  await save(page);
  await page.getByText("Settings saved").waitFor();
  assert.equal(await page.getByTestId("endpoint-key-state").innerText(), "set");
  assert.equal(await page.getByLabel("API key", { exact: true }).count(), 0);
  assert.match(await page.getByTestId("settings-endpoint-url").inputValue(), /^https:\/\/relay\.example\.test\/endpoint\/\S{22,}$/);

  // The handover page: its own connection, ids, JSON properties and conversation rules.
  await openSettings(page, "Handover settings");
  await page.getByLabel("Use the endpoint's connection").uncheck();
  await page.getByLabel("Base URL", { exact: true }).fill("ftp://example.com");
  const channel = page.getByLabel("Channel Id");
  const queue = page.getByLabel("Queue Id");
  const json = page.getByLabel("JSON properties");
  const message = page.getByLabel("Handover message");
  const timeout = page.getByLabel("Inactivity timeout (minutes)");
  await channel.fill("channel with spaces");
  await json.fill('{"intent": "billing",\n "vip": }');
  // The server's verdict, with line and column, arrives while typing.
  await page.getByTestId("f-handover-jsonProperties-error").waitFor();
  assert.match(await describedBy(json), /line 2, column \d+/);
  // …and the line it names is marked in the editor.
  assert.equal(await page.getByTestId("json-properties").locator(".cm-error-line-number").innerText(), "2");
  await message.fill("   ");
  await timeout.fill("0");
  await page.getByTestId("save").click();
  await page.getByTestId("save-problem").waitFor();
  assert.match(await describedBy(page.getByLabel("Base URL", { exact: true })), /https:\/\//);
  assert.match(await describedBy(channel), /no spaces/);
  assert.match(await describedBy(message), /Say something/);
  assert.match(await describedBy(timeout), /between 1 and 1440/);
  assert.equal(await page.evaluate(() => document.activeElement?.id), "f-handover-connection-baseUrl");

  // More than 30 entries is refused: 8x8 shows at most 30 to the agent.
  const many = Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`k${i}`, `v${i}`]));
  await json.fill(JSON.stringify(many, null, 1));
  await page.waitForFunction(() => /30/.test(document.getElementById("f-handover-jsonProperties-error")?.textContent ?? ""));

  await page.getByLabel("Base URL", { exact: true }).fill(sandboxUrl);
  await page.getByLabel("8x8-Tenant (optional)").fill(SANDBOX_TENANT);
  await page.getByTestId("handover-key-replace").click();
  await page.getByLabel("API key", { exact: true }).fill(SANDBOX_KEY);
  await channel.fill("web-chat-channel");
  await queue.fill("queue-42");
  await json.fill('{\n  "intent": "billing",\n  "vip": true,\n  "order": {"id": 7}\n}');
  await message.fill("Connecting you to a person.");
  await timeout.fill("45");
  await page.getByLabel("Close the conversation").check();
  await page.getByLabel("Handback").check();

  // The preview is what the agent receives: the properties as key/value strings.
  await page.waitForFunction(() => /3 of 30 entries/.test(document.querySelector("[data-testid=json-count]")?.textContent ?? ""));
  const user = JSON.parse(await page.getByTestId("preview-user").innerText());
  assert.deepEqual(user.additionalProperties, [
    { key: "intent", value: "billing" },
    { key: "vip", value: "true" },
    { key: "order", value: '{"id":7}' },
  ]);
  assert.ok((await page.getByTestId("preview-history").locator("li").count()) > 0, "a sample history is shown");

  await save(page);
  assert.equal(await page.getByTestId("handover-key-state").innerText(), "set");
  await page.screenshot({ path: join(artifacts, "settings-handover.png"), fullPage: true });

  // A reload (straight onto the settings path) shows what was saved.
  await page.reload();
  await page.getByTestId("dirty-state").waitFor();
  assert.equal(new URL(page.url()).pathname, "/settings/handover");
  assert.equal(await page.getByLabel("Use the endpoint's connection").isChecked(), false);
  assert.equal(await page.getByLabel("Base URL", { exact: true }).inputValue(), sandboxUrl);
  assert.equal(await page.getByLabel("8x8-Tenant (optional)").inputValue(), SANDBOX_TENANT);
  assert.equal(await channel.inputValue(), "web-chat-channel");
  assert.equal(await queue.inputValue(), "queue-42");
  assert.match(await (await codeEditor(page, "json-properties")).text(), /"order": \{"id": 7\}/);
  assert.equal(await message.inputValue(), "Connecting you to a person.");
  assert.equal(await timeout.inputValue(), "45");
  assert.equal(await page.getByLabel("Close the conversation").isChecked(), true);
  assert.equal(await page.getByLabel("Handback").isChecked(), true);
  assert.equal(await page.getByTestId("handover-key-state").innerText(), "set");

  await openSettings(page, "Endpoint settings");
  assert.equal(await page.getByLabel("Base URL", { exact: true }).inputValue(), sandboxUrl);
  assert.equal(await page.getByLabel("8x8-Tenant (optional)").inputValue(), SANDBOX_TENANT);
  assert.equal(await page.getByLabel("Public base URL (optional)").inputValue(), "https://relay.example.test");
  assert.equal(await page.getByLabel("Accept Conversation Active Event").isChecked(), false);
  assert.equal(await page.getByTestId("endpoint-key-state").innerText(), "set");
  // With a key set (sandbox "auto"), this role now talks to the configured address.
  assert.equal(await page.getByTestId("sandbox-mode").innerText(), "Real 8x8 tenant");
  await page.screenshot({ path: join(artifacts, "settings-endpoint.png"), fullPage: true });
  noPageErrors(pageErrors);
});

test("Discard restores the saved values, and leaving a dirty page asks first", async (t) => {
  const { page, pageErrors } = await session(t);
  await openSettings(page, "Endpoint settings");
  const tenant = page.getByLabel("8x8-Tenant (optional)");
  await tenant.fill("draft-tenant");
  assert.equal(await page.getByTestId("dirty-state").innerText(), "Unsaved changes");
  assert.equal(await page.getByTestId("save").isDisabled(), false);
  await page.getByTestId("discard").click();
  assert.equal(await tenant.inputValue(), "");
  assert.equal(await page.getByTestId("save").isDisabled(), true);

  // Typing a value back to what was saved is not a change.
  await tenant.fill("x");
  await tenant.fill("");
  assert.equal(await page.getByTestId("save").isDisabled(), true);

  await tenant.fill("draft-tenant");
  const questions = [];
  page.once("dialog", (d) => {
    questions.push(d.message());
    void d.dismiss();
  });
  await page.getByRole("link", { name: "Status" }).click();
  assert.match(questions[0] ?? "", /unsaved changes/i);
  assert.equal(new URL(page.url()).pathname, "/settings/endpoint");
  assert.equal(await tenant.inputValue(), "draft-tenant");

  page.once("dialog", (d) => void d.accept());
  await page.getByRole("link", { name: "Status" }).click();
  await page.getByTestId("relay-state").waitFor();
  assert.equal(new URL(page.url()).pathname, "/");

  // Closing the tab (or window) with unsaved edits asks too.
  await openSettings(page, "Endpoint settings");
  await tenant.fill("draft-tenant");
  const asked = page.waitForEvent("dialog");
  await page.close({ runBeforeUnload: true });
  const dialog = await asked;
  assert.equal(dialog.type(), "beforeunload");
  await dialog.dismiss();
  assert.equal(page.isClosed(), false);
  assert.equal(await tenant.inputValue(), "draft-tenant");
  noPageErrors(pageErrors);
});

test("a change saved in another window shows up, or is announced when this one has edits", async (t) => {
  const { page, context, pageErrors } = await session(t);
  const other = await context.newPage();
  await other.goto(page.url());
  await openSettings(page, "Endpoint settings");
  await openSettings(other, "Endpoint settings");

  await other.getByLabel("8x8-Tenant (optional)").fill("from-the-other-window");
  await save(other);
  // This window had no edits: it follows.
  await page.waitForFunction(() => (document.getElementById("f-connection-tenant")?.value ?? "") === "from-the-other-window");

  await page.getByLabel("Public base URL (optional)").fill("https://mine.example.test");
  await other.getByLabel("8x8-Tenant (optional)").fill("changed-again");
  await save(other);
  await page.getByTestId("changed-elsewhere").waitFor();
  assert.equal(await page.getByLabel("Public base URL (optional)").inputValue(), "https://mine.example.test");
  await page.getByTestId("changed-elsewhere").getByRole("button").click();
  await page.waitForFunction(() => (document.getElementById("f-connection-tenant")?.value ?? "") === "changed-again");
  assert.equal(await page.getByTestId("dirty-state").innerText(), "All changes saved");
  noPageErrors(pageErrors);
});

test("the Copy button puts the Endpoint URL on the clipboard and says so", async (t) => {
  const { page, pageErrors, server } = await session(t, { colorScheme: "dark" });
  await openSettings(page, "Endpoint settings");
  await page.screenshot({ path: join(artifacts, "settings-endpoint-dark.png"), fullPage: true });
  const url = await page.getByTestId("settings-endpoint-url").inputValue();
  assert.equal(url, server.endpointUrl);
  // No public URL yet: the page says why 8x8's cloud cannot use this one.
  assert.match(await page.getByTestId("endpoint-url-note").innerText(), /8x8's cloud cannot reach it/);
  await page.getByTestId("settings-copy-endpoint").click();
  await page.getByText("Endpoint URL copied").waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), url);

  // Regenerating warns first, then gives a new URL.
  await page.getByTestId("regenerate").click();
  assert.match(await page.getByRole("alertdialog").innerText(), /8x8 must be updated/);
  await page.getByTestId("regenerate-confirm").click();
  await page.waitForFunction((old) => document.querySelector("[data-testid=settings-endpoint-url]")?.value !== old, url);
  const fresh = await page.getByTestId("settings-endpoint-url").inputValue();
  assert.notEqual(fresh, url);
  assert.equal(new URL(fresh).host, new URL(url).host);
  noPageErrors(pageErrors);
});

test("Test connection: the sandbox's key succeeds, a wrong key gets the 401 explained", async (t) => {
  const { page, pageErrors, sandboxUrl } = await session(t);
  await openSettings(page, "Endpoint settings");
  await page.getByLabel("Base URL", { exact: true }).fill(sandboxUrl);
  await page.getByLabel("8x8-Tenant (optional)").fill(SANDBOX_TENANT);
  await page.getByTestId("endpoint-key-replace").click();
  const key = page.getByLabel("API key", { exact: true });
  const result = page.getByTestId("endpoint-test-result");

  await key.fill(SANDBOX_KEY);
  await page.getByTestId("endpoint-test").click();
  await result.locator(".ok").waitFor({ timeout: 15_000 });

  await key.fill("not-the-key");
  await page.getByTestId("endpoint-test").click();
  await result.locator(".bad").waitFor({ timeout: 15_000 });
  assert.match(await result.innerText(), /refused the API key \(401/);

  // The right key with a tenant it does not belong to: the 403, in words.
  await key.fill(SANDBOX_KEY);
  await page.getByLabel("8x8-Tenant (optional)").fill("someone-elses-tenant");
  await page.getByTestId("endpoint-test").click();
  await result.locator(".bad").waitFor({ timeout: 15_000 });
  assert.match(await result.innerText(), /403|tenant/i);
  // Nothing listens on port 9 of this machine: unreachable, said plainly.
  await page.getByLabel("Base URL", { exact: true }).fill("http://127.0.0.1:9");
  await page.getByTestId("endpoint-test").click();
  await result.locator(".bad").waitFor({ timeout: 15_000 });
  assert.match(await result.innerText(), /reach|connect/i);
  // Testing saves nothing: with the typed key put away, the saved state shows again.
  await page.getByTestId("endpoint-key").getByRole("button", { name: "Cancel" }).click();
  assert.equal(await page.getByTestId("endpoint-key-state").innerText(), "not set");
  noPageErrors(pageErrors);
});

test("Register webhook: the emulator gets the Endpoint URL and verifies it", async (t) => {
  const { page, pageErrors, server, sandboxUrl } = await session(t);
  await openSettings(page, "Endpoint settings");
  await page.getByTestId("webhook-state").getByText(/No webhook|Registered/).waitFor();
  await page.getByTestId("register-webhook").click();
  const result = page.getByTestId("webhook-result");
  await result.locator(".ok, .bad").waitFor({ timeout: 20_000 });
  // A fresh sandbox may already hold this relay's webhook; any outcome must be verified.
  assert.match(await result.innerText(), /Webhook (created|updated|unchanged)/);
  assert.match(await result.innerText(), /8x8 verified the Endpoint URL/);
  await page.getByTestId("webhook-state").getByText("up to date").waitFor();

  // The emulator holds a webhook for this Endpoint URL and posted its verification to it.
  const log = await (await fetch(`${sandboxUrl}/sim/log`)).json();
  const records = Array.isArray(log) ? log : (log.records ?? log.entries ?? []);
  const text = JSON.stringify(records);
  assert.ok(text.includes(new URL(server.endpointUrl).pathname), "the emulator called the Endpoint URL");
  assert.match(text, /WEB_HOOK_VERIFY/);
  noPageErrors(pageErrors);
});

test("export leaves keys and the token out; import brings the settings back", async (t) => {
  const { page, context, pageErrors, server } = await session(t);
  await openSettings(page, "Endpoint settings");
  await page.getByLabel("8x8-Tenant (optional)").fill("exported-tenant");
  await page.getByTestId("endpoint-key-replace").click();
  await page.getByLabel("API key", { exact: true }).fill("key-that-must-stay-home");
  await save(page);

  const download = page.waitForEvent("download");
  await page.getByTestId("export-settings").click();
  const file = await (await download).path();
  const { readFile } = await import("node:fs/promises");
  const exported = await readFile(file, "utf8");
  const token = new URL(server.endpointUrl).pathname.split("/").pop();
  assert.ok(!exported.includes("key-that-must-stay-home"), "no API key in the export");
  assert.ok(!exported.includes(token), "no Endpoint URL token in the export");
  assert.match(exported, /exported-tenant/);

  await page.getByLabel("8x8-Tenant (optional)").fill("something-else");
  await save(page);
  await page.getByTestId("import-settings").setInputFiles(file);
  // The import is shown first and applied on confirm (settings-workflow.test.mjs has the details).
  await page.getByTestId("import-preview").getByRole("button", { name: /^Import/ }).click();
  await page.getByText("Settings imported").waitFor();
  assert.equal(await page.getByLabel("8x8-Tenant (optional)").inputValue(), "exported-tenant");

  // A file that is not an export is refused with the server's reason, and nothing changes.
  await page.getByTestId("import-settings").setInputFiles({ name: "x.json", mimeType: "application/json", buffer: Buffer.from("[1,2") });
  await page.getByTestId("import-problem").waitFor();
  assert.match(await page.getByTestId("import-problem").innerText(), /Nothing was imported/);
  assert.equal(await page.getByLabel("8x8-Tenant (optional)").inputValue(), "exported-tenant");
  void context;
  noPageErrors(pageErrors);
});

/** Points the emulator's webhook elsewhere, as if someone had edited it in 8x8's console. */
async function moveWebhookInEmulator(sandboxUrl, webhook, uri) {
  const sim = (path, body) =>
    fetch(`${sandboxUrl}/sim/${path}`, { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  // The emulator, like 8x8, verifies a webhook's URI on update; the stand-in URI answers nothing.
  assert.equal((await sim("settings", { verifyWebhooks: false })).ok, true);
  const moved = await fetch(`${sandboxUrl}/chat-gateway/v1/webhooks/${webhook.id}`, {
    method: "PUT",
    headers: { "content-type": "application/json", "x-api-key": SANDBOX_KEY, "X-8x8-Tenant": SANDBOX_TENANT },
    body: JSON.stringify({ name: webhook.name, uri, notificationVersion: "Chat Gateway v1.0" }),
  });
  assert.equal(moved.status, 200, await moved.text());
  assert.equal((await sim("settings", { verifyWebhooks: true })).ok, true);
}

test("a drifted webhook: the handover channel's doubling warning and the update are offered, and the update clears both", async (t) => {
  const { page, context, server, pageErrors, sandboxUrl } = await session(t);
  // The sandbox's channel delivers to this relay's webhook: pick it from 8x8's list.
  await openSettings(page, "Handover settings");
  await page.getByTestId("channel-list").waitFor();
  await page.getByTestId("channel-list").getByRole("button", { name: /^Use channel/ }).first().click();
  assert.notEqual(await page.getByLabel("Channel Id").inputValue(), "");
  await save(page);
  const doubling = page.locator('[data-testid=settings-warnings] [data-code="handover_channel_elsewhere"]');
  assert.equal(await doubling.count(), 0);

  const registered = await (await context.request.get(`${server.adminOrigin}/api/webhook`, { headers: server.auth })).json();
  assert.equal(registered.upToDate, true);
  await moveWebhookInEmulator(sandboxUrl, registered.webhook, "https://elsewhere.example.test/hook");

  await page.reload();
  await doubling.waitFor();
  assert.match(await doubling.innerText(), /elsewhere\.example\.test/);
  assert.match(await doubling.innerText(), /doubled/);

  await openSettings(page, "Endpoint settings");
  await page.getByTestId("webhook-state").getByText("still posts to an old address").waitFor();
  const update = page.getByTestId("register-webhook");
  assert.equal(await update.innerText(), "Update webhook in 8x8");
  await update.click();
  await page.getByTestId("webhook-result").locator(".ok").waitFor({ timeout: 20_000 });
  assert.match(await page.getByTestId("webhook-result").innerText(), /Webhook updated/);
  await page.getByTestId("webhook-state").getByText("up to date").waitFor();
  await openSettings(page, "Handover settings");
  assert.equal(await doubling.count(), 0);
  noPageErrors(pageErrors);
});

test("Sandbox mode: one action switches to a real tenant, one switches back", async (t) => {
  const { page, pageErrors, sandboxUrl } = await session(t);
  await openSettings(page, "Endpoint settings");
  assert.equal(await page.getByTestId("sandbox-mode").innerText(), "Sandbox");
  assert.equal(await page.getByTestId("mode-badge").innerText(), "Sandbox");

  await page.getByTestId("switch-to-real").click();
  assert.equal(await page.getByLabel("Use the sandbox").inputValue(), "off");
  // The switch asks for what a real tenant needs: the key field is open and required.
  await page.getByTestId("save").click();
  await page.getByTestId("save-problem").waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), "f-keys-endpoint");
  // The emulator stands in for the real tenant here: nothing may call the real 8x8.
  await page.getByLabel("Base URL", { exact: true }).fill(sandboxUrl);
  await page.getByLabel("API key", { exact: true }).fill(SANDBOX_KEY);
  await save(page);
  assert.equal(await page.getByTestId("sandbox-mode").innerText(), "Real 8x8 tenant");
  await page.getByTestId("mode-badge").getByText("8x8", { exact: true }).waitFor();

  await page.getByTestId("use-sandbox").click();
  assert.equal(await page.getByLabel("Use the sandbox").inputValue(), "on");
  await save(page);
  assert.equal(await page.getByTestId("sandbox-mode").innerText(), "Sandbox");
  await page.getByTestId("mode-badge").getByText("Sandbox", { exact: true }).waitFor();
  // The key stays for the next switch.
  assert.equal(await page.getByTestId("endpoint-key-state").innerText(), "set");
  noPageErrors(pageErrors);
});

test("every control has a label, every description exists, and Save works from the keyboard", async (t) => {
  const { page, pageErrors } = await session(t);
  const unlabelled = () =>
    page.evaluate(() =>
      [...document.querySelectorAll("main input, main select, main textarea, main [contenteditable=true]")]
        .filter((el) => {
          // A code editor is a div: a <label for> cannot name it, aria-labelledby does.
          const named = (el.getAttribute("aria-labelledby") ?? "").split(/\s+/).some((id) => document.getElementById(id)?.textContent.trim());
          return !(el.labels?.length > 0) && !el.getAttribute("aria-label") && !named;
        })
        .map((el) => el.outerHTML),
    );
  const danglingDescriptions = () =>
    page.evaluate(() =>
      [...document.querySelectorAll("[aria-describedby]")].flatMap((el) =>
        el.getAttribute("aria-describedby").split(/\s+/).filter((id) => !document.getElementById(id)),
      ),
    );

  await openSettings(page, "Handover settings");
  await page.getByLabel("Use the endpoint's connection").uncheck();
  await page.getByTestId("handover-key-replace").click();
  await codeEditor(page, "json-properties");
  assert.deepEqual(await unlabelled(), []);
  assert.deepEqual(await danglingDescriptions(), []);

  // Leaving with edits asks first; this test discards them.
  page.once("dialog", (d) => void d.accept());
  await openSettings(page, "Endpoint settings");
  await page.getByTestId("endpoint-key-replace").click();
  await codeEditor(page, "bot-flow");
  assert.deepEqual(await unlabelled(), []);
  assert.deepEqual(await danglingDescriptions(), []);
  await page.getByRole("button", { name: "Cancel" }).click();

  // Keyboard only: type a tenant, Tab to Save, press Enter.
  await page.getByLabel("8x8-Tenant (optional)").focus();
  await page.keyboard.type("keyboard-tenant");
  let onSave = false;
  for (let i = 0; i < 80 && !onSave; i++) {
    await page.keyboard.press("Tab");
    onSave = await page.evaluate(() => document.activeElement?.getAttribute("data-testid") === "save");
  }
  assert.ok(onSave, "Tab reaches the Save button");
  await page.keyboard.press("Enter");
  await page.getByTestId("dirty-state").getByText("All changes saved", { exact: true }).waitFor();
  await page.reload();
  await page.getByTestId("dirty-state").waitFor();
  assert.equal(await page.getByLabel("8x8-Tenant (optional)").inputValue(), "keyboard-tenant");
  noPageErrors(pageErrors);
});

test("a key from the environment shows as set, from the environment, with nothing to replace or remove", async (t) => {
  // The sandbox is forced on, so with a key present nothing can reach the real 8x8.
  const { page, pageErrors } = await session(t, undefined, ["--sandbox", "on"], {
    env: { SWITCHBOARD_API_KEY: "environment-key-value" },
  });
  await openSettings(page, "Endpoint settings");
  assert.equal(await page.getByTestId("endpoint-key-state").innerText(), "set");
  assert.match(await page.getByTestId("endpoint-key").innerText(), /from the environment/);
  assert.equal(await page.getByTestId("endpoint-key-replace").count(), 0);
  assert.equal(await page.getByTestId("endpoint-key-remove").count(), 0);
  assert.equal(await page.getByTestId("sandbox-mode").innerText(), "Sandbox");
  assert.match(await page.getByTestId("sandbox-panel").innerText(), /forced on/);
  assert.ok(!(await page.content()).includes("environment-key-value"));
  noPageErrors(pageErrors);
});
