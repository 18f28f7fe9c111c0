import { readFileSync } from "node:fs";
import { defineConfig } from "vite";

// The app's version, as the shell's (src-tauri/tauri.conf.json) says it: read at build
// time, shown in the window's footer (`__APP_VERSION__`, declared in src/globals.d.ts).
const tauri = JSON.parse(readFileSync(new URL("../src-tauri/tauri.conf.json", import.meta.url), "utf8")) as { version: string };

// The Tauri window loads ui/dist; `--mode mock` builds the same app with a scripted
// FAKE backend in place of the Rust one, for the browser tests and a browser demo.
export default defineConfig({
  clearScreen: false,
  define: { __APP_VERSION__: JSON.stringify(tauri.version) },
  server: { port: 1420, strictPort: true },
  build: { target: "es2021", sourcemap: false },
  test: { environment: "jsdom", include: ["tests/unit/**/*.test.ts"] },
});
