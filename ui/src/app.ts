// The application: which screen is shown, and the screens themselves. Each screen is a
// function from state to DOM; the wizard's logic lives in wizard.ts.

import { h, field, input, vnDate } from "./dom";
import { api, toIpcError, type CaptchaView, type Check, type Diagnostics, type IpcError, type PortalView, type Settings } from "./ipc";
import { lang, setLang, t, type Key, type Lang } from "./i18n";
import { passwordPolicy, type Rule } from "./policy";
import * as portal from "./portal";
import * as wiz from "./wizard";

type Screen =
  | { name: "login"; notice?: string }
  | { name: "wizard"; purpose: wiz.Purpose }
  | { name: "portal" }
  | { name: "change"; username: string; forced: boolean }
  | { name: "home"; username: string }
  | { name: "support" }
  | { name: "settings" };

const now = () => Math.floor(Date.now() / 1000);

export class App {
  private screen: Screen = { name: "login" };
  private captchaTimer: number | undefined;
  private wizard: wiz.WizardState = wiz.initial("recover");
  private settings: Settings = { server_url: "", pkcs11_module: null, lang: "vi" };
  private diagnostics: Diagnostics | null = null;
  private lastError: IpcError | null = null;
  private portal: portal.PortalState = portal.initial();
  /** Counts screen changes: the answer to a request made on an earlier screen is dropped. */
  private visit = 0;

  constructor(private root: HTMLElement) {}

  async start(): Promise<void> {
    try {
      this.settings = await api.settingsGet();
      setLang(this.settings.lang);
    } catch (e) {
      this.lastError = toIpcError(e);
    }
    await api.onReaderEvent(() => void this.refreshTokens());
    await api.onProgress((p) => this.dispatch({ type: "progress", progress: p }));
    const session = await api.session().catch(() => null);
    if (session && !session.must_change_password) this.screen = { name: "home", username: session.username };
    this.render();
  }

  private go(screen: Screen): void {
    this.screen = screen;
    this.visit += 1;
    if (screen.name === "portal") {
      this.portal = portal.initial();
      void this.loadCaptcha();
    }
    if (screen.name === "wizard") {
      this.wizard = wiz.initial(screen.purpose);
      void this.refreshTokens();
    }
    if (screen.name === "support") void this.runDiagnostics();
    this.render();
  }

  private dispatch(e: wiz.WizardEvent): void {
    this.wizard = wiz.reduce(this.wizard, e, now());
    if (this.screen.name === "wizard") this.render();
  }

  private async refreshTokens(): Promise<void> {
    try {
      this.dispatch({ type: "tokensChanged", tokens: await api.tokens() });
    } catch (e) {
      this.dispatch({ type: "tokensChanged", tokens: [] });
      this.lastError = toIpcError(e);
    }
  }

  private async runDiagnostics(): Promise<void> {
    this.diagnostics = await api.diagnostics().catch(() => null);
    if (this.screen.name === "support") this.render();
  }

  private toggleLang(): void {
    const next: Lang = lang() === "vi" ? "en" : "vi";
    setLang(next);
    this.settings = { ...this.settings, lang: next };
    void api.settingsSet(this.settings).catch(() => undefined);
    this.render();
  }

  render(): void {
    const focus = document.activeElement?.id;
    this.root.replaceChildren(
      h(
        "header",
        { class: "topbar" },
        h("h1", {}, t("app_title")),
        h("nav", {},
          h("button", { type: "button", class: "link", "data-testid": "nav-support", onclick: () => this.go({ name: "support" }) }, t("support")),
          h("button", { type: "button", class: "link", "data-testid": "nav-settings", onclick: () => this.go({ name: "settings" }) }, t("settings")),
          h("button", { type: "button", class: "link", "data-testid": "lang-toggle", lang: lang() === "vi" ? "en" : "vi", onclick: () => this.toggleLang() }, t("lang_toggle")),
        ),
      ),
      h("main", { "data-testid": `screen-${this.screen.name}` }, this.body()),
    );
    const again = focus ? document.getElementById(focus) : null;
    (again ?? this.root.querySelector<HTMLElement>("[autofocus]"))?.focus();
  }

  private body(): HTMLElement {
    switch (this.screen.name) {
      case "login":
        return this.loginScreen(this.screen.notice);
      case "wizard":
        return this.wizardScreen();
      case "portal":
        return this.portalScreen();
      case "change":
        return this.changeScreen(this.screen.username, this.screen.forced);
      case "home":
        return this.homeScreen(this.screen.username);
      case "support":
        return this.supportScreen();
      case "settings":
        return this.settingsScreen();
    }
  }

  // ---- login ----------------------------------------------------------------------

  private loginScreen(notice?: string): HTMLElement {
    let error: IpcError | null = null;
    const form = h(
      "form",
      { class: "card", "aria-labelledby": "login-title", "data-testid": "login-form" },
      h("h2", { id: "login-title" }, t("login_title")),
      notice ? h("p", { class: "notice", role: "status" }, notice) : null,
      field("login-username", t("username"), { autocomplete: "username", required: true, autofocus: true }),
      field("login-password", t("password"), { type: "password", autocomplete: "current-password", required: true }),
      h("div", { id: "login-error" }),
      h("button", { type: "submit", class: "primary", "data-testid": "login-submit" }, t("login_button")),
      h("div", { class: "links" },
        h("button", { type: "button", class: "link", "data-testid": "forgot-password", onclick: () => this.go({ name: "wizard", purpose: "recover" }) }, t("forgot_password")),
        h("button", { type: "button", class: "link", "data-testid": "forgot-username", onclick: () => this.go({ name: "wizard", purpose: "lookup" }) }, t("forgot_username")),
      ),
      h("p", { class: "alt-path" },
        h("button", { type: "button", class: "link", "data-testid": "portal-recover", onclick: () => this.go({ name: "portal" }) }, t("portal_link"))),
    );
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const username = input(form, "login-username").value.trim();
      const passwordEl = input(form, "login-password");
      const slot = form.querySelector("#login-error")!;
      if (!username || !passwordEl.value) {
        slot.replaceChildren(h("p", { class: "field-error", role: "alert" }, t(!username ? "username_required" : "password_required")));
        return;
      }
      try {
        const r = await api.login(username, passwordEl.value);
        passwordEl.value = "";
        this.go(r.must_change_password ? { name: "change", username: r.username, forced: true } : { name: "home", username: r.username });
      } catch (e) {
        passwordEl.value = "";
        error = toIpcError(e);
        slot.replaceChildren(errorBox(error));
      }
    });
    return form;
  }

  private homeScreen(username: string): HTMLElement {
    return h("section", { class: "card" },
      h("h2", {}, t("logged_in_as", { username })),
      h("div", { class: "actions" },
        h("button", { type: "button", "data-testid": "change-password", onclick: () => this.go({ name: "change", username, forced: false }) }, t("change_title")),
        h("button", { type: "button", "data-testid": "logout", onclick: async () => { await api.logout().catch(() => undefined); this.go({ name: "login" }); } }, t("logout")),
      ),
    );
  }

  // ---- the wizard -----------------------------------------------------------------

  private wizardScreen(): HTMLElement {
    const s = this.wizard;
    const steps: [wiz.Step[], Key][] = s.purpose === "recover"
      ? [[["username"], "step_username"], [["token"], "step_token"], [["pin", "working"], "step_pin"], [["done", "error"], "step_done"]]
      : [[["token"], "step_token"], [["pin", "working"], "step_pin"], [["done", "error"], "step_done"]];
    return h("section", { class: "card wide", "aria-labelledby": "wizard-title" },
      h("h2", { id: "wizard-title" }, t(s.purpose === "recover" ? "recover_title" : "lookup_title")),
      h("ol", { class: "steps", "aria-label": t(s.purpose === "recover" ? "recover_title" : "lookup_title") },
        ...steps.map(([names, key]) => h("li", { class: names.includes(s.step) ? "current" : "", "aria-current": names.includes(s.step) ? "step" : undefined }, t(key)))),
      this.wizardStep(s),
    );
  }

  private wizardStep(s: wiz.WizardState): HTMLElement {
    switch (s.step) {
      case "username": {
        const form = h("form", { "data-testid": "step-username" },
          h("p", {}, t("username_hint")),
          field("wizard-username", t("username"), { autocomplete: "username", required: true, autofocus: true, value: s.username }),
          h("div", { class: "actions" },
            h("button", { type: "button", onclick: () => this.go({ name: "login" }) }, t("cancel")),
            h("button", { type: "submit", class: "primary", "data-testid": "username-continue" }, t("continue"))),
        );
        form.addEventListener("submit", (ev) => {
          ev.preventDefault();
          this.dispatch({ type: "submitUsername", username: input(form, "wizard-username").value });
        });
        return form;
      }
      case "token":
        return this.tokenStep(s);
      case "pin":
        return this.pinStep(s);
      case "working":
        return h("div", { class: "progress", role: "status", "data-testid": "step-working" },
          h("div", { class: "spinner", "aria-hidden": "true" }),
          h("p", {}, t(`progress_${s.progress ?? "reading_token"}` as Key)));
      case "done":
        return s.purpose === "recover" ? this.doneRecover(s) : this.doneLookup(s);
      case "error":
        return h("div", { "data-testid": "step-error" },
          errorBox(s.error!),
          s.error!.code === "PIN_LOCKED" ? h("p", { class: "notice" }, t("pin_locked_path")) : null,
          h("div", { class: "actions" },
            h("button", { type: "button", onclick: () => this.go({ name: "support" }) }, t("support")),
            h("button", { type: "button", class: "primary", autofocus: true, "data-testid": "start-over", onclick: () => this.dispatch({ type: "restart" }) }, t("start_over"))));
    }
  }

  private tokenStep(s: wiz.WizardState): HTMLElement {
    const probs = wiz.problems(s, now());
    const sel = wiz.selected(s);
    const panel = h("div", { class: "token-panel", "data-testid": "token-panel", "aria-live": "polite" });
    for (const p of probs) {
      if (p.kind === "no_token") panel.append(h("p", { class: "warning", "data-testid": "token-waiting" }, t("token_waiting")));
      if (p.kind === "no_certificate") panel.append(h("p", { class: "warning", "data-testid": "token-no-certificate" }, t("token_no_certificate")));
      if (p.kind === "expired") panel.append(h("p", { class: "warning", "data-testid": "token-expired" }, t("token_cert_expired", { date: vnDate(p.notAfter) })));
      if (p.kind === "locked") panel.append(h("p", { class: "danger", "data-testid": "token-locked" }, t("pin_locked"), " ", t("pin_locked_path")));
      if (p.kind === "several") {
        panel.append(h("p", { class: "warning", "data-testid": "token-several" }, t("token_several", { count: p.count })));
        for (const tok of s.tokens) {
          const cert = tok.certificates[0];
          panel.append(h("div", { class: "token-choice" },
            h("span", {}, `${tok.label} — ${cert?.holder ?? "?"} — MST ${cert?.msts.join(", ") ?? "?"}`),
            cert ? h("button", { type: "button", "data-testid": `choose-${tok.slot_id}`, onclick: () => this.dispatch({ type: "select", selection: { slotId: tok.slot_id, certId: cert.id } }) }, t("token_choose")) : null));
        }
      }
    }
    // Without a usable token, the password can still be recovered through the portal.
    if (s.purpose === "recover" && probs.some((p) => p.kind !== "several")) {
      panel.append(h("p", { class: "alt-path" },
        h("button", { type: "button", class: "link", "data-testid": "token-portal", onclick: () => this.go({ name: "portal" }) }, t("token_alternative"))));
    }
    if (sel) {
      panel.append(h("dl", { class: "cert", "data-testid": "cert-details" },
        h("dt", {}, t("token_label")), h("dd", {}, `${sel.token.label} (${sel.token.model})`),
        h("dt", {}, t("cert_holder")), h("dd", { "data-testid": "cert-holder" }, sel.cert.holder),
        h("dt", {}, t("cert_mst")), h("dd", { "data-testid": "cert-mst" }, sel.cert.msts.join(", ")),
        h("dt", {}, t("cert_issuer")), h("dd", {}, sel.cert.issuer),
        h("dt", {}, t("cert_expiry")), h("dd", {}, vnDate(sel.cert.not_after))));
    }
    const blocked = !sel || sel.token.pin_state === "locked";
    return h("div", { "data-testid": "step-token" }, panel,
      h("div", { class: "actions" },
        h("button", { type: "button", onclick: () => s.purpose === "recover" ? this.dispatch({ type: "back" }) : this.go({ name: "login" }) }, t("back")),
        h("button", { type: "button", class: "primary", disabled: blocked, autofocus: !blocked, "data-testid": "token-continue", onclick: () => this.dispatch({ type: "toPin" }) }, t("continue"))));
  }

  private pinStep(s: wiz.WizardState): HTMLElement {
    const state = wiz.pinState(s);
    const form = h("form", { "data-testid": "step-pin", autocomplete: "off" },
      h("p", { class: "note" }, t("pin_ime_note")),
      state === "count_low" ? h("p", { class: "warning", "data-testid": "pin-count-low" }, t("pin_count_low")) : null,
      state === "final_try" ? h("div", { class: "danger", "data-testid": "pin-final-try" },
        h("p", {}, t("pin_final_try")),
        h("label", { class: "check" },
          h("input", { type: "checkbox", id: "confirm-final-try", "data-testid": "confirm-final-try", checked: s.confirmFinalTry, onchange: (ev: Event) => this.dispatch({ type: "confirmFinalTry", value: (ev.target as HTMLInputElement).checked }) }),
          " ", t("pin_final_try_confirm"))) : null,
      h("div", { class: "field" },
        h("label", { for: "pin" }, t("pin_label")),
        h("div", { class: "pin-row" },
          h("input", { id: "pin", name: "pin", type: "password", inputmode: "text", autocomplete: "off", spellcheck: "false", autofocus: true, "aria-describedby": "pin-warnings" }),
          h("button", { type: "button", class: "toggle", "data-testid": "pin-toggle", "aria-controls": "pin", onclick: (ev: Event) => {
            const pin = input(form, "pin");
            pin.type = pin.type === "password" ? "text" : "password";
            (ev.target as HTMLElement).textContent = pin.type === "password" ? t("pin_show") : t("pin_hide");
          } }, t("pin_show")))),
      h("div", { id: "pin-warnings", "aria-live": "assertive" }),
      s.pinError ? errorBox(s.pinError) : null,
      h("div", { class: "actions" },
        h("button", { type: "button", onclick: () => this.dispatch({ type: "back" }) }, t("back")),
        h("button", { type: "submit", class: "primary", "data-testid": "pin-submit", disabled: !wiz.canSubmitPin(s) }, t("confirm"))));
    const pin = input(form, "pin");
    const warnings = form.querySelector("#pin-warnings")!;
    const warn = (caps: boolean, ime: boolean) =>
      warnings.replaceChildren(
        caps ? h("p", { class: "warning", "data-testid": "caps-lock" }, t("pin_caps_lock")) : "",
        ime ? h("p", { class: "warning", "data-testid": "ime-active" }, t("pin_ime_active")) : "");
    let ime = false;
    pin.addEventListener("keydown", (ev) => warn(ev.getModifierState?.("CapsLock") ?? false, ime));
    pin.addEventListener("compositionstart", () => { ime = true; warn(false, true); });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (!pin.value) {
        warnings.replaceChildren(h("p", { class: "field-error", role: "alert" }, t("pin_required")));
        return;
      }
      const value = pin.value;
      pin.value = ""; // the field never keeps the PIN
      const sel = this.wizard.selection!;
      this.dispatch({ type: "submitPin" });
      if (this.wizard.step !== "working") return;
      const args = { slotId: sel.slotId, certId: sel.certId, confirmFinalTry: this.wizard.confirmFinalTry };
      try {
        if (this.wizard.purpose === "recover") this.dispatch({ type: "recovered", result: await api.recover(this.wizard.username, value, args) });
        else this.dispatch({ type: "looked_up", result: await api.lookup(value, args) });
      } catch (e) {
        this.dispatch({ type: "failed", error: toIpcError(e) });
        void this.refreshTokens();
      }
    });
    return form;
  }

  private doneRecover(s: wiz.WizardState): HTMLElement {
    const r = s.result!;
    return h("div", { "data-testid": "step-done", class: "done" },
      h("h3", {}, t("done_title")),
      r.temporary_password
        ? h("div", {}, h("p", {}, t("done_in_app")), h("p", { class: "secret", "data-testid": "temporary-password" }, r.temporary_password))
        : h("p", { "data-testid": "masked-email" }, t("done_sent_to", { email: r.masked_email })),
      h("p", {}, t("done_expires", { date: vnDate(r.password_expires_at) })),
      referenceLine(r.reference),
      h("p", {}, t("done_next")),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "primary", autofocus: true, "data-testid": "done-login", onclick: () => this.go({ name: "login" }) }, t("login_button"))));
  }

  private doneLookup(s: wiz.WizardState): HTMLElement {
    const r = s.lookup!;
    return h("div", { "data-testid": "step-done", class: "done" },
      h("h3", {}, t("lookup_done_title")),
      r.usernames.length
        ? h("ul", { "data-testid": "usernames" }, ...r.usernames.map((u) => h("li", {}, u)))
        : h("div", {}, h("p", { "data-testid": "usernames-none" }, t("lookup_none")), hotline()),
      referenceLine(r.reference),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "primary", autofocus: true, onclick: () => this.go({ name: "login" }) }, t("login_button"))));
  }

  // ---- portal recovery: MST + registered email + captcha, no token ------------------
  // State lives in this.portal (pure changes in portal.ts); the form is built once per
  // render and its messages, captcha, progress and error are brought up to date in
  // place by syncPortal, so typing and focus are never disturbed.

  private portalScreen(): HTMLElement {
    return h("section", { class: "card wide", "aria-labelledby": "portal-title" },
      h("h2", { id: "portal-title" }, t("portal_title")),
      this.portal.result ? this.portalDone(this.portal.result) : this.portalForm());
  }

  private portalForm(): HTMLElement {
    const s = this.portal;
    const form = h("form", { id: "portal-form", "data-testid": "portal-form", novalidate: true },
      h("p", { class: "note" }, t("portal_intro")),
      h("div", { class: "field" },
        h("label", { for: "portal-mst" }, t("portal_mst")),
        h("input", { id: "portal-mst", name: "mst", value: s.mst, autocomplete: "off", spellcheck: "false", autofocus: true, "aria-describedby": "portal-mst-hint portal-mst-msg" }),
        h("p", { id: "portal-mst-hint", class: "small" }, t("portal_mst_hint")),
        h("div", { id: "portal-mst-msg", "data-testid": "mst-message" })),
      h("div", { class: "field" },
        h("label", { for: "portal-email" }, t("portal_email")),
        h("input", { id: "portal-email", name: "email", type: "email", value: s.email, autocomplete: "email", spellcheck: "false", "aria-describedby": "portal-email-hint portal-email-msg" }),
        h("p", { id: "portal-email-hint", class: "small" }, t("portal_email_hint")),
        h("div", { id: "portal-email-msg", "data-testid": "email-message" })),
      h("div", { class: "field", role: "group", "aria-labelledby": "portal-captcha-label" },
        h("span", { id: "portal-captcha-label", class: "field-label" }, t("captcha_image")),
        h("div", { class: "captcha" },
          h("div", { id: "portal-captcha-box", class: "captcha-box", "data-testid": "captcha-box" }),
          h("button", { type: "button", id: "portal-captcha-refresh", "data-testid": "captcha-refresh", "aria-controls": "portal-captcha-box", onclick: () => {
            if (this.portal.captchaLoading) return;
            this.portal = { ...this.portal, answer: "" }; // it answered the old image
            void this.loadCaptcha();
          } }, h("span", { "aria-hidden": "true" }, "↻ "), t("captcha_refresh")))),
      h("div", { class: "field" },
        h("label", { for: "portal-answer" }, t("captcha_answer")),
        h("input", { id: "portal-answer", name: "captcha", class: "captcha-answer", value: s.answer, autocomplete: "off", autocapitalize: "off", spellcheck: "false", "aria-describedby": "portal-answer-hint portal-answer-msg" }),
        h("p", { id: "portal-answer-hint", class: "small" }, t("captcha_answer_hint")),
        h("div", { id: "portal-answer-msg", "data-testid": "answer-message" })),
      h("div", { id: "portal-status", role: "status", "data-testid": "portal-status" }),
      h("div", { id: "portal-error" }),
      h("div", { class: "actions" },
        h("button", { type: "button", "data-testid": "portal-back", onclick: () => this.go({ name: "login" }) }, t("back")),
        h("button", { type: "submit", class: "primary", id: "portal-submit", "data-testid": "portal-submit" }, t("portal_submit"))));
    const [mst, email, answer] = ["portal-mst", "portal-email", "portal-answer"].map((id) => input(form, id));
    const typed = () => {
      this.portal = { ...this.portal, mst: mst.value, email: email.value, answer: answer.value };
      this.syncPortal(form);
    };
    const left = (name: portal.PortalField, el: HTMLInputElement) => () => {
      if (el.value.trim() === "") return; // tabbing through an empty field is not an error yet
      this.portal = { ...this.portal, touched: { ...this.portal.touched, [name]: true } };
      this.syncPortal(form);
    };
    for (const el of [mst, email, answer]) el.addEventListener("input", typed);
    mst.addEventListener("blur", left("mst", mst));
    email.addEventListener("blur", left("email", email));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.submitPortal();
    });
    this.syncPortal(form);
    return form;
  }

  private async submitPortal(): Promise<void> {
    if (this.portal.busy) return;
    const visit = this.visit;
    const liveForm = () => (visit === this.visit ? this.root.querySelector<HTMLElement>("#portal-form") : null);
    this.portal = { ...this.portal, touched: { mst: true, email: true, answer: true } };
    const bad = portal.firstInvalid(this.portal);
    const req = portal.request(this.portal);
    if (bad || !req) {
      this.syncPortal();
      if (bad === "captcha" && this.portal.captchaLoading) return; // the new image is on its way
      liveForm()?.querySelector<HTMLElement>(bad === "captcha" ? "#portal-captcha-refresh" : `#portal-${bad}`)?.focus();
      return;
    }
    this.portal = portal.sending(this.portal);
    this.syncPortal();
    try {
      const result = await api.portalRecover(req.mst, req.email, req.captchaId, req.captchaAnswer);
      if (visit !== this.visit) return;
      this.portal = portal.succeeded(this.portal, result);
      this.render();
    } catch (e) {
      if (visit !== this.visit) return;
      const error = toIpcError(e);
      this.lastError = error;
      // A captcha code works once: whatever went wrong, the next try needs a new one.
      this.portal = portal.failed(this.portal, error);
      this.syncPortal();
      const where = portal.focusAfter(error.code);
      if (where) liveForm()?.querySelector<HTMLElement>(`#portal-${where}`)?.focus();
      await this.loadCaptcha(portal.CAPTCHA_CODES.has(error.code));
    }
  }

  /** A captcha lives 2 minutes on the server: a few seconds before it expires, a new
   * one replaces it (and the answer typed for the old image), unless a request is on
   * its way or the user left the screen. */
  private renewBeforeExpiry(visit: number, captcha: CaptchaView): void {
    window.clearTimeout(this.captchaTimer);
    const ms = Math.max(Date.parse(captcha.expires_at) - Date.now() - 5_000, 10_000);
    this.captchaTimer = window.setTimeout(() => {
      if (visit !== this.visit || this.portal.busy || this.portal.captcha?.captcha_id !== captcha.captcha_id) return;
      this.portal = { ...this.portal, answer: "" };
      void this.loadCaptcha();
    }, Number.isFinite(ms) ? ms : 110_000);
  }

  /** Fetches a new captcha; `renewed` announces that it replaced a refused one. */
  private async loadCaptcha(renewed = false): Promise<void> {
    if (this.portal.captchaLoading) return;
    const visit = this.visit;
    this.portal = { ...this.portal, captcha: null, captchaLoading: true, captchaError: null, captchaRenewed: false };
    this.syncPortal();
    try {
      const captcha = await api.portalCaptcha();
      if (visit !== this.visit) return;
      this.portal = { ...this.portal, captcha, captchaLoading: false, captchaRenewed: renewed };
      this.renewBeforeExpiry(visit, captcha);
    } catch (e) {
      if (visit !== this.visit) return;
      this.portal = { ...this.portal, captchaLoading: false, captchaError: toIpcError(e) };
    }
    this.syncPortal();
  }

  /** Brings the portal form's messages, captcha, progress and error up to date with
   * this.portal, in place. A region whose content did not change is left alone, so a
   * screen reader does not hear the same message at every key press. */
  private syncPortal(form: HTMLElement | null = this.root.querySelector<HTMLElement>("#portal-form")): void {
    if (!form) return;
    const s = this.portal;
    const region = (id: string, key: string, ...content: (Node | null)[]) => {
      const el = form.querySelector<HTMLElement>(`#${id}`)!;
      if (el.dataset.key === key) return;
      el.dataset.key = key;
      el.replaceChildren(...content.filter((c): c is Node => c !== null));
    };
    const note = (id: string, n: Note | null) => {
      region(id, n ? `${n.kind}:${n.text}` : "", n ? h("p", { class: n.kind === "error" ? "field-error" : n.kind, role: n.kind === "error" ? "alert" : undefined }, n.text) : null);
      const field = form.querySelector<HTMLInputElement>(`[aria-describedby~="${id}"]`)!;
      if (n?.kind === "error") field.setAttribute("aria-invalid", "true");
      else field.removeAttribute("aria-invalid");
    };
    note("portal-mst-msg", mstNote(portal.checkMst(s.mst), s.touched.mst));
    note("portal-email-msg", emailNote(portal.checkEmail(s.email), s.touched.email));
    note("portal-answer-msg",
      !s.touched.answer ? null
        : s.answer.trim() === "" ? { kind: "error", text: t("captcha_required") }
          : !s.captcha && !s.captchaLoading ? { kind: "error", text: t("captcha_missing") } : null);
    const answer = input(form, "portal-answer");
    if (answer.value !== s.answer) answer.value = s.answer;

    const c = s.captcha;
    if (c) {
      region("portal-captcha-box", `captcha:${c.captcha_id}`,
        h("img", { src: c.image, alt: t("captcha_alt"), class: "captcha-image", "data-testid": "captcha-image", "data-captcha-id": c.captcha_id }));
    } else if (s.captchaError) {
      const e = s.captchaError;
      region("portal-captcha-box", `error:${e.code}:${e.reference ?? ""}`, errorBox(e));
    } else {
      region("portal-captcha-box", "loading", h("p", { class: "captcha-loading" }, t("captcha_loading")));
    }
    form.querySelector("#portal-captcha-box")!.setAttribute("aria-busy", String(s.captchaLoading));

    region("portal-status", s.busy ? "busy" : s.captchaRenewed ? "renewed" : "",
      s.busy ? h("p", { class: "progress-line" }, h("span", { class: "spinner small", "aria-hidden": "true" }), t("portal_sending"))
        : s.captchaRenewed ? h("p", { class: "note", "data-testid": "captcha-renewed" }, t("captcha_renewed")) : null);
    const e = s.error;
    region("portal-error", e ? `${e.code}:${e.reference ?? ""}:${e.message}` : "",
      e ? errorBox(e) : null,
      e?.code === "PORTAL_EMAIL_MISMATCH" ? bhxhHotline() : null);
    form.setAttribute("aria-busy", String(s.busy));
    form.querySelector("#portal-submit")!.setAttribute("aria-disabled", String(s.busy));
  }

  private portalDone(r: PortalView): HTMLElement {
    const date = vnDate(r.activation_expires_at);
    return h("div", { class: "done", "data-testid": "portal-done" },
      h("h3", {}, t("portal_done_title")),
      h("p", { "data-testid": "portal-masked-email" }, t("done_sent_to", { email: r.masked_email })),
      h("p", { "data-testid": "portal-expires" }, t("portal_link_expires", { date })),
      referenceLine(r.reference),
      h("h4", {}, t("portal_next_title")),
      h("ol", { class: "next-steps", "data-testid": "portal-next" },
        h("li", {}, t("portal_next_check", { email: r.masked_email })),
        h("li", {}, t("portal_next_link", { date })),
        h("li", {}, t("portal_next_login"))),
      h("p", { class: "notice", "data-testid": "portal-old-password" }, t("portal_old_password")),
      h("div", { class: "actions" },
        h("button", { type: "button", "data-testid": "portal-again", onclick: () => {
          this.portal = portal.initial({ mst: this.portal.mst, email: this.portal.email });
          this.render();
          void this.loadCaptcha();
        } }, t("portal_send_again")),
        h("button", { type: "button", class: "primary", autofocus: true, "data-testid": "portal-login", onclick: () => this.go({ name: "login" }) }, t("login_button"))));
  }

  // ---- password change ------------------------------------------------------------

  private changeScreen(username: string, forced: boolean): HTMLElement {
    const form = h("form", { class: "card", "data-testid": "change-form", "aria-labelledby": "change-title" },
      h("h2", { id: "change-title" }, t("change_title")),
      forced ? h("p", { class: "notice" }, t("change_forced")) : null,
      field("current-password", t("current_password"), { type: "password", autocomplete: "current-password", autofocus: true }),
      field("new-password", t("new_password"), { type: "password", autocomplete: "new-password", "aria-describedby": "policy" }),
      field("new-password-again", t("new_password_again"), { type: "password", autocomplete: "new-password" }),
      h("ul", { id: "policy", class: "policy", "data-testid": "policy", "aria-live": "polite" }),
      h("div", { id: "change-error" }),
      h("div", { class: "actions" },
        forced ? null : h("button", { type: "button", onclick: () => this.go({ name: "home", username }) }, t("cancel")),
        h("button", { type: "submit", class: "primary", "data-testid": "change-submit", disabled: true }, t("change_button"))));
    const [cur, next, again] = ["current-password", "new-password", "new-password-again"].map((id) => input(form, id));
    const submit = form.querySelector<HTMLButtonElement>("[data-testid=change-submit]")!;
    const rules: [Rule | "match" | "not_current", Key][] = [
      ["min_length", "rule_min_length"], ["mixed_case", "rule_mixed_case"], ["digit", "rule_digit"],
      ["symbol", "rule_symbol"], ["not_username", "rule_not_username"], ["match", "rule_match"], ["not_current", "rule_not_current"],
    ];
    const update = () => {
      const unmet: string[] = passwordPolicy(next.value, username);
      if (next.value !== again.value || !again.value) unmet.push("match");
      if (next.value && next.value === cur.value) unmet.push("not_current");
      form.querySelector("#policy")!.replaceChildren(...rules.map(([rule, key]) =>
        h("li", { class: unmet.includes(rule) ? "unmet" : "met", "data-rule": rule }, unmet.includes(rule) ? "✗ " : "✓ ", t(key))));
      submit.disabled = unmet.length > 0 || !cur.value;
    };
    for (const el of [cur, next, again]) el.addEventListener("input", update);
    update();
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (submit.disabled) return;
      try {
        await api.changePassword(cur.value, next.value);
        for (const el of [cur, next, again]) el.value = "";
        this.go({ name: "login", notice: t("change_done") });
      } catch (e) {
        form.querySelector("#change-error")!.replaceChildren(errorBox(toIpcError(e)));
      }
    });
    return form;
  }

  // ---- support and settings -------------------------------------------------------

  private supportScreen(): HTMLElement {
    const d = this.diagnostics;
    const checks = d?.checks ?? [];
    const status = h("p", { role: "status", id: "copy-status" });
    return h("section", { class: "card wide", "aria-labelledby": "support-title" },
      h("h2", { id: "support-title" }, t("support_title")),
      h("h3", {}, t("diagnostics")),
      h("ul", { class: "checks", "data-testid": "checks" }, ...checks.map(checkLine)),
      h("div", { class: "actions" },
        h("button", { type: "button", "data-testid": "run-diagnostics", onclick: () => void this.runDiagnostics() }, t("run_diagnostics")),
        h("button", { type: "button", class: "primary", "data-testid": "copy-report", onclick: async () => {
          const report = await api.supportReport().catch((e) => String(toIpcError(e).message));
          const text = this.lastError ? `${report}\nlast error: ${this.lastError.code} ${this.lastError.reference ?? ""}` : report;
          await navigator.clipboard?.writeText(text).catch(() => undefined);
          status.textContent = t("report_copied");
          status.setAttribute("data-report", text);
        } }, t("copy_report"))),
      status,
      hotline(),
      h("div", { class: "actions" }, h("button", { type: "button", onclick: () => this.go({ name: "login" }) }, t("back"))));
  }

  private settingsScreen(): HTMLElement {
    const form = h("form", { class: "card", "data-testid": "settings-form", "aria-labelledby": "settings-title" },
      h("h2", { id: "settings-title" }, t("settings_title")),
      field("server-url", t("server_url"), { value: this.settings.server_url, autofocus: true, inputmode: "url" }),
      field("module-path", t("module_path"), { value: this.settings.pkcs11_module ?? "" }),
      h("div", { class: "field" }, h("label", { for: "language" }, t("language")),
        h("select", { id: "language" },
          h("option", { value: "vi", selected: this.settings.lang === "vi" }, "Tiếng Việt"),
          h("option", { value: "en", selected: this.settings.lang === "en" }, "English"))),
      h("div", { id: "settings-status", role: "status" }),
      h("div", { class: "actions" },
        h("button", { type: "button", onclick: () => this.go({ name: "login" }) }, t("back")),
        h("button", { type: "submit", class: "primary", "data-testid": "settings-save" }, t("save"))));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const module = input(form, "module-path").value.trim();
      const next: Settings = {
        server_url: input(form, "server-url").value.trim(),
        pkcs11_module: module || null,
        lang: (form.querySelector<HTMLSelectElement>("#language")!.value as Lang) ?? "vi",
      };
      try {
        this.settings = await api.settingsSet(next);
        setLang(this.settings.lang);
        this.render();
        document.getElementById("settings-status")!.replaceChildren(h("p", { class: "notice" }, t("saved")));
      } catch (e) {
        form.querySelector("#settings-status")!.replaceChildren(errorBox(toIpcError(e)));
      }
    });
    return form;
  }
}

/** Every error: its message, a hint, and the reference code large enough to read out. */
export function errorBox(e: IpcError): HTMLElement {
  return h("div", { class: "error", role: "alert", "data-testid": "error", "data-code": e.code },
    h("p", { class: "error-message" }, h("strong", {}, e.message), " ", h("code", { class: "code" }, `[${e.code}]`)),
    e.hint ? h("p", {}, h("span", { class: "label" }, `${t("error_hint")}: `), e.hint) : null,
    e.reference ? referenceLine(e.reference) : null,
    e.reference ? h("p", { class: "small" }, t("error_reference_note")) : null);
}

function referenceLine(reference: string): HTMLElement {
  return h("p", { class: "reference" }, `${t("reference")}: `, h("strong", { "data-testid": "reference" }, reference));
}

/** The e-filing support of BHXH Việt Nam, for an email that does not match the registration. */
function bhxhHotline(): HTMLElement {
  return h("div", { class: "hotline bhxh-hotline", "data-testid": "portal-hotline" },
    h("h3", {}, t("portal_hotline_title")),
    h("p", {}, t("portal_hotline_text")),
    h("ul", { class: "phones" }, ...portal.BHXH_HOTLINES.map((n) => h("li", {}, h("a", { href: `tel:${n.tel}`, "data-testid": `tel-${n.tel}` }, n.label)))));
}

type Note = { kind: "error" | "ok" | "note"; text: string };

/** What to say under the MST as it is typed: a wrong character or too many digits at
 * once, missing digits as a hint until the field is left or the form sent. */
function mstNote(c: portal.MstCheck, touched: boolean): Note | null {
  switch (c.kind) {
    case "empty":
      return touched ? { kind: "error", text: t("mst_required") } : null;
    case "ok":
      return { kind: "ok", text: t(c.branch ? "mst_ok_branch" : "mst_ok") };
    case "incomplete":
      return { kind: touched ? "error" : "note", text: t("mst_incomplete", { count: c.missing }) };
    case "bad_char":
      return { kind: "error", text: t("mst_bad_char") };
    case "too_long":
      return { kind: "error", text: t("mst_too_long") };
  }
}

function emailNote(c: portal.EmailCheck, touched: boolean): Note | null {
  if (!touched || c === "ok") return null;
  return { kind: "error", text: t(c === "empty" ? "email_required" : "email_invalid") };
}

function checkLine(c: Check): HTMLElement {
  const key = `check_${c.name}` as Key;
  return h("li", { class: `check ${c.status}`, "data-check": c.name, "data-status": c.status },
    h("span", { class: "mark", "aria-hidden": "true" }, c.status === "ok" ? "✓" : c.status === "warn" ? "!" : "✗"),
    h("span", { class: "visually-hidden" }, t(c.status === "ok" ? "check_ok" : c.status === "warn" ? "check_warn" : "check_fail")),
    h("strong", {}, key in { check_pkcs11_module: 1, check_readers: 1, check_token: 1, check_certificate: 1, check_server: 1, check_clock: 1 } ? t(key) : c.name),
    h("span", { class: "detail" }, ` ${c.detail}`),
    c.code ? h("code", {}, ` [${c.code}]`) : null,
    c.fix ? h("p", { class: "fix" }, `→ ${c.fix}`) : null);
}

function hotline(): HTMLElement {
  return h("div", { class: "hotline", "data-testid": "hotline" },
    h("h3", {}, t("hotline_title"), ": ", h("a", { href: "tel:18001260" }, "1800 1260")),
    h("p", {}, t("hotline_text")),
    h("ul", {}, h("li", {}, t("doc_id")), h("li", {}, t("doc_licence")), h("li", {}, t("doc_authorisation"))));
}
