//! How the console shows an audit line's actor and detail in the desk's language.
//!
//! The audit log keeps its details in one technical form (English, with UTC times), the
//! record every engine and every tool reads the same. The console, whose time column is
//! Vietnam time, shows them the way its Vietnamese reader expects: every time in Vietnam
//! time, and the server's fixed phrases in Vietnamese. What the phrases surround
//! (names, MSTs, addresses, URLs, references) is data and stays as it is.

use bhxh_protocol::Lang;

use crate::clock::vn_time;
use crate::html::tr;
use crate::store::MailKind;

/// The server's fixed phrases in its audit details, replaced in this order (a longer
/// phrase before one it holds). Each is written with the spaces or punctuation around it
/// so that it cannot match inside a name, an address or a URL.
const PHRASES: &[(&str, &str)] = &[
    // Token proofs and certificate checks (recovery.rs, verify.rs, revocation).
    ("no such account; certificate MST", "không có tài khoản này; MST của chứng thư"),
    ("; account MST", "; MST của tài khoản"),
    ("certificate MST", "MST của chứng thư"),
    ("purpose=recovery", "mục đích: lấy lại mật khẩu"),
    ("purpose=username-lookup", "mục đích: tìm tên đăng nhập"),
    ("purpose=email-change", "mục đích: đổi email đăng ký"),
    ("subject CN=", "chủ thể CN="),
    ("; revocation: ", "; thu hồi: "),
    ("; path: ", "; chuỗi chứng thư: "),
    (" (anchor)", " (gốc tin cậy)"),
    (" answered good with thisUpdate ", " trả lời còn hiệu lực, cập nhật lúc "),
    (" s and not bound to our nonce: the CRL decides", " giây và không gắn với nonce của máy chủ: CRL quyết định"),
    (", older than ", ", cũ hơn "),
    (", although OCSP ", ", dù OCSP "),
    (" answered good (thisUpdate ", " trả lời còn hiệu lực (cập nhật lúc "),
    (" does not cover this certificate (issuer ", " không áp dụng cho chứng thư này (CA "),
    (" or scope)", " hoặc phạm vi)"),
    (": OCSP good (", ": OCSP: còn hiệu lực ("),
    ("OCSP good (", "OCSP: còn hiệu lực ("),
    (", thisUpdate ", ", cập nhật lúc "),
    ("thisUpdate ", "thời điểm cập nhật "),
    (" is in the future", " ở tương lai"),
    (" answered unknown (the CA's responder does not know this certificate; unknown is not good)", " trả lời không biết chứng thư (máy chủ OCSP của CA không biết chứng thư này; không biết không phải là còn hiệu lực)"),
    (": revoked per OCSP ", ": bị thu hồi theo OCSP "),
    (": revoked per ", ": bị thu hồi theo "),
    ("CRL file (number ", "tệp CRL (số "),
    (" (number ", " (số "),
    (" is not issued by ", " không do CA này phát hành: "),
    (" is signed with SHA-1", " được ký bằng SHA-1"),
    ("the delegated responder ", "máy chủ OCSP được ủy quyền "),
    (" is not issued by the certificate's issuer", " không do CA phát hành chứng thư cấp"),
    ("no CRL of ", "không có CRL nào của "),
    (" is configured or distributed", " được cấu hình hay phân phối"),
    ("no keyUsage extension", "không có phần mở rộng keyUsage"),
    ("path to an unknown anchor", "chuỗi dẫn tới một gốc không tin cậy"),
    ("not a CA certificate", "không phải chứng thư của CA"),
    ("outside its validity", "ngoài thời hạn hiệu lực"),
    ("no anchor issued it", "không gốc tin cậy nào phát hành"),
    (" certificates in chain (at most ", " chứng thư trong chuỗi (tối đa "),
    ("signed with ", "ký bằng "),
    (" failed proofs from this client in the window", " lần xác thực sai từ máy khách này trong khoảng thời gian"),
    (" wrong passwords from this client in the window", " lần sai mật khẩu từ máy khách này trong khoảng thời gian"),
    (" failed proofs in the window", " lần xác thực sai trong khoảng thời gian"),
    ("not a username (", "không phải tên đăng nhập ("),
    (" bytes)", " byte)"),
    (": further refusals in this window (until ", ": các lần từ chối tiếp theo trong khoảng này (đến "),
    (") are not written", ") không được ghi lại"),
    // Passwords, sessions, the portal.
    ("temporary password of ", "mật khẩu tạm thời của "),
    ("account disabled", "tài khoản đã bị vô hiệu hóa"),
    ("no current password", "thiếu mật khẩu hiện tại"),
    ("a newer reset replaced this session's temporary password", "một lần cấp lại mới hơn đã thay mật khẩu tạm thời của phiên này"),
    (" password mails today", " thư mật khẩu hôm nay"),
    ("; activation link sent, valid until ", "; đã gửi đường link kích hoạt, hiệu lực đến "),
    ("portal password of ", "mật khẩu qua cổng của "),
    ("mst=", "MST "),
    // Email changes.
    (" email changes of the account today (desk)", " lần đổi email của tài khoản hôm nay (tại quầy)"),
    (" email changes of the account today (token)", " lần đổi email của tài khoản hôm nay (bằng token)"),
    (" email changes of the account today", " lần đổi email của tài khoản hôm nay"),
    (" today (desk)", " hôm nay (tại quầy)"),
    (" today (token)", " hôm nay (bằng token)"),
    (" email changes of MST ", " lần đổi email của MST "),
    ("the registered address cancelled a change at ", "email đăng ký đã hủy một yêu cầu đổi email lúc "),
    ("; token requests pause until ", "; yêu cầu bằng token tạm dừng đến "),
    (" email changes of the MST today", " lần đổi email của MST hôm nay"),
    ("registered email ", "email đăng ký "),
    (" (token request)", " (yêu cầu bằng token)"),
    (" (desk request)", " (yêu cầu qua tổng đài)"),
    ("; new address ", "; email mới "),
    (", confirmation link valid until ", ", đường link xác nhận hiệu lực đến "),
    ("; confirmation link sent", "; đã gửi đường link xác nhận"),
    (" open change(s) superseded", " yêu cầu đổi email đang mở bị thay thế"),
    ("cancelled from the old address (request ", "đã hủy từ email cũ (yêu cầu "),
    (" confirmed (request ", " đã xác nhận (yêu cầu "),
    ("); takes effect ", "); có hiệu lực lúc "),
    (" approved (proposed by ", " đã được phê duyệt (đề xuất bởi "),
    ("); confirmation link sent", "); đã gửi đường link xác nhận"),
    (" proposed; ", " được đề xuất; "),
    ("approval of ", "phê duyệt "),
    ("cancel of ", "hủy "),
    (" to ", " sang "),
    // The desk and the command line.
    (" rate-limit windows cleared", " giới hạn được xóa"),
    (" limit windows", " giới hạn"),
    ("account page", "trang tài khoản"),
    ("unknown or expired support code", "mã hỗ trợ không đúng hoặc đã hết hạn"),
    ("support report ", "báo cáo hỗ trợ "),
    ("support code made (", "đã tạo mã hỗ trợ ("),
    (" bytes of report), valid until ", " byte báo cáo), hiệu lực đến "),
    (" bytes of report", " byte báo cáo"),
    ("no app instance id", "thiếu mã cài đặt của ứng dụng"),
    ("the report is empty or not text", "báo cáo trống hoặc không phải văn bản"),
    (" pinned=", " vân tay ghim: "),
    ("console password of staff ", "mật khẩu bảng điều khiển của nhân viên "),
    (", role ", ", vai trò "),
    (" is now ", " nay là "),
    ("outbox key ", "khóa hộp thư "),
    (") of RC-", ") của RC-"),
    ("valid until ", "hiệu lực đến "),
];

/// Phrases only at the start of a detail (elsewhere the same letters are other words:
/// "mail " inside "email "); the first that matches is used.
const PREFIXES: &[(&str, &str)] = &[
    ("mail ", "thư "),
    ("change ", "yêu cầu "),
    ("staff member ", "nhân viên "),
    ("staff ", "nhân viên "),
    ("new address ", "email mới "),
    ("enrolled ", "đã tạo, "),
    ("cleared ", "đã xóa "),
    ("enabled", "đã bật lại"),
];

/// Phrases only at the end of a detail.
const SUFFIXES: &[(&str, &str)] = &[
    (" used", " đã được dùng"),
    (" activated", " đã được kích hoạt"),
    (" opened", " đã mở"),
    (" adopted", " đã được nhận"),
    (" set", " đã được đặt"),
    (" disabled", " đã bị khóa"),
    (" refused", " bị từ chối"),
];

/// Where a detail's free text begins (what staff or a caller typed, the search words):
/// it is shown as it was written, never translated; the marker itself is.
const FREE_TEXT: &[(&str, &str)] = &[
    ("verified by phone: ", "đã xác minh qua điện thoại: "),
    ("; documents: ", "; giấy tờ: "),
    (" cancelled: ", " đã hủy, lý do: "),
    ("disabled: ", "đã vô hiệu hóa, lý do: "),
    ("q=", "từ khóa: "),
];

/// The detail as the console shows it: Vietnam times, and in Vietnamese its phrases.
/// Only the server's own words are translated: the data between them (names, MSTs,
/// addresses, URLs, references) and any free text keep their letters.
pub(crate) fn detail(lang: Lang, detail: &str) -> String {
    let detail = vn_times(detail);
    if lang == Lang::En {
        return detail;
    }
    // The free text, if any, is set aside first: nothing below may touch it.
    let marker =
        FREE_TEXT.iter().filter_map(|(en, vi)| detail.find(en).map(|at| (at, *en, *vi))).min_by_key(|(at, _, _)| *at);
    let (head, free) = match marker {
        Some((at, en, vi)) => (detail[..at].to_string(), Some(format!("{vi}{}", &detail[at + en.len()..]))),
        None => (detail, None),
    };
    let mut out = head;
    if let Some((en, vi)) = PREFIXES.iter().find(|(en, _)| out.starts_with(en)) {
        out = format!("{vi}{}", &out[en.len()..]);
    }
    if free.is_none() {
        if let Some((en, vi)) = SUFFIXES.iter().find(|(en, _)| out.ends_with(en)) {
            out = format!("{}{vi}", &out[..out.len() - en.len()]);
        }
    }
    for (en, vi) in PHRASES {
        if out.contains(en) {
            out = out.replace(en, vi);
        }
    }
    // A mail's kind, "(notice-changed)", as the account page names it.
    for kind in MailKind::ALL {
        let tag = format!("({})", kind.as_str());
        if out.contains(&tag) {
            out = out.replace(&tag, &format!("({})", mail_kind(lang, *kind)));
        }
    }
    out + free.as_deref().unwrap_or("")
}

/// Who acted: the user (the app or the portal), a staff member, or the command line.
pub(super) fn actor(lang: Lang, actor: &str) -> String {
    match (lang, actor) {
        (Lang::Vi, "user") => "người dùng".into(),
        (Lang::Vi, "admin") => "quản trị (dòng lệnh)".into(),
        (Lang::En, "admin") => "admin (command line)".into(),
        (Lang::Vi, a) if a.starts_with("staff:") => format!("nhân viên {}", &a["staff:".len()..]),
        (Lang::En, a) if a.starts_with("staff:") => format!("staff {}", &a["staff:".len()..]),
        (_, a) => a.to_string(),
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
    fn details_read_in_vietnamese_with_vietnam_times() {
        let d = "mst=0101234567; activation link sent, valid until 2026-11-26T09:14:03Z";
        assert_eq!(detail(Lang::Vi, d), "MST 0101234567; đã gửi đường link kích hoạt, hiệu lực đến 26/11/2026 16:14");
        assert_eq!(detail(Lang::En, d), "mst=0101234567; activation link sent, valid until 26/11/2026 16:14");
        assert_eq!(
            detail(Lang::Vi, "no such account; certificate MST 0101234567"),
            "không có tài khoản này; MST của chứng thư 0101234567"
        );
        assert_eq!(
            detail(Lang::Vi, "certificate MST 0101234567; account MST 0309999999"),
            "MST của chứng thư 0101234567; MST của tài khoản 0309999999"
        );
        assert_eq!(
            detail(Lang::Vi, "registered email ke***@c***.vn → mo***@c***.vn (token request)"),
            "email đăng ký ke***@c***.vn → mo***@c***.vn (yêu cầu bằng token)"
        );
        assert_eq!(detail(Lang::Vi, "mail 12 (reset)"), "thư 12 (Mật khẩu tạm thời)");
        // Free text and data keep their letters.
        assert_eq!(
            detail(Lang::Vi, "verified by phone: caller used the old email"),
            "đã xác minh qua điện thoại: caller used the old email"
        );
        assert_eq!(detail(Lang::Vi, "q=mst=0101234567"), "từ khóa: mst=0101234567");
        assert_eq!(detail(Lang::Vi, "staff member Carole Trần, role agent"), "nhân viên Carole Trần, vai trò agent");
        assert_eq!(
            detail(Lang::Vi, "temporary password of RC-AAAA-BBBB used"),
            "mật khẩu tạm thời của RC-AAAA-BBBB đã được dùng"
        );
        assert_eq!(
            detail(Lang::Vi, "disabled: doanh nghiệp đã giải thể, used to be X"),
            "đã vô hiệu hóa, lý do: doanh nghiệp đã giải thể, used to be X"
        );
        assert_eq!(detail(Lang::Vi, "cleared 3 limit windows"), "đã xóa 3 giới hạn");
        assert_eq!(actor(Lang::Vi, "user"), "người dùng");
        assert_eq!(actor(Lang::Vi, "staff:lan (Nguyễn Thị Lan)"), "nhân viên lan (Nguyễn Thị Lan)");
        // A time at the end, a multi-byte neighbour, and a near miss left alone.
        assert_eq!(vn_times("lúc 2026-11-26T09:14:03Z"), "lúc 26/11/2026 16:14");
        assert_eq!(vn_times("2026-11-26T09:14:03+07:00 ĐĂ"), "2026-11-26T09:14:03+07:00 ĐĂ");
    }
}
