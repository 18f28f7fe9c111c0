// Settings: the server address, the PKCS#11 module, the language. Saved through the
// shell; the app keeps the saved settings and switches to their language.
//
// The module is chosen, never typed: the web view must not be able to make the shell
// load a library it names. The list holds "automatic", the modules the shell found on
// this computer, the saved one, and the one last picked in the shell's native file
// dialog; the shell refuses anything else (MODULE_NOT_CHOSEN).

import { html, nothing } from "lit-html";
import { api, type IpcError, type Settings } from "../ipc";
// Each language by its own name: the other language's toggle says it.
import { catalogue, t } from "../i18n";
import { call, remember, saveSettings, screen, type Screen } from "../runtime";
import { onSubmit, raisedError, targetValue, valueOf } from "../views";

export type Args = Record<never, never>;

interface Model {
  serverUrl: string;
  /** The module selected in the list; "" is automatic. */
  module: string;
  /** The saved module, choosable even when the shell no longer finds it. */
  saved: string | null;
  /** The modules found on this computer: none while they load, or if that failed. */
  found: readonly string[];
  /** The path last picked in the native dialog (the only picked one the shell accepts). */
  picked: string | null;
  /** The native dialog is open. */
  picking: boolean;
  status: "saved" | IpcError | null;
  /** "Nâng cao" is open: closed when the screen opens. */
  advanced: boolean;
}

type Msg =
  | { type: "found"; modules: readonly string[] }
  | { type: "chose"; module: string }
  | { type: "pick" }
  | { type: "picked"; path: string | null }
  | { type: "pickFailed"; error: IpcError }
  | { type: "save"; settings: Settings }
  | { type: "saved"; settings: Settings }
  | { type: "failed"; error: IpcError }
  | { type: "advanced"; open: boolean };

/** The values of the module list, in order: "" (automatic), the modules found, the saved
 * one, the picked one; each once. */
export function moduleOptions(m: Pick<Model, "found" | "saved" | "picked">): string[] {
  const paths = [...m.found, m.saved, m.picked].filter((p): p is string => !!p);
  return ["", ...new Set(paths)];
}

export const settings: Screen<Model, Msg, Args> = screen({
  init: (_, shared) => {
    const saved = shared.settings.pkcs11_module || null;
    const model: Model = {
      serverUrl: shared.settings.server_url,
      module: saved ?? "",
      saved,
      found: [],
      picked: null,
      picking: false,
      status: null,
      advanced: false,
    };
    // A list that cannot be read leaves "automatic" and the saved module: saving still works.
    return [
      model,
      [
        call(
          () => api.modulesList(),
          (modules) => ({ type: "found", modules }),
          () => ({ type: "found", modules: [] }),
        ),
      ],
    ];
  },

  update(m, msg) {
    switch (msg.type) {
      case "found":
        return [{ ...m, found: msg.modules }, []];
      case "chose":
        return [{ ...m, module: msg.module, status: null }, []];
      case "pick":
        if (m.picking) return [m, []];
        return [
          { ...m, picking: true },
          [
            call(
              () => api.modulePick(),
              (path) => ({ type: "picked", path }),
              (error) => ({ type: "pickFailed", error }),
            ),
          ],
        ];
      case "picked":
        // Cancelled: nothing changes.
        if (msg.path === null) return [{ ...m, picking: false }, []];
        return [{ ...m, picking: false, picked: msg.path, module: msg.path, status: null }, []];
      case "pickFailed":
        return [{ ...m, picking: false, status: msg.error }, [remember(msg.error)]];
      case "save":
        return [
          m,
          [
            call(
              () => api.settingsSet(msg.settings),
              (settings) => ({ type: "saved", settings }),
              (error) => ({ type: "failed", error }),
            ),
          ],
        ];
      case "saved": {
        const saved = msg.settings.pkcs11_module || null;
        return [{ ...m, serverUrl: msg.settings.server_url, module: saved ?? "", saved, status: "saved" }, [saveSettings(msg.settings)]];
      }
      case "failed":
        // A refused library: "Nâng cao" opens on it.
        return [{ ...m, status: msg.error, advanced: m.advanced || msg.error.code === "MODULE_NOT_CHOSEN" }, [remember(msg.error)]];
      case "advanced":
        return [{ ...m, advanced: msg.open }, []];
    }
  },

  // The language first; the server address and the token library, which only the support
  // staff ask to change, under "Nâng cao", closed: nothing there is selected or focused
  // when the screen opens (a refused library opens it, to show what was refused).
  view: (m, ui) => html`<form class="card" data-testid="settings-form" aria-labelledby="settings-title" novalidate
      @submit=${onSubmit((f) => {
        const module = valueOf(f, "module-path");
        ui.send({
          type: "save",
          settings: { server_url: valueOf(f, "server-url").trim(), pkcs11_module: module || null, lang: valueOf(f, "language") === "en" ? "en" : "vi" },
        });
      })}>
    <h2 id="settings-title">${t("settings_title")}</h2>
    <div class="field"><label for="language">${t("language")}</label><select id="language" name="language" autofocus .value=${ui.shared.settings.lang}><option value="vi" lang="vi">${catalogue.en.lang_toggle}</option><option value="en" lang="en">${catalogue.vi.lang_toggle}</option></select></div>
    <details class="advanced" data-testid="settings-advanced" ?open=${m.advanced}
      @toggle=${(e: Event) => ui.send({ type: "advanced", open: (e.currentTarget as HTMLDetailsElement).open })}>
    <summary data-testid="settings-advanced-toggle">${t("settings_advanced")}</summary>
    <p class="small">${t("settings_advanced_hint")}</p>
    <div class="field"><label for="server-url">${t("server_url")}</label><input id="server-url" name="server-url" .value=${m.serverUrl} inputmode="url" spellcheck="false" autocapitalize="off"></div>
    <div class="field">
      <label for="module-path">${t("module_path")}</label>
      <div class="module-row">
        <select id="module-path" name="module-path" aria-describedby="module-hint" title=${m.module || t("module_auto")} @change=${(e: Event) => ui.send({ type: "chose", module: targetValue(e) })}>
          ${moduleOptions(m).map((path) => html`<option value=${path} .selected=${path === m.module}>${path || t("module_auto")}</option>`)}
        </select>
        <button type="button" data-testid="module-pick" ?disabled=${m.picking} @click=${() => ui.send({ type: "pick" })}>${t("module_pick")}</button>
      </div>
      <p id="module-hint" class="small">${t("module_hint")}</p>
    </div>
    </details>
    <div id="settings-status" role="status">${m.status === "saved" ? html`<p class="notice">${t("saved")}</p>` : m.status ? raisedError(m.status, ui) : nothing}</div>
    <div class="actions">
      <button type="button" data-testid="settings-back" @click=${() => ui.leave()}>${t("back")}</button>
      <button type="submit" class="primary" data-testid="settings-save">${t("save")}</button>
    </div>
  </form>`,
});
