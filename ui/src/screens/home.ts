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
        return [
          m,
          [
            task(() =>
              api
                .logout()
                .catch(() => undefined)
                .then((): Msg => ({ type: "loggedOut" })),
            ),
          ],
        ];
      case "loggedOut":
        return [m, [go({ name: "login" })]];
    }
  },

  // Logged in: what the user can do next, each action with what it is for.
  view: (m, ui) => html`<section class="card" aria-labelledby="home-title" data-testid="home">
    <h2 id="home-title">${t("logged_in_as", { username: m.username })}</h2>
    <p data-testid="home-next">${t("home_next", { username: m.username })}</p>
    <ul class="home-actions">
      <li class="home-entry">
        <button type="button" class="primary" data-testid="change-password" aria-describedby="home-change-password-hint" autofocus
          @click=${() => ui.go({ name: "change", username: m.username, forced: false })}>${t("change_title")}</button>
        <p id="home-change-password-hint" class="small">${t("home_change_password_hint", { username: m.username })}</p>
      </li>
      <li class="home-entry">
        <button type="button" data-testid="home-change-email" aria-describedby="home-change-email-hint"
          @click=${() => ui.go({ name: "wizard", purpose: "email", username: m.username, fromHome: true })}>${t("email_title")}</button>
        <p id="home-change-email-hint" class="small">${t("home_change_email_hint")}</p>
      </li>
      <li class="home-entry">
        <button type="button" data-testid="logout" aria-describedby="home-logout-hint" @click=${() => ui.send({ type: "logout" })}>${t("logout")}</button>
        <p id="home-logout-hint" class="small">${t("home_logout_hint")}</p>
      </li>
    </ul>
  </section>`,
});
