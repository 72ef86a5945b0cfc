// Links the UI opens in a new tab, in the real desktop window (tauri-driver +
// WebKitWebDriver, under Xvfb): a handed-over conversation's Copilot link, opened from the
// agent view, opens the agent's Copilot page in a window of its own — WebKitGTK opens
// nothing for such a link unless the app says what to do with it.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { binary } from "./lib/relay.mjs";
import { startDriver, stopDriver, until, wd } from "./lib/webdriver.mjs";

let driver;
let home;
let session;

function element(css, ms) {
  return until(`${css} rendered`, async () => {
    const el = await wd("POST", `/session/${session}/element`, { using: "css selector", value: css });
    return Object.values(el)[0];
  }, ms);
}

function run(script, ...args) {
  return wd("POST", `/session/${session}/execute/sync`, { script, args });
}

/** The admin API from inside the window, with the page's own token. */
function api(method, path, body) {
  return wd("POST", `/session/${session}/execute/async`, {
    script: `const [method, path, body, done] = arguments;
      fetch("/api" + path, { method, headers: { "content-type": "application/json",
        authorization: "Bearer " + localStorage.getItem("switchboard-admin-token") },
        body: body === null ? undefined : JSON.stringify(body) })
        .then((r) => r.json().then((b) => done({ status: r.status, body: b }), () => done({ status: r.status, body: null })))
        .catch((e) => done({ status: 0, body: String(e) }));`,
    args: [method, path, body ?? null],
  });
}

before(async () => {
  ({ driver, home } = await startDriver("switchboard-desktop-new-window-"));
  const created = await wd("POST", "/session", {
    capabilities: { alwaysMatch: { "tauri:options": { application: binary("switchboard") } } },
  });
  session = created.sessionId;
});

after(async () => {
  await stopDriver({ driver, home, session });
});

test("the Copilot link opened from the agent view opens the agent's page in a window of its own", async () => {
  await element("[data-testid=relay-state]");
  const started = await api("POST", "/tester/conversations", { name: "Wanda Window", email: "wanda@example.com" });
  assert.ok(started.status < 300, JSON.stringify(started.body));
  const id = started.body.id;
  await api("POST", `/tester/conversations/${id}/messages`, { text: "agent please" });
  await until("a Copilot link for the conversation", async () => (await api("GET", `/conversations/${id}/copilot`)).status === 200, 30_000);

  await run("history.pushState({}, '', '/conversations?c=' + arguments[0]); dispatchEvent(new PopStateEvent('popstate'))", id);
  // The detail may still be loading when its tab first shows: pick the agent view until
  // the link is in it.
  const open = await until("the agent view's Copilot link", async () => {
    const tab = await element("[data-testid=tab-agent]", 30_000);
    await wd("POST", `/session/${session}/element/${tab}/click`, {});
    const found = await wd("POST", `/session/${session}/elements`, { using: "css selector", value: "[data-testid=copilot-link-open]" });
    return found.length ? Object.values(found[0])[0] : undefined;
  }, 30_000);
  const main = await wd("GET", `/session/${session}/window`);
  await wd("POST", `/session/${session}/element/${open}/click`, {});
  let clicked = Date.now();

  const opened = await until("a second window", async () => {
    const handles = await wd("GET", `/session/${session}/window/handles`);
    const other = handles.find((h) => h !== main);
    // A click that landed while live updates re-rendered the view opens nothing: the
    // agent clicks the link again, as a person would.
    if (!other && Date.now() - clicked > 5_000) {
      const found = await wd("POST", `/session/${session}/elements`, { using: "css selector", value: "[data-testid=copilot-link-open]" });
      if (found.length) await wd("POST", `/session/${session}/element/${Object.values(found[0])[0]}/click`, {});
      clicked = Date.now();
    }
    return other;
  }, 30_000);
  await wd("POST", `/session/${session}/window`, { handle: opened });
  await until("the Copilot page in it", async () => {
    const url = await wd("GET", `/session/${session}/url`);
    const heading = await run("return document.querySelector('h1, header')?.textContent ?? ''");
    return url.includes("/copilot/") && heading.includes("Copilot") ? true : undefined;
  }, 30_000);
  await until("its customer", async () => ((await run("return document.body.innerText")).includes("Wanda Window") ? true : undefined), 30_000);
  await wd("POST", `/session/${session}/window`, { handle: main });
});
