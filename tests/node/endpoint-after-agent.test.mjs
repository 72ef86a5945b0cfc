// Endpoint mode after the agent, as the tester sees it in the browser: the sandbox's agent
// ends an 8x8 web chat. Without a handback 8x8 closes it, so the bot must not claim to be
// back (its post used to re-open the chat in the queue and leave the customer's next
// message unanswered); the customer can still write, which re-opens the chat in 8x8's
// queue where an agent answers. With a handback the bot says it is back and answers.

import { test } from "node:test";
import assert from "node:assert/strict";
import { api, signedIn } from "./lib/browser.mjs";
import { sandboxAndBrowser } from "./lib/suite.mjs";

const WAIT = { timeout: 20_000 };
const BACK = "I'm back to help you";
const line = (scope, text) => scope.getByTestId("entry").filter({ hasText: text });
const env = sandboxAndBrowser();

/** A web-chat customer on the Tester page, handed to the sandbox's scripted agent. */
async function withAgent(page, name) {
  await page.getByTestId("mode-endpoint").check();
  await page.getByTestId("user-name").fill(name);
  await page.getByTestId("tester-start").click();
  const session = page.getByTestId("tester-session").filter({ hasText: name });
  await line(session, "I am the virtual assistant").first().waitFor(WAIT);
  await session.getByRole("button", { name: "Talk to a person" }).first().click();
  await line(session, "Hi, this is Alex from Sandbox support").first().waitFor(WAIT);
  const id = await session.getAttribute("data-conversation");
  const gatewayId = (await api(page, "GET", `/conversations/${id}`)).body.conversation.gatewayId;
  return { session, id, gatewayId };
}

async function setHandback(page, on) {
  const { settings } = (await api(page, "GET", "/settings")).body;
  settings.handover.handback = on;
  const saved = await api(page, "PUT", "/settings", { settings });
  assert.equal(saved.status, 200, JSON.stringify(saved.body));
}

test("without a handback the bot stays silent when the agent ends the chat, and the customer's next message reaches an agent", async () => {
  const { context, page } = await signedIn(env.browser, env.server, "/tester");
  await setHandback(page, false);
  const { session, id, gatewayId } = await withAgent(page, "Erin Endpoint");

  const ended = await api(page, "POST", `/sandbox/conversations/${gatewayId}/agent/end`, {});
  assert.ok(ended.status < 300, JSON.stringify(ended.body));
  await page.getByTestId("session-phase").filter({ hasText: "Ended" }).waitFor(WAIT);
  await line(session, "Ended by the agent").first().waitFor(WAIT);
  // Nothing claims the bot is back, and 8x8 offers the chat to nobody.
  await page.waitForTimeout(500);
  assert.equal(await line(session, BACK).count(), 0, "the bot does not say it is back");
  const inSandbox = (await api(page, "GET", `/sandbox/conversations/${gatewayId}`)).body;
  assert.equal(inSandbox.state, "idle", JSON.stringify(inSandbox.state));

  // The customer can still write: it re-opens the chat in the queue, and the agent answers.
  const input = session.getByTestId("tester-input");
  assert.equal(await input.isDisabled(), false);
  assert.match(await input.getAttribute("placeholder"), /re-opens/);
  await input.fill("one more thing, please");
  await session.getByTestId("tester-send").click();
  await line(session, "The conversation was re-opened").first().waitFor(WAIT);
  await page.getByTestId("session-phase").filter({ hasText: /Queued|With agent/ }).waitFor(WAIT);
  await page.getByTestId("session-phase").filter({ hasText: "With agent" }).waitFor(WAIT);
  const view = (await api(page, "GET", `/conversations/${id}`)).body;
  const bot = view.transcript.filter((e) => e.lane === "bot").map((e) => e.text);
  assert.ok(!bot.some((t) => t.includes(BACK)), bot.join(" | "));
  assert.ok(view.transcript.some((e) => e.lane === "user" && e.text === "one more thing, please"));
  await context.close();
});

test("with a handback the bot says it is back when 8x8 hands the chat back, and answers again", async () => {
  const { context, page } = await signedIn(env.browser, env.server, "/tester");
  await setHandback(page, true);
  const { session, gatewayId } = await withAgent(page, "Hal Handback");

  await api(page, "POST", `/sandbox/conversations/${gatewayId}/agent/end`, {});
  await line(session, BACK).first().waitFor(WAIT);
  await page.getByTestId("session-phase").filter({ hasText: "With bot" }).waitFor(WAIT);
  await session.getByTestId("tester-input").fill("opening hours");
  await session.getByTestId("tester-send").click();
  await line(session, "We are open Monday to Friday").first().waitFor(WAIT);
  await setHandback(page, false);
  await context.close();
});
