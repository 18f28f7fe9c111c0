// Serves the mock build (dist-mock) and drives Debian's chromium with playwright-core.
import { after, before } from "node:test";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { readFile, mkdir } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const here = fileURLToPath(new URL(".", import.meta.url));
export const dist = join(here, "../../dist-mock");
export const shots = join(here, "../../test-results/screenshots");
/** How long a page may take to show what a test waits for: a deadline that fits a loaded
 * 2-core machine (CI builds beside the browser), never a pause — every wait is on the
 * condition itself, and returns as soon as it holds. */
export const WAIT_MS = 30_000;

const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

export async function serve() {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
    try {
      const file = join(dist, path === "/" ? "index.html" : path);
      const body = await readFile(file);
      res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { server, base: `http://127.0.0.1:${server.address().port}` };
}

export async function launch() {
  await mkdir(shots, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

export async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** The error catalogue the app renders (generated from the Rust one). */
export const errors = JSON.parse(readFileSync(new URL("../../src/generated/errors.json", import.meta.url)));

/** One server and one browser for a test file, started before its tests and stopped
 * after: `app.open(query, viewport)` opens the app at the login screen. */
export function useApp() {
  const app = { browser: null, base: null, web: null };
  before(async () => {
    ({ server: app.web, base: app.base } = await serve());
    app.browser = await launch();
  });
  after(async () => {
    await app.browser?.close();
    app.web?.close();
  });
  app.open = async (query = "", viewport = { width: 920, height: 760 }) => {
    const page = await app.browser.newPage({ viewport });
    page.setDefaultTimeout(WAIT_MS);
    await page.goto(`${app.base}/?${query}`);
    await page.getByTestId("screen-login").waitFor();
    return page;
  };
  return app;
}

/** From the login screen to the wizard's PIN step, with the token the mock offers. */
export async function toPin(page, username = "ketoan01") {
  await page.getByTestId("forgot-password").click();
  await page.locator("#wizard-username").fill(username);
  await page.keyboard.press("Enter"); // Enter submits
  await page.getByTestId("cert-details").waitFor();
  await page.getByTestId("token-continue").click();
  await page.locator("#pin").waitFor();
}

/** From the login screen, a portal request with an email the fake backend does not have
 * registered (it answers PORTAL_EMAIL_MISMATCH); returns that error's locator, shown. */
export async function portalWrongEmail(page) {
  await page.getByTestId("portal-recover").click();
  await page.getByTestId("captcha-image").waitFor();
  await page.locator("#portal-mst").fill("0101234567");
  await page.locator("#portal-email").fill("giamdoc@congty.vn");
  await page.locator("#portal-answer").fill("abcde");
  await page.getByTestId("portal-submit").click();
  const error = page.locator('[data-testid=error][data-code="PORTAL_EMAIL_MISMATCH"]');
  await error.waitFor();
  return error;
}

/** Asserts the element is wholly inside the window. */
export async function assertInView(locator, what) {
  const { rect, w, h } = await locator.evaluate((el) => ({ rect: el.getBoundingClientRect().toJSON(), w: innerWidth, h: innerHeight }));
  assert.ok(
    rect.height > 0 && rect.top >= 0 && rect.left >= 0 && rect.bottom <= h && rect.right <= w,
    `${what}: ${Math.round(rect.top)}..${Math.round(rect.bottom)} is not inside the window 0..${h}`,
  );
}
