// Flaws found walking through the three roles (admin, tester, agent) as they work, each
// checked as the user meets it: the agent console follows new messages, says "typing"
// only while the customer types (in both modes) without moving the reply box, gives the
// reply box the keyboard, words its chat list, keeps the contact panel under the chat
// and says when handovers go to a real tenant; the admin's Test connection counts
// webhooks in words; the inspector's filter shows its placeholder.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/relay.mjs";
import { api, launch, signedIn, until } from "./lib/browser.mjs";

const WAIT = { timeout: 20_000 };
let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const relayView = async (page, id) => (await api(page, "GET", `/conversations/${id}`)).body;
const say = (page, id, text) => api(page, "POST", `/tester/conversations/${id}/messages`, { text });

/** The console answering queue 101 here, with a tester user's chat accepted and open. */
async function acceptedChat(name, viewport = { width: 1100, height: 760 }) {
  const { context, page } = await signedIn(browser, server, "/agent-console");
  await page.setViewportSize(viewport);
  await page.getByTestId("queue-toggle-101").filter({ hasText: "Answer here" }).click();
  await page.getByTestId("queue-toggle-101").filter({ hasText: "Give back" }).waitFor(WAIT);
  const c = (await api(page, "POST", "/tester/conversations", { name, email: "someone@example.com", language: "en" })).body;
  await api(page, "POST", `/tester/conversations/${c.id}/messages`, { quickReply: { title: "Talk to a person", payload: "agent" } });
  await page.getByTestId("offer").filter({ hasText: name }).getByTestId("offer-accept").click(WAIT);
  const gateway = await until(async () => (await relayView(page, c.id)).conversation.gatewayId, "the 8x8 conversation");
  await page.getByTestId("console-conversation").filter({ hasText: gateway }).waitFor(WAIT);
  const done = async () => {
    await page.getByTestId("console-end").click();
    await page.getByTestId("console-locked").waitFor(WAIT);
    await page.getByTestId("queue-toggle-101").filter({ hasText: "Give back" }).click();
    await page.getByTestId("queue-toggle-101").filter({ hasText: "Answer here" }).waitFor(WAIT);
    await context.close();
  };
  return { page, id: c.id, done };
}

const messageBox = (page) => page.getByTestId("console-messages");
const hiddenBelow = (page) => messageBox(page).evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);

test("the agent console's chat follows new messages unless the agent scrolled up to read", async () => {
  const { page, id, done } = await acceptedChat("Lena Longchat");
  for (let i = 1; i <= 14; i++) {
    await say(page, id, `Line ${i} of a long story about my parcel`);
    await page.getByTestId("console-message").filter({ hasText: `Line ${i} of` }).waitFor(WAIT);
  }
  assert.ok(await messageBox(page).evaluate((el) => el.scrollHeight > el.clientHeight + 100), "the chat is taller than its box");
  await until(async () => (await hiddenBelow(page)) < 4, `the latest message in view (${await hiddenBelow(page)} px below)`, 3000);

  // Scrolled up to read: a new message leaves the agent where they were.
  await messageBox(page).evaluate((el) => el.scrollTo({ top: 0 }));
  await page.waitForTimeout(200);
  await say(page, id, "One more thing about the parcel");
  await page.getByTestId("console-message").filter({ hasText: "One more thing" }).waitFor(WAIT);
  await page.waitForTimeout(300);
  assert.equal(await messageBox(page).evaluate((el) => el.scrollTop), 0, "the agent stays where they were reading");
  await done();
});

test("the agent console says the customer is typing only while they are", async () => {
  const { page, id, done } = await acceptedChat("Tom Typer");
  const typing = page.getByTestId("console-user-typing");
  // A typing pulse shows; the message it led to ends it.
  await api(page, "POST", `/tester/conversations/${id}/typing`);
  await typing.waitFor(WAIT);
  await say(page, id, "Here is my question");
  await page.getByTestId("console-message").filter({ hasText: "Here is my question" }).waitFor(WAIT);
  await typing.waitFor({ state: "detached", timeout: 1500 });

  // A pulse with no message after it lasts 5 s, then goes, with nothing else happening.
  await api(page, "POST", `/tester/conversations/${id}/typing`);
  await typing.waitFor(WAIT);
  await typing.waitFor({ state: "detached", timeout: 7000 });
  await done();
});

test("Test connection on the sandbox counts the webhooks in plain words", async () => {
  const { context, page } = await signedIn(browser, server, "/settings/endpoint");
  await page.getByRole("button", { name: "Test connection" }).click();
  const result = page.getByText(/Connected to the sandbox/);
  await result.waitFor(WAIT);
  const text = await result.innerText();
  assert.doesNotMatch(text, /\(s\)/, text);
  assert.match(text, /\b1 webhook is registered\./, text);
  await context.close();
});

test("the inspector's filter shows its whole placeholder at 800 px", async () => {
  const { context, page } = await signedIn(browser, server, "/inspector");
  await page.setViewportSize({ width: 800, height: 700 });
  const filter = page.getByTestId("delivery-filter");
  await filter.waitFor(WAIT);
  const { needed, room } = await filter.evaluate((el) => {
    const style = getComputedStyle(el);
    const ctx = document.createElement("canvas").getContext("2d");
    ctx.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const pad = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
    return { needed: ctx.measureText(el.placeholder).width, room: el.clientWidth - pad };
  });
  assert.ok(needed <= room, `the placeholder needs ${Math.ceil(needed)} px, the field has ${Math.floor(room)}`);
  await context.close();
});

test("the agent types straight away after Accept, and after Send the reply box keeps the keyboard", async () => {
  const { page, id, done } = await acceptedChat("Kira Keyboard");
  const box = page.getByTestId("console-input");
  await until(async () => (await box.evaluate((el) => el === document.activeElement)) && true, "the reply box focused after Accept", 3000);
  await page.keyboard.type("Hello Kira");
  assert.equal(await box.inputValue(), "Hello Kira");
  await page.getByTestId("console-send").click();
  await page.getByTestId("console-message").filter({ hasText: "Hello Kira" }).waitFor(WAIT);
  await page.keyboard.type("How can I help?");
  assert.equal(await box.inputValue(), "How can I help?", "typing after a click on Send goes to the reply box");
  await page.keyboard.press("Enter");
  await page.getByTestId("console-message").filter({ hasText: "How can I help?" }).waitFor(WAIT);
  await until(async () => (await relayView(page, id)).transcript.some((e) => e.text === "How can I help?"), "the reply at the customer");
  await done();
});

test("the console's list of chats says each chat's state in words and who has it", async () => {
  const { page, done } = await acceptedChat("Pia Phase");
  const item = page.getByTestId("console-chat").filter({ hasText: "Pia Phase" });
  await until(async () => /With agent \(you\)/.test(await item.innerText()), "the chat listed as with you", 5000).catch(async () =>
    assert.fail(`listed as: ${await item.innerText()}`),
  );
  await done();
});

test("an 8x8 web-chat customer typing (endpoint mode) shows in the agent console", async () => {
  const { context, page } = await signedIn(browser, server, "/agent-console");
  await page.getByTestId("queue-toggle-101").filter({ hasText: "Answer here" }).click();
  await page.getByTestId("queue-toggle-101").filter({ hasText: "Give back" }).waitFor(WAIT);
  const tester = await context.newPage();
  await tester.goto(`${server.adminOrigin}/tester`);
  await tester.getByTestId("mode-endpoint").check();
  await tester.getByTestId("user-name").fill("Edda Endpoint");
  await tester.getByTestId("tester-start").click();
  const session = tester.getByTestId("tester-session").filter({ hasText: "Edda Endpoint" });
  await session.getByTestId("entry").filter({ hasText: "I am the virtual assistant" }).first().waitFor(WAIT);
  await session.getByTestId("tester-input").fill("Talk to a person");
  await session.getByTestId("tester-input").press("Enter");
  await page.getByTestId("offer").filter({ hasText: "Edda Endpoint" }).getByTestId("offer-accept").click(WAIT);
  await page.getByTestId("console-input").waitFor(WAIT);
  await session.getByTestId("tester-input").pressSequentially("Is anyone", { delay: 30 });
  await page.getByTestId("console-user-typing").waitFor({ timeout: 5000 });
  assert.match(await page.getByTestId("console-user-typing").innerText(), /Edda Endpoint is typing/);
  await session.getByTestId("tester-input").press("Enter");
  await page.getByTestId("console-message").filter({ hasText: "Is anyone" }).waitFor(WAIT);
  await page.getByTestId("console-user-typing").waitFor({ state: "detached", timeout: 2000 });
  await page.getByTestId("console-end").click();
  await page.getByTestId("console-locked").waitFor(WAIT);
  await session.getByTestId("tester-close").click();
  await page.getByTestId("queue-toggle-101").filter({ hasText: "Give back" }).click();
  await page.getByTestId("queue-toggle-101").filter({ hasText: "Answer here" }).waitFor(WAIT);
  await context.close();
});

test("with the handover role on a real 8x8 tenant, the agent console says its sandbox queues get no handovers", async () => {
  const { context, page } = await signedIn(browser, server, "/agent-console");
  const note = page.getByTestId("console-not-sandbox");
  await page.getByTestId("queue-toggle-101").waitFor(WAIT);
  assert.equal(await note.count(), 0, "no note while handovers go to the sandbox");
  const saved = (await api(page, "GET", "/settings")).body.settings;
  const real = structuredClone(saved);
  real.sandbox = "off";
  assert.equal((await api(page, "PUT", "/settings", { settings: real, keys: {} })).status, 200);
  try {
    await note.waitFor(WAIT);
    assert.match(await note.innerText(), /real 8x8 tenant/i);
    assert.match(await note.innerText(), /Handover settings/);
  } finally {
    assert.equal((await api(page, "PUT", "/settings", { settings: saved, keys: {} })).status, 200);
  }
  await note.waitFor({ state: "detached", ...WAIT });
  await context.close();
});

test("at 1100 px the contact panel sits right under the chat, however long the lists beside them", async () => {
  const { page, done } = await acceptedChat("Gus Gap", { width: 1100, height: 760 });
  // Two more customers wait in the queue: the lists beside the chat grow taller.
  const waiting = [];
  for (const name of ["Wanda Waiting", "Walt Waiting"]) {
    const c = (await api(page, "POST", "/tester/conversations", { name, email: "w@example.com", language: "en" })).body;
    await api(page, "POST", `/tester/conversations/${c.id}/messages`, { quickReply: { title: "Talk to a person", payload: "agent" } });
    waiting.push(c.id);
  }
  await page.getByTestId("offer").nth(1).waitFor(WAIT);
  const gap = await page.evaluate(() => {
    const chat = document.querySelector("section.chat").getBoundingClientRect();
    const contact = document.querySelector(".contact-wrap").getBoundingClientRect();
    return contact.top - chat.bottom;
  });
  assert.ok(gap >= 0 && gap <= 17, `the contact panel is ${Math.round(gap)} px below the chat`);
  for (const id of waiting) await api(page, "POST", `/tester/conversations/${id}/leave`);
  await done();
});

test("the reply box stays put when the customer starts or stops typing", async () => {
  const { page, id, done } = await acceptedChat("Stan Still");
  const top = () => page.getByTestId("console-input").evaluate((el) => el.getBoundingClientRect().top);
  const before = await top();
  await api(page, "POST", `/tester/conversations/${id}/typing`);
  await page.getByTestId("console-user-typing").waitFor(WAIT);
  assert.equal(await top(), before, "the reply box moved when the typing note showed");
  await done();
});
