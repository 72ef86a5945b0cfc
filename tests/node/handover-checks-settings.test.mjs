// The contact-center checks of the handover (opening hours, availability, queue limit,
// queue updates, cancel word, status messages) as the admin saves them: through the
// admin API the Handover settings form uses, and in the built-in flow's
// `handover.contact_center` block (through the API and through the flow editor). Bad
// values are refused with each field named (or, in the flow, the line), and nothing is
// saved.

import { test } from "node:test";
import assert from "node:assert/strict";
import { sandboxAndBrowser } from "./lib/suite.mjs";
import { api, signedIn } from "./lib/browser.mjs";
import { codeEditor } from "./lib/code-editor.mjs";
import { openSettings, save as saveForm } from "./lib/settings-browser.mjs";

const env = sandboxAndBrowser();

async function admin(t) {
  const { context, page } = await signedIn(env.browser, env.server);
  const current = async () => (await api(page, "GET", "/settings")).body.settings;
  const save = (settings) => api(page, "PUT", "/settings", { settings });
  // Each test starts from the settings as the server started and leaves them so.
  const start = await current();
  t.after(async () => {
    assert.equal((await save(start)).status, 200);
    await context.close();
  });
  return { page, current, save };
}

test("Handover settings: each bad contact-center value is refused and named by its field; nothing is saved", async (t) => {
  const { current, save } = await admin(t);
  const before = await current();
  const settings = structuredClone(before);
  settings.handover.contactCenter = {
    ...before.handover.contactCenter,
    openingHours: { scheduleId: "week days", closedChoices: ["Choice #2", "Choice #7"], message: " " },
    availability: { states: "loggedIn", message: "", offerWait: true },
    queueLimit: { maxWaiting: null, maxLongestWaitSeconds: null, message: "{waiting} waiting" },
    queueUpdateSeconds: 5,
    queueUpdateMessage: "You are number {position} in line.",
    cancelWord: "stop\nnow",
    status: { ...before.handover.contactCenter.status, agentJoined: "{agnt} joined.", ended: "x".repeat(2001) },
  };
  const answer = await save(settings);
  assert.equal(answer.status, 422, JSON.stringify(answer.body));
  const fields = Object.fromEntries(answer.body.fields.map((f) => [f.field, f.message]));
  assert.deepEqual(Object.keys(fields).sort(), [
    "handover.contactCenter.availability.message",
    "handover.contactCenter.cancelWord",
    "handover.contactCenter.openingHours.closedChoices",
    "handover.contactCenter.openingHours.message",
    "handover.contactCenter.openingHours.scheduleId",
    "handover.contactCenter.queueLimit",
    "handover.contactCenter.queueUpdateMessage",
    "handover.contactCenter.queueUpdateSeconds",
    "handover.contactCenter.status.agentJoined",
    "handover.contactCenter.status.ended",
  ]);
  // Each says what is wrong in the admin's terms.
  assert.match(fields["handover.contactCenter.openingHours.closedChoices"], /"Choice #7"/);
  assert.match(fields["handover.contactCenter.queueUpdateMessage"], /\{position\}/);
  assert.match(fields["handover.contactCenter.queueUpdateMessage"], /\{waiting\}.*\{typical_wait\}/);
  assert.match(fields["handover.contactCenter.status.agentJoined"], /\{agnt\}.*\{agent\}/);
  assert.match(fields["handover.contactCenter.queueUpdateSeconds"], /15/);
  assert.match(fields["handover.contactCenter.status.ended"], /2,000/);
  assert.deepEqual(await current(), before, "nothing was saved");

  // A number out of range is named too, and the fixed block saves and comes back whole.
  settings.handover.contactCenter = {
    ...before.handover.contactCenter,
    openingHours: { scheduleId: "sched-1", closedChoices: ["Choice #2"], message: "We are closed." },
    availability: { states: "loggedIn", message: "Nobody is logged in.", offerWait: false },
    queueLimit: { maxWaiting: 10001, maxLongestWaitSeconds: 0, message: "{waiting} waiting, the longest for {longest_wait}." },
    queueUpdateSeconds: 60,
    queueUpdateMessage: "{waiting} waiting; typical wait {typical_wait}.",
    cancelWord: "cancel",
    status: { ...before.handover.contactCenter.status, agentJoined: "{agent} joined." },
  };
  const limits = await save(settings);
  assert.equal(limits.status, 422, JSON.stringify(limits.body));
  assert.deepEqual(limits.body.fields.map((f) => f.field).sort(), [
    "handover.contactCenter.queueLimit.maxLongestWaitSeconds",
    "handover.contactCenter.queueLimit.maxWaiting",
  ]);
  settings.handover.contactCenter.queueLimit.maxWaiting = 10000;
  settings.handover.contactCenter.queueLimit.maxLongestWaitSeconds = null;
  const saved = await save(settings);
  assert.equal(saved.status, 200, JSON.stringify(saved.body));
  assert.deepEqual((await current()).handover.contactCenter, settings.handover.contactCenter);
});

test("Built-in flow: a bad handover.contact_center block is refused with its line named; a good one saves", async (t) => {
  const { current, save } = await admin(t);
  const before = await current();
  const good = [
    "greeting: Hi",
    "fallback: Sorry?",
    "handover:",
    "  reply: Connecting you.",
    "  contact_center:",
    "    opening_hours:",
    "      schedule_id: sched-1",
    "      closed_choices: ['Choice #2', 3]",
    "    availability:",
    "      states: available_or_busy",
    "    queue_update_seconds: 30",
    "",
  ];
  const cases = [
    // [the line to change (1-based), its new text, what the message says]
    [10, "      states: all_of_them", /all_of_them/],
    [11, "    queue_update_seconds: 5", /15/],
    [11, "    queue_update_seconds: soon", /whole number/],
    [7, "      schedule_id: ''", /schedule/i],
    [8, "      closed_choices: ['Choice #9']", /Choice #9/],
  ];
  for (const [line, text, needle] of cases) {
    const flow = [...good];
    flow[line - 1] = text;
    const settings = structuredClone(before);
    settings.bot.flow = flow.join("\n");
    const answer = await save(settings);
    assert.equal(answer.status, 422, `${text}: ${JSON.stringify(answer.body)}`);
    assert.deepEqual(answer.body.fields.map((f) => f.field), ["bot.flow"], text);
    const message = answer.body.fields[0].message;
    assert.match(message, new RegExp(`^line ${line}, column \\d+: `), `${text}: ${message}`);
    assert.match(message, needle, `${text}: ${message}`);
  }
  assert.deepEqual(await current(), before, "nothing was saved");

  const settings = structuredClone(before);
  settings.bot.flow = good.join("\n");
  const saved = await save(settings);
  assert.equal(saved.status, 200, JSON.stringify(saved.body));
  assert.equal((await current()).bot.flow, good.join("\n"));
});

test("Flow editor: the default flow's contact_center example, its # signs removed, saves; a bad state in it is named at its line", async (t) => {
  const { page, current } = await admin(t);
  const before = await current();
  await openSettings(page, "Endpoint settings");
  const editor = await codeEditor(page, "bot-flow");

  // What the admin does with the example: remove the "# " in front of its lines.
  const lines = before.bot.flow.split("\n");
  const start = lines.findIndex((l) => l === "  # contact_center:");
  assert.ok(start > 0, "the default flow shows the block commented out");
  for (let i = start; i < lines.length; i++) if (lines[i].startsWith("  # ")) lines[i] = `  ${lines[i].slice(4)}`;
  const states = lines.findIndex((l) => /^\s+states: /.test(l));
  lines[states] = lines[states].replace(/states: \S+/, "states: anyone");
  await editor.fill(lines.join("\n"));
  await page.getByTestId("save").click();
  const error = page.getByTestId("f-bot-flow-error");
  await error.waitFor();
  const message = await error.innerText();
  assert.match(message, new RegExp(`^line ${states + 1}, column \\d+: states must be one of available, available_or_busy, .*not "anyone"`), message);
  // The editor marks that line.
  await page.getByTestId("bot-flow-error-line").waitFor();
  assert.equal(await editor.box.locator(".cm-error-line-number").innerText(), String(states + 1));
  assert.equal((await current()).bot.flow, before.bot.flow, "nothing was saved");
  for (const [width, scheme] of [[800, "light"], [1440, "dark"], [800, "dark"], [1440, "light"]]) {
    await page.setViewportSize({ width, height: 900 });
    await page.emulateMedia({ colorScheme: scheme });
    await editor.box.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `/tmp/shots/handover-checks/flow-error-${width}-${scheme}.png` });
  }

  lines[states] = lines[states].replace(/states: \S+/, "states: logged_in");
  await editor.fill(lines.join("\n"));
  await saveForm(page);
  const saved = (await current()).bot.flow;
  assert.match(saved, /^  contact_center:$/m);
  assert.match(saved, /^      states: logged_in/m);
});
