import { describe, expect, it } from "vitest";
import type { CertView, ErrorCode, IpcError, TokenView } from "../../src/ipc";
import {
  autoSelect,
  canContinue,
  canSubmitPin,
  CERT_REFUSALS,
  certKey,
  checkToStart,
  initial,
  problems,
  reduce,
  sameToken,
  verdict,
  waitIn,
  type WizardEvent,
  type WizardState,
} from "../../src/screens/wizard-state";

const NOW = 1_764_000_000;
const DAY = 86_400;

function cert(over: Partial<CertView> = {}): CertView {
  return {
    id: "01",
    label: "l",
    holder: "CÔNG TY",
    msts: ["0101234567"],
    personal_ids: [],
    issuer: "VNPT-CA",
    serial: "1",
    not_before: NOW - DAY,
    not_after: NOW + 300 * DAY,
    key_type: "RSA",
    key_bits: 2048,
    algorithm: "RS256",
    digital_signature: true,
    fingerprint: "ab",
    ...over,
  };
}
function token(over: Partial<TokenView> = {}): TokenView {
  return {
    slot_id: 1,
    label: "T",
    manufacturer: "m",
    model: "ePass2003",
    serial: "s",
    pin_state: "ok",
    pin_pad: false,
    module: "m.dll",
    certificates: [cert()],
    ...over,
  };
}
const err = (code: ErrorCode): IpcError => ({ code, message: code, hint: "h", reference: "RC-0000-0000" });

function run(s: WizardState, ...events: WizardEvent[]): WizardState {
  return events.reduce((acc, e) => reduce(acc, e, NOW), s);
}

describe("the attempt after one on the same token", () => {
  const same = { slotId: 1, certId: "01", fingerprint: "ab" };

  it("a lookup's account goes straight to the PIN once the token is read, the username filled in", () => {
    let s = initial("recover", "ketoan02", same);
    expect(s.step).toBe("token");
    s = run(s, { type: "tokensChanged", tokens: [token()] });
    expect([s.step, s.username, s.selection]).toEqual(["pin", "ketoan02", { slotId: 1, certId: "01" }]);
    // Once: going back to the token step stays there.
    s = run(s, { type: "back" }, { type: "tokensChanged", tokens: [token()] });
    expect(s.step).toBe("token");
  });

  it("a refused recovery's lookup goes straight to the PIN, and hands its certificate on", () => {
    let s = initial("lookup", "", same);
    s = run(s, { type: "tokensChanged", tokens: [token()] });
    expect(s.step).toBe("pin");
    expect(sameToken(s)).toEqual(same);
  });

  it("not for another token in the same slot, a certificate it cannot use, or without the username", () => {
    const other = run(initial("recover", "ketoan02", same), { type: "tokensChanged", tokens: [token({ certificates: [cert({ fingerprint: "cd" })] })] });
    expect(other.step).toBe("token");
    const expired = run(initial("recover", "ketoan02", same), { type: "tokensChanged", tokens: [token({ certificates: [cert({ not_after: NOW - DAY })] })] });
    expect(expired.step).toBe("token");
    expect(initial("recover", "", same).step).toBe("username");
  });
});

describe("the recovery wizard", () => {
  it("walks username → token → PIN → working → done", () => {
    let s = run(initial("recover"), { type: "submitUsername", username: "  ketoan01 " });
    expect(s.step).toBe("token");
    expect(s.username).toBe("ketoan01");
    s = run(s, { type: "tokensChanged", tokens: [token()] });
    expect(s.selection).toEqual({ slotId: 1, certId: "01" });
    s = run(s, { type: "toPin" }, { type: "submitPin" });
    expect(s.step).toBe("working");
    s = run(s, { type: "progress", progress: "signing" });
    expect(s.progress).toBe("signing");
    s = run(s, { type: "recovered", result: { masked_email: "ke***@c***.vn", reference: "RC-1", password_expires_at: "", delivery: "email" } });
    expect(s.step).toBe("done");
  });

  it("does not accept an empty username", () => {
    expect(run(initial("recover"), { type: "submitUsername", username: "   " }).step).toBe("username");
  });

  it("the lookup starts at the token step", () => {
    expect(initial("lookup").step).toBe("token");
  });

  it("names what is wrong with the tokens", () => {
    const s = run(initial("lookup"), { type: "tokensChanged", tokens: [] });
    expect(problems(s, NOW)).toEqual([{ kind: "no_token" }]);
    const several = run(initial("lookup"), { type: "tokensChanged", tokens: [token(), token({ slot_id: 2 })] });
    expect(problems(several, NOW)).toEqual([{ kind: "several", count: 2 }]);
    expect(run(several, { type: "toPin" }).step).toBe("token");
    const chosen = run(several, { type: "select", selection: { slotId: 2, certId: "01" } }, { type: "toPin" });
    expect(chosen.step).toBe("pin");
    const expired = run(initial("lookup"), { type: "tokensChanged", tokens: [token({ certificates: [cert({ not_after: NOW - DAY })] })] });
    expect(problems(expired, NOW)).toEqual([{ kind: "expired", notAfter: NOW - DAY }]);
    const empty = run(initial("lookup"), { type: "tokensChanged", tokens: [token({ certificates: [] })] });
    expect(problems(empty, NOW)).toEqual([{ kind: "no_certificate" }]);
  });

  it("an expired or not yet valid certificate leaves “Tiếp tục” disabled, with the reason", () => {
    for (const [over, kind] of [
      [{ not_after: NOW - DAY }, "expired"],
      [{ not_before: NOW + DAY }, "not_yet_valid"],
    ] as const) {
      const s = run(initial("lookup"), { type: "tokensChanged", tokens: [token({ certificates: [cert(over)] })] });
      expect(s.selection, kind).not.toBeNull();
      expect(
        problems(s, NOW).map((p) => p.kind),
        kind,
      ).toContain(kind);
      expect(canContinue(s, NOW), kind).toBe(false);
      expect(run(s, { type: "toPin" }).step, kind).toBe("token");
    }
    const ok = run(initial("lookup"), { type: "tokensChanged", tokens: [token()] });
    expect(canContinue(ok, NOW)).toBe(true);
    expect(canContinue(run(initial("lookup"), { type: "tokensChanged", tokens: [token({ pin_state: "locked" })] }), NOW)).toBe(false);
  });

  it("prefers the only token with a usable certificate", () => {
    const old = token({ slot_id: 3, certificates: [cert({ not_after: NOW - DAY })] });
    expect(autoSelect([old, token({ slot_id: 4 })], NOW)).toEqual({ slotId: 4, certId: "01" });
  });

  it("never sends a PIN on the final try without confirmation, and never on a locked token", () => {
    let s = run(initial("lookup"), { type: "tokensChanged", tokens: [token({ pin_state: "final_try" })] }, { type: "toPin" });
    expect(s.step).toBe("pin");
    expect(canSubmitPin(s)).toBe(false);
    expect(run(s, { type: "submitPin" }).step).toBe("pin");
    s = run(s, { type: "confirmFinalTry", value: true });
    expect(canSubmitPin(s)).toBe(true);
    expect(run(s, { type: "submitPin" }).step).toBe("working");

    const locked = run(initial("lookup"), { type: "tokensChanged", tokens: [token({ pin_state: "locked" })] });
    expect(problems(locked, NOW)).toEqual([{ kind: "locked" }]);
    expect(run(locked, { type: "toPin" }).step).toBe("token");
  });

  it("a wrong PIN returns to the PIN step; a locked token ends in the error step", () => {
    const working = run(initial("lookup"), { type: "tokensChanged", tokens: [token()] }, { type: "toPin" }, { type: "submitPin" });
    const wrong = run(working, { type: "failed", error: err("PIN_INCORRECT") });
    expect(wrong.step).toBe("pin");
    expect(wrong.pinError?.code).toBe("PIN_INCORRECT");
    const locked = run(working, { type: "failed", error: err("PIN_LOCKED") });
    expect(locked.step).toBe("error");
    const server = run(working, { type: "failed", error: err("CERT_NOT_BOUND") });
    expect(server.step).toBe("error");
    expect(server.error?.reference).toBe("RC-0000-0000");
  });

  it("a token pulled out during the PIN step goes back to the token step", () => {
    const pin = run(initial("lookup"), { type: "tokensChanged", tokens: [token()] }, { type: "toPin" });
    expect(pin.step).toBe("pin");
    const pulled = run(pin, { type: "tokensChanged", tokens: [] });
    expect(pulled.step).toBe("token");
  });

  it("restart keeps the username and the token, clears the outcome", () => {
    const s = run(
      initial("recover"),
      { type: "submitUsername", username: "u" },
      { type: "tokensChanged", tokens: [token()] },
      { type: "toPin" },
      { type: "submitPin" },
      { type: "failed", error: err("CHALLENGE_EXPIRED") },
      { type: "restart" },
    );
    expect(s.step).toBe("username");
    expect(s.username).toBe("u");
    expect(s.error).toBeNull();
  });
});

describe("the email change", () => {
  const started = {
    masked_new_email: "gi***@c***.vn",
    masked_old_email: "ke***@c***.vn",
    confirm_expires_at: "2026-11-25T09:44:03Z",
    wait_secs: 86_400,
    reference: "RC-1",
  };

  it("walks username and new email → token → PIN → working → done", () => {
    const first = initial("email");
    expect(first.step).toBe("username");
    expect(first.newEmail).toBe("");
    let s = run(first, { type: "submitUsername", username: " ketoan01 ", newEmail: "  giamdoc@congty.vn " });
    expect(s.step).toBe("token");
    expect(s.username).toBe("ketoan01");
    expect(s.newEmail).toBe("giamdoc@congty.vn");
    expect(s.fieldErrors).toEqual({});
    s = run(s, { type: "tokensChanged", tokens: [token()] }, { type: "toPin" }, { type: "submitPin" });
    expect(s.step).toBe("working");
    s = run(s, { type: "progress", progress: "verifying" }, { type: "emailChangeStarted", result: started });
    expect(s.step).toBe("done");
    expect(s.emailChange).toEqual(started);
    expect(s.result).toBeNull();
  });

  it("starts with the username filled in when it is known", () => {
    const s = initial("email", "ketoan01");
    expect(s.step).toBe("username");
    expect(s.username).toBe("ketoan01");
  });

  it("does not go on without a username or with a new email that is not an address", () => {
    const s = initial("email", "ketoan01");
    for (const [typed, problem] of [
      ["", "empty"],
      ["   ", "empty"],
      ["giamdoc", "invalid"],
      ["giamdoc.congty.vn", "invalid"],
      ["giamdoc@congty", "invalid"],
      ["giam doc@congty.vn", "invalid"],
      ["giamdoc@.vn", "invalid"],
    ] as const) {
      const refused = run(s, { type: "submitUsername", username: "ketoan01", newEmail: typed });
      expect(refused.step, typed).toBe("username");
      expect(refused.fieldErrors, typed).toEqual({ newEmail: problem });
    }
    const neither = run(initial("email"), { type: "submitUsername", username: " ", newEmail: "x" });
    expect(neither.fieldErrors).toEqual({ username: "empty", newEmail: "invalid" });
    // What was typed stays, to be corrected; a correct submit clears the errors.
    const kept = run(s, { type: "submitUsername", username: "ketoan01", newEmail: "giamdoc@congty" });
    expect(kept.newEmail).toBe("giamdoc@congty");
    const fixed = run(kept, { type: "submitUsername", username: "ketoan01", newEmail: "giamdoc@congty.vn" });
    expect(fixed.step).toBe("token");
    expect(fixed.fieldErrors).toEqual({});
  });

  it("the password recovery asks for no new email", () => {
    const s = run(initial("recover"), { type: "submitUsername", username: "ketoan01", newEmail: "x" });
    expect(s.step).toBe("token");
    expect(s.newEmail).toBe("");
    expect(run(initial("recover"), { type: "submitUsername", username: " " }).fieldErrors).toEqual({ username: "empty" });
  });

  it("goes back to the username step from the token step, and a restart keeps both fields", () => {
    const atToken = run(
      initial("email"),
      { type: "submitUsername", username: "ketoan01", newEmail: "giamdoc@congty.vn" },
      { type: "tokensChanged", tokens: [token()] },
    );
    expect(run(atToken, { type: "back" }).step).toBe("username");
    const failed = run(atToken, { type: "toPin" }, { type: "submitPin" }, { type: "failed", error: err("EMAIL_UNCHANGED") });
    expect(failed.step).toBe("error");
    expect(failed.error?.code).toBe("EMAIL_UNCHANGED");
    const again = run(failed, { type: "restart" });
    expect(again.step).toBe("username");
    expect(again.purpose).toBe("email");
    expect([again.username, again.newEmail]).toEqual(["ketoan01", "giamdoc@congty.vn"]);
    expect(again.error).toBeNull();
  });

  it("a wrong PIN returns to the PIN step as in the recovery", () => {
    const working = run(
      initial("email"),
      { type: "submitUsername", username: "u", newEmail: "a@b.vn" },
      { type: "tokensChanged", tokens: [token()] },
      { type: "toPin" },
      { type: "submitPin" },
    );
    expect(run(working, { type: "failed", error: err("PIN_INCORRECT") }).step).toBe("pin");
    expect(run(working, { type: "failed", error: err("CERT_NOT_BOUND") }).step).toBe("error");
  });

  it("says the waiting period in whole hours, else in minutes", () => {
    expect(waitIn(86_400)).toEqual({ unit: "hours", count: 24 });
    expect(waitIn(3600)).toEqual({ unit: "hours", count: 1 });
    expect(waitIn(1800)).toEqual({ unit: "minutes", count: 30 });
    expect(waitIn(61)).toEqual({ unit: "minutes", count: 2 });
    expect(waitIn(5400)).toEqual({ unit: "minutes", count: 90 });
  });
});

describe("the server's verdict on the certificate, before the PIN", () => {
  const ok = { path: "CÔNG TY < BHXH Test Issuing CA < BHXH Test Root CA (anchor)", revocation_checked: true, revocation: "OCSP good", reference: "RC-1" };
  const atPin = (...tokens: TokenView[]) => run(initial("lookup"), { type: "tokensChanged", tokens: tokens.length ? tokens : [token()] }, { type: "toPin" });

  it("is asked once the PIN step shows the chosen certificate, and once per certificate", () => {
    const tokenStep = run(initial("lookup"), { type: "tokensChanged", tokens: [token()] });
    expect(tokenStep.certCheck, "not on the token step").toBeNull();
    const s = run(tokenStep, { type: "toPin" });
    expect(s.step).toBe("pin");
    expect(verdict(s)).toEqual({ kind: "checking" });
    expect(s.certCheck?.key).toBe(certKey(s));
    expect(checkToStart(s), "already running").toBeNull();
    expect(canSubmitPin(s), "a verdict still to come does not hold the PIN back").toBe(true);
    const checked = run(s, { type: "certChecked", key: certKey(s)!, check: ok });
    expect(verdict(checked)).toEqual({ kind: "ok", check: ok });
    // Back to the token step and on again with the same certificate: not asked again.
    const again = run(checked, { type: "back" }, { type: "toPin" });
    expect(again.certCheck).toBe(checked.certCheck);
    // A wrong PIN brings the user back to the same step: not asked again either.
    const retry = run(again, { type: "submitPin" }, { type: "failed", error: err("PIN_INCORRECT") });
    expect(retry.step).toBe("pin");
    expect(retry.certCheck).toBe(checked.certCheck);
  });

  it("drops a verdict for a certificate no longer chosen", () => {
    const two = [token(), token({ slot_id: 2, certificates: [cert({ id: "02", fingerprint: "cd" })] })];
    let s = run(initial("lookup"), { type: "tokensChanged", tokens: two }, { type: "select", selection: { slotId: 1, certId: "01" } }, { type: "toPin" });
    const first = certKey(s)!;
    s = run(s, { type: "back" }, { type: "select", selection: { slotId: 2, certId: "02" } }, { type: "toPin" });
    const second = certKey(s)!;
    expect(second).not.toBe(first);
    expect(verdict(s)).toEqual({ kind: "checking" });
    // The late refusal of the first certificate does not block the second one.
    const late = run(s, { type: "certCheckFailed", key: first, error: err("CERT_REVOKED") });
    expect(late).toBe(s);
    expect(canSubmitPin(late)).toBe(true);
    expect(run(s, { type: "certChecked", key: first, check: ok })).toBe(s);
    expect(verdict(run(s, { type: "certChecked", key: second, check: ok }))?.kind).toBe("ok");
    // Nor does the verdict on a certificate asked about before show for another one.
    const back = run(s, { type: "certChecked", key: second, check: ok }, { type: "back" }, { type: "select", selection: { slotId: 1, certId: "01" } });
    expect(verdict(back)).toBeNull();
  });

  it("another token in the same slot is another certificate: checked again", () => {
    const s = atPin();
    const swapped = run(s, { type: "tokensChanged", tokens: [token({ certificates: [cert({ fingerprint: "ef" })] })] });
    expect(swapped.step).toBe("pin");
    expect(swapped.certCheck?.key).not.toBe(s.certCheck?.key);
    expect(verdict(swapped)).toEqual({ kind: "checking" });
    expect(run(swapped, { type: "certCheckFailed", key: s.certCheck!.key, error: err("CERT_REVOKED") })).toBe(swapped);
  });

  it("a refusal of the certificate blocks the PIN: no try is spent", () => {
    expect(CERT_REFUSALS.size).toBe(12);
    for (const code of CERT_REFUSALS) {
      const s = atPin();
      const refused = run(s, { type: "certCheckFailed", key: certKey(s)!, error: err(code) });
      expect(verdict(refused), code).toEqual({ kind: "refused", error: err(code) });
      expect(canSubmitPin(refused), code).toBe(false);
      expect(run(refused, { type: "submitPin" }).step, code).toBe("pin");
    }
    // Even on the final try, confirmed.
    const last = run(atPin(token({ pin_state: "final_try" })), { type: "confirmFinalTry", value: true });
    expect(canSubmitPin(last)).toBe(true);
    expect(canSubmitPin(run(last, { type: "certCheckFailed", key: certKey(last)!, error: err("CERT_EXPIRED") }))).toBe(false);
  });

  it("no verdict (network, revocation unknown) leaves the PIN step usable", () => {
    for (const code of ["SERVER_UNREACHABLE", "SERVER_TIMEOUT", "CERT_REVOCATION_UNKNOWN", "SERVICE_UNAVAILABLE", "INTERNAL"] as const) {
      const s = atPin();
      const unknown = run(s, { type: "certCheckFailed", key: certKey(s)!, error: err(code) });
      expect(verdict(unknown), code).toEqual({ kind: "unknown", error: err(code) });
      expect(canSubmitPin(unknown), code).toBe(true);
      expect(run(unknown, { type: "submitPin" }).step, code).toBe("working");
    }
  });

  it("a new attempt asks again", () => {
    const s = atPin();
    const unknown = run(
      s,
      { type: "certCheckFailed", key: certKey(s)!, error: err("SERVER_UNREACHABLE") },
      { type: "submitPin" },
      { type: "failed", error: err("CHALLENGE_EXPIRED") },
      { type: "restart" },
    );
    expect(unknown.certCheck).toBeNull();
    expect(verdict(run(unknown, { type: "toPin" }))).toEqual({ kind: "checking" });
  });
});
