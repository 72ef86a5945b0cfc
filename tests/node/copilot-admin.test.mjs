// The Copilot from the admin's and the tester's side: its section of the Handover
// settings (saved and shown again; the link's place among 8x8's 30 JSON properties,
// refused at the field when there is none left; the shared secret shown once), the link
// of a handed-over conversation in the agent view (open, copy, revoke — after which the
// page's API refuses it), and the sandbox agent console showing the link its agent
// received and opening the page beside the chat. Screenshots at 800 and 1440 px, light
// and dark, in /tmp/shots/copilot-admin/.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { api, signedIn, until } from "./lib/browser.mjs";
import { sandboxAndBrowser } from "./lib/suite.mjs";

const env = sandboxAndBrowser();
const WAIT = { timeout: 20_000 };
const CP = "f-handover-copilot";
const SHOTS = process.env.COPILOT_SHOTS ?? "/tmp/shots/copilot-admin";
mkdirSync(SHOTS, { recursive: true });

/** Clean-ups run last-in first-out after the test (the page's context closes last). */
function cleanups(t) {
  const steps = [];
  t.after(async () => {
    for (const step of steps.reverse()) await step();
  });
  return (step) => steps.push(step);
}

async function open(t, path, options = {}) {
  const later = cleanups(t);
  const { context, page } = await signedIn(env.browser, env.server, path);
  later(() => context.close());
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: env.server.adminOrigin });
  if (options.viewport) await page.setViewportSize(options.viewport);
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  later(() => assert.deepEqual(errors, [], "no page errors"));
  page.later = later;
  return page;
}

/** Puts the settings back as they were, whatever a test saved. */
async function restoreAfter(page) {
  const before = (await api(page, "GET", "/settings")).body.settings;
  page.later(async () => {
    await api(page, "PUT", "/settings", { settings: before, keys: { copilotModel: { action: "remove" } } });
  });
  return before;
}

async function saveAndWait(page) {
  await page.getByTestId("save").click();
  await page.getByTestId("dirty-state").getByText("All changes saved", { exact: true }).waitFor(WAIT);
}

/** Types into the JSON properties' code editor (or its plain stand-in). */
async function setJsonProperties(page, text) {
  const field = page.locator("#f-handover-jsonProperties");
  await field.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(text);
}

async function shoot(page, name, locator) {
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    const width = page.viewportSize().width;
    const path = join(SHOTS, `${name}-${width}-${scheme}.png`);
    // The settings pages' Save bar is fixed to the window: it would cover part of a section.
    const style = ".bar { display: none !important; }";
    if (locator) await locator.screenshot({ path, style });
    else await page.screenshot({ path, fullPage: true });
  }
  await page.emulateMedia({ colorScheme: "light" });
}

/** A tester user who asks for a person; returns the relay's conversation id once 8x8 has it. */
async function handedOver(page, name) {
  const c = (await api(page, "POST", "/tester/conversations", { name, email: `${name.split(" ")[0].toLowerCase()}@example.com`, language: "en" })).body;
  await api(page, "POST", `/tester/conversations/${c.id}/messages`, { quickReply: { title: "Talk to a person", payload: "agent" } });
  await until(async () => (await api(page, "GET", `/conversations/${c.id}`)).body.conversation.gatewayId, "the 8x8 conversation");
  return c.id;
}

/** The Copilot page's own API for a link (what the page fetches, without the admin token). */
async function workspaceStatus(link) {
  const url = new URL("api/workspace", link);
  url.search = new URL(link).search;
  return (await fetch(url)).status;
}

test("Copilot settings: on, label, expiry, signed links, knowledge and the model are saved and shown again; the model's key goes to the keychain, not the settings", async (t) => {
  const page = await open(t, "/settings/handover");
  await restoreAfter(page);
  const section = page.getByTestId("copilot-settings");
  await section.waitFor(WAIT);

  assert.equal(await page.getByRole("switch", { name: "Put a Copilot link in every handover" }).isChecked(), true, "on by default");
  await page.getByLabel("Link label").fill("Agent workspace");
  await page.getByLabel("Link expires after the conversation ends (hours)").fill("48");
  await page.getByRole("switch", { name: "Signed links for iframes" }).check();
  const knowledge = "# Returns\nSend it back within 30 days for a full refund.\n\n# Opening hours\nWe answer 9 to 17.\n";
  await page.getByLabel("Knowledge file (optional)").fill(knowledge);
  assert.match(await page.getByTestId("copilot-knowledge-size").innerText(), /\d+ bytes of 512 KiB/);

  await page.getByRole("switch", { name: "Language model (optional)" }).check();
  assert.match(await page.getByTestId("copilot-model-note").innerText(), /What the model writes:.*summary.*suggested answers/s);
  await page.getByLabel("Chat-completions URL").fill("http://127.0.0.1:9/v1/chat/completions");
  await page.getByLabel("Model name").fill("stand-in-1");
  await page.getByTestId("copilot-model-key-replace").click();
  await page.keyboard.type("sk-test-not-real-123");
  await saveAndWait(page);

  const view = (await api(page, "GET", "/settings")).body;
  const cp = view.settings.handover.copilot;
  assert.deepEqual(
    { ...cp, knowledge: cp.knowledge.trim() },
    { enabled: true, label: "Agent workspace", expiryHours: 48, signedLinks: true, knowledge: knowledge.trim(), model: { enabled: true, url: "http://127.0.0.1:9/v1/chat/completions", model: "stand-in-1" } },
  );
  assert.equal(view.keys.copilotModel.set, true, "the model key is in the keychain");
  assert.ok(!JSON.stringify(view.settings).includes("sk-test-not-real-123"), "the key is not in the settings");

  await page.reload();
  await section.waitFor(WAIT);
  assert.equal(await page.getByLabel("Link label").inputValue(), "Agent workspace");
  assert.equal(await page.getByLabel("Link expires after the conversation ends (hours)").inputValue(), "48");
  assert.equal(await page.getByRole("switch", { name: "Signed links for iframes" }).isChecked(), true);
  assert.equal((await page.getByLabel("Knowledge file (optional)").inputValue()).trim(), knowledge.trim());
  assert.equal(await page.getByLabel("Model name").inputValue(), "stand-in-1");
  assert.equal(await page.getByTestId("copilot-model-key-state").innerText(), "set");

  // A knowledge file picked from disk replaces the text, and says where it came from.
  await page.getByTestId("copilot-knowledge-file").setInputFiles({ name: "faq.yaml", mimeType: "application/yaml", buffer: Buffer.from("- q: Where is my order?\n  a: Look it up under Orders.\n") });
  // The browser reads a picked file asynchronously.
  await until(async () => /Where is my order\?/.test(await page.getByLabel("Knowledge file (optional)").inputValue()), "the picked file's text in the field");
  assert.match(await page.getByTestId("copilot-knowledge-size").innerText(), /of 512 KiB · from faq\.yaml/);
  await page.getByTestId("copilot-knowledge-file").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("x") });
  await page.getByTestId("copilot-knowledge-problem").waitFor(WAIT);
  assert.match(await page.getByTestId("copilot-knowledge-problem").innerText(), /not a Markdown \(\.md\) or YAML/);
  assert.match(await page.getByLabel("Knowledge file (optional)").inputValue(), /Where is my order\?/, "a refused file changes nothing");

  // A bad number is named at its field before anything is sent.
  await page.getByLabel("Link expires after the conversation ends (hours)").fill("0");
  await page.getByTestId("save").click();
  assert.match(await page.getByTestId(`${CP}-expiryHours-error`).innerText(), /1 to 720|between 1 and 720/);
  await page.getByTestId("discard").click();
  assert.doesNotMatch(await page.getByTestId("copilot-knowledge-size").innerText(), /faq\.yaml/, "the saved text is not the file's");
  assert.equal(await page.getByTestId("copilot-knowledge-problem").count(), 0, "Discard clears the refusal");

  for (const width of [800, 1440]) {
    await page.setViewportSize({ width, height: 1000 });
    await shoot(page, "settings", section);
  }
});

test("Copilot settings: the link's place among 8x8's 30 entries is counted live from the JSON properties, and 30 properties with the Copilot on are refused at the field", async (t) => {
  const page = await open(t, "/settings/handover");
  await restoreAfter(page);
  const budget = page.getByTestId("copilot-budget");
  await budget.waitFor(WAIT);

  const props = (n) => JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`Key${i + 1}`, `value ${i + 1}`])), null, 1);
  await setJsonProperties(page, props(12));
  await budget.getByText("12 of 30 used by the JSON properties, 1 for the Copilot link (13 of 30).").waitFor(WAIT);
  await setJsonProperties(page, props(29));
  await budget.getByText(/29 of 30 used by the JSON properties, 1 for the Copilot link \(30 of 30\)/).waitFor(WAIT);
  await setJsonProperties(page, props(30));
  await budget.getByText(/30 of 30 used .* 1 too many/).waitFor(WAIT);

  const before = (await api(page, "GET", "/settings")).body.settings.handover.jsonProperties;
  await page.getByTestId("save").click();
  const atToggle = page.getByTestId(`${CP}-enabled-error`);
  await atToggle.waitFor(WAIT);
  assert.match(await atToggle.innerText(), /entry 31 of 8x8's 30/);
  assert.match(await page.getByTestId("f-handover-jsonProperties-error").innerText(), /at most 29 entries/);
  assert.equal((await api(page, "GET", "/settings")).body.settings.handover.jsonProperties, before, "nothing was saved");
  await page.setViewportSize({ width: 800, height: 1000 });
  await shoot(page, "settings-over", page.getByTestId("copilot-settings"));

  // With the link off, the 30 fit.
  await page.getByRole("switch", { name: "Put a Copilot link in every handover" }).uncheck();
  await budget.getByText("30 of 30 used by the JSON properties; the Copilot link would take 1 more.").waitFor(WAIT);
  await saveAndWait(page);
  assert.equal(await atToggle.count(), 0);
});

test("Copilot settings: a knowledge file the Copilot cannot use is refused at its field with the line to fix, which Go to line selects; nothing is saved", async (t) => {
  const page = await open(t, "/settings/handover");
  await restoreAfter(page);
  const field = page.getByLabel("Knowledge file (optional)");
  await field.waitFor(WAIT);
  const before = (await api(page, "GET", "/settings")).body.settings.handover.copilot.knowledge;

  // An FAQ whose third question has no answer.
  const faq = "- q: Where is my order?\n  a: Under Orders.\n- q: Can I return it?\n  a: Within 30 days.\n- q: Do you ship abroad?\n";
  await page.getByTestId("copilot-knowledge-file").setInputFiles({ name: "faq.yml", mimeType: "application/yaml", buffer: Buffer.from(faq) });
  await page.getByTestId("save").click();
  const error = page.getByTestId(`${CP}-knowledge-error`);
  await error.waitFor(WAIT);
  assert.match(await error.innerText(), /line 5\b/);
  assert.equal(await field.getAttribute("aria-invalid"), "true");
  assert.equal((await api(page, "GET", "/settings")).body.settings.handover.copilot.knowledge, before, "nothing was saved");
  assert.equal(await field.inputValue(), faq, "the text stays to be fixed");

  await page.getByTestId("copilot-knowledge-goto").click();
  const selected = await field.evaluate((a) => a.value.slice(a.selectionStart, a.selectionEnd));
  assert.equal(selected, "- q: Do you ship abroad?");
  await page.setViewportSize({ width: 800, height: 1000 });
  await shoot(page, "knowledge-refused", page.getByTestId("copilot-settings"));

  // Fixed, it saves.
  await field.fill(faq + "  a: Yes, to the EU.\n");
  await saveAndWait(page);
  assert.match((await api(page, "GET", "/settings")).body.settings.handover.copilot.knowledge, /to the EU/);
});

test("Copilot settings: the shared secret is shown once with Copy, then only as set; regenerating asks first", async (t) => {
  const page = await open(t, "/settings/handover");
  const state = page.getByTestId("copilot-secret-state");
  await state.waitFor(WAIT);
  assert.equal(await state.innerText(), "not set");

  await page.getByTestId("copilot-secret-generate").click();
  const value = page.getByTestId("copilot-secret-value");
  await value.waitFor(WAIT);
  const secret = await value.inputValue();
  assert.match(secret, /^[A-Za-z0-9_-]{43}$/, "256 bits, base64url");
  assert.match(await page.getByTestId("copilot-secret").innerText(), /not shown again/);
  await page.getByTestId("copilot-secret-copy").click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  assert.equal(await state.innerText(), "set");
  assert.equal((await api(page, "GET", "/settings")).body.keys.copilotJwtSecret.set, true);
  for (const width of [800, 1440]) {
    await page.setViewportSize({ width, height: 1000 });
    await shoot(page, "secret-once", page.getByTestId("copilot-secret"));
  }

  await page.reload();
  await state.waitFor(WAIT);
  assert.equal(await state.innerText(), "set");
  assert.equal(await value.count(), 0, "the secret is not shown again");
  assert.ok(!(await page.content()).includes(secret), "nor anywhere in the page");

  await page.getByTestId("copilot-secret-generate").click();
  await page.getByTestId("copilot-secret-confirm").waitFor(WAIT);
  assert.match(await page.getByRole("alertdialog").innerText(), /stops working at once/);
  await page.getByRole("button", { name: "Cancel" }).click();
  assert.equal(await value.count(), 0, "Cancel makes no secret");
  await page.getByTestId("copilot-secret-generate").click();
  await page.getByTestId("copilot-secret-confirm").click();
  await value.waitFor(WAIT);
  assert.notEqual(await value.inputValue(), secret, "a new secret");
});

test("A handed-over conversation shows its Copilot link in the agent view; Revoke, once confirmed, makes the page refuse it and the view says revoked", async (t) => {
  const page = await open(t, "/");
  const id = await handedOver(page, "Rita Revoke");
  const made = await until(async () => {
    const r = await api(page, "GET", `/conversations/${id}/copilot`);
    return r.status === 200 && r.body;
  }, "the Copilot link");

  await page.goto(`${env.server.adminOrigin}/conversations?c=${id}`);
  await page.getByTestId("tab-agent").click();
  const box = page.getByTestId("copilot-link");
  await box.getByTestId("copilot-link-url").waitFor(WAIT);
  assert.equal(await box.getByTestId("copilot-link-url").inputValue(), made.link);
  assert.equal(await box.getByTestId("copilot-link-state").getAttribute("data-state"), "active");
  assert.equal(await box.getByTestId("copilot-link-open").getAttribute("href"), made.link);
  assert.equal(await box.getByTestId("copilot-link-open").getAttribute("target"), "_blank");
  await box.getByTestId("copilot-link-copy").click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), made.link);
  assert.equal(await workspaceStatus(made.link), 200, "the page answers before the revoke");
  for (const width of [800, 1440]) {
    await page.setViewportSize({ width, height: 1000 });
    await shoot(page, "agent-view-link", box);
  }

  // The customer leaves: the link now works for the configured hours after the end.
  await api(page, "POST", `/tester/conversations/${id}/leave`);
  await box.locator('[data-state="expiring"]').waitFor(WAIT);
  const { expiresAtMs } = (await api(page, "GET", `/conversations/${id}/copilot`)).body;
  const hours = (await api(page, "GET", "/settings")).body.settings.handover.copilot.expiryHours;
  const ended = (await api(page, "GET", `/conversations/${id}`)).body.conversation.endedAtMs;
  assert.equal(expiresAtMs, ended + hours * 3_600_000);
  assert.match(await box.getByTestId("copilot-link-state").innerText(), /Active; expires at .* \(the conversation has ended\)/);
  assert.equal(await workspaceStatus(made.link), 200, "the page still answers until then");

  await box.getByTestId("copilot-link-revoke").click();
  await box.getByRole("button", { name: "Cancel" }).click();
  assert.equal(await workspaceStatus(made.link), 200, "Cancel revokes nothing");
  await box.getByTestId("copilot-link-revoke").click();
  await box.getByTestId("copilot-link-revoke-confirm").click();
  await box.locator('[data-state="revoked"]').waitFor(WAIT);
  assert.match(await box.getByTestId("copilot-link-state").innerText(), /Revoked at .*refuses it/);
  assert.equal(await box.getByTestId("copilot-link-revoke").count(), 0);
  assert.equal(await box.getByTestId("copilot-link-open").count(), 0);
  assert.equal(await workspaceStatus(made.link), 404, "the page's API refuses a revoked link");
  assert.ok((await api(page, "GET", `/conversations/${id}/copilot`)).body.revokedAtMs > 0);
  await shoot(page, "agent-view-revoked", box);
});

test("The agent console shows the Copilot link its agent receives and opens the page beside the chat at 1440 px, in a new tab at 800 px", async (t) => {
  const page = await open(t, "/agent-console", { viewport: { width: 1440, height: 1000 } });
  const settings = await restoreAfter(page);
  const next = structuredClone(settings);
  next.handover.copilot.label = "Copilot workspace";
  assert.equal((await api(page, "PUT", "/settings", { settings: next, keys: {} })).status, 200);

  await page.getByTestId("queue-toggle-101").filter({ hasText: "Answer here" }).click();
  await page.getByTestId("queue-toggle-101").filter({ hasText: "Give back" }).waitFor(WAIT);
  page.later(async () => {
    await page.getByTestId("queue-toggle-101").filter({ hasText: "Give back" }).click();
  });
  const id = await handedOver(page, "Cleo Console");
  const made = await until(async () => {
    const r = await api(page, "GET", `/conversations/${id}/copilot`);
    return r.status === 200 && r.body;
  }, "the Copilot link");
  await page.getByTestId("offer").filter({ hasText: "Cleo Console" }).getByTestId("offer-accept").click();

  const bar = page.getByTestId("console-copilot");
  await bar.getByTestId("console-copilot-url").waitFor(WAIT);
  assert.equal(await bar.getByTestId("console-copilot-url").innerText(), made.link);
  assert.match(await bar.innerText(), /Copilot workspace link the agent receives/);
  // The same entry the contact panel shows, as 8x8 has it.
  assert.match(await page.getByTestId("contact-properties").innerText(), /Copilot workspace/);

  await bar.getByTestId("console-copilot-open").click();
  const panel = page.getByTestId("console-copilot-panel");
  await panel.waitFor(WAIT);
  const box = await panel.boundingBox();
  assert.ok(box.width >= 380 && box.width <= 420, `about 400 px wide (${box.width})`);
  const chatBox = await page.locator("section.chat").boundingBox();
  assert.ok(box.x >= chatBox.x + chatBox.width - 1, "beside the chat, on its right");
  await page.frameLocator('[data-testid="console-copilot-frame"]').getByTestId("copilot-workspace").waitFor(WAIT);
  assert.equal(await page.getByTestId("console-copilot-refused").count(), 0);
  await shoot(page, "console-beside");

  // Narrow: no room beside the chat, so the page opens in a new tab.
  await page.setViewportSize({ width: 800, height: 1000 });
  await until(async () => (await bar.getByTestId("console-copilot-open").innerText()).includes("new tab"), "the new-tab button");
  assert.equal(await panel.isVisible(), false);
  const [tab] = await Promise.all([page.context().waitForEvent("page"), bar.getByTestId("console-copilot-open").click()]);
  await tab.waitForLoadState();
  assert.equal(tab.url(), made.link);
  await tab.close();
  await shoot(page, "console-narrow");
});

test("The agent console says why when this window may not frame the Copilot's address (the public base URL changed since it loaded) and opens it in a new tab", async (t) => {
  const page = await open(t, "/agent-console", { viewport: { width: 1440, height: 1000 } });
  const settings = await restoreAfter(page);
  await page.getByTestId("queue-toggle-101").filter({ hasText: "Answer here" }).click();
  await page.getByTestId("queue-toggle-101").filter({ hasText: "Give back" }).waitFor(WAIT);
  page.later(async () => {
    await page.getByTestId("queue-toggle-101").filter({ hasText: "Give back" }).click();
  });
  // Links are now built on an address this page's security policy (read when it loaded)
  // does not name.
  const next = structuredClone(settings);
  next.endpoint.publicBaseUrl = "https://copilot.example.invalid";
  assert.equal((await api(page, "PUT", "/settings", { settings: next, keys: {} })).status, 200);
  const id = await handedOver(page, "Fay Frame");
  const made = await until(async () => {
    const r = await api(page, "GET", `/conversations/${id}/copilot`);
    return r.status === 200 && r.body;
  }, "the Copilot link");
  assert.ok(made.link.startsWith("https://copilot.example.invalid/"), made.link);
  await page.getByTestId("offer").filter({ hasText: "Fay Frame" }).getByTestId("offer-accept").click();
  const bar = page.getByTestId("console-copilot");
  await bar.getByTestId("console-copilot-url").waitFor(WAIT);

  // The address does not exist: a stand-in answers for it, so the new tab shows where it went.
  await page.context().route("https://copilot.example.invalid/**", (route) => route.fulfill({ contentType: "text/html", body: "<p>stand-in</p>" }));
  const [tab] = await Promise.all([page.context().waitForEvent("page"), bar.getByTestId("console-copilot-open").click()]);
  const note = page.getByTestId("console-copilot-refused");
  await note.waitFor(WAIT);
  assert.match(await note.innerText(), /security policy does not allow showing pages of https:\/\/copilot\.example\.invalid inside it, so the Copilot opened in a new tab/);
  assert.equal(await page.getByTestId("console-copilot-frame").count(), 0);
  await tab.waitForLoadState();
  assert.equal(tab.url(), made.link);
  await tab.close();
  await shoot(page, "console-refused", page.getByTestId("console-copilot-panel"));
});
