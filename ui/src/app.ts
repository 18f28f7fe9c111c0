// The application: the top bar, the screen shown, and what outlives a screen (the
// settings, the last error). Screens are in screens/ (one file each, registered in
// screens/index.ts); runtime.ts runs their effects. App mounts the screen a route
// names, renders with lit-html, and keeps the focus where the user expects it: on a new
// screen or step, and on an error that answers what the user did (`reveal`).

import { html, render } from "lit-html";
import { keyed } from "lit-html/directives/keyed.js";
import { api, toIpcError, type IpcError, type Settings } from "./ipc";
import { hotlineNumber } from "./views";
import { lang, setLang, t } from "./i18n";
import type { Host, Mounted, Shared } from "./runtime";
import { open, type Name, type Route } from "./screens";

export class App implements Host {
  shared: Shared = { settings: { server_url: "", pkcs11_module: null, lang: "vi" }, lastError: null, hotline: null };
  /** Counts screen changes: what an effect brings back for an earlier screen is dropped. */
  generation = 0;
  private shown: { name: Name; screen: Mounted } | null = null;
  /** The id of the screen painted last: a screen's first paint puts the cursor in it. */
  private painted = 0;
  /** The cursor went away with the element it was in (or a screen opened) and no
   * [autofocus] element was there yet (the wizard's "working" step): a later paint of the
   * screen puts it there, unless the user put it somewhere first. */
  private owesFocus = false;
  private rendering = false;
  private again = false;
  /** The error boxes ([data-reveal]) already brought into view. */
  private revealed = new WeakSet<Element>();
  /** The error brought into view last: the renders that follow keep it there (a token
   * read that adds a warning above it) until the user does something. */
  private pinned: HTMLElement | null = null;

  constructor(private root: HTMLElement) {
    root.addEventListener("focusin", () => (this.owesFocus = false));
    for (const type of ["keydown", "pointerdown", "wheel", "touchstart"]) {
      window.addEventListener(type, () => (this.pinned = null), { capture: true, passive: true });
    }
  }

  async start(): Promise<void> {
    try {
      const settings = await api.settingsGet();
      this.shared = { ...this.shared, settings };
      setLang(settings.lang);
    } catch (e) {
      this.remember(toIpcError(e));
    }
    await api.onReaderEvent((e) => {
      if (this.shown?.screen.readerEvent(e)) return;
      // No screen reads the tokens now: read them anyway, so that a failing token
      // library is the support report's last error, wherever the user is.
      void api.tokens().catch((err: unknown) => this.remember(toIpcError(err)));
    });
    await api.onProgress((p) => this.shown?.screen.progress(p));
    this.go(await this.startRoute());
    void this.askHotline();
  }

  /** The hotline known at once, then the server's: wherever it is shown, the same one. */
  private async askHotline(): Promise<void> {
    for (const ask of [false, true]) {
      const hotline = await api.hotline(ask).catch(() => null);
      if (hotline && (hotline.number !== this.shared.hotline?.number || hotline.from_server !== this.shared.hotline?.from_server)) {
        this.shared = { ...this.shared, hotline };
        this.render();
      }
    }
  }

  /** Where the user starts: the login screen, the home screen of a session still open,
   * or the forced change of a must-change session (kept across restarts). */
  private async startRoute(): Promise<Route> {
    const session = await api.session().catch(() => null);
    if (!session) return { name: "login" };
    return session.must_change_password ? { name: "change", username: session.username, forced: true } : { name: "home", username: session.username };
  }

  leave(): void {
    const from = this.generation;
    // Unless the user went somewhere else while the shell was asked.
    void this.startRoute().then((route) => {
      if (this.generation === from) this.go(route);
    });
  }

  go(route: Route): void {
    this.pinned = null;
    this.shown?.screen.dispose();
    const id = ++this.generation;
    this.shown = { name: route.name, screen: open(route, this, id) };
    this.shown.screen.start();
  }

  remember(error: IpcError): void {
    this.shared = { ...this.shared, lastError: error };
  }

  saveSettings(settings: Settings): void {
    const moved = settings.server_url !== this.shared.settings.server_url;
    this.shared = { ...this.shared, settings };
    setLang(settings.lang);
    // Another server has its own desk: ask it at once, not at the next start.
    if (moved) void this.askHotline();
  }

  element(selector: string): HTMLElement | null {
    return this.root.querySelector<HTMLElement>(selector);
  }

  private toggleLang(): void {
    this.saveSettings({ ...this.shared.settings, lang: lang() === "vi" ? "en" : "vi" });
    void api.settingsSet(this.shared.settings).catch(() => undefined);
    this.render();
  }

  render(): void {
    // A handler the render itself runs (a blur as an element goes) renders after it.
    if (this.rendering) {
      this.again = true;
      return;
    }
    this.rendering = true;
    try {
      do {
        this.again = false;
        this.paint();
      } while (this.again);
    } finally {
      this.rendering = false;
    }
  }

  private paint(): void {
    const shown = this.shown;
    if (!shown) return;
    const focused = document.activeElement;
    render(
      html`<header class="topbar">
        <div class="brand">${MARK}<div class="brand-text"><h1>${t("app_title")}</h1><p class="subtitle">${t("app_subtitle")}</p></div></div>
        <nav aria-label=${t("app_title")}><button type="button" class="link" data-testid="nav-support" @click=${() => this.go({ name: "support" })}>${t("support")}</button><button
          type="button" class="link" data-testid="nav-settings" @click=${() => this.go({ name: "settings" })}>${t("settings")}</button><button
          type="button" class="link" data-testid="lang-toggle" lang=${lang() === "vi" ? "en" : "vi"} @click=${() => this.toggleLang()}>${t("lang_toggle")}</button></nav>
      </header>
      <main data-testid="screen-${shown.name}">${keyed(shown.screen.id, shown.screen.view())}</main>
      <footer class="footer" data-testid="footer">
        <span>${t("footer_hotline")}: ${hotlineNumber(this.shared.hotline, "footer-hotline")}</span>
        <span data-testid="app-version">${t("version", { version: __APP_VERSION__ })}</span>
      </footer>`,
      this.root,
    );
    // lit-html keeps the elements that stay, and the focus with them. On a new screen, or
    // when the focused element went away (a new step), the cursor goes to [autofocus].
    const first = this.painted !== shown.screen.id;
    this.painted = shown.screen.id;
    const lost = focused instanceof HTMLElement && focused !== document.body && !focused.isConnected;
    if (first || lost) this.owesFocus = true;
    const nowhere = !document.activeElement || document.activeElement === document.body;
    if (this.owesFocus && (first || nowhere)) this.element("[autofocus]")?.focus();
    // A new error box: brought into view once the effects of the update have run (they
    // may put the cursor in the field to fix).
    const fresh = [...this.root.querySelectorAll<HTMLElement>("[data-reveal]")].filter((el) => !this.revealed.has(el));
    fresh.forEach((el) => this.revealed.add(el));
    const box = fresh[0] ?? this.pinned;
    if (fresh[0]) this.pinned = fresh[0];
    if (box) queueMicrotask(() => this.reveal(box, box === fresh[0]));
  }

  /** Brings an error into view (the first time, on a new error) or keeps it there. The
   * cursor stays in a field to type in (the one to fix, the PIN to type again), and the
   * field stays in view with the error when both fit; otherwise the error takes the
   * cursor, so that a screen reader reads it from where the user goes on. */
  private reveal(box: HTMLElement, first: boolean): void {
    if (!box.isConnected || this.pinned !== box) return;
    const active = document.activeElement;
    const field = active instanceof HTMLElement && this.root.contains(active) && active.matches(TYPING) ? active : null;
    if (first && !field) box.focus({ preventScroll: true });
    bringIntoView(box, field);
  }
}

/** The product's mark: a shield with a key, the token's proof (inline: no external asset). */
const MARK = html`<svg class="mark" viewBox="0 0 32 32" width="36" height="36" aria-hidden="true" focusable="false">
  <path d="M16 2.5 27.5 6.6v8.2c0 7.1-4.8 12.6-11.5 14.7C9.3 27.4 4.5 21.9 4.5 14.8V6.6Z" fill="#fff" />
  <path d="M16 5.2 25 8.4v6.4c0 5.6-3.7 10-9 11.9-5.3-1.9-9-6.3-9-11.9V8.4Z" fill="#e3eefa" />
  <circle cx="12.4" cy="15.4" r="3.6" fill="none" stroke="#0b4f96" stroke-width="2.2" />
  <path d="M15.8 15.4h7.4M21 15.4v3M23.2 15.4v2.2" fill="none" stroke="#0b4f96" stroke-width="2.2" stroke-linecap="round" />
</svg>`;

/** Where the user types: the cursor is left there. */
const TYPING = "input:not([type=checkbox]):not([type=radio]):not([type=button]):not([type=submit]):not([type=reset]), textarea, select";

/** Scrolls the page as little as it takes to show `box`, with the control the user
 * needs next (its form's submit button, or an element marked `data-next`) and `field`
 * as far as they fit with it: the error, what to press, where to type. */
function bringIntoView(box: HTMLElement, field: HTMLElement | null): void {
  const margin = 12;
  const view = window.innerHeight;
  const b = box.getBoundingClientRect();
  const next = box.closest("form")?.querySelector<HTMLElement>("[data-next], button[type=submit]") ?? null;
  let top = b.top;
  let bottom = b.bottom;
  for (const el of [next, field]) {
    const r = el?.getBoundingClientRect();
    if (r && r.height > 0 && Math.max(r.bottom, bottom) - Math.min(r.top, top) + 2 * margin <= view) {
      top = Math.min(r.top, top);
      bottom = Math.max(r.bottom, bottom);
    }
  }
  let dy = bottom + margin > view ? bottom + margin - view : 0;
  if (top - dy < margin) dy = top - margin; // the top of the error first, if it is taller than the window
  if (dy !== 0 && (dy > 0 || window.scrollY > 0)) window.scrollBy(0, dy);
}
