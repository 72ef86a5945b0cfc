// The desktop window's own page, under the Content-Security-Policy of tauri.conf.json:
// when the embedded relay cannot start, the window shows Tauri's boot page (src-tauri/boot)
// with the reason. The page's script and style must run under the policy, and the policy
// must be in force (an injected inline script is refused). src-tauri/src/window_csp.rs
// checks the policy's text; this checks what WebKit does with it.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { artifacts, binary } from "./lib/relay.mjs";
import { screenshot } from "./lib/screen.mjs";
import { startDriver, stopDriver, until, wd } from "./lib/webdriver.mjs";

let driver;
let home;
let session;

before(async () => {
  // A value the app refuses before it starts the relay (src-tauri/src/main.rs, env_or).
  // tauri-driver hands its environment to the app.
  const before = process.env.SWITCHBOARD_SANDBOX;
  process.env.SWITCHBOARD_SANDBOX = "bogus";
  try {
    ({ driver, home } = await startDriver("switchboard-desktop-boot-"));
  } finally {
    if (before === undefined) delete process.env.SWITCHBOARD_SANDBOX;
    else process.env.SWITCHBOARD_SANDBOX = before;
  }
  const created = await wd("POST", "/session", {
    capabilities: { alwaysMatch: { "tauri:options": { application: binary("switchboard") } } },
  });
  session = created.sessionId;
});

after(async () => {
  await stopDriver({ driver, home, session });
});

const run = (script) => wd("POST", `/session/${session}/execute/sync`, { script, args: [] });

test("the boot page says why the relay did not start, under the window's policy", async () => {
  const s = `/session/${session}`;
  const why = await until("boot page rendered", async () => {
    const el = await wd("POST", `${s}/element`, { using: "css selector", value: "#why" });
    const text = await wd("GET", `${s}/element/${Object.values(el)[0]}/text`);
    return text || null;
  });
  // Written by boot.js, which runs only if the policy lets the page's own script in.
  assert.equal(why, 'SWITCHBOARD_SANDBOX="bogus" is not valid');
  assert.equal(await wd("GET", `${s}/title`), "Switchboard");
  const url = new URL(await wd("GET", `${s}/url`));
  assert.notEqual(url.protocol, "http:", `served by Tauri, not by a relay: ${url}`);

  // boot.css applied: the message's red frame.
  const border = await run("return getComputedStyle(document.getElementById('why')).borderTopColor");
  assert.equal(border, "rgb(192, 53, 43)");

  // The policy is in force: an inline script and an inline style are refused, and the
  // page hears of it as a violation.
  const refused = await run(`
    const seen = [];
    document.addEventListener("securitypolicyviolation", (e) => seen.push(e.violatedDirective));
    const script = document.createElement("script");
    script.textContent = "window.inlineRan = true";
    document.head.append(script);
    const style = document.createElement("style");
    style.textContent = "#why { border-top-color: rgb(0, 128, 0) }";
    document.head.append(style);
    return new Promise((resolve) => setTimeout(() => resolve({
      inlineRan: window.inlineRan === true,
      border: getComputedStyle(document.getElementById("why")).borderTopColor,
      seen,
    }), 200));
  `);
  assert.equal(refused.inlineRan, false, "an inline script ran");
  assert.equal(refused.border, "rgb(192, 53, 43)", "an inline style applied");
  assert.ok(
    refused.seen.some((d) => d.startsWith("script-src")) && refused.seen.some((d) => d.startsWith("style-src")),
    `violations reported: ${JSON.stringify(refused.seen)}`,
  );

  screenshot(join(artifacts, "desktop-boot.png"));
});
