// The analytics page against the headless server on the sandbox: one conversation the
// bot handles alone and one handed over to the sandbox's agent show in the figures and
// the charts, live; a chart's numbers open as a table and download as CSV. Screenshots
// at 800 and 1440 px, light and dark, go to /tmp/shots/analytics/.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readFile } from "node:fs/promises";
import { api, signedIn, until } from "./lib/browser.mjs";
import { sandboxAndBrowser } from "./lib/suite.mjs";

const WAIT = { timeout: 20_000 };
const env = sandboxAndBrowser();

async function say(page, id, text) {
  assert.equal((await api(page, "POST", `/tester/conversations/${id}/messages`, { text })).status, 200);
}

test("a contained and a handed-over conversation show in the figures and charts, with a table and a CSV", async () => {
  const { context, page } = await signedIn(env.browser, env.server, "/analytics");
  const tiles = page.getByTestId("tiles");
  await tiles.waitFor(WAIT);
  assert.equal(await page.getByTestId("tile-conversations").innerText(), "0");

  // With the bot alone: asks the hours, then leaves.
  const alone = (await api(page, "POST", "/tester/conversations", { name: "Al One", email: "al@example.com", language: "en" })).body;
  await say(page, alone.id, "What are your opening hours?");
  assert.equal((await api(page, "POST", `/tester/conversations/${alone.id}/leave`)).status, 200);
  // Handed over: asks for a person; the sandbox's agent joins and replies.
  const helped = (await api(page, "POST", "/tester/conversations", { name: "Hal Per", email: "hal@example.com", language: "en" })).body;
  await say(page, helped.id, "I want to talk to an agent");
  await until(async () => (await api(page, "GET", `/conversations/${helped.id}`)).body.conversation?.firstAgentReplyAtMs, "the agent's first reply");

  // Live: the open page catches up without a reload.
  await page.getByTestId("tile-conversations").filter({ hasText: /^2$/ }).waitFor(WAIT);
  await page.getByTestId("tile-containment").filter({ hasText: "50 %" }).waitFor(WAIT);
  assert.equal(await page.getByTestId("tile-handover").innerText(), "50 %");
  assert.equal(await page.getByTestId("tile-abandoned").innerText(), "0");
  assert.match(await page.getByTestId("tile-agent").innerText(), /^\d+ s$|^\d+ m \d+ s$/);
  assert.match(await page.getByTestId("tile-reply").innerText(), /^\d+ s$|^\d+ m \d+ s$/);
  assert.match(await page.getByTestId("tile-fallback").innerText(), /%$/);

  // The charts are drawn (a canvas each) with the period's numbers.
  for (const id of ["by-day", "by-hour", "reasons", "rules"]) {
    await page.getByTestId(`chart-${id}`).locator("canvas").first().waitFor(WAIT);
  }

  // Handovers by reason, as a table: the one handover, with the bot's reason.
  const reasons = page.getByTestId("chart-reasons");
  await page.getByTestId("table-reasons").click();
  const rows = reasons.locator("tbody tr");
  assert.equal(await rows.count(), 1);
  assert.equal(await rows.first().locator("td").first().innerText(), "asked for an agent");
  assert.equal(await rows.first().locator("td").nth(1).innerText(), "1");
  await page.getByTestId("table-reasons").click();
  await reasons.locator("canvas").first().waitFor(WAIT);

  // Top rules as CSV: the rules the two conversations hit, counted.
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("csv-rules").click()]);
  assert.equal(download.suggestedFilename(), "rules.csv");
  const csv = await readFile(await download.path(), "utf8");
  const lines = csv.trimEnd().split("\r\n");
  assert.equal(lines[0], "Rule,Bot turns");
  const figures = (await api(page, "GET", "/analytics?mode=both")).body;
  assert.deepEqual(lines.slice(1), figures.topRules.map((r) => `${r.label},${r.count}`));
  assert.ok(figures.topRules.some((r) => r.label === "handover"), csv);

  // One mode at a time: the tester's conversations are in one mode, the other has none.
  const modeOf = (await api(page, "GET", `/conversations/${alone.id}`)).body.conversation.mode;
  const other = modeOf === "endpoint" ? "handover" : "endpoint";
  await page.getByTestId("mode").selectOption(other);
  await page.getByTestId("tile-conversations").filter({ hasText: /^0$/ }).waitFor(WAIT);
  await page.getByTestId("mode").selectOption(modeOf);
  await page.getByTestId("tile-conversations").filter({ hasText: /^2$/ }).waitFor(WAIT);

  // A custom period that ends before it starts says so.
  await page.getByTestId("period").selectOption("custom");
  await page.getByTestId("from").fill("2026-03-10");
  await page.getByTestId("to").fill("2026-03-01");
  assert.match(await page.getByTestId("period-problem").innerText(), /before the first/);
  await context.close();

  await mkdir("/tmp/shots/analytics", { recursive: true });
  for (const colorScheme of ["light", "dark"]) {
    for (const width of [800, 1440]) {
      const ctx = await env.browser.newContext({ colorScheme, viewport: { width, height: 1100 } });
      const p = await ctx.newPage();
      await p.goto(env.server.adminUrl);
      await p.getByTestId("live-state").waitFor();
      await p.goto(`${env.server.adminOrigin}/analytics`);
      await p.getByTestId("chart-rules").locator("canvas").first().waitFor(WAIT);
      await p.screenshot({ path: `/tmp/shots/analytics/${width}-${colorScheme}.png`, fullPage: true });
      await ctx.close();
    }
  }
});
