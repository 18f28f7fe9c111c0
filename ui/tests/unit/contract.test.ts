// The IPC contract: samples typed with the front end's interfaces (tsc checks them:
// a missing or unknown key does not compile) must have the same shape as the values
// the Rust shell really sends (ui/tests/ipc-shape.json, written and checked by
// src-tauri/tests/commands.rs).
import { afterEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { api } from "../../src/ipc";
import type {
  CaptchaView,
  CertificateCheckView,
  CertView,
  Diagnostics,
  EmailChangeView,
  IpcError,
  LoginView,
  LookupView,
  PortalView,
  Progress,
  ReaderEvent,
  RecoveryView,
  Settings,
  SupportCodeView,
  TokenView,
} from "../../src/ipc";
import shapeFromRust from "../ipc-shape.json";

const cert: CertView = {
  id: "01",
  label: "",
  holder: "",
  msts: [""],
  personal_ids: [],
  issuer: "",
  serial: "",
  not_before: 0,
  not_after: 0,
  key_type: "RSA",
  key_bits: 2048,
  algorithm: "RS256",
  digital_signature: true,
  fingerprint: "",
};
const settings: Settings = { server_url: "", pkcs11_module: null, lang: "vi" };
const token: TokenView = { slot_id: 0, label: "", manufacturer: "", model: "", serial: "", pin_state: "ok", pin_pad: false, module: "", certificates: [cert] };
const recovery: RecoveryView = { masked_email: "", reference: "", password_expires_at: "", delivery: "email" };
const lookup: LookupView = { usernames: [""], reference: "" };
const login: LoginView = { username: "", must_change_password: false, expires_at: "", reference: "" };
const diagnostics: Diagnostics = { version: "", server: "", checks: [{ name: "pkcs11_module", status: "ok", detail: "" }] };
const error: IpcError = { code: "PIN_INCORRECT", message: "", hint: "", reference: null };
const captcha: CaptchaView = { captcha_id: "", image: "", expires_at: "" };
const portal: PortalView = { masked_email: "", reference: "", activation_expires_at: "" };
const email_change: EmailChangeView = { masked_new_email: "", masked_old_email: "", confirm_expires_at: "", wait_secs: 86_400, reference: "" };
const certificate_check: CertificateCheckView = { path: "", revocation_checked: true, revocation: "", reference: "" };
const support_code: SupportCodeView = { support_code: "", expires_at: "", reference: "" };
const progress: Progress[] = ["reading_token"];
const reader_event: ReaderEvent = { kind: "card_inserted", reader: "", atr: "", model: null };

function shape(v: unknown): unknown {
  if (v === null) return "null";
  if (Array.isArray(v)) return [v.length ? shape(v[0]) : "empty"];
  if (typeof v === "object") return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, shape(x)]));
  return typeof v;
}

describe("the IPC contract", () => {
  it("the front end's types have the shape of what the Rust shell sends", () => {
    const ours = {
      settings,
      token,
      recovery,
      lookup,
      login,
      diagnostics,
      error,
      progress,
      reader_event,
      captcha,
      portal,
      certificate_check,
      email_change,
      support_code,
    };
    expect(shape(ours)).toEqual(shapeFromRust);
  });
});

describe("the arguments the front end sends", () => {
  afterEach(() => clearMocks());

  it("change_password: `current` is a string, or null in a must-change session (the Rust side's Option<Secret>)", async () => {
    const sent: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      sent.push([cmd, args]);
      return { reference: "RC-1" };
    });
    await api.changePassword(null, "Mua-thu-2026!");
    await api.changePassword("Tam-thoi-7Kq#", "Mua-thu-2026!");
    expect(sent).toEqual([
      ["change_password", { current: null, new: "Mua-thu-2026!" }],
      ["change_password", { current: "Tam-thoi-7Kq#", new: "Mua-thu-2026!" }],
    ]);
  });
});
