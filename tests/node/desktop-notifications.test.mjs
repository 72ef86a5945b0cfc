// Native notifications from the real desktop app (tauri-driver + WebKitWebDriver, under
// Xvfb), received by a stand-in notification server on the session bus: a handover and
// an agent's reply each show one with the right words, a click brings the window to the
// conversation, and with the Handover settings' switch off (saved in the window) none
// are shown until it is turned on again.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { artifacts, binary, root } from "./lib/relay.mjs";
import { screenshot } from "./lib/screen.mjs";
import { startDriver, stopDriver, until, wd } from "./lib/webdriver.mjs";

let driver;
let home;
let session;
let server;

/** What the stand-in server was sent, in order: {id, appName, summary, body, actions}. */
const received = [];

/**
 * Starts tests/node/lib/fake-notification-server.py (Debian's python3-dbus) on the
 * session bus of this process (scripts/test.sh runs the tests inside dbus-run-session).
 */
function startNotificationServer() {
  const child = spawn("/usr/bin/python3", [join(root, "tests/node/lib/fake-notification-server.py")], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the notification server did not start in 20 s")), 20_000);
    child.on("exit", (code) => reject(new Error(`the notification server exited (${code})`)));
    lines.on("line", (line) => {
      const message = JSON.parse(line);
      if (message.notify) received.push(message.notify);
      if (message.error) reject(new Error(message.error));
      if (message.ready) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    ready,
    click: (id) => child.stdin.write(`${JSON.stringify({ click: id })}\n`),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.on("exit", r));
      child.stdin.end();
      await exited;
    },
  };
}

function run(script, ...args) {
  return wd("POST", `/session/${session}/execute/sync`, { script, args });
}

/** The admin API from inside the window: same origin, its token, its Origin header. */
async function api(method, path, body) {
  const answer = await wd("POST", `/session/${session}/execute/async`, {
    script: `const [method, path, body, done] = arguments;
      fetch("/api" + path, { method, headers: { "content-type": "application/json",
          authorization: "Bearer " + localStorage.getItem("switchboard-admin-token") },
        body: body === null ? undefined : JSON.stringify(body) })
        .then(async (r) => done({ status: r.status, text: await r.text() }))
        .catch((e) => done({ status: 0, text: String(e) }));`,
    args: [method, path, body ?? null],
  });
  if (answer.status < 200 || answer.status > 299) {
    throw new Error(`${method} ${path}: ${answer.status} ${answer.text}`);
  }
  return answer.text ? JSON.parse(answer.text) : null;
}

function element(css, ms) {
  return until(`${css} rendered`, async () => {
    const el = await wd("POST", `/session/${session}/element`, { using: "css selector", value: css });
    return Object.values(el)[0];
  }, ms);
}

const click = async (css) => wd("POST", `/session/${session}/element/${await element(css)}/click`, {});
const textOf = (css) => run("return document.querySelector(arguments[0])?.textContent.trim() ?? null", css);

/** A tester user who asks the bot for a person: handed over to the sandbox's queue 101. */
async function handedOverUser(name) {
  const conv = await api("POST", "/tester/conversations", { name, email: "notify@example.com", language: "en" });
  await api("POST", `/tester/conversations/${conv.id}/messages`, {
    quickReply: { title: "Talk to a person", payload: "agent" },
  });
  return conv.id;
}

/** Waits until the conversation's transcript has an agent line matching `pattern`. */
async function agentSaid(id, pattern) {
  return until(`the agent's line ${pattern} in ${id}`, async () => {
    const view = await api("GET", `/conversations/${id}`);
    return view.transcript.some((e) => e.lane === "agent" && pattern.test(e.text)) && view;
  });
}

/** The sandbox agent of the conversation says `text` (through 8x8's emulator). */
async function agentSays(id, text) {
  const { conversation } = await api("GET", `/conversations/${id}`);
  assert.ok(conversation.gatewayId, "the conversation is in 8x8");
  await api("POST", `/sandbox/conversations/${conversation.gatewayId}/agent/say`, { text });
}

function notification(what, match, from = 0) {
  return until(what, async () => received.slice(from).find(match), 30_000);
}

/** Flips the switch on the Handover settings page and saves, as an admin would. */
async function setNotificationsInWindow(on) {
  await click('nav a[href="/settings/handover"]');
  const box = "#f-handover-desktopNotifications";
  await element(box);
  await until("settings loaded", async () => (await textOf("[data-testid=dirty-state]")) === "All changes saved", 20_000);
  assert.equal(await run("return document.querySelector(arguments[0]).checked", box), !on, "the switch shows the saved value");
  await click(box);
  await until("the form sees the change", async () => (await textOf("[data-testid=dirty-state]")) === "Unsaved changes", 10_000);
  await click("[data-testid=save]");
  await until("saved", async () => (await textOf("[data-testid=dirty-state]")) === "All changes saved", 20_000);
  assert.equal((await api("GET", "/settings")).settings.handover.desktopNotifications, on);
  if (!on) {
    await run("document.querySelector(arguments[0]).scrollIntoView({ block: 'center' })", box);
    screenshot(join(artifacts, "desktop-notifications-off.png"));
  }
}

before(async () => {
  server = startNotificationServer();
  await server.ready;
  ({ driver, home } = await startDriver("switchboard-desktop-notify-"));
  const created = await wd("POST", "/session", {
    capabilities: { alwaysMatch: { "tauri:options": { application: binary("switchboard") } } },
  });
  session = created.sessionId;
  await element("[data-testid=relay-state]");
});

after(async () => {
  await stopDriver({ driver, home, session });
  await server?.stop();
});

test("a handover and an agent's reply notify once each; a click opens the conversation", async () => {
  const id = await handedOverUser("Nora Notify");

  const handover = await notification("the handover notification", (n) => n.body.startsWith("Nora Notify "));
  assert.equal(handover.summary, "Conversation handed over");
  // The queue is named by its id until 8x8 reports it queued, then by its name.
  assert.match(handover.body, /^Nora Notify is waiting for an agent in queue (101|Sandbox support)\.$/);
  assert.equal(handover.appName, "switchboard");

  // The sandbox's scripted agent accepts and greets.
  const greeting = await notification("the agent's greeting", (n) => n.summary === "Agent replied to Nora Notify");
  assert.equal(greeting.body, "Hi, this is Alex from Sandbox support. How can I help?");
  // The relay saved the conversation again as 8x8 queued it and the agent joined (all
  // before the greeting): still one handover notification.
  assert.equal(received.filter((n) => n.body.startsWith("Nora Notify ")).length, 1);
  // The plugin asks the server to report clicks (the spec's "default" action).
  assert.ok(greeting.actions.includes("default"), JSON.stringify(greeting.actions));

  // A long reply on several lines: one line, cut to 140 characters.
  const long = `Your parcel\nleft the depot at 9:40. ${"It is on its way to you now. ".repeat(8)}`;
  await agentSays(id, long);
  const reply = await notification("the long reply", (n) => n.body.startsWith("Your parcel left the depot"));
  assert.equal(reply.summary, "Agent replied to Nora Notify");
  assert.equal([...reply.body].length, 140);
  assert.ok(reply.body.endsWith("…"), reply.body);
  assert.ok(long.replace(/\s+/g, " ").startsWith(reply.body.slice(0, -1).trimEnd()));

  // A click on it: the window shows the conversation.
  server.click(reply.id);
  await until("the window on the conversation", async () => {
    const url = new URL(await wd("GET", `/session/${session}/url`));
    return url.pathname === "/conversations" && url.searchParams.get("c") === id;
  }, 20_000);
  await until("the conversation's transcript in the window", async () =>
    ((await textOf("[data-testid=transcript]")) ?? "").includes("left the depot at 9:40"), 20_000);
  screenshot(join(artifacts, "desktop-notification-click.png"));
});

test("with the switch off in the Handover settings nothing is shown, and on again it is", async () => {
  await setNotificationsInWindow(false);
  const from = received.length;

  const quiet = await handedOverUser("Otto Off");
  await agentSaid(quiet, /^Hi, this is Alex from Sandbox support/);
  await agentSays(quiet, "Nobody is told about this one.");
  await agentSaid(quiet, /^Nobody is told/);

  // On again: the next reply notifies. The app handles the relay's events in order, so
  // once it shows this one, it has handled (and kept quiet about) everything before.
  await setNotificationsInWindow(true);
  await agentSays(quiet, "Back on the record.");
  const back = await notification("the reply after the switch is on", (n) => n.body === "Back on the record.", from);
  assert.equal(back.summary, "Agent replied to Otto Off");
  assert.deepEqual(
    received.slice(from).map((n) => n.body),
    ["Back on the record."],
    "nothing was shown while the switch was off",
  );
});
