// Support: the report sent to the support desk (shown first, sent only once the user
// agrees, answered with a code to read out on the phone), the computer check
// (diagnostics), a support report to copy (no PIN, no password), the hotline and the
// documents to have at hand.

import { html, nothing, type TemplateResult } from "lit-html";
import { api, toIpcError, type Check, type CheckStatus, type Diagnostics, type IpcError, type SupportCodeView } from "../ipc";
import { t, vnDate, type Key } from "../i18n";
import { call, focus, task, type Effect, type Next, screen, type Screen, type Shared, type Ui } from "../runtime";
import { errorBox, hotline, raisedError } from "../views";

export interface Args {
  /** Opened from an error ("Gửi thông tin cho nhân viên hỗ trợ"): straight to the consent. */
  consent?: boolean;
}

/** Sending the report to the support desk. The shell keeps the report it showed and
 * sends exactly that: the web view never hands it a text to send. */
export type Consent =
  | { step: "preparing" }
  /** The report shown for consent; `sending` once agreed; `error` when the send failed (agree again to retry). */
  | { step: "asking"; report: string; sending: boolean; error: IpcError | null }
  | { step: "sent"; code: SupportCodeView }
  /** "Không gửi": nothing was sent. */
  | { step: "cancelled" }
  /** The report could not be prepared. */
  | { step: "failed"; error: IpcError };

interface Model {
  consent: Consent | null;
  diagnostics: Diagnostics | null;
  /** The report, as last copied or saved (shown read-only, to select by hand too). */
  report: string | null;
  /** What happened to the last copy or save. */
  outcome: { kind: "copied" } | { kind: "saved"; path: string } | { kind: "failed"; error: IpcError } | null;
  busy: boolean;
}

type Msg =
  | { type: "diagnose" }
  | { type: "diagnosed"; diagnostics: Diagnostics | null }
  | { type: "copy" }
  | { type: "save" }
  | { type: "copied"; report: string }
  | { type: "saved"; path: string | null }
  | { type: "shown"; report: string }
  | { type: "failed"; error: IpcError }
  | { type: "consent" }
  | { type: "previewed"; report: string }
  | { type: "previewFailed"; error: IpcError }
  | { type: "agree" }
  | { type: "cancel" }
  | { type: "supportSent"; code: SupportCodeView }
  | { type: "sendFailed"; error: IpcError };

const diagnose: Effect<Msg> = task(() =>
  api
    .diagnostics()
    .catch(() => null)
    .then((diagnostics): Msg => ({ type: "diagnosed", diagnostics })),
);

const failed = (e: unknown): Msg => ({ type: "failed", error: toIpcError(e) });

/** The last error the app remembers, as the report quotes it: its code and reference. */
const lastError = (shared: Shared): string | null => (shared.lastError ? `${shared.lastError.code} ${shared.lastError.reference ?? ""}`.trim() : null);

/** The consent step: the report to send, asked of the shell (which keeps it), the cursor on the step. */
function prepare(m: Model, shared: Shared): Next<Model, Msg> {
  const last = lastError(shared);
  return [
    { ...m, consent: { step: "preparing" } },
    [
      call(
        () => api.supportPreview(last),
        (report): Msg => ({ type: "previewed", report }),
        (error): Msg => ({ type: "previewFailed", error }),
      ),
      focus("#support-consent"),
    ],
  ];
}

/** While the report is prepared or sent, a second press does nothing. */
const working = (c: Consent | null) => c?.step === "preparing" || (c?.step === "asking" && c.sending);

export const support: Screen<Model, Msg, Args> = screen({
  init: ({ consent }, shared) => {
    const m: Model = { consent: null, diagnostics: null, report: null, outcome: null, busy: false };
    if (!consent) return [m, [diagnose]];
    const [next, effects] = prepare(m, shared);
    return [next, [diagnose, ...effects]];
  },

  update(m, msg, shared) {
    const last = lastError(shared);
    const c = m.consent;
    switch (msg.type) {
      case "consent":
        return working(c) ? [m, []] : prepare(m, shared);
      case "previewed":
        if (c?.step !== "preparing") return [m, []];
        return [{ ...m, consent: { step: "asking", report: msg.report, sending: false, error: null } }, [focus("#support-consent")]];
      case "previewFailed":
        if (c?.step !== "preparing") return [m, []];
        return [{ ...m, consent: { step: "failed", error: msg.error } }, []];
      case "agree":
        // Sent once, and only what was shown: the shell sends the report it previewed.
        if (c?.step !== "asking" || c.sending) return [m, []];
        return [
          { ...m, consent: { ...c, sending: true, error: null } },
          [
            call(
              () => api.supportSend(),
              (code): Msg => ({ type: "supportSent", code }),
              (error): Msg => ({ type: "sendFailed", error }),
            ),
          ],
        ];
      case "cancel":
        if (c?.step !== "asking" || c.sending) return [m, []];
        return [{ ...m, consent: { step: "cancelled" } }, [focus("#support-send")]];
      case "supportSent":
        if (c?.step !== "asking" || !c.sending) return [m, []];
        return [{ ...m, consent: { step: "sent", code: msg.code } }, [focus("#support-sent")]];
      case "sendFailed":
        // The shell keeps the report until it is sent: agreeing again retries it.
        if (c?.step !== "asking" || !c.sending) return [m, []];
        return [{ ...m, consent: { ...c, sending: false, error: msg.error } }, []];
      case "diagnose":
        return [m, [diagnose]];
      case "diagnosed":
        return [{ ...m, diagnostics: msg.diagnostics }, []];
      case "copy":
        // Copied by the shell and read back: "copied" is said only when the clipboard holds it.
        return [{ ...m, busy: true, outcome: null }, [task(() => api.supportCopy(last).then((report): Msg => ({ type: "copied", report }), failed))]];
      case "save":
        return [{ ...m, busy: true, outcome: null }, [task(() => api.supportSave(last).then((path): Msg => ({ type: "saved", path }), failed))]];
      case "copied":
        return [{ ...m, busy: false, report: msg.report, outcome: { kind: "copied" } }, []];
      case "saved":
        return [{ ...m, busy: false, outcome: msg.path === null ? null : { kind: "saved", path: msg.path } }, []];
      case "shown":
        return [{ ...m, report: msg.report }, []];
      case "failed":
        // The copy failed: the report is shown anyway, to be selected and copied by hand.
        return [
          { ...m, busy: false, outcome: { kind: "failed", error: msg.error } },
          [
            task(() =>
              api.supportReport().then(
                (report): Msg => ({ type: "shown", report }),
                (e: unknown): Msg => ({ type: "shown", report: toIpcError(e).message }),
              ),
            ),
          ],
        ];
    }
  },

  view: (m, ui) => html`<section class="card wide" aria-labelledby="support-title">
    <h2 id="support-title">${t("support_title")}</h2>
    ${consentView(m.consent, ui)}
    <h3>${t("diagnostics")}</h3>
    <ul class="checks" data-testid="checks">${(m.diagnostics?.checks ?? []).map(checkLine)}</ul>
    <div class="actions">
      <button type="button" data-testid="run-diagnostics" @click=${() => ui.send({ type: "diagnose" })}>${t("run_diagnostics")}</button>
      <button type="button" data-testid="save-report" ?disabled=${m.busy} @click=${() => ui.send({ type: "save" })}>${t("save_report")}</button>
      <button type="button" class="primary" data-testid="copy-report" ?disabled=${m.busy} @click=${() => ui.send({ type: "copy" })}>${t("copy_report")}</button>
    </div>
    <div role="status" id="copy-status" data-outcome=${m.outcome?.kind ?? nothing}>${outcomeLine(m)}</div>
    ${
      m.report === null
        ? nothing
        : html`<div class="field report-box">
            <label for="report-text">${t("report_box")}</label>
            <textarea id="report-text" data-testid="report-text" readonly rows="8" spellcheck="false" .value=${m.report}></textarea>
          </div>`
    }
    ${hotline(ui.shared.hotline)}
    <div class="actions"><button type="button" data-testid="support-back" @click=${() => ui.leave()}>${t("back")}</button></div>
  </section>`,
});

/** The way to send the report to the support desk, and its steps: the report shown for
 * consent, then the code to read out on the phone. */
function consentView(c: Consent | null, ui: Ui<Msg>): TemplateResult {
  const start = html`<div class="support-send">
    <p class="note" id="support-send-hint">${t("support_send_hint")}</p>
    <button type="button" class="primary" id="support-send" data-testid="support-send" aria-describedby="support-send-hint"
      @click=${() => ui.send({ type: "consent" })}>${t("support_send")}</button>
  </div>`;
  switch (c?.step) {
    case undefined:
      return start;
    case "cancelled":
      return html`${start}<p class="note" role="status" data-testid="support-consent-cancelled">${t("support_consent_cancelled")}</p>`;
    case "failed":
      return html`${start}${raisedError(c.error)}`;
    case "preparing":
      return html`<div class="consent" id="support-consent" tabindex="-1" role="status" data-testid="support-consent-preparing">
        <p class="progress-line"><span class="spinner small" aria-hidden="true"></span>${t("support_preparing")}</p>
      </div>`;
    case "asking":
      return html`<section class="consent" id="support-consent" tabindex="-1" data-testid="support-consent" aria-labelledby="support-consent-title"
          aria-describedby="support-consent-text" aria-busy=${String(c.sending)}>
        <h3 id="support-consent-title">${t("support_consent_title")}</h3>
        <p id="support-consent-text">${t("support_consent_text")}</p>
        <label for="support-consent-report">${t("support_consent_report")}</label>
        <textarea id="support-consent-report" data-testid="support-consent-report" readonly rows="8" spellcheck="false" .value=${c.report}></textarea>
        ${c.error ? raisedError(c.error) : nothing}
        <div class="actions">
          <button type="button" data-testid="support-consent-cancel" ?disabled=${c.sending} @click=${() => ui.send({ type: "cancel" })}>${t("support_consent_cancel")}</button>
          <button type="button" class="primary" data-testid="support-consent-agree" aria-disabled=${c.sending ? "true" : nothing} aria-busy=${String(c.sending)}
            @click=${() => ui.send({ type: "agree" })}>${
              c.sending ? html`<span class="spinner small" aria-hidden="true"></span>${t("support_sending")}` : t("support_consent_agree")
            }</button>
        </div>
      </section>`;
    case "sent":
      // The code alone: a second press here would replace the code being read out.
      return html`<section class="consent sent" id="support-sent" tabindex="-1" data-testid="support-sent" aria-labelledby="support-sent-title" aria-describedby="support-code-note">
        <h3 id="support-sent-title">${t("support_sent_title")}</h3>
        <p class="support-code"><span class="visually-hidden">${t("support_code")}: </span><strong data-testid="support-code">${c.code.support_code}</strong></p>
        <p id="support-code-note" data-testid="support-code-note">${t("support_code_note", { date: vnDate(c.code.expires_at) })}</p>
      </section>`;
  }
}

function outcomeLine(m: Model): TemplateResult | typeof nothing {
  switch (m.outcome?.kind) {
    case "copied":
      return html`<p class="ok">${t("report_copied")}</p>`;
    case "saved":
      return html`<p class="ok">${t("report_saved", { path: m.outcome.path })}</p>`;
    case "failed":
      return errorBox(m.outcome.error);
    default:
      return nothing;
  }
}

/** The names of the checks the shell runs; another name is shown as it comes. */
const CHECK_NAMES: ReadonlyMap<string, Key> = new Map([
  ["pkcs11_module", "check_pkcs11_module"],
  ["readers", "check_readers"],
  ["token", "check_token"],
  ["certificate", "check_certificate"],
  ["cert_trust", "check_cert_trust"],
  ["ca_plugins", "check_ca_plugins"],
  ["server", "check_server"],
  ["clock", "check_clock"],
]);

/** Each status's mark, and its name for a screen reader. */
const MARK: Record<CheckStatus, string> = { ok: "✓", info: "i", warn: "!", fail: "✗" };
const STATUS: Record<CheckStatus, Key> = { ok: "check_ok", info: "check_info", warn: "check_warn", fail: "check_fail" };

function checkLine(c: Check): TemplateResult {
  const key = CHECK_NAMES.get(c.name);
  return html`<li class="check ${c.status}" data-check=${c.name} data-status=${c.status}><span class="mark" aria-hidden="true">${MARK[c.status]}</span><span class="visually-hidden">${t(STATUS[c.status])}</span><strong>${key ? t(key) : c.name}</strong><span class="detail"> ${c.detail}</span>${c.code ? html`<code> [${c.code}]</code>` : nothing}${c.fix ? html`<p class="fix">→ ${c.fix}</p>` : nothing}</li>`;
}
