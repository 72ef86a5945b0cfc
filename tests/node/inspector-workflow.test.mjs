// The event inspector as someone chasing a problem uses it: the detail stays in view
// whichever row is clicked, the list has room and says what happened in plain words; a
// replay opens the new delivery and follows it to its outcome; every call to 8x8 shows
// its method, URL, status, duration and answer (never the API key); a synthetic event's
// conversation id is the one in its body, picked from the conversations or typed, and a
// placeholder is refused.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startServer } from "./lib/relay.mjs";
import { api, launch, signedIn, until } from "./lib/browser.mjs";

const WAIT = { timeout: 20_000 };
const SHOTS = process.env.SHOTS_DIR ?? "/tmp/shots/inspector";
mkdirSync(SHOTS, { recursive: true });
let server;
let browser;
let gatewayId;
let setupPage;

before(async () => {
  server = await startServer();
  browser = await launch();
  // A handover with the sandbox's agent, then enough events for a list that scrolls.
  const { context, page } = await signedIn(browser, server);
  setupPage = context;
  const conv = (await api(page, "POST", "/tester/conversations", { name: "Ines Inspector", language: "en" })).body;
  await api(page, "POST", `/tester/conversations/${conv.id}/messages`, { quickReply: { title: "Talk to a person", payload: "agent" } });
  await until(async () => (await api(page, "GET", `/conversations/${conv.id}`)).body.transcript.some((e) => e.lane === "agent"), "the agent's greeting");
  gatewayId = (await api(page, "GET", `/conversations/${conv.id}`)).body.conversation.gatewayId;
  for (let i = 0; i < 40; i++) {
    const r = await api(page, "POST", "/inspector/synthetic", { template: "ACTIVITY/typing", conversationId: gatewayId });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
});

after(async () => {
  await setupPage?.close();
  await browser?.close();
  await server?.stop();
});

async function open(width = 1440, colorScheme = "light") {
  const context = await browser.newContext({ viewport: { width, height: 900 }, colorScheme });
  const page = await context.newPage();
  await page.goto(server.adminUrl);
  await page.getByTestId("live-state").waitFor();
  await page.goto(`${server.adminOrigin}/inspector`);
  await page.getByTestId("delivery-group").nth(20).waitFor(WAIT);
  return { context, page };
}

/** Words split over two lines anywhere in `root` (e.g. "conversatio" / "n"). */
function brokenWords(root) {
  return root.evaluate((el) => {
    const broken = [];
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.textContent.matchAll(/\S+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        if (tops.size > 1) broken.push(m[0]);
      }
    }
    return broken;
  });
}

test("the detail stays in view when a lower row is opened; the list has room and says what happened in plain words", async () => {
  for (const width of [1440, 800]) {
    const { context, page } = await open(width);
    const list = page.getByTestId("deliveries");
    if (width === 1440) {
      const box = await list.boundingBox();
      assert.ok(box.width >= 760, `the list is ${box.width} px wide at ${width}`);
    }
    assert.deepEqual(await brokenWords(list), [], `no word broken over two lines at ${width} px`);
    await page.screenshot({ path: join(SHOTS, `list-${width}.png`) });
    // Outcomes in plain words: no internal references, no engine shorthand.
    const outcomes = await page.getByTestId("delivery-outcome").allInnerTexts();
    assert.ok(outcomes.length > 20);
    for (const o of outcomes) {
      assert.doesNotMatch(o, /\(P\d+\)|echo ignored|activity ignored/, o);
      assert.match(o, /^[A-Z0-9]/, `a sentence: ${o}`);
    }
    // A row far down: its detail is on screen at once, without scrolling back up.
    const row = page.getByTestId("delivery-group").nth(30);
    await row.scrollIntoViewIfNeeded();
    await row.getByTestId("delivery-open").click();
    const heading = page.getByTestId("delivery-detail").locator("h3");
    await heading.waitFor(WAIT);
    const h = await heading.boundingBox();
    assert.ok(h.y >= 0 && h.y + h.height <= 900, `the detail's heading is in view at ${width} px (y = ${h.y})`);
    const selected = await page.locator('[data-testid="delivery-group"].selected').count();
    assert.equal(selected, 1);
    // Beside the list, nothing of the list is under the detail: both can be read.
    if (width === 1440) {
      const [l, d] = [await list.boundingBox(), await page.getByTestId("delivery-detail").boundingBox()];
      assert.ok(l.x + l.width <= d.x, `the list (to ${l.x + l.width}) ends before the detail (at ${d.x})`);
      assert.ok(l.width >= 760, `the list keeps ${l.width} px beside the detail`);
    }
    for (const scheme of ["light", "dark"]) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({ path: join(SHOTS, `deliveries-${width}-${scheme}.png`) });
    }
    await context.close();
  }
});

test("a replay opens the new delivery and follows it to its outcome", async () => {
  const { context, page } = await open();
  const groups = (await api(page, "GET", "/inspector/deliveries?limit=200")).body.groups;
  const message = groups.find((g) => g.conversationId === gatewayId && g.eventType === "MESSAGE" && g.deliveries[0].status === "processed");
  assert.ok(message, "a processed MESSAGE delivery");
  const row = page.locator(`[data-testid="delivery-group"][data-event-id="${message.eventId}"]`);
  await row.getByTestId("delivery-open").click();
  await page.getByTestId("delivery-detail").waitFor(WAIT);
  await page.getByTestId("replay-reprocess").click();

  const result = page.getByTestId("replay-result");
  await result.waitFor(WAIT);
  const link = result.getByRole("link").first();
  const newId = Number((await link.innerText()).match(/\d+/)[0]);
  assert.ok(newId > message.deliveries[0].id, `the new delivery: ${await result.innerText()}`);
  // The new delivery is the one open, and its outcome arrives without a reload.
  const newHeading = page.getByTestId("delivery-detail").locator("h3").filter({ hasText: `Delivery ${newId}` });
  await newHeading.waitFor(WAIT);
  const h = await newHeading.boundingBox();
  assert.ok(h.y >= 0 && h.y + h.height <= 900, `the new delivery's heading is in view (y = ${h.y})`);
  assert.ok(await result.isVisible());
  await page.getByTestId("detail-status").filter({ hasText: /^processed/ }).waitFor(WAIT);
  await result.filter({ hasText: /processed/i }).waitFor(WAIT);
  // Its row in the list is the one marked, once the list has it.
  const selectedRow = page.locator('[data-testid="delivery-group"].selected');
  await selectedRow.filter({ hasText: `replay of delivery ${message.deliveries[0].id}` }).waitFor(WAIT);
  assert.equal(await selectedRow.count(), 1);
  assert.match(await selectedRow.getAttribute("data-event-id"), /^replay-/);
  const r = await selectedRow.boundingBox();
  assert.ok(r.y >= 0 && r.y < 900, `the new delivery's row is brought into view (y = ${r.y})`);
  await page.screenshot({ path: join(SHOTS, "replay-followed.png") });
  await context.close();
});

test("every call to 8x8 shows its method, URL, HTTP status, duration and answer, never the API key", async () => {
  for (const [width, scheme] of [[1440, "light"], [800, "dark"]]) {
    const { context, page } = await open(width, scheme);
    await page.getByTestId("tab-outbox").click();
    const created = page.getByTestId("outbox-row").filter({ hasText: "createConversation" }).first();
    await created.waitFor(WAIT);
    assert.match(await created.getByTestId("outbox-http").innerText(), /^2\d\d$/);
    assert.match(await created.getByTestId("outbox-duration").innerText(), /^\d+ ms$/);
    await created.getByTestId("outbox-expand").click();
    const exchange = page.getByTestId("outbox-exchange");
    await exchange.waitFor(WAIT);
    const text = await exchange.innerText();
    assert.match(text, /POST\s+http:\/\/127\.0\.0\.1:\d+\/chat-gateway\/v1\/conversations/);
    assert.match(text, /→\s*2\d\d in \d+ ms/);
    assert.match(text, /\d+ ms/);
    assert.match(await page.getByTestId("outbox-response").innerText(), /conversationId/);
    assert.doesNotMatch(await page.content(), /sandbox-key/);
    // A message: 8x8 answers 202 with no body, and says so.
    const sent = page.getByTestId("outbox-row").filter({ hasText: "sendMessage" }).first();
    if (await sent.count()) assert.match(await sent.getByTestId("outbox-http").innerText(), /^20[02]$/);
    await page.screenshot({ path: join(SHOTS, `outbox-${width}-${scheme}.png`) });
    await context.close();
  }
  // The stored entry carries it for the API too.
  const { context, page } = await open();
  const entries = (await api(page, "GET", "/inspector/outbox?limit=50")).body.entries;
  const create = entries.find((e) => e.operation === "createConversation");
  assert.equal(create.exchange.method, "POST");
  assert.ok(create.exchange.durationMs >= 0);
  assert.equal(create.lastStatus, create.exchange.status);
  await context.close();
});

test("a synthetic event's conversation id follows the field, can be picked, and a placeholder is refused", async () => {
  const { context, page } = await open();
  await page.getByTestId("tab-synthetic").click();
  const field = page.getByTestId("synthetic-conversation");
  const body = page.getByTestId("synthetic-body");
  await until(async () => (await body.inputValue()).includes('"eventType"'), "a template in the editor");
  // Typed: the body follows at once, no "Reset from template" needed.
  await field.fill("typed-conversation-1");
  await until(async () => JSON.parse(await body.inputValue()).conversationId === "typed-conversation-1", "the body to follow the field");
  // Picked from the conversations the relay knows.
  const pick = page.getByTestId("synthetic-pick");
  await pick.selectOption(gatewayId);
  assert.equal(await field.inputValue(), gatewayId);
  assert.equal(JSON.parse(await body.inputValue()).conversationId, gatewayId);
  // Another template keeps the id.
  await page.getByTestId("synthetic-template").selectOption("MESSAGE");
  await until(async () => {
    const v = JSON.parse(await body.inputValue());
    return v.eventType === "MESSAGE" && v.conversationId === gatewayId;
  }, "the MESSAGE template for the picked conversation");

  // A placeholder is refused with a clear error, in the page and at the relay.
  const before = (await api(page, "GET", "/inspector/deliveries?limit=1")).body.groups[0].latestId;
  await field.fill("CONVERSATION_ID");
  await page.getByTestId("synthetic-inject").click();
  const error = page.getByTestId("synthetic-error");
  await error.waitFor(WAIT);
  assert.match(await error.innerText(), /placeholder/i);
  const r = await api(page, "POST", "/inspector/synthetic", {
    template: "MESSAGE",
    conversationId: "CONVERSATION_ID",
    body: { eventType: "MESSAGE", conversationId: "CONVERSATION_ID", timestamp: Date.now(), data: { text: "x", isEcho: false, sender: { id: "a", type: "agent" } } },
  });
  assert.equal(r.status, 422);
  assert.match(r.body.message, /placeholder/i);
  assert.equal((await api(page, "GET", "/inspector/deliveries?limit=1")).body.groups[0].latestId, before, "nothing stored");
  // What was typed is kept.
  assert.equal(JSON.parse(await body.inputValue()).eventType, "MESSAGE");
  await page.screenshot({ path: join(SHOTS, "synthetic-refused.png") });
  await context.close();
});
