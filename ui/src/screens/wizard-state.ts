// The token wizard's step logic: a plain state machine, no DOM, no IPC, tested on its
// own (tests/unit/wizard.test.ts). The wizard screen (wizard.ts) renders a state and
// sends events; its effects (reading tokens, signing) are run by the app.

import type { CertificateCheckView, CertView, EmailChangeView, ErrorCode, IpcError, LookupView, PinState, Progress, RecoveryView, TokenView } from "../ipc";
import { checkEmail } from "./portal-state";

/** Recover the password, find the usernames of the token's MST, or change the
 * registered email (the token signs for the new address). */
export type Purpose = "recover" | "lookup" | "email";
export type Step = "username" | "token" | "pin" | "working" | "done" | "error";

export interface Selection {
  slotId: number;
  certId: string;
}

/** The certificate an attempt just used (its slot, id and fingerprint): the next attempt
 * on it (the lookup after a refusal, the recovery of an account the lookup found) goes
 * straight to the PIN, with no username or token step to go through again. */
export interface SameToken extends Selection {
  fingerprint: string;
}

/** The server's verdict on the chosen certificate (its chain to the national root, its
 * revocation), asked on the PIN step before the PIN is typed. */
export type Verdict =
  | { kind: "checking" }
  | { kind: "ok"; check: CertificateCheckView }
  /** The server refuses this certificate: a PIN try would be wasted, none is sent. */
  | { kind: "refused"; error: IpcError }
  /** No verdict (network, revocation status unknown): the PIN step stays usable and the
   * recovery itself will say what the server says. */
  | { kind: "unknown"; error: IpcError };

/** A verdict and the certificate it is about (see `certKey`). */
export interface CertCheck {
  key: string;
  verdict: Verdict;
}

/** Why the username step did not go on, field by field (none: `{}`). */
export type FieldProblem = "empty" | "invalid";
export type FieldErrors = Partial<Record<"username" | "newEmail", FieldProblem>>;

export interface WizardState {
  purpose: Purpose;
  step: Step;
  username: string;
  /** The address to register instead (purpose "email"). */
  newEmail: string;
  /** What the username step refused, shown under its fields. */
  fieldErrors: FieldErrors;
  tokens: TokenView[];
  selection: Selection | null;
  confirmFinalTry: boolean;
  progress: Progress | null;
  result: RecoveryView | null;
  lookup: LookupView | null;
  emailChange: EmailChangeView | null;
  /** An error shown on the PIN step (wrong PIN: type again). */
  pinError: IpcError | null;
  /** An error that ends the attempt. */
  error: IpcError | null;
  /** The last certificate check started, for the certificate chosen then. */
  certCheck: CertCheck | null;
  /** Go on to the PIN once the tokens are read, if this certificate is still there. */
  sameToken: SameToken | null;
}

export type WizardEvent =
  /** The username step sent; `newEmail` with the purpose "email". */
  | { type: "submitUsername"; username: string; newEmail?: string }
  | { type: "tokensChanged"; tokens: TokenView[] }
  | { type: "select"; selection: Selection }
  | { type: "toPin" }
  | { type: "confirmFinalTry"; value: boolean }
  | { type: "submitPin" }
  | { type: "progress"; progress: Progress }
  | { type: "recovered"; result: RecoveryView }
  | { type: "looked_up"; result: LookupView }
  | { type: "emailChangeStarted"; result: EmailChangeView }
  | { type: "failed"; error: IpcError }
  | { type: "certChecked"; key: string; check: CertificateCheckView }
  | { type: "certCheckFailed"; key: string; error: IpcError }
  | { type: "back" }
  | { type: "restart" };

/** Whether the purpose starts by asking for the username (the lookup finds them). */
export function asksUsername(purpose: Purpose): boolean {
  return purpose !== "lookup";
}

/** The first step; a recovery or an email change may come with the username filled in
 * (the lookup found it, the recovery knew it). With `sameToken` (and, unless it is a
 * lookup, the username), the token step is waited on only until the tokens are read. */
export function initial(purpose: Purpose, username = "", sameToken: SameToken | null = null): WizardState {
  const straight = sameToken !== null && (username !== "" || !asksUsername(purpose));
  return {
    purpose,
    step: asksUsername(purpose) && !straight ? "username" : "token",
    username,
    newEmail: "",
    fieldErrors: {},
    tokens: [],
    confirmFinalTry: false,
    progress: null,
    result: null,
    lookup: null,
    emailChange: null,
    pinError: null,
    error: null,
    certCheck: null,
    sameToken: straight ? sameToken : null,
    selection: straight && sameToken ? { slotId: sameToken.slotId, certId: sameToken.certId } : null,
  };
}

/** The certificate chosen now, to hand to the next attempt (`SameToken`). */
export function sameToken(s: WizardState): SameToken | null {
  const sel = selected(s);
  return sel ? { slotId: sel.token.slot_id, certId: sel.cert.id, fingerprint: sel.cert.fingerprint } : null;
}

/** Problems with what is plugged in, for the token panel. */
export type TokenProblem =
  | { kind: "no_token" }
  | { kind: "several"; count: number }
  | { kind: "no_certificate" }
  | { kind: "expired"; notAfter: number }
  | { kind: "not_yet_valid"; notBefore: number }
  | { kind: "locked" };

export function usableAt(c: CertView, now: number): boolean {
  return c.not_before <= now && now <= c.not_after && c.digital_signature && c.algorithm !== null && c.msts.length > 0;
}

/** The token and certificate to use: the chosen one, the only one, or the only
 * token holding a usable certificate (as bhxh-client's `choose`). */
export function autoSelect(tokens: TokenView[], now: number): Selection | null {
  const withUsable = tokens.filter((t) => t.certificates.some((c) => usableAt(c, now)));
  const token = tokens.length === 1 ? tokens[0] : withUsable.length === 1 ? withUsable[0] : undefined;
  if (!token) return null;
  const cert = token.certificates.find((c) => usableAt(c, now)) ?? token.certificates[0];
  return cert ? { slotId: token.slot_id, certId: cert.id } : null;
}

export function selected(s: WizardState): { token: TokenView; cert: CertView } | null {
  if (!s.selection) return null;
  const token = s.tokens.find((t) => t.slot_id === s.selection!.slotId);
  const cert = token?.certificates.find((c) => c.id === s.selection!.certId);
  return token && cert ? { token, cert } : null;
}

export function problems(s: WizardState, now: number): TokenProblem[] {
  if (s.tokens.length === 0) return [{ kind: "no_token" }];
  const out: TokenProblem[] = [];
  const sel = selected(s);
  if (!sel) {
    if (s.tokens.length > 1) out.push({ kind: "several", count: s.tokens.length });
    else out.push({ kind: "no_certificate" });
    return out;
  }
  if (sel.token.pin_state === "locked") out.push({ kind: "locked" });
  if (now > sel.cert.not_after) out.push({ kind: "expired", notAfter: sel.cert.not_after });
  if (now < sel.cert.not_before) out.push({ kind: "not_yet_valid", notBefore: sel.cert.not_before });
  return out;
}

/** The problems that keep the token step from going on: a locked token, a certificate
 * outside its validity (the server would refuse it; no PIN try is worth spending). */
const BLOCKING: ReadonlySet<TokenProblem["kind"]> = new Set(["no_token", "no_certificate", "several", "locked", "expired", "not_yet_valid"]);

/** Whether "Tiếp tục" goes on from the token step: a certificate chosen, and nothing
 * that blocks it (`problems`). */
export function canContinue(s: WizardState, now: number): boolean {
  return selected(s) !== null && !problems(s, now).some((p) => BLOCKING.has(p.kind));
}

/** Which certificate is chosen: its slot, its id and its fingerprint (another token in
 * the same slot is another certificate). Null without a choice. */
export function certKey(s: WizardState): string | null {
  const sel = selected(s);
  return sel ? `${sel.token.slot_id}/${sel.cert.id}/${sel.cert.fingerprint}` : null;
}

/** The server's verdict on the certificate chosen now; null when none was asked for it. */
export function verdict(s: WizardState): Verdict | null {
  const key = certKey(s);
  return key !== null && s.certCheck?.key === key ? s.certCheck.verdict : null;
}

/** The codes by which the server refuses the certificate itself: the PIN is not asked. */
export const CERT_REFUSALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "CERT_REVOKED",
  "CERT_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_ISSUER_INVALID",
  "CERT_WEAK_SIGNATURE",
  "CERT_KEY_USAGE",
  "CERT_KEY_UNSUPPORTED",
  "CERT_PURPOSE",
  "CERT_POLICY",
  "CERT_EXTENSION_UNSUPPORTED",
  "CERT_MALFORMED",
]);

/** The check to start: on the PIN step, once per chosen certificate. The state with the
 * check marked as running and what to check, or null when there is nothing to start. */
export function checkToStart(s: WizardState): { state: WizardState; slotId: number; certId: string; key: string } | null {
  if (s.step !== "pin") return null;
  const key = certKey(s);
  if (key === null || !s.selection || s.certCheck?.key === key) return null;
  return { state: { ...s, certCheck: { key, verdict: { kind: "checking" } } }, slotId: s.selection.slotId, certId: s.selection.certId, key };
}

/** How long an email change waits after its confirmation, as the server's mails say it:
 * whole hours, else minutes (rounded up). */
export function waitIn(secs: number): { unit: "hours" | "minutes"; count: number } {
  if (secs >= 3600 && secs % 3600 === 0) return { unit: "hours", count: secs / 3600 };
  return { unit: "minutes", count: Math.ceil(Math.max(secs, 0) / 60) };
}

/** The username step's fields checked: the username, and for an email change the new
 * address (the checks bhxh-protocol's Email::parse makes; the server remains the judge). */
export function checkUsernameStep(purpose: Purpose, username: string, newEmail: string): FieldErrors {
  const errors: FieldErrors = {};
  if (username.trim() === "") errors.username = "empty";
  if (purpose === "email") {
    const email = checkEmail(newEmail);
    if (email !== "ok") errors.newEmail = email === "empty" ? "empty" : "invalid";
  }
  return errors;
}

export function pinState(s: WizardState): PinState | null {
  return selected(s)?.token.pin_state ?? null;
}

/** Whether the PIN may be sent now: a token is chosen and not locked, the server has not
 * refused its certificate (a verdict still to come does not hold the PIN back), and on
 * the final try the user has confirmed. */
export function canSubmitPin(s: WizardState): boolean {
  const state = pinState(s);
  if (state === null || state === "locked") return false;
  if (verdict(s)?.kind === "refused") return false;
  return state !== "final_try" || s.confirmFinalTry;
}

/** Codes after which the user types the PIN again on the same step. */
const RETYPE_PIN: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["PIN_INCORRECT", "PIN_INVALID"]);

/** The next state; landing on the PIN step with a certificate not yet checked marks its
 * check as running (`checkToStart`: the screen starts it when it sees it). */
export function reduce(s: WizardState, e: WizardEvent, now: number): WizardState {
  const next = step(s, e, now);
  return checkToStart(next)?.state ?? next;
}

function step(s: WizardState, e: WizardEvent, now: number): WizardState {
  switch (e.type) {
    case "submitUsername": {
      if (s.step !== "username") return s;
      const username = e.username.trim();
      const newEmail = s.purpose === "email" ? (e.newEmail ?? "").trim() : s.newEmail;
      const fieldErrors = checkUsernameStep(s.purpose, username, newEmail);
      if (Object.keys(fieldErrors).length) return { ...s, username, newEmail, fieldErrors };
      return { ...s, username, newEmail, fieldErrors: {}, step: "token" };
    }
    case "tokensChanged": {
      let selection = s.selection;
      const still = selection && e.tokens.some((t) => t.slot_id === selection!.slotId);
      if (!still) selection = autoSelect(e.tokens, now);
      const next = { ...s, tokens: e.tokens, selection, sameToken: null };
      // The token was pulled out while the PIN was being typed: back to the token step.
      if (s.step === "pin" && !selected(next)) return { ...next, step: "token", confirmFinalTry: false };
      // The certificate the last attempt used, still there and usable: straight to the PIN
      // (another token in the same slot is not it: the fingerprint says so).
      const same = s.sameToken;
      if (s.step === "token" && same && sameToken(next)?.fingerprint === same.fingerprint && canContinue(next, now)) {
        return { ...next, step: "pin", pinError: null };
      }
      return next;
    }
    case "select":
      return { ...s, selection: e.selection, confirmFinalTry: false };
    case "toPin": {
      if (s.step !== "token" || !canContinue(s, now)) return s;
      return { ...s, step: "pin", pinError: null };
    }
    case "confirmFinalTry":
      return { ...s, confirmFinalTry: e.value };
    case "submitPin":
      if (s.step !== "pin" || !canSubmitPin(s)) return s;
      return { ...s, step: "working", progress: null, pinError: null };
    case "progress":
      return s.step === "working" ? { ...s, progress: e.progress } : s;
    case "recovered":
      return { ...s, step: "done", result: e.result, progress: "done" };
    case "looked_up":
      return { ...s, step: "done", lookup: e.result, progress: "done" };
    case "emailChangeStarted":
      return { ...s, step: "done", emailChange: e.result, progress: "done" };
    case "failed":
      if (RETYPE_PIN.has(e.error.code)) {
        // The token's flags change after a wrong PIN; the next token read shows them.
        return { ...s, step: "pin", pinError: e.error, confirmFinalTry: false };
      }
      if (e.error.code === "PIN_FINAL_TRY") {
        return { ...s, step: "pin", pinError: e.error, confirmFinalTry: false };
      }
      return { ...s, step: "error", error: e.error };
    case "certChecked":
    case "certCheckFailed": {
      // A verdict on a certificate no longer chosen (or no longer asked about) is dropped.
      if (s.certCheck?.key !== e.key || e.key !== certKey(s)) return s;
      const verdict: Verdict =
        e.type === "certChecked" ? { kind: "ok", check: e.check } : { kind: CERT_REFUSALS.has(e.error.code) ? "refused" : "unknown", error: e.error };
      return { ...s, certCheck: { key: e.key, verdict } };
    }
    case "back":
      if (s.step === "pin") return { ...s, step: "token", pinError: null };
      if (s.step === "token" && asksUsername(s.purpose)) return { ...s, step: "username" };
      return s;
    case "restart":
      return { ...initial(s.purpose), tokens: s.tokens, selection: s.selection, username: s.username, newEmail: s.newEmail };
  }
}
