// The conversations page on a relay holding thousands of conversations (a database seeded
// by bench-store, shaped like the engine's own): searches and filters are answered by the
// relay over every conversation, not only the pages loaded so far, and a transcript of
// 1,000 lines opens at its latest line and renders earlier ones as the reader scrolls up.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binary, startServer } from "./lib/relay.mjs";
import { api, launch, signedIn, until } from "./lib/browser.mjs";

const WAIT = { timeout: 20_000 };
let dataDir;
let seeded;
let server;
let browser;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "switchboard-scale-"));
  seeded = JSON.parse(
    execFileSync(binary("bench-store"), ["--seed-only", dataDir, "--conversations", "2000", "--messages", "40000"], { encoding: "utf8" }),
  );
  server = await startServer(["--sandbox", "off"], { dataDir });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Every conversation the relay lists for `query`, page by page (keyset cursor). */
async function everything(page, query = "") {
  const all = [];
  for (;;) {
    const last = all.at(-1);
    const cursor = last ? `&before=${last.createdAtMs}&beforeId=${encodeURIComponent(last.id)}` : "";
    const { status, body } = await api(page, "GET", `/conversations?limit=500${query}${cursor}`);
    assert.equal(status, 200);
    all.push(...body.conversations);
    if (body.conversations.length < 500) return all;
  }
}

test("searches and filters cover every conversation, not only the pages loaded", async () => {
  const { context, page } = await signedIn(browser, server, "/conversations");
  const all = await everything(page);
  assert.equal(all.length, 2000, "the keyset pages hold every conversation once");
  assert.equal(new Set(all.map((c) => c.id)).size, 2000);
  assert.ok(!("handover" in all[0]) && typeof all[0].handedOver === "boolean", "the list carries summaries");

  const count = page.getByTestId("conv-count");
  const rows = page.getByTestId("conv-row");
  await rows.first().waitFor(WAIT);
  // The first page is shown; a few older ones may be loaded besides it, changed by the
  // relay since it started (the inactivity sweep ends the seeded chats left with the bot).
  await count.filter({ hasText: /^200 shown of \d+ loaded \(more on scroll\)/ }).waitFor(WAIT);

  // Matches far below the first page: the relay finds them without the list loading all.
  const surname = seeded.surname;
  const matching = await everything(page, `&q=${encodeURIComponent(surname.toLowerCase())}`);
  const position = new Map(all.map((c, i) => [c.id, i]));
  assert.ok(matching.some((c) => position.get(c.id) > 1000), "some matches are deep in the list");
  assert.ok(matching.every((c) => c.user.name.includes(surname)), "the seeded surname is only in names and emails");
  await page.getByTestId("conv-search").fill(surname.toUpperCase());
  await count.filter({ hasText: new RegExp(`^${matching.length} shown of \\d+ loaded\\s*$`) }).waitFor(WAIT);
  assert.ok(Number((await count.innerText()).match(/of (\d+) loaded/)[1]) < 2000, "not everything was loaded for it");
  const scroller = page.locator(".scroller");
  await scroller.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
  await page.locator(`[data-testid="conv-row"][data-id="${matching.at(-1).id}"]`).waitFor(WAIT);
  for (const name of await rows.locator(".name").allInnerTexts()) assert.match(name, new RegExp(surname));

  // A state filter, with and without the mode.
  await page.getByTestId("conv-search").fill("");
  await scroller.evaluate((el) => el.scrollTo({ top: 0 }));
  await page.getByTestId("conv-phase").selectOption("queued");
  const queued = all.filter((c) => c.phase === "queued");
  assert.ok(queued.length > 0);
  // The rest of the matches are fetched as the reader scrolls to the end.
  await scroller.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
  await count.filter({ hasText: new RegExp(`^${queued.length} shown of \\d+ loaded\\s*$`) }).waitFor(WAIT);
  await page.getByTestId("conv-mode").selectOption("handover");
  const queuedHandover = queued.filter((c) => c.mode === "handover");
  await count.filter({ hasText: new RegExp(`^${queuedHandover.length} shown of \\d+ loaded\\s*$`) }).waitFor(WAIT);
  for (const phase of await rows.getByTestId("row-phase").allInnerTexts()) assert.equal(phase, "Queued");

  // Nothing matches: said so.
  await page.getByTestId("conv-search").fill("no such words anywhere");
  await page.getByText("No conversation matches.").waitFor(WAIT);

  // The relay refuses a filter it does not know, naming it.
  const bad = await api(page, "GET", "/conversations?phase=lunch");
  assert.equal(bad.status, 400);
  assert.match(bad.body.message, /lunch/);
  await context.close();
});

test("a transcript of 1,000 lines opens at its latest line and renders earlier ones on scrolling up", async () => {
  const { context, page } = await signedIn(browser, server);
  const id = seeded.thousand;
  const { body: view } = await api(page, "GET", `/conversations/${encodeURIComponent(id)}`);
  assert.equal(view.transcript.length, 1000);
  const record = await api(page, "GET", `/conversations/${encodeURIComponent(id)}?limit=0`);
  assert.equal(record.body.transcript.length, 0, "limit=0: the record alone");
  assert.equal(record.body.conversation.id, id);
  const tail = await api(page, "GET", `/conversations/${encodeURIComponent(id)}?after=${view.transcript.at(-3).id}`);
  assert.deepEqual(
    tail.body.transcript.map((e) => e.id),
    view.transcript.slice(-2).map((e) => e.id),
    "after: only the lines after it",
  );

  await page.goto(`${server.adminOrigin}/conversations?c=${encodeURIComponent(id)}`);
  const transcript = page.getByTestId("transcript");
  const entries = transcript.getByTestId("entry");
  const lastText = view.transcript.at(-1).text;
  await until(
    () => transcript.evaluate((el, last) => {
      const all = el.querySelectorAll('[data-testid="entry"]');
      const end = all[all.length - 1];
      const box = el.getBoundingClientRect();
      const r = end?.getBoundingClientRect();
      return end?.querySelector(".text")?.textContent === last && r.bottom <= box.bottom + 1 && r.top >= box.top;
    }, lastText),
    "the latest line in view",
  );
  const first = await entries.count();
  assert.ok(first < 1000, `only the latest lines are rendered at first (${first})`);
  await transcript.getByTestId("show-earlier").filter({ hasText: `(${1000 - first} more)` }).waitFor(WAIT);

  // Scrolling to the top renders earlier lines, and keeps the reader's place.
  await transcript.evaluate((el) => el.scrollTo({ top: 0 }));
  await until(async () => (await entries.count()) > first, "earlier lines");
  assert.ok((await transcript.evaluate((el) => el.scrollTop)) > 0, "the lines read stay in view");

  // The button shows the rest, down to the very first line.
  for (let i = 0; i < 20 && (await transcript.getByTestId("show-earlier").count()) > 0; i++) {
    await transcript.getByTestId("show-earlier").click();
  }
  await until(async () => (await entries.count()) === 1000, "every line");
  assert.equal(await entries.first().locator(".text").innerText(), view.transcript[0].text);
  await context.close();
});
