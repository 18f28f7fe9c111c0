// Logging in to the BHXH software, with the ways out when the password or username is
// forgotten. The password is never kept in the model: it is read at submit and the
// field emptied once the server has answered.

import { html, nothing } from "lit-html";
import { api, type IpcError, type LoginView } from "../ipc";
import { t } from "../i18n";
import { call, clear, go, remember, screen, type Screen } from "../runtime";
import { onSubmit, raisedError, valueOf } from "../views";

export interface Args {
  /** A message from the screen before (the password was changed). */
  notice?: string;
}

interface Model {
  notice?: string;
  missing: "username" | "password" | null;
  error: IpcError | null;
}

type Msg =
  | { type: "submit"; username: string; password: string }
  | { type: "loggedIn"; login: LoginView }
  | { type: "failed"; error: IpcError };

export const login: Screen<Model, Msg, Args> = screen({
  init: ({ notice }) => [{ notice, missing: null, error: null }, []],

  update(m, msg) {
    switch (msg.type) {
      case "submit": {
        const username = msg.username.trim();
        if (!username || !msg.password) return [{ ...m, missing: !username ? "username" : "password" }, []];
        const password = msg.password;
        return [m, [call(() => api.login(username, password), (login) => ({ type: "loggedIn", login }), (error) => ({ type: "failed", error }))]];
      }
      case "loggedIn": {
        const { username, must_change_password } = msg.login;
        return [m, [clear("#login-password"), go(must_change_password ? { name: "change", username, forced: true } : { name: "home", username })]];
      }
      case "failed":
        return [{ ...m, missing: null, error: msg.error }, [remember(msg.error), clear("#login-password")]];
    }
  },

  view: (m, ui) => html`<form class="card" aria-labelledby="login-title" data-testid="login-form"
      @submit=${onSubmit((f) => ui.send({ type: "submit", username: valueOf(f, "login-username"), password: valueOf(f, "login-password") }))}>
    <h2 id="login-title">${t("login_title")}</h2>
    ${m.notice ? html`<p class="notice" role="status">${m.notice}</p>` : nothing}
    <div class="field"><label for="login-username">${t("username")}</label><input id="login-username" name="login-username" autocomplete="username" required autofocus></div>
    <div class="field"><label for="login-password">${t("password")}</label><input id="login-password" name="login-password" type="password" autocomplete="current-password" required></div>
    <div id="login-error">${m.missing
      ? html`<p class="field-error" role="alert">${t(m.missing === "username" ? "username_required" : "password_required")}</p>`
      : m.error ? raisedError(m.error, ui) : nothing}</div>
    <button type="submit" class="primary" data-testid="login-submit">${t("login_button")}</button>
    <div class="links">
      <button type="button" class="link" data-testid="forgot-password" @click=${() => ui.go({ name: "wizard", purpose: "recover" })}>${t("forgot_password")}</button>
      <button type="button" class="link" data-testid="forgot-username" @click=${() => ui.go({ name: "wizard", purpose: "lookup" })}>${t("forgot_username")}</button>
    </div>
    <p class="alt-path"><button type="button" class="link" data-testid="portal-recover" @click=${() => ui.go({ name: "portal" })}>${t("portal_link")}</button></p>
  </form>`,
});
