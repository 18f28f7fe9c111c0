// Settings: the server address, the PKCS#11 module path, the language. Saved through
// the shell; the app keeps the saved settings and switches to their language.

import { html, nothing } from "lit-html";
import { api, type IpcError, type Settings } from "../ipc";
import { t } from "../i18n";
import { call, saveSettings, screen, type Screen } from "../runtime";
import { errorBox, onSubmit, valueOf } from "../views";

export type Args = Record<never, never>;

interface Model {
  serverUrl: string;
  module: string;
  status: "saved" | IpcError | null;
}

type Msg =
  | { type: "save"; settings: Settings }
  | { type: "saved"; settings: Settings }
  | { type: "failed"; error: IpcError };

export const settings: Screen<Model, Msg, Args> = screen({
  init: (_, shared) => [{ serverUrl: shared.settings.server_url, module: shared.settings.pkcs11_module ?? "", status: null }, []],

  update(m, msg) {
    switch (msg.type) {
      case "save":
        return [m, [call(() => api.settingsSet(msg.settings), (settings) => ({ type: "saved", settings }), (error) => ({ type: "failed", error }))]];
      case "saved":
        return [{ serverUrl: msg.settings.server_url, module: msg.settings.pkcs11_module ?? "", status: "saved" }, [saveSettings(msg.settings)]];
      case "failed":
        return [{ ...m, status: msg.error }, []];
    }
  },

  view: (m, ui) => html`<form class="card" data-testid="settings-form" aria-labelledby="settings-title"
      @submit=${onSubmit((f) => {
        const module = valueOf(f, "module-path").trim();
        ui.send({ type: "save", settings: { server_url: valueOf(f, "server-url").trim(), pkcs11_module: module || null, lang: valueOf(f, "language") === "en" ? "en" : "vi" } });
      })}>
    <h2 id="settings-title">${t("settings_title")}</h2>
    <div class="field"><label for="server-url">${t("server_url")}</label><input id="server-url" name="server-url" .value=${m.serverUrl} autofocus inputmode="url"></div>
    <div class="field"><label for="module-path">${t("module_path")}</label><input id="module-path" name="module-path" .value=${m.module}></div>
    <div class="field"><label for="language">${t("language")}</label><select id="language" .value=${ui.shared.settings.lang}><option value="vi">Tiếng Việt</option><option value="en">English</option></select></div>
    <div id="settings-status" role="status">${m.status === "saved" ? html`<p class="notice">${t("saved")}</p>` : m.status ? errorBox(m.status) : nothing}</div>
    <div class="actions">
      <button type="button" @click=${() => ui.go({ name: "login" })}>${t("back")}</button>
      <button type="submit" class="primary" data-testid="settings-save">${t("save")}</button>
    </div>
  </form>`,
});
