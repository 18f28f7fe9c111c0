import { App } from "./app";

async function boot(): Promise<void> {
  // The browser tests and the browser demo run with a scripted FAKE backend in place of
  // the Rust shell; the Tauri build never contains it.
  if (import.meta.env.MODE === "mock") {
    const { install } = await import("./mock-backend");
    install();
  }
  await new App(document.getElementById("app")!).start();
}

void boot();
