// The contact-center checks in the admin UI: the Handover settings' "Before the handover"
// and "While queued" sections (a schedule from 8x8's list, a queue limit, saved and
// shown again after a reload; bad values named at their fields; the flow's own block
// said), and the live queue figures of a queued conversation in the Conversations list
// and its detail, polled only while one is shown.

import { test } from "node:test";
import assert from "node:assert/strict";
import { sandboxAndBrowser } from "./lib/suite.mjs";
import { api, signedIn, until } from "./lib/browser.mjs";

const env = sandboxAndBrowser();
const WAIT = { timeout: 20_000 };
const CC = "f-handover-contactCenter";

/** Clean-ups run last-in first-out after the test (the page's context closes last). */
function cleanups(t) {
  const steps = [];
  t.after(async () => {
    for (const step of steps.reverse()) await step();
  });
  return (step) => steps.push(step);
}

async function handoverPage(t) {
  const later = cleanups(t);
  const { context, page } = await signedIn(env.browser, env.server, "/settings/handover");
  later(() => context.close());
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  later(() => assert.deepEqual(errors, [], "no page errors"));
  page.later = later;
  await page.getByTestId("dirty-state").waitFor(WAIT);
  return page;
}

async function saveAndWait(page) {
  await page.getByTestId("save").click();
  await page.getByTestId("dirty-state").getByText("All changes saved", { exact: true }).waitFor(WAIT);
}

/** Puts the settings' contact-center block back as it was, whatever a test saved. */
async function restoreAfter(page) {
  const before = (await api(page, "GET", "/settings")).body.settings;
  page.later(async () => {
    const now = (await api(page, "GET", "/settings")).body.settings;
    now.handover.contactCenter = before.handover.contactCenter;
    now.bot.flow = before.bot.flow;
    await api(page, "PUT", "/settings", { settings: now });
  });
}

test("Handover settings: opening hours with a schedule from 8x8's list and a queue limit are saved and shown after a reload", async (t) => {
  const page = await handoverPage(t);
  await restoreAfter(page);

  await page.getByRole("switch", { name: "Opening hours" }).check();
  // The sandbox's schedules, from its contact-center API, as a list to pick from.
  const schedule = page.getByTestId("schedule-select");
  await schedule.waitFor(WAIT);
  assert.match(await page.getByTestId("schedules-status").innerText(), /Loaded 1 schedule/);
  await schedule.selectOption({ label: "Sandbox hours (101)" });
  await page.getByLabel("Choice #2").check();
  await page.getByLabel("Out-of-hours message").fill("We open at 9. Ask me anything meanwhile.");

  await page.getByRole("switch", { name: "Queue too long" }).check();
  await page.getByLabel("More than this many waiting").fill("5");
  await page.getByRole("radio", { name: /Treat it as closed/ }).check();
  await page.getByLabel("Queue updates every (seconds)").fill("60");
  await page.getByLabel("Cancel word").fill("cancel");
  await page.getByLabel("Agent joined").fill("{agent} is here to help.");
  await saveAndWait(page);

  const saved = (await api(page, "GET", "/settings")).body.settings.handover.contactCenter;
  assert.deepEqual(saved.openingHours, { scheduleId: "101", closedChoices: ["Choice #2"], message: "We open at 9. Ask me anything meanwhile." });
  assert.equal(saved.queueLimit.maxWaiting, 5);
  assert.equal(saved.queueLimit.maxLongestWaitSeconds, null, "an empty limit is not looked at");
  assert.equal(saved.availability, null, "a check left off stays off");
  assert.equal(saved.onError, "treatAsClosed");
  assert.equal(saved.queueUpdateSeconds, 60);
  assert.equal(saved.cancelWord, "cancel");
  assert.equal(saved.status.agentJoined, "{agent} is here to help.");

  await page.reload();
  await page.getByTestId("dirty-state").waitFor(WAIT);
  assert.ok(await page.getByRole("switch", { name: "Opening hours" }).isChecked());
  await page.getByTestId("schedule-select").waitFor(WAIT);
  assert.equal(await page.getByTestId("schedule-select").inputValue(), "101");
  assert.ok(await page.getByLabel("Choice #2").isChecked());
  assert.ok(!(await page.getByLabel("Choice #1").isChecked()));
  assert.equal(await page.getByLabel("More than this many waiting").inputValue(), "5");
  assert.equal(await page.getByLabel("Longest wait above (seconds)").inputValue(), "");
  assert.ok(!(await page.getByRole("switch", { name: "Agent availability" }).isChecked()));
  assert.equal(await page.getByLabel("Queue updates every (seconds)").inputValue(), "60");

  // Off and on again: what was typed in the check comes back (until the page is left).
  await page.getByRole("switch", { name: "Opening hours" }).uncheck();
  await page.getByRole("switch", { name: "Opening hours" }).check();
  assert.equal(await page.getByLabel("Out-of-hours message").inputValue(), "We open at 9. Ask me anything meanwhile.");
  assert.equal(await page.getByTestId("dirty-state").innerText(), "All changes saved");
});

test("Handover settings: bad contact-center values are named at their fields and nothing is saved", async (t) => {
  const page = await handoverPage(t);
  await restoreAfter(page);
  const before = (await api(page, "GET", "/settings")).body.settings;

  await page.getByRole("switch", { name: "Queue too long" }).check();
  await page.getByLabel("Long-queue message").fill("{waiting} waiting, about {position} for you.");
  await page.getByLabel("Queue updates every (seconds)").fill("5");
  await page.getByLabel("Agent joined").fill("{agnt} joined.");
  await page.getByTestId("save").click();
  await page.getByTestId("save-problem").waitFor(WAIT);

  // Each problem beside its field, in the admin's terms (the server's verdict).
  const limit = page.getByTestId(`${CC}-queueLimit-error`);
  await limit.waitFor(WAIT);
  assert.match(await limit.innerText(), /most waiting, the longest wait, or both/);
  assert.match(await page.getByTestId(`${CC}-queueLimit-message-error`).innerText(), /\{position\}/);
  assert.match(await page.getByTestId(`${CC}-queueUpdateSeconds-error`).innerText(), /15/);
  assert.match(await page.getByTestId(`${CC}-status-agentJoined-error`).innerText(), /\{agnt\}.*\{agent\}/);
  assert.equal(await page.getByLabel("More than this many waiting").getAttribute("aria-invalid"), "true");
  // The save problem line does not repeat them as if they were elsewhere.
  assert.doesNotMatch(await page.getByTestId("save-problem").innerText(), /handover\.contactCenter/);
  assert.deepEqual((await api(page, "GET", "/settings")).body.settings, before, "nothing was saved");

  // A fixed field loses its message; the others keep theirs until fixed too.
  await page.getByLabel("More than this many waiting").fill("3");
  await limit.waitFor({ state: "detached", ...WAIT });
  assert.equal(await page.getByTestId(`${CC}-status-agentJoined-error`).count(), 1);

  // A half-typed number never reaches the server as something else: it is named here.
  await page.getByLabel("Queue updates every (seconds)").fill("2.5");
  await page.getByLabel("Queue updates every (seconds)").blur();
  assert.match(await page.getByTestId(`${CC}-queueUpdateSeconds-error`).innerText(), /whole number/);
});

test("Handover settings: a flow with its own contact_center block is said at the top of the section", async (t) => {
  const page = await handoverPage(t);
  await restoreAfter(page);
  assert.equal(await page.getByTestId("cc-flow-notice").count(), 0, "no notice for the default flow");
  const settings = (await api(page, "GET", "/settings")).body.settings;
  settings.bot.kind = "builtin";
  settings.bot.flow = settings.bot.flow.replace(
    /^handover:\n/m,
    "handover:\n  contact_center:\n    queue_update_seconds: 60\n",
  );
  const saved = await api(page, "PUT", "/settings", { settings });
  assert.equal(saved.status, 200, JSON.stringify(saved.body));
  await page.reload();
  const notice = page.getByTestId("cc-flow-notice");
  await notice.waitFor(WAIT);
  assert.match(await notice.innerText(), /handover\.contact_center.*replaces this section/s);
});

test("Handover settings: when 8x8's schedules cannot be listed, the id is typed and the reason shown", async (t) => {
  const page = await handoverPage(t);
  await restoreAfter(page);
  const sandboxUrl = (await api(page, "GET", "/settings")).body.sandbox.baseUrl;
  // Every schedule call fails (the relay's client retries a failed call).
  const faults = (data) => page.request.patch(`${sandboxUrl}/sim/faults`, { data });
  assert.ok((await faults({ scheduleFailRate: 1, scheduleFailStatus: 503 })).ok());
  page.later(() => faults({ scheduleFailRate: 0, scheduleFailStatus: 0 }));

  await page.getByRole("switch", { name: "Opening hours" }).check();
  const problem = page.getByTestId("schedules-problem");
  await problem.waitFor(WAIT);
  assert.match(await problem.innerText(), /schedules could not be read: 8x8 answered 503/);
  await page.getByLabel("Schedule", { exact: true }).fill("101");
  await saveAndWait(page);
  assert.equal((await api(page, "GET", "/settings")).body.settings.handover.contactCenter.openingHours.scheduleId, "101");

  // 8x8 answers again: a reload brings the list, with the typed id chosen.
  assert.ok((await faults({ scheduleFailRate: 0 })).ok());
  await page.getByTestId("load-schedules").click();
  await page.getByTestId("schedule-select").waitFor(WAIT);
  assert.equal(await page.getByTestId("schedule-select").inputValue(), "101");
  assert.equal(await problem.count(), 0);
});

test("Conversations: a queued conversation shows its queue's live figures in the list and the detail, polled only while shown", async (t) => {
  const later = cleanups(t);
  const { context, page } = await signedIn(env.browser, env.server, "/conversations");
  later(() => context.close());
  // Queue 101 without its scripted agent: the offer waits there.
  const script = (await api(page, "GET", "/sandbox/queues")).body.queues.find((q) => q.id === "101").agent;
  assert.equal((await api(page, "PUT", "/sandbox/queues/101/agent", null)).status, 200);
  later(() => api(page, "PUT", "/sandbox/queues/101/agent", script));

  const polls = [];
  page.on("request", (r) => {
    if (/\/api\/contact-center\/queues\//.test(r.url())) polls.push({ at: Date.now(), url: r.url() });
  });

  const c = (await api(page, "POST", "/tester/conversations", { name: "Quinn Queue", email: "q@example.com", language: "en" })).body;
  await api(page, "POST", `/tester/conversations/${c.id}/messages`, { quickReply: { title: "Talk to a person", payload: "agent" } });
  await until(async () => (await api(page, "GET", `/conversations/${c.id}`)).body.conversation.phase === "queued", "queued");

  const row = page.getByTestId("conv-row").filter({ hasText: "Quinn Queue" });
  const figures = row.getByTestId("row-queue-figures");
  await figures.waitFor(WAIT);
  // The sandbox's queue 101: this conversation waiting, Alex available (Jo on a break, Kim logged out).
  assert.match(await figures.innerText(), /^1 waiting · (typical .+|no recent waits) · 1 agent available$/);
  assert.match(await figures.getAttribute("title"), /Sandbox support.*1 on a break.*1 logged out/s);

  await row.click();
  const detail = page.getByTestId("detail-queue-figures");
  await detail.waitFor(WAIT);
  assert.match(await detail.innerText(), /Sandbox support now: 1 waiting/);
  await page.getByTestId("tab-agent").click();
  assert.match(await page.getByTestId("agent-queue-figures").innerText(), /1 waiting/);

  // Live: Alex goes on a break, and within a poll the list says so.
  const sandboxUrl = (await api(page, "GET", "/settings")).body.sandbox.baseUrl;
  const put = await page.request.put(`${sandboxUrl}/sim/contact-center/queues/101/agents/sandbox-agent-alex`, { data: { state: "onBreak" } });
  assert.ok(put.ok(), await put.text());
  later(() => page.request.put(`${sandboxUrl}/sim/contact-center/queues/101/agents/sandbox-agent-alex`, { data: { state: "available" } }));
  await row.getByText(/no agent available/).waitFor({ timeout: 15_000 });
  const whileShown = polls.length;
  assert.ok(whileShown >= 2, `polled while shown (${whileShown})`);

  // Filtered out of the list, the open conversation still shows them: still polled.
  await page.getByTestId("conv-phase").selectOption("ended");
  await row.waitFor({ state: "detached", ...WAIT });
  const filteredAt = polls.length;
  await page.waitForTimeout(5_500);
  assert.ok(polls.length > filteredAt, "the open conversation's queue is still polled");

  // Another page: nothing queued is shown, so the polling stops.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Tester" }).click();
  await page.getByTestId("detail-queue-figures").waitFor({ state: "detached", ...WAIT });
  await page.waitForTimeout(500);
  const stoppedAt = polls.length;
  await page.waitForTimeout(11_000);
  assert.equal(polls.length, stoppedAt, "no queue figures are asked for while no queued conversation is shown");
});

test("Conversations: when 8x8's figures cannot be read, a queued row shows none and says why in its title", async (t) => {
  const later = cleanups(t);
  const { context, page } = await signedIn(env.browser, env.server, "/conversations");
  later(() => context.close());
  const script = (await api(page, "GET", "/sandbox/queues")).body.queues.find((q) => q.id === "101").agent;
  assert.equal((await api(page, "PUT", "/sandbox/queues/101/agent", null)).status, 200);
  later(() => api(page, "PUT", "/sandbox/queues/101/agent", script));
  const sandboxUrl = (await api(page, "GET", "/settings")).body.sandbox.baseUrl;
  const faults = (data) => page.request.patch(`${sandboxUrl}/sim/faults`, { data });

  const c = (await api(page, "POST", "/tester/conversations", { name: "Fay Failing", email: "f@example.com", language: "en" })).body;
  await api(page, "POST", `/tester/conversations/${c.id}/messages`, { quickReply: { title: "Talk to a person", payload: "agent" } });
  const row = page.getByTestId("conv-row").filter({ hasText: "Fay Failing" });
  await row.getByTestId("row-queue-figures").waitFor(WAIT);
  await row.click();
  await page.getByTestId("detail-queue-figures").waitFor(WAIT);

  // Every statistics call fails: the old figures go (they would look live), the reason is in the titles.
  assert.ok((await faults({ statsFailRate: 1, statsFailStatus: 503 })).ok());
  later(() => faults({ statsFailRate: 0, statsFailStatus: 0 }));
  await row.getByTestId("row-queue-figures").waitFor({ state: "detached", timeout: 15_000 });
  assert.equal(await page.getByTestId("detail-queue-figures").count(), 0);
  assert.match(await row.getByTestId("row-wait").getAttribute("title"), /^No queue figures: .+/);
  assert.match(await page.getByTestId("detail-phase").getAttribute("title"), /^No queue figures: .+/);

  // 8x8 answers again: the figures come back with the next poll.
  assert.ok((await faults({ statsFailRate: 0 })).ok());
  await row.getByTestId("row-queue-figures").waitFor({ timeout: 15_000 });
  assert.equal(await row.getByTestId("row-wait").getAttribute("title"), null);
});
