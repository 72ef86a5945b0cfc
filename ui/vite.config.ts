import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The relay's admin listener serves the built files; `npm run dev` proxies the API to a
// running relay (set SWITCHBOARD_ADMIN to its address) for fast UI work.
export default defineConfig({
  plugins: [svelte()],
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  server: {
    proxy: { "/api": process.env.SWITCHBOARD_ADMIN ?? "http://127.0.0.1:8788" },
  },
});
