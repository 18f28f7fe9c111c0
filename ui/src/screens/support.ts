// Support: the computer check (diagnostics), a support report to copy (no PIN, no
// password), the hotline and the documents to have at hand.

import { html, nothing, type TemplateResult } from "lit-html";
import { api, toIpcError, type Check, type Diagnostics } from "../ipc";
import { t, type Key } from "../i18n";
import { task, type Effect, screen, type Screen } from "../runtime";
import { hotline } from "../views";

export type Args = Record<never, never>;

interface Model {
  diagnostics: Diagnostics | null;
  /** The report as copied, once it is. */
  copied: string | null;
}

type Msg =
  | { type: "diagnose" }
  | { type: "diagnosed"; diagnostics: Diagnostics | null }
  | { type: "copy" }
  | { type: "report"; report: string }
  | { type: "copied"; text: string };

const diagnose: Effect<Msg> = task(() => api.diagnostics().catch(() => null).then((diagnostics): Msg => ({ type: "diagnosed", diagnostics })));

export const support: Screen<Model, Msg, Args> = screen({
  init: () => [{ diagnostics: null, copied: null }, [diagnose]],

  update(m, msg, shared) {
    switch (msg.type) {
      case "diagnose":
        return [m, [diagnose]];
      case "diagnosed":
        return [{ ...m, diagnostics: msg.diagnostics }, []];
      case "copy":
        return [m, [task(() => api.supportReport().catch((e: unknown) => String(toIpcError(e).message)).then((report): Msg => ({ type: "report", report })))]];
      case "report": {
        const last = shared.lastError;
        const text = last ? `${msg.report}\nlast error: ${last.code} ${last.reference ?? ""}` : msg.report;
        return [m, [task(async (): Promise<Msg> => {
          await navigator.clipboard?.writeText(text).catch(() => undefined);
          return { type: "copied", text };
        })]];
      }
      case "copied":
        return [{ ...m, copied: msg.text }, []];
    }
  },

  view: (m, ui) => html`<section class="card wide" aria-labelledby="support-title">
    <h2 id="support-title">${t("support_title")}</h2>
    <h3>${t("diagnostics")}</h3>
    <ul class="checks" data-testid="checks">${(m.diagnostics?.checks ?? []).map(checkLine)}</ul>
    <div class="actions">
      <button type="button" data-testid="run-diagnostics" @click=${() => ui.send({ type: "diagnose" })}>${t("run_diagnostics")}</button>
      <button type="button" class="primary" data-testid="copy-report" @click=${() => ui.send({ type: "copy" })}>${t("copy_report")}</button>
    </div>
    <p role="status" id="copy-status" data-report=${m.copied ?? nothing}>${m.copied === null ? nothing : t("report_copied")}</p>
    ${hotline()}
    <div class="actions"><button type="button" @click=${() => ui.go({ name: "login" })}>${t("back")}</button></div>
  </section>`,
});

/** The names of the checks the shell runs; another name is shown as it comes. */
const CHECK_NAMES: ReadonlyMap<string, Key> = new Map([
  ["pkcs11_module", "check_pkcs11_module"], ["readers", "check_readers"], ["token", "check_token"],
  ["certificate", "check_certificate"], ["server", "check_server"], ["clock", "check_clock"],
]);

function checkLine(c: Check): TemplateResult {
  const key = CHECK_NAMES.get(c.name);
  return html`<li class="check ${c.status}" data-check=${c.name} data-status=${c.status}><span class="mark" aria-hidden="true">${c.status === "ok" ? "✓" : c.status === "warn" ? "!" : "✗"}</span><span class="visually-hidden">${t(c.status === "ok" ? "check_ok" : c.status === "warn" ? "check_warn" : "check_fail")}</span><strong>${key ? t(key) : c.name}</strong><span class="detail"> ${c.detail}</span>${c.code ? html`<code> [${c.code}]</code>` : nothing}${c.fix ? html`<p class="fix">→ ${c.fix}</p>` : nothing}</li>`;
}
