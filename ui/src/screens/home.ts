// Logged in: change the password, change the registered email (with the token), or log out.

import { html } from "lit-html";
import { api } from "../ipc";
import { t } from "../i18n";
import { go, task, screen, type Screen } from "../runtime";

export interface Args {
  username: string;
}

interface Model {
  username: string;
}

type Msg = { type: "logout" } | { type: "loggedOut" };

export const home: Screen<Model, Msg, Args> = screen({
  init: ({ username }) => [{ username }, []],

  update(m, msg) {
    switch (msg.type) {
      case "logout":
        return [m, [task(() => api.logout().catch(() => undefined).then((): Msg => ({ type: "loggedOut" })))]];
      case "loggedOut":
        return [m, [go({ name: "login" })]];
    }
  },

  view: (m, ui) => html`<section class="card">
    <h2>${t("logged_in_as", { username: m.username })}</h2>
    <div class="actions">
      <button type="button" data-testid="change-password" @click=${() => ui.go({ name: "change", username: m.username, forced: false })}>${t("change_title")}</button>
      <button type="button" data-testid="logout" @click=${() => ui.send({ type: "logout" })}>${t("logout")}</button>
    </div>
    <div class="home-entry">
      <button type="button" data-testid="home-change-email" aria-describedby="home-change-email-hint"
        @click=${() => ui.go({ name: "wizard", purpose: "email", username: m.username })}>${t("email_title")}</button>
      <p id="home-change-email-hint" class="small">${t("home_change_email_hint")}</p>
    </div>
  </section>`,
});
