// The real desktop app in a real window (under Xvfb in CI), driven through tauri-driver
// and WebKitWebDriver: the window must show the UI served by its embedded relay.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { artifacts, binary } from "./lib/relay.mjs";
import { screenshot } from "./lib/screen.mjs";
import { startDriver, stopDriver, until, wd } from "./lib/webdriver.mjs";

let driver;
let home;
let session;

before(async () => {
  ({ driver, home } = await startDriver("switchboard-desktop-"));
  const created = await wd("POST", "/session", {
    capabilities: { alwaysMatch: { "tauri:options": { application: binary("switchboard") } } },
  });
  session = created.sessionId;
});

after(async () => {
  await stopDriver({ driver, home, session });
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

  screenshot(join(artifacts, "desktop-status.png"));
});

test("the desktop app keeps a log file, private to its user, and the Status page says where", async () => {
  const s = `/session/${session}`;
  const logs = join(home, "data", "dev.switchboard.app", "logs");
  const shown = await until("the log's place on the Status page", async () =>
    wd("POST", `${s}/execute/sync`, {
      script: "return document.querySelector('[data-testid=log-destination]')?.textContent.trim()",
      args: [],
    }),
  );
  assert.ok(shown.includes(logs), `the Status page names ${logs}: ${shown}`);
  assert.match(shown, /switchboard\.YYYY-MM-DD\.log/);
  assert.match(shown, /7 days kept/);

  assert.equal(statSync(logs).mode & 0o777, 0o700, "only the user may read the log directory");
  const files = readdirSync(logs);
  assert.equal(files.length, 1, `one file today: ${files}`);
  assert.match(files[0], /^switchboard\.\d{4}-\d{2}-\d{2}\.log$/);
  const text = readFileSync(join(logs, files[0]), "utf8");
  assert.match(text, /relay started/, "the relay's start is logged to the file");
  assert.doesNotMatch(text, /\x1b\[/, "no terminal colour codes in the file");
});
