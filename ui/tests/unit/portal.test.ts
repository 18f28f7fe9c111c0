import { describe, expect, it } from "vitest";
import type { CaptchaView, ErrorCode, IpcError } from "../../src/ipc";
import {
  checkEmail,
  checkMst,
  CAPTCHA_CODES,
  failed,
  firstInvalid,
  focusAfter,
  initial,
  request,
  sending,
  succeeded,
  type PortalState,
} from "../../src/screens/portal-state";

const captcha: CaptchaView = { captcha_id: "cap-1", image: "data:image/png;base64,AAAA", expires_at: "2026-11-25T09:16:03Z" };
const err = (code: ErrorCode): IpcError => ({ code, message: code, hint: "h", reference: "RC-0000-0000" });

function filled(over: Partial<PortalState> = {}): PortalState {
  return { ...initial(), mst: " 0101234567 ", email: "ketoan@congty.vn ", answer: " x7KQ2 ", captcha, ...over };
}

describe("the MST check (as bhxh-protocol's Mst::parse)", () => {
  it("accepts exactly 10 digits, or 10 digits, a dash and 3 digits", () => {
    expect(checkMst("0101234567")).toEqual({ kind: "ok", branch: false });
    expect(checkMst(" 0101234567-001 ")).toEqual({ kind: "ok", branch: true });
  });

  it("names what is wrong while it is typed", () => {
    expect(checkMst("")).toEqual({ kind: "empty" });
    expect(checkMst("   ")).toEqual({ kind: "empty" });
    expect(checkMst("01012")).toEqual({ kind: "incomplete", missing: 5 });
    expect(checkMst("010123456")).toEqual({ kind: "incomplete", missing: 1 });
    expect(checkMst("0101234567-")).toEqual({ kind: "incomplete", missing: 3 });
    expect(checkMst("0101234567-01")).toEqual({ kind: "incomplete", missing: 1 });
    expect(checkMst("01012345678")).toEqual({ kind: "too_long" });
    expect(checkMst("0101234567-0011")).toEqual({ kind: "too_long" });
    for (const bad of ["01012345a7", "0101234567_001", "010123-4567", "0101 234 567", "０１０１２３４５６７", "-", "0101234567--1"]) {
      expect(checkMst(bad), bad).toEqual({ kind: "bad_char" });
    }
  });

  it("agrees with the Rust tests' vectors", () => {
    expect(checkMst("0101234567").kind).toBe("ok");
    for (const bad of ["010123456", "01012345678", "0101234567-01", "0101234567_001", "01012345a7", ""]) {
      expect(checkMst(bad).kind, bad).not.toBe("ok");
    }
  });
});

describe("the email check (as bhxh-protocol's Email::parse)", () => {
  it("accepts local@domain.tld, trimmed", () => {
    for (const ok of ["ketoan@congty.vn", " nguyen.an@Congty.VN ", "a@b.com", "kế.toán@công-ty.vn", "a+b@mail.congty.com.vn"]) {
      expect(checkEmail(ok), ok).toBe("ok");
    }
  });

  it("refuses what the Rust side refuses", () => {
    expect(checkEmail("")).toBe("empty");
    expect(checkEmail("  ")).toBe("empty");
    for (const bad of [
      "a",
      "a@b",
      "@b.vn",
      "a b@c.vn",
      "a@-b.vn",
      "a@b-.vn",
      "<a@b.vn>",
      "a@b..vn",
      "a,b@c.vn",
      "a@b.vn;",
      `${"a".repeat(65)}@b.vn`,
      `a@${"b".repeat(250)}.vn`,
    ]) {
      expect(checkEmail(bad), bad).toBe("invalid");
    }
  });
});

describe("the portal screen's state", () => {
  it("sends only a complete form, trimmed, with the captcha it answers", () => {
    expect(firstInvalid(initial())).toBe("mst");
    expect(firstInvalid(filled({ mst: "0101" }))).toBe("mst");
    expect(firstInvalid(filled({ email: "ketoan@" }))).toBe("email");
    expect(firstInvalid(filled({ answer: "  " }))).toBe("answer");
    expect(firstInvalid(filled({ captcha: null }))).toBe("captcha");
    expect(request(filled({ captcha: null }))).toBeNull();
    expect(request(filled())).toEqual({ mst: "0101234567", email: "ketoan@congty.vn", captchaId: "cap-1", captchaAnswer: "x7KQ2" });
  });

  it("a failed request keeps the MST and email, clears the answer and asks for a new captcha", () => {
    for (const code of [...CAPTCHA_CODES, "PORTAL_EMAIL_MISMATCH", "RATE_LIMITED"] as const) {
      const s = failed(sending(filled()), err(code));
      expect(s.mst).toBe(" 0101234567 ");
      expect(s.email).toBe("ketoan@congty.vn ");
      expect(s.answer).toBe("");
      expect(s.captcha).toBeNull();
      expect(s.busy).toBe(false);
      expect(s.error?.code).toBe(code);
      expect(s.touched.answer, "the cleared answer is not an error yet").toBe(false);
    }
  });

  it("sending clears the last error; success keeps the result", () => {
    const s = sending(failed(filled(), err("CAPTCHA_INCORRECT")));
    expect(s.busy).toBe(true);
    expect(s.error).toBeNull();
    const done = succeeded(s, { masked_email: "k***@congty.vn", reference: "RC-1", activation_expires_at: "2026-11-25T09:44:03Z" });
    expect(done.result?.masked_email).toBe("k***@congty.vn");
    expect(done.busy).toBe(false);
  });

  it("puts the cursor where the fix is", () => {
    expect(focusAfter("CAPTCHA_INCORRECT")).toBe("answer");
    expect(focusAfter("CAPTCHA_USED")).toBe("answer");
    expect(focusAfter("CAPTCHA_EXPIRED")).toBe("answer");
    expect(focusAfter("INVALID_MST")).toBe("mst");
    expect(focusAfter("PORTAL_EMAIL_MISMATCH")).toBe("email");
    expect(focusAfter("SERVER_UNREACHABLE")).toBeNull();
  });

  it("a new request keeps the MST and email", () => {
    const s = initial({ mst: "0101234567", email: "ketoan@congty.vn" });
    expect([s.mst, s.email, s.answer, s.result]).toEqual(["0101234567", "ketoan@congty.vn", "", null]);
  });
});
