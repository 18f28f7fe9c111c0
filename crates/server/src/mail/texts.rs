//! What the mails say: Vietnamese first, then English. A secret (the password, the
//! activation link) stands in a body only as a placeholder, filled in at delivery.

use crate::clock::vn_time;

/// Where the temporary password goes in a stored body; filled in only at delivery.
pub const PASSWORD_PLACEHOLDER: &str = "{{TEMP_PASSWORD}}";
/// Where a portal mail's activation link goes; a secret too (it activates the password).
pub const LINK_PLACEHOLDER: &str = "{{ACTIVATION_LINK}}";

/// Facts a mail reports.
#[derive(Debug)]
pub struct MailFacts<'a> {
    pub username: &'a str,
    pub at: i64,
    pub reference: &'a str,
    pub hotline: &'a str,
}

/// How a mail names the account. To the registered address (the owner's): its username
/// in full, in every mail alike (the password mail must give it; a business with
/// `ketoan01` and `ketoan02` tells them apart). To an address not registered (a new
/// address not yet confirmed, or never): masked, `ke****01`.
fn account_name(username: &str, to_registered: bool) -> String {
    if to_registered {
        username.to_string()
    } else {
        mask_username(username)
    }
}

/// `ke****01`: enough for the owner to recognise, not enough to learn it.
pub fn mask_username(username: &str) -> String {
    let chars: Vec<char> = username.chars().collect();
    if chars.len() <= 4 {
        return format!("{}***", chars.first().map(|c| c.to_string()).unwrap_or_default());
    }
    let head: String = chars[..2].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}****{tail}")
}

/// The address a mail goes to, as its text shows it (`ng***@c***.vn`).
pub fn mask_email(email: &str) -> String {
    bhxh_protocol::Email::parse(email).map(|e| e.masked()).unwrap_or_else(|_| "***".into())
}

/// What the reset mails say about the address they went to, in each language.
fn stale_address_lines(to: &str) -> (String, String) {
    (
        format!(
            "Thư này được gửi tới email đăng ký {to}. Không còn dùng email này? Trong phần mềm, chọn \"Đổi email đăng ký\" và xác thực bằng token, hoặc gọi tổng đài."
        ),
        format!("This mail went to the registered email {to}. No longer using this address? In the software, choose \"Change the registered email\" and prove it with the token, or call the hotline."),
    )
}

/// How a reset was asked for, as the reset mail tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetVia {
    /// Proven with the user's digital-signature token.
    Token,
    /// Started by support staff for a caller who proved who they are by phone.
    Staff,
}

/// The reset mail: subject and body with [`PASSWORD_PLACEHOLDER`] where the password goes.
pub fn reset_mail(f: &MailFacts<'_>, expires_at: i64, to: &str) -> (String, String) {
    reset_mail_via(f, expires_at, ResetVia::Token, to)
}

/// [`reset_mail`] for a reset asked for `via` the token or support staff, to the
/// address `to` (shown masked, with what to do when it is no longer used).
pub fn reset_mail_via(f: &MailFacts<'_>, expires_at: i64, via: ResetVia, to: &str) -> (String, String) {
    let (stale_vi, stale_en) = stale_address_lines(&mask_email(to));
    let (how_vi, how_en) = match via {
        ResetVia::Token => (
            "Theo yêu cầu lấy lại mật khẩu đã được xác thực bằng chữ ký số (token)",
            "After a password recovery proven with your digital-signature token,",
        ),
        ResetVia::Staff => (
            "Theo yêu cầu qua tổng đài hỗ trợ, sau khi nhân viên đã xác minh danh tính người gọi",
            "At your request by phone, after support staff verified who you are,",
        ),
    };
    // A mail with a password names the account in full, as the portal's does: its reader
    // types both to log in. Its subject (shown on lock screens) names neither.
    let user = f.username;
    let (at, exp) = (vn_time(f.at), vn_time(expires_at));
    let subject = "[BHXH] Mật khẩu tạm thời / Temporary password".to_string();
    let body = format!(
        "Kính gửi Quý khách,\n\n\
{how_vi}, hệ thống đã cấp mật khẩu tạm thời cho tài khoản {user}.\n\n\
  Tên đăng nhập:  {user}\n\
  Thời gian:      {at} (giờ Việt Nam)\n\
  Mã tham chiếu:  {reference}\n\
  Mật khẩu tạm thời: {PASSWORD_PLACEHOLDER}\n\n\
Việc cần làm tiếp theo:\n\
  1. Mở phần mềm BHXH và đăng nhập bằng tên đăng nhập và mật khẩu tạm thời trên.\n\
  2. Hệ thống sẽ yêu cầu đổi mật khẩu ngay; hãy đặt mật khẩu mới của riêng bạn.\n\
Mật khẩu tạm thời chỉ dùng được một lần và hết hạn lúc {exp}. Mật khẩu cũ vẫn dùng được cho đến khi bạn đăng nhập bằng mật khẩu tạm thời.\n\n\
Không phải bạn yêu cầu? Hãy gọi ngay tổng đài {hotline} và đọc mã tham chiếu {reference}. Không chia sẻ mật khẩu này với bất kỳ ai, kể cả nhân viên hỗ trợ.\n\n\
{stale_vi}\n\n\
-- \nEnglish\n\n\
{how_en} the system has issued a temporary password for account {user}.\n\n\
  Username:           {user}\n\
  Time:               {at} (Vietnam time)\n\
  Reference code:     {reference}\n\
  Temporary password: {PASSWORD_PLACEHOLDER}\n\n\
What to do next:\n\
  1. Open the BHXH software and log in with the username and temporary password above.\n\
  2. You will be asked to change it at once; choose a new password of your own.\n\
The temporary password works once and expires at {exp}. Your old password keeps working until you log in with the temporary one.\n\n\
Not you? Call the hotline {hotline} at once and read out the reference code {reference}. Never share this password with anyone, support staff included.\n\n\
{stale_en}\n",
        reference = f.reference,
        hotline = f.hotline,
    );
    (subject, body)
}

/// The portal mail: the temporary password and, at the end, the activation link
/// (both placeholders, filled in only at delivery).
pub fn portal_mail(f: &MailFacts<'_>, link_expires_at: i64, password_expires_at: i64) -> (String, String) {
    let user = f.username;
    let (at, link_exp, exp) = (vn_time(f.at), vn_time(link_expires_at), vn_time(password_expires_at));
    let subject = "[BHXH] Mật khẩu mới - cần kích hoạt / New password - activation needed".to_string();
    let body = format!(
        "Kính gửi Quý khách,\n\n\
Theo yêu cầu lấy lại mật khẩu trên cổng giao dịch điện tử BHXH (mã số thuế và email đã đăng ký), hệ thống đã cấp mật khẩu mới cho tài khoản {user}.\n\n\
  Tên đăng nhập:  {user}\n\
  Thời gian:      {at} (giờ Việt Nam)\n\
  Mã tham chiếu:  {reference}\n\
  Mật khẩu mới:   {PASSWORD_PLACEHOLDER}\n\n\
Mật khẩu mới CHỈ có hiệu lực sau khi bạn nhấn vào đường link kích hoạt ở cuối thư này, trước {link_exp}. \
Mật khẩu cũ vẫn dùng được cho đến khi bạn kích hoạt. Sau khi kích hoạt, đăng nhập bằng mật khẩu mới và đổi ngay mật khẩu của riêng bạn; \
mật khẩu mới hết hạn lúc {exp}.\n\n\
Không phải bạn yêu cầu? Đừng nhấn vào đường link; hãy gọi tổng đài {hotline} và đọc mã tham chiếu {reference}.\n\n\
-- \nEnglish\n\n\
A password request on the BHXH e-filing portal (tax code and registered email) has issued a new password for account {user}.\n\n\
  Username:       {user}\n\
  Time:           {at} (Vietnam time)\n\
  Reference code: {reference}\n\
  New password:   {PASSWORD_PLACEHOLDER}\n\n\
The new password works ONLY after you open the activation link at the end of this mail, before {link_exp}. \
Your old password keeps working until then. Then log in with the new password and change it at once; it expires at {exp}.\n\n\
Not you? Do not open the link; call the hotline {hotline} and read out the reference code {reference}.\n\n\
Đường link kích hoạt / Activation link:\n{LINK_PLACEHOLDER}\n",
        reference = f.reference,
        hotline = f.hotline,
    );
    (subject, body)
}

/// The notification without a password: of a change, an activation, or a reset whose
/// password the app showed (a mailed password is its own notice: one mail per reset).
pub fn notice_mail(f: &MailFacts<'_>, kind: NoticeKind) -> (String, String) {
    let user = account_name(f.username, true);
    let at = vn_time(f.at);
    let (vi_what, en_what, vi_subject, en_subject) = match kind {
        NoticeKind::Reset => (
            "mật khẩu đã được cấp lại bằng chữ ký số (token)",
            "the password was reset with the digital-signature token",
            "Thông báo cấp lại mật khẩu",
            "Password reset notice",
        ),
        NoticeKind::Changed => {
            ("mật khẩu đã được thay đổi", "the password was changed", "Thông báo đổi mật khẩu", "Password changed")
        }
        NoticeKind::Activated => (
            "mật khẩu mới đã được kích hoạt qua đường link trong email; mật khẩu cũ không còn dùng được",
            "the new password was activated with the emailed link; the old password no longer works",
            "Thông báo kích hoạt mật khẩu mới",
            "New password activated",
        ),
    };
    let subject = format!("[BHXH] {vi_subject} / {en_subject}");
    let body = format!(
        "Kính gửi Quý khách,\n\n\
Tài khoản {user}: {vi_what} lúc {at} (giờ Việt Nam). Mã tham chiếu: {reference}.\n\
Thư này không chứa mật khẩu. Nếu không phải bạn thực hiện, hãy gọi ngay tổng đài {hotline} và đọc mã tham chiếu trên.\n\n\
-- \nEnglish\n\n\
Account {user}: {en_what} at {at} (Vietnam time). Reference code: {reference}.\n\
This mail holds no password. If this was not you, call the hotline {hotline} at once and read out the reference code.\n",
        reference = f.reference,
        hotline = f.hotline,
    );
    (subject, body)
}

/// How an email change was asked for, as its mails tell it.
fn change_via_lines(via: ResetVia) -> (&'static str, &'static str) {
    match via {
        ResetVia::Token => ("bằng chữ ký số (token) của doanh nghiệp", "with the business's digital-signature token"),
        ResetVia::Staff => (
            "qua tổng đài hỗ trợ, sau khi nhân viên đã kiểm tra giấy tờ và người giám sát đã phê duyệt",
            "through the support desk, after staff checked the documents and a supervisor approved",
        ),
    }
}

/// To the new address: the link that confirms it (the [`LINK_PLACEHOLDER`]).
pub fn email_confirm_mail(
    f: &MailFacts<'_>,
    old: &str,
    confirm_expires_at: i64,
    wait_secs: i64,
    via: ResetVia,
) -> (String, String) {
    let user = account_name(f.username, false);
    let old = mask_email(old);
    let (how_vi, how_en) = change_via_lines(via);
    let (at, exp, wait) = (vn_time(f.at), vn_time(confirm_expires_at), wait_text(wait_secs));
    let subject = "[BHXH] Xác nhận email đăng ký mới / Confirm the new registered email".to_string();
    let body = format!(
        "Kính gửi Quý khách,\n\n\
Có yêu cầu đổi email đăng ký của tài khoản {user} sang địa chỉ này, {how_vi}, lúc {at} (giờ Việt Nam). Mã tham chiếu: {reference}.\n\n\
Để xác nhận địa chỉ này, mở đường link ở cuối thư trước {exp}. Sau khi xác nhận, email cũ ({old}) sẽ được báo và có thể hủy yêu cầu; \
việc đổi email có hiệu lực sau {wait_vi}. Cho đến lúc đó, mọi thư lấy lại mật khẩu vẫn gửi tới email cũ.\n\n\
Không phải bạn yêu cầu? Đừng mở đường link; email đăng ký sẽ giữ nguyên. Gọi tổng đài {hotline} và đọc mã tham chiếu nếu cần.\n\n\
-- \nEnglish\n\n\
The registered email of account {user} was asked to change to this address, {how_en}, at {at} (Vietnam time). Reference code: {reference}.\n\n\
To confirm this address, open the link at the end of this mail before {exp}. Then the old address ({old}) is told and can cancel the request; \
the change takes effect {wait_en} later. Until then every password mail still goes to the old address.\n\n\
Not you? Do not open the link; the registered email stays as it is. Call the hotline {hotline} and read out the reference code if needed.\n\n\
Xác nhận email mới / Confirm the new email:\n{LINK_PLACEHOLDER}\n",
        reference = f.reference,
        hotline = f.hotline,
        wait_vi = wait.0,
        wait_en = wait.1,
    );
    (subject, body)
}

/// To the old address once the new one is confirmed: what changes, when, how to stop it
/// (the cancel link, the [`LINK_PLACEHOLDER`]) and the reference.
pub fn email_change_notice_mail(f: &MailFacts<'_>, new: &str, effective_at: i64, via: ResetVia) -> (String, String) {
    let user = account_name(f.username, true);
    let new = mask_email(new);
    let (how_vi, how_en) = change_via_lines(via);
    let (at, eff) = (vn_time(f.at), vn_time(effective_at));
    let subject = "[BHXH] Thông báo đổi email đăng ký / The registered email is about to change".to_string();
    let body = format!(
        "Kính gửi Quý khách,\n\n\
Email đăng ký của tài khoản {user} sẽ được đổi từ địa chỉ này sang {new}, theo yêu cầu {how_vi}. Địa chỉ mới đã được xác nhận lúc {at} (giờ Việt Nam).\n\n\
  Có hiệu lực lúc: {eff} (giờ Việt Nam)\n\
  Mã tham chiếu:   {reference}\n\n\
Từ lúc đó, mật khẩu tạm thời và thông báo của tài khoản sẽ gửi tới {new}, không gửi tới địa chỉ này nữa.\n\
Không phải doanh nghiệp của bạn yêu cầu? Mở đường link ở cuối thư trước {eff} để hủy, và gọi ngay tổng đài {hotline}, đọc mã tham chiếu {reference}.\n\n\
-- \nEnglish\n\n\
The registered email of account {user} will change from this address to {new}, as asked {how_en}. The new address was confirmed at {at} (Vietnam time).\n\n\
  Takes effect at: {eff} (Vietnam time)\n\
  Reference code:  {reference}\n\n\
From then on, temporary passwords and notices of the account go to {new}, no longer to this address.\n\
Did your business not ask for this? Open the link at the end of this mail before {eff} to cancel it, and call the hotline {hotline} at once with the reference code {reference}.\n\n\
Hủy việc đổi email / Cancel the change:\n{LINK_PLACEHOLDER}\n",
        reference = f.reference,
        hotline = f.hotline,
    );
    (subject, body)
}

/// What became of an email change, told without a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeOutcome {
    /// In effect: told to the new address.
    Applied,
    /// Cancelled: told to the new address (`by` the old address or the desk).
    Cancelled,
}

/// The notice of an applied or cancelled change.
pub fn email_change_outcome_mail(f: &MailFacts<'_>, new: &str, outcome: ChangeOutcome) -> (String, String) {
    // Applied: the new address is now the registered one; cancelled: it never was.
    let user = account_name(f.username, outcome == ChangeOutcome::Applied);
    let new = mask_email(new);
    let at = vn_time(f.at);
    let (subject, vi, en) = match outcome {
        ChangeOutcome::Applied => (
            "[BHXH] Email đăng ký đã được đổi / The registered email has changed",
            format!("Từ {at} (giờ Việt Nam), email đăng ký của tài khoản {user} là {new}. Mật khẩu tạm thời và thông báo của tài khoản sẽ gửi tới địa chỉ này."),
            format!("From {at} (Vietnam time), the registered email of account {user} is {new}. Temporary passwords and notices of the account go to this address."),
        ),
        ChangeOutcome::Cancelled => (
            "[BHXH] Yêu cầu đổi email đã bị hủy / The email change was cancelled",
            format!("Yêu cầu đổi email đăng ký của tài khoản {user} sang {new} đã bị hủy lúc {at} (giờ Việt Nam). Email đăng ký giữ nguyên."),
            format!("The request to change the registered email of account {user} to {new} was cancelled at {at} (Vietnam time). The registered email stays as it was."),
        ),
    };
    let body = format!(
        "Kính gửi Quý khách,\n\n{vi} Mã tham chiếu: {reference}.\n\
Nếu không phải bạn thực hiện, hãy gọi ngay tổng đài {hotline} và đọc mã tham chiếu trên.\n\n\
-- \nEnglish\n\n{en} Reference code: {reference}.\n\
If this was not you, call the hotline {hotline} at once and read out the reference code.\n",
        reference = f.reference,
        hotline = f.hotline,
    );
    (subject.to_string(), body)
}

/// A waiting period in words: `24 giờ` / `24 hours`, or minutes under an hour.
pub fn wait_text(secs: i64) -> (String, String) {
    if secs >= 3600 && secs % 3600 == 0 {
        let h = secs / 3600;
        (format!("{h} giờ"), format!("{h} hour{}", if h == 1 { "" } else { "s" }))
    } else {
        let m = (secs + 59) / 60;
        (format!("{m} phút"), format!("{m} minute{}", if m == 1 { "" } else { "s" }))
    }
}

/// Which notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    Reset,
    Changed,
    Activated,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn mails_are_vietnamese_first_and_hold_no_password_unless_placeholdered() {
        let f = MailFacts { username: "ketoan01", at: 1_764_000_000, reference: "RC-AAAA-BBBB", hotline: "1800 1260" };
        let (subject, body) = reset_mail(&f, 1_764_086_400, "ketoan@congty.vn");
        assert!(subject.starts_with("[BHXH] Mật khẩu tạm thời"));
        assert!(body.find("Mật khẩu tạm thời").unwrap() < body.find("Temporary password").unwrap());
        assert_eq!(body.matches(PASSWORD_PLACEHOLDER).count(), 2);
        assert!(
            body.contains("RC-AAAA-BBBB") && body.contains("1800 1260") && body.contains("Tên đăng nhập:  ketoan01")
        );
        assert!(!subject.contains("ketoan01"), "a subject shows on lock screens: {subject}");
        assert!(body.contains("ke***@c***.vn") && body.contains("Không còn dùng email này?"));
        assert!(!body.contains("ketoan@congty.vn"));
        let (_, confirm) = email_confirm_mail(&f, "ketoan@congty.vn", 1_764_001_800, 86_400, ResetVia::Token);
        assert_eq!(confirm.matches(LINK_PLACEHOLDER).count(), 1);
        assert!(confirm.contains("24 giờ") && confirm.contains("24 hours") && confirm.contains("ke***@c***.vn"));
        let (_, old) = email_change_notice_mail(&f, "moi@congty.vn", 1_764_086_400, ResetVia::Staff);
        assert!(old.find("Có hiệu lực lúc").unwrap() < old.find("Takes effect at").unwrap());
        assert!(
            old.contains("mo***@c***.vn")
                && old.contains("RC-AAAA-BBBB")
                && old.contains("1800 1260")
                && old.contains(LINK_PLACEHOLDER)
        );
        let (_, notice) = notice_mail(&f, NoticeKind::Changed);
        assert!(!notice.contains(PASSWORD_PLACEHOLDER));
    }

    #[test]
    fn every_mail_to_the_registered_address_names_the_account_alike() {
        let f = MailFacts { username: "ketoan01", at: 1_764_000_000, reference: "RC-AAAA-BBBB", hotline: "1800 1260" };
        let named = |body: &str| {
            let body = body.to_lowercase();
            body.contains("tài khoản ketoan01") && body.contains("account ketoan01")
        };
        let masked = |body: &str| body.to_lowercase().contains("tài khoản ke****01") && !body.contains("ketoan01");
        for kind in [NoticeKind::Reset, NoticeKind::Changed, NoticeKind::Activated] {
            let (_, notice) = notice_mail(&f, kind);
            assert!(named(&notice), "{kind:?}: {notice}");
        }
        assert!(named(&reset_mail(&f, 1_764_086_400, "ketoan@congty.vn").1));
        assert!(named(&email_change_notice_mail(&f, "moi@congty.vn", 1_764_086_400, ResetVia::Token).1));
        assert!(named(&email_change_outcome_mail(&f, "moi@congty.vn", ChangeOutcome::Applied).1));
        // To an address that is not (or never became) the registered one: masked.
        assert!(masked(&email_confirm_mail(&f, "moi@congty.vn", 1_764_001_800, 86_400, ResetVia::Token).1));
        assert!(masked(&email_change_outcome_mail(&f, "moi@congty.vn", ChangeOutcome::Cancelled).1));
    }
}
