// Lists Switchboard's entries in the session's Secret Service (gnome-keyring in the tests)
// through gdbus, so a test can check that a key was filed in the keychain. Reading the
// values would need one D-Bus connection to hold a Secret Service session across calls,
// which one-shot gdbus calls cannot do; the entries' attributes are enough here.

import { execFileSync } from "node:child_process";

const SERVICE = "dev.switchboard.app";

function gdbus(objectPath, method, ...args) {
  return execFileSync(
    "gdbus",
    ["call", "--session", "--dest", "org.freedesktop.secrets", "--object-path", objectPath, "--method", method, ...args],
    { encoding: "utf8", timeout: 10_000 },
  );
}

/** The attribute maps of the entries filed under Switchboard's service name. */
export function switchboardEntries() {
  const found = gdbus("/org/freedesktop/secrets", "org.freedesktop.Secret.Service.SearchItems", `{'service': '${SERVICE}'}`);
  // Two arrays, (unlocked, locked), printed as ([objectpath '/a', '/b'], @ao []): both
  // count, a locked entry is still an entry.
  const items = [...found.matchAll(/'(\/[^']+)'/g)].map((m) => m[1]);
  return items.map((item) => {
    const raw = gdbus(item, "org.freedesktop.DBus.Properties.Get", "org.freedesktop.Secret.Item", "Attributes");
    return Object.fromEntries([...raw.matchAll(/'([^']*)': '([^']*)'/g)].map((m) => [m[1], m[2]]));
  });
}

/** The accounts (e.g. "endpoint-api-key") Switchboard has in the keychain. */
export function switchboardAccounts() {
  return switchboardEntries()
    .map((attrs) => attrs.username ?? attrs.account ?? attrs.user)
    .filter(Boolean)
    .sort();
}
