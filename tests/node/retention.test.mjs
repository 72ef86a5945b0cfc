// Retention in the admin UI against the headless server: the Status page shows the
// database's size and that no clean-up has run yet; the retention days are edited on the
// Endpoint settings page (a bad value named beside its field and refused, a good one
// saved and kept over a reload); the save runs a clean-up at once, and the Status page
// shows it live.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/relay.mjs";
import { launchBrowser, openAdmin, openSettings, save } from "./lib/settings-browser.mjs";

let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

async function openStatus(page) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Status" }).click();
  await page.getByTestId("relay-state").waitFor();
}

test("retention: the days are edited with the other settings, the Status page shows the size and the last clean-up", async (t) => {
  const server = await startServer();
  const { context, page, pageErrors } = await openAdmin(browser, server);
  t.after(async () => {
    await context.close();
    await server.stop();
  });

  assert.match(await page.getByTestId("database-size").innerText(), /^\d+(\.\d)? (B|kB|MB)\b/);
  assert.match(
    await page.getByTestId("retention-days").innerText(),
    /deliveries 14 days, outbox history 30 days,\s+ended conversations 90 days/,
  );
  assert.match(await page.getByTestId("retention-last-pass").innerText(), /^not yet/);

  await openSettings(page, "Endpoint settings");
  const deliveries = page.getByLabel("Webhook deliveries (days)");
  assert.equal(await deliveries.inputValue(), "14");
  assert.equal(await page.getByLabel("Outbox history (days)").inputValue(), "30");
  assert.equal(await page.getByLabel("Ended conversations (days)").inputValue(), "90");

  // Out of range: named beside the field, and Save keeps the focus there.
  await deliveries.fill("0");
  await page.getByTestId("save").click();
  await page.getByTestId("save-problem").waitFor();
  assert.equal(await deliveries.getAttribute("aria-invalid"), "true");
  assert.match(await page.getByTestId("f-retention-deliveriesDays-error").innerText(), /between 1 and 3650 days/);
  assert.equal(await page.evaluate(() => document.activeElement?.id), "f-retention-deliveriesDays");

  await deliveries.fill("7");
  await page.getByLabel("Ended conversations (days)").fill("365");
  await save(page);
  await page.reload();
  await page.getByTestId("dirty-state").waitFor();
  assert.equal(await page.getByLabel("Webhook deliveries (days)").inputValue(), "7");
  assert.equal(await page.getByLabel("Ended conversations (days)").inputValue(), "365");

  // The changed days ran a clean-up at once; the Status page heard of it live.
  await openStatus(page);
  assert.match(
    await page.getByTestId("retention-days").innerText(),
    /deliveries 7 days, outbox history 30 days,\s+ended conversations 365 days/,
  );
  await page.getByTestId("retention-last-pass").getByText("nothing was old enough to remove").waitFor({ timeout: 10_000 });
  // When, in local time, written the same in every locale.
  const when = (await page.getByTestId("retention-last-pass").innerText()).split(": ")[0];
  assert.match(when, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  const shown = new Date(when.replace(" ", "T")).getTime();
  assert.ok(Math.abs(Date.now() - shown) < 60_000, `the pass shown at ${when}, not just now`);

  assert.deepEqual(pageErrors.map((e) => e.message), []);
});
