// A conversation's export and timeline as their reader relies on them: a masked export
// is the same data (every date parses, order numbers stay) with only e-mail addresses
// and phone numbers hidden; the timeline states each step as it was at that moment (the
// queue and the agent of then, not of now) and reads as one straight sequence.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { api, signedIn, until } from "./lib/browser.mjs";
import { sandboxAndBrowser } from "./lib/suite.mjs";

const WAIT = { timeout: 20_000 };
const SHOTS = process.env.SHOTS_DIR ?? "/tmp/shots/export-timeline";
mkdirSync(SHOTS, { recursive: true });
const env = sandboxAndBrowser();

async function downloadText(page, button) {
  const [download] = await Promise.all([page.waitForEvent("download"), button.click()]);
  return { name: download.suggestedFilename(), text: await readFile(await download.path(), "utf8") };
}

/** Rows of a CSV without line breaks inside fields (enough for these lines). */
function csvRows(text) {
  return text.trimEnd().split("\r\n").map((line) => {
    const cells = [];
    for (const m of line.matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)) {
      cells.push(m[1].startsWith('"') ? m[1].slice(1, -1).replace(/""/g, '"') : m[1]);
      if (!m[2]) break;
    }
    return cells;
  });
}

test("a masked export keeps every date and order number; only e-mail addresses and phone numbers are hidden", async () => {
  const { context, page } = await signedIn(env.browser, env.server);
  const conv = (
    await api(page, "POST", "/tester/conversations", { name: "Olga Order", email: "olga@example.com", phone: "+44 20 7946 0958", language: "en" })
  ).body;
  const words = "My parcel 4451 2367 from order 20261203 is late; call +44 20 7946 0958 or olga@example.com";
  assert.equal((await api(page, "POST", `/tester/conversations/${conv.id}/messages`, { text: words })).status, 200);
  const transcript = (await api(page, "GET", `/conversations/${conv.id}`)).body.transcript;

  await page.goto(`${env.server.adminOrigin}/conversations?c=${conv.id}`);
  const detail = page.getByTestId("conversation-detail");
  await detail.getByTestId("entry").filter({ hasText: "parcel" }).waitFor(WAIT);
  // Masking is on by default.
  assert.equal(await detail.getByTestId("export-mask").isChecked(), true);
  const masked = JSON.parse((await downloadText(page, detail.getByTestId("export-json"))).text);
  await detail.getByTestId("export-mask").uncheck();
  const plain = JSON.parse((await downloadText(page, detail.getByTestId("export-json"))).text);

  // The structure is untouched: every date parses and is the same as unmasked.
  for (const key of ["id", "mode", "phase", "createdAt", "endedAt", "queueName", "agentId"]) {
    assert.deepEqual(masked.conversation[key], plain.conversation[key], key);
  }
  assert.ok(!Number.isNaN(Date.parse(masked.conversation.createdAt)), masked.conversation.createdAt);
  assert.equal(masked.transcript.length, transcript.length);
  masked.transcript.forEach((e, i) => {
    assert.equal(e.at, new Date(transcript[i].atMs).toISOString());
    assert.equal(e.lane, transcript[i].lane);
  });
  // The person's details and words: address and number hidden, order numbers kept.
  assert.equal(masked.conversation.user.email, "o***@example.com");
  assert.equal(masked.conversation.user.phone, "+***58");
  assert.equal(masked.conversation.user.name, "Olga Order");
  assert.equal(
    masked.transcript.find((e) => e.lane === "user").text,
    "My parcel 4451 2367 from order 20261203 is late; call +***58 or o***@example.com",
  );
  assert.doesNotMatch(JSON.stringify(masked), /olga@example\.com|7946/);

  // CSV: the same rule; the time column stays a time.
  await detail.getByTestId("export-mask").check();
  const rows = csvRows((await downloadText(page, detail.getByTestId("export-csv"))).text);
  const userRow = rows.find((r) => r[1] === "user");
  assert.equal(userRow[0], new Date(transcript.find((e) => e.lane === "user").atMs).toISOString());
  assert.equal(userRow[3], "My parcel 4451 2367 from order 20261203 is late; call +***58 or o***@example.com");
  for (const r of rows.slice(1)) assert.ok(!Number.isNaN(Date.parse(r[0])), r[0]);
  await context.close();
});

test("the timeline states the queue and the agent of each moment, as one straight sequence", async () => {
  const { context, page } = await signedIn(env.browser, env.server);
  const conv = (await api(page, "POST", "/tester/conversations", { name: "Tim Transfer", language: "en" })).body;
  await api(page, "POST", `/tester/conversations/${conv.id}/messages`, { quickReply: { title: "Talk to a person", payload: "agent" } });
  const view = async () => (await api(page, "GET", `/conversations/${conv.id}`)).body;
  const said = async (text) => (await view()).transcript.some((e) => e.lane === "agent" && e.text.includes(text));
  await until(() => said("this is Alex"), "Alex's greeting");
  // The sandbox's first agent transfers to the escalations queue, where Sam takes over.
  await api(page, "POST", `/tester/conversations/${conv.id}/messages`, { text: "please transfer me" });
  await until(() => said("Sam here"), "Sam's greeting", 30_000);
  const { conversation: c, transcript } = await view();
  assert.equal(c.queueName, "Sandbox escalations");
  assert.equal(c.agentId, "sandbox-agent-sam");
  const lineAt = (re) => transcript.find((e) => e.lane === "system" && re.test(e.text));

  await page.goto(`${env.server.adminOrigin}/conversations?c=${conv.id}`);
  const timeline = page.getByTestId("timeline");
  await timeline.getByTestId("timeline-step").filter({ hasText: "sandbox-agent-sam" }).waitFor(WAIT);
  const steps = await timeline.getByTestId("timeline-step").evaluateAll((lis) =>
    lis.map((li) => ({ label: li.querySelector('[data-testid="timeline-label"], .label').textContent, at: li.querySelector("time").dateTime })),
  );
  const find = (label) => steps.find((s) => s.label === label);
  const iso = (ms) => new Date(ms).toISOString();
  // Each step as it was then: the first queue and agent at their own times.
  assert.equal(find("Queued in Sandbox support")?.at, iso(lineAt(/^Queued in Sandbox support/).atMs), JSON.stringify(steps));
  assert.equal(find("Agent sandbox-agent-alex joined")?.at, iso(lineAt(/^Agent sandbox-agent-alex joined/).atMs));
  assert.equal(find("Queued in Sandbox escalations")?.at, iso(lineAt(/^Queued in Sandbox escalations/).atMs));
  assert.equal(find("Agent sandbox-agent-sam joined")?.at, iso(lineAt(/^Agent sandbox-agent-sam joined/).atMs));
  const order = ["Started", "Queued in Sandbox support", "Agent sandbox-agent-alex joined", "Transferred by the agent", "Queued in Sandbox escalations", "Agent sandbox-agent-sam joined"];
  const positions = order.map((l) => steps.findIndex((s) => s.label === l));
  assert.ok(positions.every((p) => p >= 0), `every step shown: ${JSON.stringify(steps)}`);
  assert.deepEqual([...positions].sort((a, b) => a - b), positions, "in the order they happened");
  // Times never go backwards down the list.
  for (let i = 1; i < steps.length; i++) assert.ok(steps[i].at >= steps[i - 1].at, JSON.stringify(steps));

  // One straight sequence at both widths, light and dark: every dot on one vertical
  // line, one step per row, each row below the one before.
  for (const width of [800, 1440]) {
    for (const scheme of ["light", "dark"]) {
      await page.setViewportSize({ width, height: 900 });
      await page.emulateMedia({ colorScheme: scheme });
      const boxes = await timeline.getByTestId("timeline-step").evaluateAll((lis) =>
        lis.map((li) => {
          const d = li.querySelector(".dot").getBoundingClientRect();
          const r = li.getBoundingClientRect();
          return { dotX: Math.round(d.left + d.width / 2), top: r.top, bottom: r.bottom, height: r.height };
        }),
      );
      const xs = new Set(boxes.map((b) => b.dotX));
      assert.equal(xs.size, 1, `dots aligned at ${width}px: ${JSON.stringify(boxes)}`);
      for (let i = 1; i < boxes.length; i++) assert.ok(boxes[i].top >= boxes[i - 1].bottom - 0.5, `row ${i} below row ${i - 1} at ${width}px`);
      await timeline.screenshot({ path: join(SHOTS, `timeline-${width}-${scheme}.png`) });
      await page.screenshot({ path: join(SHOTS, `conversation-${width}-${scheme}.png`) });
    }
  }
  await context.close();
});
