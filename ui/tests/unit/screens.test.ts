// The screens' `update`: what each asks the runtime to do. And the app as a whole in
// jsdom, its IPC answered by Tauri's mockIPC: a late answer for a screen the user left
// does not act on the screen they went to.
import { afterEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { App } from "../../src/app";
import type { CaptchaView, IpcError, Settings, TokenView } from "../../src/ipc";
import type { Effect, Shared } from "../../src/runtime";
import { change } from "../../src/screens/change";
import { login } from "../../src/screens/login";
import { portal } from "../../src/screens/portal";
import { wizard } from "../../src/screens/wizard";

const shared: Shared = { settings: { server_url: "", pkcs11_module: null, lang: "vi" }, lastError: null };
const captcha: CaptchaView = { captcha_id: "cap-1", image: "data:image/png;base64,AAAA", expires_at: new Date(Date.now() + 120_000).toISOString() };
const error = (code: IpcError["code"]): IpcError => ({ code, message: code, hint: "h", reference: "RC-1" });
const kinds = (effects: readonly Effect<unknown>[]) => effects.map((e) => (e.type === "focus" || e.type === "clear" ? `${e.type} ${e.selector}` : e.type));

describe("the portal screen", () => {
  it("fetches a captcha when it opens, and renews it before it expires", () => {
    const [m, effects] = portal.init({}, shared);
    expect(m.captchaLoading).toBe(true);
    expect(kinds(effects)).toEqual(["task"]);
    const [loaded, timer] = portal.update(m, { type: "captcha", captcha, renewed: false }, shared);
    expect(loaded.captcha?.captcha_id).toBe("cap-1");
    expect(kinds(timer)).toEqual(["timer"]);
  });

  it("ignores the expiry timer of a captcha already replaced", () => {
    const [m] = portal.init({}, shared);
    const [loaded] = portal.update(m, { type: "captcha", captcha, renewed: false }, shared);
    expect(portal.update(loaded, { type: "expiring", captchaId: "cap-0" }, shared)[1]).toEqual([]);
    const [renewing, effects] = portal.update({ ...loaded, answer: "abc" }, { type: "expiring", captchaId: "cap-1" }, shared);
    expect(renewing.answer).toBe("");
    expect(kinds(effects)).toEqual(["task"]);
  });

  it("sends nothing while a field is wrong, and puts the cursor there", () => {
    const [m] = portal.init({}, shared);
    const [loaded] = portal.update({ ...m, mst: "0101" }, { type: "captcha", captcha, renewed: false }, shared);
    const [next, effects] = portal.update(loaded, { type: "submit" }, shared);
    expect(next.busy).toBe(false);
    expect(kinds(effects)).toEqual(["focus #portal-mst"]);
  });

  it("after a refused captcha: remembers the error, cursor to the answer, a new captcha", () => {
    const [m] = portal.init({}, shared);
    const [loaded] = portal.update({ ...m, mst: "0101234567", email: "a@b.vn", answer: "x" }, { type: "captcha", captcha, renewed: false }, shared);
    const [sending, send] = portal.update(loaded, { type: "submit" }, shared);
    expect(sending.busy).toBe(true);
    expect(kinds(send)).toEqual(["task"]);
    const [failed, effects] = portal.update(sending, { type: "sendFailed", error: error("CAPTCHA_INCORRECT") }, shared);
    expect(kinds(effects)).toEqual(["remember", "focus #portal-answer", "task"]);
    expect([failed.answer, failed.mst, failed.captchaLoading]).toEqual(["", "0101234567", true]);
  });
});

describe("the wizard screen", () => {
  const tok: TokenView = {
    slot_id: 1, label: "T", manufacturer: "m", model: "M", serial: "s", pin_state: "ok",
    certificates: [{ id: "01", label: "", holder: "H", msts: ["0101234567"], personal_ids: [], issuer: "CA", serial: "1",
      not_before: 0, not_after: 4_000_000_000, key_type: "RSA", key_bits: 2048, algorithm: "RS256", digital_signature: true, fingerprint: "" }],
  };

  it("reads the tokens when it opens and at every reader event", () => {
    const [m, effects] = wizard.init({ purpose: "lookup" }, shared);
    expect(m.s.step).toBe("token");
    expect(kinds(effects)).toEqual(["task"]);
    expect(wizard.readerEvent?.({ kind: "card_inserted", reader: "r", atr: "", model: null })).toEqual({ type: "readTokens" });
  });

  it("sends the PIN, empties the field, and never keeps the PIN in its model", () => {
    let [m] = wizard.init({ purpose: "lookup" }, shared);
    [m] = wizard.update(m, { type: "tokensChanged", tokens: [tok] }, shared);
    [m] = wizard.update(m, { type: "toPin" }, shared);
    expect(wizard.update(m, { type: "sendPin", pin: "" }, shared)[0].pinRequired).toBe(true);
    const [working, effects] = wizard.update(m, { type: "sendPin", pin: "975319" }, shared);
    expect(working.s.step).toBe("working");
    expect(kinds(effects)).toEqual(["clear #pin", "task"]);
    expect(JSON.stringify(working)).not.toContain("975319");
  });

  it("a failed attempt reads the tokens again (their PIN flags changed)", () => {
    let [m] = wizard.init({ purpose: "lookup" }, shared);
    [m] = wizard.update(m, { type: "tokensChanged", tokens: [tok] }, shared);
    [m] = wizard.update(m, { type: "toPin" }, shared);
    [m] = wizard.update(m, { type: "sendPin", pin: "000000" }, shared);
    const [again, effects] = wizard.update(m, { type: "failed", error: error("PIN_INCORRECT") }, shared);
    expect(again.s.step).toBe("pin");
    expect(kinds(effects)).toEqual(["task"]);
  });
});

describe("the login and password change screens", () => {
  it("login: an empty field is named, a refusal empties the password field", () => {
    const [m] = login.init({}, shared);
    expect(login.update(m, { type: "submit", username: " ", password: "x" }, shared)[0].missing).toBe("username");
    expect(kinds(login.update(m, { type: "submit", username: "u", password: "p" }, shared)[1])).toEqual(["task"]);
    const [refused, effects] = login.update(m, { type: "failed", error: error("INVALID_CREDENTIALS") }, shared);
    expect(refused.error?.code).toBe("INVALID_CREDENTIALS");
    expect(kinds(effects)).toEqual(["clear #login-password"]);
  });

  it("change: the rules are checked as typed, the passwords are not kept", () => {
    const [m] = change.init({ username: "ketoan01", forced: true }, shared);
    expect(m.unmet).toContain("min_length");
    const typed = { current: "Tam-thoi-7Kq#", next: "Mua-thu-2026!", again: "Mua-thu-2026!" };
    const [ok] = change.update(m, { type: "typed", ...typed }, shared);
    expect(ok.unmet).toEqual([]);
    expect(JSON.stringify(ok)).not.toContain("Mua-thu");
    expect(kinds(change.update(ok, { type: "submit", ...typed }, shared)[1])).toEqual(["task"]);
    expect(change.update(m, { type: "submit", ...typed, again: "x" }, shared)[1]).toEqual([]);
  });
});

describe("the app", () => {
  afterEach(() => {
    clearMocks();
    document.body.replaceChildren();
  });

  it("a login answer that arrives after the user moved on does not take them away", async () => {
    let answerLogin: (v: unknown) => void = () => undefined;
    const settings: Settings = { server_url: "https://x.vn", pkcs11_module: null, lang: "vi" };
    mockIPC(async (cmd) => {
      if (cmd === "settings_get") return settings;
      if (cmd === "session_info") return null;
      if (cmd === "tokens_list") return [];
      if (cmd === "login") return new Promise((r) => (answerLogin = r));
      return null;
    }, { shouldMockEvents: true });
    const root = document.createElement("div");
    document.body.append(root);
    await new App(root).start();
    const $ = <E extends Element = HTMLElement>(css: string) => root.querySelector<E>(css);
    const settle = () => new Promise((r) => setTimeout(r, 0));

    expect($("[data-testid=screen-login]")).not.toBeNull();
    expect(document.activeElement?.id).toBe("login-username");
    $<HTMLInputElement>("#login-username")!.value = "ketoan01";
    $<HTMLInputElement>("#login-password")!.value = "Mua-thu-2026!";
    $<HTMLFormElement>("[data-testid=login-form]")!.requestSubmit();
    $("[data-testid=forgot-password]")!.click(); // before the server answers
    expect($("[data-testid=screen-wizard]")).not.toBeNull();
    answerLogin({ username: "ketoan01", must_change_password: false, expires_at: "", reference: "RC-1" });
    await settle();
    expect($("[data-testid=screen-wizard]"), "still on the wizard, not sent home").not.toBeNull();
    expect($("[data-testid=screen-home]")).toBeNull();
    expect($("[data-testid=step-username]")).not.toBeNull();
  });

  it("a kept must-change session opens on the forced change (the temporary password is spent)", async () => {
    const settings: Settings = { server_url: "https://x.vn", pkcs11_module: null, lang: "vi" };
    mockIPC(async (cmd) => {
      if (cmd === "settings_get") return settings;
      if (cmd === "session_info") return { username: "ketoan01", must_change_password: true, expires_at: "", reference: "RC-1" };
      if (cmd === "tokens_list") return [];
      return null;
    }, { shouldMockEvents: true });
    const root = document.createElement("div");
    document.body.append(root);
    await new App(root).start();
    expect(root.querySelector("[data-testid=screen-change]")).not.toBeNull();
    expect(root.querySelector("[data-testid=screen-home]")).toBeNull();
  });
});
