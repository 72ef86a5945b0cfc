// The sandbox's contact center from the agent console: a supervisor sets an agent's
// state and a schedule's state in the console's panel, and 8x8's own routes on the
// emulator (queue statistics, schedule status — what the relay's handover checks read)
// answer accordingly; a scripted agent set on break takes no chat until available again.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { api, signedIn, until } from "./lib/browser.mjs";
import { sandboxAndBrowser } from "./lib/suite.mjs";

const WAIT = { timeout: 20_000 };
const SHOTS = "/tmp/shots/sandbox-contact-center";
const env = sandboxAndBrowser();

/** GET on the emulator's 8x8 API (`/cc/v1/...`) with the sandbox's key and tenant. */
async function eightByEight(page, path) {
  const info = (await api(page, "GET", "/sandbox/info")).body;
  const key = info.apiKeys[0];
  const response = await fetch(`${info.baseUrl}${path}`, {
    headers: { "x-api-key": key.key, "X-8x8-Tenant": key.tenants[0], accept: "application/json" },
  });
  assert.equal(response.status, 200, `${path} answers`);
  return response.json();
}

const scheduleStatus = async (page) => (await eightByEight(page, "/cc/v1/schedules/101/status"))["schedule-status"].status;
const queueStats = async (page, id) => (await eightByEight(page, `/cc/v1/stats/rt/queue/${id}`)).queue;

test("a schedule's state set in the console is what 8x8's schedule status answers", async () => {
  const { context, page } = await signedIn(env.browser, env.server, "/agent-console");
  try {
    const select = page.getByTestId("cc-schedule-101");
    await select.waitFor(WAIT);
    assert.equal(await select.inputValue(), "Open");
    assert.equal(await scheduleStatus(page), 0);

    await select.selectOption("Closed");
    await until(async () => (await scheduleStatus(page)) === -1, "the schedule closed");
    await select.selectOption("Choice #2");
    await until(async () => (await scheduleStatus(page)) === "Choice #2", "choice 2");

    // What the sandbox has shows again after a reload.
    await page.reload();
    await page.getByTestId("cc-schedule-101").waitFor(WAIT);
    await until(async () => (await page.getByTestId("cc-schedule-101").inputValue()) === "Choice #2", "the choice after a reload");

    await page.getByTestId("cc-schedule-101").selectOption("Open");
    await until(async () => (await scheduleStatus(page)) === 0, "open again");
  } finally {
    await api(page, "PUT", "/sandbox/contact-center/schedules/101", { state: "Open" });
    await context.close();
  }
});

test("an agent's state set in the console is what 8x8's queue statistics count", async () => {
  const { context, page } = await signedIn(env.browser, env.server, "/agent-console");
  try {
    const jo = page.getByTestId("cc-agent-101-sandbox-agent-jo");
    await jo.waitFor(WAIT);
    assert.equal(await jo.inputValue(), "onBreak");
    let q = await queueStats(page, "101");
    assert.deepEqual([q["agent-count-waitTransact"], q["agent-count-onBreak"], q["agent-count-loggedOut"]], [1, 1, 1]);

    await jo.selectOption({ label: "Available" });
    q = await until(async () => {
      const s = await queueStats(page, "101");
      return s["agent-count-waitTransact"] === 2 && s;
    }, "Jo counted available");
    assert.equal(q["agent-count-onBreak"], 0);
    assert.equal(q["enabled-agent-count"], 2, "Alex and Jo; Kim is logged out");

    await jo.selectOption({ label: "Logged out" });
    q = await until(async () => {
      const s = await queueStats(page, "101");
      return s["agent-count-loggedOut"] === 2 && s;
    }, "Jo logged out");
    assert.equal(q["enabled-agent-count"], 1);
    await jo.selectOption({ label: "On break" });
    await until(async () => (await queueStats(page, "101"))["agent-count-onBreak"] === 1, "Jo on break again");
  } finally {
    await api(page, "PUT", "/sandbox/contact-center/queues/101/agents/sandbox-agent-jo", { state: "onBreak" });
    await context.close();
  }
});

test("the scripted agent set on break leaves the chat waiting until set available again", async () => {
  const { context, page } = await signedIn(env.browser, env.server, "/agent-console");
  const alex = page.getByTestId("cc-agent-101-sandbox-agent-alex");
  try {
    await alex.waitFor(WAIT);
    await alex.selectOption({ label: "On break" });
    await until(async () => (await queueStats(page, "101"))["agent-count-waitTransact"] === 0, "Alex on break");

    const c = (await api(page, "POST", "/tester/conversations", { name: "Wendy Waiting", email: "wendy@example.com", language: "en" })).body;
    await api(page, "POST", `/tester/conversations/${c.id}/messages`, { quickReply: { title: "Talk to a person", payload: "agent" } });
    const waiting = await until(async () => {
      const s = await queueStats(page, "101");
      return s["queue-size"] === 1 && s;
    }, "the chat waiting in queue 101");
    assert.equal(waiting["agent-count-waitTransact"], 0);
    // Alex would have joined after 1.5 s; 3 s later the chat still waits.
    await new Promise((r) => setTimeout(r, 3000));
    const still = await queueStats(page, "101");
    assert.equal(still["queue-size"], 1);
    assert.ok(still["longest-wait-time"] >= 3, `the wait is counted in seconds: ${still["longest-wait-time"]}`);
    const transcript = async () => (await api(page, "GET", `/conversations/${c.id}`)).body.transcript;
    assert.ok(!(await transcript()).some((e) => /Alex from Sandbox support/.test(e.text ?? "")), "Alex did not join");

    await alex.selectOption({ label: "Available" });
    await until(async () => (await transcript()).some((e) => /Alex from Sandbox support/.test(e.text ?? "")), "Alex's greeting");
    const handled = await queueStats(page, "101");
    assert.equal(handled["queue-size"], 0);
    assert.equal(handled["agent-count-busy"], 1, "Alex in a chat counts as busy");
    assert.ok(handled["thirty-min-avg-wait-time"] >= 3, "the wait shows in the 30-minute average");
    await page.getByText("in 1 chat, counted busy").waitFor(WAIT);
    await api(page, "POST", `/tester/conversations/${c.id}/leave`);
  } finally {
    await api(page, "PUT", "/sandbox/contact-center/queues/101/agents/sandbox-agent-alex", { state: "available" });
    await context.close();
  }
});

test("the panel at 800 and 1440 px, light and dark", async () => {
  mkdirSync(SHOTS, { recursive: true });
  for (const width of [800, 1440]) {
    for (const scheme of ["light", "dark"]) {
      const { context, page } = await signedIn(env.browser, env.server, "/agent-console");
      try {
        await page.emulateMedia({ colorScheme: scheme });
        await page.setViewportSize({ width, height: 1000 });
        const panel = page.getByTestId("contact-center-panel");
        await page.getByTestId("cc-agent-102-sandbox-agent-lee").waitFor(WAIT);
        const box = await panel.boundingBox();
        assert.ok(box.width <= width, "the panel fits the window");
        // Every select shows whole within the panel.
        for (const s of await panel.locator("select").all()) {
          const b = await s.boundingBox();
          assert.ok(b.x >= box.x && b.x + b.width <= box.x + box.width + 1, "a state picker sticks out of the panel");
        }
        await page.screenshot({ path: `${SHOTS}/console-${width}-${scheme}.png`, fullPage: true });
      } finally {
        await context.close();
      }
    }
  }
});
