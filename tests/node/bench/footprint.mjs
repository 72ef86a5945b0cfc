// Footprint of the release builds: binary sizes, the headless server's idle memory and
// its memory per idle conversation, and the desktop app's start → interactive time and
// idle memory (app + its WebKit processes). A benchmark: it prints figures and asserts
// nothing. Run through scripts/bench/footprint.sh, which builds the binaries and provides
// Xvfb and a private D-Bus session with an unlocked keyring.
//
//   node tests/node/bench/footprint.mjs --bin-dir DIR [--starts N] [--skip-actor-wait] [--only server|desktop]
//
// "Interactive" means: the window's status page shows the relay's State "Running" (the
// UI was served by the embedded relay, its script ran and /api/status was fetched and
// rendered), the live indicator shows "Live" (the /api/events stream is open), and the
// page answers a WebDriver script. It is probed every 20 ms through tauri-driver and
// timed from the app process's start (from /proc, 10 ms resolution).

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { wdAt } from "../lib/webdriver.mjs";

const { values: opts } = parseArgs({
  options: {
    "bin-dir": { type: "string" },
    starts: { type: "string", default: "5" },
    "skip-actor-wait": { type: "boolean", default: false },
    only: { type: "string" },
  },
});
if (!opts["bin-dir"]) {
  console.error("usage: footprint.mjs --bin-dir DIR [--starts N] [--skip-actor-wait] [--only server|desktop]");
  process.exit(2);
}
const serverBin = realpathSync(join(opts["bin-dir"], "switchboard-server"));
const part = (name) => !opts.only || opts.only === name;
const desktopBin = part("desktop") ? realpathSync(join(opts["bin-dir"], "switchboard")) : null;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rows = [];
const row = (what, value, target = "") => {
  rows.push([what, value, target]);
  console.log(`  ${what}: ${value}`);
};
const mb = (kb) => `${(kb / 1024).toFixed(1)} MB`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

// ---- /proc ----------------------------------------------------------------------------

function statusKb(pid, field) {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
  return m ? Number(m[1]) : 0;
}
function pssKb(pid) {
  const m = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8").match(/^Pss:\s+(\d+) kB/m);
  return m ? Number(m[1]) : 0;
}
function parentOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}
/** Every living descendant of `root` (not `root` itself). */
function descendants(root) {
  const children = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const ppid = parentOf(name);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  const out = [];
  const todo = [root];
  while (todo.length) for (const c of children.get(todo.pop()) ?? []) out.push(c), todo.push(c);
  return out;
}
function exeOf(pid) {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return "";
  }
}
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim());
const BOOT_MS = Number(readFileSync("/proc/stat", "utf8").match(/^btime (\d+)/m)[1]) * 1000;
/** When the process started, in epoch ms (10 ms resolution with CLK_TCK = 100). */
function startedAtMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const ticks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
  // btime is whole seconds; uptime corrects the sub-second part of the boot instant.
  const uptimeMs = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]) * 1000;
  const bootMs = Date.now() - uptimeMs;
  return (Math.abs(bootMs - BOOT_MS) < 1000 ? bootMs : BOOT_MS) + (ticks * 1000) / CLK_TCK;
}
/** Memory of some processes: RSS summed (shared pages counted in each), PSS summed, and each one's. */
function treeMemory(pids) {
  let rss = 0;
  let pss = 0;
  const each = [];
  for (const pid of pids) {
    try {
      const one = { name: readFileSync(`/proc/${pid}/comm`, "utf8").trim(), rss: statusKb(pid, "VmRSS"), pss: pssKb(pid) };
      rss += one.rss;
      pss += one.pss;
      each.push(one);
    } catch {
      // gone meanwhile
    }
  }
  return { rss, pss, each };
}

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ---- the headless server ------------------------------------------------------------------

async function startServer(extra = []) {
  const dataDir = mkdtempSync(join(tmpdir(), "switchboard-footprint-"));
  const child = spawn(
    serverBin,
    ["--endpoint-bind", "127.0.0.1:0", "--secrets", "env", "--data-dir", dataDir, "--log", "warn", ...extra],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const adminUrl = await new Promise((resolve, reject) => {
    let admin;
    const timer = setTimeout(() => reject(new Error("server not ready in 60 s")), 60_000);
    child.on("exit", (code) => reject(new Error(`server exited ${code}`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      admin = line.match(/Admin UI:\s+(\S+)/)?.[1] ?? admin;
      if (line.includes("Ctrl+C")) {
        clearTimeout(timer);
        resolve(admin);
      }
    });
  });
  const url = new URL(adminUrl);
  return {
    child,
    origin: url.origin,
    token: url.searchParams.get("token"),
    async stop() {
      const exited = new Promise((r) => child.on("exit", r));
      child.kill("SIGTERM");
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const serverMemory = (s) => treeMemory([s.child.pid]);

async function createConversations(server, n, from) {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const res = await fetch(`${server.origin}/api/tester/conversations`, {
        method: "POST",
        headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
        body: JSON.stringify({ name: `Idle user ${from + i}` }),
      });
      if (res.status !== 201) throw new Error(`tester/conversations answered ${res.status}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

async function serverFigures() {
  console.log("Headless server (release), idle 10 s after ready:");
  for (const [label, extra] of [
    ["sandbox on (the default without an API key)", []],
    ["sandbox off", ["--sandbox", "off"]],
  ]) {
    const s = await startServer(extra);
    await sleep(10_000);
    const m = serverMemory(s);
    row(`server idle, ${label}: RSS`, mb(m.rss), label.startsWith("sandbox on") ? "< 30 MB" : "");
    row(`server idle, ${label}: PSS`, mb(m.pss));
    await s.stop();
  }

  console.log("Memory per idle conversation (tester users greeted by the bot, sandbox on):");
  const s = await startServer();
  await sleep(5_000);
  const base = serverMemory(s).rss;
  let made = 0;
  for (const target of [1_000, 10_000]) {
    const t = Date.now();
    await createConversations(s, target - made, made);
    made = target;
    await sleep(5_000);
    const rss = serverMemory(s).rss;
    row(
      `RSS after ${target} conversations (created in ${((Date.now() - t - 5000) / 1000).toFixed(1)} s)`,
      `${mb(rss)}: +${mb(rss - base)}, ${((rss - base) / target).toFixed(2)} kB each`,
    );
  }
  if (!opts["skip-actor-wait"]) {
    // Each conversation's actor (a task) ends after 120 s without work.
    await sleep(130_000);
    const rss = serverMemory(s).rss;
    row(
      `RSS with 10000 conversations, 130 s later (their actors ended)`,
      `${mb(rss)}: +${mb(rss - base)}, ${((rss - base) / 10_000).toFixed(2)} kB each`,
    );
    // The allocator keeps freed memory; asking it to hand back what is free shows what
    // the conversations still use. gdb is optional: without it this row is left out.
    try {
      execFileSync("gdb", ["-p", String(s.child.pid), "-batch", "-ex", "call (int)malloc_trim(0)"], { stdio: "ignore" });
      await sleep(1_000);
      const live = serverMemory(s).rss;
      row(
        "RSS after malloc_trim(0) (through gdb): what the 10000 conversations still use",
        `${mb(live)}: +${mb(live - base)}, ${((live - base) / 10_000).toFixed(2)} kB each`,
      );
    } catch {
      console.log("  (gdb not available: the malloc_trim row is left out)");
    }
  }
  await s.stop();
}

// ---- the desktop app ------------------------------------------------------------------------

const READY = `
  const state = document.querySelector('[data-testid=relay-state]');
  const live = document.querySelector('[data-testid=live-state]');
  const ready = !!state && state.textContent.trim() === 'Running' && !!live && live.textContent.trim() === 'Live';
  const status = performance.getEntriesByType('resource').find((e) => e.name.endsWith('/api/status'));
  return { ready, timeOrigin: performance.timeOrigin, statusFetched: status ? status.responseEnd : null };`;

/** One start of the app through tauri-driver; the home (data, settings) is kept between starts. */
async function desktopStart(home) {
  const [port, nativePort] = [await freePort(), await freePort()];
  const base = `http://127.0.0.1:${port}`;
  const driver = spawn("tauri-driver", ["--port", String(port), "--native-port", String(nativePort)], {
    stdio: ["ignore", "ignore", "pipe"],
    env: {
      ...process.env,
      XDG_DATA_HOME: join(home, "data"),
      XDG_CONFIG_HOME: join(home, "config"),
      XDG_CACHE_HOME: join(home, "cache"),
      SWITCHBOARD_ENDPOINT_BIND: "127.0.0.1:0",
      SWITCHBOARD_LOG: "info",
      NO_AT_BRIDGE: "1",
    },
  });
  // The app's log (through the drivers): when the relay says it started.
  let relayStartedAt = null;
  createInterface({ input: driver.stderr }).on("line", (line) => {
    // tracing colours its output even into a pipe; the time is the line's first word.
    const m = line.replace(/\x1b\[[0-9;]*m/g, "").match(/^(\S+Z)\s.*relay started/);
    if (m && relayStartedAt === null) relayStartedAt = Date.parse(m[1]);
  });
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/status`)).ok) break;
    } catch {
      if (i > 400) throw new Error("tauri-driver did not start");
      await sleep(50);
    }
  }
  const requested = Date.now();
  const { sessionId } = await wdAt(base, "POST", "/session", {
    capabilities: { alwaysMatch: { "tauri:options": { application: desktopBin } } },
  });
  const sessionAt = Date.now();
  const app = descendants(driver.pid).find((pid) => exeOf(pid) === desktopBin);
  const appStartedAt = startedAtMs(app);
  let probe;
  for (;;) {
    probe = await wdAt(base, "POST", `/session/${sessionId}/execute/sync`, { script: READY, args: [] });
    if (probe.ready) break;
    if (Date.now() - requested > 60_000) throw new Error("the app did not become interactive in 60 s");
    await sleep(20);
  }
  const readyAt = Date.now();
  await sleep(10_000);
  const mem = treeMemory([app, ...descendants(app)]);
  await wdAt(base, "DELETE", `/session/${sessionId}`).catch(() => {});
  const exited = new Promise((r) => driver.on("exit", r));
  driver.kill();
  await exited;
  return {
    interactiveMs: readyAt - appStartedAt,
    requestToInteractiveMs: readyAt - requested,
    sessionMs: sessionAt - requested,
    relayMs: relayStartedAt === null ? null : relayStartedAt - appStartedAt,
    navigationMs: probe.timeOrigin - appStartedAt,
    statusFetchedMs: probe.statusFetched === null ? null : probe.timeOrigin + probe.statusFetched - appStartedAt,
    mem,
  };
}

async function desktopFigures() {
  const starts = Number(opts.starts);
  console.log(`Desktop app (release), ${starts} starts after a first one, under Xvfb:`);
  const home = mkdtempSync(join(tmpdir(), "switchboard-footprint-desktop-"));
  const runs = [];
  try {
    for (let i = 0; i <= starts; i++) {
      const r = await desktopStart(home);
      console.log(
        `  ${i === 0 ? "first start" : `start ${i}`}: interactive ${r.interactiveMs.toFixed(0)} ms after the process started ` +
          `(relay started +${r.relayMs ?? "?"} ms, page navigation +${r.navigationMs.toFixed(0)} ms, ` +
          `/api/status answered +${r.statusFetchedMs?.toFixed(0) ?? "?"} ms; WebDriver session ${r.sessionMs} ms, ` +
          `request → interactive ${r.requestToInteractiveMs} ms); idle RSS ${mb(r.mem.rss)}, PSS ${mb(r.mem.pss)} ` +
          `(PSS ${r.mem.each.map((p) => `${p.name} ${mb(p.pss)}`).join(", ")})`,
      );
      runs.push(r);
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  const later = runs.slice(1);
  row("desktop first start → interactive", `${runs[0].interactiveMs.toFixed(0)} ms`);
  row(`desktop start → interactive, median of ${later.length}`, `${median(later.map((r) => r.interactiveMs)).toFixed(0)} ms`, "< 1.5 s");
  row(
    "desktop idle (10 s after interactive), app + WebKit processes: PSS sum, median",
    mb(median(later.map((r) => r.mem.pss))),
    "< 200 MB",
  );
  row("desktop idle, same processes: RSS sum (shared pages counted in each), median", mb(median(later.map((r) => r.mem.rss))));
}

// ---- run ------------------------------------------------------------------------------------

console.log("Release binaries:");
row("switchboard-server binary", mb(statSync(serverBin).size / 1024));
if (desktopBin) row("switchboard (desktop) binary", mb(statSync(desktopBin).size / 1024));
if (part("server")) await serverFigures();
if (part("desktop")) await desktopFigures();

console.log("\n| measure | value | target |\n|---|---:|---|");
for (const [what, value, target] of rows) console.log(`| ${what} | ${value} | ${target} |`);
