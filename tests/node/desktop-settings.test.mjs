// The settings page in the real desktop window (tauri-driver + WebKitWebDriver, under
// Xvfb): a value saved there is still there after the app is closed and started again.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { artifacts, binary } from "./lib/relay.mjs";
import { screenshot } from "./lib/screen.mjs";
import { startDriver, stopDriver, until, wd } from "./lib/webdriver.mjs";

let driver;
let home;
let session;

async function launchApp() {
  const created = await wd("POST", "/session", {
    capabilities: { alwaysMatch: { "tauri:options": { application: binary("switchboard") } } },
  });
  session = created.sessionId;
}

async function quitApp() {
  await wd("DELETE", `/session/${session}`);
  session = undefined;
}

/** Waits for an element to exist and returns its WebDriver id. */
function element(css, ms) {
  return until(`${css} rendered`, async () => {
    const el = await wd("POST", `/session/${session}/element`, { using: "css selector", value: css });
    return Object.values(el)[0];
  }, ms);
}

function run(script, ...args) {
  return wd("POST", `/session/${session}/execute/sync`, { script, args });
}

const textOf = (css) => run("return document.querySelector(arguments[0])?.textContent.trim() ?? null", css);
const valueOf = (css) => run("return document.querySelector(arguments[0])?.value ?? null", css);

/** Real key presses (the WebDriver actions API): `keys` held down together, then let go. */
function pressKeys(keys) {
  const actions = [...keys.map((value) => ({ type: "keyDown", value })), ...keys.reverse().map((value) => ({ type: "keyUp", value }))];
  return wd("POST", `/session/${session}/actions`, { actions: [{ type: "key", id: "keyboard", actions }] });
}

/** Types `text` key by key; a newline is the Enter key. */
async function typeText(text) {
  for (const ch of text) await pressKeys([ch === "\n" ? "\uE007" : ch]);
}

async function openEndpointSettings() {
  await element("[data-testid=relay-state]");
  const link = await element('nav a[href="/settings/endpoint"]');
  await wd("POST", `/session/${session}/element/${link}/click`, {});
  await element("#f-connection-tenant");
  await until("settings loaded", async () => (await textOf("[data-testid=dirty-state]")) === "All changes saved", 20_000);
}

before(async () => {
  ({ driver, home } = await startDriver("switchboard-desktop-settings-"));
});

after(async () => {
  await stopDriver({ driver, home, session });
});

test("a setting saved in the desktop window is still there after the app restarts", async () => {
  const tenant = `desktop-tenant-${process.pid}`;
  await launchApp();
  await openEndpointSettings();
  assert.equal(await valueOf("#f-connection-tenant"), "");

  const input = await element("#f-connection-tenant");
  await wd("POST", `/session/${session}/element/${input}/click`, {});
  await wd("POST", `/session/${session}/element/${input}/value`, { text: tenant });
  await until("the form sees the edit", async () => (await textOf("[data-testid=dirty-state]")) === "Unsaved changes", 10_000);
  const save = await element("[data-testid=save]");
  await wd("POST", `/session/${session}/element/${save}/click`, {});
  await until("saved", async () => (await textOf("[data-testid=dirty-state]")) === "All changes saved", 20_000);
  screenshot(join(artifacts, "desktop-settings.png"));

  await quitApp();
  await launchApp();
  await openEndpointSettings();
  assert.equal(await valueOf("#f-connection-tenant"), tenant);
});

test("the flow editor works in the desktop window: highlighted, edited by keyboard, the server's error line marked", async () => {
  if (session) await quitApp();
  await launchApp();
  await openEndpointSettings();
  // The editor is a chunk loaded on demand; its styles are injected at run time, which the
  // admin page's Content-Security-Policy must allow (a blocked style leaves the gutter a
  // plain block and the text unhighlighted).
  const content = await element("[data-testid=bot-flow] .cm-content[contenteditable=true]", 20_000);
  const look = await run(`
    const box = document.querySelector("[data-testid=bot-flow]");
    const key = [...box.querySelectorAll(".cm-line span")].find((s) => s.textContent === "greeting");
    return {
      gutters: getComputedStyle(box.querySelector(".cm-gutters")).display,
      keyColour: key && getComputedStyle(key).color,
      textColour: getComputedStyle(box.querySelector(".cm-content")).color,
      label: document.getElementById(box.querySelector(".cm-content").getAttribute("aria-labelledby"))?.textContent,
    };`);
  assert.equal(look.gutters, "flex", "the editor's own styles apply");
  assert.ok(look.keyColour && look.keyColour !== look.textColour, `a key is highlighted (${look.keyColour} on ${look.textColour})`);
  assert.equal(look.label, "Flow (YAML)");

  // Select all and type a flow YAML cannot read; Save: the line is named and marked.
  await run("document.querySelector('[data-testid=bot-flow]').scrollIntoView({ block: 'center' })");
  await wd("POST", `/session/${session}/element/${content}/click`, {});
  await pressKeys(["\uE009", "a"]);
  await typeText("greeting:\n  reply: [unclosed\n");
  await until("the form sees the edit", async () => (await textOf("[data-testid=dirty-state]")) === "Unsaved changes", 10_000);
  const save = await element("[data-testid=save]");
  await wd("POST", `/session/${session}/element/${save}/click`, {});
  const message = await until("the server's verdict", () => textOf("[data-testid=f-bot-flow-error]"), 20_000);
  const line = Number(/^line (\d+)/.exec(message)?.[1]);
  assert.ok(line >= 1, `the message names a line: ${message}`);
  await element("[data-testid=bot-flow-error-line]");
  // (A verdict about the end of the text may name the line after the last: the last is marked.)
  const lines = await run("return document.querySelectorAll('[data-testid=bot-flow] .cm-line').length");
  assert.equal(await textOf("[data-testid=bot-flow] .cm-error-line-number"), String(Math.min(line, lines)));
  assert.equal(await run("return document.querySelector('[data-testid=bot-flow] .cm-content').getAttribute('aria-invalid')"), "true");
  await run("document.querySelector('[data-testid=bot-flow]').scrollIntoView({ block: 'center' })");
  screenshot(join(artifacts, "desktop-flow-error.png"));

  const discard = await element("[data-testid=discard]");
  await wd("POST", `/session/${session}/element/${discard}/click`, {});
  await until("discarded", async () => (await textOf("[data-testid=dirty-state]")) === "All changes saved", 10_000);
  await quitApp();
});
