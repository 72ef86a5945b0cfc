// UI render benchmark: how fast the Conversations page opens a list of 10,000
// conversations, scrolls deep into it and opens a transcript of 1,000 messages, in
// Debian's Chromium (headless, through playwright-core) against the release headless
// server on a seeded database (bench-store --seed-only). A benchmark: it prints figures
// and asserts nothing.
//
//   node tests/node/bench/render.bench.mjs [--runs 10] [--no-build]
//
// It builds the UI (when ui/src changed) and the release binaries first, in
// $CARGO_TARGET_DIR or target/ (skipped with --no-build; cargo is quick when nothing
// changed). Every figure is taken inside the page with performance.now(): from the user's
// action (or, for a page load, navigation start) to the first frame painted after the
// end condition held, checked on every DOM change (MutationObserver) and every frame.
// For a transcript the end is the paint after its visible part last changed (DOM or
// scroll position, then 400 ms quiet), whether it opens at the top or the end.
// See crates/switchboard-bench/BENCHMARKS.md, "UI render".

import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { root } from "../lib/relay.mjs";
import { launch } from "../lib/browser.mjs";

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const RUNS = flag("--runs", 10);
const CONVERSATIONS = flag("--conversations", 10_000);
const MESSAGES = flag("--messages", 1_000_000);
const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, "target");
const release = (name) => join(targetDir, "release", name);

if (!args.includes("--no-build")) {
  // The UI only when its sources changed: a rebuilt ui/dist makes cargo rebuild the relay.
  if (newest(join(root, "ui/src")) > modified(join(root, "ui/dist/index.html"))) {
    execFileSync("npm", ["--prefix", join(root, "ui"), "run", "build"], { stdio: ["ignore", "ignore", "inherit"] });
  }
  execFileSync("cargo", ["build", "--release", "-p", "switchboard-relay", "-p", "switchboard-bench", "--bin", "switchboard-server", "--bin", "bench-store"], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
  });
}

function modified(path) {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : modified(path));
  }
  return latest;
}

const dataDir = mkdtempSync(join(tmpdir(), "bench-render-"));
const seeded = JSON.parse(
  execFileSync(release("bench-store"), ["--seed-only", dataDir, "--conversations", String(CONVERSATIONS), "--messages", String(MESSAGES)], {
    encoding: "utf8",
  }),
);
const server = await startServer(dataDir);
const browser = await launch();

try {
  console.log(
    `render bench: ${seeded.conversations} conversations, ${seeded.messages} messages (seeded in ${seeded.seconds.toFixed(1)} s), ` +
      `${RUNS} runs per case, Chromium headless 1400×1000`,
  );
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  await page.goto(server.adminUrl);
  await page.getByTestId("live-state").waitFor();
  await page.addInitScript(IN_PAGE);

  const thousand = seeded.thousand;
  const view = await (await page.request.get(`${server.origin}/api/conversations/${encodeURIComponent(thousand)}`)).json();
  const lastText = view.transcript.at(-1)?.text ?? "";
  const results = [];

  // 1. A fresh page on the status view, then a click on "Conversations": the list's first
  //    rows on screen and the list scrollable.
  results.push(
    await measure("list: click Conversations → rows visible", async () => {
      await page.goto(`${server.origin}/`);
      await page.waitForFunction(() => document.querySelector('nav a[href="/conversations"]') && window.__bench);
      return page.evaluate(() => window.__bench.act(() => document.querySelector('nav a[href="/conversations"]').click(), window.__bench.listReady));
    }),
  );

  // 2. Typing the address: navigation start (the document request) to rows visible.
  results.push(
    await measure("list: load /conversations → rows visible", async () => {
      await page.goto(`${server.origin}/conversations`);
      return page.evaluate(() => window.__bench.sinceNavigation());
    }),
  );

  // 3. Scrolling to the end of what is loaded: the next page fetched and its rows shown.
  results.push(
    await measure("list: scroll past the loaded end → next rows", async () => {
      await openList(page, server);
      return page.evaluate(() => window.__bench.act(window.__bench.scrollToEnd, window.__bench.moreRows()));
    }),
  );

  // 4. Deep: from the top to row 9,000 by scrolling to the end again and again, as a
  //    reader dragging the scrollbar down would (every page fetched on the way).
  const DEEP = Math.min(9_000, seeded.conversations - 50);
  results.push(
    await measure(
      `list: scroll from the top to row ${DEEP}`,
      async () => {
        await openList(page, server);
        return page.evaluate((deep) => window.__bench.act(() => window.__bench.scrollUntil(deep), () => window.__bench.rowShown(deep)), DEEP);
      },
      Math.max(3, Math.ceil(RUNS / 3)),
    ),
  );

  // 5. With every row loaded, a jump to row 9,000 (the scrollbar dragged): rows there.
  results.push(
    await measure(`list: jump to row ${DEEP} (all loaded)`, async () => {
      if (!(await page.evaluate(() => window.__bench?.allLoaded()))) {
        await openList(page, server);
        await page.evaluate((deep) => window.__bench.scrollUntil(deep + 1_000), DEEP);
        await page.evaluate(() => window.__bench.scrollTop(0));
      } else {
        await page.evaluate(() => window.__bench.scrollTop(0));
      }
      await page.waitForTimeout(50);
      return page.evaluate((deep) => window.__bench.act(() => window.__bench.scrollTop(deep * window.__bench.rowHeight()), () => window.__bench.rowShown(deep)), DEEP);
    }),
  );

  // 6. A transcript of 1,000 messages: click its row → its visible part final (see
  //    openTranscript below).
  results.push(
    await measure(`transcript: open ${view.transcript.length} messages → visible part shown`, async () => {
      await openList(page, server);
      return page.evaluate(
        ({ id, last }) => window.__bench.openTranscript(() => document.querySelector(`[data-testid="conv-row"][data-id="${CSS.escape(id)}"]`).click(), last),
        { id: thousand, last: lastText },
      );
    }),
  );

  console.log();
  console.log(`${"case".padEnd(58)} ${"median".padStart(9)} ${"p95".padStart(9)} ${"min".padStart(9)} ${"max".padStart(9)}  runs`);
  for (const r of results) {
    const ms = (v) => `${v.toFixed(1)} ms`.padStart(9);
    console.log(`${r.label.padEnd(58)} ${ms(r.median)} ${ms(r.p95)} ${ms(r.min)} ${ms(r.max)}  ${r.runs}`);
  }
  await context.close();
} finally {
  await browser.close();
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

async function openList(page, server) {
  await page.goto(`${server.origin}/conversations`);
  await page.waitForFunction(() => window.__bench && window.__bench.listReady());
}

/** One untimed run, then `runs` timed ones; each run returns its milliseconds. */
async function measure(label, run, runs = RUNS) {
  await run();
  const times = [];
  for (let i = 0; i < runs; i++) times.push(await run());
  times.sort((a, b) => a - b);
  const at = (p) => times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)];
  return { label, runs, median: at(0.5), p95: at(0.95), min: times[0], max: times.at(-1) };
}

/** The release headless server on the seeded data directory, the sandbox off. */
async function startServer(dir) {
  const child = spawn(release("switchboard-server"), ["--data-dir", dir, "--endpoint-bind", "127.0.0.1:0", "--sandbox", "off", "--secrets", "env", "--log", "warn"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout });
  const adminUrl = await new Promise((resolve, reject) => {
    let url;
    const timer = setTimeout(() => reject(new Error(`server not ready in 60 s: ${stderr}`)), 60_000);
    child.on("exit", (code) => reject(new Error(`server exited ${code}: ${stderr}`)));
    lines.on("line", (line) => {
      url = line.match(/Admin UI:\s+(\S+)/)?.[1] ?? url;
      if (line.includes("Ctrl+C")) {
        clearTimeout(timer);
        resolve(url);
      }
    });
  });
  return {
    adminUrl,
    origin: new URL(adminUrl).origin,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.on("exit", r)));
    },
  };
}

// Runs in the page before its own scripts: the end conditions and the clock.
function IN_PAGE() {
  const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const scroller = () => document.querySelector(".scroller");
  const inView = (el, box) => {
    const r = el.getBoundingClientRect();
    const b = box.getBoundingClientRect();
    return r.height > 0 && r.bottom > b.top && r.top < b.bottom;
  };
  /**
   * Resolves with performance.now() at the paint after `done()` first holds: checked on
   * every DOM change (MutationObserver) and before every frame (a scroll changes no DOM
   * by itself), then one animation frame and a task for the paint.
   */
  function when(done) {
    return new Promise((resolve) => {
      let finished = false;
      const check = () => {
        if (finished || !done()) return;
        finished = true;
        observer.disconnect();
        frame().then(() => resolve(performance.now()));
      };
      const observer = new MutationObserver(check);
      observer.observe(document, { childList: true, subtree: true, characterData: true, attributes: true });
      const tick = () => {
        if (finished) return;
        check();
        requestAnimationFrame(tick);
      };
      tick();
    });
  }
  window.__bench = {
    async act(action, done) {
      const t0 = performance.now();
      const end = when(done);
      await action();
      return (await end) - t0;
    },
    /** Milliseconds from navigation start (the document request) to the list shown. */
    sinceNavigation() {
      return listShown;
    },
    listReady() {
      const s = scroller();
      const row = document.querySelector('[data-testid="conv-row"]');
      return Boolean(s && row && inView(row, s) && s.scrollHeight > s.clientHeight);
    },
    rowHeight() {
      const li = document.querySelector('[data-testid="conv-row"]')?.closest("li");
      return li ? li.getBoundingClientRect().height : 64;
    },
    /** The row at `index` (0 = newest) is rendered inside the scroller's view. */
    rowShown(index) {
      const s = scroller();
      if (!s) return false;
      const h = this.rowHeight();
      const top = index * h;
      if (top < s.scrollTop - h || top > s.scrollTop + s.clientHeight) return false;
      for (const li of s.querySelectorAll("li")) {
        const m = /translateY\(([\d.]+)px\)/.exec(li.style.transform);
        if (m && Math.abs(Number(m[1]) - top) < 1 && inView(li, s) && li.querySelector('[data-testid="conv-row"]')) return true;
      }
      return false;
    },
    scrollTop(px) {
      scroller().scrollTop = px;
      scroller().dispatchEvent(new Event("scroll"));
    },
    scrollToEnd() {
      const s = scroller();
      s.scrollTop = s.scrollHeight;
    },
    moreRows() {
      const before = scroller().scrollHeight;
      return () => {
        const s = scroller();
        if (s.scrollHeight <= before) return false;
        const rows = [...s.querySelectorAll('[data-testid="conv-row"]')].filter((r) => inView(r, s));
        return rows.length > 0;
      };
    },
    /** Scrolls to the end of the list again and again until row `index` exists. */
    async scrollUntil(index) {
      const s = scroller();
      const h = this.rowHeight();
      const deadline = performance.now() + 120_000;
      while (s.scrollHeight < (index + 1) * h + s.clientHeight && performance.now() < deadline) {
        s.scrollTop = s.scrollHeight;
        await new Promise((r) => setTimeout(r, 0));
        await frame();
      }
      s.scrollTop = index * h;
    },
    allLoaded() {
      const count = document.querySelector('[data-testid="conv-count"]')?.textContent ?? "";
      return scroller() && !/more on scroll/.test(count);
    },
    /**
     * Clicks, then waits until the transcript shows its latest message somewhere in its
     * DOM, has messages on screen, and has not changed (DOM or scroll position) for
     * `quiet` ms: its visible part is final. The time is that of the paint after its last
     * change, so it holds whether the view opens at the top or scrolls to the end.
     */
    openTranscript(click, last, quiet = 400) {
      const t0 = performance.now();
      const transcript = () => document.querySelector('[data-testid="transcript"]');
      let lastChange = t0;
      let lastPaint = 0;
      let changes = 0;
      const changed = () => {
        lastChange = performance.now();
        const n = ++changes;
        frame().then(() => {
          if (n === changes) lastPaint = performance.now();
        });
      };
      const observer = new MutationObserver((records) => {
        const t = transcript();
        if (t && records.some((r) => t.contains(r.target) || [...r.addedNodes].some((n) => n.contains?.(t)))) changed();
      });
      observer.observe(document, { childList: true, subtree: true, characterData: true, attributes: true });
      const onScroll = (e) => e.target === transcript() && changed();
      document.addEventListener("scroll", onScroll, true);
      const ready = () => {
        const t = transcript();
        if (!t) return false;
        const entries = [...t.querySelectorAll('[data-testid="entry"]')];
        if (entries.at(-1)?.querySelector(".text")?.textContent !== last) return false;
        return entries.some((e) => inView(e, t));
      };
      click();
      return new Promise((resolve) => {
        const tick = () => {
          const now = performance.now();
          if (ready() && now - lastChange >= quiet && lastPaint >= lastChange) {
            observer.disconnect();
            document.removeEventListener("scroll", onScroll, true);
            resolve(lastPaint - t0);
          } else requestAnimationFrame(tick);
        };
        tick();
      });
    },
  };
  // Started before the page's own scripts, so a load of /conversations is timed from
  // navigation start (performance.now() counts from there).
  const listShown = location.pathname === "/conversations" ? when(() => window.__bench.listReady()) : null;
}
