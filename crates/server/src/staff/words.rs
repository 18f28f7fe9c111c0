//! How the console shows an audit line's actor and detail in the desk's language.
//!
//! The audit log keeps its details in one technical form (English, with UTC times), the
//! record every engine and every tool reads the same. The console, whose time column is
//! Vietnam time, shows them the way its Vietnamese reader expects: every time in Vietnam
//! time, and the server's fixed phrases in Vietnamese. What the phrases surround
//! (names, MSTs, addresses, URLs, references) is data and stays as it is.

use bhxh_protocol::Lang;

use crate::clock::vn_time;

/// The server's fixed phrases in its audit details, longest first where one holds
/// another (replaced in this order).
const PHRASES: &[(&str, &str)] = &[
    // Token proofs and certificate checks (recovery.rs, verify.rs, revocation).
    ("no such account; certificate MST", "không có tài khoản này; MST của chứng thư"),
    ("; account MST", "; MST của tài khoản"),
    ("certificate MST", "MST của chứng thư"),
    ("purpose=recovery", "mục đích: lấy lại mật khẩu"),
    ("purpose=username-lookup", "mục đích: tìm tên đăng nhập"),
    ("purpose=email-change", "mục đích: đổi email đăng ký"),
    ("subject CN=", "chủ thể CN="),
    ("revocation: ", "thu hồi: "),
    ("path: ", "chuỗi chứng thư: "),
    ("(anchor)", "(gốc tin cậy)"),
    ("OCSP good", "OCSP: còn hiệu lực"),
    ("thisUpdate", "cập nhật lúc"),
    ("answered unknown", "trả lời không biết chứng thư"),
    ("revoked per OCSP", "bị thu hồi theo OCSP"),
    ("revoked per", "bị thu hồi theo"),
    ("CRL file", "tệp CRL"),
    ("(number ", "(số "),
    ("is not issued by", "không do CA này phát hành:"),
    ("is configured or distributed", "được cấu hình hay phân phối"),
    ("no CRL of", "không có CRL nào của"),
    ("no keyUsage extension", "không có phần mở rộng keyUsage"),
    ("path to an unknown anchor", "chuỗi dẫn tới một gốc không tin cậy"),
    ("not a CA certificate", "không phải chứng thư của CA"),
    ("outside its validity", "ngoài thời hạn hiệu lực"),
    ("no anchor issued it", "không gốc tin cậy nào phát hành"),
    ("certificates in chain", "chứng thư trong chuỗi"),
    ("at most", "tối đa"),
    ("signed with", "ký bằng"),
    ("failed proofs in the window", "lần xác thực sai trong khoảng thời gian"),
    // Passwords, sessions, the portal.
    ("temporary password of", "dùng mật khẩu tạm thời của"),
    (" used", ""),
    ("account disabled", "tài khoản đã bị vô hiệu hóa"),
    ("no current password", "thiếu mật khẩu hiện tại"),
    ("password mails today", "thư mật khẩu hôm nay"),
    ("activation link sent, valid until", "đã gửi đường link kích hoạt, hiệu lực đến"),
    ("portal password of", "mật khẩu qua cổng của"),
    (" activated", " đã được kích hoạt"),
    ("mst=", "MST "),
    // Email changes.
    ("registered email", "email đăng ký"),
    ("token request", "yêu cầu bằng token"),
    ("desk request", "yêu cầu qua tổng đài"),
    ("confirmation link valid until", "đường link xác nhận hiệu lực đến"),
    ("confirmation link sent", "đã gửi đường link xác nhận"),
    ("open change(s) superseded", "yêu cầu đổi email đang mở bị thay thế"),
    ("cancelled from the old address", "đã hủy từ email cũ"),
    ("new address", "email mới"),
    (" confirmed", " đã xác nhận"),
    ("takes effect", "có hiệu lực lúc"),
    ("(request ", "(yêu cầu "),
    ("approval of", "phê duyệt"),
    ("cancel of", "hủy"),
    (" refused", " bị từ chối"),
    (" approved", " đã được phê duyệt"),
    ("proposed by", "đề xuất bởi"),
    (" proposed", " được đề xuất"),
    ("documents:", "giấy tờ:"),
    (" cancelled:", " đã hủy, lý do:"),
    // The desk.
    ("rate-limit windows cleared", "giới hạn được xóa"),
    ("limit windows", "giới hạn"),
    ("cleared", "đã xóa"),
    ("verified by phone:", "đã xác minh qua điện thoại:"),
    ("account page", "trang tài khoản"),
    ("unknown or expired support code", "mã hỗ trợ không đúng hoặc đã hết hạn"),
    ("support report", "báo cáo hỗ trợ"),
    (" opened", " đã mở"),
    ("support code made", "đã tạo mã hỗ trợ"),
    ("bytes of report", "byte báo cáo"),
    ("no app instance id", "thiếu mã cài đặt của ứng dụng"),
    ("the report is empty or not text", "báo cáo trống hoặc không phải văn bản"),
    ("valid until", "hiệu lực đến"),
    ("enrolled", "đã tạo"),
    ("pinned=", "vân tay ghim: "),
    ("staff member", "nhân viên"),
    ("console password of staff", "mật khẩu bảng điều khiển của nhân viên"),
    (" set", " đã đặt"),
    ("is now", "nay là"),
    (" disabled", " đã bị khóa"),
    (") of RC-", ") của RC-"),
    ("role ", "vai trò "),
    ("outbox key", "khóa hộp thư"),
    (" adopted", " đã nhận"),
];

/// Phrases only at the start of a detail (elsewhere the same letters are other words:
/// "mail " inside "email ").
const PREFIXES: &[(&str, &str)] = &[("mail ", "thư "), ("change ", "yêu cầu "), ("staff ", "nhân viên "), ("q=", "từ khóa: ")];

/// The detail as the console shows it: Vietnam times, and in Vietnamese its phrases.
pub(super) fn detail(lang: Lang, detail: &str) -> String {
    let mut out = vn_times(detail);
    if lang == Lang::Vi {
        if let Some((en, vi)) = PREFIXES.iter().find(|(en, _)| out.starts_with(en)) {
            out = format!("{vi}{}", &out[en.len()..]);
        }
        for (en, vi) in PHRASES {
            if out.contains(en) {
                out = out.replace(en, vi);
            }
        }
    }
    out
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

#[cfg(test)]
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
        assert_eq!(detail(Lang::Vi, "registered email ke***@c***.vn → mo***@c***.vn (token request)"), "email đăng ký ke***@c***.vn → mo***@c***.vn (yêu cầu bằng token)");
        assert_eq!(detail(Lang::Vi, "mail 12 (reset)"), "thư 12 (reset)");
        assert_eq!(actor(Lang::Vi, "user"), "người dùng");
        assert_eq!(actor(Lang::Vi, "staff:lan (Nguyễn Thị Lan)"), "nhân viên lan (Nguyễn Thị Lan)");
        // A time at the end, a multi-byte neighbour, and a near miss left alone.
        assert_eq!(vn_times("lúc 2026-11-26T09:14:03Z"), "lúc 26/11/2026 16:14");
        assert_eq!(vn_times("2026-11-26T09:14:03+07:00 ĐĂ"), "2026-11-26T09:14:03+07:00 ĐĂ");
    }
}
