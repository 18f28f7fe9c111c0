import { describe, expect, it } from "vitest";
import { catalogue, setLang, t } from "../../src/i18n";
import errors from "../../src/generated/errors.json";

const VI_MARKS = /[ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ]/i;

describe("the UI catalogue", () => {
  it("has the same keys in both languages and no empty text", () => {
    expect(Object.keys(catalogue.en).sort()).toEqual(Object.keys(catalogue.vi).sort());
    for (const lang of ["vi", "en"] as const) {
      for (const [key, text] of Object.entries(catalogue[lang])) {
        expect(text.trim(), `${lang}.${key}`).not.toBe("");
      }
    }
  });

  it("keeps Vietnamese diacritics and translates English", () => {
    // Loanwords that read the same in both languages.
    const untranslated = ["lang_toggle", "token_label", "check_token"];
    for (const [key, text] of Object.entries(catalogue.vi)) {
      if (untranslated.includes(key)) continue;
      if (key !== "lang_toggle") expect(text, key).toMatch(VI_MARKS);
      expect(catalogue.en[key as keyof typeof catalogue.en], key).not.toBe(text);
    }
  });

  it("fills placeholders and keeps the same placeholders in both languages", () => {
    for (const key of Object.keys(catalogue.vi) as (keyof typeof catalogue.vi)[]) {
      const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(names(catalogue.en[key]), key).toEqual(names(catalogue.vi[key]));
    }
    setLang("vi");
    expect(t("done_sent_to", { email: "ke***@c***.vn" })).toBe("Mật khẩu mới đã được gửi tới email ke***@c***.vn.");
    setLang("en");
    expect(t("token_several", { count: 2 })).toBe("2 tokens are plugged in. Choose the business's token:");
    setLang("vi");
  });
});

describe("the error catalogue generated from Rust", () => {
  it("has a message and a hint for every code in both languages", () => {
    const entries = Object.entries(errors as Record<string, { vi: { message: string; hint: string }; en: { message: string; hint: string } }>);
    expect(entries.length).toBeGreaterThan(40);
    for (const [code, e] of entries) {
      expect(e.vi.message, code).toMatch(VI_MARKS);
      expect(e.en.message, code).not.toBe("");
      expect(e.vi.hint && e.en.hint, code).toBeTruthy();
    }
  });
});

import { vnDate } from "../../src/i18n";
describe("dates", () => {
  it("are shown as dd/mm/yyyy HH:MM in Vietnam time", () => {
    expect(vnDate(1_767_225_600)).toBe("01/01/2026 07:00");
    expect(vnDate("2026-11-25T09:14:03Z")).toBe("25/11/2026 16:14");
  });
});
