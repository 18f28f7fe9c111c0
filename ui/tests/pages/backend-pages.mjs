// The backend's own HTML pages in Debian chromium: the portal activation page and the
// support desk's staff console, against a real bhxh-server started by the Rust test
// crates/server/tests/pages.rs, which passes a spec file and checks the database after.
// Usage: node tests/pages/backend-pages.mjs SPEC.json
// SPEC: { link, staffBase, staffUser, staffPassword, supervisorUser, supervisorPassword,
//         newEmail, supportCode, username, mst, out }
// Writes every staff page's HTML into `out` (the Rust test searches it for secrets).
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { launch, shot } from "../e2e/harness.mjs";

const spec = JSON.parse(await readFile(process.argv[2], "utf8"));
const browser = await launch();
const seen = [];
const step = (s) => console.log(`ok - ${s}`);
try {
  const context = await browser.newContext({ locale: "vi-VN" });
  const page = await context.newPage();
  const keep = async () => seen.push(await page.content());

  // ---- the activation page ---------------------------------------------------------
  // Opened in a browser set to English: the link carries the mail's language, so the
  // Vietnamese mail opens a Vietnamese page (its switch offers English).
  const english = await browser.newContext({ locale: "en-US" });
  const linkPage = await english.newPage();
  await linkPage.goto(spec.link);
  await linkPage.getByRole("heading", { name: "Kích hoạt mật khẩu mới" }).waitFor();
  assert.equal(await linkPage.getAttribute("html", "lang"), "vi");
  await linkPage.close();
  await english.close();
  await page.goto(spec.link);
  await page.getByRole("heading", { name: "Kích hoạt mật khẩu mới" }).waitFor();
  assert.equal(await page.getAttribute("html", "lang"), "vi");
  await shot(page, "activation-vi");
  await page.getByRole("link", { name: "English" }).click();
  const activate = page.getByRole("button", { name: "Activate the new password" });
  await activate.waitFor();
  await shot(page, "activation-en");
  step("activation page in Vietnamese and English");
  await activate.focus();
  await page.keyboard.press("Enter");
  await page.getByTestId("activated").waitFor();
  assert.match(await page.getByTestId("reference").innerText(), /^RC-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  await shot(page, "activation-done-en");
  step("the button activates (keyboard)");
  await page.goto(spec.link);
  const used = page.locator('[data-code="ACTIVATION_USED"]');
  await used.getByText("Liên kết kích hoạt này đã được dùng").waitFor();
  assert.ok(!(await used.innerText()).includes("ACTIVATION_USED"), "words and the reference, not the code");
  assert.match(await used.getByTestId("reference").innerText(), /^RC-/);
  await shot(page, "activation-used-vi");
  step("a used link shows ACTIVATION_USED with its reference");

  // ---- the staff console -------------------------------------------------------------
  await page.goto(`${spec.staffBase}/account/${spec.username}`);
  await page.waitForURL(`${spec.staffBase}/login`);
  await page.getByRole("heading", { name: "Đăng nhập nhân viên hỗ trợ" }).waitFor();
  await keep();
  step("without a login the console sends staff to the login page");
  await page.getByLabel("Tên đăng nhập").fill(spec.staffUser);
  await page.getByLabel("Mật khẩu").fill("Sai-mat-khau-1!");
  await page.getByLabel("Mật khẩu").press("Enter");
  await page.getByText("STAFF_LOGIN_FAILED").waitFor();
  await shot(page, "staff-login-failed");
  await page.getByLabel("Tên đăng nhập").fill(spec.staffUser);
  await page.getByLabel("Mật khẩu").fill(spec.staffPassword);
  await page.getByLabel("Mật khẩu").press("Enter");
  await page.getByRole("heading", { name: "Tìm tài khoản" }).waitFor();
  // The first page: the search first, the service's state under it.
  await page.getByTestId("service-state").waitFor();
  await shot(page, "staff-home-service");
  step("staff log in (a wrong password is refused first)");

  await page.getByLabel("Mã hỗ trợ, mã tham chiếu, tên đăng nhập, mã số thuế, email hoặc tên doanh nghiệp").fill(spec.mst);
  await page.getByLabel("Mã hỗ trợ, mã tham chiếu, tên đăng nhập, mã số thuế, email hoặc tên doanh nghiệp").press("Enter");
  // The MST has one account: the search opens its page at once.
  await page.getByTestId("account").waitFor();
  await page.getByTestId("timeline").getByText("PORTAL_EMAIL_MISMATCH").first().waitFor();
  // On a 1366-px laptop: the timeline reads one line per event.
  await page.setViewportSize({ width: 1366, height: 697 });
  const rows = await page
    .getByTestId("timeline")
    .locator("tbody tr")
    .evaluateAll((trs) => trs.map((tr) => tr.getBoundingClientRect().height));
  assert.ok(rows.length >= 2 && rows.every((h) => h <= 40), `timeline rows of one line each: ${rows.map(Math.round)}`);
  await keep();
  await shot(page, "staff-account");
  step("find by MST (one account: its page opens at once); the timeline shows the refusals");

  await page.getByTestId("unlock").click();
  await page.getByTestId("notice").getByText("Đã mở khóa tài khoản").waitFor();
  await keep();
  step("unlock");

  // The reset form is folded until the caller is verified.
  await page.getByTestId("reset-fold").locator("summary").click();
  await page.getByTestId("verified").check();
  await page.getByLabel("Ghi chú xác minh").fill("gọi lúc 9:40, đối chiếu CCCD và GPKD");
  await page.getByTestId("reset").click();
  await page.getByTestId("notice").getByText("Đã cấp lại mật khẩu").waitFor();
  const reference = (await page.getByTestId("notice").locator("code").innerText()).trim();
  assert.match(reference, /^RC-/);
  await page.getByTestId("mails").locator('tr[data-kind="reset"]').first().waitFor();
  await keep();
  await shot(page, "staff-reset-done");
  step("start a reset for a caller verified by phone");

  await page.getByRole("link", { name: "Tìm kiếm" }).click();
  await page.getByLabel("Mã hỗ trợ, mã tham chiếu, tên đăng nhập, mã số thuế, email hoặc tên doanh nghiệp").fill(reference);
  await page.getByLabel("Mã hỗ trợ, mã tham chiếu, tên đăng nhập, mã số thuế, email hoặc tên doanh nghiệp").press("Enter");
  await page.getByTestId("reference-result").locator('tr[data-event="staff.reset"]').waitFor();
  await keep();
  await shot(page, "staff-reference");
  step("find by reference code");

  // "Gửi lại" only where it can work: not on the delivered password mail (its content
  // is wiped), which says why instead; a notice keeps it.
  await page.goto(`${spec.staffBase}/account/${spec.username}`);
  const resetRow = page.getByTestId("mails").locator('tr[data-kind="reset"]').first();
  for (let i = 0; i < 100 && (await resetRow.locator('[data-status="sent"]').count()) === 0; i++) {
    await page.waitForTimeout(100);
    await page.reload();
  }
  assert.equal(await resetRow.getByRole("button", { name: "Gửi lại" }).count(), 0, "no resend that cannot work");
  await resetRow.getByText("Không gửi lại được: thư có mật khẩu hoặc đường link, đã xóa sau khi gửi.").waitFor();
  const noticeRow = page.getByTestId("mails").locator('tr[data-kind^="notice"]').first();
  await keep();
  await shot(page, "staff-resend-wiped");
  await noticeRow.getByRole("button", { name: "Gửi lại" }).click();
  await page.getByText("Đã đưa thư vào hàng đợi gửi lại.").waitFor();
  step("a delivered password mail offers no resend, a notice is resent");

  // ---- the registered email, changed at the desk after the documents are checked ----
  await page.goto(`${spec.staffBase}/account/${spec.username}`);
  await page.getByTestId("propose-fold").locator("summary").click();
  const form = page.getByTestId("propose-form");
  await form.getByLabel("Giấy tờ của người đăng ký").selectOption("CCCD");
  await form.getByLabel("4 số cuối (không ghi cả số)").fill("2345");
  await form.getByLabel("Người gọi được ủy quyền (có giấy ủy quyền bản gốc)").check();
  await form.getByLabel("Họ tên người được ủy quyền").fill("Phạm Thị Dung");
  await form.getByLabel("Số điện thoại người gọi").fill("0912 345 678");
  await form.getByLabel("Email mới").fill(spec.newEmail);
  await shot(page, "staff-email-propose");
  await form.getByTestId("propose").click();
  await page.getByTestId("notice").getByText("Đã ghi nhận giấy tờ và đề xuất email mới").waitFor();
  const proposed = page.getByTestId("email-changes").locator('tr[data-state="proposed"]');
  await proposed.waitFor();
  assert.equal(await proposed.locator('[data-testid^="approve-"]').count(), 0, "an agent is offered no approval");
  await keep();
  step("an agent records the documents and proposes the new email");

  await page.getByTestId("logout").click();
  await page.getByLabel("Tên đăng nhập").fill(spec.supervisorUser);
  await page.getByLabel("Mật khẩu").fill(spec.supervisorPassword);
  await page.getByLabel("Mật khẩu").press("Enter");
  // The supervisor's home says how many wait for them, and leads there.
  const waiting = page.getByTestId("approvals-waiting");
  assert.ok((await waiting.innerText()).startsWith("1 yêu cầu đổi email đang chờ bạn phê duyệt"), await waiting.innerText());
  await waiting.getByRole("link").click();
  await page.getByRole("heading", { name: "Yêu cầu đổi email đang mở" }).waitFor();
  const row = page.getByTestId("email-changes").locator('tr[data-state="proposed"]');
  await row.getByText(spec.newEmail).waitFor();
  await row.getByText("****2345").waitFor();
  await keep();
  await shot(page, "staff-email-changes");
  await row.locator('[data-testid^="approve-"]').click();
  await page.getByTestId("notice").getByText("Đã phê duyệt").waitFor();
  const confirming = page.getByTestId("email-changes").locator('tr[data-state="confirming"]');
  await confirming.getByText(/còn \d+ phút/).waitFor();
  await keep();
  await shot(page, "staff-email-approved");
  step("another staff member, a supervisor, approves; the time left is shown");

  await confirming.getByPlaceholder("Lý do hủy").fill("người gọi báo nhầm địa chỉ");
  await confirming.locator('[data-testid^="cancel-"]').click();
  await page.getByTestId("notice").getByText("Đã hủy yêu cầu đổi email").waitFor();
  await page.getByTestId("email-changes").locator('tr[data-state="cancelled"]').waitFor();
  await keep();
  step("staff cancel an open change");

  // ---- a support code the caller reads out ------------------------------------------
  await page.getByRole("link", { name: "Tìm kiếm" }).click();
  const spoken = spec.supportCode.replace("HT-", "ht ").replaceAll("-", " ");
  await page.getByLabel("Mã hỗ trợ, mã tham chiếu, tên đăng nhập, mã số thuế, email hoặc tên doanh nghiệp").fill(spoken);
  await page.getByLabel("Mã hỗ trợ, mã tham chiếu, tên đăng nhập, mã số thuế, email hoặc tên doanh nghiệp").press("Enter");
  await page.getByTestId("support-code").getByText(spec.supportCode).waitFor();
  await page.getByTestId("support-report").getByText("PIN: Locked").waitFor();
  await page.getByTestId("next-steps").getByText("điểm giao dịch", { exact: false }).waitFor();
  await page.getByTestId("timeline").getByText("MALFORMED_REQUEST").first().waitFor();
  // The account to open, by the MST the report names.
  assert.equal(await page.getByTestId("support-account").first().getAttribute("href"), `/account/${spec.username}`);
  assert.equal(await page.locator('meta[http-equiv="refresh"]').getAttribute("content"), "10");
  await keep();
  await shot(page, "staff-support-code");
  step("a support code read out with spaces opens the caller's report, their attempts and the next step");

  // ---- a business the caller names, typed without diacritics -------------------------
  await page.getByRole("link", { name: "Tìm kiếm" }).click();
  await page.getByLabel("Mã hỗ trợ, mã tham chiếu, tên đăng nhập, mã số thuế, email hoặc tên doanh nghiệp").fill("cong ty thu nghiem");
  await page.getByLabel("Mã hỗ trợ, mã tham chiếu, tên đăng nhập, mã số thuế, email hoặc tên doanh nghiệp").press("Enter");
  await page.getByTestId("account").getByText(spec.username).waitFor();
  assert.ok((await page.getByTestId("business").textContent()).startsWith("CÔNG TY TNHH THỬ NGHIỆM BHXH"));
  await shot(page, "staff-business-search");
  step("a business named without diacritics opens its account");

  await page.getByRole("link", { name: "English" }).click();
  await page.goto(`${spec.staffBase}/account/${spec.username}`);
  await page.getByRole("heading", { name: /Account/ }).waitFor();
  await page.getByTestId("reset-fold").getByText("Start a reset (once the caller is verified)…").waitFor();
  await keep();
  await shot(page, "staff-account-en");
  step("the console in English");

  await page.getByTestId("logout").click();
  await page.getByRole("heading", { name: "Support staff login" }).waitFor();
  await page.goto(`${spec.staffBase}/`);
  await page.waitForURL(`${spec.staffBase}/login`);
  step("logout ends the session");
} finally {
  await writeFile(spec.out, seen.join("\n<!-- page -->\n"));
  await browser.close();
}
