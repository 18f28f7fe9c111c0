// Changing the password, forced after a temporary one. The password policy is checked
// as the user types (policy.ts mirrors bhxh-protocol's); the model keeps which rules are
// unmet, never the passwords themselves, which are read from the form when sent.

import { html, nothing } from "lit-html";
import { api, type IpcError } from "../ipc";
import { t, type Key } from "../i18n";
import { passwordPolicy, type Rule } from "../policy";
import { call, clear, go, screen, type Screen } from "../runtime";
import { errorBox, onSubmit, valueOf } from "../views";

export interface Args {
  username: string;
  /** Logged in with a temporary password: no way out but a new password. */
  forced: boolean;
}

type Check = Rule | "match" | "not_current";

interface Model {
  username: string;
  forced: boolean;
  unmet: Check[];
  /** The current password is typed. */
  current: boolean;
  error: IpcError | null;
}

interface Typed {
  current: string;
  next: string;
  again: string;
}

type Msg =
  | ({ type: "typed" } & Typed)
  | ({ type: "submit" } & Typed)
  | { type: "changed" }
  | { type: "failed"; error: IpcError };

const RULES: readonly [Check, Key][] = [
  ["min_length", "rule_min_length"], ["mixed_case", "rule_mixed_case"], ["digit", "rule_digit"],
  ["symbol", "rule_symbol"], ["not_username", "rule_not_username"], ["match", "rule_match"], ["not_current", "rule_not_current"],
];

const FIELDS = ["current-password", "new-password", "new-password-again"];

function unmet(username: string, { current, next, again }: Typed): Check[] {
  const out: Check[] = passwordPolicy(next, username);
  if (next !== again || !again) out.push("match");
  if (next && next === current) out.push("not_current");
  return out;
}

const ready = (m: Model) => m.unmet.length === 0 && m.current;

const typed = (f: HTMLFormElement): Typed => ({
  current: valueOf(f, "current-password"), next: valueOf(f, "new-password"), again: valueOf(f, "new-password-again"),
});

export const change: Screen<Model, Msg, Args> = screen({
  init: ({ username, forced }) => [{ username, forced, unmet: unmet(username, { current: "", next: "", again: "" }), current: false, error: null }, []],

  update(m, msg) {
    switch (msg.type) {
      case "typed":
        return [{ ...m, unmet: unmet(m.username, msg), current: msg.current !== "" }, []];
      case "submit": {
        const m2: Model = { ...m, unmet: unmet(m.username, msg), current: msg.current !== "" };
        if (!ready(m2)) return [m2, []];
        const { current, next } = msg;
        return [m2, [call(() => api.changePassword(current, next), (): Msg => ({ type: "changed" }), (error) => ({ type: "failed", error }))]];
      }
      case "changed":
        return [m, [...FIELDS.map((id) => clear(`#${id}`)), go({ name: "login", notice: t("change_done") })]];
      case "failed":
        return [{ ...m, error: msg.error }, []];
    }
  },

  view: (m, ui) => html`<form class="card" data-testid="change-form" aria-labelledby="change-title"
      @input=${(e: Event) => {
        if (e.currentTarget instanceof HTMLFormElement) ui.send({ type: "typed", ...typed(e.currentTarget) });
      }}
      @submit=${onSubmit((f) => ui.send({ type: "submit", ...typed(f) }))}>
    <h2 id="change-title">${t("change_title")}</h2>
    ${m.forced ? html`<p class="notice">${t("change_forced")}</p>` : nothing}
    <div class="field"><label for="current-password">${t("current_password")}</label><input id="current-password" name="current-password" type="password" autocomplete="current-password" autofocus></div>
    <div class="field"><label for="new-password">${t("new_password")}</label><input id="new-password" name="new-password" type="password" autocomplete="new-password" aria-describedby="policy"></div>
    <div class="field"><label for="new-password-again">${t("new_password_again")}</label><input id="new-password-again" name="new-password-again" type="password" autocomplete="new-password"></div>
    <ul id="policy" class="policy" data-testid="policy" aria-live="polite">${RULES.map(([rule, key]) => {
      const missing = m.unmet.includes(rule);
      return html`<li class=${missing ? "unmet" : "met"} data-rule=${rule}>${missing ? "✗ " : "✓ "}${t(key)}</li>`;
    })}</ul>
    <div id="change-error">${m.error ? errorBox(m.error) : nothing}</div>
    <div class="actions">
      ${m.forced ? nothing : html`<button type="button" @click=${() => ui.go({ name: "home", username: m.username })}>${t("cancel")}</button>`}
      <button type="submit" class="primary" data-testid="change-submit" ?disabled=${!ready(m)}>${t("change_button")}</button>
    </div>
  </form>`,
});
