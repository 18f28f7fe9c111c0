// Logging in to the BHXH software, with the ways out when the password or username is
// forgotten. The password is never kept in the model: it is read at submit and the
// field emptied once the server has answered.

import { html, nothing } from "lit-html";
import { api, type IpcError, type LoginView } from "../ipc";
import { t } from "../i18n";
import { call, clear, focus, go, remember, screen, type Screen } from "../runtime";
import { onSubmit, raisedError, valueOf } from "../views";

export interface Args {
  /** A message from the screen before. */
  notice?: string;
  /** The username the journey already knows (the recovery's, the changed account's):
   * filled in, and the cursor goes to the password. */
  username?: string;
}

interface Model {
  notice?: string;
  username: string;
  missing: "username" | "password" | null;
  error: IpcError | null;
}

type Msg = { type: "submit"; username: string; password: string } | { type: "loggedIn"; login: LoginView } | { type: "failed"; error: IpcError };

export const login: Screen<Model, Msg, Args> = screen({
  init: ({ notice, username }) => [{ notice, username: username ?? "", missing: null, error: null }, []],

  update(m, msg) {
    switch (msg.type) {
      case "submit": {
        const username = msg.username.trim();
        // The app's own message, in its language, and the cursor in the field to fill.
        if (!username || !msg.password) {
          const missing = !username ? "username" : "password";
          return [{ ...m, missing }, [focus(`#login-${missing}`)]];
        }
        const password = msg.password;
        return [
          m,
          [
            call(
              () => api.login(username, password),
              (login) => ({ type: "loggedIn", login }),
              (error) => ({ type: "failed", error }),
            ),
          ],
        ];
      }
      case "loggedIn": {
        const { username, must_change_password } = msg.login;
        return [m, [clear("#login-password"), go(must_change_password ? { name: "change", username, forced: true } : { name: "home", username })]];
      }
      case "failed":
        return [{ ...m, missing: null, error: msg.error }, [remember(msg.error), clear("#login-password")]];
    }
  },

  // `novalidate`: the messages are the app's, in its language, never the browser's own.
  view: (m, ui) => html`<form class="card login" aria-labelledby="login-title" data-testid="login-form" novalidate
      @submit=${onSubmit((f) => ui.send({ type: "submit", username: valueOf(f, "login-username"), password: valueOf(f, "login-password") }))}>
    <div class="login-main">
      <h2 id="login-title">${t("login_title")}</h2>
      ${m.notice ? html`<p class="notice" role="status">${m.notice}</p>` : nothing}
      <div class="field"><label for="login-username">${t("username")}</label><input id="login-username" name="login-username" autocomplete="username"
        spellcheck="false" autocapitalize="off" aria-required="true" value=${m.username} ?autofocus=${!m.username}
        aria-invalid=${m.missing === "username" ? "true" : nothing} aria-describedby="login-error"></div>
      <div class="field"><label for="login-password">${t("password")}</label><input id="login-password" name="login-password" type="password" autocomplete="current-password"
        aria-required="true" ?autofocus=${!!m.username} aria-invalid=${m.missing === "password" ? "true" : nothing} aria-describedby="login-error"></div>
      <div id="login-error">${
        m.missing
          ? html`<p class="field-error" role="alert">${t(m.missing === "username" ? "username_required" : "password_required")}</p>`
          : m.error
            ? raisedError(m.error, ui)
            : nothing
      }</div>
      <div class="actions"><button type="submit" class="primary" data-testid="login-submit">${t("login_button")}</button></div>
    </div>
    <div class="login-aside">
      <h3>${t("login_help_title")}</h3>
      <ul class="links">
        <li><button type="button" class="link" data-testid="forgot-password" @click=${() => ui.go({ name: "wizard", purpose: "recover" })}>${t("forgot_password")}</button>
          <span class="small">${t("forgot_password_hint")}</span></li>
        <li><button type="button" class="link" data-testid="forgot-username" @click=${() => ui.go({ name: "wizard", purpose: "lookup" })}>${t("forgot_username")}</button>
          <span class="small">${t("forgot_username_hint")}</span></li>
        <li class="alt-path"><button type="button" class="link" data-testid="portal-recover" @click=${() => ui.go({ name: "portal" })}>${t("portal_link")}</button>
          <span class="small">${t("portal_link_hint")}</span></li>
      </ul>
    </div>
  </form>`,
});
