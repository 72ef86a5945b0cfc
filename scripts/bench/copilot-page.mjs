#!/usr/bin/env node
// The 8x8 agent's Copilot page on a relay holding many conversations (seeded by
// bench-store, shaped like the engine's own) plus one live sandbox conversation:
//   first render   — navigation to the link → every tile drawn with the transcript in it
//                    (performance.now() in the page, so from the navigation's start);
//   live update    — the sandbox agent says something (the admin API call leaves Node) →
//                    the line is in the page's transcript (seen by a MutationObserver).
// Prints p50 / p95 / min / max of each. Not part of the test command.
//
//   cargo build --bins -p switchboard-relay -p switchboard-bench && npm --prefix ui run build
//   node scripts/bench/copilot-page.mjs [--conversations 1000] [--runs 20]

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { binary, startServer } from "../../tests/node/lib/relay.mjs";
import { launch, until } from "../../tests/node/lib/browser.mjs";
import { accept, adminApi, agent, answerHere, handedOver, relayView } from "../../tests/node/lib/copilot-live.mjs";

const { values: opts } = parseArgs({
  options: {
    conversations: { type: "string", default: "1000" },
    messages: { type: "string", default: "20000" },
    runs: { type: "string", default: "20" },
    warmup: { type: "string", default: "3" },
  },
});
const RUNS = Number(opts.runs);
const WARMUP = Number(opts.warmup);

function figures(name, samples) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  const f = (n) => `${n.toFixed(1)} ms`;
  console.log(`${name.padEnd(16)} p50 ${f(at(0.5)).padStart(9)}  p95 ${f(at(0.95)).padStart(9)}  min ${f(s[0]).padStart(9)}  max ${f(s.at(-1)).padStart(9)}  (${s.length} runs)`);
  return { p50: at(0.5), p95: at(0.95), min: s[0], max: s.at(-1), runs: s.length };
}

const dataDir = mkdtempSync(join(tmpdir(), "switchboard-copilot-bench-"));
let server;
let browser;
try {
  const seeded = JSON.parse(
    execFileSync(binary("bench-store"), ["--seed-only", dataDir, "--conversations", opts.conversations, "--messages", opts.messages], { encoding: "utf8" }),
  );
  server = await startServer([], { dataDir });
  browser = await launch();
  const admin = adminApi(server);
  await answerHere(admin, "101");
  const conv = await handedOver(admin, {
    name: "Bea Bench",
    email: "bea@example.com",
    messages: ["I was charged twice for order 5512399", "the invoice says 49.99 EUR"],
  });
  await accept(admin, conv.gateway, "bench-agent");
  console.log(`relay: ${seeded.conversations ?? opts.conversations} seeded conversations + 1 live sandbox conversation (agent joined)`);

  // First render: a fresh browser context each run (no cache), as an agent opening the link.
  const render = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.addInitScript(() => {
      const check = () => {
        const tiles = document.querySelectorAll('[data-testid^="tile-"]').length;
        const lines = document.querySelectorAll('[data-testid="transcript-line"]').length;
        if (tiles >= 6 && lines > 0 && window.__drawnMs === undefined) window.__drawnMs = performance.now();
      };
      new MutationObserver(check).observe(document, { childList: true, subtree: true });
    });
    const page = await context.newPage();
    await page.goto(conv.link);
    const ms = await until(() => page.evaluate(() => window.__drawnMs), "the tiles", 20_000);
    if (i >= WARMUP) render.push(ms);
    await context.close();
  }

  // Live update: one page open; the agent writes, the line appears.
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await page.goto(conv.link);
  await page.getByTestId("copilot-workspace").waitFor({ timeout: 20_000 });
  await page.evaluate(() => {
    window.__seen = {};
    const scroll = document.querySelector('[data-testid="tile-transcript"]');
    new MutationObserver(() => {
      for (const el of scroll.querySelectorAll('[data-testid="transcript-line"] .text')) {
        const t = el.textContent;
        if (t.startsWith("bench line ") && !(t in window.__seen)) window.__seen[t] = Date.now();
      }
    }).observe(scroll, { childList: true, subtree: true, characterData: true });
  });
  const live = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const text = `bench line ${i} ${Math.random().toString(36).slice(2, 8)}`;
    const sent = Date.now();
    const r = await agent(admin, conv.gateway, "say", { agentId: "bench-agent", text });
    if (r.status >= 300) {
      const view = await relayView(admin, conv.id);
      throw new Error(`the agent's message was refused: ${r.status} ${JSON.stringify(r.body)}; the conversation: ${view.conversation.phase}, last lines ${JSON.stringify(view.transcript.slice(-4).map((e) => e.text))}`);
    }
    const seen = await until(() => page.evaluate((t) => window.__seen[t], text), "the agent's line on the page", 20_000);
    if (i >= WARMUP) live.push(seen - sent);
    await page.waitForTimeout(300);
  }
  await context.close();

  console.log("");
  const result = { firstRender: figures("first render", render), liveUpdate: figures("live update", live) };
  console.log(`\n${JSON.stringify(result)}`);
} finally {
  await browser?.close();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
