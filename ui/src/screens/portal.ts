// The portal recovery, without a token: MST + registered email + captcha; the portal
// mails a new password with an activation link. The model is portal-state.ts's
// PortalState; this screen adds the effects: fetching a captcha (again a few seconds
// before it expires, and after every failed request, since each works once), sending,
// and putting the cursor where the fix is. lit-html updates only what changed, so a
// screen reader does not hear the same message at every key press.

import { html, nothing, type TemplateResult } from "lit-html";
import { live } from "lit-html/directives/live.js";
import { api, type CaptchaView, type IpcError, type PortalView } from "../ipc";
import { t, vnDate } from "../i18n";
import { after, call, focus, remember, type Effect, type Next, screen, type Screen, type Ui } from "../runtime";
import { errorBox, hotlineNumber, onSubmit, raisedError, referenceLine, sendToSupport, targetValue } from "../views";
import * as state from "./portal-state";

export type Args = Record<never, never>;

type Model = state.PortalState;

type Msg =
  | { type: "typed"; field: state.PortalField; value: string }
  | { type: "left"; field: "mst" | "email"; value: string }
  | { type: "refresh" }
  | { type: "captcha"; captcha: CaptchaView; renewed: boolean }
  | { type: "captchaFailed"; error: IpcError }
  /** The captcha `captchaId` is about to expire. */
  | { type: "expiring"; captchaId: string }
  | { type: "submit" }
  | { type: "sent"; result: PortalView }
  | { type: "sendFailed"; error: IpcError }
  | { type: "again" };

/** Fetches a new captcha; `renewed` announces that it replaced a refused one. */
function loadCaptcha(m: Model, renewed = false): Next<Model, Msg> {
  if (m.captchaLoading) return [m, []];
  return [
    { ...m, captcha: null, captchaLoading: true, captchaError: null, captchaRenewed: false },
    [
      call(
        () => api.portalCaptcha(),
        (captcha) => ({ type: "captcha", captcha, renewed }),
        (error) => ({ type: "captchaFailed", error }),
      ),
    ],
  ];
}

/** A captcha lives 2 minutes on the server: a few seconds before it expires, a new one
 * replaces it (and the answer typed for the old image), unless a request is on its way.
 * The timer is dropped when the user leaves the screen. */
function renewBeforeExpiry(captcha: CaptchaView): Effect<Msg> {
  const ms = Math.max(Date.parse(captcha.expires_at) - Date.now() - 5_000, 10_000);
  return after("captcha-expiry", Number.isFinite(ms) ? ms : 110_000, { type: "expiring", captchaId: captcha.captcha_id });
}

export const portal: Screen<Model, Msg, Args> = screen({
  init: () => loadCaptcha(state.initial()),

  update(m, msg) {
    switch (msg.type) {
      case "typed":
        return [{ ...m, [msg.field]: msg.value }, []];
      case "left":
        if (msg.value.trim() === "") return [m, []]; // tabbing through an empty field is not an error yet
        return [{ ...m, touched: { ...m.touched, [msg.field]: true } }, []];
      case "refresh":
        if (m.captchaLoading) return [m, []];
        return loadCaptcha({ ...m, answer: "" }); // it answered the old image
      case "captcha":
        return [{ ...m, captcha: msg.captcha, captchaLoading: false, captchaRenewed: msg.renewed }, [renewBeforeExpiry(msg.captcha)]];
      case "captchaFailed":
        return [{ ...m, captchaLoading: false, captchaError: msg.error }, [remember(msg.error)]];
      case "expiring":
        if (m.busy || m.captcha?.captcha_id !== msg.captchaId) return [m, []];
        return loadCaptcha({ ...m, answer: "" });
      case "submit": {
        if (m.busy) return [m, []];
        const touched: Model = { ...m, touched: { mst: true, email: true, answer: true } };
        const bad = state.firstInvalid(touched);
        const req = state.request(touched);
        if (bad || !req) {
          if (bad === "captcha" && touched.captchaLoading) return [touched, []]; // the new image is on its way
          return [touched, [focus(bad === "captcha" ? "#portal-captcha-refresh" : `#portal-${bad ?? "mst"}`)]];
        }
        return [
          state.sending(touched),
          [
            call(
              () => api.portalRecover(req.mst, req.email, req.captchaId, req.captchaAnswer),
              (result) => ({ type: "sent", result }),
              (error) => ({ type: "sendFailed", error }),
            ),
          ],
        ];
      }
      case "sent":
        return [state.succeeded(m, msg.result), []];
      case "sendFailed": {
        // A captcha code works once: whatever went wrong, the next try needs a new one.
        const where = state.focusAfter(msg.error.code);
        const [next, load] = loadCaptcha(state.failed(m, msg.error), state.CAPTCHA_CODES.has(msg.error.code));
        return [next, [remember(msg.error), ...(where ? [focus(`#portal-${where}`)] : []), ...load]];
      }
      case "again":
        return loadCaptcha(state.initial({ mst: m.mst, email: m.email }));
    }
  },

  view: (m, ui) => html`<section class="card wide" aria-labelledby="portal-title">
    <h2 id="portal-title">${t("portal_title")}</h2>
    ${m.result ? done(m.result, ui) : form(m, ui)}
  </section>`,
});

type Note = { kind: "error" | "ok" | "note"; text: string };

/** What to say under the MST as it is typed: a wrong character or too many digits at
 * once, missing digits as a hint until the field is left or the form sent. */
function mstNote(c: state.MstCheck, touched: boolean): Note | null {
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

function emailNote(c: state.EmailCheck, touched: boolean): Note | null {
  if (!touched || c === "ok") return null;
  return { kind: "error", text: t(c === "empty" ? "email_required" : "email_invalid") };
}

function answerNote(m: Model): Note | null {
  if (!m.touched.answer) return null;
  if (m.answer.trim() === "") return { kind: "error", text: t("captcha_required") };
  if (!m.captcha && !m.captchaLoading) return { kind: "error", text: t("captcha_missing") };
  return null;
}

const note = (n: Note | null) =>
  n ? html`<p class=${n.kind === "error" ? "field-error" : n.kind} role=${n.kind === "error" ? "alert" : nothing}>${n.text}</p>` : nothing;
const invalid = (n: Note | null) => (n?.kind === "error" ? "true" : nothing);

function captchaBox(m: Model): TemplateResult {
  if (m.captcha) {
    return html`<img src=${m.captcha.image} alt=${t("captcha_alt")} class="captcha-image" data-testid="captcha-image" data-captcha-id=${m.captcha.captcha_id}>`;
  }
  if (m.captchaError) return errorBox(m.captchaError);
  return html`<p class="captcha-loading">${t("captcha_loading")}</p>`;
}

/** For an email that does not match the registration: the desk that can look up the
 * reference above and change the address (one number, the server's); BHXH's e-filing
 * support only for the one thing only it holds, the original registration, with no
 * reference to read out. */
function portalHotline(ui: Ui<Msg>): TemplateResult {
  return html`<p class="hotline-line" data-testid="portal-hotline"><strong>${t("portal_hotline_title")}</strong> ${t("portal_hotline_text")} ${hotlineNumber(ui.shared.hotline)}</p>`;
}

function bhxhLines(): TemplateResult {
  return html`<p class="small" data-testid="bhxh-lines">${t("portal_bhxh_text")}
    ${state.BHXH_HOTLINES.map((n, i) => html`${i ? ", " : ""}<a href="tel:${n.tel}" data-testid="tel-${n.tel}">${n.label}</a>`)}.</p>`;
}

/** The other way out of a registered email no one reads: the business's token proves
 * the account and changes the address, without a call. */
function useToken(ui: Ui<Msg>): TemplateResult {
  return html`<div class="token-offer">
    <p>${t("portal_use_token_text")}</p>
    <button type="button" data-testid="portal-use-token" @click=${() => ui.go({ name: "wizard", purpose: "email" })}>${t("portal_use_token")}</button>
  </div>`;
}

function form(m: Model, ui: Ui<Msg>): TemplateResult {
  const mst = mstNote(state.checkMst(m.mst), m.touched.mst);
  const email = emailNote(state.checkEmail(m.email), m.touched.email);
  const answer = answerNote(m);
  const typed = (field: state.PortalField) => (e: Event) => ui.send({ type: "typed", field, value: targetValue(e) });
  const left = (field: "mst" | "email") => (e: Event) => ui.send({ type: "left", field, value: targetValue(e) });
  // The server's refusal goes just above the field to fix, where the cursor goes (the
  // MST, the email: with the desk's number when it is not the registered one), otherwise
  // above the buttons; the app brings it into view with the button to press. Tab from
  // the field goes on through the form, not through the box. What else helps (the token
  // instead, BHXH's lines) goes under the buttons: on a laptop screen the message, the
  // field, the captcha and "Lấy lại mật khẩu" stay in view together.
  // "Gửi thông tin cho nhân viên hỗ trợ" goes with the form's buttons.
  const at = m.error ? state.focusAfter(m.error.code) : null;
  const mismatch = m.error?.code === "PORTAL_EMAIL_MISMATCH";
  // The wrong email's own line says what its hint says, with the desk's number: not twice.
  const refusal = !m.error ? nothing : mismatch ? raisedError(m.error, undefined, portalHotline(ui), false) : raisedError(m.error);
  return html`<form id="portal-form" data-testid="portal-form" novalidate aria-busy=${String(m.busy)} @submit=${onSubmit(() => ui.send({ type: "submit" }))}>
    <p class="note">${t("portal_intro")}</p>
    ${at === "mst" ? refusal : nothing}
    <div class="field">
      <label for="portal-mst">${t("portal_mst")}</label>
      <input id="portal-mst" name="mst" .value=${live(m.mst)} autocomplete="off" spellcheck="false" autofocus aria-describedby="portal-mst-hint portal-mst-msg"
        aria-invalid=${invalid(mst)} @input=${typed("mst")} @blur=${left("mst")}>
      <p id="portal-mst-hint" class="small">${t("portal_mst_hint")}</p>
      <div id="portal-mst-msg" data-testid="mst-message">${note(mst)}</div>
    </div>
    ${at === "email" ? refusal : nothing}
    <div class="field">
      <label for="portal-email">${t("portal_email")}</label>
      <input id="portal-email" name="email" type="email" .value=${live(m.email)} autocomplete="email" spellcheck="false" aria-describedby="portal-email-hint portal-email-msg"
        aria-invalid=${invalid(email)} @input=${typed("email")} @blur=${left("email")}>
      <p id="portal-email-hint" class="small">${t("portal_email_hint")}</p>
      <div id="portal-email-msg" data-testid="email-message">${note(email)}</div>
    </div>
    <div class="field" role="group" aria-labelledby="portal-captcha-label">
      <span id="portal-captcha-label" class="field-label">${t("captcha_image")}</span>
      <div class="captcha">
        <div id="portal-captcha-box" class="captcha-box" data-testid="captcha-box" aria-busy=${String(m.captchaLoading)}>${captchaBox(m)}</div>
        <button type="button" id="portal-captcha-refresh" data-testid="captcha-refresh" aria-controls="portal-captcha-box" @click=${() => ui.send({ type: "refresh" })}><span aria-hidden="true">↻ </span>${t("captcha_refresh")}</button>
      </div>
    </div>
    <div class="field">
      <label for="portal-answer">${t("captcha_answer")}</label>
      <input id="portal-answer" name="captcha" class="captcha-answer" .value=${live(m.answer)} autocomplete="off" autocapitalize="off" spellcheck="false" aria-describedby="portal-answer-hint portal-answer-msg"
        aria-invalid=${invalid(answer)} @input=${typed("answer")}>
      <p id="portal-answer-hint" class="small">${t("captcha_answer_hint")}</p>
      <div id="portal-answer-msg" data-testid="answer-message">${note(answer)}</div>
    </div>
    <div id="portal-status" role="status" data-testid="portal-status">${
      m.busy
        ? html`<p class="progress-line"><span class="spinner small" aria-hidden="true"></span>${t("portal_sending")}</p>`
        : m.captchaRenewed
          ? html`<p class="note" data-testid="captcha-renewed">${t("captcha_renewed")}</p>`
          : nothing
    }</div>
    <div id="portal-error">${at === "mst" || at === "email" ? nothing : refusal}</div>
    <div class="actions">
      <button type="button" data-testid="portal-back" @click=${() => ui.go({ name: "login" })}>${t("back")}</button>
      ${m.error || m.captchaError ? sendToSupport(ui) : nothing}
      <button type="submit" class="primary" id="portal-submit" data-testid="portal-submit" aria-disabled=${String(m.busy)}>${t("portal_submit")}</button>
    </div>
    ${mismatch ? html`<div class="portal-more" data-testid="portal-more">${useToken(ui)}${bhxhLines()}</div>` : nothing}
  </form>`;
}

function done(r: PortalView, ui: Ui<Msg>): TemplateResult {
  const date = vnDate(r.activation_expires_at);
  return html`<div class="done" data-testid="portal-done">
    <h3>${t("portal_done_title")}</h3>
    <p data-testid="portal-masked-email">${t("done_sent_to", { email: r.masked_email })}</p>
    <p data-testid="portal-expires">${t("portal_link_expires", { date })}</p>
    ${referenceLine(r.reference)}
    <h4>${t("portal_next_title")}</h4>
    <ol class="next-steps" data-testid="portal-next">
      <li>${t("portal_next_check", { email: r.masked_email })}</li>
      <li>${t("portal_next_link", { date })}</li>
      <li>${t("portal_next_login")}</li>
    </ol>
    <p class="notice" data-testid="portal-old-password">${t("portal_old_password")}</p>
    <div class="actions">
      <button type="button" data-testid="portal-again" @click=${() => ui.send({ type: "again" })}>${t("portal_send_again")}</button>
      <button type="button" class="primary" autofocus data-testid="portal-login" @click=${() => ui.go({ name: "login" })}>${t("login_button")}</button>
    </div>
  </div>`;
}
