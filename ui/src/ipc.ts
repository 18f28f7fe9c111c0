// The typed IPC surface of the Rust shell (src-tauri). These types mirror the Rust
// ones; src-tauri/tests/ipc_contract.rs serialises real values into
// ui/tests/ipc-contract.json and tests/unit/contract.test.ts checks them against these
// types, so a drift on either side fails a test.

import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type errors from "./generated/errors.json";

/** Every code of the error catalogue, which Rust generates (src/generated/errors.json,
 * checked by bhxh-protocol's tests). A type only: the catalogue is not bundled. */
export type ErrorCode = keyof typeof errors;

export type PinState = "ok" | "count_low" | "final_try" | "locked" | "must_change";
export type Algorithm = "RS256" | "ES256";

export interface CertView {
  id: string;
  label: string;
  holder: string;
  msts: string[];
  personal_ids: string[];
  issuer: string;
  serial: string;
  not_before: number;
  not_after: number;
  key_type: string;
  key_bits: number;
  algorithm: Algorithm | null;
  digital_signature: boolean;
  fingerprint: string;
}

export interface TokenView {
  slot_id: number;
  label: string;
  manufacturer: string;
  model: string;
  serial: string;
  pin_state: PinState;
  /** The reader has its own keypad (CKF_PROTECTED_AUTHENTICATION_PATH): the PIN is typed there. */
  pin_pad: boolean;
  /** The PKCS#11 module it came from (several CAs' middlewares may be installed). */
  module: string;
  certificates: CertView[];
}

/** The server's verdict on a certificate before the PIN is asked: its path to the
 * national root ("holder < issuing CA < root (anchor)") and whether revocation was checked. */
export interface CertificateCheckView {
  path: string;
  revocation_checked: boolean;
  /** What decided each certificate's status ("holder: OCSP good (…); CA: CRL …"), for the support desk. */
  revocation: string;
  reference: string;
}

export interface RecoveryView {
  masked_email: string;
  reference: string;
  password_expires_at: string;
  delivery: "email" | "in-app";
  temporary_password?: string;
}

/** The token signed for a new registered email: a confirmation link went to the new
 * address (valid until `confirm_expires_at`); once it is opened the old address is told
 * (with a link to cancel) and the change takes effect `wait_secs` later. Until then the
 * password mails still go to the old address. */
export interface EmailChangeView {
  masked_new_email: string;
  masked_old_email: string;
  /** RFC 3339 */
  confirm_expires_at: string;
  wait_secs: number;
  reference: string;
}

export interface LookupView {
  usernames: string[];
  reference: string;
}

export interface LoginView {
  username: string;
  must_change_password: boolean;
  expires_at: string;
  reference: string;
}

/** A captcha of the BHXH portal's "Lấy lại mật khẩu" form; each works once. */
export interface CaptchaView {
  captcha_id: string;
  /** "data:image/png;base64,…" */
  image: string;
  /** RFC 3339 */
  expires_at: string;
}

/** The portal accepted MST + email + captcha and mailed a new password with an
 * activation link; the old password works until the link is opened. */
export interface PortalView {
  masked_email: string;
  reference: string;
  /** RFC 3339 */
  activation_expires_at: string;
}

export interface Ack {
  reference: string;
}

/** The support report was sent (the user agreed to what `supportPreview` showed): the
 * code the caller reads out on the phone, so the support staff find exactly that report. */
export interface SupportCodeView {
  /** "HT-4821-7305-6" */
  support_code: string;
  /** RFC 3339: the code is valid one hour. */
  expires_at: string;
  reference: string;
}

export interface Settings {
  server_url: string;
  pkcs11_module: string | null;
  lang: "vi" | "en";
}

/** The support desk's number: the server's (`GET /v1/health`), the last one a server
 * told while none answers, the build's default before any has (`from_server` false). */
export interface Hotline {
  number: string;
  /** Digits for a `tel:` link. */
  tel: string;
  from_server: boolean;
}

/** `info`: worth knowing, of no matter for the token in use (never a warning). */
export type CheckStatus = "ok" | "info" | "warn" | "fail";
export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  code?: string;
  fix?: string;
}
export interface Diagnostics {
  version: string;
  server: string;
  checks: Check[];
}

/** Every failure the shell reports: the catalogue code, text in the UI's language,
 * and the server's reference code when the server answered. */
export interface IpcError {
  code: ErrorCode;
  message: string;
  hint: string;
  reference: string | null;
  /** On CERT_NOT_BOUND: the accounts the token did prove (absent from older servers). */
  usernames?: string[];
}

export type Progress = "reading_token" | "requesting_challenge" | "signing" | "verifying" | "done";

export type ReaderEvent =
  | { kind: "reader_added"; reader: string }
  | { kind: "reader_removed"; reader: string }
  | { kind: "card_inserted"; reader: string; atr: string; model: string | null }
  | { kind: "card_removed"; reader: string }
  | { kind: "service_unavailable" };

export interface ProveArgs {
  slotId: number;
  certId: string;
  confirmFinalTry: boolean;
}

export function isIpcError(e: unknown): e is IpcError {
  return typeof e === "object" && e !== null && "code" in e && "message" in e && "hint" in e;
}

/** Normalises whatever a failed invoke threw into an IpcError. */
export function toIpcError(e: unknown): IpcError {
  if (isIpcError(e)) return e;
  return { code: "INTERNAL", message: String(e), hint: "", reference: null };
}

export const api = {
  settingsGet: () => invoke<Settings>("settings_get"),
  // Refused with MODULE_NOT_CHOSEN unless `pkcs11_module` is null (automatic), the saved
  // module, one of `modulesList`, or the one last picked with `modulePick`.
  settingsSet: (settings: Settings) => invoke<Settings>("settings_set", { settings }),
  // The PKCS#11 modules (token middleware libraries) found on this computer.
  modulesList: () => invoke<string[]>("modules_list"),
  // The native file dialog: the path the user picked there, or null if they cancelled.
  modulePick: () => invoke<string | null>("module_pick"),
  tokens: () => invoke<TokenView[]>("tokens_list"),
  // The server's verdict on the chosen certificate, asked before the PIN (no PIN, no signature).
  certificateCheck: (slotId: number, certId: string) => invoke<CertificateCheckView>("certificate_check", { slotId, certId }),
  // The PIN leaves the text box here and is a secret type on the Rust side at once.
  recover: (username: string, pin: string, a: ProveArgs) => invoke<RecoveryView>("recover", { username, pin, ...a }),
  // The token signs for the new registered email; nothing changes until it is confirmed.
  changeEmail: (username: string, newEmail: string, pin: string, a: ProveArgs) => invoke<EmailChangeView>("change_email", { username, newEmail, pin, ...a }),
  lookup: (pin: string, a: ProveArgs) => invoke<LookupView>("lookup_usernames", { pin, ...a }),
  // The second path, without a token: the portal mails a new password to the registered email.
  portalCaptcha: () => invoke<CaptchaView>("portal_captcha"),
  portalRecover: (mst: string, email: string, captchaId: string, captchaAnswer: string) =>
    invoke<PortalView>("portal_recover", { mst, email, captchaId, captchaAnswer }),
  login: (username: string, password: string) => invoke<LoginView>("login", { username, password }),
  // `current` is null in a must-change session (just logged in with the temporary
  // password): that session is the proof, the temporary password is not asked again.
  changePassword: (current: string | null, next: string) => invoke<Ack>("change_password", { current, new: next }),
  logout: () => invoke<Ack>("logout"),
  session: () => invoke<LoginView | null>("session_info"),
  /** The hotline known now, or (`ask`) the server's, asked now. */
  hotline: (ask: boolean) => invoke<Hotline>("hotline", { ask }),
  diagnostics: () => invoke<Diagnostics>("diagnostics"),
  supportReport: () => invoke<string>("support_report"),
  // The report put on the system clipboard by the shell and read back (CLIPBOARD_UNAVAILABLE
  // when it did not hold); returns the report, for the read-only box.
  supportCopy: (lastError: string | null) => invoke<string>("support_copy", { lastError }),
  // The report saved where the user chooses in the native dialog; null when cancelled.
  supportSave: (lastError: string | null) => invoke<string | null>("support_save", { lastError }),
  // The report to send to the support desk, kept by the shell as it is shown here: the
  // user reads it and agrees (or not) before anything leaves the computer.
  supportPreview: (lastError: string | null) => invoke<string>("support_preview", { lastError }),
  // Sends the report last previewed (MALFORMED_REQUEST if none) and answers its code.
  supportSend: () => invoke<SupportCodeView>("support_send"),
  // A reference code (RC-XXXX-XXXX) put on the clipboard, verified.
  referenceCopy: (reference: string) => invoke<void>("reference_copy", { reference }),
  onReaderEvent: (f: (e: ReaderEvent) => void): Promise<UnlistenFn> => listen<ReaderEvent>("reader-event", (ev) => f(ev.payload)),
  onProgress: (f: (p: Progress) => void): Promise<UnlistenFn> => listen<Progress>("progress", (ev) => f(ev.payload)),
};
