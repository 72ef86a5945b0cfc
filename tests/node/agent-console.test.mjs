// The sandbox agent console as the person acting as the 8x8 agent uses it: who the
// customer is and who wrote what, a chat that is no longer theirs after a transfer or
// an end (read-only, said plainly, refused by the emulator as by 8x8), offers only for
// queues answered here, and the page at 800 px.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { artifacts } from "./lib/relay.mjs";
import { api, signedIn, until } from "./lib/browser.mjs";
import { sandboxAndBrowser } from "./lib/suite.mjs";

const WAIT = { timeout: 20_000 };
const ME = "human-hanna";
const env = sandboxAndBrowser();

/** The console, signed in, answering `queues` here as agent `ME`. */
async function openConsole(queues, options = {}) {
  const { context, page } = await signedIn(env.browser, env.server, "/agent-console");
  if (options.viewport) await page.setViewportSize(options.viewport);
  for (const q of queues) {
    await page.getByTestId(`queue-toggle-${q}`).filter({ hasText: "Answer here" }).click();
    await page.getByTestId(`queue-toggle-${q}`).filter({ hasText: "Give back" }).waitFor(WAIT);
  }
  await page.getByTestId("console-agent-id").fill(ME);
  return { context, page };
}

async function giveBack(page, queues) {
  for (const q of queues) {
    await page.getByTestId(`queue-toggle-${q}`).filter({ hasText: "Give back" }).click();
    await page.getByTestId(`queue-toggle-${q}`).filter({ hasText: "Answer here" }).waitFor(WAIT);
  }
}

/** A tester user who asks for a person; returns the relay's conversation id. */
async function handedOver(page, name, email = "someone@example.com") {
  const c = (await api(page, "POST", "/tester/conversations", { name, email, language: "en" })).body;
  await api(page, "POST", `/tester/conversations/${c.id}/messages`, { quickReply: { title: "Talk to a person", payload: "agent" } });
  return c.id;
}

const relayView = async (page, id) => (await api(page, "GET", `/conversations/${id}`)).body;
const gatewayOf = async (page, id) => until(async () => (await relayView(page, id)).conversation.gatewayId, "the 8x8 conversation");

/** Accepts the offer for `name` and waits for its chat to open. */
async function accept(page, id, name) {
  const offer = page.getByTestId("offer").filter({ hasText: name });
  await offer.getByTestId("offer-accept").click(WAIT);
  const gateway = await gatewayOf(page, id);
  await page.getByTestId("console-conversation").filter({ hasText: gateway }).waitFor(WAIT);
  return gateway;
}

const message = (page, text) => page.getByTestId("console-message").filter({ hasText: text });

test("the agent sees who the customer is (user data, JSON properties, history as sent to 8x8) and who wrote each message, when", async () => {
  const { context, page } = await openConsole(["102"]);
  const settings = (await api(page, "GET", "/settings")).body.settings;
  const withProperties = structuredClone(settings);
  withProperties.handover.jsonProperties = JSON.stringify({ Intent: "billing", Tier: "gold" });
  assert.equal((await api(page, "PUT", "/settings", { settings: withProperties, keys: {} })).status, 200);
  try {
    // Queue 101 stays with its scripted agent (Alex), who transfers to 102, answered here.
    const id = await handedOver(page, "Cora Contact", "cora@example.com");
    await until(async () => (await relayView(page, id)).transcript.some((e) => /Alex from Sandbox support/.test(e.text)), "Alex's greeting");
    await api(page, "POST", `/tester/conversations/${id}/messages`, { text: "please transfer me" });
    await page.getByTestId("offer").filter({ hasText: "Cora Contact" }).waitFor(WAIT);
    await accept(page, id, "Cora Contact");
    await page.getByTestId("console-input").fill("Hanna here, I have your account open.");
    await page.getByTestId("console-send").click();
    await message(page, "Hanna here, I have your account open.").waitFor(WAIT);

    const contact = page.getByTestId("contact-panel");
    await contact.getByText("cora@example.com").waitFor(WAIT);
    const contactText = await contact.innerText();
    assert.match(contactText, /Cora Contact/);
    const properties = await contact.getByTestId("contact-properties").innerText();
    assert.match(properties, /Intent\s+billing/);
    assert.match(properties, /Tier\s+gold/);
    const history = contact.getByTestId("contact-history");
    assert.match(await history.innerText(), /Talk to a person/);
    // The 8x8 history holds exactly what the relay sent in the create request.
    const sent = (await relayView(page, id)).conversation.handover.request.history.messages;
    assert.equal(await history.getByRole("listitem").count(), sent.length);

    // Each message: its author by name and kind, and its time.
    const author = async (text) => (await message(page, text).first().getByTestId("message-author").innerText()).trim();
    assert.match(await author("Talk to a person"), /Cora Contact/);
    assert.match(await author("Hi, this is Alex from Sandbox support"), /sandbox-agent-alex.*scripted/i);
    assert.match(await author("Let me transfer you to a colleague."), /sandbox-agent-alex.*scripted/i);
    assert.match(await author("Hanna here, I have your account open."), new RegExp(`You.*${ME}`));
    assert.doesNotMatch(await author("Hanna here, I have your account open."), /scripted/i);
    // Between the messages, who joined and who handed the chat on, in order.
    const events = await page.getByTestId("console-event").allInnerTexts();
    const alexLeft = events.findIndex((e) => /sandbox-agent-alex \(scripted agent\) transferred the chat to Sandbox escalations/.test(e));
    const meJoined = events.findIndex((e) => new RegExp(`You \\(${ME}\\) joined`).test(e));
    assert.ok(alexLeft >= 0 && meJoined > alexLeft, JSON.stringify(events));
    const fromBot = page.getByTestId("console-message").filter({ has: page.locator('[data-author-kind="bot"]') });
    assert.ok((await fromBot.count()) > 0, "the bot's messages are marked as the bot's");
    for (const text of ["Talk to a person", "Hanna here, I have your account open."]) {
      const time = message(page, text).first().locator("time");
      assert.match(await time.innerText(), /\d{1,2}:\d{2}/);
      assert.ok(Date.parse(await time.getAttribute("datetime")) > 0);
    }
    await page.screenshot({ path: join(artifacts, "agent-console-contact.png"), fullPage: true });
    await page.getByTestId("console-end").click();
    await page.getByTestId("console-locked").waitFor(WAIT);
  } finally {
    await api(page, "PUT", "/settings", { settings, keys: {} });
    await giveBack(page, ["102"]);
    await context.close();
  }
});

test("after a transfer the chat is read-only, says where it went, the emulator refuses the old agent, and no Accept flashes for the scripted queue", async () => {
  const { context, page } = await openConsole(["101"]);
  try {
    const id = await handedOver(page, "Tara Transfer");
    const gateway = await accept(page, id, "Tara Transfer");
    // Record every Accept button that ever shows from here on (it flashed for ~2 s).
    await page.evaluate(() => {
      window.__accepts = [];
      new MutationObserver(() => {
        for (const b of document.querySelectorAll('[data-testid="offer-accept"]')) {
          window.__accepts.push(b.closest('[data-testid="offer"]')?.textContent ?? "");
        }
      }).observe(document.body, { childList: true, subtree: true });
    });
    // The queue the chat is in is no place to transfer it to.
    const targets = await page.getByTestId("console-transfer-queue").locator("option:not([disabled])").evaluateAll((os) => os.map((o) => o.value));
    assert.ok(targets.includes("102") && !targets.includes("101"), targets.join());
    await page.getByTestId("console-input").fill("a draft I had not sent");
    await page.getByTestId("console-transfer-queue").selectOption("102");
    await page.getByTestId("console-transfer").click();

    const note = page.getByTestId("console-locked");
    await note.waitFor(WAIT);
    assert.match(await note.innerText(), /Transferred to Sandbox escalations at \d{1,2}:\d{2}/);
    assert.match(await note.innerText(), /can no longer reply/);
    assert.equal(await page.getByTestId("console-input").isEditable(), false, "the composer is read-only");
    assert.equal(await page.getByTestId("console-input").inputValue(), "a draft I had not sent", "the typed text stays");
    for (const control of ["console-send", "console-transfer", "console-end"]) {
      assert.equal(await page.getByTestId(control).isDisabled(), true, `${control} is disabled`);
    }

    // The scripted agent of 102 takes it; the old agent's words are refused, as by 8x8.
    await message(page, "Hello, Sam here from escalations.").waitFor(WAIT);
    const refused = await api(page, "POST", `/sandbox/conversations/${gateway}/agent/say`, { agentId: ME, text: "still here?" });
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.code, "conflict");
    await api(page, "POST", `/tester/conversations/${id}/messages`, { text: "thanks Sam" });
    await until(async () => (await relayView(page, id)).transcript.some((e) => e.lane === "agent" && /You said: thanks Sam/.test(e.text)), "Sam's answer");
    const transcript = (await relayView(page, id)).transcript;
    assert.ok(!transcript.some((e) => /still here\?/.test(e.text)), "the customer never receives the old agent's message");
    const sam = transcript.find((e) => e.lane === "agent" && /Sam here/.test(e.text));
    assert.ok(sam, "Sam's greeting reached the customer");

    const flashed = await page.evaluate(() => window.__accepts);
    assert.deepEqual(flashed, [], "no Accept for a queue its scripted agent runs");
    assert.equal(await page.getByTestId("offer").count(), 0);

    // The note is read from the sandbox, and the console remembers who it is: a reload
    // shows the same.
    await page.reload();
    await page.getByTestId("console-chat").filter({ hasText: "Tara Transfer" }).click();
    await page.getByTestId("console-locked").filter({ hasText: "Transferred to Sandbox escalations" }).waitFor(WAIT);
    assert.equal(await page.getByTestId("console-agent-id").inputValue(), ME);
  } finally {
    await giveBack(page, ["101"]);
    await context.close();
  }
});

test("after End the chat is read-only with a note; a send the emulator refuses keeps the text and says why", async () => {
  const { context, page } = await openConsole(["101"]);
  try {
    const ended = await handedOver(page, "Ella End");
    await accept(page, ended, "Ella End");
    await page.getByTestId("console-end").click();
    const note = page.getByTestId("console-locked");
    await note.waitFor(WAIT);
    assert.match(await note.innerText(), /You ended this chat at \d{1,2}:\d{2}/);
    assert.equal(await page.getByTestId("console-input").isEditable(), false);
    for (const control of ["console-send", "console-transfer", "console-end"]) {
      assert.equal(await page.getByTestId(control).isDisabled(), true, `${control} is disabled`);
    }

    // A chat that ends while the console has not heard of it yet: the send is refused.
    const left = await handedOver(page, "Leo Leaves");
    const gateway = await accept(page, left, "Leo Leaves");
    // The console's reads of this chat are held back, so it still shows the chat as its own.
    const held = [];
    let holding = true;
    const chatUrl = (url) => url.pathname === `/api/sandbox/conversations/${gateway}`;
    await page.route(chatUrl, (route) => (holding ? held.push(route) : route.continue()));
    await api(page, "POST", `/tester/conversations/${left}/leave`);
    await until(async () => (await api(page, "GET", `/sandbox/conversations/${gateway}`)).body.agent === null, "the agent to be freed");
    await page.getByTestId("console-input").fill("Are you still there, Leo?");
    await page.getByTestId("console-send").click();
    holding = false;
    for (const r of held.splice(0)) await r.continue();
    const alert = page.getByTestId("console-send-error");
    await alert.waitFor(WAIT);
    const said = await alert.innerText();
    assert.match(said, /not sent/i);
    assert.match(said, /customer left/i);
    assert.doesNotMatch(said, /no agent is handling|no longer handles conversation/);
    assert.equal(await page.getByTestId("console-input").inputValue(), "Are you still there, Leo?", "the text is kept");
    await page.getByTestId("console-locked").filter({ hasText: /customer left/i }).waitFor(WAIT);
    await page.screenshot({ path: join(artifacts, "agent-console-refused.png"), fullPage: true });
  } finally {
    await giveBack(page, ["101"]);
    await context.close();
  }
});

test("at 800 px nothing overflows and the composer and contact panel are usable", async () => {
  for (const [width, scheme] of [[800, "light"], [800, "dark"], [1440, "light"], [1440, "dark"]]) {
    const context = await env.browser.newContext({ viewport: { width, height: 900 }, colorScheme: scheme });
    const page = await context.newPage();
    await page.goto(env.server.adminUrl);
    await page.getByTestId("live-state").waitFor();
    await page.goto(`${env.server.adminOrigin}/agent-console`);
    await page.getByTestId("queue-toggle-101").filter({ hasText: "Answer here" }).click();
    await page.getByTestId("console-agent-id").fill(ME);
    const id = await handedOver(page, `Wendy ${width} ${scheme}`, "wendy.with.a.rather.long.address@example.com");
    await accept(page, id, `Wendy ${width} ${scheme}`);
    await page.getByTestId("contact-panel").getByText("wendy.with.a.rather.long.address@example.com").waitFor(WAIT);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px at ${width} px`);
    for (const id of ["console-input", "console-send", "contact-panel", "console-end"]) {
      const box = await page.getByTestId(id).boundingBox();
      assert.ok(box && box.width > 0 && box.x >= 0 && box.x + box.width <= width, `${id} fits at ${width} px: ${JSON.stringify(box)}`);
    }
    await page.getByTestId("console-input").fill("Typing at " + width);
    await page.getByTestId("console-send").click();
    await message(page, `Typing at ${width}`).waitFor(WAIT);
    await page.screenshot({ path: join(artifacts, `agent-console-${width}-${scheme}.png`), fullPage: true });
    await page.getByTestId("console-end").click();
    await page.getByTestId("console-locked").waitFor(WAIT);
    await page.screenshot({ path: join(artifacts, `agent-console-${width}-${scheme}-ended.png`), fullPage: true });
    await giveBack(page, ["101"]);
    await context.close();
  }
});
