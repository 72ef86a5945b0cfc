// Footprint of the release builds: binary sizes, the headless server's idle memory and
// its memory per idle conversation, and the desktop app's start → interactive time and
// idle memory (app + its WebKit processes). A benchmark: it prints figures and asserts
// nothing. Run through scripts/bench/footprint.sh, which builds the binaries and provides
// Xvfb and a private D-Bus session with an unlocked keyring.
//
//   node tests/node/bench/footprint.mjs --bin-dir DIR [--starts N] [--skip-actor-wait] [--only server|desktop] [--smaps] [--app-env NAME=VALUE]...
//
// "Interactive" means: the window's status page shows the relay's State "Running" (the
// UI was served by the embedded relay, its script ran and /api/status was fetched and
// rendered), the live indicator shows "Live" (the /api/events stream is open), and the
// page answers a WebDriver script. It is probed every 20 ms through tauri-driver and
// timed from the app process's start (from /proc, 10 ms resolution).
//
// The desktop figures are given beside those of an empty Tauri window on the same
// WebKitGTK with the same rendering switches (crates/switchboard-empty-window), started
// the same way in the same run, alternating with the app: the platform's floor, and the
// app's start time and idle memory as ratios to it. `--smaps` adds, for the last start
// of each, where the app's memory goes beyond the empty window's, process by process and
// mapping by mapping, with thread and malloc-arena counts.

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
    smaps: { type: "boolean", default: false },
    // NAME=VALUE for the app's process only (not the empty window's), e.g. to try a
    // setting before making it the app's own: --app-env MALLOC_ARENA_MAX=2
    "app-env": { type: "string", multiple: true, default: [] },
  },
});
if (!opts["bin-dir"]) {
  console.error("usage: footprint.mjs --bin-dir DIR [--starts N] [--skip-actor-wait] [--only server|desktop] [--smaps] [--app-env NAME=VALUE]...");
  process.exit(2);
}
const serverBin = realpathSync(join(opts["bin-dir"], "switchboard-server"));
const part = (name) => !opts.only || opts.only === name;
const desktopBin = part("desktop") ? realpathSync(join(opts["bin-dir"], "switchboard")) : null;
// The floor: an empty Tauri window on the same WebKitGTK with the same rendering switches
// (crates/switchboard-empty-window); the app's desktop figures are given as ratios to it.
const emptyBin = part("desktop") ? realpathSync(join(opts["bin-dir"], "empty-window")) : null;
const appEnv = Object.fromEntries(
  opts["app-env"].map((kv) => {
    const at = kv.indexOf("=");
    if (at < 1) throw new Error(`--app-env wants NAME=VALUE, not ${JSON.stringify(kv)}`);
    return [kv.slice(0, at), kv.slice(at + 1)];
  }),
);
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

// ---- the desktop app and the empty window it is measured against ----------------------------

// The page's own timeline (ms since its navigation began), the same for both kinds: when
// its document arrived, when its DOM was ready, its first paint with content, its load
// event, and when this probe ran.
const PAGE_TIMELINE = `const PAGE = (() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    return { page: { document: nav ? nav.responseEnd : null, domReady: nav ? nav.domContentLoadedEventEnd : null, loaded: nav ? nav.loadEventEnd : null, firstPaint: fcp ? fcp.startTime : null, probe: performance.now() } };
  })();`;

// The app is interactive when the status page shows the relay "Running" and the live
// indicator "Live"; the empty window when its one script has run (its page marks the
// document). Both probes also answer a WebDriver script, so the two are timed alike.
const READY = {
  app: `
  ${PAGE_TIMELINE}
  const state = document.querySelector('[data-testid=relay-state]');
  const live = document.querySelector('[data-testid=live-state]');
  const ready = !!state && state.textContent.trim() === 'Running' && !!live && live.textContent.trim() === 'Live';
  const status = performance.getEntriesByType('resource').find((e) => e.name.endsWith('/api/status'));
  const hello = performance.getEntriesByName('switchboard:live')[0];
  return { ready, timeOrigin: performance.timeOrigin, statusFetched: status ? status.responseEnd : null, liveAt: hello ? hello.startTime : null, ...PAGE };`,
  empty: `
  ${PAGE_TIMELINE}
  return { ready: document.documentElement.dataset.state === 'interactive', timeOrigin: performance.timeOrigin, statusFetched: null, liveAt: null, ...PAGE };`,
};

/** Which of the three kinds of process a pid is: the program itself, WebKit's page or network process. */
function roleOf(pid, bin) {
  const exe = exeOf(pid);
  if (exe === bin) return "own";
  if (exe.endsWith("/WebKitWebProcess")) return "web";
  if (exe.endsWith("/WebKitNetworkProcess")) return "network";
  return "other";
}

/** PSS of one process by mapping: heap, anonymous, stacks, and each file by name. */
function smapsByMapping(pid) {
  const out = new Map();
  let name = null;
  let size = 0;
  let perms = "";
  const anon = []; // [size kB, perms] of anonymous mappings, in address order
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const head = line.match(/^[0-9a-f]+-[0-9a-f]+\s+(\S+)\s+\S+\s+\S+\s+\S+\s*(.*)$/);
    if (head) {
      perms = head[1];
      const path = head[2].trim();
      name = path === "" ? "[anon]" : path.startsWith("[") ? path.replace(/:.*/, "]").replace(/]]$/, "]") : path.split("/").pop();
      if (/^\[stack/.test(name)) name = "[stack]";
      continue;
    }
    const size_ = line.match(/^Size:\s+(\d+) kB/);
    if (size_) {
      size = Number(size_[1]);
      if (name === "[anon]") anon.push([size, perms]);
      continue;
    }
    const m = line.match(/^Pss:\s+(\d+) kB/);
    if (m && name) out.set(name, (out.get(name) ?? 0) + Number(m[1]));
  }
  // glibc's malloc arenas (other than the main one, which is [heap]) are 64 MB
  // reservations: a read-write part and the rest without access, side by side.
  let arenas = 0;
  for (let i = 0; i + 1 < anon.length; i++) {
    if (anon[i][1].startsWith("rw") && anon[i + 1][1].startsWith("---") && anon[i][0] + anon[i + 1][0] === 65536) arenas++;
  }
  return { byMapping: out, arenas, threads: statusNumber(pid, "Threads") };
}
function statusNumber(pid, field) {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`^${field}:\\s+(\\d+)`, "m"));
  return m ? Number(m[1]) : 0;
}

/** One start of `bin` through tauri-driver; the home (data, settings) is kept between starts. */
async function desktopStart(kind, bin, home, withSmaps) {
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
      ...(kind === "app" ? appEnv : {}),
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
    capabilities: { alwaysMatch: { "tauri:options": { application: bin } } },
  });
  const sessionAt = Date.now();
  const app = descendants(driver.pid).find((pid) => exeOf(pid) === bin);
  const appStartedAt = startedAtMs(app);
  let probe;
  for (;;) {
    probe = await wdAt(base, "POST", `/session/${sessionId}/execute/sync`, { script: READY[kind], args: [] });
    if (probe.ready) break;
    if (Date.now() - requested > 60_000) throw new Error(`${kind}: the window did not become interactive in 60 s`);
    await sleep(20);
  }
  const readyAt = Date.now();
  await sleep(10_000);
  const pids = [app, ...descendants(app)];
  const mem = treeMemory(pids);
  const byRole = { own: 0, web: 0, network: 0, other: 0 };
  for (const pid of pids) {
    try {
      byRole[roleOf(pid, bin)] += pssKb(pid);
    } catch {
      // gone meanwhile
    }
  }
  const smaps = withSmaps
    ? Object.fromEntries(pids.map((pid) => [roleOf(pid, bin), smapsByMapping(pid)]).filter(([role]) => role !== "other"))
    : null;
  await wdAt(base, "DELETE", `/session/${sessionId}`).catch(() => {});
  const exited = new Promise((r) => driver.on("exit", r));
  driver.kill();
  await exited;
  // Killing the drivers does not always end the window they started; one left running
  // would share its pages with the next start's and lower that one's PSS.
  await endAll(pids);
  return {
    interactiveMs: readyAt - appStartedAt,
    requestToInteractiveMs: readyAt - requested,
    sessionMs: sessionAt - requested,
    relayMs: relayStartedAt === null ? null : relayStartedAt - appStartedAt,
    navigationMs: probe.timeOrigin - appStartedAt,
    statusFetchedMs: probe.statusFetched === null ? null : probe.timeOrigin + probe.statusFetched - appStartedAt,
    // The UI marks when its live feed said hello (ui/src/lib/api.ts).
    liveMs: probe.liveAt === null ? null : probe.timeOrigin + probe.liveAt - appStartedAt,
    page: probe.page,
    mem,
    byRole,
    smaps,
  };
}

/** Running (a zombie holds no memory: it counts as gone). */
const alive = (pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
};
/** Ends these processes (politely, then not) and waits until they are gone. */
async function endAll(pids) {
  for (const [signal, waitMs] of [["SIGTERM", 5_000], ["SIGKILL", 5_000]]) {
    const left = pids.filter(alive);
    if (!left.length) return;
    for (const pid of left) {
      try {
        process.kill(pid, signal);
      } catch {
        // gone meanwhile
      }
    }
    for (const end = Date.now() + waitMs; Date.now() < end && pids.some(alive); ) await sleep(50);
  }
}

function describe(label, r) {
  const relay = r.relayMs === null ? "" : `relay started +${r.relayMs} ms, `;
  const status =
    (r.statusFetchedMs === null ? "" : `, /api/status answered +${r.statusFetchedMs.toFixed(0)} ms`) +
    (r.liveMs === null ? "" : `, live feed +${r.liveMs.toFixed(0)} ms`);
  const p = r.page;
  const at = (v) => (v === null || v === 0 ? "–" : `+${v.toFixed(0)}`);
  const timeline = p ? `; the page: document ${at(p.document)}, DOM ready ${at(p.domReady)}, first paint ${at(p.firstPaint)}, load event ${at(p.loaded)}, ready seen ${at(p.probe)} ms after its navigation` : "";
  console.log(
    `  ${label}: interactive ${r.interactiveMs.toFixed(0)} ms after the process started ` +
      `(${relay}page navigation +${r.navigationMs.toFixed(0)} ms${status}; WebDriver session ${r.sessionMs} ms, ` +
      `request → interactive ${r.requestToInteractiveMs} ms${timeline}); idle RSS ${mb(r.mem.rss)}, PSS ${mb(r.mem.pss)} ` +
      `(own ${mb(r.byRole.own)}, web ${mb(r.byRole.web)}, network ${mb(r.byRole.network)}` +
      `${r.byRole.other ? `, other ${mb(r.byRole.other)}` : ""})`,
  );
}

/** Where the app's PSS differs from the empty window's, process by process, mapping by mapping. */
function printSmapsDiff(app, empty) {
  console.log("\nWhere the app's idle PSS goes beyond the empty window's (last start of each, /proc/PID/smaps):");
  for (const role of ["own", "web", "network"]) {
    const a = app[role];
    const e = empty[role];
    if (!a || !e) continue;
    const names = new Set([...a.byMapping.keys(), ...e.byMapping.keys()]);
    const diffs = [...names].map((n) => [n, a.byMapping.get(n) ?? 0, e.byMapping.get(n) ?? 0]).map(([n, x, y]) => [n, x, y, x - y]);
    const total = diffs.reduce((t, d) => t + d[3], 0);
    console.log(
      `  ${role} process: ${total >= 0 ? "+" : ""}${mb(total)}; threads ${a.threads} vs ${e.threads}, ` +
        `malloc arenas besides the main one ${a.arenas} vs ${e.arenas}`,
    );
    diffs.sort((x, y) => Math.abs(y[3]) - Math.abs(x[3]));
    for (const [n, x, y, d] of diffs.slice(0, 12)) {
      if (Math.abs(d) < 100) break;
      console.log(`    ${n}: ${mb(x)} vs ${mb(y)} (${d >= 0 ? "+" : ""}${mb(d)})`);
    }
  }
}

const ratio = (a, b) => `${(a / b).toFixed(2)}×`;

async function desktopFigures() {
  const starts = Number(opts.starts);
  console.log(
    `Desktop app and the empty Tauri window (release), a first start of each then ${starts} more, interleaved, under Xvfb:`,
  );
  const homes = { app: mkdtempSync(join(tmpdir(), "switchboard-footprint-desktop-")), empty: mkdtempSync(join(tmpdir(), "switchboard-footprint-empty-")) };
  const bins = { app: desktopBin, empty: emptyBin };
  const runs = { app: [], empty: [] };
  try {
    for (let i = 0; i <= starts; i++) {
      // Which goes first alternates, so neither always starts on a machine just woken.
      const order = i % 2 === 0 ? ["app", "empty"] : ["empty", "app"];
      for (const kind of order) {
        const r = await desktopStart(kind, bins[kind], homes[kind], i === starts && opts.smaps);
        describe(`${kind === "app" ? "app" : "empty window"}, ${i === 0 ? "first start" : `start ${i}`}`, r);
        runs[kind].push(r);
      }
    }
  } finally {
    for (const home of Object.values(homes)) rmSync(home, { recursive: true, force: true });
  }
  const later = { app: runs.app.slice(1), empty: runs.empty.slice(1) };
  const med = (kind, f) => median(later[kind].map(f));
  row("desktop first start → interactive: app / empty window", `${runs.app[0].interactiveMs.toFixed(0)} / ${runs.empty[0].interactiveMs.toFixed(0)} ms`);
  const [sa, se] = [med("app", (r) => r.interactiveMs), med("empty", (r) => r.interactiveMs)];
  row(`desktop start → interactive, median of ${starts}: app / empty window`, `${sa.toFixed(0)} / ${se.toFixed(0)} ms: **${ratio(sa, se)}**`, "≤ 1.3×");
  const [pa, pe] = [med("app", (r) => r.mem.pss), med("empty", (r) => r.mem.pss)];
  row(`desktop idle (10 s after interactive), with its WebKit processes: PSS sum, median: app / empty window`, `${mb(pa)} / ${mb(pe)}: **${ratio(pa, pe)}**`, "≤ 1.10×");
  for (const [role, name] of [["own", "its own process"], ["web", "WebKitWebProcess"], ["network", "WebKitNetworkProcess"]]) {
    const [a, e] = [med("app", (r) => r.byRole[role]), med("empty", (r) => r.byRole[role])];
    row(`  of which ${name}: app / empty window`, `${mb(a)} / ${mb(e)} (${a >= e ? "+" : ""}${mb(a - e)})`);
  }
  const [ra, re] = [med("app", (r) => r.mem.rss), med("empty", (r) => r.mem.rss)];
  row("desktop idle RSS sum (shared pages counted in each), median: app / empty window", `${mb(ra)} / ${mb(re)}`);
  if (opts.smaps) printSmapsDiff(runs.app.at(-1).smaps, runs.empty.at(-1).smaps);
}

// ---- run ------------------------------------------------------------------------------------

console.log("Release binaries:");
row("switchboard-server binary", mb(statSync(serverBin).size / 1024));
if (desktopBin) row("switchboard (desktop) binary", mb(statSync(desktopBin).size / 1024));
if (emptyBin) row("empty-window binary (the empty Tauri window)", mb(statSync(emptyBin).size / 1024));
if (part("server")) await serverFigures();
if (part("desktop")) await desktopFigures();

console.log("\n| measure | value | target |\n|---|---:|---|");
for (const [what, value, target] of rows) console.log(`| ${what} | ${value} | ${target} |`);
