// The settings page in the real desktop window (tauri-driver + WebKitWebDriver, under
// Xvfb): a value saved there is still there after the app is closed and started again.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { artifacts, binary } from "./lib/relay.mjs";

const DRIVER = "http://127.0.0.1:4444";
let driver;
let home;
let session;

async function wd(method, path, body) {
  const res = await fetch(`${DRIVER}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json.value)}`);
  return json.value;
}

async function until(what, fn, ms = 60_000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not happen in ${ms} ms: ${last ?? ""}`);
}

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
  home = mkdtempSync(join(tmpdir(), "switchboard-desktop-settings-"));
  driver = spawn("tauri-driver", [], {
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...process.env,
      XDG_DATA_HOME: join(home, "data"),
      XDG_CONFIG_HOME: join(home, "config"),
      XDG_CACHE_HOME: join(home, "cache"),
      SWITCHBOARD_ENDPOINT_BIND: "127.0.0.1:0",
      NO_AT_BRIDGE: "1",
    },
  });
  await until("tauri-driver listening", async () => (await fetch(`${DRIVER}/status`)).ok, 20_000);
});

after(async () => {
  if (session) await wd("DELETE", `/session/${session}`).catch(() => {});
  if (driver && driver.exitCode === null) {
    const exited = new Promise((r) => driver.on("exit", r));
    driver.kill();
    await exited;
  }
  // The app may still be flushing caches (e.g. Mesa's shader cache) as it exits.
  if (home) await until("the app's files removed", () => (rmSync(home, { recursive: true, force: true }), true), 15_000);
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
  const shot = await wd("GET", `/session/${session}/screenshot`);
  writeFileSync(join(artifacts, "desktop-settings.png"), Buffer.from(shot, "base64"));

  await quitApp();
  await launchApp();
  await openEndpointSettings();
  assert.equal(await valueOf("#f-connection-tenant"), tenant);
});
