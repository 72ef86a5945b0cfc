// The Conversations list in a real browser against the headless server: a search finds
// words anywhere in a transcript and shows the line that matched, each row says when the
// conversation was last active (relative, kept fresh by the page's own clock), and the
// page is as tall as what it shows.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { artifacts } from "./lib/relay.mjs";
import { api, signedIn, until } from "./lib/browser.mjs";
import { sandboxAndBrowser } from "./lib/suite.mjs";

const WAIT = { timeout: 20_000 };
const env = sandboxAndBrowser();

/** A tester conversation that has said `lines`, one message each (the bot answers each). */
async function conversation(page, name, lines) {
  const conv = (await api(page, "POST", "/tester/conversations", { name, email: `${name.split(" ")[0].toLowerCase()}@example.com`, language: "en" })).body;
  for (const text of lines) {
    const said = await api(page, "POST", `/tester/conversations/${conv.id}/messages`, { text });
    assert.equal(said.status, 200, JSON.stringify(said.body));
  }
  return conv;
}

async function searchFor(page, words) {
  await page.getByTestId("conv-search").fill(words);
}

test("a word only in the middle of a transcript finds its conversation and shows the line, highlighted", async () => {
  const { context, page } = await signedIn(env.browser, env.server);
  const middle = "Where is my parcel? Invoice INV-991 says it left Zürich on Monday.";
  const mia = await conversation(page, "Mia Middleton", ["Hello there", middle, "Never mind, thanks", "Goodbye"]);
  const other = await conversation(page, "Olga Other", ["Hi, I have a question about opening hours"]);
  // The word is neither in a name, an email nor the last line: only the transcript has it.
  const view = (await api(page, "GET", `/conversations/${mia.id}`)).body;
  assert.ok(!/parcel|inv-991|invoice/i.test(view.conversation.lastText ?? ""), view.conversation.lastText);

  await page.goto(`${env.server.adminOrigin}/conversations`);
  const rows = page.getByTestId("conv-row");
  await rows.filter({ hasText: "Olga Other" }).waitFor(WAIT);

  for (const [words, marked] of [
    ["parcel", ["parcel"]],
    ["INV-991", ["INV-991"]],
    ["invoice", ["Invoice"]],
    ["zurich", ["Zürich"]],
    ["parcel invoice", ["parcel", "Invoice"]],
  ]) {
    await searchFor(page, words);
    const line = rows.first().getByTestId("row-match");
    // Until the answer to these words is shown (the last search's row may still be there).
    const shown = async () => ({
      rows: await rows.count(),
      name: (await rows.first().textContent()).includes("Mia Middleton"),
      marks: (await line.count()) ? await line.locator("mark").allTextContents() : [],
    });
    const want = { rows: 1, name: true, marks: marked };
    const last = await until(async () => {
      const now = await shown();
      return JSON.stringify(now) === JSON.stringify(want) && now;
    }, `one row for "${words}", highlighted ${JSON.stringify(marked)}`).catch(async (e) => {
      throw new Error(`${e.message}; shown: ${JSON.stringify(await shown())}`);
    });
    assert.deepEqual(last, want);
    // The line, from a little before its first mark when that is far in (the row is narrow).
    assert.match(await line.textContent(), /^User: (Where is my parcel\? |…)[^…]*Zürich on Monday\.$/, `the matching line is shown for "${words}"`);
    assert.equal(await line.getAttribute("title"), middle, "the whole line on hover");
  }
  await page.screenshot({ path: join(artifacts, "conversations-search.png") });

  // The search keeps the filters: the conversation is still with the bot, not ended.
  await searchFor(page, "parcel");
  await page.getByTestId("conv-phase").selectOption("ended");
  await page.getByText("No conversation matches.").waitFor(WAIT);
  await page.getByTestId("conv-phase").selectOption("bot");
  await rows.filter({ hasText: "Mia Middleton" }).waitFor(WAIT);

  // A name still finds its conversation, with no transcript line to show.
  await page.getByTestId("conv-phase").selectOption("all");
  await searchFor(page, "olga other");
  await until(async () => (await rows.count()) === 1 && (await rows.first().textContent()).includes("Olga Other"), "the name search");
  assert.equal(await rows.first().getByTestId("row-match").count(), 0);
  assert.ok(other.id);
  await context.close();
});

test("each row says when its conversation was last active, relative, with the full date on hover, without asking the relay again", async () => {
  const { context, page } = await signedIn(env.browser, env.server);
  const conv = await conversation(page, "Tim Timestamp", ["What time is it?"]);
  const record = (await api(page, "GET", `/conversations/${conv.id}?limit=0`)).body.conversation;
  const at = record.updatedAtMs;

  // The page's clock is the test's: now is the conversation's last change.
  await page.clock.setFixedTime(new Date(at + 5_000));
  await page.goto(`${env.server.adminOrigin}/conversations`);
  const row = page.getByTestId("conv-row").filter({ hasText: "Tim Timestamp" });
  const when = row.getByTestId("row-time");
  await when.waitFor(WAIT);
  assert.equal((await when.textContent()).trim(), "just now");
  const { full, hhmm } = await page.evaluate((ms) => {
    const d = new Date(ms);
    return {
      full: d.toLocaleString(undefined, { dateStyle: "full", timeStyle: "medium" }),
      hhmm: d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" }),
    };
  }, at);
  assert.equal(await when.getAttribute("title"), `Last active ${full}`);
  assert.equal(await when.getAttribute("datetime"), new Date(at).toISOString());

  // Time passes in the page only: the row follows, and nothing is fetched for it.
  const asked = [];
  page.on("request", (r) => {
    if (r.url().includes("/api/conversations")) asked.push(r.url());
  });
  await page.clock.setFixedTime(new Date(at + 2 * 60_000 + 10_000));
  await until(async () => (await when.textContent()).trim() === "2 min ago", '"2 min ago"', 5_000);
  const tomorrow = new Date(at);
  tomorrow.setDate(tomorrow.getDate() + 1);
  tomorrow.setHours(23, 59, 0, 0);
  await page.clock.setFixedTime(tomorrow);
  await until(async () => (await when.textContent()).trim() === `yesterday ${hhmm}`, `"yesterday ${hhmm}"`, 5_000);
  assert.deepEqual(asked, [], "the times change with no request to the relay");
  await context.close();
});

test("hidden screen-reader text does not make the page taller than what it shows", async () => {
  const { context, page } = await signedIn(env.browser, env.server);
  const lines = Array.from({ length: 40 }, (_, i) => `Line number ${i + 1} of a long conversation`);
  const conv = await conversation(page, "Lena Longtalk", lines);
  await page.goto(`${env.server.adminOrigin}/conversations?c=${conv.id}`);
  const detail = page.getByTestId("conversation-detail");
  await detail.getByTestId("entry").filter({ hasText: "Line number 40 of" }).waitFor(WAIT);
  const sizes = await page.evaluate(() => {
    // Where the page's own boxes end (absolutely placed descendants do not count in them).
    const bottom = Math.max(...[...document.body.children].map((el) => el.getBoundingClientRect().bottom + scrollY));
    return { scrollHeight: document.documentElement.scrollHeight, bottom, viewport: innerHeight };
  });
  assert.ok(
    sizes.scrollHeight <= Math.max(sizes.bottom, sizes.viewport) + 2,
    `the page scrolls ${sizes.scrollHeight - Math.max(sizes.bottom, sizes.viewport)} px past its content: ${JSON.stringify(sizes)}`,
  );
  await context.close();
});

test("at 800 px a short list above the conversation is as tall as its rows, with no empty panel under them", async () => {
  const { context, page } = await signedIn(env.browser, env.server, "/conversations");
  await page.setViewportSize({ width: 800, height: 900 });
  await conversation(page, "Sid Short", ["One line"]);
  await page.getByTestId("conv-row").first().waitFor(WAIT);
  const sizes = await page.evaluate(() => {
    const list = document.querySelector('[data-testid="conv-list"]');
    return { rows: list.getBoundingClientRect().height, scroller: list.parentElement.getBoundingClientRect().height };
  });
  assert.ok(sizes.rows < 800, `a short list for this test: ${JSON.stringify(sizes)}`);
  assert.ok(sizes.scroller <= sizes.rows + 2, `the list's box is ${sizes.scroller - sizes.rows} px taller than its rows`);
  await context.close();
});
