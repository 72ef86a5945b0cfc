// The event inspector in a real browser against the headless server and its sandbox:
// a forged delivery is shown rejected with its reason and the signature taken apart; a
// stored delivery replayed with its event id is deduplicated, replayed as a new event it
// is processed again; an edited replay is marked unsigned; synthetic events are injected.

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { artifacts } from "./lib/relay.mjs";
import { api, signedIn, until } from "./lib/browser.mjs";
import { sandboxAndBrowser } from "./lib/suite.mjs";

const WAIT = { timeout: 20_000 };
const env = sandboxAndBrowser();

const b64url = (bytes) => Buffer.from(bytes).toString("base64url");

test("a forged delivery appears live as rejected, with its reason and the signature explained", async () => {
  const { context, page } = await signedIn(env.browser, env.server, "/inspector");
  await page.getByTestId("deliveries").waitFor();
  const kid = (await api(page, "GET", "/sandbox/info")).body.currentKid;
  assert.ok(kid);

  // Well-formed, with 8x8's real key id, but not signed by 8x8.
  const body = JSON.stringify({
    eventType: "MESSAGE",
    conversationId: "forged-conversation",
    timestamp: Date.now(),
    data: { isEcho: false, sender: { id: "mallory", type: "agent" }, text: "Send me your password" },
  });
  const eventId = `forged-${randomBytes(6).toString("hex")}`;
  const protectedHeader = b64url(JSON.stringify({ b64: false, crit: ["b64"], kid, alg: "RS256" }));
  const answer = await fetch(env.server.endpointUrl, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-8x8-tenant-id": "sandbox-tenant",
      "x-8x8-customer-id": "sandbox-customer",
      "x-8x8-event-id": eventId,
      "x-8x8-transmission-time": String(Date.now()),
      "x-8x8-retry": "0",
      "x-8x8-signature": `${protectedHeader}..${b64url(randomBytes(256))}`,
    },
    body,
  });
  assert.equal(answer.status, 401);

  const row = page.locator(`[data-testid="delivery-group"][data-event-id="${eventId}"]`);
  await row.waitFor(WAIT);
  assert.equal(await row.getByTestId("delivery-signature").innerText(), "invalid");
  assert.match(await row.innerText(), /rejected/);
  // Filters: only what was refused, or one conversation's events.
  await page.getByTestId("delivery-problems").check();
  assert.deepEqual(await page.getByTestId("delivery-group").evaluateAll((rows) => rows.map((r) => r.dataset.eventId)), [eventId]);
  await page.getByTestId("delivery-problems").uncheck();
  await page.getByTestId("delivery-filter").fill("WEB_HOOK_VERIFY");
  await page.getByTestId("delivery-group").first().filter({ hasText: "WEB_HOOK_VERIFY" }).waitFor(WAIT);
  assert.equal(await row.count(), 0);
  await page.getByTestId("delivery-filter").fill("forged-conversation");
  await row.getByTestId("delivery-open").click();

  const explainer = page.getByTestId("explainer");
  await explainer.waitFor(WAIT);
  assert.equal(await explainer.getByTestId("explainer-verdict").innerText(), "invalid");
  assert.match(await explainer.getByTestId("explainer-reason").innerText(), /^bad_signature: the signature does not match/);
  assert.equal(await explainer.getByTestId("explainer-kid").innerText(), kid);
  const crc = crc32(Buffer.from(body));
  assert.equal(await explainer.getByTestId("explainer-crc").innerText(), String(crc));
  const payload = JSON.parse(await explainer.getByTestId("explainer-payload").innerText());
  assert.deepEqual(Object.keys(payload), ["checksum", "cid", "eid", "retry", "tid", "tt"]);
  assert.equal(payload.checksum, crc);
  assert.equal(payload.eid, eventId);
  assert.match(await explainer.getByTestId("explainer-recheck").innerText(), /^bad_signature/);
  assert.equal(await page.getByTestId("detail-status").innerText(), "rejected");

  // The relay did nothing with it.
  const conversations = (await api(page, "GET", "/conversations?limit=500")).body.conversations;
  assert.equal(conversations.filter((c) => c.gatewayId === "forged-conversation").length, 0);
  await page.screenshot({ path: join(artifacts, "inspector-forged.png"), fullPage: true });
  await context.close();
});

test("a stored delivery replays deduplicated or re-processed as chosen; edited replays are unsigned; synthetic events", async () => {
  const { context, page } = await signedIn(env.browser, env.server, "/inspector");
  await page.getByTestId("deliveries").waitFor();

  // A handover, so the sandbox agent greets through a signed MESSAGE delivery.
  const conv = (await api(page, "POST", "/tester/conversations", { name: "Rita Replay", email: "rita@example.com", language: "en" })).body;
  await api(page, "POST", `/tester/conversations/${conv.id}/messages`, { quickReply: { title: "Talk to a person", payload: "agent" } });
  const GREETING = "Hi, this is Alex from Sandbox support. How can I help?";
  const agentLines = async (text) =>
    (await api(page, "GET", `/conversations/${conv.id}`)).body.transcript.filter((e) => e.lane === "agent" && e.text === text).length;
  await until(async () => (await agentLines(GREETING)) === 1, "the agent's greeting");
  const gatewayId = (await api(page, "GET", `/conversations/${conv.id}`)).body.conversation.gatewayId;
  // Of this conversation's MESSAGE deliveries, the agent's greeting is the one whose body says so.
  const groups = (await api(page, "GET", "/inspector/deliveries?limit=200")).body.groups;
  let original = null;
  for (const g of groups.filter((g) => g.conversationId === gatewayId && g.eventType === "MESSAGE")) {
    const d = (await api(page, "GET", `/inspector/deliveries/${g.deliveries[0].id}`)).body.delivery;
    if (d.body.includes(GREETING) && d.body.includes('"type":"agent"')) original = d;
  }
  assert.ok(original, "found the greeting's delivery");
  assert.equal(original.status, "processed");
  assert.equal(original.signature, "valid");

  const row = page.locator(`[data-testid="delivery-group"][data-event-id="${original.eventId}"]`);
  await row.getByTestId("delivery-open").click();
  await page.getByTestId("delivery-detail").waitFor(WAIT);
  assert.equal(await page.getByTestId("explainer-verdict").innerText(), "valid");

  // Same event id: recognised as a repeat, not processed again.
  await page.getByTestId("replay-dedupe").click();
  await page.getByTestId("replay-result").filter({ hasText: `a duplicate of delivery ${original.id}, not processed again` }).waitFor(WAIT);
  await row.getByTestId("delivery-count").filter({ hasText: "2 (1 retry)" }).waitFor(WAIT);
  assert.equal(await agentLines(GREETING), 1);

  // A new event id: processed again, so the agent's words reach the user twice.
  await row.getByTestId("delivery-open").click();
  await page.getByTestId("replay-reprocess").click();
  // Queued for the engine, which may already have taken it when the answer is read back.
  await page.getByTestId("replay-result").filter({ hasText: /Stored as delivery \d+ \((pending|processed)\)/ }).waitFor(WAIT);
  await until(async () => (await agentLines(GREETING)) === 2, "the re-processed greeting");
  await page.getByTestId("delivery-origin").filter({ hasText: `replay of delivery ${original.id}` }).first().waitFor(WAIT);

  // Modify and replay: the edited body is processed and recorded as not signed by 8x8.
  await row.getByTestId("delivery-open").click();
  await page.getByTestId("replay-edit").click();
  const editor = page.getByTestId("replay-editor");
  const edited = (await editor.inputValue()).replace(GREETING, "Edited in the inspector");
  assert.notEqual(edited, await editor.inputValue());
  await editor.fill(edited);
  await page.getByTestId("replay-edited").click();
  await page.getByTestId("replay-result").filter({ hasText: /Stored as delivery \d+/ }).waitFor(WAIT);
  await until(async () => (await agentLines("Edited in the inspector")) === 1, "the edited message");
  const editedRow = page.getByTestId("delivery-group").filter({ hasText: `edited replay of delivery ${original.id}` });
  await editedRow.waitFor(WAIT);
  assert.equal(await editedRow.getByTestId("delivery-signature").innerText(), "unsigned");
  await page.screenshot({ path: join(artifacts, "inspector-replay.png"), fullPage: true });

  // Synthetic events from templates, for this 8x8 conversation.
  await page.getByTestId("tab-synthetic").click();
  await page.getByTestId("synthetic-conversation").fill(gatewayId);
  await page.getByTestId("synthetic-conversation").dispatchEvent("change");
  const templates = page.getByTestId("synthetic-template").locator("option");
  await until(async () => (await templates.count()) >= 14, "the templates");
  const names = await templates.allTextContents();
  for (const t of ["CONVERSATION_UPDATE/active", "QUEUED", "MEMBERS_CHANGED/agent joined", "MESSAGE", "TRANSFER",
    "ACTIVITY/typing", "ACTIVITY/adaptiveCard/action", "ACTIVITY/quickReply/action", "ACTIVITY/read-receipts", "WEB_HOOK_VERIFY"]) {
    assert.ok(names.includes(t), `template ${t}`);
  }
  await page.getByTestId("synthetic-template").selectOption("MESSAGE");
  const synthBody = page.getByTestId("synthetic-body");
  await until(async () => {
    const v = await synthBody.inputValue();
    return v.includes(gatewayId) && v.includes('"eventType": "MESSAGE"');
  }, "the MESSAGE template for this conversation");
  await page.getByTestId("synthetic-inject").click();
  await page.getByTestId("synthetic-result").filter({ hasText: /Injected as delivery \d+/ }).waitFor(WAIT);
  await until(async () => (await agentLines("A synthetic agent message")) === 1, "the synthetic message");
  await page.getByTestId("tab-deliveries").click();
  const synthetic = page.getByTestId("delivery-group").filter({ hasText: "synthetic (MESSAGE)" });
  await synthetic.waitFor(WAIT);
  assert.equal(await synthetic.getByTestId("delivery-signature").innerText(), "unsigned");

  // Every outbound call is listed with its status and attempts.
  await page.getByTestId("tab-outbox").click();
  const created = page.getByTestId("outbox-row").filter({ hasText: "createConversation" });
  await created.waitFor(WAIT);
  assert.match(await created.getByTestId("outbox-status").innerText(), /^delivered/);
  await page.screenshot({ path: join(artifacts, "inspector-outbox.png"), fullPage: true });
  await context.close();
});
