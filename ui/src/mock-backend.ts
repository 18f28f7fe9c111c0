// A FAKE backend for the browser tests (Playwright) and a browser demo: it answers the
// shell's IPC commands from a scenario chosen by the URL (?scenario=…&fail=CODE). Error
// texts come from the Rust catalogue (generated/errors.json), so every code renders
// exactly as the app would show it. Only built with `vite build --mode mock`.

import { mockIPC } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import catalogue from "./generated/errors.json";
import type { CaptchaView, CertificateCheckView, CertView, EmailChangeView, ErrorCode, IpcError, Settings, SupportCodeView, TokenView } from "./ipc";
import { passwordPolicy } from "./policy";
import { checkEmail, checkMst } from "./screens/portal-state";

type Catalogue = Record<ErrorCode, { status: number; vi: { message: string; hint: string }; en: { message: string; hint: string } }>;
const errors: Catalogue = catalogue;
const isCode = (s: string): s is ErrorCode => Object.prototype.hasOwnProperty.call(errors, s);

const DAY = 86_400;
const now = () => Math.floor(Date.now() / 1000);

function cert(over: Partial<CertView> = {}): CertView {
  return {
    id: "01",
    label: "CÔNG TY TNHH THỬ NGHIỆM BHXH",
    holder: "CÔNG TY TNHH THỬ NGHIỆM BHXH",
    msts: ["0101234567"],
    personal_ids: [],
    issuer: "VNPT Certification Authority",
    serial: "54:01:01:23",
    not_before: now() - 300 * DAY,
    not_after: now() + 65 * DAY,
    key_type: "RSA",
    key_bits: 2048,
    algorithm: "RS256",
    digital_signature: true,
    fingerprint: "ab".repeat(32),
    ...over,
  };
}

function token(over: Partial<TokenView> = {}): TokenView {
  return {
    slot_id: 1,
    label: "VNPT-CA",
    manufacturer: "Feitian",
    model: "ePass2003",
    serial: "2003A1B2C3",
    pin_state: "ok",
    pin_pad: false,
    module: "C:\\Windows\\System32\\eps2003csp11.dll",
    certificates: [cert()],
    ...over,
  };
}

function scenarioTokens(scenario: string): TokenView[] {
  switch (scenario) {
    case "no-token":
      return [];
    case "several":
      return [token(), token({ slot_id: 2, label: "Viettel-CA", certificates: [cert({ id: "02", holder: "CÔNG TY KHÁC", msts: ["0309999999"] })] })];
    case "no-certificate":
      return [token({ certificates: [] })];
    case "expired":
      return [token({ certificates: [cert({ not_before: now() - 800 * DAY, not_after: now() - 10 * DAY })] })];
    case "not-yet-valid":
      return [token({ certificates: [cert({ not_before: now() + 2 * DAY, not_after: now() + 700 * DAY })] })];
    case "count-low":
      return [token({ pin_state: "count_low" })];
    case "final-try":
      return [token({ pin_state: "final_try" })];
    case "locked":
      return [token({ pin_state: "locked" })];
    default:
      return [token()];
  }
}

const REFERENCE = "RC-7F3K-9Q2M";

// The PKCS#11 modules the FAKE shell "finds" on this computer, and the one its native file
// dialog "picks" (?scenario=pick-cancel: the user cancels the dialog).
const FOUND_MODULES = ["C:\\Windows\\System32\\vnpt-ca_csp11.dll", "C:\\Windows\\System32\\eps2003csp11.dll"];
const PICKED_MODULE = "C:\\Program Files\\BkavCA\\BkavCA.dll";

// The portal path: the account registered with this email (any valid MST will do).
const REGISTERED_EMAIL = "ketoan@congty.vn";
const CAPTCHA_SECONDS = 120;
const ACTIVATION_SECONDS = 30 * 60;
// The email change: its confirmation link lives 30 minutes, the change takes effect a
// day after the confirmation.
const EMAIL_CONFIRM_SECONDS = 30 * 60;
const EMAIL_WAIT_SECONDS = DAY;
// The support desk's code for a report sent: valid an hour.
const SUPPORT_CODE = "HT-4821-7305-6";
const SUPPORT_CODE_SECONDS = 3600;

/** An address masked as bhxh-protocol's `Email::masked` does: "ke***@c***.vn". */
function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  const [local, domain] = at < 0 ? [email, ""] : [email.slice(0, at), email.slice(at + 1)];
  const dot = domain.lastIndexOf(".");
  const [host, tld] = dot < 0 ? [domain, ""] : [domain.slice(0, dot), domain.slice(dot + 1)];
  const keep = (s: string, n: number) => [...s].slice(0, n).join("");
  return `${keep(local, [...local].length <= 2 ? 1 : 2)}***@${keep(host, 1)}***.${tld}`;
}

/** A FAKE captcha: a real PNG drawn on a canvas, with the code in it, 280×70 as the
 * server draws them. The FAKE accepts any answer except "wrong" (which is
 * CAPTCHA_INCORRECT), so tests need not read it. */
function drawCaptcha(code: string): string {
  const canvas = document.createElement("canvas");
  canvas.width = 280;
  canvas.height = 70;
  const g = canvas.getContext("2d");
  if (!g) return "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==";
  g.fillStyle = "#eef3f8";
  g.fillRect(0, 0, canvas.width, canvas.height);
  for (let i = 0; i < 6; i++) {
    g.strokeStyle = `hsl(${Math.floor(Math.random() * 360)}, 45%, 60%)`;
    g.beginPath();
    g.moveTo(Math.random() * 280, Math.random() * 70);
    g.lineTo(Math.random() * 280, Math.random() * 70);
    g.stroke();
  }
  g.font = "bold 38px monospace";
  g.textBaseline = "middle";
  [...code].forEach((ch, i) => {
    g.save();
    g.translate(22 + i * 33, 35 + (Math.random() - 0.5) * 12);
    g.rotate((Math.random() - 0.5) * 0.5);
    g.fillStyle = "#1c3d6e";
    g.fillText(ch, 0, 0);
    g.restore();
  });
  return canvas.toDataURL("image/png");
}

export function install(): void {
  const params = new URLSearchParams(location.search);
  const scenario = params.get("scenario") ?? "ok";
  // ?fail=CODE: the flows fail with that catalogue code (an unknown one: INTERNAL).
  const failParam = params.get("fail");
  const fail: ErrorCode | null = failParam === null ? null : isCode(failParam) ? failParam : "INTERNAL";
  let settings: Settings = { server_url: "https://reset.bhxh.example.vn", pkcs11_module: null, lang: (params.get("lang") as "vi" | "en") ?? "vi" };
  let tokens = scenarioTokens(scenario);
  let session: { username: string; must_change_password: boolean } | null = null;
  /** The hotline the shell knows (`hotline` command): the default until the server told its own. */
  let hotlineKnown = { number: "1800 1260", tel: "18001260", from_server: false };
  let pinTries = 0;
  let pickedModule: string | null = null;
  let captchaCount = 0;
  const captchas = new Map<string, { code: string; expires: number; used: boolean }>();

  const error = (code: ErrorCode, reference: string | null = REFERENCE): IpcError => {
    const entry = errors[code];
    const text = entry[settings.lang];
    return { code, message: text.message, hint: text.hint, reference: entry.status > 0 ? reference : null };
  };

  /** The support report, as the shell builds it (no PIN, password or session), with the last error. */
  const report = (lastError: unknown) => {
    const vi = settings.lang === "vi";
    return `bhxh-desktop 0.1.0 (FAKE backend)\n${vi ? "máy chủ" : "server"}: ${settings.server_url}\ntoken: ${tokens.length}${
      lastError ? `\n${vi ? "lỗi gần nhất" : "last error"}: ${String(lastError)}` : ""
    }`;
  };
  // As the shell: the report last shown for consent is kept, and only that is sent.
  let previewed: string | null = null;
  let supportSent: string | null = null;

  let proofs = 0;
  /** What the last password change sent as `current`: null, or its type (never the password). */
  let changedWith: { current: string | null } | null = null;
  let recoveredFor: string | null = null;
  let emailChangeAsked: { username: string; newEmail: string } | null = null;
  // Commands a test holds back (to see a screen while its request is on its way), and
  // how many times each command was called.
  const held = new Map<string, { promise: Promise<void>; release: () => void }>();
  const calls = new Map<string, number>();
  /** `notBound`: the account is not of the token's MST (the server says so once the
   * signature is checked, so after the PIN). */
  /** A token proof; `notBound`: the proof verified but is not for the account claimed, and
   * the server names the accounts it does reach (`?fail=CERT_NOT_BOUND` is a server
   * older than that: it names none). */
  const prove = async (pin: string, notBound: string[] | null = null) => {
    proofs += 1;
    for (const p of ["reading_token", "requesting_challenge", "signing", "verifying"]) {
      await emit("progress", p);
      await new Promise((r) => setTimeout(r, 40));
    }
    if (fail) throw error(fail);
    if (pin !== "123456") {
      pinTries += 1;
      tokens = tokens.map((t) => ({ ...t, pin_state: pinTries >= 2 ? "final_try" : "count_low" }));
      throw error("PIN_INCORRECT", null);
    }
    if (notBound) {
      throw { ...error("CERT_NOT_BOUND"), usernames: notBound };
    }
  };

  // Tests change what is plugged in and announce it as the PC/SC watcher would.
  (window as unknown as { bhxhMock: object }).bhxhMock = {
    setTokens: async (list: TokenView[]) => {
      tokens = list;
      await emit(
        "reader-event",
        list.length
          ? { kind: "card_inserted", reader: "Feitian ePass2003", atr: "3B:9F:95:81:31:FE:9F:00:66:46:53:05", model: "Feitian ePass2003" }
          : { kind: "card_removed", reader: "Feitian ePass2003" },
      );
    },
    token,
    cert,
    /** The code drawn in a captcha, for a test that wants to type the real one. */
    captchaCode: (id: string) => captchas.get(id)?.code,
    /** How many token proofs (a PIN sent) were asked for. */
    proofs: () => proofs,
    /** Ages every captcha past its 2 minutes. */
    expireCaptchas: () => captchas.forEach((c) => (c.expires = 0)),
    /** Holds the answers to `cmd` until `release(cmd)`. */
    hold: (cmd: string) => {
      let release!: () => void;
      const promise = new Promise<void>((r) => (release = r));
      held.set(cmd, { promise, release });
    },
    release: (cmd: string) => {
      held.get(cmd)?.release();
      held.delete(cmd);
    },
    /** How many times `cmd` was called. */
    calls: (cmd: string) => calls.get(cmd) ?? 0,
    /** The username of the last password recovery asked for. */
    recoveredFor: () => recoveredFor,
    /** The account and address of the last email change asked for. */
    emailChangeAsked: () => emailChangeAsked,
    /** What the last password change sent as `current` (null, or "string"). */
    changedWith: () => changedWith,
    /** The support report sent to the support desk (null: nothing was sent). */
    supportSent: () => supportSent,
  };

  /** The computer check, worded as the shell words it (bhxh-client's diagnostics), in
   * the UI's language. ?scenario=no-pcsc: the smart-card service is not running. */
  const diagnostics = () => {
    const vi = settings.lang === "vi";
    const w = (v: string, e: string) => (vi ? v : e);
    const tok = tokens[0];
    const c = tok?.certificates[0];
    const pin: Record<string, [string, string]> = {
      ok: ["bình thường", "Ok"],
      count_low: ["đã có lần nhập sai", "CountLow"],
      final_try: ["chỉ còn một lần thử", "FinalTry"],
      locked: ["đã bị khóa", "Locked"],
      must_change: ["phải đổi trước khi dùng", "MustChange"],
    };
    const noPcsc = scenario === "no-pcsc";
    const offline = scenario === "offline";
    const date = (secs: number) => new Date(secs * 1000).toLocaleDateString("en-GB", { timeZone: "Asia/Ho_Chi_Minh" });
    return {
      version: "0.1.0",
      server: settings.server_url,
      checks: [
        { name: "pkcs11_module", status: "ok", detail: `C:\\Windows\\System32\\eps2003csp11.dll (Feitian) — ePass2003 PKCS#11 1.1` },
        noPcsc
          ? {
              name: "readers",
              // As the shell: the token reads through its module, so no PC/SC is information.
              status: tokens.length ? "info" : "fail",
              detail: w("dịch vụ PC/SC chưa chạy", "the PC/SC service is not running"),
              code: "READER_SERVICE_UNAVAILABLE",
              ...(tokens.length ? {} : { fix: error("READER_SERVICE_UNAVAILABLE").hint }),
            }
          : {
              name: "readers",
              status: "ok",
              detail: w(`1 đầu đọc, ${tokens.length ? 1 : 0} có thẻ/token`, `1 readers, ${tokens.length ? 1 : 0} with a card/token`),
            },
        ...(tok
          ? [
              {
                name: "token",
                status: tok.pin_state === "locked" ? "fail" : tok.pin_state === "ok" ? "ok" : "warn",
                detail: `${tok.label} (${tok.manufacturer} ${tok.model}, ${w("số sê-ri", "serial")} ${tok.serial}), PIN: ${(pin[tok.pin_state] ?? pin.ok)[vi ? 0 : 1]} — ${tok.module} — 2 ${w("chứng thư CA trên token", "CA certificate(s) on the token")}`,
              },
            ]
          : [{ name: "token", status: "fail", detail: error("NO_TOKEN").message, code: "NO_TOKEN", fix: error("NO_TOKEN").hint }]),
        ...(c
          ? [
              {
                name: "certificate",
                status: now() > c.not_after ? "fail" : "ok",
                detail: `${c.holder} — MST ${c.msts.join(", ")} — ${w("cấp bởi", "issued by")} ${c.issuer} — ${w("hết hạn", "expires")} ${date(c.not_after)} — ${c.key_type} ${c.key_bits}-bit`,
              },
            ]
          : []),
        { name: "ca_plugins", status: "ok", detail: w("không thấy phần mềm ký số của CA nào đang chạy", "no CA signing tool is running") },
        offline
          ? { name: "server", status: "fail", detail: settings.server_url, code: "SERVER_UNREACHABLE", fix: error("SERVER_UNREACHABLE").hint }
          : { name: "server", status: "ok", detail: `${settings.server_url} — ${w("phản hồi sau", "answered in")} 120 ms` },
        ...(offline ? [] : [{ name: "clock", status: "ok", detail: `${w("lệch so với máy chủ", "skew against the server")} 0 s` }]),
      ],
    };
  };

  mockIPC(
    async (cmd, payload) => {
      const args = (payload ?? {}) as Record<string, unknown>;
      calls.set(cmd, (calls.get(cmd) ?? 0) + 1);
      await held.get(cmd)?.promise;
      switch (cmd) {
        case "settings_get":
          return settings;
        case "hotline": {
          // As the shell: the build's default at once, the server's when asked (here
          // 1800 1260 too, unless ?scenario=hotline configures the server otherwise, or
          // the server set is another desk's: reset.other-desk.vn); offline, the one known stays.
          const told = settings.server_url.includes("other-desk") ? "1900 2468 10" : scenario === "hotline" ? "1900 6868 99" : "1800 1260";
          if (args.ask && scenario !== "offline") hotlineKnown = { number: told, tel: told.replace(/\D/g, ""), from_server: true };
          return hotlineKnown;
        }
        case "settings_set": {
          // As the shell: the web view cannot name a library to load, only choose one.
          const wanted = (args.settings as Settings).pkcs11_module;
          if (wanted !== null && wanted !== settings.pkcs11_module && wanted !== pickedModule && !FOUND_MODULES.includes(wanted)) {
            throw error("MODULE_NOT_CHOSEN", null);
          }
          settings = args.settings as Settings;
          return settings;
        }
        case "modules_list":
          return FOUND_MODULES;
        case "module_pick":
          await new Promise((r) => setTimeout(r, 40));
          if (scenario === "pick-cancel") return null;
          pickedModule = PICKED_MODULE;
          return pickedModule;
        case "tokens_list":
          // ?scenario=no-driver: the token's driver is missing at first (MODULE_NOT_FOUND,
          // as the shell reports it), then installed: the next reading finds the token.
          if (scenario === "no-driver" && (calls.get("tokens_list") ?? 0) <= 1) throw error("MODULE_NOT_FOUND", null);
          return tokens;
        case "certificate_check": {
          // The server's verdict on the chosen certificate, before the PIN. `?fail=` is for
          // the flows and does not reach it; ?scenario=cert_revoked does.
          await new Promise((r) => setTimeout(r, 80));
          const chosen = tokens.find((t) => t.slot_id === Number(args.slotId))?.certificates.find((c) => c.id === String(args.certId));
          if (!chosen) throw error("NO_CERTIFICATE", null);
          if (scenario === "cert_revoked") throw error("CERT_REVOKED");
          // ?scenario=cert_unknown: the server cannot say now (not a refusal: the PIN may go).
          if (scenario === "cert_unknown") throw error("SERVICE_UNAVAILABLE");
          if (chosen.not_after < now()) throw error("CERT_EXPIRED");
          if (chosen.not_before > now()) throw error("CERT_NOT_YET_VALID");
          const view: CertificateCheckView = {
            path: `${chosen.holder} < BHXH Test Issuing CA < BHXH Test Root CA (${settings.lang === "vi" ? "gốc tin cậy" : "anchor"})`,
            revocation_checked: true,
            revocation: settings.lang === "vi" ? "OCSP: còn hiệu lực (FAKE backend)" : "OCSP good (FAKE backend)",
            reference: REFERENCE,
          };
          return view;
        }
        case "recover":
          recoveredFor = String(args.username);
          // ?scenario=mistyped: the token's MST has ketoan01 and ketoan02, no other account;
          // ?scenario=no-account: the token's MST has none.
          await prove(
            String(args.pin),
            scenario === "no-account" ? [] : scenario === "mistyped" && !["ketoan01", "ketoan02"].includes(recoveredFor) ? ["ketoan01", "ketoan02"] : null,
          );
          return {
            masked_email: "ke***@c***.vn",
            reference: REFERENCE,
            password_expires_at: new Date((now() + DAY) * 1000).toISOString(),
            delivery: scenario === "in-app" ? "in-app" : "email",
            ...(scenario === "in-app" ? { temporary_password: "Hq7#kPn4xW9m+A" } : {}),
          };
        case "change_email": {
          // As the shell: an address that is none is refused before the token is asked
          // (no PIN try spent); the server refuses the registered address itself once the
          // proof is checked. Every account of the FAKE is registered with REGISTERED_EMAIL.
          const newEmail = String(args.newEmail ?? "").trim();
          if (checkEmail(newEmail) !== "ok") throw error("INVALID_EMAIL", null);
          emailChangeAsked = { username: String(args.username), newEmail };
          await prove(String(args.pin));
          if (newEmail.toLowerCase() === REGISTERED_EMAIL) throw error("EMAIL_UNCHANGED");
          const view: EmailChangeView = {
            masked_new_email: maskEmail(newEmail),
            masked_old_email: maskEmail(REGISTERED_EMAIL),
            confirm_expires_at: new Date((now() + EMAIL_CONFIRM_SECONDS) * 1000).toISOString(),
            wait_secs: EMAIL_WAIT_SECONDS,
            reference: REFERENCE,
          };
          return view;
        }
        case "lookup_usernames":
          await prove(String(args.pin));
          return { usernames: scenario === "lookup-none" ? [] : ["ketoan01", "ketoan02"], reference: REFERENCE };
        case "portal_captcha": {
          if (scenario === "offline") throw error("SERVER_UNREACHABLE", null);
          captchaCount += 1;
          // The server's characters (crates/server/src/captcha_image.rs: no look-alikes).
          const chars = "ACEFHKMNPRTWXY349";
          const code = Array.from({ length: 5 }, () => chars[Math.floor(Math.random() * chars.length)]).join("");
          const id = `cap-${captchaCount}-${Math.random().toString(36).slice(2, 8)}`;
          captchas.set(id, { code, expires: now() + CAPTCHA_SECONDS, used: false });
          const view: CaptchaView = { captcha_id: id, image: drawCaptcha(code), expires_at: new Date((now() + CAPTCHA_SECONDS) * 1000).toISOString() };
          return view;
        }
        case "portal_recover": {
          await new Promise((r) => setTimeout(r, 120));
          if (fail) throw error(fail);
          const captcha = captchas.get(String(args.captchaId));
          if (!captcha || captcha.expires < now()) throw error("CAPTCHA_EXPIRED");
          if (captcha.used) throw error("CAPTCHA_USED");
          captcha.used = true;
          if (String(args.captchaAnswer).trim().toLowerCase() === "wrong") throw error("CAPTCHA_INCORRECT");
          if (checkMst(String(args.mst)).kind !== "ok") throw error("INVALID_MST");
          if (checkEmail(String(args.email)) !== "ok") throw error("INVALID_EMAIL");
          if (String(args.email).trim().toLowerCase() !== REGISTERED_EMAIL) throw error("PORTAL_EMAIL_MISMATCH");
          return { masked_email: "k***@congty.vn", reference: REFERENCE, activation_expires_at: new Date((now() + ACTIVATION_SECONDS) * 1000).toISOString() };
        }
        case "login": {
          const username = String(args.username).toLowerCase();
          if (fail) throw error(fail);
          if (args.password === "Tam-thoi-7Kq#") {
            session = { username, must_change_password: true };
          } else if (args.password === "Mua-thu-2026!") {
            session = { username, must_change_password: false };
          } else {
            throw error("INVALID_CREDENTIALS");
          }
          return { ...session, expires_at: new Date((now() + DAY) * 1000).toISOString(), reference: REFERENCE };
        }
        case "change_password": {
          if (!session) throw error("SESSION_INVALID");
          // As the server: no current password only in a must-change session (logging in
          // with the temporary password was the proof); otherwise the current one.
          changedWith = { current: args.current === null ? null : typeof args.current };
          if (args.current === null || args.current === undefined) {
            if (!session.must_change_password) throw error("MALFORMED_REQUEST", null);
          } else if (typeof args.current !== "string" || args.current === "") {
            throw error("MALFORMED_REQUEST", null);
          } else if (!session.must_change_password && args.current !== "Mua-thu-2026!") {
            throw error("INVALID_CREDENTIALS");
          }
          if (passwordPolicy(String(args.new), session.username).length) throw error("PASSWORD_POLICY");
          // ?scenario=password-reuse: the server knows passwords the app cannot.
          if (scenario === "password-reuse") throw error("PASSWORD_REUSE");
          session = null;
          return { reference: REFERENCE };
        }
        case "logout":
          session = null;
          return { reference: REFERENCE };
        case "session_info":
          return session && !session.must_change_password ? { ...session, expires_at: "", reference: REFERENCE } : null;
        case "diagnostics":
          return diagnostics();
        case "support_report":
          return report(null);
        case "support_preview":
          previewed = report(args.lastError);
          return previewed;
        case "support_send": {
          await new Promise((r) => setTimeout(r, 80));
          if (previewed === null) throw error("MALFORMED_REQUEST", null);
          // ?scenario=support-offline: the first send does not reach the server; the
          // report is kept, so agreeing again sends it.
          if (scenario === "support-offline" && (calls.get("support_send") ?? 0) <= 1) throw error("SERVER_UNREACHABLE", null);
          supportSent = previewed;
          previewed = null;
          const view: SupportCodeView = {
            support_code: SUPPORT_CODE,
            expires_at: new Date((now() + SUPPORT_CODE_SECONDS) * 1000).toISOString(),
            reference: REFERENCE,
          };
          return view;
        }
        case "support_copy":
        case "reference_copy": {
          // The mock's clipboard is the page's own (granted to the test): a failure is a
          // scenario, as the shell reports a clipboard that did not hold the text.
          if (scenario === "clipboard-broken") throw error("CLIPBOARD_UNAVAILABLE");
          const text = cmd === "reference_copy" ? String(args.reference) : report(args.lastError);
          await navigator.clipboard.writeText(text);
          return cmd === "reference_copy" ? null : text;
        }
        case "support_save":
          return "/home/ketoan/bao-cao-ho-tro.txt";
        default:
          throw error("NOT_FOUND");
      }
    },
    { shouldMockEvents: true },
  );
}
