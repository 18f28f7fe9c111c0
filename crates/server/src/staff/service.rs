//! The service's state on the desk's first page, above the search, as an agent and a
//! supervisor read it: today's recoveries and refusals by reason (since midnight,
//! Vietnam time, users' own requests), the accounts under attack, the revocation
//! sources, the outbox. In the desk's language, Vietnamese first.

use bhxh_protocol::{ErrorCode, Lang};
use maud::{html, Markup};

use crate::clock::vn_time;
use crate::context::AppState;
use crate::html::tr;
use crate::store::AuditEvent;

/// Midnight (00:00 Vietnam time, UTC+7) of the day `now` is in.
fn vn_midnight(now: i64) -> i64 {
    const DAY: i64 = 86_400;
    const VN: i64 = 7 * 3600;
    (now + VN).div_euclid(DAY) * DAY - VN
}

/// How many refusal reasons the page lists (the most frequent first).
const REASONS: usize = 8;

/// The section; `attacked` are the accounts under attack with what marks them
/// (`views::attacked_accounts`, which reads the limits' windows as the account page does).
pub(super) async fn section(s: &AppState, lang: Lang, attacked: &[(String, Vec<String>)]) -> anyhow::Result<Markup> {
    let now = s.clock.now();
    let since = vn_midnight(now);
    let counts = s.store.audit_counts_since(since).await?;
    let ok = |event: AuditEvent| -> i64 {
        counts.iter().filter(|(e, o, _, _)| *e == event.as_str() && o == "ok").map(|(_, _, _, n)| n).sum()
    };
    let (proofs, portal, logins) = (ok(AuditEvent::Complete), ok(AuditEvent::PortalRecover), ok(AuditEvent::Login));
    let mut refusals: Vec<(ErrorCode, i64)> = Vec::new();
    for (_, _, code, n) in &counts {
        if let Some(code) = code.as_deref().and_then(ErrorCode::parse) {
            match refusals.iter_mut().find(|(c, _)| *c == code) {
                Some((_, total)) => *total += n,
                None => refusals.push((code, *n)),
            }
        }
    }
    refusals.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.as_str().cmp(b.0.as_str())));
    let refused: i64 = refusals.iter().map(|(_, n)| n).sum();

    let outbox = s.store.outbox_state().await?;
    let dead_week = s.store.dead_mail_count(now - 7 * 86_400).await?;
    let crls = s.store.crl_states().await?;
    let responders = s.store.ocsp_by_responder(now - 86_400).await?;
    let state = |current: bool| {
        if current {
            html! { span class="ok" { (tr(lang, "còn hiệu lực", "current")) } }
        } else {
            html! { span class="bad" { (tr(lang, "QUÁ HẠN: lấy lại mật khẩu bằng token bị từ chối", "STALE: token recoveries are refused")) } }
        }
    };
    Ok(html! {
        section class="card" aria-labelledby="service-title" data-testid="service-state" {
            h2 id="service-title" { (tr(lang, "Tình trạng dịch vụ", "Service state")) }
            h3 { (tr(lang, "Hôm nay (từ 00:00)", "Today (since 00:00)")) }
            ul data-testid="service-today" {
                li { strong data-testid="today-proofs" { (proofs) } " " (tr(lang, "lần xác thực bằng token thành công (lấy lại mật khẩu, tìm tên đăng nhập, đổi email)", "successful token proofs (password recovery, username lookup, email change)")) }
                li { strong data-testid="today-portal" { (portal) } " " (tr(lang, "lần lấy lại mật khẩu qua MST + email", "portal recoveries (MST + email)")) }
                li { strong data-testid="today-logins" { (logins) } " " (tr(lang, "lần đăng nhập thành công", "successful logins")) }
                li { strong data-testid="today-refused" { (refused) } " " (tr(lang, "lần bị từ chối", "refusals")) }
            }
            @if !refusals.is_empty() {
                table data-testid="refusals" {
                    thead { tr { th { (tr(lang, "Lý do từ chối", "Reason refused")) } th { (tr(lang, "Số lần", "Count")) } } }
                    tbody {
                        @for (code, n) in refusals.iter().take(REASONS) {
                            tr data-code=(code.as_str()) {
                                td { (code.message(lang)) " " span class="muted" { (code.as_str()) } }
                                td { (n) }
                            }
                        }
                    }
                }
            }
            h3 { (tr(lang, "Tài khoản đang bị thử dồn dập", "Accounts under attack")) }
            @if attacked.is_empty() {
                p data-testid="under-attack-none" { span class="ok" { (tr(lang, "Không có.", "None.")) } }
            } @else {
                ul data-testid="under-attack-list" {
                    @for (user, marks) in attacked {
                        li { a href={ "/account/" (crate::html::url_escape(user)) } { (user) } ": " (marks.join("; ")) }
                    }
                }
                p class="muted" { (tr(lang, "Chủ tài khoản vẫn dùng được bình thường: chỉ những nơi thử sai bị chặn.", "The owners are not held back: only the places that tried are.")) }
            }
            h3 { (tr(lang, "Nguồn kiểm tra thu hồi", "Revocation sources")) }
            div data-testid="revocation-sources" {
                @if !s.revocation.enabled() {
                    p class="bad" { (tr(lang, "Không kiểm tra thu hồi (chỉ dành cho máy phát triển).", "Revocation is not checked (a development machine only).")) }
                }
                ul {
                    @for crl in s.revocation.file_crls() {
                        li { "CRL " (crl.issuer_cn) " (" (tr(lang, "tệp", "file")) "): " (tr(lang, "cập nhật kế tiếp", "next update")) " " (vn_time(crl.next_update)) " — " (state(crl.next_update > now)) }
                    }
                    @for crl in &crls {
                        li {
                            "CRL " code { (crl.url) } ": "
                            @if let Some(next) = crl.next_update {
                                (tr(lang, "cập nhật kế tiếp", "next update")) " " (vn_time(next)) " — " (state(next > now))
                            } @else {
                                span class="bad" { (tr(lang, "chưa tải được", "never fetched")) }
                            }
                            @if let Some(e) = &crl.last_error {
                                br; span class="bad" { (tr(lang, "Lần tải gần nhất lỗi: ", "Last fetch failed: ")) (crate::facts::stored_failure(lang, e)) }
                            }
                        }
                    }
                    @for (url, last, n, failing) in &responders {
                        li {
                            "OCSP " code { (url) } ": " (n) " " (tr(lang, "chứng thư hỏi trong 24 giờ, lần gần nhất", "certificates asked in 24 hours, last at")) " " (vn_time(*last))
                            @if *failing > 0 {
                                " — " span class="bad" { (failing) " " (tr(lang, "lần hỏi gần nhất không có trả lời dùng được", "whose last exchange had no usable answer")) }
                            }
                        }
                    }
                }
            }
            h3 { (tr(lang, "Hộp thư đi", "Outbox")) }
            p data-testid="outbox-state" {
                strong { (outbox.pending) } " " (tr(lang, "thư đang chờ gửi", "mails waiting"))
                @if let Some(at) = outbox.oldest_pending {
                    ", " (tr(lang, "thư cũ nhất chờ", "the oldest waiting for")) " " ((now - at).max(0) / 60) " " (tr(lang, "phút", "minutes"))
                    @if now - at > 600 { " — " span class="bad" { (tr(lang, "máy chủ thư có thể đang lỗi", "the mail relay may be failing")) } }
                }
                "; " strong { (dead_week) } " " (tr(lang, "thư không gửi được trong 7 ngày", "mails given up on in 7 days"))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::vn_midnight;

    #[test]
    fn midnight_is_vietnams() {
        // 2026-12-06 16:30 UTC is 23:30 in Vietnam: its midnight is 2026-12-05 17:00 UTC.
        assert_eq!(vn_midnight(1_796_574_600), 1_796_490_000);
        // 17:30 UTC is 00:30 the next day there.
        assert_eq!(vn_midnight(1_796_578_200), 1_796_576_400);
    }
}
