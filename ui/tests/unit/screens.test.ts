// The screens' `update`: what each asks the runtime to do. And the app as a whole in
// jsdom, its IPC answered by Tauri's mockIPC: a late answer for a screen the user left
// does not act on the screen they went to.
import { afterEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { render } from "lit-html";
import { App } from "../../src/app";
import type { CaptchaView, IpcError, Settings, SupportCodeView, TokenView } from "../../src/ipc";
import { vnDate } from "../../src/i18n";
import { errorBox } from "../../src/views";
import type { Effect, Shared, Ui } from "../../src/runtime";
import type { Route } from "../../src/screens";
import { change } from "../../src/screens/change";
import { login } from "../../src/screens/login";
import { portal } from "../../src/screens/portal";
import { moduleOptions, settings } from "../../src/screens/settings";
import { support } from "../../src/screens/support";
import { wizard } from "../../src/screens/wizard";

const shared: Shared = { settings: { server_url: "", pkcs11_module: null, lang: "vi" }, lastError: null, hotline: null };
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
    slot_id: 1,
    label: "T",
    manufacturer: "m",
    model: "M",
    serial: "s",
    pin_state: "ok",
    pin_pad: false,
    module: "m.dll",
    certificates: [
      {
        id: "01",
        label: "",
        holder: "H",
        msts: ["0101234567"],
        personal_ids: [],
        issuer: "CA",
        serial: "1",
        not_before: 0,
        not_after: 4_000_000_000,
        key_type: "RSA",
        key_bits: 2048,
        algorithm: "RS256",
        digital_signature: true,
        fingerprint: "",
      },
    ],
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

  it("on a reader with its own keypad asks for no PIN, sends none, and says to type it on the reader", async () => {
    const calls: [string, unknown][] = [];
    mockIPC(async (cmd, args) => {
      calls.push([cmd, args]);
      return { usernames: ["ketoan01"], reference: "RC-1" };
    });
    const pad = { ...tok, pin_pad: true };
    let [m] = wizard.init({ purpose: "lookup" }, shared);
    [m] = wizard.update(m, { type: "tokensChanged", tokens: [pad] }, shared);
    [m] = wizard.update(m, { type: "toPin" }, shared);
    const root = document.createElement("div");
    document.body.append(root);
    render(wizard.view(m, { send: () => undefined, go: () => undefined, leave: () => undefined, shared }), root);
    expect(root.querySelector("#pin")).toBeNull();
    expect(root.querySelector("[data-testid=pin-pad]")?.textContent).toContain("nhập mã PIN trên bàn phím của đầu đọc");
    // Whatever a field would have held, nothing is sent: the reader asks.
    const [working, effects] = wizard.update(m, { type: "sendPin", pin: "" }, shared);
    expect(working.pinRequired).toBe(false);
    expect(working.s.step).toBe("working");
    const task = effects[1];
    if (task.type !== "task") throw new Error("a task");
    await task.run();
    expect(calls).toEqual([["lookup_usernames", { pin: "", slotId: 1, certId: "01", confirmFinalTry: false }]]);
    const signing = wizard.update(working, { type: "progress", progress: "signing" } as Parameters<typeof wizard.update>[1], shared)[0];
    render(wizard.view(signing, { send: () => undefined, go: () => undefined, leave: () => undefined, shared }), root);
    expect(root.querySelector("[data-testid=step-working]")?.textContent).toContain("Hãy nhập mã PIN trên bàn phím của đầu đọc");
    clearMocks();
    root.remove();
  });

  it("a failed attempt reads the tokens again (their PIN flags changed) and is remembered for the report", () => {
    let [m] = wizard.init({ purpose: "lookup" }, shared);
    [m] = wizard.update(m, { type: "tokensChanged", tokens: [tok] }, shared);
    [m] = wizard.update(m, { type: "toPin" }, shared);
    [m] = wizard.update(m, { type: "sendPin", pin: "000000" }, shared);
    const [again, effects] = wizard.update(m, { type: "failed", error: error("PIN_INCORRECT") }, shared);
    expect(again.s.step).toBe("pin");
    expect(kinds(effects)).toEqual(["remember", "task"]);
  });

  it("an ended attempt's error offers to send the details to support, straight to the consent", () => {
    let [m] = wizard.init({ purpose: "lookup" }, shared);
    [m] = wizard.update(m, { type: "tokensChanged", tokens: [tok] }, shared);
    [m] = wizard.update(m, { type: "toPin" }, shared);
    [m] = wizard.update(m, { type: "sendPin", pin: "123456" }, shared);
    const [ended, effects] = wizard.update(m, { type: "failed", error: error("CERT_NOT_BOUND") }, shared);
    expect(ended.s.step).toBe("error");
    const remembered = effects.find((e) => e.type === "remember");
    expect(remembered?.type === "remember" && remembered.error.code).toBe("CERT_NOT_BOUND");
    const root = document.createElement("div");
    document.body.append(root);
    const routes: Route[] = [];
    render(wizard.view(ended, { send: () => undefined, go: (r) => routes.push(r), leave: () => undefined, shared }), root);
    const button = root.querySelector<HTMLButtonElement>("[data-testid=step-error] [data-testid=error] [data-testid=send-to-support]")!;
    expect(button.textContent).toBe("Gửi thông tin cho nhân viên hỗ trợ");
    button.click();
    expect(routes).toEqual([{ name: "support", consent: true }]);
    root.remove();
  });

  describe("the email change", () => {
    afterEach(() => {
      clearMocks();
      document.body.replaceChildren();
    });

    it("refuses a new email that is no address, in the field, with the cursor there", () => {
      const [m] = wizard.init({ purpose: "email", username: "ketoan01" }, shared);
      const [refused, effects] = wizard.update(m, { type: "submitUsername", username: "ketoan01", newEmail: "giamdoc@congty" }, shared);
      expect(refused.s.step).toBe("username");
      expect(kinds(effects)).toEqual(["focus #wizard-new-email"]);
      const root = document.createElement("div");
      document.body.append(root);
      render(wizard.view(refused, { send: () => undefined, go: () => undefined, leave: () => undefined, shared }), root);
      expect(root.querySelector("[data-testid=new-email-message]")?.textContent).toBe("Email chưa đúng dạng, ví dụ ketoan@congty.vn.");
      expect(root.querySelector("#wizard-new-email")?.getAttribute("aria-invalid")).toBe("true");
      expect(root.querySelector<HTMLInputElement>("#wizard-username")?.value).toBe("ketoan01");
      const [, none] = wizard.update(m, { type: "submitUsername", username: "", newEmail: "x" }, shared);
      expect(kinds(none), "the first field to fix").toEqual(["focus #wizard-username"]);
    });

    it("sends the PIN with change_email, the account and the new address", async () => {
      const calls: [string, unknown][] = [];
      const started = {
        masked_new_email: "gi***@c***.vn",
        masked_old_email: "ke***@c***.vn",
        confirm_expires_at: "2026-11-25T09:44:03Z",
        wait_secs: 86_400,
        reference: "RC-1",
      };
      mockIPC(async (cmd, args) => {
        calls.push([cmd, args]);
        return started;
      });
      let [m] = wizard.init({ purpose: "email" }, shared);
      [m] = wizard.update(m, { type: "submitUsername", username: "ketoan01", newEmail: "giamdoc@congty.vn" }, shared);
      [m] = wizard.update(m, { type: "tokensChanged", tokens: [tok] }, shared);
      [m] = wizard.update(m, { type: "toPin" }, shared);
      const [working, effects] = wizard.update(m, { type: "sendPin", pin: "975319" }, shared);
      expect(kinds(effects)).toEqual(["clear #pin", "task"]);
      const task = effects[1];
      if (task.type !== "task") throw new Error("a task");
      const answer = await task.run();
      expect(calls).toEqual([
        ["change_email", { username: "ketoan01", newEmail: "giamdoc@congty.vn", pin: "975319", slotId: 1, certId: "01", confirmFinalTry: false }],
      ]);
      expect(answer).toEqual({ type: "emailChangeStarted", result: started });
      const [done] = wizard.update(working, answer as Parameters<typeof wizard.update>[1], shared);
      const root = document.createElement("div");
      document.body.append(root);
      render(wizard.view(done, { send: () => undefined, go: () => undefined, leave: () => undefined, shared }), root);
      const sent = root.querySelector("[data-testid=email-change-sent]")?.textContent ?? "";
      expect(sent).toContain("Đường link xác nhận đã được gửi tới giamdoc@congty.vn. Hãy mở thư và nhấn vào đường link trước 25/11/2026 16:44");
      expect(sent).toContain("email cũ ke***@c***.vn sẽ nhận được thông báo và có thể hủy yêu cầu");
      expect(sent).toContain("Email mới có hiệu lực sau 24 giờ kể từ khi xác nhận.");
      expect(root.querySelector("[data-testid=reference]")?.textContent).toBe("RC-1");
    });
  });

  describe("the server's verdict on the certificate", () => {
    afterEach(() => {
      clearMocks();
      document.body.replaceChildren();
    });
    type M = ReturnType<typeof wizard.init>[0];
    type WMsg = Parameters<typeof wizard.update>[1];
    const atPin = () => {
      let [m] = wizard.init({ purpose: "lookup" }, shared);
      [m] = wizard.update(m, { type: "tokensChanged", tokens: [tok] }, shared);
      return wizard.update(m, { type: "toPin" }, shared);
    };
    const key = (m: M) => m.s.certCheck!.key;
    /** The view of `m` in the page, and the messages it sends. */
    const shown = (m: M) => {
      const root = document.createElement("div");
      document.body.append(root);
      const sent: WMsg[] = [];
      const ui: Ui<WMsg> = { send: (msg) => sent.push(msg), go: () => undefined, leave: () => undefined, shared };
      render(wizard.view(m, ui), root);
      const verdict = root.querySelector<HTMLElement>("[data-testid=cert-verdict]")!;
      return {
        root,
        sent,
        verdict,
        submit: root.querySelector<HTMLButtonElement>("[data-testid=pin-submit]")!,
        pin: root.querySelector<HTMLInputElement>("#pin")!,
      };
    };

    it("is asked on the PIN step for the chosen slot and certificate, once", async () => {
      const calls: [string, unknown][] = [];
      mockIPC(async (cmd, args) => {
        calls.push([cmd, args]);
        return { path: "H < CA < Root (anchor)", revocation_checked: true, revocation: "OCSP good", reference: "RC-1" };
      });
      const [m, effects] = atPin();
      expect(kinds(effects)).toEqual(["task"]);
      const task = effects[0];
      if (task.type !== "task") throw new Error("a task");
      const answer = await task.run();
      expect(calls).toEqual([["certificate_check", { slotId: 1, certId: "01" }]]);
      expect(answer).toEqual({
        type: "certChecked",
        key: key(m),
        check: { path: "H < CA < Root (anchor)", revocation_checked: true, revocation: "OCSP good", reference: "RC-1" },
      });
      const checking = shown(m);
      expect(checking.verdict.dataset.verdict).toBe("checking");
      expect(checking.verdict.textContent).toContain("Đang kiểm tra chứng thư số với máy chủ…");
      expect(checking.submit.disabled, "the PIN does not wait for the verdict").toBe(false);
      const [ok, none] = wizard.update(m, answer as WMsg, shared);
      expect(none).toEqual([]);
      const view = shown(ok);
      expect(view.verdict.dataset.verdict).toBe("ok");
      expect(view.verdict.textContent).toContain("Máy chủ xác nhận chứng thư số hợp lệ.");
      expect(view.root.querySelector("[data-testid=cert-path]")?.textContent).toContain("H < CA < Root (anchor)");
      expect(view.root.querySelector("[data-testid=cert-no-revocation]")).toBeNull();
      expect(view.submit.disabled).toBe(false);
      // Back and on again: not asked again.
      const [back] = wizard.update(ok, { type: "back" }, shared);
      expect(kinds(wizard.update(back, { type: "toPin" }, shared)[1])).toEqual([]);
    });

    it("says when the server does not check revocation", () => {
      const [m] = atPin();
      const [ok] = wizard.update(
        m,
        { type: "certChecked", key: key(m), check: { path: "p", revocation_checked: false, revocation: "", reference: "" } },
        shared,
      );
      expect(shown(ok).root.querySelector("[data-testid=cert-no-revocation]")?.textContent).toBe("(máy chủ không kiểm tra thu hồi)");
    });

    it("a refusal: the error box, the PIN field emptied and disabled, the PIN never sent", () => {
      const [m] = atPin();
      const [refused, effects] = wizard.update(m, { type: "certCheckFailed", key: key(m), error: error("CERT_REVOKED") }, shared);
      expect(kinds(effects)).toEqual(["clear #pin", "remember"]);
      const view = shown(refused);
      expect(view.verdict.dataset.verdict).toBe("refused");
      const box = view.verdict.querySelector<HTMLElement>("[data-testid=error]")!;
      expect(box.dataset.code).toBe("CERT_REVOKED");
      expect(box.textContent, "words and the reference, not the code").not.toContain("[CERT_REVOKED]");
      expect(box.textContent).toContain("RC-1");
      expect(view.root.querySelector("[data-testid=cert-refused]")?.textContent).toBe("Không nên nhập mã PIN: máy chủ sẽ từ chối chứng thư này.");
      expect(view.submit.disabled).toBe(true);
      expect(view.pin.disabled).toBe(true);
      // Even if a PIN reaches the screen (Enter in the field), nothing is sent.
      const [still, sent] = wizard.update(refused, { type: "sendPin", pin: "123456" }, shared);
      expect(still.s.step).toBe("pin");
      expect(kinds(sent)).toEqual(["clear #pin"]);
      const [empty] = wizard.update(refused, { type: "sendPin", pin: "" }, shared);
      expect(empty.pinRequired, "no “enter the PIN” under “do not enter the PIN”").toBe(false);
    });

    it("a network failure: a warning with the message (the hint in its title), and the PIN goes", () => {
      const [m] = atPin();
      const [unknown, effects] = wizard.update(
        m,
        { type: "certCheckFailed", key: key(m), error: { code: "SERVER_UNREACHABLE", message: "Không kết nối được", hint: "Kiểm tra mạng", reference: null } },
        shared,
      );
      expect(kinds(effects)).toEqual(["remember"]);
      const view = shown(unknown);
      expect(view.verdict.dataset.verdict).toBe("unknown");
      const warning = view.root.querySelector("[data-testid=cert-unverified]")!;
      expect(warning.textContent).toContain("Không kết nối được");
      expect(warning.querySelector("p")!.title).toContain("Kiểm tra mạng");
      expect(view.root.querySelector("[data-testid=error]")).toBeNull();
      expect(view.submit.disabled).toBe(false);
      expect(view.pin.disabled).toBe(false);
      const [working, sent] = wizard.update(unknown, { type: "sendPin", pin: "123456" }, shared);
      expect(working.s.step).toBe("working");
      expect(kinds(sent)).toEqual(["clear #pin", "task"]);
    });

    it("a late verdict on a certificate no longer chosen changes nothing", () => {
      const two: TokenView[] = [tok, { ...tok, slot_id: 2, certificates: [{ ...tok.certificates[0], id: "02", fingerprint: "cd" }] }];
      let [m] = wizard.init({ purpose: "lookup" }, shared);
      [m] = wizard.update(m, { type: "tokensChanged", tokens: two }, shared);
      [m] = wizard.update(m, { type: "select", selection: { slotId: 1, certId: "01" } }, shared);
      [m] = wizard.update(m, { type: "toPin" }, shared);
      const first = key(m);
      [m] = wizard.update(m, { type: "back" }, shared);
      [m] = wizard.update(m, { type: "select", selection: { slotId: 2, certId: "02" } }, shared);
      const [second, effects] = wizard.update(m, { type: "toPin" }, shared);
      expect(kinds(effects)).toEqual(["task"]);
      const [late, none] = wizard.update(second, { type: "certCheckFailed", key: first, error: error("CERT_REVOKED") }, shared);
      expect(late).toEqual(second);
      expect(none).toEqual([]);
      expect(shown(late).submit.disabled).toBe(false);
    });
  });
});

describe("the login and password change screens", () => {
  it("login: an empty field is named, a refusal empties the password field", () => {
    const [m] = login.init({}, shared);
    expect(login.update(m, { type: "submit", username: " ", password: "x" }, shared)[0].missing).toBe("username");
    expect(kinds(login.update(m, { type: "submit", username: "u", password: "" }, shared)[1])).toEqual(["focus #login-password"]);
    expect(kinds(login.update(m, { type: "submit", username: "u", password: "p" }, shared)[1])).toEqual(["task"]);
    const [refused, effects] = login.update(m, { type: "failed", error: error("INVALID_CREDENTIALS") }, shared);
    expect(refused.error?.code).toBe("INVALID_CREDENTIALS");
    expect(kinds(effects)).toEqual(["remember", "clear #login-password"]);
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

  it("change: no rule is judged before what it is about is typed", () => {
    const [m] = change.init({ username: "ketoan01", forced: false }, shared);
    expect(m.pending).toEqual(["min_length", "mixed_case", "digit", "symbol", "not_username", "match", "not_current"]);
    const [next] = change.update(m, { type: "typed", current: "", next: "Mua-thu-2026!", again: "" }, shared);
    expect(next.pending).toEqual(["match", "not_current"]);
    const [all] = change.update(m, { type: "typed", current: "x", next: "Mua-thu-2026!", again: "M" }, shared);
    expect(all.pending).toEqual([]);
    expect(all.unmet).toEqual(["match"]);
  });

  it("change, forced: no current password asked, no “differs from the current password” rule, none judged on empty fields", () => {
    const [m] = change.init({ username: "ketoan01", forced: true }, shared);
    expect(m.pending).toEqual(["min_length", "mixed_case", "digit", "symbol", "not_username", "match"]);
    const root = document.createElement("div");
    document.body.append(root);
    render(change.view(m, { send: () => undefined, go: () => undefined, leave: () => undefined, shared }), root);
    expect(root.querySelector("#current-password")).toBeNull();
    expect(root.querySelector("[data-rule=not_current]")).toBeNull();
    expect(root.querySelector("#new-password")!.hasAttribute("autofocus")).toBe(true);
    expect(root.querySelector("[data-testid=policy]")!.textContent).not.toContain("✓");
    const [next] = change.update(m, { type: "typed", current: "", next: "Mua-thu-2026!", again: "" }, shared);
    expect(next.pending).toEqual(["match"]);
    const [ok] = change.update(m, { type: "typed", current: "", next: "Mua-thu-2026!", again: "Mua-thu-2026!" }, shared);
    expect([ok.pending, ok.unmet]).toEqual([[], []]);
    root.remove();
  });

  it("change, forced: sends change_password with current null; not forced, with the current password", async () => {
    const sent: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "change_password") sent.push(args);
      return { reference: "RC-1" };
    });
    const typed = { current: "", next: "Mua-thu-2026!", again: "Mua-thu-2026!" };
    const [forced] = change.init({ username: "ketoan01", forced: true }, shared);
    const [busy, effects] = change.update(forced, { type: "submit", ...typed }, shared);
    expect(busy.busy).toBe(true);
    const task = effects.find((e) => e.type === "task");
    const answer = await (task as { run: () => Promise<unknown> }).run();
    expect(answer).toEqual({ type: "changed" });
    const [done] = change.update(busy, answer as never, shared);
    expect(done.done).toBe(true);
    const [normal] = change.init({ username: "ketoan01", forced: false }, shared);
    const [, effects2] = change.update(normal, { type: "submit", ...typed, current: "Cu-Mat-khau-1" }, shared);
    await (effects2.find((e) => e.type === "task") as { run: () => Promise<unknown> }).run();
    expect(sent).toEqual([
      { current: null, new: "Mua-thu-2026!" },
      { current: "Cu-Mat-khau-1", new: "Mua-thu-2026!" },
    ]);
    clearMocks();
  });

  it("change: busy while the change is on its way, sent once, not busy after a refusal", () => {
    const [m] = change.init({ username: "ketoan01", forced: true }, shared);
    const typed = { current: "Tam-thoi-7Kq#", next: "Mua-thu-2026!", again: "Mua-thu-2026!" };
    const [busy, effects] = change.update(m, { type: "submit", ...typed }, shared);
    expect([busy.busy, kinds(effects)]).toEqual([true, ["task"]]);
    expect(change.update(busy, { type: "submit", ...typed }, shared)[1]).toEqual([]);
    const [refused] = change.update(busy, { type: "failed", error: error("PASSWORD_REUSE") }, shared);
    expect([refused.busy, refused.error?.code]).toEqual([false, "PASSWORD_REUSE"]);
    expect(change.update(refused, { type: "toggle", field: "next" }, shared)[0].shown).toEqual({ current: false, next: true, again: false });
  });

  it("login: a username the journey knows is filled in, and the cursor goes to the password", () => {
    const [m] = login.init({ username: "ketoan02" }, shared);
    const root = document.createElement("div");
    document.body.append(root);
    render(login.view(m, { send: () => undefined, go: () => undefined, leave: () => undefined, shared }), root);
    expect(root.querySelector<HTMLInputElement>("#login-username")!.value).toBe("ketoan02");
    expect(root.querySelector("#login-password")!.hasAttribute("autofocus")).toBe(true);
    expect(root.querySelector("#login-username")!.hasAttribute("autofocus")).toBe(false);
    expect(root.querySelector<HTMLFormElement>("[data-testid=login-form]")!.noValidate).toBe(true);
    expect(root.querySelectorAll("[required]").length).toBe(0);
    root.remove();
  });

  it("wizard: the recovery of a found account starts with its username filled in", () => {
    const [m] = wizard.init({ purpose: "recover", username: "ketoan02" }, shared);
    expect([m.s.step, m.s.username]).toEqual(["username", "ketoan02"]);
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
    mockIPC(
      async (cmd) => {
        if (cmd === "settings_get") return settings;
        if (cmd === "session_info") return null;
        if (cmd === "tokens_list") return [];
        if (cmd === "login") return new Promise((r) => (answerLogin = r));
        return null;
      },
      { shouldMockEvents: true },
    );
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
    mockIPC(
      async (cmd) => {
        if (cmd === "settings_get") return settings;
        if (cmd === "session_info") return { username: "ketoan01", must_change_password: true, expires_at: "", reference: "RC-1" };
        if (cmd === "tokens_list") return [];
        return null;
      },
      { shouldMockEvents: true },
    );
    const root = document.createElement("div");
    document.body.append(root);
    await new App(root).start();
    expect(root.querySelector("[data-testid=screen-change]")).not.toBeNull();
    expect(root.querySelector("[data-testid=screen-home]")).toBeNull();
  });
});

describe("the settings screen", () => {
  afterEach(() => {
    clearMocks();
    document.body.replaceChildren();
  });
  type M = ReturnType<typeof settings.init>[0];
  type SMsg = Parameters<typeof settings.update>[1];
  const found = ["C:\\Windows\\System32\\vnpt-ca_csp11.dll", "C:\\Windows\\System32\\eps2003csp11.dll"];
  const savedPath = "D:\\Token\\old-csp11.dll";
  const withSaved: Shared = { ...shared, settings: { ...shared.settings, pkcs11_module: savedPath } };
  /** The message a task effect brings back. */
  const answer = async (effect: Effect<SMsg> | undefined): Promise<SMsg> => {
    if (effect?.type !== "task") throw new Error("a task");
    return effect.run();
  };
  /** The view of `m` in the page: its module list, and the messages it sends. */
  const shown = (m: M, on: Shared = shared) => {
    const root = document.createElement("div");
    document.body.append(root);
    const sent: SMsg[] = [];
    render(settings.view(m, { send: (msg) => sent.push(msg), go: () => undefined, leave: () => undefined, shared: on }), root);
    const select = root.querySelector<HTMLSelectElement>("select#module-path")!;
    return { root, sent, select, options: [...select.options].map((o) => [o.value, o.textContent]) };
  };

  it("has no text box for a module path: a list of automatic and the saved module while the list loads", () => {
    const [m, effects] = settings.init({}, withSaved);
    expect(kinds(effects)).toEqual(["task"]);
    expect(moduleOptions(m)).toEqual(["", savedPath]);
    const view = shown(m, withSaved);
    expect(view.root.querySelector("input#module-path")).toBeNull();
    expect(view.options).toEqual([
      ["", "Tự động tìm (khuyên dùng)"],
      [savedPath, savedPath],
    ]);
    expect(view.select.value).toBe(savedPath);
    expect(view.root.querySelector("[data-testid=module-pick]")?.textContent).toBe("Chọn tệp…");
  });

  it("loads the modules found on this computer into the list when it opens", async () => {
    const calls: string[] = [];
    mockIPC(async (cmd) => {
      calls.push(cmd);
      return found;
    });
    const [m, effects] = settings.init({}, withSaved);
    const msg = await answer(effects[0]);
    expect(calls).toEqual(["modules_list"]);
    expect(msg).toEqual({ type: "found", modules: found });
    const [loaded, none] = settings.update(m, msg, withSaved);
    expect(none).toEqual([]);
    expect(moduleOptions(loaded)).toEqual(["", ...found, savedPath]);
    expect(loaded.module, "the saved module stays selected").toBe(savedPath);
    expect(shown(loaded, withSaved).select.value).toBe(savedPath);
    // A module both found and saved is listed once.
    const [again] = settings.update(m, { type: "found", modules: [savedPath, ...found] }, withSaved);
    expect(moduleOptions(again)).toEqual(["", savedPath, ...found]);
  });

  it("a list that cannot be read leaves automatic and the saved module, and saving works", async () => {
    mockIPC(async () => {
      throw { code: "INTERNAL", message: "x", hint: "", reference: null };
    });
    const [m, effects] = settings.init({}, withSaved);
    const msg = await answer(effects[0]);
    expect(msg).toEqual({ type: "found", modules: [] });
    const [failed] = settings.update(m, msg, withSaved);
    expect(failed.status).toBeNull();
    expect(moduleOptions(failed)).toEqual(["", savedPath]);
    const view = shown(failed, withSaved);
    view.root.querySelector<HTMLFormElement>("[data-testid=settings-form]")!.requestSubmit();
    expect(view.sent).toEqual([{ type: "save", settings: { server_url: "", pkcs11_module: savedPath, lang: "vi" } }]);
  });

  it("choose file: the path picked in the native dialog is added to the list and selected", async () => {
    const picked = "C:\\Program Files\\BkavCA\\BkavCA.dll";
    const calls: string[] = [];
    mockIPC(async (cmd) => {
      calls.push(cmd);
      return picked;
    });
    let [m] = settings.init({}, shared);
    [m] = settings.update(m, { type: "found", modules: found }, shared);
    const clicked = shown(m);
    clicked.root.querySelector<HTMLButtonElement>("[data-testid=module-pick]")!.click();
    expect(clicked.sent).toEqual([{ type: "pick" }]);
    const [picking, effects] = settings.update(m, { type: "pick" }, shared);
    expect(kinds(effects)).toEqual(["task"]);
    expect(shown(picking).root.querySelector<HTMLButtonElement>("[data-testid=module-pick]")!.disabled, "one dialog at a time").toBe(true);
    expect(settings.update(picking, { type: "pick" }, shared)[1]).toEqual([]);
    const msg = await answer(effects[0]);
    expect(calls).toEqual(["module_pick"]);
    expect(msg).toEqual({ type: "picked", path: picked });
    const [chosen, none] = settings.update(picking, msg, shared);
    expect(none).toEqual([]);
    expect(chosen.module).toBe(picked);
    expect(moduleOptions(chosen)).toEqual(["", ...found, picked]);
    const view = shown(chosen);
    expect(view.select.value).toBe(picked);
    expect(view.root.querySelector<HTMLButtonElement>("[data-testid=module-pick]")!.disabled).toBe(false);
    view.root.querySelector<HTMLFormElement>("[data-testid=settings-form]")!.requestSubmit();
    expect(view.sent).toEqual([{ type: "save", settings: { server_url: "", pkcs11_module: picked, lang: "vi" } }]);
    // Another pick replaces it: the shell accepts only the last one picked.
    const [other] = settings.update(chosen, { type: "picked", path: "E:\\other.dll" }, shared);
    expect(moduleOptions(other)).toEqual(["", ...found, "E:\\other.dll"]);
  });

  it("a cancelled dialog changes nothing", async () => {
    mockIPC(async () => null);
    let [m] = settings.init({}, withSaved);
    [m] = settings.update(m, { type: "found", modules: found }, withSaved);
    [m] = settings.update(m, { type: "chose", module: found[1] }, withSaved);
    const [picking, effects] = settings.update(m, { type: "pick" }, withSaved);
    const msg = await answer(effects[0]);
    expect(msg).toEqual({ type: "picked", path: null });
    const [after, none] = settings.update(picking, msg, withSaved);
    expect(none).toEqual([]);
    expect(after).toEqual(m);
    expect(shown(after, withSaved).select.value).toBe(found[1]);
  });

  it("a dialog that fails shows the error, and the list stays", () => {
    let [m] = settings.init({}, shared);
    [m] = settings.update(m, { type: "found", modules: found }, shared);
    const [picking] = settings.update(m, { type: "pick" }, shared);
    const [failed] = settings.update(picking, { type: "pickFailed", error: error("INTERNAL") }, shared);
    expect(failed.picking).toBe(false);
    expect(moduleOptions(failed)).toEqual(["", ...found]);
    expect(shown(failed).root.querySelector<HTMLElement>("[data-testid=error]")?.dataset.code).toBe("INTERNAL");
  });

  it("selecting in the list is kept; saved settings become the saved module", () => {
    let [m] = settings.init({}, shared);
    [m] = settings.update(m, { type: "found", modules: found }, shared);
    const view = shown(m);
    view.select.value = found[0];
    view.select.dispatchEvent(new Event("change"));
    expect(view.sent).toEqual([{ type: "chose", module: found[0] }]);
    const saved: Settings = { server_url: "https://x.vn", pkcs11_module: found[0], lang: "vi" };
    const [done, effects] = settings.update(m, { type: "saved", settings: saved }, shared);
    expect(kinds(effects)).toEqual(["settings"]);
    expect([done.module, done.saved, done.status]).toEqual([found[0], found[0], "saved"]);
    const [auto] = settings.update(done, { type: "saved", settings: { ...saved, pkcs11_module: null } }, shared);
    expect([auto.module, auto.saved]).toEqual(["", null]);
    expect(moduleOptions(auto)).toEqual(["", ...found]);
  });
});

describe("the support screen: sending the report to the support desk", () => {
  afterEach(() => {
    clearMocks();
    document.body.replaceChildren();
  });
  type M = ReturnType<typeof support.init>[0];
  type SMsg = Parameters<typeof support.update>[1];
  const afterError: Shared = { ...shared, lastError: error("CERT_NOT_BOUND") };
  const REPORT = "bhxh-desktop 0.1.0 on windows x86_64\nToken: VNPT-CA, PIN: Ok\nlast error: CERT_NOT_BOUND RC-1";
  const CODE: SupportCodeView = { support_code: "HT-4821-7305-6", expires_at: "2026-11-25T10:14:03Z", reference: "RC-7F3K-9Q2M" };
  const answer = async (effect: Effect<SMsg> | undefined): Promise<SMsg> => {
    if (effect?.type !== "task") throw new Error("a task");
    return effect.run();
  };
  /** The IPC commands called, with their arguments; `support_preview` answers REPORT, `support_send` CODE. */
  const shell = () => {
    const calls: [string, unknown][] = [];
    mockIPC(async (cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === "support_preview") return REPORT;
      if (cmd === "support_send") return CODE;
      return null;
    });
    return calls;
  };
  const shown = (m: M, on: Shared = afterError) => {
    const root = document.createElement("div");
    document.body.append(root);
    const sent: SMsg[] = [];
    const routes: Route[] = [];
    render(support.view(m, { send: (msg) => sent.push(msg), go: (r) => routes.push(r), leave: () => undefined, shared: on }), root);
    const $ = <E extends HTMLElement = HTMLElement>(id: string) => root.querySelector<E>(`[data-testid=${id}]`);
    return { root, sent, routes, $ };
  };
  /** The screen opened from an error, its report shown for consent. */
  const asking = (): M => {
    const [m] = support.init({ consent: true }, afterError);
    return support.update(m, { type: "previewed", report: REPORT }, afterError)[0];
  };

  it("opens with the button to send; pressing it asks the shell for the report with the last error, and sends nothing", async () => {
    const calls = shell();
    const [m, effects] = support.init({}, afterError);
    expect(kinds(effects), "the diagnostics only").toEqual(["task"]);
    const view = shown(m);
    expect(view.$("support-send")?.textContent).toBe("Gửi thông tin cho nhân viên hỗ trợ");
    expect(view.$("support-consent")).toBeNull();
    view.$("support-send")!.click();
    expect(view.sent).toEqual([{ type: "consent" }]);
    const [preparing, prepare] = support.update(m, { type: "consent" }, afterError);
    expect(preparing.consent).toEqual({ step: "preparing" });
    expect(kinds(prepare)).toEqual(["task", "focus #support-consent"]);
    expect(support.update(preparing, { type: "consent" }, afterError)[1], "pressed twice: asked once").toEqual([]);
    expect(await answer(prepare[0])).toEqual({ type: "previewed", report: REPORT });
    expect(calls).toEqual([["support_preview", { lastError: "CERT_NOT_BOUND RC-1" }]]);
    // Without an error remembered, the report quotes none.
    calls.length = 0;
    await answer(support.update(support.init({}, shared)[0], { type: "consent" }, shared)[1][0]);
    expect(calls).toEqual([["support_preview", { lastError: null }]]);
  });

  it("opened from an error: straight to the consent, the cursor on it", () => {
    const [m, effects] = support.init({ consent: true }, afterError);
    expect(m.consent).toEqual({ step: "preparing" });
    expect(kinds(effects)).toEqual(["task", "task", "focus #support-consent"]);
    expect(shown(m).$("support-consent-preparing")?.textContent).toContain("Đang chuẩn bị thông tin để gửi…");
  });

  it("the consent shows exactly the report, says what it holds, and asks; “Không gửi” sends nothing", () => {
    const [m] = support.init({ consent: true }, afterError);
    const [ask, effects] = support.update(m, { type: "previewed", report: REPORT }, afterError);
    expect(kinds(effects)).toEqual(["focus #support-consent"]);
    const view = shown(ask);
    const box = view.$("support-consent")!;
    expect(box.id).toBe("support-consent");
    expect(box.querySelector("h3")?.textContent).toBe("Gửi thông tin này cho nhân viên hỗ trợ?");
    expect(box.textContent).toContain(
      "Nhân viên hỗ trợ sẽ thấy đúng nội dung dưới đây. Thông tin không chứa mã PIN, mật khẩu hay phiên đăng nhập; mã hỗ trợ có hiệu lực 1 giờ.",
    );
    const report = view.$<HTMLTextAreaElement>("support-consent-report")!;
    expect(report.value).toBe(REPORT);
    expect(report.readOnly).toBe(true);
    expect(view.$("support-consent-agree")?.textContent?.trim()).toBe("Đồng ý gửi");
    expect(view.$("support-consent-cancel")?.textContent?.trim()).toBe("Không gửi");
    expect(view.$("send-to-support"), "no way from the Support screen back to itself").toBeNull();
    view.$("support-consent-cancel")!.click();
    expect(view.sent).toEqual([{ type: "cancel" }]);
    const [cancelled, none] = support.update(ask, { type: "cancel" }, afterError);
    expect(cancelled.consent).toEqual({ step: "cancelled" });
    expect(kinds(none), "nothing sent").toEqual(["focus #support-send"]);
    const after = shown(cancelled);
    expect(after.$("support-consent")).toBeNull();
    expect(after.$("support-consent-cancelled")?.textContent).toBe("Chưa gửi gì cho nhân viên hỗ trợ.");
    expect(after.$("support-send")).not.toBeNull();
    // A late report for a consent already left changes nothing.
    expect(support.update(cancelled, { type: "previewed", report: "x" }, afterError)).toEqual([cancelled, []]);
  });

  it("agreeing sends once, busy meanwhile; the code is shown large with its deadline, the only code on the screen", async () => {
    const calls = shell();
    const ask = asking();
    const view = shown(ask);
    view.$("support-consent-agree")!.click();
    expect(view.sent).toEqual([{ type: "agree" }]);
    const [sending, effects] = support.update(ask, { type: "agree" }, afterError);
    expect(kinds(effects)).toEqual(["task"]);
    expect(support.update(sending, { type: "agree" }, afterError)[1], "sent once").toEqual([]);
    expect(support.update(sending, { type: "cancel" }, afterError)[1], "no cancel once sent off").toEqual([]);
    const busy = shown(sending);
    expect(busy.$("support-consent-agree")?.getAttribute("aria-disabled")).toBe("true");
    expect(busy.$("support-consent-agree")?.textContent).toContain("Đang gửi…");
    expect(busy.$<HTMLButtonElement>("support-consent-cancel")?.disabled).toBe(true);
    const msg = await answer(effects[0]);
    expect(calls.map(([cmd]) => cmd)).toEqual(["support_send"]);
    expect(msg).toEqual({ type: "supportSent", code: CODE });
    const [sent, focusing] = support.update(sending, msg, afterError);
    expect(kinds(focusing)).toEqual(["focus #support-sent"]);
    const done = shown(sent);
    expect(done.$("support-consent")).toBeNull();
    expect(done.$("support-sent")?.id).toBe("support-sent");
    expect(done.$("support-code")?.textContent).toBe("HT-4821-7305-6");
    expect(done.$("support-code-note")?.textContent).toBe(`Đọc mã này cho nhân viên hỗ trợ qua điện thoại. Mã có hiệu lực đến ${vnDate(CODE.expires_at)}.`);
    expect(done.$("support-code-note")?.textContent).toContain("25/11/2026 17:14");
    expect(done.$("reference"), "one code on the screen: the one to read out").toBeNull();
  });

  it("a send that fails shows the error in the consent, and agreeing again retries", () => {
    const [sending] = support.update(asking(), { type: "agree" }, afterError);
    const [failed, none] = support.update(sending, { type: "sendFailed", error: error("RATE_LIMITED") }, afterError);
    expect(none).toEqual([]);
    const view = shown(failed);
    const box = view.$("support-consent")!.querySelector<HTMLElement>("[data-testid=error]")!;
    expect(box.dataset.code).toBe("RATE_LIMITED");
    expect(box.closest("[data-reveal]"), "brought into view, as every error after an action").not.toBeNull();
    expect(view.$("send-to-support")).toBeNull();
    expect(view.$<HTMLTextAreaElement>("support-consent-report")?.value, "the same report").toBe(REPORT);
    expect(view.$("support-consent-agree")?.getAttribute("aria-disabled")).toBeNull();
    const [again, retry] = support.update(failed, { type: "agree" }, afterError);
    expect(kinds(retry)).toEqual(["task"]);
    expect(again.consent?.step === "asking" && again.consent.error).toBeNull();
  });

  it("a report that cannot be prepared shows the error, and the button to try again", () => {
    const [m] = support.init({ consent: true }, afterError);
    const [failed] = support.update(m, { type: "previewFailed", error: error("INTERNAL") }, afterError);
    const view = shown(failed);
    expect(view.root.querySelector<HTMLElement>("[data-testid=error]")?.dataset.code).toBe("INTERNAL");
    expect(view.$("send-to-support")).toBeNull();
    expect(kinds(support.update(failed, { type: "consent" }, afterError)[1])).toEqual(["task", "focus #support-consent"]);
  });
});

describe("the error box", () => {
  afterEach(() => document.body.replaceChildren());

  it("offers to send the details to support only where a screen gives it the way", () => {
    const root = document.createElement("div");
    document.body.append(root);
    render(errorBox(error("PIN_LOCKED")), root);
    expect(root.querySelector("[data-testid=send-to-support]")).toBeNull();
    const routes: Route[] = [];
    render(errorBox(error("PIN_LOCKED"), { go: (r) => routes.push(r) }), root);
    root.querySelector<HTMLButtonElement>("[data-testid=send-to-support]")!.click();
    expect(routes).toEqual([{ name: "support", consent: true }]);
  });

  it("login, the password change and the portal offer it with their errors, which the app remembers", () => {
    const [m] = login.init({}, shared);
    const [refused, effects] = login.update(m, { type: "failed", error: error("INVALID_CREDENTIALS") }, shared);
    expect(kinds(effects)).toContain("remember");
    const root = document.createElement("div");
    document.body.append(root);
    const routes: Route[] = [];
    render(login.view(refused, { send: () => undefined, go: (r) => routes.push(r), leave: () => undefined, shared }), root);
    root.querySelector<HTMLButtonElement>("#login-error [data-testid=send-to-support]")!.click();
    expect(routes).toEqual([{ name: "support", consent: true }]);
    const [c] = change.init({ username: "ketoan01", forced: true }, shared);
    expect(kinds(change.update(c, { type: "failed", error: error("PASSWORD_REUSE") }, shared)[1])).toEqual(["remember"]);
    const [p] = portal.init({}, shared);
    expect(kinds(portal.update(p, { type: "captchaFailed", error: error("SERVER_UNREACHABLE") }, shared)[1])).toEqual(["remember"]);
  });

  it("the portal offers it beside its buttons: the refusal's box keeps to what fits beside the field to fix", () => {
    const [p] = portal.init({}, shared);
    const [loaded] = portal.update({ ...p, mst: "0101234567", email: "giamdoc@congty.vn", answer: "x" }, { type: "captcha", captcha, renewed: false }, shared);
    const root = document.createElement("div");
    document.body.append(root);
    const routes: Route[] = [];
    const ui = { send: () => undefined, go: (r: Route) => routes.push(r), leave: () => undefined, shared };
    render(portal.view(loaded, ui), root);
    expect(root.querySelector("[data-testid=send-to-support]"), "no error, no offer").toBeNull();
    const [sending] = portal.update(loaded, { type: "submit" }, shared);
    const [refused] = portal.update(sending, { type: "sendFailed", error: error("PORTAL_EMAIL_MISMATCH") }, shared);
    render(portal.view(refused, ui), root);
    expect(root.querySelectorAll("[data-testid=send-to-support]").length).toBe(1);
    expect(root.querySelector("[data-testid=error] [data-testid=send-to-support]")).toBeNull();
    root.querySelector<HTMLButtonElement>(".actions [data-testid=send-to-support]")!.click();
    expect(routes).toEqual([{ name: "support", consent: true }]);
  });
});
