// Changing the password, forced after a temporary one. Forced, the user has just logged
// in with the temporary password: it is not asked again (the must-change session is the
// proof, and `current` goes as null). The password policy is checked as the user types (policy.ts mirrors bhxh-protocol's), a rule judged only once what it
// is about is typed; the model keeps which rules are unmet or not judged yet and which
// fields are shown in clear, never the passwords themselves, which are read from the
// form when sent.

import { html, nothing } from "lit-html";
import { api, type IpcError } from "../ipc";
import { t, type Key } from "../i18n";
import { passwordPolicy, type Rule } from "../policy";
import { call, clear, remember, screen, type Screen, type Ui } from "../runtime";
import { onSubmit, raisedError, valueOf } from "../views";

export interface Args {
  username: string;
  /** Logged in with a temporary password: no way out but a new password. */
  forced: boolean;
}

type Check = Rule | "match" | "not_current";

type Field = "current" | "next" | "again";

interface Model {
  username: string;
  forced: boolean;
  unmet: Check[];
  /** The rules not judged yet: what they are about is not typed. Shown neither met nor unmet. */
  pending: Check[];
  /** The current password is typed. */
  current: boolean;
  /** The fields shown in clear. */
  shown: Record<Field, boolean>;
  /** The change is on its way to the server. */
  busy: boolean;
  error: IpcError | null;
  /** The server changed the password: the screen says what to do now. */
  done: boolean;
}

interface Typed {
  current: string;
  next: string;
  again: string;
}

type Msg =
  ({ type: "typed" } & Typed) | ({ type: "submit" } & Typed) | { type: "toggle"; field: Field } | { type: "changed" } | { type: "failed"; error: IpcError };

const RULES: readonly [Check, Key][] = [
  ["min_length", "rule_min_length"],
  ["mixed_case", "rule_mixed_case"],
  ["digit", "rule_digit"],
  ["symbol", "rule_symbol"],
  ["not_username", "rule_not_username"],
  ["match", "rule_match"],
  ["not_current", "rule_not_current"],
];

const FIELDS = ["current-password", "new-password", "new-password-again"];

/** The rules the screen shows: forced, there is no current password to differ from. */
export function rules(forced: boolean): readonly [Check, Key][] {
  return forced ? RULES.filter(([rule]) => rule !== "not_current") : RULES;
}

function unmet(username: string, forced: boolean, { current, next, again }: Typed): Check[] {
  const out: Check[] = passwordPolicy(next, username);
  if (next !== again || !again) out.push("match");
  if (!forced && next && next === current) out.push("not_current");
  return out;
}

/** Every rule waits for the new password; the match for the second entry, "differs from
 * the current password" for the current one. An empty field never shows a rule met. */
function pending(forced: boolean, { current, next, again }: Typed): Check[] {
  if (!next) return rules(forced).map(([rule]) => rule);
  return [...(again ? [] : ["match" as const]), ...(current || forced ? [] : ["not_current" as const])];
}

const judged = (m: Model, input: Typed): Model => ({
  ...m,
  unmet: unmet(m.username, m.forced, input),
  pending: pending(m.forced, input),
  current: input.current !== "",
});

const ready = (m: Model) => m.unmet.length === 0 && (m.forced || m.current);

const typed = (f: HTMLFormElement): Typed => ({
  current: valueOf(f, "current-password"),
  next: valueOf(f, "new-password"),
  again: valueOf(f, "new-password-again"),
});

const EMPTY: Typed = { current: "", next: "", again: "" };

export const change: Screen<Model, Msg, Args> = screen({
  init: ({ username, forced }) => [
    judged(
      {
        username,
        forced,
        unmet: [],
        pending: [],
        current: false,
        shown: { current: false, next: false, again: false },
        busy: false,
        error: null,
        done: false,
      },
      EMPTY,
    ),
    [],
  ],

  update(m, msg) {
    switch (msg.type) {
      case "typed":
        return [judged(m, msg), []];
      case "toggle":
        return [{ ...m, shown: { ...m.shown, [msg.field]: !m.shown[msg.field] } }, []];
      case "submit": {
        if (m.busy) return [m, []]; // sent once
        const m2 = judged(m, msg);
        if (!ready(m2)) return [m2, []];
        // Forced: the must-change session proves the account; no current password is sent.
        const current = m.forced ? null : msg.current;
        const next = msg.next;
        return [
          { ...m2, busy: true, error: null },
          [
            call(
              () => api.changePassword(current, next),
              (): Msg => ({ type: "changed" }),
              (error) => ({ type: "failed", error }),
            ),
          ],
        ];
      }
      case "changed":
        return [{ ...m, busy: false, error: null, done: true }, FIELDS.map((id) => clear(`#${id}`))];
      case "failed":
        return [{ ...m, busy: false, error: msg.error }, [remember(msg.error)]];
    }
  },

  view: (m, ui) => {
    if (m.done) return doneView(m, ui);
    /** A password field with its show/hide button. */
    const password = (field: Field, id: string, label: Key, autocomplete: string, describedBy?: string) => html`<div class="field">
      <label id=${`${id}-label`} for=${id}>${t(label)}</label>
      <div class="password-row">
        <input id=${id} name=${id} type=${m.shown[field] ? "text" : "password"} autocomplete=${autocomplete} spellcheck="false" autocapitalize="off"
          ?autofocus=${field === (m.forced ? "next" : "current")} aria-describedby=${describedBy ?? nothing}>
        <button type="button" class="toggle" data-testid=${`${id}-toggle`} aria-controls=${id} aria-pressed=${String(m.shown[field])} aria-describedby=${`${id}-label`}
          @click=${() => ui.send({ type: "toggle", field })}>${t(m.shown[field] ? "password_hide" : "password_show")}</button>
      </div>
    </div>`;
    return html`<form class="card" data-testid="change-form" novalidate aria-labelledby="change-title" aria-busy=${String(m.busy)}
      @input=${(e: Event) => {
        if (e.currentTarget instanceof HTMLFormElement) ui.send({ type: "typed", ...typed(e.currentTarget) });
      }}
      @submit=${onSubmit((f) => ui.send({ type: "submit", ...typed(f) }))}>
    <h2 id="change-title">${t("change_title")}</h2>
    ${m.forced ? html`<p class="notice">${t("change_forced")}</p>` : nothing}
    ${m.forced ? nothing : password("current", "current-password", "current_password", "current-password")}
    ${password("next", "new-password", "new_password", "new-password", "policy")}
    ${password("again", "new-password-again", "new_password_again", "new-password")}
    <ul id="policy" class="policy" data-testid="policy" aria-live="polite">${rules(m.forced).map(([rule, key]) => {
      const state = m.pending.includes(rule) ? "pending" : m.unmet.includes(rule) ? "unmet" : "met";
      return html`<li class=${state} data-rule=${rule}>${MARKS[state]}${t(key)}</li>`;
    })}</ul>
    <div id="change-error">${m.error ? raisedError(m.error, ui) : nothing}</div>
    <div class="actions">
      ${m.forced ? nothing : html`<button type="button" @click=${() => ui.go({ name: "home", username: m.username })}>${t("cancel")}</button>`}
      <button type="submit" class="primary" data-testid="change-submit" ?disabled=${!ready(m)} aria-disabled=${m.busy ? "true" : nothing} aria-busy=${String(m.busy)}>${
        m.busy ? html`<span class="spinner small" aria-hidden="true"></span>${t("change_busy")}` : t("change_button")
      }</button>
    </div>
  </form>`;
  },
});

/** The password is changed: what to do now, in the BHXH e-filing software. */
function doneView(m: Model, ui: Ui<Msg>) {
  return html`<section class="card done" data-testid="change-done" aria-labelledby="change-done-title">
    <h2 id="change-done-title"><span class="done-mark" aria-hidden="true">✓</span> ${t("change_done_title")}</h2>
    <p>${t("change_done_text", { username: m.username })}${m.forced ? html` ${t("change_done_temporary")}` : nothing}</p>
    <h3>${t("change_done_next_title")}</h3>
    <ol class="next-steps" data-testid="change-done-next">
      <li>${t("change_done_open")}</li>
      <li>${t("change_done_login", { username: m.username })}</li>
    </ol>
    <div class="actions">
      <button type="button" class="primary" autofocus data-testid="change-done-login"
        @click=${() => ui.go({ name: "login", username: m.username })}>${t("change_done_back")}</button>
    </div>
  </section>`;
}

/** Met, unmet, not judged yet (nothing typed to judge). */
const MARKS = { met: "✓ ", unmet: "✗ ", pending: "○ " } as const;
