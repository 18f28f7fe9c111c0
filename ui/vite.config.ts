import { defineConfig } from "vite";

// The Tauri window loads ui/dist; `--mode mock` builds the same app with a scripted
// FAKE backend in place of the Rust one, for the browser tests and a browser demo.
export default defineConfig({
  clearScreen: false,
  server: { port: 1420, strictPort: true },
  build: { target: "es2021", sourcemap: false },
  test: { environment: "jsdom", include: ["tests/unit/**/*.test.ts"] },
});
