// No English on a Vietnamese screen. Every screen and its main states, in Vietnamese
// (the login, each wizard step of the recovery, the lookup and the email change with
// their errors through ?fail=…, the results, the portal with its wrong email, the forced
// change, home, support with the computer check shown, settings): the text the user
// sees (document.body.innerText, with the labels the eye or a screen reader gets from
// attributes) must hold no word that only the English catalogue has (the words of
// en.ts's values, and of the Rust error catalogue's English, that no Vietnamese value
// has), less a few words both languages use, nor a word of a stop-list of English (the
// browser's own "Fill out this field", and the like). Every form also sets `novalidate`:
// the messages are the app's, never the browser's English tooltips.
// Same FAKE backend as ui.test.mjs; screenshots in ui/test-results/screenshots as vi-*.png.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { transformSync } from "esbuild";
import { errors, shot, toPin, useApp } from "./harness.mjs";

/** A catalogue file of src/i18n, loaded as the app loads it (its types stripped). */
async function catalogue(file, name) {
  const ts = readFileSync(new URL(`../../src/i18n/${file}`, import.meta.url), "utf8");
  const { code } = transformSync(ts, { loader: "ts", format: "esm" });
  return (await import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`))[name];
}

/** The words of a text, in lower case: error codes ([PIN_INCORRECT]), reference codes,
 * addresses, paths and placeholders left out (they are the same in both languages). */
function words(text) {
  const plain = text
    .replace(/\{\w+\}/g, " ")
    .replace(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g, " ")
    .replace(/\b(?:RC|HT)-[0-9A-Z-]+/g, " ")
    .replace(/\S+:\/\/\S+/g, " ")
    .replace(/\S+@\S+/g, " ")
    .replace(/[A-Za-z]:\\\S+/g, " ");
  return (plain.toLowerCase().match(/\p{L}+/gu) ?? []).filter((w) => w.length > 1);
}

const vi = await catalogue("vi.ts", "vi");
const en = await catalogue("en.ts", "en");
const viWords = new Set([...Object.values(vi), ...Object.values(errors).flatMap((e) => [e.vi.message, e.vi.hint])].flatMap(words));
/** Words both languages use (the loanwords and names of this trade). */
const BOTH = new Set([
  "token",
  "pin",
  "mst",
  "email",
  "captcha",
  "spam",
  "pc",
  "sc",
  "pkcs",
  "ca",
  "vnpt",
  "viettel",
  "fpt",
  "bkav",
  "usb",
  "ocsp",
  "crl",
  "rsa",
  "bit",
  "ms",
  "certification",
  "authority",
  "epass",
  "feitian",
  "bhxh",
  "test",
  "root",
  "issuing",
  // Vietnamese words an English text may have too ("lệch so với máy chủ").
  "so",
]);
/** English words that are in no catalogue but must not show either: the browser's own
 * messages, and words a FAKE or the shell could leave in English. */
const STOP = [
  "fill",
  "out",
  "field",
  "this",
  "please",
  "the",
  "and",
  "of",
  "to",
  "is",
  "not",
  "searched",
  "running",
  "found",
  "error",
  "failed",
  "unknown",
  "ok",
  "warning",
  "skipped",
  "serial",
  "readers",
  "reader",
  "with",
  "expires",
  "issued",
  "by",
  "skew",
  "server",
  "answered",
  "backend",
  "fake",
];
const ENGLISH_ONLY = new Set([
  ...[...Object.values(en), ...Object.values(errors).flatMap((e) => [e.en.message, e.en.hint])].flatMap(words).filter((w) => !viWords.has(w) && !BOTH.has(w)),
  ...STOP,
]);

const app = useApp();
const open = (query = "") => app.open(query, { width: 1366, height: 697 });

/** What a Vietnamese screen shows: its text and the labels its attributes give. */
async function seen(page) {
  return page.evaluate(() => {
    const attrs = [...document.querySelectorAll("[title], [alt], [aria-label], [placeholder], input[type=button], input[type=submit]")].flatMap((el) =>
      ["title", "alt", "aria-label", "placeholder", ...(el instanceof HTMLInputElement && (el.type === "button" || el.type === "submit") ? ["value"] : [])].map(
        (a) => (a === "value" ? el.value : el.getAttribute(a)) ?? "",
      ),
    );
    return {
      text: `${document.body.innerText}\n${attrs.join("\n")}`,
      lang: document.documentElement.lang,
      validating: document.querySelectorAll("form:not([novalidate])").length,
    };
  });
}

/** Collects the English words a state shows; the test fails at its end with all of them. */
function walker() {
  const found = [];
  return {
    async check(page, state) {
      const { text, lang, validating } = await seen(page);
      assert.equal(lang, "vi", `${state}: the page is Vietnamese`);
      assert.equal(validating, 0, `${state}: a form without novalidate (the browser's English tooltips)`);
      const bad = [...new Set(words(text).filter((w) => ENGLISH_ONLY.has(w)))];
      if (bad.length) found.push(`${state}: ${bad.join(", ")}`);
      await shot(page, `vi-${state}`);
    },
    done() {
      assert.deepEqual(found, [], `English on Vietnamese screens:\n${found.join("\n")}`);
    },
  };
}

async function login(page, password) {
  await page.locator("#login-username").fill("ketoan01");
  await page.locator("#login-password").fill(password);
  await page.getByTestId("login-submit").click();
}

async function sendPin(page, pin = "123456") {
  await page.locator("#pin").fill(pin);
  await page.getByTestId("pin-submit").click();
}

describe("no English word on a Vietnamese screen", () => {
  it("knows the English-only words (the test can fail)", () => {
    for (const w of ["fill", "field", "the", "and", "recover", "password", "username", "continue", "support", "settings"]) assert.ok(ENGLISH_ONLY.has(w), w);
    for (const w of ["token", "pin", "mst", "email", "captcha", "mật", "khẩu"]) assert.ok(!ENGLISH_ONLY.has(w), w);
    assert.deepEqual(words("Lỗi [PIN_INCORRECT] RC-7F3K-9Q2M ketoan@congty.vn https://reset.bhxh.example.vn C:\\Windows\\x.dll"), ["lỗi"]);
  });

  it("login: the form, a field left empty, a refused password", async () => {
    const walk = walker();
    const page = await open();
    await walk.check(page, "login");
    await page.getByTestId("login-submit").click();
    await page.getByText("Hãy nhập tên đăng nhập.").waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), "login-username", "the cursor in the field to fill");
    await walk.check(page, "login-empty-username");
    await page.locator("#login-username").fill("ketoan01");
    await page.getByTestId("login-submit").click();
    await page.getByText("Hãy nhập mật khẩu.").waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), "login-password");
    await page.locator("#login-password").fill("sai");
    await page.keyboard.press("Enter");
    await page.locator('[data-testid=error][data-code="INVALID_CREDENTIALS"]').waitFor();
    await walk.check(page, "login-refused");
    await page.close();
    walk.done();
  });

  it("the recovery wizard: each step, a wrong PIN, the results, the errors", async () => {
    const walk = walker();
    let page = await open();
    await page.getByTestId("forgot-password").click();
    await page.getByTestId("step-username").waitFor();
    await walk.check(page, "recover-username");
    await page.getByTestId("username-continue").click();
    await page.getByText("Hãy nhập tên đăng nhập.").waitFor();
    await walk.check(page, "recover-username-empty");
    await page.locator("#wizard-username").fill("ketoan01");
    await page.keyboard.press("Enter");
    await page.getByTestId("cert-details").waitFor();
    await walk.check(page, "recover-token");
    await page.getByTestId("token-continue").click();
    await page.locator("[data-testid=cert-verdict][data-verdict=ok]").waitFor();
    await walk.check(page, "recover-pin");
    await sendPin(page, "000000");
    await page.locator('[data-testid=error][data-code="PIN_INCORRECT"]').waitFor();
    await page.getByTestId("pin-count-low").waitFor();
    await walk.check(page, "recover-pin-incorrect");
    await sendPin(page);
    await page.getByTestId("step-done").waitFor();
    await walk.check(page, "recover-done");
    await page.close();

    page = await open("scenario=in-app");
    await toPin(page);
    await sendPin(page);
    await page.getByTestId("temporary-password").waitFor();
    await walk.check(page, "recover-done-in-app");
    await page.close();

    for (const code of ["SERVER_UNREACHABLE", "CERT_NOT_BOUND", "PIN_LOCKED", "RATE_LIMITED"]) {
      if (!errors[code]) continue;
      page = await open(`fail=${code}`);
      await toPin(page);
      await sendPin(page);
      await page.locator(`[data-testid=step-error] [data-testid=error][data-code="${code}"]`).waitFor();
      await walk.check(page, `recover-error-${code}`);
      await page.close();
    }
    walk.done();
  });

  it("the token step's problems, and the PIN step's warnings", async () => {
    const walk = walker();
    for (const [scenario, testid] of [
      ["no-token", "token-waiting"],
      ["no-driver", "token-read-failed"],
      ["expired", "token-expired"],
      ["not-yet-valid", "token-not-yet-valid"],
      ["several", "token-several"],
      ["locked", "token-locked"],
      ["no-certificate", "token-no-certificate"],
    ]) {
      const page = await open(`scenario=${scenario}`);
      await page.getByTestId("forgot-password").click();
      await page.locator("#wizard-username").fill("ketoan01");
      await page.keyboard.press("Enter");
      await page.getByTestId(testid).waitFor();
      await walk.check(page, `token-${scenario}`);
      await page.close();
    }
    for (const [scenario, testid] of [
      ["final-try", "pin-final-try"],
      ["cert_revoked", "cert-refused"],
    ]) {
      const page = await open(`scenario=${scenario}`);
      await toPin(page);
      await page.getByTestId(testid).waitFor();
      await walk.check(page, `pin-${scenario}`);
      await page.close();
    }
    walk.done();
  });

  it("the username lookup: its steps, the usernames found, none found", async () => {
    const walk = walker();
    let page = await open();
    await page.getByTestId("forgot-username").click();
    await page.getByTestId("cert-details").waitFor();
    await walk.check(page, "lookup-token");
    await page.getByTestId("token-continue").click();
    await page.locator("#pin").waitFor();
    await walk.check(page, "lookup-pin");
    await sendPin(page);
    await page.getByTestId("usernames").waitFor();
    await walk.check(page, "lookup-done");
    await page.close();
    page = await open("scenario=lookup-none");
    await page.getByTestId("forgot-username").click();
    await page.getByTestId("token-continue").click();
    await sendPin(page);
    await page.getByTestId("usernames-none").waitFor();
    await walk.check(page, "lookup-none");
    await page.close();
    walk.done();
  });

  it("home, the email change with its errors, the forced change with its refusal and its end", async () => {
    const walk = walker();
    let page = await open();
    await login(page, "Mua-thu-2026!");
    await page.getByTestId("screen-home").waitFor();
    await walk.check(page, "home");
    await page.getByTestId("home-change-email").click();
    await page.getByTestId("step-username").waitFor();
    await walk.check(page, "email-username");
    await page.getByTestId("new-email").fill("giamdoc@congty");
    await page.keyboard.press("Enter");
    await page.getByText("Email chưa đúng dạng, ví dụ ketoan@congty.vn.").waitFor();
    await walk.check(page, "email-invalid");
    await page.getByTestId("new-email").fill("ketoan@congty.vn");
    await page.keyboard.press("Enter");
    await page.getByTestId("token-continue").click();
    await sendPin(page);
    await page.locator('[data-testid=error][data-code="EMAIL_UNCHANGED"]').waitFor();
    await walk.check(page, "email-unchanged");
    await page.getByTestId("start-over").click();
    await page.getByTestId("new-email").fill("giamdoc@congty.vn");
    await page.keyboard.press("Enter");
    await page.getByTestId("token-continue").click();
    await sendPin(page);
    await page.getByTestId("email-change-sent").waitFor();
    await walk.check(page, "email-done");
    await page.close();

    page = await open("scenario=password-reuse");
    await login(page, "Tam-thoi-7Kq#");
    await page.getByTestId("change-form").waitFor();
    await walk.check(page, "change-forced");
    await page.locator("#new-password").fill("abc");
    await walk.check(page, "change-forced-typed");
    await page.locator("#new-password").fill("Mua-thu-2026!");
    await page.locator("#new-password-again").fill("Mua-thu-2026!");
    await page.getByTestId("change-submit").click();
    await page.locator('[data-testid=error][data-code="PASSWORD_REUSE"]').waitFor();
    await walk.check(page, "change-refused");
    await page.close();

    page = await open();
    await login(page, "Tam-thoi-7Kq#");
    await page.locator("#new-password").fill("Mua-thu-2026!");
    await page.locator("#new-password-again").fill("Mua-thu-2026!");
    await page.getByTestId("change-submit").click();
    await page.getByTestId("change-done").waitFor();
    await walk.check(page, "change-done");
    await page.close();
    walk.done();
  });

  it("the portal: the form, its checks, a wrong captcha, the wrong email with the hotlines, the result", async () => {
    const walk = walker();
    const page = await open();
    await page.getByTestId("portal-recover").click();
    await page.getByTestId("captcha-image").waitFor();
    await walk.check(page, "portal");
    await page.locator("#portal-mst").fill("01012");
    await page.getByTestId("portal-submit").click();
    await page.getByText("Hãy nhập email đã đăng ký.").waitFor();
    await walk.check(page, "portal-invalid");
    await page.locator("#portal-mst").fill("0101234567");
    await page.locator("#portal-email").fill("ketoan@congty.vn");
    await page.locator("#portal-answer").fill("wrong");
    await page.keyboard.press("Enter");
    await page.getByTestId("captcha-renewed").waitFor();
    await walk.check(page, "portal-captcha-incorrect");
    await page.locator("#portal-email").fill("giamdoc@congty.vn");
    await page.locator("#portal-answer").fill("abcde");
    await page.keyboard.press("Enter");
    await page.getByTestId("portal-hotline").waitFor();
    await walk.check(page, "portal-email-mismatch");
    await page.locator("#portal-email").fill("ketoan@congty.vn");
    await page.locator("[data-testid=captcha-image]").waitFor();
    await page.locator("#portal-answer").fill("abcde");
    await page.getByTestId("portal-submit").click();
    await page.getByTestId("portal-done").waitFor();
    await walk.check(page, "portal-done");
    await page.close();
    walk.done();
  });

  it("support with the computer check shown (a token, no token, no PC/SC, no server), the consent, the code; settings", async () => {
    const walk = walker();
    for (const scenario of ["ok", "no-token", "no-pcsc", "offline", "count-low", "expired"]) {
      const page = await open(`scenario=${scenario}`);
      await page.getByTestId("nav-support").click();
      await page.locator("[data-testid=checks] [data-check=server]").waitFor();
      await walk.check(page, `support-${scenario}`);
      if (scenario === "no-pcsc") {
        // The token reads through its module: no PC/SC is information, with nothing to do.
        const readers = page.locator("[data-check=readers]");
        assert.ok((await readers.innerText()).includes("dịch vụ PC/SC chưa chạy"));
        assert.equal(await readers.getAttribute("data-status"), "info");
        assert.equal(await readers.locator(".fix").count(), 0, "no fix to follow");
        assert.ok((await readers.textContent()).includes("Thông tin"), "named as information to a screen reader");
      }
      if (scenario === "ok") {
        const token = await page.locator("[data-check=token]").innerText();
        assert.ok(token.includes("PIN: bình thường") && token.includes("số sê-ri"), token);
        await page.getByTestId("support-send").click();
        await page.getByTestId("support-consent").waitFor();
        await walk.check(page, "support-consent");
        await page.getByTestId("support-consent-agree").click();
        await page.getByTestId("support-code").waitFor();
        await walk.check(page, "support-code");
        await page.getByTestId("nav-settings").click();
        await page.getByTestId("settings-form").waitFor();
        await walk.check(page, "settings");
        await page.getByTestId("settings-advanced-toggle").click();
        await page.locator("#server-url").waitFor();
        await page.waitForFunction(() => document.querySelectorAll("select#module-path option").length === 3);
        await walk.check(page, "settings-advanced");
        await page.getByTestId("settings-save").click();
        await page.getByText("Đã lưu.").waitFor();
        await walk.check(page, "settings-saved");
      }
      await page.close();
    }
    walk.done();
  });
});
