// Starts the built headless server on free loopback ports with a throwaway data
// directory, and reads the admin link and Endpoint URL from its ready lines.

import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const artifacts = join(root, "tests/node/artifacts");
mkdirSync(artifacts, { recursive: true });

export function binary(name) {
  return join(process.env.CARGO_TARGET_DIR ?? join(root, "target"), "debug", name);
}

/**
 * Options (all optional): `secrets` ("env", the default, keeps keys in memory; "keychain"
 * uses the session's Secret Service), `dataDir` (reuse one, e.g. to restart a server; it
 * is then left in place), `keepDataDir` (leave a fresh one in place after stop), `env`
 * (variables added to the server's environment).
 * `output()` returns everything the server printed so far (stdout and stderr).
 */
export async function startServer(extraArgs = [], options = {}) {
  const ownDir = !options.dataDir;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "switchboard-test-"));
  const child = spawn(
    binary("switchboard-server"),
    ["--endpoint-bind", "127.0.0.1:0", "--secrets", options.secrets ?? "env", "--data-dir", dataDir, ...extraArgs],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...(options.env ?? {}) } },
  );
  let stderr = "";
  let output = "";
  child.stderr.on("data", (d) => {
    stderr += d;
    output += d;
  });
  child.stdout.on("data", (d) => (output += d));
  const lines = createInterface({ input: child.stdout });
  const ready = await new Promise((resolvePromise, reject) => {
    const found = {};
    const timer = setTimeout(() => reject(new Error(`server not ready in 30 s: ${stderr}`)), 30_000);
    child.on("exit", (code) => reject(new Error(`server exited ${code}: ${stderr}`)));
    lines.on("line", (line) => {
      const admin = line.match(/Admin UI:\s+(\S+)/);
      const endpoint = line.match(/Endpoint URL:\s+(\S+)/);
      if (admin) found.adminUrl = admin[1];
      if (endpoint) found.endpointUrl = endpoint[1];
      if (line.includes("Ctrl+C")) {
        clearTimeout(timer);
        resolvePromise(found);
      }
    });
  });
  return {
    ...ready,
    adminOrigin: new URL(ready.adminUrl).origin,
    /** The admin API's credential, for calls from Node (the page sends its own). */
    auth: { authorization: `Bearer ${new URL(ready.adminUrl).searchParams.get("token")}` },
    dataDir,
    output: () => output,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.on("exit", r)));
      if (ownDir && !options.keepDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
