// The tester in a real browser against the headless server and its sandbox: simulated
// users chat with the bot, are handed over to the sandbox's scripted agent, and what
// happens is seen live on the conversations page (list, transcript, timeline, agent view).

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { artifacts } from "./lib/relay.mjs";
import { api, signedIn, until } from "./lib/browser.mjs";
import { sandboxAndBrowser } from "./lib/suite.mjs";

const WAIT = { timeout: 20_000 };
/** A transcript line (not the live region that announces it) containing `text`. */
const line = (scope, text) => scope.getByTestId("entry").filter({ hasText: text });
const env = sandboxAndBrowser();

test("a tester conversation from greeting through handover to an agent reply and the end, seen live everywhere", async () => {
  const { context, page: list } = await signedIn(env.browser, env.server, "/conversations");
  await list.getByTestId("conv-count").waitFor();
  const tester = await context.newPage();
  await tester.goto(`${env.server.adminOrigin}/tester`);

  await tester.getByTestId("user-name").fill("Ada Tester");
  await tester.getByTestId("user-email").fill("ada.tester@example.com");
  await tester.getByTestId("user-language").selectOption("en");
  await tester.getByTestId("tester-start").click();
  const session = tester.getByTestId("tester-session");
  await line(session, "I am the virtual assistant").first().waitFor(WAIT);

  // The list page, opened before the user existed, shows the conversation without a reload.
  const row = list.getByTestId("conv-row").filter({ hasText: "Ada Tester" });
  await row.waitFor(WAIT);
  assert.match(await row.getByTestId("row-phase").innerText(), /With bot/);

  // The greeting's quick reply asks for a person: handover to the sandbox queue.
  await session.getByRole("button", { name: "Talk to a person" }).first().click();
  await line(session, "Hi, this is Alex from Sandbox support").first().waitFor(WAIT);
  await tester.getByTestId("session-phase").filter({ hasText: "With agent" }).waitFor(WAIT);
  await row.getByTestId("row-phase").filter({ hasText: "With agent" }).waitFor(WAIT);

  await session.getByTestId("tester-input").fill("Where is my parcel?");
  await session.getByTestId("tester-send").click();
  await line(session, "Thanks, let me check that for you.").first().waitFor(WAIT);

  // Transcript in lanes, opened while the chat is live.
  await row.click();
  const detail = list.getByTestId("conversation-detail");
  const transcript = detail.getByTestId("transcript");
  await transcript.locator('[data-lane="user"]', { hasText: "Where is my parcel?" }).waitFor(WAIT);
  await transcript.locator('[data-lane="bot"]', { hasText: "I am connecting you to an agent" }).waitFor(WAIT);
  await transcript.locator('[data-lane="agent"]', { hasText: "Thanks, let me check that for you." }).waitFor(WAIT);
  await transcript.locator('[data-lane="system"]', { hasText: "Queued in Sandbox support" }).waitFor(WAIT);
  await transcript.locator('[data-lane="system"]', { hasText: "Agent sandbox-agent-alex joined" }).waitFor(WAIT);

  // Timeline: queued, agent joined, first reply, with the two waits measured.
  const timeline = detail.getByTestId("timeline");
  for (const step of ["Started", "Queued in Sandbox support", "Agent sandbox-agent-alex joined", "First agent reply"]) {
    await timeline.getByTestId("timeline-step").filter({ hasText: step }).waitFor(WAIT);
  }
  assert.match(await timeline.getByTestId("wait-time").innerText(), /^\d+ s$/);
  assert.match(await timeline.getByTestId("first-reply-time").innerText(), /^\d+ s$/);

  // The agent's view: what 8x8 was sent, and who the agent is.
  await detail.getByTestId("tab-agent").click();
  const agentView = detail.getByTestId("agent-view");
  assert.equal(await agentView.getByTestId("agent-id").innerText(), "sandbox-agent-alex");
  assert.match(await agentView.getByTestId("agent-user").innerText(), /ada\.tester@example\.com/);
  const history = await agentView.getByTestId("agent-history").innerText();
  assert.match(history, /bot: Hello! I am the virtual assistant/);
  assert.match(history, /user: Talk to a person/);
  await agentView.getByTestId("agent-exchange").getByText("Where is my parcel?").waitFor(WAIT);
  const request = JSON.parse(await agentView.getByTestId("agent-request").textContent());
  assert.equal(request.assignment.type, "queue");
  assert.equal(request.user.email, "ada.tester@example.com");

  // The user leaves: ended everywhere, live.
  await session.getByTestId("tester-leave").click();
  await tester.getByTestId("session-phase").filter({ hasText: "Ended" }).waitFor(WAIT);
  await row.getByTestId("row-phase").filter({ hasText: "Ended" }).waitFor(WAIT);
  await detail.getByTestId("detail-phase").filter({ hasText: "Ended" }).waitFor(WAIT);
  await timeline.getByTestId("timeline-step").filter({ hasText: "Ended" }).waitFor(WAIT);
  assert.equal(await session.getByTestId("tester-input").isDisabled(), true);

  // From the conversation to its 8x8 events in the inspector.
  const gatewayId = (await api(list, "GET", `/conversations/${await session.getAttribute("data-conversation")}`)).body.conversation.gatewayId;
  const inspector = await context.newPage();
  await inspector.goto(await detail.getByTestId("to-inspector").evaluate((a) => a.href));
  await inspector.getByTestId("delivery-group").first().waitFor(WAIT);
  const shownConversations = await inspector.getByTestId("delivery-group").locator(".conv").allInnerTexts();
  assert.ok(shownConversations.length >= 5, "queued, joined, messages, left …");
  assert.ok(shownConversations.every((c) => c === gatewayId), shownConversations.join());
  await inspector.close();

  await tester.screenshot({ path: join(artifacts, "tester-handover.png"), fullPage: true });
  await list.screenshot({ path: join(artifacts, "conversations-agent-view.png"), fullPage: true });
  await detail.getByRole("tab", { name: "Transcript" }).click();
  await list.screenshot({ path: join(artifacts, "conversations-transcript.png"), fullPage: true });
  await context.close();
});

test("two simulated users at once each keep their own conversation", async () => {
  const { context, page } = await signedIn(env.browser, env.server, "/tester");
  await page.getByTestId("user-count").fill("2");
  await page.getByTestId("tester-start").click();
  const sessions = page.getByTestId("tester-session");
  await line(sessions.nth(1), "I am the virtual assistant").first().waitFor(WAIT);
  await line(sessions.nth(0), "I am the virtual assistant").first().waitFor(WAIT);
  const [first, second] = [sessions.nth(0), sessions.nth(1)];
  const ids = [await first.getAttribute("data-conversation"), await second.getAttribute("data-conversation")];
  assert.ok(ids[0] && ids[1] && ids[0] !== ids[1], `two conversations: ${ids}`);
  const names = [await first.locator("h3").innerText(), await second.locator("h3").innerText()];
  assert.notEqual(names[0], names[1]);

  // Both type at once; each gets only the answer to their own question.
  await first.getByTestId("tester-input").fill("What are your opening hours?");
  await second.getByTestId("tester-input").fill("I have a question about my invoice");
  // One after the other without waiting for an answer (two concurrent clicks would
  // fight over the one mouse).
  await first.getByTestId("tester-input").press("Enter");
  await second.getByTestId("tester-input").press("Enter");
  await line(first, "We are open Monday to Friday").first().waitFor(WAIT);
  await line(second, "Invoices are in your account").first().waitFor(WAIT);
  assert.equal(await line(first, "Invoices are in your account").count(), 0);
  assert.equal(await line(second, "We are open Monday to Friday").count(), 0);
  assert.equal(await line(first, "I have a question about my invoice").count(), 0);

  // The server agrees: each transcript holds its own user's words only.
  for (const [i, id] of ids.entries()) {
    const view = (await api(page, "GET", `/conversations/${id}`)).body;
    const userWords = view.transcript.filter((e) => e.lane === "user").map((e) => e.text);
    assert.deepEqual(userWords, [i === 0 ? "What are your opening hours?" : "I have a question about my invoice"]);
    assert.equal(view.conversation.user.name, names[i]);
  }

  // Restart as a new user: a new conversation with a new identity.
  await second.getByTestId("tester-restart-new").click();
  const restarted = page.getByTestId("tester-session").nth(1);
  // The old panel is replaced once the old conversation is left.
  await restarted.locator("h3").filter({ hasNotText: names[1] }).waitFor(WAIT);
  await line(restarted, "I am the virtual assistant").first().waitFor(WAIT);
  const newId = await restarted.getAttribute("data-conversation");
  assert.ok(newId && !ids.includes(newId));
  assert.notEqual(await restarted.locator("h3").innerText(), names[1]);
  await page.screenshot({ path: join(artifacts, "tester-two-users.png"), fullPage: true });
  await context.close();
});

test("in endpoint mode the tester is an 8x8 web-chat customer whose words arrive as signed webhooks", async () => {
  const { context, page } = await signedIn(env.browser, env.server, "/tester");
  await page.getByTestId("mode-endpoint").check();
  await page.getByTestId("user-name").fill("Wendy Webchat");
  await page.getByTestId("tester-start").click();
  const session = page.getByTestId("tester-session");
  // With "Accept Conversation Active Event" on (the default) the bot greets first.
  await line(session, "I am the virtual assistant").first().waitFor(WAIT);
  // A quick reply goes to the relay as 8x8's ACTIVITY quickReply/action.
  await session.getByRole("button", { name: "Billing" }).first().click();
  await line(session, "Invoices are in your account").first().waitFor(WAIT);
  await session.getByTestId("tester-input").fill("opening hours");
  await session.getByTestId("tester-send").click();
  await line(session, "We are open Monday to Friday").first().waitFor(WAIT);

  const id = await session.getAttribute("data-conversation");
  const view = (await api(page, "GET", `/conversations/${id}`)).body;
  assert.equal(view.conversation.mode, "endpoint");
  const gatewayId = view.conversation.gatewayId;
  assert.ok(gatewayId);
  // The customer's message reached the relay as a verified 8x8 delivery.
  const groups = (await api(page, "GET", "/inspector/deliveries?limit=100")).body.groups;
  const message = groups.find(
    (g) => g.conversationId === gatewayId && g.eventType === "MESSAGE" && g.deliveries[0].status === "processed",
  );
  assert.ok(message, "a processed MESSAGE delivery for the web-chat conversation");
  assert.equal(message.deliveries[0].signature, "valid");
  const quickReply = groups.find((g) => g.conversationId === gatewayId && g.deliveries[0].activity === "quickReply/action");
  assert.ok(quickReply, "the quick reply arrived as an ACTIVITY delivery");
  assert.equal(quickReply.deliveries[0].signature, "valid");
  await page.screenshot({ path: join(artifacts, "tester-endpoint.png"), fullPage: true });
  await context.close();
});

test("the sandbox agent console: an offer waits in the queue, is accepted, answered, transferred, and another is ended", async () => {
  const { context, page: consolePage } = await signedIn(env.browser, env.server, "/agent-console");
  // Answer queue 101 here instead of its scripted agent.
  await consolePage.getByTestId("queue-toggle-101").filter({ hasText: "Answer here" }).click();
  await consolePage.getByTestId("queue-toggle-101").filter({ hasText: "Give back" }).waitFor(WAIT);
  await consolePage.getByTestId("console-agent-id").fill("human-hanna");

  const transcriptOf = async (id) => (await api(consolePage, "GET", `/conversations/${id}`)).body;
  async function handedOver(name) {
    const c = (await api(consolePage, "POST", "/tester/conversations", { name, email: "x@example.com", language: "en" })).body;
    await api(consolePage, "POST", `/tester/conversations/${c.id}/messages`, { quickReply: { title: "Talk to a person", payload: "agent" } });
    return c.id;
  }

  const first = await handedOver("Olga Offer");
  // The offer appears live (the relay's events tell the console to look).
  const offer = consolePage.getByTestId("offer").filter({ hasText: "Olga Offer" });
  await offer.waitFor(WAIT);
  assert.match(await offer.innerText(), /Sandbox support/);
  await offer.getByTestId("offer-accept").click();
  await offer.waitFor({ state: "detached", ...WAIT });
  const firstGateway = (await transcriptOf(first)).conversation.gatewayId;
  await consolePage.getByTestId("console-conversation").filter({ hasText: firstGateway }).waitFor(WAIT);
  const messages = consolePage.getByTestId("console-messages");
  await messages.getByText("Talk to a person").waitFor(WAIT);

  await consolePage.getByTestId("console-input").fill("Hanna here, how can I help?");
  await consolePage.getByTestId("console-send").click();
  // The user gets it through the relay, from agent human-hanna.
  let view = await until(async () => {
    const v = await transcriptOf(first);
    return v.transcript.some((e) => e.lane === "agent" && e.text === "Hanna here, how can I help?") && v;
  }, "the agent's reply at the user");
  assert.equal(view.conversation.agentId, "human-hanna");
  assert.equal(view.conversation.phase, "agent");
  // The user's answer shows in the console live.
  await api(consolePage, "POST", `/tester/conversations/${first}/messages`, { text: "My router blinks red" });
  await messages.getByText("My router blinks red").waitFor(WAIT);

  // Transfer to the escalations queue: its scripted agent takes over.
  await consolePage.getByTestId("console-transfer-queue").selectOption("102");
  await consolePage.getByTestId("console-transfer").click();
  await messages.getByText("Hello, Sam here from escalations.").waitFor(WAIT);
  view = await transcriptOf(first);
  assert.ok(view.transcript.some((e) => e.lane === "system" && /transferred/i.test(e.text)), "the transfer is in the transcript");

  // A second chat: accepted and ended by the agent, so it leaves the agent.
  const second = await handedOver("Ned Ending");
  const offer2 = consolePage.getByTestId("offer").filter({ hasText: "Ned Ending" });
  await offer2.waitFor(WAIT);
  await offer2.getByTestId("offer-accept").click();
  const secondGateway = (await transcriptOf(second)).conversation.gatewayId;
  await consolePage.getByTestId("console-conversation").filter({ hasText: secondGateway }).waitFor(WAIT);
  await messages.getByText("Talk to a person").waitFor(WAIT);
  assert.equal(await messages.getByText("My router blinks red").count(), 0, "only this chat's messages");
  await consolePage.screenshot({ path: join(artifacts, "agent-console.png"), fullPage: true });
  await consolePage.getByTestId("console-end").click();
  view = await until(async () => {
    const v = await transcriptOf(second);
    return v.conversation.phase !== "agent" && v;
  }, "the agent to leave");
  assert.ok(view.transcript.some((e) => e.lane === "system" && /agent left/i.test(e.text)));
  await consolePage.getByTestId("queue-toggle-101").filter({ hasText: "Give back" }).click();
  await consolePage.getByTestId("queue-toggle-101").filter({ hasText: "Answer here" }).waitFor(WAIT);
  await context.close();
});
