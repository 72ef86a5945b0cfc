// The conversations page in a real browser against the headless server: transcript
// export (JSON and CSV, with and without masking), and a list of 10,000 conversations
// that stays virtualised, pages in as the reader scrolls, and filters and searches.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { artifacts } from "./lib/relay.mjs";
import { api, signedIn } from "./lib/browser.mjs";
import { sandboxAndBrowser } from "./lib/suite.mjs";

const WAIT = { timeout: 20_000 };
const env = sandboxAndBrowser();

async function downloadText(page, button) {
  const [download] = await Promise.all([page.waitForEvent("download"), button.click()]);
  return { name: download.suggestedFilename(), text: await readFile(await download.path(), "utf8") };
}

/** RFC 4180 rows (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") row.push(field), (field = "");
    else if (ch === "\r" && text[i + 1] === "\n") row.push(field), rows.push(row), (row = []), (field = ""), i++;
    else field += ch;
  }
  assert.equal(field, "", "the CSV ends with a line break");
  return rows;
}

test("a transcript exports as JSON and CSV, with emails and phone numbers masked on request", async () => {
  const { context, page } = await signedIn(env.browser, env.server);
  const conv = (
    await api(page, "POST", "/tester/conversations", {
      name: "Eve Export",
      email: "eve.export@example.com",
      language: "en",
      phone: "+44 20 7946 0958",
    })
  ).body;
  const words = 'Call me on +44 20 7946 0958 or mail eve.export@example.com, she said "today"';
  assert.equal((await api(page, "POST", `/tester/conversations/${conv.id}/messages`, { text: words })).status, 200);
  const transcript = (await api(page, "GET", `/conversations/${conv.id}`)).body.transcript;
  assert.ok(transcript.length >= 3, "greeting, the user's words and the bot's answer");

  await page.goto(`${env.server.adminOrigin}/conversations?c=${conv.id}`);
  const detail = page.getByTestId("conversation-detail");
  await detail.getByTestId("entry").filter({ hasText: "she said" }).waitFor(WAIT);

  // Unmasked JSON: the conversation and every line, as stored.
  await detail.getByTestId("export-mask").uncheck();
  const plain = await downloadText(page, detail.getByTestId("export-json"));
  assert.equal(plain.name, `transcript-${conv.id}.json`);
  const doc = JSON.parse(plain.text);
  assert.equal(doc.conversation.id, conv.id);
  assert.equal(doc.conversation.user.email, "eve.export@example.com");
  assert.deepEqual(
    doc.transcript.map((e) => [e.lane, e.direction, e.text, e.at]),
    transcript.map((e) => [e.lane, e.direction, e.text, new Date(e.atMs).toISOString()]),
  );

  // Masked JSON: no address or number left anywhere, the rest unchanged.
  await detail.getByTestId("export-mask").check();
  const masked = await downloadText(page, detail.getByTestId("export-json"));
  assert.equal(masked.name, `transcript-${conv.id}-masked.json`);
  assert.doesNotMatch(masked.text, /eve\.export@example\.com|7946|0958/);
  const maskedDoc = JSON.parse(masked.text);
  assert.equal(maskedDoc.conversation.user.email, "e***@example.com");
  assert.equal(maskedDoc.conversation.user.phone, "+***58");
  assert.equal(maskedDoc.conversation.user.name, "Eve Export");
  const userLine = maskedDoc.transcript.find((e) => e.lane === "user");
  assert.equal(userLine.text, 'Call me on +***58 or mail e***@example.com, she said "today"');
  assert.equal(maskedDoc.transcript.length, transcript.length);

  // CSV: a header and one row per line, quoted where needed; masked too.
  const csv = await downloadText(page, detail.getByTestId("export-csv"));
  assert.equal(csv.name, `transcript-${conv.id}-masked.csv`);
  const rows = parseCsv(csv.text);
  assert.deepEqual(rows[0], ["time", "lane", "direction", "text"]);
  assert.equal(rows.length, transcript.length + 1);
  assert.deepEqual(rows.find((r) => r[1] === "user"), [
    new Date(transcript.find((e) => e.lane === "user").atMs).toISOString(),
    "user",
    "local",
    'Call me on +***58 or mail e***@example.com, she said "today"',
  ]);
  await detail.getByTestId("export-mask").uncheck();
  const plainCsv = parseCsv((await downloadText(page, detail.getByTestId("export-csv"))).text);
  assert.equal(plainCsv.find((r) => r[1] === "user")[3], words);
  await context.close();
});

test("10,000 conversations: the list stays virtualised, pages in on scroll, filters and searches", async () => {
  const { context, page } = await signedIn(env.browser, env.server);
  // The server's pages are stood in for, so the list can be tried at this size quickly;
  // the paging contract is the real one (newest first, `before` = last createdAtMs).
  const TOTAL = 10_000;
  const phases = ["bot", "queued", "agent", "ended"];
  const start = Date.now() - TOTAL * 1000;
  const all = Array.from({ length: TOTAL }, (_, i) => {
    const n = TOTAL - i; // newest first
    return {
      id: `load-${n}`, mode: n % 3 === 0 ? "endpoint" : "handover", phase: phases[n % 4], gatewayId: null, state: null,
      channelId: null, user: { name: `Load User ${n}`, email: `load${n}@example.com`, language: "en" }, greeted: true,
      queueId: null, queueName: null, agentId: null, transferPending: false, handover: null,
      createdAtMs: start + n * 1000, updatedAtMs: start + n * 1000, queuedAtMs: n % 4 === 1 ? start + n * 1000 : null,
      agentJoinedAtMs: null, firstAgentReplyAtMs: null, endedAtMs: null, lastUserAtMs: null, lastText: `message ${n}`,
    };
  });
  let pagesServed = 0;
  await page.route(/\/api\/conversations\?/, (route) => {
    const url = new URL(route.request().url());
    const limit = Number(url.searchParams.get("limit"));
    const before = url.searchParams.get("before");
    const rest = before === null ? all : all.filter((c) => c.createdAtMs < Number(before));
    pagesServed += 1;
    route.fulfill({ json: { conversations: rest.slice(0, limit) } });
  });
  await page.goto(`${env.server.adminOrigin}/conversations`);
  const rows = page.getByTestId("conv-row");
  await rows.first().waitFor(WAIT);
  assert.equal(await rows.first().locator(".name").innerText(), `Load User ${TOTAL}`);
  assert.ok((await rows.count()) < 40, "only the rows in view exist");

  // Scrolling to the end pages everything in, newest first, while the DOM stays small.
  const scroller = page.locator(".scroller");
  const count = page.getByTestId("conv-count");
  const began = Date.now();
  for (;;) {
    const shown = await count.innerText();
    if (shown.startsWith(`${TOTAL} shown of ${TOTAL} loaded`)) break;
    await scroller.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    // The next page arrives: the count changes.
    await page.waitForFunction((before) => document.querySelector('[data-testid="conv-count"]')?.textContent !== before, shown, WAIT);
    assert.ok(Date.now() - began < 60_000, "all pages within a minute");
  }
  assert.ok(pagesServed >= TOTAL / 500, `paged (${pagesServed} pages)`);
  await scroller.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
  await page.getByTestId("conv-row").filter({ hasText: "Load User 1" }).last().waitFor(WAIT);
  assert.ok((await rows.count()) < 40, `virtualised at the end too (${await rows.count()} rows)`);

  // The list works from the keyboard: the arrows open the next row and keep focus on it.
  await scroller.evaluate((el) => el.scrollTo({ top: 0 }));
  // The rows in view follow the scroll event: wait for the top row before focusing it.
  await rows.filter({ hasText: `Load User ${TOTAL}` }).first().waitFor(WAIT);
  await rows.filter({ hasText: `Load User ${TOTAL}` }).first().focus();
  await page.keyboard.press("ArrowDown");
  await page.locator('[data-testid="conv-row"][aria-current="true"]').filter({ hasText: `Load User ${TOTAL - 1}` }).waitFor(WAIT);
  await page.keyboard.press("ArrowDown");
  await page.locator('[data-testid="conv-row"][aria-current="true"]').filter({ hasText: `Load User ${TOTAL - 2}` }).waitFor(WAIT);
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("data-id")), `load-${TOTAL - 2}`);

  // Search and filters work over everything loaded.
  await page.getByTestId("conv-search").fill("load4242@example.com");
  await count.filter({ hasText: /^1 shown of 10000 loaded/ }).waitFor(WAIT);
  assert.equal(await rows.first().locator(".name").innerText(), "Load User 4242");
  await page.getByTestId("conv-search").fill("");
  await page.getByTestId("conv-phase").selectOption("queued");
  await count.filter({ hasText: /^2500 shown of 10000 loaded/ }).waitFor(WAIT);
  await page.getByTestId("conv-mode").selectOption("endpoint");
  // n % 4 === 1 and n % 3 === 0: n ≡ 9 (mod 12), 833 of them up to 10,000.
  await count.filter({ hasText: /^833 shown of 10000 loaded/ }).waitFor(WAIT);
  for (const name of await rows.locator(".name").allInnerTexts()) {
    const n = Number(name.replace("Load User ", ""));
    assert.equal(n % 12, 9, name);
  }
  await page.screenshot({ path: join(artifacts, "conversations-10k.png") });
  await context.close();
});

test("a search ignores accents and case, in the page and at the relay", async () => {
  const { context, page } = await signedIn(env.browser, env.server);
  const zoe = (await api(page, "POST", "/tester/conversations", { name: "Zoë Ångström", email: "zoe@example.com", language: "sv" })).body;
  await api(page, "POST", "/tester/conversations", { name: "Zoran Angst", email: "zoran@example.com", language: "en" });

  // The relay's search (what the page asks for beyond what it holds).
  for (const words of ["zoe angstrom", "ZOË ÅNGSTRÖM", "Angström"]) {
    const found = (await api(page, "GET", `/conversations?q=${encodeURIComponent(words)}&limit=50`)).body;
    const ids = found.conversations.map((c) => c.id);
    assert.deepEqual(ids, [zoe.id], `the relay's search for ${words}`);
  }

  // The page's own filter over what it holds agrees.
  await page.goto(`${env.server.adminOrigin}/conversations`);
  const rows = page.getByTestId("conv-row");
  await rows.filter({ hasText: "Zoran Angst" }).waitFor(WAIT);
  await page.getByTestId("conv-search").fill("zoe angstrom");
  await rows.filter({ hasText: "Zoë Ångström" }).waitFor(WAIT);
  await rows.filter({ hasText: "Zoran Angst" }).waitFor({ state: "detached", ...WAIT });
  assert.equal(await rows.count(), 1);
  await context.close();
});
