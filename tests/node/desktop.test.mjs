// The real desktop app in a real window (under Xvfb in CI), driven through tauri-driver
// and WebKitWebDriver: the window must show the UI served by its embedded relay.

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

before(async () => {
  home = mkdtempSync(join(tmpdir(), "switchboard-desktop-"));
  driver = spawn("tauri-driver", [], {
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...process.env,
      XDG_DATA_HOME: join(home, "data"),
      XDG_CONFIG_HOME: join(home, "config"),
      XDG_CACHE_HOME: join(home, "cache"),
      // A free port: a running copy of the app must not make the test fail.
      SWITCHBOARD_ENDPOINT_BIND: "127.0.0.1:0",
      NO_AT_BRIDGE: "1",
    },
  });
  await until("tauri-driver listening", async () => (await fetch(`${DRIVER}/status`)).ok, 20_000);
  const created = await wd("POST", "/session", {
    capabilities: { alwaysMatch: { "tauri:options": { application: binary("switchboard") } } },
  });
  session = created.sessionId;
});

after(async () => {
  if (session) await wd("DELETE", `/session/${session}`).catch(() => {});
  if (driver && driver.exitCode === null) {
    const exited = new Promise((r) => driver.on("exit", r));
    driver.kill();
    await exited;
  }
  // The app may still be flushing caches as it exits.
  if (home) rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
});

test("the window shows the relay status served by the embedded relay", async () => {
  const s = `/session/${session}`;
  const element = await until("status screen rendered", async () => {
    const el = await wd("POST", `${s}/element`, { using: "css selector", value: "[data-testid=relay-state]" });
    return Object.values(el)[0];
  });
  assert.equal(await wd("GET", `${s}/element/${element}/text`), "Running");
  assert.equal(await wd("GET", `${s}/title`), "Switchboard");

  // Loaded from the admin listener on loopback, with the token already out of the URL.
  const url = new URL(await wd("GET", `${s}/url`));
  assert.equal(url.hostname, "127.0.0.1");
  assert.equal(url.pathname, "/");
  assert.equal(url.search, "");
  const shown = await wd("POST", `${s}/execute/sync`, {
    script: "return document.querySelector('[data-testid=admin-listen]').textContent",
    args: [],
  });
  assert.equal(shown, `127.0.0.1:${url.port}`);
  const sandbox = await wd("POST", `${s}/execute/sync`, {
    script: "return document.querySelector('[data-testid=sandbox-state]').textContent.trim()",
    args: [],
  });
  assert.equal(sandbox, "On");
  const keychain = await wd("POST", `${s}/execute/sync`, {
    script: "return document.querySelector('[data-testid=keychain]').textContent.trim()",
    args: [],
  });
  assert.match(keychain, /OS keychain/);

  const png = await wd("GET", `${s}/screenshot`);
  writeFileSync(join(artifacts, "desktop-status.png"), Buffer.from(png, "base64"));
});
