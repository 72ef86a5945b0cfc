// The few WebDriver calls the desktop tests need, spoken to tauri-driver directly over
// HTTP (no client library), and a bounded wait for the window to catch up.

import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const DRIVER = "http://127.0.0.1:4444";

export async function wd(method, path, body) {
  return wdAt(DRIVER, method, path, body);
}

/** The same against a driver at `base` (the footprint benchmark runs its own, on a free port). */
export async function wdAt(base, method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json.value)}`);
  return json.value;
}

export async function until(what, fn, ms = 60_000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not happen in ${ms} ms: ${last ?? ""}`);
}

/**
 * Starts tauri-driver with a throwaway home for the app (data, config, cache) and a
 * free endpoint port, so a running copy of the app cannot make a test fail.
 */
export async function startDriver(prefix) {
  const home = mkdtempSync(join(tmpdir(), prefix));
  const driver = spawn("tauri-driver", [], {
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...process.env,
      XDG_DATA_HOME: join(home, "data"),
      XDG_CONFIG_HOME: join(home, "config"),
      XDG_CACHE_HOME: join(home, "cache"),
      SWITCHBOARD_ENDPOINT_BIND: "127.0.0.1:0",
      NO_AT_BRIDGE: "1",
    },
  });
  await until("tauri-driver listening", async () => (await fetch(`${DRIVER}/status`)).ok, 20_000);
  return { driver, home };
}

/** Ends the session and the driver, then removes the app's home once it has let go. */
export async function stopDriver({ driver, home, session }) {
  if (session) await wd("DELETE", `/session/${session}`).catch(() => {});
  if (driver && driver.exitCode === null) {
    const exited = new Promise((r) => driver.on("exit", r));
    driver.kill();
    await exited;
  }
  // An app the driver failed to close (a session ended under load) would outlive the
  // test and hold the test runner's output open: end whatever still runs on this home.
  if (home) killLeftovers(`XDG_DATA_HOME=${join(home, "data")}`);
  // The app may still be flushing caches (e.g. Mesa's shader cache) as it exits.
  if (home) {
    await until("the app's files removed", () => (rmSync(home, { recursive: true, force: true }), true), 15_000);
  }
}

/** Kills the processes whose environment holds `entry` (Linux's /proc). */
function killLeftovers(entry) {
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let environ;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
    } catch {
      continue; // gone, or not ours to read
    }
    if (environ.includes(entry) && Number(pid) !== process.pid) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}
