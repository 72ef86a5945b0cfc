// What most browser test files share: one headless server on the sandbox and one
// Chromium for the whole file, started before its first test and stopped after its last.

import { after, before } from "node:test";
import { startServer } from "./relay.mjs";
import { launch } from "./browser.mjs";

/** `{ server, browser }`, filled in before the file's first test runs. */
export function sandboxAndBrowser() {
  const env = { server: null, browser: null };
  before(async () => {
    env.server = await startServer();
    env.browser = await launch();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
  });
  return env;
}
