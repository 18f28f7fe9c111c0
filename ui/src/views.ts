// View pieces more than one screen shows, and the small helpers views use to read what
// the user typed. lit-html escapes every value it puts in the page.

import { html, nothing, type TemplateResult } from "lit-html";
import { keyed } from "lit-html/directives/keyed.js";
import { api, toIpcError, type Hotline, type IpcError } from "./ipc";
import { t } from "./i18n";
import type { Route } from "./screens";

/** What an error box needs to offer "send the details to support": the way to the
 * Support screen (a screen's `ui`). The Support screen's own errors go without it. */
export interface ToSupport {
  go(route: Route): void;
}

/** Every error: its message, a hint, and the reference code large enough to read out;
 * with `support`, the button that opens the Support screen on the consent to send the
 * report (the app remembers the error shown, so the report quotes it). The user reads
 * words and the RC- reference; the catalogue code (PIN_INCORRECT) is for the support
 * report, not the box. */
export function errorBox(e: IpcError, support?: ToSupport, withHint = true): TemplateResult {
  return html`<div class="error" role="alert" data-testid="error" data-code=${e.code}>
    <p class="error-message"><strong>${e.message}</strong></p>
    ${withHint && e.hint ? html`<p><span class="label">${t("error_hint")}: </span>${e.hint}</p>` : nothing}
    ${e.reference ? referenceLine(e.reference) : nothing}
    ${e.reference ? html`<p class="small">${t("error_reference_note")}</p>` : nothing}
    ${support ? html`<p class="error-support">${sendToSupport(support)}</p>` : nothing}
  </div>`;
}

/** "Gửi thông tin cho nhân viên hỗ trợ": straight to the consent step of the Support
 * screen. In an error box, or beside a form's buttons (`sendToSupport`). */
export function sendToSupport(support: ToSupport): TemplateResult {
  return html`<button type="button" data-testid="send-to-support" @click=${() => support.go({ name: "support", consent: true })}>${t("support_send")}</button>`;
}

/** An error that answers something the user did (a form sent), with what goes with it
 * (the hotline box, which may stand for the hint: `withHint` false). The app brings it
 * into view and, unless the cursor is in a field to type in, puts the cursor on it (App,
 * `[data-reveal]`). Each error is a new box, keyed by the error itself: the same refusal
 * twice is brought into view twice, a render of the same one is not (a copy of `e` would
 * be a new box on every render, brought into view again under the user's click). */
export function raisedError(e: IpcError, support?: ToSupport, extra: TemplateResult | typeof nothing = nothing, withHint = true): TemplateResult {
  return html`${keyed(e, html`<div class="raised" data-reveal tabindex="-1">${errorBox(e, support, withHint)}${extra}</div>`)}`;
}

export function referenceLine(reference: string): TemplateResult {
  return html`<p class="reference">${t("reference")}: <strong data-testid="reference">${reference}</strong>
    <button type="button" class="small-button" data-testid="copy-reference" @click=${copyReference(reference)}>${t("copy_reference")}</button></p>`;
}

/** The reference put on the clipboard by the shell (verified there); the button itself
 * says whether it worked: a widget's own little state, not the screen's. */
function copyReference(reference: string): (e: Event) => void {
  return (e: Event) => {
    const button = e.currentTarget as HTMLButtonElement;
    api.referenceCopy(reference).then(
      () => {
        button.textContent = t("reference_copied");
        button.dataset.copied = "yes";
      },
      (err: unknown) => {
        button.textContent = toIpcError(err).message;
        button.dataset.copied = "no";
      },
    );
  };
}

/** The support desk's number as a `tel:` link (nothing until the shell has said it). */
export function hotlineNumber(h: Hotline | null, testid = "hotline-number"): TemplateResult | typeof nothing {
  return h ? html`<a href="tel:${h.tel}" data-testid=${testid}>${h.number}</a>` : nothing;
}

/** The support hotline, with the documents to have at hand. */
export function hotline(h: Hotline | null): TemplateResult {
  return html`<div class="hotline" data-testid="hotline">
    <h3>${t("hotline_title")}: ${hotlineNumber(h)}</h3>
    <p>${t("hotline_text")}</p>
    <ul><li>${t("doc_id")}</li><li>${t("doc_licence")}</li><li>${t("doc_authorisation")}</li></ul>
  </div>`;
}

/** A submit listener: no page load, and the form to read. */
export function onSubmit(f: (form: HTMLFormElement) => void): (e: Event) => void {
  return (e) => {
    e.preventDefault();
    if (e.currentTarget instanceof HTMLFormElement) f(e.currentTarget);
  };
}

/** The value of the form's control named or identified `name`. */
export function valueOf(form: HTMLFormElement, name: string): string {
  const el = form.elements.namedItem(name);
  return el instanceof HTMLInputElement || el instanceof HTMLSelectElement ? el.value : "";
}

/** The value of the input or select an event came from. */
export function targetValue(e: Event): string {
  return e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement ? e.target.value : "";
}

export function targetChecked(e: Event): boolean {
  return e.target instanceof HTMLInputElement && e.target.checked;
}
