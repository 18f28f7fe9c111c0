// The app as an accountant and a hotline agent meet it: errors where the eye is on a
// laptop screen, the default window on a 1366×768 laptop, a way on from a found
// username, the forced password change, the captcha at its natural size, the wizard's
// steps. Same FAKE backend as ui.test.mjs; the screenshots of what is in the window
// (not the whole page) are kept in ui/test-results/screenshots as view-*.png.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { assertInView, errors, portalWrongEmail, shot, shots, toPin, useApp, WAIT_MS } from "./harness.mjs";

const conf = JSON.parse(readFileSync(new URL("../../../src-tauri/tauri.conf.json", import.meta.url)));
const main = conf.app.windows.find((w) => w.label === "main");
/** The window the app opens with. */
const WINDOW = { width: main.width, height: main.height };
/** A 1366×768 laptop: the browser's or the window's chrome and the taskbar take the rest. */
const LAPTOP = { width: 1366, height: 697 };
const SCREENS = [LAPTOP, { width: 1280, height: 800 }];

const app = useApp();
const open = (query = "", viewport = LAPTOP) => app.open(query, viewport);

/** What the user sees: the window, not the whole page. */
const view = (page, name) => page.screenshot({ path: join(shots, `view-${name}.png`) });
const size = ({ width, height }) => `${width}x${height}`;

const activeId = (page) => page.evaluate(() => document.activeElement?.id);
/** The cursor is on the error box (or in it). */
const focusOnError = (page) => page.evaluate(() => !!document.activeElement?.querySelector("[data-testid=error]"));

/** A normal login (no password to change): the home screen follows. */
async function logIn(page) {
  await page.locator("#login-username").fill("ketoan01");
  await page.locator("#login-password").fill("Mua-thu-2026!");
  await page.keyboard.press("Enter");
}

async function toChange(page) {
  await page.locator("#login-username").fill("ketoan01");
  await page.locator("#login-password").fill("Tam-thoi-7Kq#");
  await page.getByTestId("login-submit").click();
  await page.getByTestId("change-form").waitFor();
}

describe("an error after a user action is where the eye is", () => {
  for (const screen of SCREENS) {
    it(`portal: the wrong registered email, with the BHXH hotlines, at ${size(screen)}`, async () => {
      const page = await open("", screen);
      const error = await portalWrongEmail(page);
      assert.ok((await error.textContent()).includes(errors.PORTAL_EMAIL_MISMATCH.vi.message));
      await assertInView(error, "the error");
      await assertInView(page.getByTestId("portal-hotline"), "the hotline box");
      // The cursor is in the email to correct, and the email is in view with the error,
      // and so are the captcha to type again and the button to press.
      assert.equal(await activeId(page), "portal-email");
      await assertInView(page.locator("#portal-email"), "the email field");
      await assertInView(page.locator("#portal-answer"), "the captcha answer");
      await assertInView(page.getByTestId("portal-submit"), "“Lấy lại mật khẩu”");
      // Tab goes on through the form (the captcha's own button, then its answer), not
      // through the error's links.
      await page.keyboard.press("Tab");
      assert.equal(await activeId(page), "portal-captcha-refresh");
      await page.keyboard.press("Tab");
      assert.equal(await activeId(page), "portal-answer");
      await view(page, `portal-email-mismatch-${size(screen)}`);
      await page.close();
    });

    it(`login: a refused password, at ${size(screen)}`, async () => {
      const page = await open("", screen);
      await page.locator("#login-username").fill("ketoan01");
      await page.locator("#login-password").fill("sai");
      await page.getByTestId("login-submit").click();
      const error = page.locator('[data-testid=error][data-code="INVALID_CREDENTIALS"]');
      await error.waitFor();
      await assertInView(error, "the error");
      await assertInView(page.getByTestId("login-submit"), "“Đăng nhập”");
      assert.ok(await focusOnError(page), "the error takes the cursor from the button");
      await view(page, `login-error-${size(screen)}`);
      // Sent with Enter from the password field: the cursor stays there, to type again.
      await page.locator("#login-password").fill("sai lần nữa");
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => document.querySelector("#login-password")?.value === "");
      await assertInView(error, "the error again");
      assert.equal(await activeId(page), "login-password");
      await page.close();
    });

    it(`token wizard: a wrong PIN on the last try but one, at ${size(screen)}`, async () => {
      const page = await open("", screen);
      await toPin(page);
      for (const pin of ["000000", "111111"]) {
        await page.locator("#pin").fill(pin);
        await page.getByTestId("pin-submit").click();
        await page.getByTestId("step-working").waitFor({ state: "detached" });
        await page.locator('[data-testid=error][data-code="PIN_INCORRECT"]').waitFor();
      }
      // The token's flags, read again, add the final-try warning above the field.
      await page.getByTestId("pin-final-try").waitFor();
      await assertInView(page.getByTestId("error"), "the error");
      assert.equal(await activeId(page), "pin", "the cursor is in the PIN field, to type again");
      await assertInView(page.locator("#pin"), "the PIN field");
      await assertInView(page.getByTestId("pin-submit"), "“Xác nhận”");
      await view(page, `pin-error-${size(screen)}`);
      await page.close();
    });

    it(`token wizard: the server refuses the recovery (a token not bound to the username), at ${size(screen)}`, async () => {
      const page = await open("fail=CERT_NOT_BOUND", screen);
      await toPin(page);
      await page.locator("#pin").fill("123456");
      await page.getByTestId("pin-submit").click();
      const error = page.locator('[data-testid=step-error] [data-testid=error][data-code="CERT_NOT_BOUND"]');
      await error.waitFor();
      await assertInView(error, "the error");
      await assertInView(page.getByTestId("not-bound-help"), "what to do about it");
      await view(page, `wizard-refused-${size(screen)}`);
      await page.close();
    });

    it(`forced password change: a refusal of the server, at ${size(screen)}`, async () => {
      const page = await open("scenario=password-reuse", screen);
      await toChange(page);
      await page.locator("#new-password").fill("Mua-thu-2026!");
      await page.locator("#new-password-again").fill("Mua-thu-2026!");
      await page.getByTestId("change-submit").click();
      const error = page.locator('[data-testid=error][data-code="PASSWORD_REUSE"]');
      await error.waitFor();
      assert.ok((await error.textContent()).includes(errors.PASSWORD_REUSE.vi.message));
      await assertInView(error, "the error");
      assert.ok(await focusOnError(page), "the error takes the cursor from the button");
      await view(page, `change-error-${size(screen)}`);
      await page.close();
    });
  }
});

describe("the username is typed once in a journey", () => {
  it("recovery → “Đăng nhập bằng mật khẩu tạm thời” (the username filled in) → the forced change (no temporary password again) → what to do now", async () => {
    const page = await open();
    await toPin(page, "ketoan01");
    await page.locator("#pin").fill("123456");
    await page.getByTestId("pin-submit").click();
    await page.getByTestId("step-done").waitFor();
    const toLogin = page.getByTestId("done-login");
    assert.equal(await toLogin.textContent(), "Đăng nhập bằng mật khẩu tạm thời");
    await toLogin.click();
    await page.getByTestId("screen-login").waitFor();
    assert.equal(await page.locator("#login-username").inputValue(), "ketoan01", "the username is filled in");
    assert.equal(await activeId(page), "login-password", "the cursor waits in the password");
    await view(page, "journey-login-prefilled");
    await page.keyboard.type("Tam-thoi-7Kq#");
    await page.keyboard.press("Enter");
    await page.getByTestId("change-form").waitFor();
    assert.equal(await page.locator("#current-password").count(), 0, "the temporary password is not asked again");
    assert.equal(await activeId(page), "new-password");
    await page.keyboard.type("Mua-thu-2026!");
    await page.locator("#new-password-again").fill("Mua-thu-2026!");
    await page.keyboard.press("Enter");
    const done = page.getByTestId("change-done");
    await done.waitFor();
    assert.deepEqual(await page.evaluate(() => window.bhxhMock.changedWith()), { current: null });
    assert.ok((await done.innerText()).includes("Đăng nhập bằng tên đăng nhập ketoan01 và mật khẩu mới vừa đặt."));
    await view(page, "journey-change-done");
    await page.close();
  });

  it("the home screen after a normal login says what can be done next", async () => {
    const page = await open();
    await logIn(page);
    await page.getByTestId("screen-home").waitFor();
    assert.equal(
      await page.getByTestId("home-next").textContent(),
      "Để kê khai, hãy mở phần mềm kê khai BHXH và đăng nhập bằng tên đăng nhập ketoan01. Tại đây bạn có thể:",
    );
    for (const id of ["change-password", "home-change-email", "logout"]) {
      const hint = await page.getByTestId(id).evaluate((b) => document.getElementById(b.getAttribute("aria-describedby"))?.textContent ?? "");
      assert.ok(hint.length > 20, `${id}: ${hint}`);
    }
    await view(page, "home");
    await page.close();
  });
});

describe("a flow started while logged in ends on the home screen, not an empty login", () => {
  it("the email change (cancelled, then done), the support and the settings screens go back home; without a session, to the login", async () => {
    const page = await open();
    await logIn(page);
    const home = page.getByTestId("screen-home");
    await home.waitFor();
    // Cancelled at its first step.
    await page.getByTestId("home-change-email").click();
    await page.getByTestId("step-username").waitFor();
    await page.getByTestId("wizard-cancel").click();
    await home.waitFor();
    // Done: the way on is the home screen, named as such.
    await page.getByTestId("home-change-email").click();
    await page.getByTestId("new-email").fill("ketoan.moi@congty.vn");
    await page.getByTestId("username-continue").click();
    await page.getByTestId("token-continue").click();
    await page.locator("#pin").fill("123456");
    await page.getByTestId("pin-submit").click();
    const back = page.getByTestId("done-home");
    await back.waitFor();
    assert.equal(await back.textContent(), "Về trang chính");
    assert.equal(await page.getByTestId("done-login").count(), 0);
    await assertInView(back, "“Về trang chính”");
    await view(page, "email-change-done-from-home");
    await back.click();
    await page.getByTestId("home-next").getByText("ketoan01").waitFor();
    // The top bar's screens.
    for (const [nav, backButton] of [
      ["nav-support", "support-back"],
      ["nav-settings", "settings-back"],
    ]) {
      await page.getByTestId(nav).click();
      await page.getByTestId(backButton).click();
      await home.waitFor();
    }
    // Logged out: back to the login screen.
    await page.getByTestId("logout").click();
    await page.getByTestId("screen-login").waitFor();
    await page.getByTestId("nav-support").click();
    await page.getByTestId("support-back").click();
    await page.getByTestId("screen-login").waitFor();
    await page.close();
  });
});

describe("one desk, one number", () => {
  it("the server's hotline in the footer, on the Support screen and beside a wrong email, the BHXH lines only for the registration file", async () => {
    // The fake server is configured with its own number (not the build's 1800 1260).
    const page = await open("scenario=hotline", LAPTOP);
    const footer = page.getByTestId("footer").getByTestId("footer-hotline");
    await page.waitForFunction(() => document.querySelector("[data-testid=footer-hotline]")?.textContent === "1900 6868 99", null, { timeout: WAIT_MS });
    assert.equal(await footer.getAttribute("href"), "tel:1900686899");
    const error = await portalWrongEmail(page);
    const box = page.getByTestId("portal-hotline");
    assert.equal(await box.getByTestId("hotline-number").textContent(), "1900 6868 99");
    // The reference to read out is the error's, and the desk's number is the one given for it.
    assert.match(await error.getByTestId("reference").textContent(), /^RC-/);
    const bhxh = await page.getByTestId("bhxh-lines").textContent();
    assert.ok(bhxh.includes("1900 9068") && bhxh.includes("không cần mã tham chiếu"), bhxh);
    assert.ok(!(await error.textContent()).includes("1900"), "the error's hint is not shown twice");
    // The top bar's link works with the error shown (a render does not bring the same
    // error into view again under the click).
    await page.getByTestId("nav-support").click();
    const hotline = page.getByTestId("screen-support").getByTestId("hotline");
    assert.equal(await hotline.getByTestId("hotline-number").textContent(), "1900 6868 99");
    assert.equal(await hotline.getByTestId("hotline-number").getAttribute("href"), "tel:1900686899");
    await page.close();
  });

  it("another server set in Settings: its desk's number at once, not at the next start", async () => {
    const page = await open("", LAPTOP);
    await page.waitForFunction(() => document.querySelector("[data-testid=footer-hotline]")?.textContent === "1800 1260", null, { timeout: WAIT_MS });
    await page.getByTestId("nav-settings").click();
    await page.getByTestId("settings-advanced-toggle").click();
    await page.locator("#server-url").fill("https://reset.other-desk.vn");
    await page.getByTestId("settings-save").click();
    await page.waitForFunction(() => document.querySelector("[data-testid=footer-hotline]")?.textContent === "1900 2468 10", null, { timeout: WAIT_MS });
    assert.equal(await page.getByTestId("footer-hotline").getAttribute("href"), "tel:1900246810");
    await page.close();
  });
});

describe("a desktop app's window", () => {
  for (const screen of [WINDOW, LAPTOP]) {
    it(`a title bar with the mark, a footer with the hotline and the version, the card filling the window, at ${size(screen)}`, async () => {
      const page = await open("", screen);
      const mark = page.locator("header.topbar svg.mark");
      assert.equal(await mark.count(), 1, "the product's mark");
      assert.ok((await mark.boundingBox()).width >= 24);
      const footer = page.getByTestId("footer");
      assert.equal(await footer.getByTestId("footer-hotline").getAttribute("href"), "tel:18001260");
      assert.ok((await footer.innerText()).includes("Tổng đài hỗ trợ: 1800 1260"), await footer.innerText());
      assert.equal(await page.getByTestId("app-version").textContent(), `Phiên bản ${conf.version}`);
      await assertInView(footer, "the footer");
      const box = await page.getByTestId("login-form").boundingBox();
      assert.ok(box.width >= Math.min(0.55 * screen.width, 740), `the card is ${Math.round(box.width)} px wide in ${screen.width}`);
      assert.ok(box.x + box.width <= screen.width, "no horizontal overflow");
      // A visible focus ring on the field the cursor is in.
      const ring = await page.locator("#login-username").evaluate((el) => getComputedStyle(el).outlineStyle + " " + getComputedStyle(el).outlineWidth);
      assert.equal(ring, "solid 3px", ring);
      await view(page, `window-${size(screen)}`);
      for (const route of ["forgot-password", "nav-support"]) {
        await page.getByTestId(route).click();
        await page.locator("main .card").first().waitFor();
        const card = await page.locator("main .card").first().boundingBox();
        assert.ok(card.width >= Math.min(0.6 * screen.width, 820), `${route}: the card is ${Math.round(card.width)} px wide`);
        await view(page, `window-${route}-${size(screen)}`);
      }
      await page.close();
    });
  }
});

describe("the default window fits a 1366×768 laptop", () => {
  it("is at most 680 px high and 920–1000 px wide", () => {
    assert.ok(WINDOW.height <= 680, `height ${WINDOW.height}`);
    assert.ok(WINDOW.width >= 920 && WINDOW.width <= 1000, `width ${WINDOW.width}`);
    assert.ok(main.minHeight <= WINDOW.height && main.minWidth <= WINDOW.width);
  });

  for (const lang of ["vi", "en"]) {
    it(`needs no horizontal scrolling on the login screen and the wizard's steps (${lang})`, async () => {
      const page = await open(`lang=${lang}`, WINDOW);
      const noHorizontalScroll = async (where) => {
        const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
        assert.ok(scroll <= client, `${where}: scrollWidth ${scroll} > clientWidth ${client}`);
      };
      await noHorizontalScroll("login");
      await view(page, `window-login-${lang}`);
      await page.getByTestId("forgot-password").click();
      await noHorizontalScroll("username step");
      await page.locator("#wizard-username").fill("ketoan01");
      await page.keyboard.press("Enter");
      await page.getByTestId("cert-details").waitFor();
      await noHorizontalScroll("token step");
      await page.getByTestId("token-continue").click();
      await page.locator("[data-testid=cert-verdict][data-verdict=ok]").waitFor();
      await noHorizontalScroll("PIN step");
      await view(page, `window-pin-${lang}`);
      await page.getByTestId("nav-settings").click();
      await page.getByTestId("settings-advanced-toggle").click();
      await page.locator("#module-path").waitFor();
      await noHorizontalScroll("settings");
      await page.close();
    });
  }
});

describe("a found username leads on to its password", () => {
  it("each username has a button that starts the token recovery with it filled in", async () => {
    const page = await open();
    await page.getByTestId("forgot-username").click();
    await page.getByTestId("token-continue").click();
    await page.locator("#pin").fill("123456");
    await page.getByTestId("pin-submit").click();
    await page.getByTestId("usernames").waitFor();
    const buttons = page.getByRole("button", { name: "Lấy lại mật khẩu cho tài khoản này" });
    assert.equal(await buttons.count(), 2, "one button per username");
    // Beside its username: on the same row.
    for (const name of ["ketoan01", "ketoan02"]) {
      const row = page.locator("[data-testid=usernames] li", { hasText: name });
      const nameBox = await row.locator(".account-name").boundingBox();
      const buttonBox = await row.getByRole("button", { name: "Lấy lại mật khẩu cho tài khoản này" }).boundingBox();
      assert.ok(buttonBox.x > nameBox.x + nameBox.width && buttonBox.y < nameBox.y + nameBox.height && nameBox.y < buttonBox.y + buttonBox.height, name);
    }
    await shot(page, "lookup-recover-buttons");
    await page.locator("[data-testid=recover-account][data-username=ketoan02]").click();
    await page.getByRole("heading", { name: "Lấy lại mật khẩu bằng chữ ký số" }).waitFor();
    // Straight to the PIN of the token the lookup used, the account named above it.
    assert.equal(await page.getByTestId("pin-username").textContent(), "ketoan02");
    await shot(page, "lookup-recover-pin");
    await page.locator("#pin").fill("123456");
    await page.getByTestId("pin-submit").click();
    await page.getByTestId("step-done").waitFor();
    assert.equal(await page.evaluate(() => window.bhxhMock.recoveredFor()), "ketoan02", "the recovery is for the chosen account");
    await page.close();

    const en = await open("lang=en");
    await en.getByTestId("forgot-username").click();
    await en.getByTestId("token-continue").click();
    await en.locator("#pin").fill("123456");
    await en.getByTestId("pin-submit").click();
    await en.getByRole("button", { name: "Recover the password for this account" }).first().click();
    assert.equal(await en.getByTestId("pin-username").textContent(), "ketoan01");
    await en.close();
  });
});

describe("the forced password change", () => {
  // Forced: no current password, so no "differs from the current password".
  const RULES = ["min_length", "mixed_case", "digit", "symbol", "not_username", "match"];
  const classes = (page) => page.locator("[data-testid=policy] li").evaluateAll((ls) => Object.fromEntries(ls.map((l) => [l.dataset.rule, l.className])));
  const marks = (page) => page.locator("[data-testid=policy] li").allTextContents();

  it("judges no rule before the new password is typed, each rule once what it is about is typed", async () => {
    const page = await open();
    await toChange(page);
    const none = Object.fromEntries(RULES.map((r) => [r, "pending"]));
    assert.deepEqual(await classes(page), none, "nothing typed: no rule met, none unmet");
    assert.ok(
      (await marks(page)).every((text) => !text.includes("✓") && !text.includes("✗")),
      (await marks(page)).join(" | "),
    );
    await shot(page, "change-empty");
    await page.locator("#new-password").fill("ketoan01");
    assert.deepEqual(await classes(page), {
      min_length: "unmet",
      mixed_case: "unmet",
      digit: "met",
      symbol: "unmet",
      not_username: "unmet",
      match: "pending",
    });
    await page.locator("#new-password").fill("Mua-thu-2026!");
    assert.equal((await classes(page)).match, "pending", "the match waits for the second entry");
    await page.locator("#new-password-again").fill("Mua-thu");
    assert.equal((await classes(page)).match, "unmet");
    await page.locator("#new-password-again").fill("Mua-thu-2026!");
    assert.deepEqual(await classes(page), Object.fromEntries(RULES.map((r) => [r, "met"])));
    // Emptied again: nothing judged again.
    await page.locator("#new-password").fill("");
    assert.deepEqual(await classes(page), none);
    assert.ok(
      (await marks(page)).every((text) => !text.includes("✓")),
      "an empty field never shows ✓",
    );
    assert.ok(await page.getByTestId("change-submit").isDisabled());
    await page.close();
  });

  it("a change asked from the home screen asks the current password, and has its rule", async () => {
    const page = await open();
    await page.locator("#login-username").fill("ketoan01");
    await page.locator("#login-password").fill("Mua-thu-2026!");
    await page.getByTestId("login-submit").click();
    await page.getByTestId("change-password").click();
    await page.getByTestId("change-form").waitFor();
    assert.equal(await activeId(page), "current-password");
    assert.equal(await page.locator('[data-rule="not_current"]').getAttribute("class"), "pending");
    await page.locator("#current-password").fill("Mua-thu-2026!");
    await page.locator("#new-password").fill("Mua-thu-2026!");
    assert.equal(await page.locator('[data-rule="not_current"]').getAttribute("class"), "unmet");
    await page.locator("#new-password").fill("Mua-dong-2027!");
    await page.locator("#new-password-again").fill("Mua-dong-2027!");
    await page.getByTestId("change-submit").click();
    await page.getByTestId("change-done").waitFor();
    assert.deepEqual(await page.evaluate(() => window.bhxhMock.changedWith()), { current: "string" });
    assert.equal(await page.getByText("Mật khẩu tạm thời không còn dùng được nữa.").count(), 0, "not forced: no temporary password");
    await page.close();
  });

  it("shows or hides each password field", async () => {
    const page = await open();
    await toChange(page);
    for (const id of ["new-password", "new-password-again"]) {
      const input = page.locator(`#${id}`);
      const toggle = page.getByTestId(`${id}-toggle`);
      await input.fill("Mua-thu-2026!");
      assert.equal(await input.getAttribute("type"), "password", id);
      assert.equal(await toggle.textContent(), "Hiện", id);
      assert.equal(await toggle.getAttribute("aria-pressed"), "false", id);
      await toggle.click();
      assert.equal(await input.getAttribute("type"), "text", id);
      assert.equal(await toggle.textContent(), "Ẩn", id);
      assert.equal(await toggle.getAttribute("aria-pressed"), "true", id);
      assert.equal(await input.inputValue(), "Mua-thu-2026!", `${id}: the value is kept`);
      if (id === "new-password-again") await shot(page, "change-shown");
      await toggle.click();
      assert.equal(await input.getAttribute("type"), "password", id);
    }
    await page.getByTestId("lang-toggle").click();
    assert.equal(await page.getByTestId("new-password-toggle").textContent(), "Show");
    await page.close();
  });

  it("shows the change as busy while it is on its way, and sends it once", async () => {
    const page = await open();
    await toChange(page);
    await page.locator("#new-password").fill("Mua-thu-2026!");
    await page.locator("#new-password-again").fill("Mua-thu-2026!");
    await page.evaluate(() => window.bhxhMock.hold("change_password"));
    const submit = page.getByTestId("change-submit");
    await submit.click();
    await page.locator("[data-testid=change-submit][aria-busy=true]").waitFor();
    assert.equal(await submit.textContent(), "Đang đổi mật khẩu…");
    assert.equal(await submit.getAttribute("aria-disabled"), "true");
    assert.equal(await page.getByTestId("change-form").getAttribute("aria-busy"), "true");
    await view(page, "change-busy");
    await submit.click({ force: true }); // aria-disabled: Playwright would wait for it to be enabled
    await page.locator("#new-password-again").press("Enter");
    assert.equal(await page.evaluate(() => window.bhxhMock.calls("change_password")), 1, "sent once");
    await page.evaluate(() => window.bhxhMock.release("change_password"));
    await page.getByTestId("change-done").waitFor();
    await page.close();
  });
});

describe("the captcha", () => {
  it("is shown at its natural 280×70", async () => {
    const page = await open();
    await page.getByTestId("portal-recover").click();
    const img = page.getByTestId("captcha-image");
    await img.waitFor();
    await page.waitForFunction(() => document.querySelector("[data-testid=captcha-image]")?.complete);
    const s = await img.evaluate((el) => ({ natural: [el.naturalWidth, el.naturalHeight], shown: [el.clientWidth, el.clientHeight] }));
    assert.deepEqual(s.natural, [280, 70], "the server's size");
    assert.deepEqual(s.shown, s.natural, "shown neither shrunk nor stretched");
    await view(page, "captcha");
    await page.close();
  });
});

describe("the wizard's steps", () => {
  /** Each step's label on one line, all steps on one row; what each step is marked. */
  const steps = (page) =>
    page
      .getByTestId("steps")
      .locator("li")
      .evaluateAll((ls) =>
        ls.map((li) => {
          const label = [...li.childNodes].find((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
          const range = document.createRange();
          range.selectNode(label);
          const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
          const mark = li.querySelector(".step-mark");
          return {
            label: label.textContent.trim(),
            lines,
            top: Math.round(li.getBoundingClientRect().top),
            markOnLine: !!mark && Math.abs(mark.getBoundingClientRect().top - li.getBoundingClientRect().top) < li.getBoundingClientRect().height / 2,
            mark: mark?.textContent ?? "",
            current: li.getAttribute("aria-current"),
            finished: li.classList.contains("finished"),
            said: li.textContent.trim(),
          };
        }),
      );
  const assertOneRow = (list, where) => {
    assert.ok(list.length >= 3, `${where}: the steps are listed`);
    for (const s of list) assert.equal(s.lines, 1, `${where}: “${s.label}” wraps`);
    assert.equal(new Set(list.map((s) => s.top)).size, 1, `${where}: the steps are not on one row`);
    assert.ok(
      list.every((s) => s.markOnLine),
      `${where}: a mark is off its label's line`,
    );
  };

  for (const lang of ["vi", "en"]) {
    it(`labels do not wrap at the default window width, finished steps have a ✓ (${lang})`, async () => {
      const done = lang === "vi" ? "(đã xong)" : "(done)";
      const page = await open(`lang=${lang}`, WINDOW);
      await page.getByTestId("forgot-password").click();
      let list = await steps(page);
      assertOneRow(list, "username step");
      assert.deepEqual(
        list.map((s) => s.current),
        ["step", null, null, null],
      );
      assert.deepEqual(
        list.map((s) => s.mark),
        ["1.", "2.", "3.", "4."],
      );
      await page.locator("#wizard-username").fill("ketoan01");
      await page.keyboard.press("Enter");
      await page.getByTestId("cert-details").waitFor();
      list = await steps(page);
      assertOneRow(list, "token step");
      assert.deepEqual(
        list.map((s) => s.mark),
        ["✓", "2.", "3.", "4."],
      );
      assert.deepEqual(
        list.map((s) => s.current),
        [null, "step", null, null],
      );
      assert.ok(list[0].finished && list[0].said.endsWith(done), list[0].said);
      assert.ok(!list[1].said.includes(done));
      await page.getByTestId("token-continue").click();
      await page.locator("#pin").fill("123456");
      list = await steps(page);
      assert.deepEqual(
        list.map((s) => s.mark),
        ["✓", "✓", "3.", "4."],
      );
      assert.deepEqual(
        list.map((s) => s.current),
        [null, null, "step", null],
      );
      await view(page, `steps-pin-${lang}`);
      await page.getByTestId("pin-submit").click();
      await page.getByTestId("step-done").waitFor();
      list = await steps(page);
      assertOneRow(list, "done");
      assert.deepEqual(
        list.map((s) => s.mark),
        ["✓", "✓", "✓", "4."],
      );
      assert.deepEqual(
        list.map((s) => s.current),
        [null, null, null, "step"],
      );
      await page.close();
    });
  }

  it("a failed attempt does not mark the PIN step done; the lookup's three steps too", async () => {
    let page = await open("fail=SERVER_UNREACHABLE", WINDOW);
    await toPin(page);
    await page.locator("#pin").fill("123456");
    await page.getByTestId("pin-submit").click();
    await page.getByTestId("step-error").waitFor();
    let list = await steps(page);
    // …and the last step says the attempt failed, not "Hoàn tất".
    assert.deepEqual(
      list.map((s) => s.mark),
      ["✓", "✓", "3.", "✗"],
    );
    assert.deepEqual(
      list.map((s) => s.current),
      [null, null, null, "step"],
    );
    assert.ok((await page.locator('[data-testid=steps] li[data-step="done"]').textContent()).includes("Không thành công"));
    await page.close();
    page = await open("", WINDOW);
    await page.getByTestId("forgot-username").click();
    await page.getByTestId("cert-details").waitFor();
    list = await steps(page);
    assertOneRow(list, "lookup");
    assert.deepEqual(
      list.map((s) => s.mark),
      ["1.", "2.", "3."],
    );
    await page.getByTestId("token-continue").click();
    await page.locator("#pin").waitFor();
    assert.deepEqual(
      (await steps(page)).map((s) => s.mark),
      ["✓", "2.", "3."],
    );
    await page.close();
  });
});
