// The contact center as the tester's user meets it (handover mode, the sandbox): nobody
// available → told so and asked; waiting → queued, told so, the queue's figures every 15
// seconds, each with the cancel word to tap; cancel → back with the bot. A closed schedule
// → the out-of-hours message and no handover. The sandbox's agents and schedule are set
// through the admin API's sandbox routes, as the agent console's panel sets them.

import { test } from "node:test";
import assert from "node:assert/strict";
import { api, signedIn } from "./lib/browser.mjs";
import { sandboxAndBrowser } from "./lib/suite.mjs";

const WAIT = { timeout: 20_000 };
const line = (scope, text) => scope.getByTestId("entry").filter({ hasText: text });
const env = sandboxAndBrowser();
const AGENTS = ["sandbox-agent-alex", "sandbox-agent-jo", "sandbox-agent-kim"];

async function changeSettings(page, change) {
  const { settings } = (await api(page, "GET", "/settings")).body;
  change(settings.handover.contactCenter);
  const saved = await api(page, "PUT", "/settings", { settings });
  assert.equal(saved.status, 200, JSON.stringify(saved.body));
}

async function setAgents(page, state) {
  for (const agent of AGENTS) {
    const r = await api(page, "PUT", `/sandbox/contact-center/queues/101/agents/${agent}`, { state });
    assert.ok(r.status < 300, JSON.stringify(r.body));
  }
}

async function startUser(page, name) {
  await page.getByTestId("user-name").fill(name);
  await page.getByTestId("tester-start").click();
  const session = page.getByTestId("tester-session").filter({ hasText: name });
  await line(session, "I am the virtual assistant").first().waitFor(WAIT);
  return session;
}

test("nobody available: the user is asked, waits in the queue with its figures, and cancels back to the bot", async () => {
  const { context, page } = await signedIn(env.browser, env.server, "/tester");
  await setAgents(page, "onBreak");
  await changeSettings(page, (cc) => {
    cc.availability = { states: "available", message: "Nobody is free right now.", offerWait: true };
    cc.queueUpdateSeconds = 15;
    cc.cancelWord = "Leave the queue";
    cc.status.queued = "You are in the queue for an agent.";
  });
  const session = await startUser(page, "Quinn Queue");
  await session.getByRole("button", { name: "Talk to a person" }).first().click();
  await line(session, "Nobody is free right now.").first().waitFor(WAIT);
  assert.equal(await line(session, "connecting you").count(), 0, "no handover message before the choice");
  assert.equal(await page.getByTestId("session-phase").textContent(), "With bot");

  await session.getByRole("button", { name: "Wait for an agent" }).click();
  await line(session, "You are in the queue for an agent.").first().waitFor(WAIT);
  await page.getByTestId("session-phase").filter({ hasText: "Queued" }).waitFor(WAIT);
  // The queue's figures, worded as the queue's, within one period (15 s) and a margin.
  const update = line(session, /waiting in this queue; its typical wait is/).first();
  await update.waitFor({ timeout: 25_000 });
  assert.match(await update.textContent(), /1 waiting in this queue/);

  await session.getByRole("button", { name: "Leave the queue" }).last().click();
  await line(session, "You left the queue. I'm here to help again.").first().waitFor(WAIT);
  await page.getByTestId("session-phase").filter({ hasText: "With bot" }).waitFor(WAIT);
  // The bot answers again.
  await session.getByTestId("tester-input").fill("opening hours");
  await session.getByTestId("tester-send").click();
  await line(session, "We are open Monday to Friday").first().waitFor(WAIT);

  await setAgents(page, "available");
  await changeSettings(page, (cc) => {
    cc.availability = null;
    cc.queueUpdateSeconds = 0;
    cc.cancelWord = "";
    cc.status.queued = "";
  });
  await context.close();
});

test("a closed schedule: the out-of-hours message, and the bot carries on", async () => {
  const { context, page } = await signedIn(env.browser, env.server, "/tester");
  const closed = await api(page, "PUT", "/sandbox/contact-center/schedules/101", { state: "Closed" });
  assert.ok(closed.status < 300, JSON.stringify(closed.body));
  await changeSettings(page, (cc) => {
    cc.openingHours = { scheduleId: "101", closedChoices: [], message: "We are closed; our agents are back at 9." };
  });
  const session = await startUser(page, "Olive Outofhours");
  await session.getByRole("button", { name: "Talk to a person" }).first().click();
  await line(session, "We are closed; our agents are back at 9.").first().waitFor(WAIT);
  assert.equal(await page.getByTestId("session-phase").textContent(), "With bot");
  const id = await session.getAttribute("data-conversation");
  const view = (await api(page, "GET", `/conversations/${id}`)).body;
  assert.equal(view.conversation.gatewayId, null, "nothing was created in 8x8");
  assert.ok(
    view.transcript.some((e) => e.lane === "system" && e.text === "Opening hours: schedule 101 is Closed: no handover."),
    JSON.stringify(view.transcript.map((e) => e.text)),
  );
  await api(page, "PUT", "/sandbox/contact-center/schedules/101", { state: "Open" });
  await changeSettings(page, (cc) => {
    cc.openingHours = null;
  });
  await context.close();
});
