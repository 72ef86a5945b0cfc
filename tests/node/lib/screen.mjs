// Screenshots of the desktop tests, taken from the X screen the window is on rather than
// through WebDriver: the app draws without WebKit's accelerated compositing
// (src-tauri/src/rendering.rs), and in that mode WebKitWebDriver's screenshot never
// answers. The X screen also shows what the user sees — the pixels the window drew —
// so each shot is checked for being more than a blank rectangle.

import { execFileSync } from "node:child_process";
import assert from "node:assert/strict";

/** Writes the whole screen of `$DISPLAY` to `path` (PNG) and checks the window drew. */
export function screenshot(path) {
  assert.ok(process.env.DISPLAY, "the desktop tests run on an X display (xvfb-run)");
  execFileSync("import", ["-display", process.env.DISPLAY, "-window", "root", `png:${path}`], {
    timeout: 30_000,
  });
  // A page of text and controls has hundreds of colours (anti-aliasing); an empty or
  // unpainted window has one or two.
  const colours = Number(execFileSync("identify", ["-format", "%k", path], { timeout: 30_000 }).toString());
  assert.ok(colours > 50, `the screenshot ${path} shows a drawn window (${colours} colours)`);
}
