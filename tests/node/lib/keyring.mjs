// Reads Switchboard's entries straight from the session's Secret Service (gnome-keyring in
// the tests) through gdbus, so a test can check that a key really is in the keychain.

import { execFileSync } from "node:child_process";

const SERVICE = "dev.switchboard.app";

function gdbus(objectPath, method, ...args) {
  return execFileSync(
    "gdbus",
    ["call", "--session", "--dest", "org.freedesktop.secrets", "--object-path", objectPath, "--method", method, ...args],
    { encoding: "utf8", timeout: 10_000 },
  );
}

/** The secret values filed under Switchboard's service name, as strings. */
export function switchboardSecrets() {
  const found = gdbus("/org/freedesktop/secrets", "org.freedesktop.Secret.Service.SearchItems", `{'service': '${SERVICE}'}`);
  const items = [...found.matchAll(/objectpath '([^']+)'/g)].map((m) => m[1]);
  if (items.length === 0) return [];
  // A "plain" session: the secret comes back as bytes, fine on a private test bus.
  const opened = gdbus("/org/freedesktop/secrets", "org.freedesktop.Secret.Service.OpenSession", "plain", "<''>");
  const session = opened.match(/objectpath '([^']+)'/)?.[1];
  if (!session) throw new Error(`no Secret Service session: ${opened}`);
  const list = `[${items.map((p) => `objectpath '${p}'`).join(", ")}]`;
  const secrets = gdbus("/org/freedesktop/secrets", "org.freedesktop.Secret.Service.GetSecrets", list, session);
  // Each secret is (session, parameters, value, content type); value is a byte array.
  return [...secrets.matchAll(/\[byte ([^\]]*)\], '[^']*'\)/g)].map((m) =>
    Buffer.from(m[1].split(",").map((b) => Number(b.trim()))).toString("utf8"),
  );
}
