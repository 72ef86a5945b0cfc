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
