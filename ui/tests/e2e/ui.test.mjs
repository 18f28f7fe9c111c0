// Every screen of the app in a real browser (Debian chromium) with the shell's IPC
// answered by the scripted FAKE backend (src/mock-backend.ts): both languages, every
// error code's rendering, screenshots kept in ui/test-results/screenshots.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { launch, serve, shot } from "./harness.mjs";

const errors = JSON.parse(readFileSync(new URL("../../src/generated/errors.json", import.meta.url)));
let browser, web, base;

before(async () => {
  ({ server: web, base } = await serve());
  browser = await launch();
});
after(async () => {
  await browser?.close();
  web?.close();
});

async function open(query = "") {
  const page = await browser.newPage({ viewport: { width: 920, height: 760 } });
  page.setDefaultTimeout(5000);
  await page.goto(`${base}/?${query}`);
  await page.getByTestId("screen-login").waitFor();
  return page;
}

/** Walks the recovery up to the PIN step. */
async function toPin(page, username = "ketoan01") {
  await page.getByTestId("forgot-password").click();
  await page.locator("#wizard-username").fill(username);
  await page.keyboard.press("Enter"); // Enter submits
  await page.getByTestId("cert-details").waitFor();
  await page.getByTestId("token-continue").click();
  await page.locator("#pin").waitFor();
}

describe("login", () => {
  it("shows the login screen in Vietnamese, then English", async () => {
    const page = await open();
    assert.equal(await page.locator("html").getAttribute("lang"), "vi");
    await page.getByText("Quên mật khẩu?").waitFor();
    await page.getByText("Quên tên đăng nhập?").waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), "login-username", "focus starts on the username");
    await shot(page, "login-vi");
    await page.getByTestId("lang-toggle").click();
    await page.getByText("Forgot password?").waitFor();
    await shot(page, "login-en");
    await page.close();
  });

  it("refuses a wrong password with the code, message and reference", async () => {
    const page = await open();
    await page.locator("#login-username").fill("ketoan01");
    await page.locator("#login-password").fill("sai");
    await page.keyboard.press("Enter");
    const error = page.getByTestId("error");
    await error.waitFor();
    assert.equal(await error.getAttribute("data-code"), "INVALID_CREDENTIALS");
    await page.getByText("Tên đăng nhập hoặc mật khẩu không đúng.").waitFor();
    assert.equal(await page.getByTestId("reference").textContent(), "RC-7F3K-9Q2M");
    assert.equal(await page.locator("#login-password").inputValue(), "", "the password field is cleared");
    await shot(page, "login-error");
    await page.close();
  });

  it("forces a password change after the temporary password, checking the policy as one types", async () => {
    const page = await open();
    await page.locator("#login-username").fill("ketoan01");
    await page.locator("#login-password").fill("Tam-thoi-7Kq#");
    await page.getByTestId("login-submit").click();
    await page.getByTestId("change-form").waitFor();
    await page.locator("#current-password").fill("Tam-thoi-7Kq#");
    await page.locator("#new-password").fill("abc");
    assert.equal(await page.locator('[data-rule="min_length"]').getAttribute("class"), "unmet");
    assert.ok(await page.getByTestId("change-submit").isDisabled());
    await shot(page, "change-policy");
    await page.locator("#new-password").fill("Mua-thu-2026!");
    await page.locator("#new-password-again").fill("Mua-thu-2026!");
    for (const rule of ["min_length", "mixed_case", "digit", "symbol", "not_username", "match", "not_current"]) {
      assert.equal(await page.locator(`[data-rule="${rule}"]`).getAttribute("class"), "met", rule);
    }
    await page.getByTestId("change-submit").click();
    await page.getByText("Đã đổi mật khẩu. Hãy đăng nhập lại bằng mật khẩu mới.").waitFor();
    await shot(page, "change-done");
    await page.close();
  });
});

describe("token recovery wizard", () => {
  it("walks username → token → PIN → progress → result", async () => {
    const page = await open();
    await page.getByTestId("forgot-password").click();
    await shot(page, "wizard-username");
    await page.locator("#wizard-username").fill("ketoan01");
    await page.getByTestId("username-continue").click();
    await page.getByTestId("cert-details").waitFor();
    assert.equal(await page.getByTestId("cert-holder").textContent(), "CÔNG TY TNHH THỬ NGHIỆM BHXH");
    assert.equal(await page.getByTestId("cert-mst").textContent(), "0101234567");
    await shot(page, "wizard-token");
    await page.getByTestId("token-continue").click();
    await page.getByText("Tắt bộ gõ tiếng Việt (Unikey/EVKey) trước khi nhập mã PIN.").waitFor();
    await page.locator("#pin").fill("123456");
    await page.getByTestId("pin-toggle").click();
    assert.equal(await page.locator("#pin").getAttribute("type"), "text");
    await shot(page, "wizard-pin");
    await page.getByTestId("pin-submit").click();
    await page.getByTestId("step-done").waitFor();
    await page.getByText("Mật khẩu mới đã được gửi tới email ke***@c***.vn.").waitFor();
    assert.equal(await page.getByTestId("reference").textContent(), "RC-7F3K-9Q2M");
    await shot(page, "wizard-done");
    await page.close();
  });

  it("a wrong PIN: the error, the field cleared, the warning of a low count", async () => {
    const page = await open();
    await toPin(page);
    await page.locator("#pin").fill("000000");
    await page.getByTestId("pin-submit").click();
    const error = page.getByTestId("error");
    await error.waitFor();
    assert.equal(await error.getAttribute("data-code"), "PIN_INCORRECT");
    assert.equal(await page.locator("#pin").inputValue(), "", "the PIN field never keeps the PIN");
    await page.getByTestId("pin-count-low").waitFor();
    await shot(page, "wizard-pin-incorrect");
    await page.close();
  });

  it("the final try needs an explicit confirmation", async () => {
    const page = await open("scenario=final-try");
    await toPin(page);
    await page.getByTestId("pin-final-try").waitFor();
    assert.ok(await page.getByTestId("pin-submit").isDisabled());
    await shot(page, "wizard-final-try");
    await page.getByTestId("confirm-final-try").check();
    assert.ok(await page.getByTestId("pin-submit").isEnabled());
    await page.close();
  });

  it("a locked token shows the CA's unlock path and cannot continue", async () => {
    const page = await open("scenario=locked");
    await page.getByTestId("forgot-password").click();
    await page.locator("#wizard-username").fill("ketoan01");
    await page.keyboard.press("Enter");
    await page.getByTestId("token-locked").waitFor();
    assert.ok(await page.getByTestId("token-continue").isDisabled());
    await shot(page, "wizard-locked");
    await page.close();
  });

  it("waits for a token and shows it when plugged in", async () => {
    const page = await open("scenario=no-token");
    await page.getByTestId("forgot-password").click();
    await page.locator("#wizard-username").fill("ketoan01");
    await page.keyboard.press("Enter");
    await page.getByTestId("token-waiting").waitFor();
    await shot(page, "wizard-no-token");
    await page.evaluate(() => window.bhxhMock.setTokens([window.bhxhMock.token()]));
    await page.getByTestId("cert-details").waitFor();
    await page.close();
  });

  for (const [scenario, testid] of [["several", "token-several"], ["expired", "token-expired"], ["no-certificate", "token-no-certificate"]]) {
    it(`warns: ${scenario}`, async () => {
      const page = await open(`scenario=${scenario}`);
      await page.getByTestId("forgot-password").click();
      await page.locator("#wizard-username").fill("ketoan01");
      await page.keyboard.press("Enter");
      await page.getByTestId(testid).waitFor();
      await shot(page, `wizard-${scenario}`);
      if (scenario === "several") {
        await page.getByTestId("choose-2").click();
        assert.equal(await page.getByTestId("cert-mst").textContent(), "0309999999");
      }
      await page.close();
    });
  }

  it("strict mode shows the temporary password once", async () => {
    const page = await open("scenario=in-app");
    await toPin(page);
    await page.locator("#pin").fill("123456");
    await page.getByTestId("pin-submit").click();
    assert.equal(await page.getByTestId("temporary-password").textContent(), "Hq7#kPn4xW9m+A");
    await shot(page, "wizard-in-app");
    await page.close();
  });

  it("finds the usernames of the token's MST, or points to the hotline", async () => {
    let page = await open();
    await page.getByTestId("forgot-username").click();
    await page.getByTestId("token-continue").click();
    await page.locator("#pin").fill("123456");
    await page.getByTestId("pin-submit").click();
    assert.equal(await page.getByTestId("usernames").textContent(), "ketoan01ketoan02");
    await shot(page, "lookup-done");
    await page.close();
    page = await open("scenario=lookup-none");
    await page.getByTestId("forgot-username").click();
    await page.getByTestId("token-continue").click();
    await page.locator("#pin").fill("123456");
    await page.getByTestId("pin-submit").click();
    await page.getByTestId("usernames-none").waitFor();
    await page.getByText("1800 1260").first().waitFor();
    await page.close();
  });
});

describe("every error code renders with its message, hint and reference", () => {
  for (const lang of ["vi", "en"]) {
    it(`in ${lang}`, async () => {
      const page = await browser.newPage({ viewport: { width: 920, height: 760 } });
      page.setDefaultTimeout(5000);
      for (const [code, entry] of Object.entries(errors)) {
        await page.goto(`${base}/?fail=${code}&lang=${lang}`);
        await page.getByTestId("screen-login").waitFor();
        await toPin(page);
        await page.locator("#pin").fill("123456");
        await page.getByTestId("pin-submit").click();
        const box = page.locator(`[data-testid=error][data-code="${code}"]`);
        await box.waitFor();
        const text = await box.textContent();
        assert.ok(text.includes(entry[lang].message), `${code}: message`);
        assert.ok(text.includes(entry[lang].hint), `${code}: hint`);
        assert.ok(text.includes(`[${code}]`), `${code}: code`);
        if (entry.status > 0) assert.ok(text.includes("RC-7F3K-9Q2M"), `${code}: reference`);
        if (["CERT_NOT_BOUND", "PIN_LOCKED", "SERVER_UNREACHABLE"].includes(code)) await shot(page, `error-${code}-${lang}`);
      }
      await page.close();
    });
  }
});

describe("support and settings", () => {
  it("diagnostics checklist, support report without secrets, hotline and documents", async () => {
    const page = await open("scenario=offline");
    await page.getByTestId("nav-support").click();
    await page.locator('[data-check="server"][data-status="fail"]').waitFor();
    await page.getByText("SERVER_UNREACHABLE").waitFor();
    await page.getByText("CCCD/CMND của người đăng ký sử dụng dịch vụ").waitFor();
    await page.getByText("Giấy ủy quyền bản gốc nếu người gọi không phải người đăng ký").waitFor();
    await page.getByTestId("copy-report").click();
    // The report is fetched over IPC after the click: wait for it, not for the click.
    const copied = page.locator("#copy-status[data-report]");
    await copied.waitFor({ state: "attached" });
    const report = await copied.getAttribute("data-report");
    assert.ok(report.includes("server"), report);
    assert.ok(!report.includes("123456"), "no PIN in the report");
    await shot(page, "support");
    await page.close();
  });

  it("settings are saved", async () => {
    const page = await open();
    await page.getByTestId("nav-settings").click();
    await page.locator("#server-url").fill("https://reset.example.vn");
    await page.locator("#language").selectOption("en");
    await page.getByTestId("settings-save").click();
    await page.getByText("Saved.").waitFor();
    await shot(page, "settings");
    await page.close();
  });
});
