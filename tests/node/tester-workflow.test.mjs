// The bot tester's workflow on the Tester page, as a tester lives it: the chat follows
// the conversation, simulated users outlive a page change and a reload, endpoint-mode
// chats say who is typing and when the bot waits, generated users are varied and get the
// language the form says, closed chats end, and the form works from the keyboard.

import { test } from "node:test";
import assert from "node:assert/strict";
import { api, signedIn, until } from "./lib/browser.mjs";
import { sandboxAndBrowser } from "./lib/suite.mjs";

const WAIT = { timeout: 20_000 };
const line = (scope, text) => scope.getByTestId("entry").filter({ hasText: text });
/** How many pixels of a chat are below its visible part. */
const below = (session) =>
  session.getByTestId("transcript").evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
const env = sandboxAndBrowser();

async function startOne(page, { name, mode = "handover" } = {}) {
  await page.getByTestId(`mode-${mode}`).check();
  if (name) await page.getByTestId("user-name").fill(name);
  await page.getByTestId("tester-start").click();
  const session = page.getByTestId("tester-session").filter({ hasText: name ?? "" }).last();
  await line(session, "I am the virtual assistant").first().waitFor(WAIT);
  return session;
}

async function say(session, text, answer) {
  await session.getByTestId("tester-input").fill(text);
  await session.getByTestId("tester-send").click();
  await line(session, answer).last().waitFor(WAIT);
}

test("the chat follows new messages, and offers them when the reader has scrolled up", async () => {
  const { context, page } = await signedIn(env.browser, env.server, "/tester");
  const session = await startOne(page, { name: "Fiona Follow" });
  // Each exchange grows the chat past its height; the latest line stays in view.
  for (const [i, [text, answer]] of [
    ["What are your opening hours?", "We are open Monday to Friday"],
    ["I have a question about my invoice", "Invoices are in your account"],
    ["opening hours", "We are open Monday to Friday"],
    ["invoice", "Invoices are in your account"],
  ].entries()) {
    await say(session, text, answer);
    await until(async () => (await line(session, answer).count()) === Math.floor(i / 2) + 1 && true, "the answer");
    await until(async () => (await below(session)) < 4, `the chat to follow message ${i + 1} (${await below(session)} px below)`, 3000);
  }
  assert.equal(await session.getByTestId("new-messages").count(), 0, "nothing new to offer while following");

  // Scrolled up to read: a new message does not pull the reader down, it is offered.
  await session.getByTestId("transcript").evaluate((el) => el.scrollTo({ top: 0 }));
  await say(session, "Talk to a person", "Hi, this is Alex from Sandbox support");
  assert.equal(await session.getByTestId("transcript").evaluate((el) => el.scrollTop), 0, "the reader stays where they were");
  const offer = session.getByTestId("new-messages");
  await offer.waitFor(WAIT);
  assert.match(await offer.innerText(), /new messages ↓/i);
  await offer.click();
  await until(async () => (await below(session)) < 4, "the chat to jump to the latest line", 3000);
  await offer.waitFor({ state: "detached", ...WAIT });
  await context.close();
});

test("simulated users and their modes outlive a page change and a reload, with the chat so far", async () => {
  const { context, page } = await signedIn(env.browser, env.server, "/tester");
  const hanna = await startOne(page, { name: "Hanna Handover" });
  await say(hanna, "opening hours", "We are open Monday to Friday");
  const wendy = await startOne(page, { name: "Wendy Web", mode: "endpoint" });
  const ids = [await hanna.getAttribute("data-conversation"), await wendy.getAttribute("data-conversation")];
  assert.ok(ids[0] && ids[1]);

  async function stillThere(how) {
    const sessions = page.getByTestId("tester-session");
    await sessions.nth(1).waitFor(WAIT);
    assert.equal(await sessions.count(), 2, `two users after ${how}`);
    const h = sessions.filter({ hasText: "Hanna Handover" });
    const w = sessions.filter({ hasText: "Wendy Web" });
    await line(h, "We are open Monday to Friday").first().waitFor(WAIT);
    await line(h, "opening hours").first().waitFor(WAIT);
    await line(w, "I am the virtual assistant").first().waitFor(WAIT);
    await until(async () => (await h.getAttribute("data-conversation")) === ids[0], `Hanna's conversation after ${how}`);
    await until(async () => (await w.getAttribute("data-conversation")) === ids[1], `Wendy's conversation after ${how}`);
    assert.match(await h.getByTestId("session-user").innerText(), /handover/);
    assert.match(await w.getByTestId("session-user").innerText(), /8x8 web chat/);
    // The form keeps the mode last chosen.
    assert.equal(await page.getByTestId("mode-endpoint").isChecked(), true, `endpoint mode still chosen after ${how}`);
    // And the chats still work: nobody was started again.
    return { h, w };
  }

  await page.getByRole("link", { name: "Conversations" }).click();
  await page.getByTestId("conv-count").waitFor(WAIT);
  await page.getByRole("link", { name: "Tester" }).click();
  await stillThere("a page change");

  await page.reload();
  const { h } = await stillThere("a reload");
  await say(h, "invoice", "Invoices are in your account");
  const view = (await api(page, "GET", "/conversations?limit=100")).body;
  const names = view.conversations.map((c) => c.user?.name);
  assert.equal(names.filter((n) => n === "Hanna Handover").length, 1, "no conversation started twice");
  assert.equal(names.filter((n) => n === "Wendy Web").length, 1, "no conversation started twice");

  // Closing a user ends their chat; the tester no longer brings it back.
  await h.getByTestId("tester-close").click();
  await until(async () => (await api(page, "GET", `/conversations/${ids[0]}`)).body.conversation.phase === "ended", "Hanna's chat to end");
  // The panel goes once the page has the relay's answer, which can come a moment after
  // the relay changed the phase: reloading before that would reload a panel still open.
  await h.waitFor({ state: "detached", ...WAIT });
  await page.reload();
  await page.getByTestId("tester-session").first().waitFor(WAIT);
  assert.equal(await page.getByTestId("tester-session").count(), 1);
  assert.equal(await page.getByTestId("tester-session").filter({ hasText: "Wendy Web" }).count(), 1);
  await page.getByTestId("tester-session").getByTestId("tester-close").click();
  await page.getByTestId("tester-session").waitFor({ state: "detached", ...WAIT });
  await context.close();
});

test("an endpoint-mode chat never shows the customer or the bot as a typing agent", async () => {
  const { context, page } = await signedIn(env.browser, env.server, "/tester");
  const session = await startOne(page, { name: "Tina Typist", mode: "endpoint" });
  // Record whether "Agent is typing…" ever shows while the user types and the bot answers.
  await session.evaluate((el) => {
    window.__agentTyping = 0;
    new MutationObserver(() => {
      if (el.querySelector('[data-testid="agent-typing"]')) window.__agentTyping += 1;
    }).observe(el, { childList: true, subtree: true });
  });
  await session.getByTestId("tester-input").pressSequentially("opening hours", { delay: 20 });
  await session.getByTestId("tester-input").press("Enter");
  await line(session, "We are open Monday to Friday").first().waitFor(WAIT);
  await page.waitForTimeout(1500);
  assert.equal(await page.evaluate(() => window.__agentTyping), 0, "no agent typed in a chat with the bot");
  await session.getByTestId("tester-close").click();
  await context.close();
});

test("with Accept Conversation Active Event off, an endpoint-mode chat says the bot waits for the first message", async () => {
  const { context, page } = await signedIn(env.browser, env.server, "/tester");
  // With "Accept Conversation Active Event" off the bot waits for the customer: the chat says so.
  const current = (await api(page, "GET", "/settings")).body.settings;
  const off = structuredClone(current);
  off.endpoint.acceptConversationActiveEvent = false;
  assert.equal((await api(page, "PUT", "/settings", { settings: off, keys: {} })).status, 200);
  try {
    await page.getByTestId("mode-endpoint").check();
    await page.getByTestId("user-name").fill("Quentin Quiet");
    await page.getByTestId("tester-start").click();
    const quiet = page.getByTestId("tester-session").filter({ hasText: "Quentin Quiet" });
    const hint = quiet.getByTestId("bot-waits");
    await hint.waitFor(WAIT);
    assert.match(await hint.innerText(), /waits for the first message/i);
    assert.match(await hint.innerText(), /Accept Conversation Active Event/);
    assert.equal(await line(quiet, "I am the virtual assistant").count(), 0);
    await say(quiet, "opening hours", "We are open Monday to Friday");
    await hint.waitFor({ state: "detached", ...WAIT });
    await quiet.getByTestId("tester-close").click();
  } finally {
    await api(page, "PUT", "/settings", { settings: current, keys: {} });
  }
  await context.close();
});

/** An email's local part as the tester derives it from a name: ASCII, lower case, dotted. */
const fold = (name) =>
  name
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ".")
    .replace(/^\.|\.$/g, "");

/** Starts `count` generated users with the form as it is; returns their sessions. */
async function startGenerated(page, count) {
  const sessions = page.getByTestId("tester-session");
  const before = await sessions.count();
  await page.getByTestId("user-count").fill(String(count));
  await page.getByTestId("tester-start").click();
  await until(async () => (await sessions.count()) === before + count && true, `${count} more users`);
  const started = [];
  for (let i = before; i < before + count; i++) {
    await line(sessions.nth(i), "I am the virtual assistant").first().waitFor(WAIT);
    const id = await sessions.nth(i).getAttribute("data-conversation");
    started.push({ session: sessions.nth(i), user: (await api(page, "GET", `/conversations/${id}`)).body.conversation.user });
  }
  return started;
}

async function closeAll(page) {
  const sessions = page.getByTestId("tester-session");
  while ((await sessions.count()) > 0) {
    const n = await sessions.count();
    await sessions.first().getByTestId("tester-close").click();
    await until(async () => (await sessions.count()) < n && true, "the panel to close");
  }
}

test("generated users have varied, plausible names with matching emails", async () => {
  const { context, page } = await signedIn(env.browser, env.server, "/tester");
  await page.getByTestId("mode-handover").check();
  const users = [...(await startGenerated(page, 6)), ...(await startGenerated(page, 6))].map((s) => s.user);
  const names = users.map((u) => u.name);
  assert.equal(new Set(names).size, 12, `twelve different names: ${names.join(", ")}`);
  assert.ok(names.every((n) => /^\p{L}[\p{L}' -]+ \p{L}[\p{L}' -]+$/u.test(n)), `first and last names, no numbering: ${names.join(", ")}`);
  assert.ok(new Set(names.map((n) => n.split(" ")[0])).size >= 10, `varied first names: ${names.join(", ")}`);
  for (const u of users) assert.equal(u.email.split("@")[0], fold(u.name), `${u.email} is ${u.name}'s`);
  await closeAll(page);
  await context.close();
});

test("every user gets the language the form says, and 'varied' says that it varies", async () => {
  const { context, page } = await signedIn(env.browser, env.server, "/tester");
  await page.getByTestId("mode-handover").check();
  const language = page.getByTestId("user-language");
  assert.equal(await language.inputValue(), "en");
  for (const { user } of await startGenerated(page, 6)) assert.equal(user.language, "en", `${user.name} speaks what the form says`);

  await language.selectOption("de");
  assert.match(await language.locator("option:checked").innerText(), /German/);
  for (const { user, session } of await startGenerated(page, 2)) {
    assert.equal(user.language, "de");
    assert.match(await session.getByTestId("session-user").innerText(), /\bde\b/);
  }
  const varied = (await language.locator("option").allInnerTexts()).find((t) => /varied/i.test(t));
  assert.ok(varied, "the field offers varied languages, saying so");
  await language.selectOption({ label: varied });
  const languages = (await startGenerated(page, 6)).map((s) => s.user.language);
  assert.ok(new Set(languages).size > 1, `varied: ${languages}`);
  await language.selectOption("en");
  await closeAll(page);
  await context.close();
});

test("closing a user's panel ends the chat, and the Conversations list shows it ended", async () => {
  const { context, page } = await signedIn(env.browser, env.server, "/tester");
  await page.getByTestId("mode-handover").check();
  const session = await startOne(page, { name: "Clara Closed" });
  await session.getByRole("button", { name: /^Close Clara Closed's panel/ }).click();
  await session.waitFor({ state: "detached", ...WAIT });
  const list = await context.newPage();
  await list.goto(`${env.server.adminOrigin}/conversations`);
  const row = list.getByTestId("conv-row").filter({ hasText: "Clara Closed" });
  await row.getByTestId("row-phase").filter({ hasText: "Ended" }).waitFor(WAIT);
  await context.close();
});

test("the mode radios are one Tab stop moved by arrow keys", async () => {
  const { context, page } = await signedIn(env.browser, env.server, "/tester");
  await page.getByTestId("mode-handover").check();
  await page.getByTestId("mode-handover").focus();
  await page.keyboard.press("Tab");
  const next = await page.evaluate(() => document.activeElement?.getAttribute("data-testid"));
  assert.notEqual(next, "mode-endpoint", "Tab leaves the radio group");
  await page.getByTestId("mode-handover").focus();
  await page.keyboard.press("ArrowDown");
  assert.equal(await page.getByTestId("mode-endpoint").isChecked(), true, "an arrow key moves the choice");
  await page.keyboard.press("ArrowUp");
  assert.equal(await page.getByTestId("mode-handover").isChecked(), true);
  await context.close();
});

test("a chat line's time reads 'time · where', spaced", async () => {
  const { context, page } = await signedIn(env.browser, env.server, "/tester");
  await page.getByTestId("mode-handover").check();
  const session = await startOne(page, { name: "Tim Time" });
  const time = await line(session, "I am the virtual assistant").first().locator("time").innerText();
  assert.match(time, /\S \u00b7 \S/, `"${time}" has a space either side of the dot`);
  await session.getByTestId("tester-close").click();
  await context.close();
});
