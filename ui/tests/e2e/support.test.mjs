// "Gửi thông tin cho nhân viên hỗ trợ" in a real browser (Debian chromium), the shell's
// IPC answered by the FAKE backend (src/mock-backend.ts), which keeps the report it
// showed and tells the test what it "sent" (bhxhMock.supportSent()). The report is
// shown for consent and nothing leaves before "Đồng ý gửi"; then the code to read out on
// the phone. From an error, the button opens the consent with that error in the report.
// Screenshots in ui/test-results/screenshots.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { assertInView, portalWrongEmail, shot, shots, toPin, useApp } from "./harness.mjs";

const app = useApp();
/** A 1366×768 laptop, less the window's chrome and the taskbar (as desk.test.mjs). */
const LAPTOP = { width: 1366, height: 697 };

const mock = (page, f, ...args) => page.evaluate(([f, args]) => window.bhxhMock[f](...args), [f, args]);
const activeId = (page) => page.evaluate(() => document.activeElement?.id);

/** A date as the app shows it (vnDate): dd/mm/yyyy HH:MM in Vietnam time. */
function vn(ms) {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Asia/Ho_Chi_Minh",
    day: "2-digit",
    month: "2-digit",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(new Date(ms));
  const get = (type) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("day")}/${get("month")}/${get("year")} ${get("hour")}:${get("minute")}`;
}

/** Agrees, and checks the code, its deadline (an hour from now), and that it is the one code shown. */
async function agreeAndRead(page) {
  const before = Date.now();
  await page.getByTestId("support-consent-agree").click();
  const code = page.getByTestId("support-code");
  await code.waitFor();
  const after = Date.now();
  assert.equal(await code.textContent(), "HT-4821-7305-6");
  const note = await page.getByTestId("support-code-note").textContent();
  const deadlines = new Set(
    [vn(before + 3_600_000), vn(after + 3_600_000)].map((d) => `Đọc mã này cho nhân viên hỗ trợ qua điện thoại. Mã có hiệu lực đến ${d}.`),
  );
  assert.ok(deadlines.has(note), note);
  // One code on the screen: the one to read out (the request's RC- reference is the desk's, on its page).
  assert.equal(await page.getByTestId("support-sent").getByTestId("reference").count(), 0);
  assert.ok(!(await page.getByTestId("support-sent").textContent()).includes("RC-"));
  assert.equal(await activeId(page), "support-sent", "the cursor goes to the code");
  return code;
}

describe("sending the details to the support desk", () => {
  it("shows the report for consent, sends nothing before “Đồng ý gửi” nor after “Không gửi”, then the code", async () => {
    const page = await app.open();
    await page.getByTestId("nav-support").click();
    const send = page.getByTestId("support-send");
    assert.equal(await send.textContent(), "Gửi thông tin cho nhân viên hỗ trợ");
    await send.click();
    const box = page.getByTestId("support-consent");
    await box.waitFor();
    await box
      .getByText("Nhân viên hỗ trợ sẽ thấy đúng nội dung dưới đây. Thông tin không chứa mã PIN, mật khẩu hay phiên đăng nhập; mã hỗ trợ có hiệu lực 1 giờ.")
      .waitFor();
    const shown = await page.getByTestId("support-consent-report").inputValue();
    assert.ok(shown.startsWith("bhxh-desktop"), shown);
    assert.ok(!shown.includes("lỗi gần nhất"), "no error yet, none quoted");
    assert.equal(await page.getByTestId("support-consent-report").getAttribute("readonly"), "");
    assert.equal(await activeId(page), "support-consent", "the cursor goes to the consent");
    assert.equal(await mock(page, "calls", "support_send"), 0, "nothing sent before agreeing");
    assert.equal(await mock(page, "supportSent"), null);
    await shot(page, "support-consent");

    await page.getByTestId("support-consent-cancel").click();
    await page.getByTestId("support-consent-cancelled").getByText("Chưa gửi gì cho nhân viên hỗ trợ.").waitFor();
    assert.equal(await box.count(), 0);
    assert.equal(await activeId(page), "support-send", "the cursor back on the button");
    assert.equal(await mock(page, "calls", "support_send"), 0, "“Không gửi” sends nothing");
    assert.equal(await mock(page, "supportSent"), null);

    await send.click();
    await box.waitFor();
    const report = await page.getByTestId("support-consent-report").inputValue();
    await agreeAndRead(page);
    assert.equal(await mock(page, "calls", "support_send"), 1, "sent once");
    assert.equal(await mock(page, "supportSent"), report, "the text sent is the text shown");
    await shot(page, "support-code");
    await page.close();
  });

  it("in English", async () => {
    const page = await app.open("lang=en");
    await page.getByTestId("nav-support").click();
    await page.getByTestId("support-send").getByText("Send the details to support").click();
    await page.getByTestId("support-consent").getByText("The support staff will see exactly what is below.", { exact: false }).waitFor();
    assert.equal((await page.getByTestId("support-consent-agree").textContent()).trim(), "Agree and send");
    assert.equal((await page.getByTestId("support-consent-cancel").textContent()).trim(), "Do not send");
    await page.getByTestId("support-consent-agree").click();
    await page.getByTestId("support-code-note").getByText("Read this code to the support staff on the phone. It is valid until", { exact: false }).waitFor();
    await page.close();
  });

  it("from a wizard's error: straight to the consent, the report quotes the error", async () => {
    const page = await app.open("fail=CERT_NOT_BOUND");
    await toPin(page);
    await page.locator("#pin").fill("123456");
    await page.getByTestId("pin-submit").click();
    const error = page.locator('[data-testid=step-error] [data-testid=error][data-code="CERT_NOT_BOUND"]');
    await error.waitFor();
    const button = error.getByTestId("send-to-support");
    assert.equal(await button.textContent(), "Gửi thông tin cho nhân viên hỗ trợ");
    await button.click();
    await page.getByTestId("screen-support").waitFor();
    const report = page.getByTestId("support-consent-report");
    await report.waitFor();
    const shown = await report.inputValue();
    assert.ok(shown.endsWith("\nlỗi gần nhất: CERT_NOT_BOUND RC-7F3K-9Q2M"), shown);
    assert.equal(await activeId(page), "support-consent");
    assert.equal(await mock(page, "calls", "support_send"), 0, "nothing sent before agreeing");
    assert.equal(await page.getByTestId("send-to-support").count(), 0, "the Support screen does not offer itself");
    await shot(page, "support-from-error");
    await agreeAndRead(page);
    assert.equal(await mock(page, "supportSent"), shown);
    await page.close();
  });

  it("from a refused login too, with that error", async () => {
    const page = await app.open();
    await page.locator("#login-username").fill("ketoan01");
    await page.locator("#login-password").fill("sai");
    await page.getByTestId("login-submit").click();
    await page.locator('#login-error [data-testid=error][data-code="INVALID_CREDENTIALS"]').getByTestId("send-to-support").click();
    const report = page.getByTestId("support-consent-report");
    await report.waitFor();
    const shown = await report.inputValue();
    assert.ok(shown.endsWith("\nlỗi gần nhất: INVALID_CREDENTIALS RC-7F3K-9Q2M"), shown);
    assert.ok(!shown.includes("sai"), "no password in the report");
    await page.close();
  });

  it("from the portal's refusal, beside the form's buttons, with that error", async () => {
    const page = await app.open();
    await portalWrongEmail(page);
    assert.equal(await page.getByTestId("send-to-support").count(), 1);
    await page.locator("[data-testid=portal-form] .actions").getByTestId("send-to-support").click();
    const report = page.getByTestId("support-consent-report");
    await report.waitFor();
    const shown = await report.inputValue();
    assert.ok(shown.endsWith("\nlỗi gần nhất: PORTAL_EMAIL_MISMATCH RC-7F3K-9Q2M"), shown);
    await page.close();
  });

  it("a send that does not reach the server shows the error, and agreeing again sends the same report", async () => {
    const page = await app.open("scenario=support-offline");
    await page.getByTestId("nav-support").click();
    await page.getByTestId("support-send").click();
    const report = await page.getByTestId("support-consent-report").inputValue();
    await page.getByTestId("support-consent-agree").click();
    const error = page.locator('[data-testid=support-consent] [data-testid=error][data-code="SERVER_UNREACHABLE"]');
    await error.waitFor();
    assert.equal(await mock(page, "supportSent"), null);
    assert.equal(await page.getByTestId("send-to-support").count(), 0);
    assert.ok(await page.evaluate(() => !!document.activeElement?.querySelector("[data-code=SERVER_UNREACHABLE]")), "the error takes the cursor");
    await shot(page, "support-send-failed");
    await agreeAndRead(page);
    assert.equal(await mock(page, "supportSent"), report);
    await page.close();
  });

  it("at 1366×697 the copied report sits under its label, the width of the card", async () => {
    const page = await app.open("", LAPTOP);
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: app.base });
    await page.getByTestId("nav-support").click();
    await page.getByTestId("copy-report").click();
    await page.locator('#copy-status[data-outcome="copied"]').waitFor();
    const box = page.getByTestId("report-text");
    await box.scrollIntoViewIfNeeded();
    const [label, text, card] = await Promise.all([
      page.locator("label[for=report-text]").boundingBox(),
      box.boundingBox(),
      page.getByTestId("run-diagnostics").locator("xpath=ancestor::section").boundingBox(),
    ]);
    assert.ok(
      label.y + label.height <= text.y && text.y - (label.y + label.height) < 16,
      `the label is right above the box: ${JSON.stringify({ label, text })}`,
    );
    assert.equal(Math.round(label.x), Math.round(text.x), "the label and the box start at the same left edge");
    assert.ok(text.width >= card.width * 0.8, `the box is the width of the card: ${text.width} of ${card.width}`);
    await assertInView(box, "the report");
    await page.screenshot({ path: join(shots, "view-support-report-1366x697.png") });
    await page.close();
  });

  it("at 1366×697 the consent's buttons and then the code are in the window", async () => {
    const page = await app.open("fail=PIN_LOCKED", LAPTOP);
    await toPin(page);
    await page.locator("#pin").fill("123456");
    await page.getByTestId("pin-submit").click();
    await page.locator('[data-testid=step-error] [data-code="PIN_LOCKED"]').getByTestId("send-to-support").click();
    await page.getByTestId("support-consent-report").waitFor();
    const quoted = await page.getByTestId("support-consent-report").inputValue();
    assert.ok(quoted.endsWith("\nlỗi gần nhất: PIN_LOCKED"), quoted);
    await assertInView(page.getByTestId("support-consent-agree"), "“Đồng ý gửi”");
    await assertInView(page.getByTestId("support-consent-cancel"), "“Không gửi”");
    const code = await agreeAndRead(page);
    await assertInView(code, "the support code");
    await assertInView(page.getByTestId("support-code-note"), "its deadline");
    await page.screenshot({ path: join(shots, "view-support-code-1366x697.png") });
    await page.close();
  });
});
