// A stand-in for the relay's Copilot routes, serving the built page (ui/dist/copilot.html)
// under /copilot/ with a workspace the test controls: for what the real relay cannot be
// made to do on demand (a 429, a stream that drops), and the page's layout on fixed data.

import { createServer } from "node:http";
import { readFileSync, existsSync } from "node:fs";
import { join, extname } from "node:path";
import { root } from "./relay.mjs";

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".png": "image/png" };

export async function startCopilotMock({ dist = join(root, "ui/dist"), workspace, knowledge = [] }) {
  const state = {
    workspace,
    knowledge,
    /** Status codes (with headers) the next API requests get instead of an answer. */
    faults: [],
    /** Run once as the next event stream is asked for, before it is answered. */
    beforeStream: null,
    streams: new Set(),
    requests: [],
    sessionId: "conv-1",
    token: "good-token",
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    state.requests.push(url.pathname + url.search);
    if (url.pathname === "/copilot/" || url.pathname.startsWith("/copilot/assets/")) {
      const file = url.pathname === "/copilot/" ? "copilot.html" : url.pathname.slice("/copilot/".length);
      const path = join(dist, file);
      if (!existsSync(path)) return void res.writeHead(404).end();
      res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" });
      return void res.end(readFileSync(path));
    }
    if (!url.pathname.startsWith("/copilot/api/")) return void res.writeHead(404).end();
    const fault = state.faults.shift();
    if (fault) return void res.writeHead(fault.status, fault.headers ?? {}).end();
    const valid = url.searchParams.get("sessionId") === state.sessionId && url.searchParams.get("URLToken") === state.token;
    if (!valid) return void res.writeHead(404, { "content-type": "application/json" }).end('{"code":"not_found"}');
    const json = (body) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    switch (url.pathname) {
      case "/copilot/api/workspace":
        return json(state.workspace);
      case "/copilot/api/knowledge": {
        const q = (url.searchParams.get("q") ?? "").toLowerCase();
        return json(state.knowledge.filter((h) => `${h.title} ${h.text}`.toLowerCase().includes(q)));
      }
      case "/copilot/api/events":
        if (state.beforeStream) {
          const run = state.beforeStream;
          state.beforeStream = null;
          run();
        }
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
        res.write(": hello\n\n");
        state.streams.add(res);
        req.on("close", () => state.streams.delete(res));
        return;
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    state,
    link: (token = state.token) => `${origin}/copilot/?userId=u-1&sessionId=${state.sessionId}&URLToken=${token}`,
    /** Replaces the workspace and tells the open pages something changed. */
    update(workspace) {
      state.workspace = workspace;
      for (const s of state.streams) s.write(`event: changed\ndata: {}\n\n`);
    },
    /** A typing hint, as the relay sends it. */
    typing(who, typing) {
      for (const s of state.streams) s.write(`event: typing\ndata: ${JSON.stringify({ who, typing })}\n\n`);
    },
    /** Cuts every open event stream (as a restarting relay or a dropped network would). */
    dropStreams() {
      for (const s of state.streams) s.destroy();
      state.streams.clear();
    },
    close: () => new Promise((r) => { for (const s of state.streams) s.destroy(); server.close(r); }),
  };
}
