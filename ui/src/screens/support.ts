// Support: the computer check (diagnostics), a support report to copy (no PIN, no
// password), the hotline and the documents to have at hand.

import { html, nothing, type TemplateResult } from "lit-html";
import { api, toIpcError, type Check, type Diagnostics, type IpcError } from "../ipc";
import { t, type Key } from "../i18n";
import { task, type Effect, screen, type Screen } from "../runtime";
import { errorBox, hotline } from "../views";

export type Args = Record<never, never>;

interface Model {
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
  | { type: "failed"; error: IpcError };

const diagnose: Effect<Msg> = task(() => api.diagnostics().catch(() => null).then((diagnostics): Msg => ({ type: "diagnosed", diagnostics })));

const failed = (e: unknown): Msg => ({ type: "failed", error: toIpcError(e) });

export const support: Screen<Model, Msg, Args> = screen({
  init: () => [{ diagnostics: null, report: null, outcome: null, busy: false }, [diagnose]],

  update(m, msg, shared) {
    const last = shared.lastError ? `${shared.lastError.code} ${shared.lastError.reference ?? ""}`.trim() : null;
    switch (msg.type) {
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
        return [{ ...m, busy: false, outcome: { kind: "failed", error: msg.error } }, [task(() =>
          api.supportReport().then((report): Msg => ({ type: "shown", report }), (e: unknown): Msg => ({ type: "shown", report: toIpcError(e).message })))]];
    }
  },

  view: (m, ui) => html`<section class="card wide" aria-labelledby="support-title">
    <h2 id="support-title">${t("support_title")}</h2>
    <h3>${t("diagnostics")}</h3>
    <ul class="checks" data-testid="checks">${(m.diagnostics?.checks ?? []).map(checkLine)}</ul>
    <div class="actions">
      <button type="button" data-testid="run-diagnostics" @click=${() => ui.send({ type: "diagnose" })}>${t("run_diagnostics")}</button>
      <button type="button" data-testid="save-report" ?disabled=${m.busy} @click=${() => ui.send({ type: "save" })}>${t("save_report")}</button>
      <button type="button" class="primary" data-testid="copy-report" ?disabled=${m.busy} @click=${() => ui.send({ type: "copy" })}>${t("copy_report")}</button>
    </div>
    <div role="status" id="copy-status" data-outcome=${m.outcome?.kind ?? nothing}>${outcomeLine(m)}</div>
    ${m.report === null ? nothing : html`<label for="report-text">${t("report_box")}</label>
      <textarea id="report-text" data-testid="report-text" readonly rows="8" spellcheck="false" .value=${m.report}></textarea>`}
    ${hotline()}
    <div class="actions"><button type="button" @click=${() => ui.go({ name: "login" })}>${t("back")}</button></div>
  </section>`,
});

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
  ["pkcs11_module", "check_pkcs11_module"], ["readers", "check_readers"], ["token", "check_token"],
  ["certificate", "check_certificate"], ["server", "check_server"], ["clock", "check_clock"],
]);

function checkLine(c: Check): TemplateResult {
  const key = CHECK_NAMES.get(c.name);
  return html`<li class="check ${c.status}" data-check=${c.name} data-status=${c.status}><span class="mark" aria-hidden="true">${c.status === "ok" ? "✓" : c.status === "warn" ? "!" : "✗"}</span><span class="visually-hidden">${t(c.status === "ok" ? "check_ok" : c.status === "warn" ? "check_warn" : "check_fail")}</span><strong>${key ? t(key) : c.name}</strong><span class="detail"> ${c.detail}</span>${c.code ? html`<code> [${c.code}]</code>` : nothing}${c.fix ? html`<p class="fix">→ ${c.fix}</p>` : nothing}</li>`;
}
