// The Bot section of the Endpoint settings page in a real browser against the headless
// server: the built-in flow's YAML editor (the server's "line L" verdict shown beside it,
// the line marked in the editor, its message on hover) and the external bot's URL and time limit.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { artifacts, startServer } from "./lib/relay.mjs";
import { codeEditor } from "./lib/code-editor.mjs";
import { launchBrowser, openAdmin, openSettings, save } from "./lib/settings-browser.mjs";

let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

async function session(t) {
  const server = await startServer();
  const admin = await openAdmin(browser, server);
  t.after(async () => {
    await admin.context.close();
    await server.stop();
  });
  const saved = async () => (await (await admin.context.request.get(`${server.adminOrigin}/api/settings`, { headers: server.auth })).json()).settings.bot;
  return { server, saved, ...admin };
}

async function describedBy(locator) {
  const ids = ((await locator.getAttribute("aria-describedby")) ?? "").split(/\s+/).filter(Boolean);
  const texts = [];
  for (const id of ids) texts.push(await locator.page().locator(`#${id}`).innerText());
  return texts.join("\n");
}

test("built-in flow: a bad regex is named by line beside the editor and nothing is saved; a good edit survives a reload", async (t) => {
  const { page, pageErrors, saved } = await session(t);
  await openSettings(page, "Endpoint settings");

  const kind = page.getByTestId("bot-kind");
  assert.equal(await kind.getByLabel("Built-in flow").isChecked(), true);
  const flow = await codeEditor(page, "bot-flow");
  assert.equal(await page.getByLabel("Flow (YAML)").getAttribute("id"), "f-bot-flow", "the editor is named by its label");
  // The editor injects its styles at run time: the admin page's Content-Security-Policy
  // must allow them (blocked, the gutter would be a plain block above the text).
  assert.equal(await flow.box.locator(".cm-gutters").evaluate((g) => getComputedStyle(g).display), "flex");
  const original = await flow.text();
  assert.equal(original, (await saved()).flow);

  // Break the regex of the order rule.
  const lines = original.split("\n");
  const regexIndex = lines.findIndex((l) => /^\s*regex:/.test(l));
  assert.ok(regexIndex >= 0, "the default flow has a regex rule");
  lines[regexIndex] = lines[regexIndex].replace(/regex:.*/, "regex: '(unclosed'");
  await flow.fill(lines.join("\n"));
  assert.equal(await page.getByTestId("save").isDisabled(), false);

  await page.getByTestId("save").click();
  const error = page.getByTestId("f-bot-flow-error");
  await error.waitFor();
  const message = await error.innerText();
  const m = /^line (\d+), column \d+:/.exec(message);
  assert.ok(m, `the message names a line: ${message}`);
  const line = Number(m[1]);
  assert.equal(line, regexIndex + 1, "the line named is the broken regex");
  assert.match(await page.getByTestId("save-problem").innerText(), /nothing was saved/i);
  assert.equal(await flow.textbox.getAttribute("aria-invalid"), "true");
  assert.match(await describedBy(flow.textbox), /^line \d+/m);
  // The line is marked in the gutter and behind the text.
  await page.getByTestId("bot-flow-error-line").waitFor();
  // …inside the editor's visible part (the editor scrolls to it).
  await page.waitForFunction(() => {
    const band = document.querySelector('[data-testid="bot-flow-error-line"]')?.getBoundingClientRect();
    const box = document.querySelector('[data-testid="bot-flow"] .cm-scroller')?.getBoundingClientRect();
    return band && box && band.top >= box.top && band.bottom <= box.bottom;
  });
  assert.match(await page.getByTestId("bot-flow-error-line").innerText(), /regex: '\(unclosed'/);
  assert.equal(await flow.box.locator(".cm-error-line-number").innerText(), String(line));
  // The message is on the line itself too: hovering the marked text shows it.
  await flow.box.locator(".cm-lintRange-error").first().hover();
  const tooltip = page.locator(".cm-tooltip-lint");
  await tooltip.waitFor();
  assert.equal(await tooltip.innerText(), message);
  await page.mouse.move(0, 0);
  assert.equal((await saved()).flow, original, "the server kept the old flow");
  // Tab is not taken by the editor: keyboard users move on to the next control.
  await flow.textbox.focus();
  await page.keyboard.press("Tab");
  assert.equal(await flow.box.evaluate((box) => box.contains(document.activeElement)), false, "Tab leaves the editor");
  assert.equal(await page.getByTestId("discard").isDisabled(), false, "the edit is still unsaved");
  await page.getByTestId("bot-flow").scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(artifacts, "bot-flow-error.png"), fullPage: true });

  // Fixed and edited: saved, the message goes, and a reload shows the new flow.
  lines[regexIndex] = lines[regexIndex].replace(/regex:.*/, "regex: '\\border\\s+\\d+\\b'");
  const greetingIndex = lines.findIndex((l) => /^\s*reply:/.test(l));
  lines[greetingIndex] = "  reply: Hi, this is the Switchboard test bot.";
  const edited = lines.join("\n");
  await flow.fill(edited);
  assert.equal(await error.count(), 0, "the server's verdict goes once the flow changes");
  await save(page);
  assert.equal((await saved()).flow, edited);

  await page.reload();
  await page.getByTestId("dirty-state").waitFor();
  const reloaded = await codeEditor(page, "bot-flow");
  assert.equal(await reloaded.text(), edited);
  assert.equal(await page.getByTestId("f-bot-flow-error").count(), 0);

  // Undo takes back typing; Discard puts back the saved flow.
  await reloaded.fill(original);
  await page.keyboard.press("ControlOrMeta+Z");
  assert.equal(await reloaded.text(), edited, "undo restores the text before the edit");
  await reloaded.fill(original);
  await page.getByTestId("discard").click();
  assert.equal(await reloaded.text(), edited);
  assert.deepEqual(pageErrors.map((e) => e.message), []);
});

test("built-in flow: a verdict about the end of the text marks the last line", async (t) => {
  const { page, pageErrors, saved } = await session(t);
  await openSettings(page, "Endpoint settings");
  const flow = await codeEditor(page, "bot-flow");
  const original = await flow.text();
  // YAML that stops inside a list: the parser names the line after the last one.
  await flow.fill("greeting:\n  reply: [unclosed\n  ");
  await page.getByTestId("save").click();
  const error = page.getByTestId("f-bot-flow-error");
  await error.waitFor();
  assert.match(await error.innerText(), /^line 4, column \d+:/);
  assert.match(await page.getByTestId("bot-flow-error-line").innerText(), /^\s*$/, "the empty last line is marked");
  assert.equal(await flow.box.locator(".cm-error-line-number").innerText(), "3");
  assert.equal((await saved()).flow, original, "nothing was saved");
  assert.deepEqual(pageErrors.map((e) => e.message), []);
});

test("flow editor from the keyboard: Enter keeps the indentation, Ctrl+] and Ctrl+[ indent, Tab leaves", async (t) => {
  const { page, pageErrors } = await session(t);
  await openSettings(page, "Endpoint settings");
  const flow = await codeEditor(page, "bot-flow");
  assert.match(await describedBy(flow.textbox), /Tab moves on to the next field/);
  await page.getByText("Flow (YAML)", { exact: true }).click();
  assert.equal(await flow.box.evaluate((box) => box.contains(document.activeElement)), true, "a click on the label focuses the editor");
  await flow.fill("greeting:\n  reply: Hi");
  await page.keyboard.press("Enter");
  await page.keyboard.type("quick_replies: []");
  assert.equal(await flow.text(), "greeting:\n  reply: Hi\n  quick_replies: []");
  await flow.textbox.focus();
  await page.keyboard.press("ControlOrMeta+End");
  await page.keyboard.press("ControlOrMeta+]");
  assert.equal(await flow.text(), "greeting:\n  reply: Hi\n    quick_replies: []");
  // (text() copies by selecting everything: back to the last line first.)
  await page.keyboard.press("ControlOrMeta+End");
  await page.keyboard.press("ControlOrMeta+[");
  assert.equal(await flow.text(), "greeting:\n  reply: Hi\n  quick_replies: []");
  await page.keyboard.press("Tab");
  assert.equal(await flow.box.evaluate((box) => box.contains(document.activeElement)), false, "Tab leaves the editor");
  assert.deepEqual(pageErrors.map((e) => e.message), []);
});

test("while the editor loads the flow is a plain text field, and what is typed there carries over", async (t) => {
  const { page, pageErrors, saved } = await session(t);
  // Hold the editor's chunk back until the text has been edited in the stand-in.
  let release;
  const held = new Promise((resolve) => (release = resolve));
  await page.route(/\/assets\/editorView-[^/]*\.js$/, async (route) => {
    await held;
    await route.continue();
  });
  await openSettings(page, "Endpoint settings");
  const plain = page.getByTestId("bot-flow").locator("textarea");
  assert.equal(await plain.inputValue(), (await saved()).flow, "the saved flow shows at once");
  assert.equal(await page.getByLabel("Flow (YAML)").evaluate((el) => el.tagName), "TEXTAREA");
  await plain.press("ControlOrMeta+End");
  await plain.pressSequentially("# typed before the editor came");
  release();
  const flow = await codeEditor(page, "bot-flow");
  assert.equal(await plain.count(), 0, "the editor took the textarea's place");
  assert.equal(await flow.box.evaluate((box) => box.contains(document.activeElement)), true, "the focus moved into the editor");
  await page.keyboard.type("!");
  assert.match(await flow.text(), /# typed before the editor came!$/, "the caret stayed where the typing was");
  await save(page);
  assert.match((await saved()).flow, /# typed before the editor came!$/);
  assert.deepEqual(pageErrors.map((e) => e.message), []);
});

test("if the editor cannot load, the plain text field stays and saves", async (t) => {
  const { page, saved } = await session(t);
  await page.route(/\/assets\/editorView-[^/]*\.js$/, (route) => route.abort());
  await openSettings(page, "Endpoint settings");
  const plain = page.getByTestId("bot-flow").locator("textarea");
  await plain.press("ControlOrMeta+End");
  await plain.pressSequentially("# still editable");
  await save(page);
  assert.match((await saved()).flow, /# still editable$/);
  assert.equal(await plain.count(), 1);
});

test("external bot: the URL is required, the time limit is checked, a valid bot survives a reload", async (t) => {
  const { page, pageErrors, saved } = await session(t);
  await openSettings(page, "Endpoint settings");

  await page.getByTestId("bot-kind").getByLabel("External bot (Rasa REST channel)").click();
  assert.equal(await page.getByTestId("bot-flow").count(), 0, "the flow editor is for the built-in bot");
  const url = page.getByTestId("bot-external-url");
  const timeout = page.getByTestId("bot-external-timeout");
  assert.equal(await url.inputValue(), "");
  assert.equal(await timeout.inputValue(), "10000");
  assert.match(await describedBy(url), /Rasa REST channel/);

  // No URL: the server's message sits beside the field and nothing is saved.
  await page.getByTestId("save").click();
  const urlError = page.getByTestId("f-bot-externalUrl-error");
  await urlError.waitFor();
  assert.match(await urlError.innerText(), /Enter the external bot's URL/);
  assert.equal(await url.getAttribute("aria-invalid"), "true");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "f-bot-externalUrl");
  assert.equal((await saved()).kind, "builtin");

  // A time limit out of range is refused before it reaches the server.
  await url.fill("ftp://bot.example.test/hook");
  await timeout.fill("50");
  await page.getByTestId("save").click();
  await page.getByTestId("f-bot-externalTimeoutMs-error").waitFor();
  assert.match(await page.getByTestId("f-bot-externalTimeoutMs-error").innerText(), /between 100 and 60000/);
  assert.equal((await saved()).kind, "builtin");

  // The server's URL check (scheme) is named beside the URL.
  await timeout.fill("2500");
  await page.getByTestId("save").click();
  await page.getByTestId("save-problem").getByText(/must start with http:\/\/ or https:\/\//).waitFor();
  assert.match(await urlError.innerText(), /must start with http/);
  await page.screenshot({ path: join(artifacts, "bot-external-error.png"), fullPage: true });

  await url.fill("http://localhost:5005/webhooks/rest/webhook");
  await save(page);
  const bot = await saved();
  assert.equal(bot.kind, "external");
  assert.equal(bot.externalUrl, "http://localhost:5005/webhooks/rest/webhook");
  assert.equal(bot.externalTimeoutMs, 2500);

  await page.reload();
  await page.getByTestId("dirty-state").waitFor();
  assert.equal(await page.getByTestId("bot-kind").getByLabel("External bot (Rasa REST channel)").isChecked(), true);
  assert.equal(await page.getByTestId("bot-external-url").inputValue(), "http://localhost:5005/webhooks/rest/webhook");
  assert.equal(await page.getByTestId("bot-external-timeout").inputValue(), "2500");
  await page.getByRole("heading", { name: "Bot" }).scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(artifacts, "bot-external.png"), fullPage: true });
  assert.deepEqual(pageErrors.map((e) => e.message), []);
});
