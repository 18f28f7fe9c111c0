// The portal recovery (MST + registered email + captcha, no token): field checks that
// mirror bhxh-protocol's Mst::parse and Email::parse for feedback as the user types,
// and the screen's state changes. No DOM, no IPC; tested on its own
// (tests/unit/portal.test.ts); the portal screen (portal.ts) renders it. The server
// remains the judge.

import type { CaptchaView, ErrorCode, IpcError, PortalView } from "../ipc";

export type MstCheck =
  | { kind: "empty" }
  | { kind: "ok"; branch: boolean }
  /** A prefix of a valid MST: `missing` more digits make it whole. */
  | { kind: "incomplete"; missing: number }
  /** A letter, a space, or a dash anywhere but after the first 10 digits. */
  | { kind: "bad_char" }
  | { kind: "too_long" };

/** `0101234567` or `0101234567-001` (a dependent unit); surrounding spaces are ignored. */
export function checkMst(raw: string): MstCheck {
  const s = raw.trim();
  if (s === "") return { kind: "empty" };
  if (/^[0-9]{10}(-[0-9]{3})?$/.test(s)) return { kind: "ok", branch: s.length === 14 };
  const digits = /^[0-9]+$/.exec(s);
  if (digits) return s.length < 10 ? { kind: "incomplete", missing: 10 - s.length } : { kind: "too_long" };
  const branch = /^[0-9]{10}-([0-9]*)$/.exec(s);
  if (branch) return branch[1].length < 3 ? { kind: "incomplete", missing: 3 - branch[1].length } : { kind: "too_long" };
  return { kind: "bad_char" };
}

export type EmailCheck = "empty" | "ok" | "invalid";

const bytes = (s: string) => new TextEncoder().encode(s).length;

/** `local@domain.tld`: no spaces, no control characters or `<>,;"`, at most 254 bytes,
 * a local part of 1–64 bytes, a domain of two or more labels none empty nor starting
 * or ending with `-`. Deliberately permissive beyond that, as the Rust side is. */
export function checkEmail(raw: string): EmailCheck {
  const s = raw.trim();
  if (s === "") return "empty";
  if (bytes(s) > 254 || /[\s\p{Cc}<>,;"]/u.test(s)) return "invalid";
  const at = s.lastIndexOf("@");
  if (at < 0) return "invalid";
  const local = s.slice(0, at);
  const labels = s.slice(at + 1).split(".");
  if (local === "" || bytes(local) > 64 || labels.length < 2) return "invalid";
  if (labels.some((l) => l === "" || l.startsWith("-") || l.endsWith("-"))) return "invalid";
  return "ok";
}

/** The numbers of the e-filing support of Vietnam Social Security (BHXH Việt Nam). */
export const BHXH_HOTLINES: readonly { tel: string; label: string }[] = [
  { tel: "19009068", label: "1900 9068" },
  { tel: "1900555564", label: "1900 5555 64" },
];

/** Codes after which a new captcha is fetched and the answer typed again. */
export const CAPTCHA_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["CAPTCHA_INCORRECT", "CAPTCHA_USED", "CAPTCHA_EXPIRED"]);

export type PortalField = "mst" | "email" | "answer";

export interface PortalState {
  mst: string;
  email: string;
  answer: string;
  /** Fields left or submitted once: an incomplete value there is shown as an error. */
  touched: Record<PortalField, boolean>;
  captcha: CaptchaView | null;
  captchaLoading: boolean;
  captchaError: IpcError | null;
  /** A failed request replaced the captcha: say so where screen readers hear it. */
  captchaRenewed: boolean;
  busy: boolean;
  error: IpcError | null;
  result: PortalView | null;
}

export function initial(keep: { mst?: string; email?: string } = {}): PortalState {
  return {
    mst: keep.mst ?? "",
    email: keep.email ?? "",
    answer: "",
    touched: { mst: false, email: false, answer: false },
    captcha: null,
    captchaLoading: false,
    captchaError: null,
    captchaRenewed: false,
    busy: false,
    error: null,
    result: null,
  };
}

/** The first field that stops the request, in the form's order; "captcha" when no
 * captcha image is loaded; null when the request may be sent. */
export function firstInvalid(s: PortalState): PortalField | "captcha" | null {
  if (checkMst(s.mst).kind !== "ok") return "mst";
  if (checkEmail(s.email) !== "ok") return "email";
  if (s.answer.trim() === "") return "answer";
  if (!s.captcha) return "captcha";
  return null;
}

/** The request as sent: trimmed values and the captcha they answer. */
export function request(s: PortalState): { mst: string; email: string; captchaId: string; captchaAnswer: string } | null {
  if (firstInvalid(s) !== null) return null;
  return { mst: s.mst.trim(), email: s.email.trim(), captchaId: s.captcha!.captcha_id, captchaAnswer: s.answer.trim() };
}

export function sending(s: PortalState): PortalState {
  return { ...s, busy: true, error: null, captchaRenewed: false, touched: { mst: true, email: true, answer: true } };
}

export function succeeded(s: PortalState, result: PortalView): PortalState {
  return { ...s, busy: false, error: null, answer: "", result };
}

/** A failed request: the error is shown, the MST and email stay as typed, and since a
 * captcha code works only once the answer is cleared and a new captcha is due. */
export function failed(s: PortalState, error: IpcError): PortalState {
  return { ...s, busy: false, error, answer: "", captcha: null, captchaRenewed: false, touched: { ...s.touched, answer: false } };
}

/** Where the cursor goes after a failed request: the field to fix, if any. */
export function focusAfter(code: ErrorCode): PortalField | null {
  if (CAPTCHA_CODES.has(code)) return "answer";
  if (code === "INVALID_MST") return "mst";
  if (code === "INVALID_EMAIL" || code === "PORTAL_EMAIL_MISMATCH") return "email";
  return null;
}
