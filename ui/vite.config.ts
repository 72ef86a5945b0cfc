import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The relay's admin listener serves the built files; `npm run dev` proxies the API to a
// running relay (set SWITCHBOARD_ADMIN to its address) for fast UI work.
//
// Two pages: the admin app (index.html) and the 8x8 agent's Copilot workspace
// (copilot.html), which the endpoint listener serves under /copilot/. Each entry gets its
// own chunks, so the Copilot page never loads the admin app's code.
export default defineConfig({
  plugins: [svelte()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    rolldownOptions: { input: { main: "index.html", copilot: "copilot.html" } },
  },
  // The Copilot page is reached at /copilot/ behind whatever prefix a reverse proxy adds,
  // so its files are named relative to it (/copilot/assets/…); the admin app keeps
  // absolute paths, since its client-side routes sit at any depth.
  experimental: {
    renderBuiltUrl(filename, { hostId, hostType }) {
      if (hostType === "html") return hostId === "copilot.html" ? `./${filename}` : undefined;
      return isCopilotChunk(hostId) ? { relative: true } : undefined;
    },
  },
  server: {
    proxy: { "/api": process.env.SWITCHBOARD_ADMIN ?? "http://127.0.0.1:8788" },
  },
});

function isCopilotChunk(hostId: string): boolean {
  return /(^|\/)copilot-[^/]*\.(js|css)$/.test(hostId);
}
