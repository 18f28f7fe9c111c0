//! How the console shows an audit line's actor and detail in the desk's language.
//!
//! A detail is a value ([`Detail`]); each language has its one function that writes it
//! ([`vi`], [`en`]), every time in Vietnam time like the console's time column. What
//! the words surround (names, MSTs, addresses, URLs, references, what staff typed) is
//! data and keeps its letters. A line written before details were values keeps its
//! sentence, its times shown in Vietnam time.

use bhxh_protocol::{Lang, Purpose};

use crate::clock::vn_time;
use crate::facts::RevocationFact;
use crate::html::tr;
use crate::store::{Actor, ChangeVia, Counted, Detail, MailKind, Proven, ReportProblem};

/// The detail as the console shows it, in `lang`.
pub fn detail(lang: Lang, detail: &Detail) -> String {
    match lang {
        Lang::Vi => vi(detail),
        Lang::En => en(detail),
    }
}

fn proven(lang: Lang, p: &Proven) -> String {
    let (subject, path, revocation) = match lang {
        Lang::Vi => ("chủ thể CN=", "chuỗi chứng thư", "thu hồi"),
        Lang::En => ("subject CN=", "path", "revocation"),
    };
    format!(
        "{subject}{}; {path}: {}; {revocation}: {}",
        p.subject,
        p.path.render(lang),
        RevocationFact::render_all(&p.revocation, lang)
    )
}

fn list(items: &[String], none: &str) -> String {
    if items.is_empty() {
        none.to_string()
    } else {
        items.join(", ")
    }
}

/// A detail in Vietnamese.
pub(crate) fn vi(d: &Detail) -> String {
    const L: Lang = Lang::Vi;
    let via = |v: &ChangeVia| match v {
        ChangeVia::Token => "bằng token",
        ChangeVia::Desk => "tại quầy",
    };
    match d {
        Detail::Legacy(text) => vn_times(text),
        Detail::CertificateGood { proven: p } => proven(L, p),
        Detail::Proved { purpose, proven: p, new_address, link_until, superseded } => {
            let mut out = format!("mục đích: {}; {}", purpose_name(L, *purpose), proven(L, p));
            if let (Some(a), Some(t)) = (new_address, link_until) {
                out.push_str(&format!("; email mới {a}, đường link xác nhận hiệu lực đến {}", vn_time(*t)));
            }
            if *superseded > 0 {
                out.push_str(&format!("; {superseded} yêu cầu đổi email đang mở bị thay thế"));
            }
            out
        }
        Detail::CertRefused { problem } => problem.render(L),
        Detail::MstMismatch { cert_msts, account_mst } => {
            format!("MST của chứng thư {}; MST của tài khoản {account_mst}", list(cert_msts, "không có"))
        }
        Detail::PinnedToAnother => "tài khoản đã gắn với một chứng thư khác".into(),
        Detail::NoSuchAccount { cert_msts } => {
            format!("không có tài khoản này; MST của chứng thư {}", list(cert_msts, "không có"))
        }
        Detail::NotAUsername { bytes } => format!("không phải tên đăng nhập ({bytes} byte)"),
        Detail::TooMany { count, counted } => match counted {
            Counted::FailedProofsFromClient => {
                format!("{count} lần xác thực sai từ máy khách này trong khoảng thời gian")
            }
            Counted::WrongPasswordsFromClient => {
                format!("{count} lần sai mật khẩu từ máy khách này trong khoảng thời gian")
            }
            Counted::PasswordMailsToday => format!("{count} thư mật khẩu hôm nay"),
        },
        Detail::FurtherRefusalsUnwritten { key, until } => {
            format!("{key}: các lần từ chối tiếp theo trong khoảng này (đến {}) không được ghi lại", vn_time(*until))
        }
        Detail::TempPasswordUsed { reference } => {
            format!("mật khẩu tạm thời của {} đã được dùng", reference.as_deref().unwrap_or("?"))
        }
        Detail::AccountDisabled => "tài khoản đã bị vô hiệu hóa".into(),
        Detail::NoCurrentPassword => "thiếu mật khẩu hiện tại".into(),
        Detail::SessionReplaced => "một lần cấp lại mới hơn đã thay mật khẩu tạm thời của phiên này".into(),
        Detail::Portal { mst, disabled } if disabled.is_empty() => format!("MST {mst}"),
        Detail::Portal { mst, disabled } => format!("MST {mst}; tài khoản đã bị vô hiệu hóa: {}", disabled.join(", ")),
        Detail::PortalLinkSent { mst, until } => {
            format!("MST {mst}; đã gửi đường link kích hoạt, hiệu lực đến {}", vn_time(*until))
        }
        Detail::PortalActivated { reference } => format!("mật khẩu qua cổng của {reference} đã được kích hoạt"),
        Detail::EmailChangesToday { count, mst: None, via: v } => {
            format!("{count} lần đổi email của tài khoản hôm nay ({})", via(v))
        }
        Detail::EmailChangesToday { count, mst: Some(mst), via: v } => {
            format!("{count} lần đổi email của MST {mst} hôm nay ({})", via(v))
        }
        Detail::TokenRequestsPaused { cancelled_at, until } => format!(
            "email đăng ký đã hủy một yêu cầu đổi email lúc {}; yêu cầu bằng token tạm dừng đến {}",
            vn_time(*cancelled_at),
            vn_time(*until)
        ),
        Detail::EmailApplied { old, new, via: v } => {
            format!(
                "email đăng ký {old} → {new} (yêu cầu {})",
                match v {
                    ChangeVia::Token => "bằng token",
                    ChangeVia::Desk => "qua tổng đài",
                }
            )
        }
        Detail::EmailConfirmed { new, request, effective } => {
            format!("email mới {new} đã xác nhận (yêu cầu {request}); có hiệu lực lúc {}", vn_time(*effective))
        }
        Detail::EmailCancelledByOldAddress { request } => format!("đã hủy từ email cũ (yêu cầu {request})"),
        Detail::EmailProposed { new, documents } => format!("email mới {new} được đề xuất; giấy tờ: {documents}"),
        Detail::EmailProposalRefused { documents_missing: true } => "chưa ghi đủ giấy tờ".into(),
        Detail::EmailProposalRefused { documents_missing: false } => "email mới bị từ chối".into(),
        Detail::EmailApproved { new, proposed_by, request, superseded } => {
            let mut out = format!(
                "email mới {new} đã được phê duyệt (đề xuất bởi {} trong {request}); đã gửi đường link xác nhận",
                proposed_by.as_deref().unwrap_or("?")
            );
            if *superseded > 0 {
                out.push_str(&format!("; {superseded} yêu cầu đổi email đang mở bị thay thế"));
            }
            out
        }
        Detail::EmailApprovalRefused { request } => format!("phê duyệt {request} bị từ chối"),
        Detail::EmailCancelled { request, new, reason } => {
            format!("yêu cầu {request} sang {new} đã hủy, lý do: {reason}")
        }
        Detail::EmailCancelRefused { request } => format!("hủy {request} bị từ chối"),
        Detail::LimitsCleared { count, staff: None } => format!("đã xóa {count} giới hạn"),
        Detail::LimitsCleared { count, staff: Some(who) } => format!("nhân viên {who}: đã xóa {count} giới hạn"),
        Detail::VerifiedByPhone { note } => format!("đã xác minh qua điện thoại: {note}"),
        Detail::MailResent { id, mail_kind: kind, of: None } => format!("thư {id} ({})", mail_kind(L, *kind)),
        Detail::MailResent { id, mail_kind: kind, of: Some(r) } => {
            format!("thư {id} ({}) của {r}", mail_kind(L, *kind))
        }
        Detail::Search { query } => format!("từ khóa: {query}"),
        Detail::AccountPage => "trang tài khoản".into(),
        Detail::SupportCodeUnknown => "mã hỗ trợ không đúng hoặc đã hết hạn".into(),
        Detail::SupportReportOpened { reference } => format!("báo cáo hỗ trợ {reference} đã mở"),
        Detail::SupportCodeMade { bytes, until } => {
            format!("đã tạo mã hỗ trợ ({bytes} byte báo cáo), hiệu lực đến {}", vn_time(*until))
        }
        Detail::SupportReportRefused { problem } => match problem {
            ReportProblem::NoInstance => "thiếu mã cài đặt của ứng dụng".into(),
            ReportProblem::EmptyOrNotText => "báo cáo trống hoặc không phải văn bản".into(),
            ReportProblem::TooLarge { bytes } => format!("{bytes} byte báo cáo"),
            ReportProblem::TooManyChecks { count } => format!("{count} mục kiểm tra trong báo cáo"),
        },
        Detail::Enrolled { mst, pinned: None } => format!("đã tạo, MST {mst}"),
        Detail::Enrolled { mst, pinned: Some(p) } => format!("đã tạo, MST {mst}, vân tay ghim: {p}"),
        Detail::Disabled { reason } => format!("đã vô hiệu hóa, lý do: {reason}"),
        Detail::Enabled => "đã bật lại".into(),
        Detail::OutboxKeyAdopted { key } => format!("khóa hộp thư {key} đã được nhận"),
        Detail::StaffAdded { name, role } => format!("nhân viên {name}, vai trò {role}"),
        Detail::StaffRole { username, role } => format!("nhân viên {username} nay là {role}"),
        Detail::StaffPassword { username } => format!("mật khẩu bảng điều khiển của nhân viên {username} đã được đặt"),
        Detail::StaffDisabled { username } => format!("nhân viên {username} đã bị khóa"),
    }
}

/// A detail in English.
pub(crate) fn en(d: &Detail) -> String {
    const L: Lang = Lang::En;
    match d {
        Detail::Legacy(text) => vn_times(text),
        Detail::CertificateGood { proven: p } => proven(L, p),
        Detail::Proved { purpose, proven: p, new_address, link_until, superseded } => {
            let mut out = format!("purpose: {}; {}", purpose_name(L, *purpose), proven(L, p));
            if let (Some(a), Some(t)) = (new_address, link_until) {
                out.push_str(&format!("; new address {a}, confirmation link valid until {}", vn_time(*t)));
            }
            if *superseded > 0 {
                out.push_str(&format!("; {superseded} open change(s) superseded"));
            }
            out
        }
        Detail::CertRefused { problem } => problem.render(L),
        Detail::MstMismatch { cert_msts, account_mst } => {
            format!("certificate MST {}; account MST {account_mst}", list(cert_msts, "none"))
        }
        Detail::PinnedToAnother => "the account is pinned to another certificate".into(),
        Detail::NoSuchAccount { cert_msts } => format!("no such account; certificate MST {}", list(cert_msts, "none")),
        Detail::NotAUsername { bytes } => format!("not a username ({bytes} bytes)"),
        Detail::TooMany { count, counted } => match counted {
            Counted::FailedProofsFromClient => format!("{count} failed proofs from this client in the window"),
            Counted::WrongPasswordsFromClient => format!("{count} wrong passwords from this client in the window"),
            Counted::PasswordMailsToday => format!("{count} password mails today"),
        },
        Detail::FurtherRefusalsUnwritten { key, until } => {
            format!("{key}: further refusals in this window (until {}) are not written", vn_time(*until))
        }
        Detail::TempPasswordUsed { reference } => {
            format!("temporary password of {} used", reference.as_deref().unwrap_or("?"))
        }
        Detail::AccountDisabled => "account disabled".into(),
        Detail::NoCurrentPassword => "no current password".into(),
        Detail::SessionReplaced => "a newer reset replaced this session's temporary password".into(),
        Detail::Portal { mst, disabled } if disabled.is_empty() => format!("MST {mst}"),
        Detail::Portal { mst, disabled } => format!("MST {mst}; account disabled: {}", disabled.join(", ")),
        Detail::PortalLinkSent { mst, until } => {
            format!("MST {mst}; activation link sent, valid until {}", vn_time(*until))
        }
        Detail::PortalActivated { reference } => format!("portal password of {reference} activated"),
        Detail::EmailChangesToday { count, mst: None, via } => {
            format!("{count} email changes of the account today ({via})")
        }
        Detail::EmailChangesToday { count, mst: Some(mst), via } => {
            format!("{count} email changes of MST {mst} today ({via})")
        }
        Detail::TokenRequestsPaused { cancelled_at, until } => format!(
            "the registered address cancelled a change at {}; token requests pause until {}",
            vn_time(*cancelled_at),
            vn_time(*until)
        ),
        Detail::EmailApplied { old, new, via } => format!("registered email {old} → {new} ({via} request)"),
        Detail::EmailConfirmed { new, request, effective } => {
            format!("new address {new} confirmed (request {request}); takes effect {}", vn_time(*effective))
        }
        Detail::EmailCancelledByOldAddress { request } => format!("cancelled from the old address (request {request})"),
        Detail::EmailProposed { new, documents } => format!("new address {new} proposed; documents: {documents}"),
        Detail::EmailProposalRefused { documents_missing: true } => "documents not all recorded".into(),
        Detail::EmailProposalRefused { documents_missing: false } => "new address refused".into(),
        Detail::EmailApproved { new, proposed_by, request, superseded } => {
            let mut out = format!(
                "new address {new} approved (proposed by {} in {request}); confirmation link sent",
                proposed_by.as_deref().unwrap_or("?")
            );
            if *superseded > 0 {
                out.push_str(&format!("; {superseded} open change(s) superseded"));
            }
            out
        }
        Detail::EmailApprovalRefused { request } => format!("approval of {request} refused"),
        Detail::EmailCancelled { request, new, reason } => format!("change {request} to {new} cancelled: {reason}"),
        Detail::EmailCancelRefused { request } => format!("cancel of {request} refused"),
        Detail::LimitsCleared { count, staff: None } => format!("cleared {count} limit windows"),
        Detail::LimitsCleared { count, staff: Some(who) } => format!("staff {who}: cleared {count} limit windows"),
        Detail::VerifiedByPhone { note } => format!("verified by phone: {note}"),
        Detail::MailResent { id, mail_kind: kind, of: None } => format!("mail {id} ({})", mail_kind(L, *kind)),
        Detail::MailResent { id, mail_kind: kind, of: Some(r) } => {
            format!("mail {id} ({}) of {r}", mail_kind(L, *kind))
        }
        Detail::Search { query } => format!("search: {query}"),
        Detail::AccountPage => "account page".into(),
        Detail::SupportCodeUnknown => "unknown or expired support code".into(),
        Detail::SupportReportOpened { reference } => format!("support report {reference} opened"),
        Detail::SupportCodeMade { bytes, until } => {
            format!("support code made ({bytes} bytes of report), valid until {}", vn_time(*until))
        }
        Detail::SupportReportRefused { problem } => match problem {
            ReportProblem::NoInstance => "no app instance id".into(),
            ReportProblem::EmptyOrNotText => "the report is empty or not text".into(),
            ReportProblem::TooLarge { bytes } => format!("{bytes} bytes of report"),
            ReportProblem::TooManyChecks { count } => format!("{count} checks in the report"),
        },
        Detail::Enrolled { mst, pinned: None } => format!("enrolled, MST {mst}"),
        Detail::Enrolled { mst, pinned: Some(p) } => format!("enrolled, MST {mst}, pinned {p}"),
        Detail::Disabled { reason } => format!("disabled: {reason}"),
        Detail::Enabled => "enabled".into(),
        Detail::OutboxKeyAdopted { key } => format!("outbox key {key} adopted"),
        Detail::StaffAdded { name, role } => format!("staff member {name}, role {role}"),
        Detail::StaffRole { username, role } => format!("staff {username} is now {role}"),
        Detail::StaffPassword { username } => format!("console password of staff {username} set"),
        Detail::StaffDisabled { username } => format!("staff {username} disabled"),
    }
}

/// What a token proof was for.
fn purpose_name(lang: Lang, p: Purpose) -> &'static str {
    match p {
        Purpose::PasswordRecovery => tr(lang, "lấy lại mật khẩu", "password recovery"),
        Purpose::UsernameLookup => tr(lang, "tìm tên đăng nhập", "username lookup"),
        Purpose::EmailChange => tr(lang, "đổi email đăng ký", "email change"),
        _ => tr(lang, "khác", "other"),
    }
}

/// Who acted: the user (the app or the portal), the server itself, an operator on its
/// command line, or a staff member.
pub(super) fn actor(lang: Lang, actor: &Actor) -> String {
    match actor {
        Actor::User => tr(lang, "người dùng", "user").into(),
        Actor::System => tr(lang, "hệ thống (tự động)", "system (automatic)").into(),
        Actor::Cli(os_user) => {
            format!("{} ({os_user})", tr(lang, "quản trị máy chủ, dòng lệnh", "server operator, command line"))
        }
        Actor::Staff { username, name: Some(name) } => {
            format!("{} {username} ({name})", tr(lang, "nhân viên", "staff"))
        }
        Actor::Staff { username, name: None } => format!("{} {username}", tr(lang, "nhân viên", "staff")),
        Actor::Other(stored) => stored.clone(),
    }
}

/// Every UTC time `YYYY-MM-DDTHH:MM:SSZ` in `text` as Vietnam time (`dd/mm/yyyy HH:MM`),
/// like the console's time column.
fn vn_times(text: &str) -> String {
    const LEN: usize = "2026-11-26T09:14:03Z".len();
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if i + LEN <= bytes.len() && text.is_char_boundary(i) && text.is_char_boundary(i + LEN) {
            if let Some(secs) = parse_utc(&text[i..i + LEN]) {
                out.push_str(&vn_time(secs));
                i += LEN;
                continue;
            }
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

fn parse_utc(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let shape = b.iter().enumerate().all(|(i, c)| match i {
        4 | 7 => *c == b'-',
        10 => *c == b'T',
        13 | 16 => *c == b':',
        19 => *c == b'Z',
        _ => c.is_ascii_digit(),
    });
    if !shape {
        return None;
    }
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok().map(|t| t.unix_timestamp())
}

/// A mail kind as the console names it.
pub(super) fn mail_kind(lang: Lang, kind: MailKind) -> &'static str {
    match kind {
        MailKind::Reset => tr(lang, "Mật khẩu tạm thời", "Temporary password"),
        MailKind::PortalReset => tr(lang, "Mật khẩu mới + link kích hoạt", "New password + activation link"),
        MailKind::NoticeReset => tr(lang, "Thông báo cấp lại mật khẩu", "Reset notice"),
        MailKind::NoticeChanged => tr(lang, "Thông báo đổi mật khẩu", "Change notice"),
        MailKind::NoticeActivated => tr(lang, "Thông báo kích hoạt", "Activation notice"),
        MailKind::EmailConfirm => tr(lang, "Link xác nhận email mới", "New email confirmation link"),
        MailKind::EmailChangeNotice => tr(lang, "Báo email cũ + link hủy", "Notice to the old email + cancel link"),
        MailKind::NoticeEmail => tr(lang, "Thông báo đổi email", "Email change notice"),
    }
}

/// `text` with every CMND/CCCD number in it cut to its last 4 digits (`CCCD …2345`),
/// as the record keeps an ID: a run of 9 or 12 digits, whole or read out in groups
/// ("001 086 012 345", "001.086.012.345"). An MST (10 or 13 digits) and a phone number
/// (10) stay; what the desk types in a free field (a reset's note, a cancel's reason, a
/// search) goes to an audit kept two years, where a whole ID number must never be.
pub(crate) fn mask_id_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // A group sequence: digits, with single spaces, dots or dashes between groups.
        let mut end = i;
        let mut digits = String::new();
        while end < chars.len() {
            if chars[end].is_ascii_digit() {
                digits.push(chars[end]);
                end += 1;
            } else if " .-".contains(chars[end]) && chars.get(end + 1).is_some_and(char::is_ascii_digit) {
                end += 1;
            } else {
                break;
            }
        }
        if digits.len() == 9 || digits.len() == 12 {
            out.push_str(&format!("[CCCD/CMND …{}]", &digits[digits.len() - 4..]));
        } else {
            out.extend(&chars[i..end]);
        }
        i = end;
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn details_read_in_each_language_with_vietnam_times_and_keep_their_data() {
        let sent = Detail::PortalLinkSent { mst: "0101234567".into(), until: 1_764_148_443 };
        assert_eq!(
            detail(Lang::Vi, &sent),
            "MST 0101234567; đã gửi đường link kích hoạt, hiệu lực đến 26/11/2025 16:14"
        );
        assert_eq!(detail(Lang::En, &sent), "MST 0101234567; activation link sent, valid until 26/11/2025 16:14");
        let mismatch = Detail::MstMismatch { cert_msts: vec!["0101234567".into()], account_mst: "0309999999".into() };
        assert_eq!(detail(Lang::Vi, &mismatch), "MST của chứng thư 0101234567; MST của tài khoản 0309999999");
        assert_eq!(
            detail(Lang::En, &Detail::NoSuchAccount { cert_msts: vec![] }),
            "no such account; certificate MST none"
        );
        let resent = Detail::MailResent { id: 12, mail_kind: MailKind::Reset, of: None };
        assert_eq!(detail(Lang::Vi, &resent), "thư 12 (Mật khẩu tạm thời)");
        // What staff typed keeps its letters.
        let note = Detail::VerifiedByPhone { note: "caller used the old email".into() };
        assert_eq!(detail(Lang::Vi, &note), "đã xác minh qua điện thoại: caller used the old email");
        let search = Detail::Search { query: "mst=0101234567".into() };
        assert_eq!(detail(Lang::Vi, &search), "từ khóa: mst=0101234567");
        // A line written before details were values: its sentence, in Vietnam time.
        let old = Detail::Legacy("mst=0101234567; activation link sent, valid until 2026-11-26T09:14:03Z".into());
        assert_eq!(detail(Lang::Vi, &old), "mst=0101234567; activation link sent, valid until 26/11/2026 16:14");
        // Each actor as stored, read back and named in both languages.
        for (stored, vi, en) in [
            ("user", "người dùng", "user"),
            ("system", "hệ thống (tự động)", "system (automatic)"),
            ("cli:root", "quản trị máy chủ, dòng lệnh (root)", "server operator, command line (root)"),
            ("staff:lan (Nguyễn Thị Lan)", "nhân viên lan (Nguyễn Thị Lan)", "staff lan (Nguyễn Thị Lan)"),
            ("staff:lan", "nhân viên lan", "staff lan"),
            ("robot", "robot", "robot"),
        ] {
            let read = Actor::parse(stored);
            assert_eq!(read.to_string(), stored, "{stored} is written back as it was read");
            assert_eq!((actor(Lang::Vi, &read).as_str(), actor(Lang::En, &read).as_str()), (vi, en));
        }
        assert_eq!(Actor::parse("staff:lan (Nguyễn Thị Lan)"), Actor::staff("lan", "Nguyễn Thị Lan"));
        assert_eq!(Actor::parse("cli:root"), Actor::Cli("root".into()));
        // A time at the end, a multi-byte neighbour, and a near miss left alone.
        assert_eq!(vn_times("lúc 2026-11-26T09:14:03Z"), "lúc 26/11/2026 16:14");
        assert_eq!(vn_times("2026-11-26T09:14:03+07:00 ĐĂ"), "2026-11-26T09:14:03+07:00 ĐĂ");
    }

    #[test]
    fn every_detail_has_words_in_both_languages() {
        // No English left in a Vietnamese rendering of the server's own words.
        let all = [
            Detail::AccountDisabled,
            Detail::NoCurrentPassword,
            Detail::SessionReplaced,
            Detail::PinnedToAnother,
            Detail::AccountPage,
            Detail::SupportCodeUnknown,
            Detail::Enabled,
            Detail::TooMany { count: 3, counted: Counted::FailedProofsFromClient },
            Detail::TooMany { count: 3, counted: Counted::WrongPasswordsFromClient },
            Detail::TooMany { count: 3, counted: Counted::PasswordMailsToday },
            Detail::EmailChangesToday { count: 2, mst: Some("0101234567".into()), via: ChangeVia::Desk },
            Detail::SupportReportRefused { problem: ReportProblem::EmptyOrNotText },
        ];
        for d in &all {
            let (v, e) = (vi(d), en(d));
            assert_ne!(v, e, "{d:?}");
            for word in ["the ", "account", "password", "client", "window", "today", "email changes", "support"] {
                assert!(!v.contains(word), "{d:?}: {v}");
            }
        }
    }
}
