// The recovery wizard's step logic: a plain state machine, no DOM, no IPC, tested on
// its own (tests/unit/wizard.test.ts). The wizard screen (wizard.ts) renders a state and
// sends events; its effects (reading tokens, signing) are run by the app.

import type { CertView, ErrorCode, IpcError, LookupView, PinState, Progress, RecoveryView, TokenView } from "../ipc";

export type Purpose = "recover" | "lookup";
export type Step = "username" | "token" | "pin" | "working" | "done" | "error";

export interface Selection {
  slotId: number;
  certId: string;
}

export interface WizardState {
  purpose: Purpose;
  step: Step;
  username: string;
  tokens: TokenView[];
  selection: Selection | null;
  confirmFinalTry: boolean;
  progress: Progress | null;
  result: RecoveryView | null;
  lookup: LookupView | null;
  /** An error shown on the PIN step (wrong PIN: type again). */
  pinError: IpcError | null;
  /** An error that ends the attempt. */
  error: IpcError | null;
}

export type WizardEvent =
  | { type: "submitUsername"; username: string }
  | { type: "tokensChanged"; tokens: TokenView[] }
  | { type: "select"; selection: Selection }
  | { type: "toPin" }
  | { type: "confirmFinalTry"; value: boolean }
  | { type: "submitPin" }
  | { type: "progress"; progress: Progress }
  | { type: "recovered"; result: RecoveryView }
  | { type: "looked_up"; result: LookupView }
  | { type: "failed"; error: IpcError }
  | { type: "back" }
  | { type: "restart" };

export function initial(purpose: Purpose): WizardState {
  return {
    purpose,
    step: purpose === "recover" ? "username" : "token",
    username: "",
    tokens: [],
    selection: null,
    confirmFinalTry: false,
    progress: null,
    result: null,
    lookup: null,
    pinError: null,
    error: null,
  };
}

/** Problems with what is plugged in, for the token panel. */
export type TokenProblem =
  | { kind: "no_token" }
  | { kind: "several"; count: number }
  | { kind: "no_certificate" }
  | { kind: "expired"; notAfter: number }
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
  return out;
}

export function pinState(s: WizardState): PinState | null {
  return selected(s)?.token.pin_state ?? null;
}

/** Whether the PIN may be sent now: a token is chosen and not locked, and on the
 * final try the user has confirmed. */
export function canSubmitPin(s: WizardState): boolean {
  const state = pinState(s);
  if (state === null || state === "locked") return false;
  return state !== "final_try" || s.confirmFinalTry;
}

/** Codes after which the user types the PIN again on the same step. */
const RETYPE_PIN: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["PIN_INCORRECT", "PIN_INVALID"]);

export function reduce(s: WizardState, e: WizardEvent, now: number): WizardState {
  switch (e.type) {
    case "submitUsername": {
      const username = e.username.trim();
      if (s.step !== "username" || username === "") return s;
      return { ...s, username, step: "token" };
    }
    case "tokensChanged": {
      let selection = s.selection;
      const still = selection && e.tokens.some((t) => t.slot_id === selection!.slotId);
      if (!still) selection = autoSelect(e.tokens, now);
      const next = { ...s, tokens: e.tokens, selection };
      // The token was pulled out while the PIN was being typed: back to the token step.
      if (s.step === "pin" && !selected(next)) return { ...next, step: "token", confirmFinalTry: false };
      return next;
    }
    case "select":
      return { ...s, selection: e.selection, confirmFinalTry: false };
    case "toPin": {
      if (s.step !== "token") return s;
      const sel = selected(s);
      if (!sel || sel.token.pin_state === "locked") return s;
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
    case "failed":
      if (RETYPE_PIN.has(e.error.code)) {
        // The token's flags change after a wrong PIN; the next token read shows them.
        return { ...s, step: "pin", pinError: e.error, confirmFinalTry: false };
      }
      if (e.error.code === "PIN_FINAL_TRY") {
        return { ...s, step: "pin", pinError: e.error, confirmFinalTry: false };
      }
      return { ...s, step: "error", error: e.error };
    case "back":
      if (s.step === "pin") return { ...s, step: "token", pinError: null };
      if (s.step === "token" && s.purpose === "recover") return { ...s, step: "username" };
      return s;
    case "restart":
      return { ...initial(s.purpose), tokens: s.tokens, selection: s.selection, username: s.username };
  }
}
