// The token wizard: recover the password (username → token → PIN → done), find the
// usernames of the token's MST (token → PIN → done), or change the registered email
// (username and new email → token → PIN → done). The steps are the pure state
// machine of wizard-state.ts; this screen adds what only the page needs (the Caps Lock
// and input-method warnings, the PIN shown or hidden) and the effects: reading the
// tokens (again at every reader event), the server's check of the chosen certificate
// (on the PIN step, before the PIN: a refused certificate costs no PIN try), and
// signing. The PIN is never in the model: it goes from the field, emptied at once, into
// the IPC call.

import { html, nothing, type TemplateResult } from "lit-html";
import { live } from "lit-html/directives/live.js";
import { api, type IpcError, type Progress, type ProveArgs } from "../ipc";
import { t, vnDate, type Key } from "../i18n";
import { call, clear, focus, remember, type Effect, type Next, screen, type Screen, type Ui } from "../runtime";
import { errorBox, hotline, onSubmit, raisedError, referenceLine, targetChecked, valueOf } from "../views";
import * as wiz from "./wizard-state";

export interface Args {
  purpose: wiz.Purpose;
  /** The recovery of an account the lookup found, the email change of an account the
   * recovery or the session knows: its username is filled in. */
  username?: string;
  /** Started from the home screen of a session: it ends there. */
  fromHome?: boolean;
  /** The certificate the attempt before used: straight to its PIN (`wiz.SameToken`). */
  sameToken?: wiz.SameToken;
}

interface Model {
  s: wiz.WizardState;
  /** Caps Lock was on at the last key press in the PIN field. */
  caps: boolean;
  /** A composition started in the PIN field: a Vietnamese input method is on. */
  ime: boolean;
  /** The PIN was sent empty. */
  pinRequired: boolean;
  pinShown: boolean;
  /** Why the tokens could not be read (no driver, a driver that fails, no PC/SC): shown
   * as it is, never as "no token". Cleared by the next reading that works. */
  tokensError: IpcError | null;
  fromHome: boolean;
}

type Msg =
  | wiz.WizardEvent
  | { type: "readTokens" }
  | { type: "tokensFailed"; error: IpcError }
  | { type: "sendPin"; pin: string }
  | { type: "pinKey"; caps: boolean }
  | { type: "pinComposing" }
  | { type: "pinToggle" };

const now = () => Math.floor(Date.now() / 1000);

const readTokens: Effect<Msg> = call(
  () => api.tokens(),
  (tokens) => ({ type: "tokensChanged", tokens }),
  (error) => ({ type: "tokensFailed", error }),
);

const PIN_FRESH = { caps: false, ime: false, pinRequired: false, pinShown: false };

/** The next model for a state of the machine; a new step starts with a fresh PIN field. */
function step(m: Model, s: wiz.WizardState): Model {
  return s.step === m.s.step ? { ...m, s } : { ...m, ...PIN_FRESH, s };
}

/** What the certificate check adds to an update: the check the state machine marked as
 * started, or, when a refusal arrives, the PIN field emptied and the error kept. */
function withCheck(before: Model, [m, effects]: Next<Model, Msg>): Next<Model, Msg> {
  const check = m.s.certCheck;
  if (!check || check === before.s.certCheck) return [m, effects];
  const v = check.verdict;
  if (v.kind === "checking" && m.s.selection) {
    const { slotId, certId } = m.s.selection;
    const key = check.key;
    return [
      m,
      [
        ...effects,
        call(
          () => api.certificateCheck(slotId, certId),
          (result): Msg => ({ type: "certChecked", key, check: result }),
          (error): Msg => ({ type: "certCheckFailed", key, error }),
        ),
      ],
    ];
  }
  if (v.kind === "refused") return [m, [...effects, clear("#pin"), remember(v.error)]];
  if (v.kind === "unknown") return [m, [...effects, remember(v.error)]];
  return [m, effects];
}

/** The screen's own messages, then the state machine's. */
function update(m: Model, msg: Msg): Next<Model, Msg> {
  switch (msg.type) {
    case "readTokens":
      return [m, [readTokens]];
    case "tokensFailed":
      return [{ ...step(m, wiz.reduce(m.s, { type: "tokensChanged", tokens: [] }, now())), tokensError: msg.error }, [remember(msg.error)]];
    case "tokensChanged":
      return [{ ...step(m, wiz.reduce(m.s, msg, now())), tokensError: null }, []];
    case "pinKey":
      return [{ ...m, caps: msg.caps, pinRequired: false }, []];
    case "pinComposing":
      return [{ ...m, caps: false, ime: true, pinRequired: false }, []];
    case "pinToggle":
      return [{ ...m, pinShown: !m.pinShown }, []];
    case "submitUsername": {
      // Refused: the cursor goes to the first field to fix.
      const next = step(m, wiz.reduce(m.s, msg, now()));
      const bad = next.s.step === "username" ? (["username", "newEmail"] as const).find((f) => next.s.fieldErrors[f]) : undefined;
      return [next, bad ? [focus(bad === "username" ? "#wizard-username" : "#wizard-new-email")] : []];
    }
    case "sendPin": {
      // The server refused the certificate: no PIN is asked for, none is sent.
      if (wiz.verdict(m.s)?.kind === "refused") return [m, [clear("#pin")]];
      // A reader with its own keypad takes the PIN itself: none is typed, none is sent.
      const pad = wiz.selected(m.s)?.token.pin_pad === true;
      if (!msg.pin && !pad) return [{ ...m, pinRequired: true }, []];
      const sel = m.s.selection;
      const next = step(m, wiz.reduce(m.s, { type: "submitPin" }, now()));
      const s = next.s;
      if (s.step !== "working" || !sel) return [next, [clear("#pin")]]; // the field never keeps the PIN
      const pin = pad ? "" : msg.pin;
      const args = { slotId: sel.slotId, certId: sel.certId, confirmFinalTry: s.confirmFinalTry };
      const failed = (error: IpcError): Msg => ({ type: "failed", error });
      return [next, [clear("#pin"), prove(s, pin, args, failed)]];
    }
    case "failed":
      // The token's flags (PIN tries left) change after a wrong PIN: read them again. The
      // error is the support report's last error (the error shown offers to send it).
      return [step(m, wiz.reduce(m.s, msg, now())), [remember(msg.error), readTokens]];
    default:
      return [step(m, wiz.reduce(m.s, msg, now())), []];
  }
}

/** The IPC call the PIN is sent with, for the wizard's purpose. */
function prove(s: wiz.WizardState, pin: string, args: ProveArgs, failed: (error: IpcError) => Msg): Effect<Msg> {
  switch (s.purpose) {
    case "recover":
      return call(
        () => api.recover(s.username, pin, args),
        (result) => ({ type: "recovered", result }),
        failed,
      );
    case "lookup":
      return call(
        () => api.lookup(pin, args),
        (result) => ({ type: "looked_up", result }),
        failed,
      );
    case "email":
      return call(
        () => api.changeEmail(s.username, s.newEmail, pin, args),
        (result) => ({ type: "emailChangeStarted", result }),
        failed,
      );
  }
}

const TITLE: Record<wiz.Purpose, Key> = { recover: "recover_title", lookup: "lookup_title", email: "email_title" };

export const wizard: Screen<Model, Msg, Args> = screen({
  init: ({ purpose, username, fromHome, sameToken }) => [
    { s: wiz.initial(purpose, username, sameToken ?? null), ...PIN_FRESH, tokensError: null, fromHome: fromHome === true },
    [readTokens],
  ],

  update: (m, msg) => withCheck(m, update(m, msg)),

  progress: (progress) => ({ type: "progress", progress }),
  readerEvent: () => ({ type: "readTokens" }),

  view(m, ui) {
    const s = m.s;
    const title = t(TITLE[s.purpose]);
    const first: [wiz.Step[], Key][] =
      s.purpose === "recover" ? [[["username"], "step_username"]] : s.purpose === "email" ? [[["username"], "step_username_email"]] : [];
    const steps: [wiz.Step[], Key][] = [...first, [["token"], "step_token"], [["pin", "working"], "step_pin"], [["done", "error"], "step_done"]];
    const at = steps.findIndex(([names]) => names.includes(s.step));
    return html`<section class="card wide" aria-labelledby="wizard-title">
      <h2 id="wizard-title">${title}</h2>
      <ol class="steps" aria-label=${title} data-testid="steps">${steps.map(([names, key], i) => {
        const current = i === at;
        // The steps behind the current one are done; not the PIN when the attempt failed.
        const finished = i < at && !(s.step === "error" && names.includes("pin"));
        // An attempt that failed ends on a step that says so, not on "Hoàn tất".
        const failed = current && s.step === "error";
        return html`<li class=${failed ? "current failed" : current ? "current" : finished ? "finished" : ""} aria-current=${current ? "step" : nothing} data-step=${names[0]}><span
          class="step-mark" aria-hidden="true">${finished ? "✓" : failed ? "✗" : `${i + 1}.`}</span> ${t(failed ? "step_failed" : key)}${
            finished ? html`<span class="visually-hidden"> (${t("step_finished")})</span>` : nothing
          }</li>`;
      })}</ol>
      ${body(m, ui)}
    </section>`;
  },
});

const PROGRESS: Record<Progress, Key> = {
  reading_token: "progress_reading_token",
  requesting_challenge: "progress_requesting_challenge",
  signing: "progress_signing",
  verifying: "progress_verifying",
  done: "progress_done",
};

function body(m: Model, ui: Ui<Msg>): TemplateResult {
  const s = m.s;
  switch (s.step) {
    case "username":
      return usernameStep(s, ui);
    case "token":
      return tokenStep(s, m.tokensError, ui);
    case "pin":
      return pinStep(m, ui);
    case "working":
      return html`<div class="progress" role="status" data-testid="step-working">
        <div class="spinner" aria-hidden="true"></div>
        <p>${t(s.progress === "signing" && wiz.selected(s)?.token.pin_pad ? "progress_pin_pad" : PROGRESS[s.progress ?? "reading_token"])}</p>
      </div>`;
    case "done":
      return s.purpose === "recover" ? doneRecover(s, ui) : s.purpose === "email" ? doneEmail(s, m.fromHome, ui) : doneLookup(s, ui);
    case "error":
      return html`<div data-testid="step-error">
        ${s.error ? errorBox(s.error, ui) : nothing}
        ${s.error?.code === "PIN_LOCKED" ? html`<p class="notice">${t("pin_locked_path")}</p>` : nothing}
        ${s.error?.code === "CERT_NOT_BOUND" && s.purpose !== "lookup" ? notBoundHelp(s, s.error.usernames, ui) : nothing}
        <div class="actions">
          <button type="button" @click=${() => ui.go({ name: "support" })}>${t("support")}</button>
          <button type="button" class="primary" autofocus data-testid="start-over" @click=${() => ui.send({ type: "restart" })}>${t("start_over")}</button>
        </div>
      </div>`;
  }
}

/** The username, and for an email change the new address: checked here (the form's
 * own checks are off so the messages are the app's, in its language), judged by the server. */
function usernameStep(s: wiz.WizardState, ui: Ui<Msg>): TemplateResult {
  const email = s.purpose === "email";
  const errors = s.fieldErrors;
  const send = onSubmit((f) =>
    ui.send({ type: "submitUsername", username: valueOf(f, "wizard-username"), ...(email ? { newEmail: valueOf(f, "wizard-new-email") } : {}) }),
  );
  const emailError = errors.newEmail === "empty" ? t("new_email_required") : errors.newEmail === "invalid" ? t("email_invalid") : null;
  return html`<form data-testid="step-username" novalidate @submit=${send}>
    ${email ? html`<p class="note" data-testid="email-change-intro">${t("email_intro")}</p>` : html`<p>${t("username_hint")}</p>`}
    <div class="field">
      <label for="wizard-username">${t("username")}</label>
      <input id="wizard-username" name="wizard-username" autocomplete="username" spellcheck="false" autocapitalize="off" aria-required="true" ?autofocus=${!email || !s.username} .value=${s.username}
        aria-invalid=${errors.username ? "true" : nothing} aria-describedby="wizard-username-msg">
      <div id="wizard-username-msg">${errors.username ? html`<p class="field-error" role="alert">${t("username_required")}</p>` : nothing}</div>
    </div>
    ${
      email
        ? html`<div class="field">
      <label for="wizard-new-email">${t("new_email")}</label>
      <input id="wizard-new-email" name="wizard-new-email" type="email" data-testid="new-email" autocomplete="email" spellcheck="false" aria-required="true" ?autofocus=${s.username !== ""}
        .value=${s.newEmail} aria-invalid=${emailError ? "true" : nothing} aria-describedby="wizard-new-email-hint wizard-new-email-msg">
      <p id="wizard-new-email-hint" class="small">${t("new_email_hint")}</p>
      <div id="wizard-new-email-msg" data-testid="new-email-message">${emailError ? html`<p class="field-error" role="alert">${emailError}</p>` : nothing}</div>
    </div>`
        : nothing
    }
    <div class="actions">
      <button type="button" data-testid="wizard-cancel" @click=${() => ui.leave()}>${t("cancel")}</button>
      <button type="submit" class="primary" data-testid="username-continue">${t("continue")}</button>
    </div>
  </form>`;
}

function tokenStep(s: wiz.WizardState, tokensError: IpcError | null, ui: Ui<Msg>): TemplateResult {
  const probs = wiz.problems(s, now());
  const sel = wiz.selected(s);
  // A locked token, a certificate out of its validity: "Tiếp tục" stays disabled, and
  // says why (the problem above it, which the button names as its description).
  const blocked = !wiz.canContinue(s, now());
  const problem = (p: wiz.TokenProblem): TemplateResult => {
    switch (p.kind) {
      case "no_token":
        // The real cause when reading failed (a missing driver is not a missing token),
        // else the waiting state; either way the token is looked for again on demand and
        // on every reader event.
        return html`${
          tokensError
            ? html`<div data-testid="token-read-failed">${errorBox(tokensError, ui)}</div>`
            : html`<p class="progress-line warning" data-testid="token-waiting"><span class="spinner small" aria-hidden="true"></span>${t("token_waiting")}</p>`
        }
          <p><button type="button" data-testid="token-recheck" @click=${() => ui.send({ type: "readTokens" })}>${t("token_recheck")}</button></p>`;
      case "no_certificate":
        return html`<p class="warning" data-testid="token-no-certificate">${t("token_no_certificate")}</p>`;
      case "expired":
        return html`<p class="danger" data-testid="token-expired">${t("token_cert_expired", { date: vnDate(p.notAfter) })}</p>`;
      case "not_yet_valid":
        return html`<p class="danger" data-testid="token-not-yet-valid">${t("token_cert_not_yet_valid", { date: vnDate(p.notBefore) })}</p>`;
      case "locked":
        return html`<p class="danger" data-testid="token-locked">${t("pin_locked")} ${t("pin_locked_path")}</p>`;
      case "several":
        return html`<p class="warning" data-testid="token-several">${t("token_several", { count: p.count })}</p>
          ${s.tokens.map((tok) => {
            const cert = tok.certificates[0];
            return html`<div class="token-choice"><span>${`${tok.label} — ${cert?.holder ?? "?"} — ${t("cert_mst")}: ${cert?.msts.join(", ") ?? "?"}`}</span>${
              cert
                ? html`<button type="button" data-testid="choose-${tok.slot_id}" @click=${() => ui.send({ type: "select", selection: { slotId: tok.slot_id, certId: cert.id } })}>${t("token_choose")}</button>`
                : nothing
            }</div>`;
          })}`;
    }
  };
  return html`<div data-testid="step-token">
    <div class="token-panel" data-testid="token-panel" aria-live="polite">
      <div id="token-problems">${probs.map(problem)}</div>
      ${
        s.purpose === "recover" && probs.some((p) => p.kind !== "several")
          ? // Without a usable token, the password can still be recovered through the portal.
            html`<p class="alt-path"><button type="button" class="link" data-testid="token-portal" @click=${() => ui.go({ name: "portal" })}>${t("token_alternative")}</button></p>`
          : nothing
      }
      ${
        sel
          ? html`<dl class="cert" data-testid="cert-details">
        <dt>${t("token_label")}</dt><dd>${`${sel.token.label} (${sel.token.model})`}</dd>
        <dt>${t("cert_holder")}</dt><dd data-testid="cert-holder">${sel.cert.holder}</dd>
        <dt>${t("cert_mst")}</dt><dd data-testid="cert-mst">${sel.cert.msts.join(", ")}</dd>
        <dt>${t("cert_issuer")}</dt><dd>${sel.cert.issuer}</dd>
        <dt>${t("cert_expiry")}</dt><dd>${vnDate(sel.cert.not_after)}</dd>
      </dl>`
          : nothing
      }
    </div>
    <div class="actions">
      <button type="button" @click=${() => (wiz.asksUsername(s.purpose) ? ui.send({ type: "back" }) : ui.leave())}>${t("back")}</button>
      <button type="button" class="primary" ?disabled=${blocked} ?autofocus=${!blocked} data-testid="token-continue"
        aria-describedby=${blocked && sel ? "token-problems token-blocked" : nothing} @click=${() => ui.send({ type: "toPin" })}>${t("continue")}</button>
    </div>
    ${blocked && sel ? html`<p class="small blocked-reason" id="token-blocked" data-testid="token-blocked">${t("token_cannot_continue")}</p>` : nothing}
  </div>`;
}

/** The server's verdict on the chosen certificate, under its holder and MST. It arrives
 * while the user types the PIN: waiting for it takes the two lines its usual answer (valid,
 * and the path on one line) takes, so that "Xác nhận" does not move under the mouse as it
 * comes (a click pressed before it and released after would be lost). */
function verdictBox(v: wiz.Verdict | null, ui: Ui<Msg>): TemplateResult {
  const body = (): TemplateResult | typeof nothing => {
    switch (v?.kind) {
      case undefined:
        return nothing;
      case "checking":
        return html`<p class="progress-line"><span class="spinner small" aria-hidden="true"></span>${t("cert_checking")}</p>
          <p class="small cert-path" aria-hidden="true">&nbsp;</p>`;
      case "ok": {
        const path = `${t("cert_path")}: ${v.check.path}`;
        return html`<p class="ok">${t("cert_valid")}${v.check.revocation_checked ? nothing : html` <span data-testid="cert-no-revocation">${t("cert_no_revocation")}</span>`}</p>
          <p class="small cert-path" data-testid="cert-path" title=${path}>${path}</p>`;
      }
      case "refused":
        return html`${errorBox(v.error, ui)}<p class="danger" id="cert-refused" data-testid="cert-refused">${t("cert_refused_no_pin")}</p>`;
      case "unknown": {
        // The two lines of the wait, as the usual answer: the button under it stays put.
        // The hint is in the first line's title (and in the support report).
        const said = `${t("cert_unverified")} ${v.error.message}`;
        return html`<div class="unverified" data-testid="cert-unverified">
          <p class="one-line" title=${v.error.hint ? `${said} ${t("error_hint")}: ${v.error.hint}` : said}>${t("cert_unverified")} <strong>${v.error.message}</strong></p>
          <p class="small one-line" title=${t("cert_unverified_continue")}>${t("cert_unverified_continue")}</p>
        </div>`;
      }
    }
  };
  return html`<div class="verdict" data-testid="cert-verdict" data-verdict=${v?.kind ?? "none"} aria-live="polite">${body()}</div>`;
}

function pinStep(m: Model, ui: Ui<Msg>): TemplateResult {
  const s = m.s;
  const state = wiz.pinState(s);
  const sel = wiz.selected(s);
  const refused = wiz.verdict(s)?.kind === "refused";
  const pad = sel?.token.pin_pad === true;
  return html`<form data-testid="step-pin" autocomplete="off" novalidate @submit=${onSubmit((f) => ui.send({ type: "sendPin", pin: valueOf(f, "pin") }))}>
    ${
      sel
        ? html`<dl class="cert" data-testid="pin-cert">
      ${s.purpose !== "lookup" && s.username ? html`<dt>${t("username")}</dt><dd data-testid="pin-username">${s.username}</dd>` : nothing}
      <dt>${t("cert_holder")}</dt><dd>${sel.cert.holder}</dd>
      <dt>${t("cert_mst")}</dt><dd>${sel.cert.msts.join(", ")}</dd>
    </dl>`
        : nothing
    }
    ${verdictBox(wiz.verdict(s), ui)}
    ${pad ? nothing : html`<p class="note">${t("pin_ime_note")}</p>`}
    ${state === "count_low" ? html`<p class="warning" data-testid="pin-count-low">${t("pin_count_low")}</p>` : nothing}
    ${state === "must_change" ? html`<p class="warning" data-testid="pin-must-change">${t("pin_must_change")}</p>` : nothing}
    ${
      state === "final_try"
        ? html`<div class="danger" data-testid="pin-final-try">
      <p>${t("pin_final_try")}</p>
      <label class="check"><input type="checkbox" id="confirm-final-try" data-testid="confirm-final-try" .checked=${live(s.confirmFinalTry)}
        @change=${(e: Event) => ui.send({ type: "confirmFinalTry", value: targetChecked(e) })}> ${t("pin_final_try_confirm")}</label>
    </div>`
        : nothing
    }
    ${
      pad
        ? html`<p class="notice" data-testid="pin-pad">${t("pin_pad_note")}</p>`
        : html`<div class="field">
      <label for="pin">${t("pin_label")}</label>
      <div class="pin-row">
        <input id="pin" name="pin" type=${m.pinShown ? "text" : "password"} inputmode="text" autocomplete="off" spellcheck="false" autofocus ?disabled=${refused} aria-describedby=${refused ? "cert-refused pin-warnings" : "pin-warnings"}
          @keydown=${(e: KeyboardEvent) => ui.send({ type: "pinKey", caps: e.getModifierState?.("CapsLock") ?? false })}
          @compositionstart=${() => ui.send({ type: "pinComposing" })}>
        <button type="button" class="toggle" data-testid="pin-toggle" aria-controls="pin" @click=${() => ui.send({ type: "pinToggle" })}>${t(m.pinShown ? "pin_hide" : "pin_show")}</button>
      </div>
    </div>`
    }
    <div id="pin-warnings" aria-live="assertive">${
      m.pinRequired
        ? html`<p class="field-error" role="alert">${t("pin_required")}</p>`
        : html`${m.caps ? html`<p class="warning" data-testid="caps-lock">${t("pin_caps_lock")}</p>` : nothing}${m.ime ? html`<p class="warning" data-testid="ime-active">${t("pin_ime_active")}</p>` : nothing}`
    }</div>
    ${s.pinError ? raisedError(s.pinError, ui) : nothing}
    <div class="actions">
      <button type="button" @click=${() => ui.send({ type: "back" })}>${t("back")}</button>
      <button type="submit" class="primary" data-testid="pin-submit" ?disabled=${!wiz.canSubmitPin(s)}>${t("confirm")}</button>
    </div>
  </form>`;
}

function doneRecover(s: wiz.WizardState, ui: Ui<Msg>): TemplateResult {
  const r = s.result;
  if (!r) return html``;
  return html`<div data-testid="step-done" class="done">
    <h3>${t("done_title")}</h3>
    ${
      r.temporary_password
        ? html`<div><p>${t("done_in_app")}</p><p class="secret" data-testid="temporary-password">${r.temporary_password}</p></div>`
        : html`<p data-testid="masked-email">${t("done_sent_to", { email: r.masked_email })}</p>
        <p class="alt-path"><button type="button" class="link" data-testid="stale-email"
          @click=${() => ui.go({ name: "wizard", purpose: "email", username: s.username })}>${t("stale_email")}</button></p>`
    }
    ${r.temporary_password ? nothing : html`<p data-testid="spam-hint">${t("portal_next_check", { email: r.masked_email })}</p>`}
    <p>${t("done_expires", { date: vnDate(r.password_expires_at) })}</p>
    ${referenceLine(r.reference)}
    <p data-testid="done-next">${t(r.temporary_password ? "done_next_in_app" : "done_next")}</p>
    <div class="actions">
      <button type="button" class="primary" autofocus data-testid="done-login" @click=${() => ui.go({ name: "login", username: s.username })}>${t("done_login_temporary")}</button>
    </div>
  </div>`;
}

/** A refused proof: the username may be mistyped. A server that names the accounts the
 * token does prove lets the user pick one (straight to the PIN, one more PIN in all);
 * an older one leaves the lookup by the same token. */
function notBoundHelp(s: wiz.WizardState, usernames: string[] | undefined, ui: Ui<Msg>): TemplateResult {
  const fix = html`<button type="button" data-testid="fix-username" @click=${() => ui.send({ type: "restart" })}>${t("not_bound_fix_username")}</button>`;
  if (usernames === undefined) {
    return html`<div class="notice" data-testid="not-bound-help">
      <p>${t("not_bound_username", { username: s.username })}</p>
      <div class="actions">
        ${fix}
        <button type="button" data-testid="lookup-with-token" @click=${() => ui.go({ name: "wizard", purpose: "lookup", sameToken: wiz.sameToken(s) ?? undefined })}>${t("not_bound_lookup")}</button>
      </div>
    </div>`;
  }
  return html`<div class="notice" data-testid="not-bound-help">
    <p>${t(usernames.length ? "not_bound_accounts" : "not_bound_no_account", { username: s.username })}</p>
    ${usernames.length ? accountList(usernames, s, ui) : hotline(ui.shared.hotline)}
    <div class="actions">${fix}</div>
  </div>`;
}

/** Usernames a token proved, each with its button: the recovery of that account, its
 * username filled in, straight to the PIN of the same certificate (for an email change,
 * its form with the username filled in: the new address is still to type). The list's
 * text is the usernames alone; each button (an input, labelled by its value) is
 * described by its username. */
function accountList(usernames: string[], s: wiz.WizardState, ui: Ui<Msg>): TemplateResult {
  const email = s.purpose === "email";
  const go = (username: string) =>
    ui.go(email ? { name: "wizard", purpose: "email", username } : { name: "wizard", purpose: "recover", username, sameToken: wiz.sameToken(s) ?? undefined });
  return html`<ul class="accounts" data-testid="usernames">${usernames.map(
    (u, i) => html`<li><span class="account-name" id=${`account-${i}`}>${u}</span><input
      type="button" class="account-recover" data-testid="recover-account" data-username=${u} aria-describedby=${`account-${i}`}
      value=${t(email ? "email_for_account" : "lookup_recover_account")} @click=${() => go(u)}></li>`,
  )}</ul>`;
}

function doneLookup(s: wiz.WizardState, ui: Ui<Msg>): TemplateResult {
  const r = s.lookup;
  if (!r) return html``;
  return html`<div data-testid="step-done" class="done">
    <h3>${t("lookup_done_title")}</h3>
    ${
      r.usernames.length
        ? accountList(r.usernames, s, ui)
        : html`<div><p data-testid="usernames-none">${t("lookup_none")}</p>${hotline(ui.shared.hotline)}</div>`
    }
    ${referenceLine(r.reference)}
    <div class="actions">
      <button type="button" class="primary" autofocus @click=${() => ui.go({ name: "login" })}>${t("login_button")}</button>
    </div>
  </div>`;
}

/** The waiting period in words: whole hours, else minutes, as the server's mails say it. */
function waitText(secs: number): string {
  const { unit, count } = wiz.waitIn(secs);
  const key: Key = unit === "hours" ? (count === 1 ? "wait_hour" : "wait_hours") : count === 1 ? "wait_minute" : "wait_minutes";
  return t(key, { count });
}

function doneEmail(s: wiz.WizardState, fromHome: boolean, ui: Ui<Msg>): TemplateResult {
  const r = s.emailChange;
  if (!r) return html``;
  return html`<div data-testid="step-done" class="done">
    <h3>${t("email_done_title")}</h3>
    <div data-testid="email-change-sent">
      <p data-testid="email-change-new">${t("email_done_sent", { email: s.newEmail.trim() || r.masked_new_email, date: vnDate(r.confirm_expires_at) })}</p>
      <p data-testid="email-change-old">${t("email_done_old", { email: r.masked_old_email })}</p>
      <p class="notice" data-testid="email-change-wait">${t("email_done_wait", { wait: waitText(r.wait_secs) })}</p>
    </div>
    ${referenceLine(r.reference)}
    <div class="actions">
      ${
        fromHome
          ? html`<button type="button" class="primary" autofocus data-testid="done-home" @click=${() => ui.go({ name: "home", username: s.username })}>${t("back_home")}</button>`
          : html`<button type="button" class="primary" autofocus data-testid="done-login" @click=${() => ui.go({ name: "login" })}>${t("login_button")}</button>`
      }
    </div>
  </div>`;
}
