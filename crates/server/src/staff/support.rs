//! A support code's page: what the caller's app sees. The report they agreed to send,
//! the attempts their app instance made (from 30 minutes before it) from the caller's
//! network (reloaded every 10 s while the page is open; an instance id is the app's
//! word, so another network's attempts under the same id are not the caller's to show),
//! and the next step that fits. Every opening is audited with the staff member's name;
//! an unknown, mistyped or expired code gets one answer; lookups are limited per staff
//! member.

use axum::extract::{Path, State};
use axum::response::Response;
use bhxh_protocol::{ErrorCode, SupportCode};
use maud::html;

use super::auth::{OnPage, StaffError};
use super::reference_label;
use super::views::timeline_table;
use crate::clock::vn_time;
use crate::context::AppState;
use crate::html::tr;
use crate::store::{AuditEvent, Detail, Outcome};

/// How often the page reloads itself.
const REFRESH_SECS: u32 = 10;
/// How long before the report its app's attempts are shown: the refusal that made the
/// caller press "Gửi thông tin cho nhân viên hỗ trợ" came before the report.
const ATTEMPTS_BEFORE_SECS: i64 = 30 * 60;

/// The MSTs a report's text names ("MST 0101234567, 0101234567-001" on the certificate
/// line): the caller's word, used only to offer the accounts to open.
pub(super) fn msts_in(report: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for (i, _) in report.match_indices("MST") {
        let line = report[i + 3..].lines().next().unwrap_or("");
        for part in line.split(|c: char| c == ',' || c == ':' || c.is_whitespace()).filter(|p| !p.is_empty()) {
            match bhxh_protocol::Mst::parse(part) {
                Ok(m) if !found.iter().any(|f| f == m.as_str()) => found.push(m.as_str().to_string()),
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }
    found.truncate(4);
    found
}

pub(super) async fn page(
    State(s): State<AppState>,
    OnPage(desk): OnPage,
    Path(code): Path<String>,
) -> Result<Response, StaffError> {
    const EVENT: AuditEvent = AuditEvent::StaffSupportView;
    let lang = desk.lang;
    let key = format!("staff:{}:{EVENT}", desk.who.staff.username);
    s.limit(&desk.ctx, &key, s.config.support.lookups_per_staff, 600, EVENT, None)
        .await
        .map_err(|e| desk.error(e.code))?;
    let code = SupportCode::parse(&code);
    let opened = match &code {
        Some(code) => crate::support::open(&s, code).await.map_err(|e| desk.internal(e))?,
        None => None,
    };
    let Some(report) = opened else {
        let mut entry = desk.audit(&s, EVENT, None, Some(Detail::SupportCodeUnknown));
        entry.outcome = Outcome::Rejected(ErrorCode::SupportCodeUnknown);
        s.store.audit(&entry).await.map_err(|e| desk.internal(e))?;
        return Err(desk.error(ErrorCode::SupportCodeUnknown));
    };
    let row = &report.row;
    let entry = desk.audit(&s, EVENT, None, Some(Detail::SupportReportOpened { reference: row.reference.clone() }));
    s.store.audit(&entry).await.map_err(|e| desk.internal(e))?;
    let mut attempts = s
        .store
        .audit_of_instance(&row.instance, row.created_at - ATTEMPTS_BEFORE_SECS, 100)
        .await
        .map_err(|e| desk.internal(e))?;
    let network = |addr: Option<&str>| addr.and_then(|a| a.parse().ok()).map(crate::client_addr::network_key);
    let callers = network(row.client_addr.as_deref());
    attempts.retain(|a| callers.is_some() && network(a.client_addr.as_deref()) == callers);
    let steps = crate::support::next_steps(&report.facts, &attempts, lang);
    // The accounts to open: those the app's attempts named (the server's own record),
    // then those of the MSTs the report names (the caller's word).
    let mut accounts: Vec<(String, bool)> = Vec::new();
    for username in attempts.iter().filter_map(|a| a.username.as_deref()) {
        if accounts.len() < 6 && !accounts.iter().any(|(u, _)| u == username) {
            if let Some(a) = s.store.account_by_username(username).await.map_err(|e| desk.internal(e))? {
                accounts.push((a.username, true));
            }
        }
    }
    for mst in msts_in(&report.text) {
        for a in s.store.search_accounts(&mst, 6).await.map_err(|e| desk.internal(e))? {
            if accounts.len() < 12 && !accounts.iter().any(|(u, _)| *u == a.username) {
                accounts.push((a.username, false));
            }
        }
    }
    let shown = code.map(|c| c.to_string()).unwrap_or_default();
    let body = html! {
        section class="card" aria-labelledby="t" {
            h1 id="t" { (tr(lang, "Mã hỗ trợ", "Support code")) " " code data-testid="support-code" { (shown) } }
            dl {
                dt { (tr(lang, "Gửi lúc", "Sent at")) } dd { (vn_time(row.created_at)) }
                dt { (tr(lang, "Hết hạn lúc", "Expires at")) } dd { (vn_time(row.expires_at)) }
                dt { (tr(lang, "Địa chỉ", "Address")) } dd { (row.client_addr.as_deref().unwrap_or("")) }
                dt { (reference_label(lang)) } dd { code { (row.reference) } }
            }
            p class="muted" { (tr(lang, "Trang tự tải lại mỗi 10 giây trong lúc đang gọi.", "The page reloads itself every 10 seconds during the call.")) }
        }
        section class="card" aria-labelledby="n" data-testid="next-steps" {
            h2 id="n" { (tr(lang, "Bước tiếp theo", "Next step")) }
            @if steps.is_empty() {
                p class="muted" { (tr(lang, "Báo cáo không cho thấy lỗi nào đã biết; xem báo cáo và các lần thử bên dưới.", "The report shows no known problem; read the report and the attempts below.")) }
            } @else {
                ul { @for step in &steps { li { (step) } } }
            }
            h3 { (tr(lang, "Tài khoản", "Account")) }
            @if accounts.is_empty() {
                p class="muted" data-testid="support-no-account" { (tr(lang, "Ứng dụng chưa thử với tài khoản nào có thật và báo cáo không nêu MST của tài khoản nào: hỏi người gọi tên đăng nhập hoặc MST rồi tìm ở trang chính.", "The app tried no existing account and the report names no account's MST: ask the caller for the username or MST and search on the home page.")) }
            } @else {
                ul data-testid="support-accounts" {
                    @for (username, tried) in &accounts {
                        li {
                            a href={ "/account/" (crate::html::url_escape(username)) } data-testid="support-account" { (username) }
                            " "
                            span class="muted" { (if *tried { tr(lang, "(ứng dụng này đã thử)", "(this app tried it)") } else { tr(lang, "(theo MST trong báo cáo)", "(by the MST in the report)") }) }
                        }
                    }
                }
            }
        }
        section class="card" aria-labelledby="a" {
            h2 id="a" { (tr(lang, "Các lần thử từ ứng dụng này", "Attempts from this app")) }
            p class="muted" { (tr(lang, "Những gì máy chủ ghi lại từ ứng dụng này, trên mạng của người gọi, từ 30 phút trước khi gửi báo cáo.", "What the server recorded of this app, from the caller's network, from 30 minutes before the report was sent.")) }
            (timeline_table(lang, &attempts, true))
        }
        section class="card" aria-labelledby="r" {
            h2 id="r" { (tr(lang, "Báo cáo người gọi đã gửi", "The report the caller sent")) }
            pre class="report" data-testid="support-report" { (report.text.as_str()) }
        }
    };
    Ok(desk.refreshing_page(tr(lang, "Mã hỗ trợ", "Support code"), body, REFRESH_SECS))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_msts_a_report_names_are_read_from_its_certificate_line() {
        let report = "chứng thư số: CÔNG TY A — MST 0101234567, 0101234567-001 — cấp bởi VNPT-CA\nMST ?\nđiện thoại 0912345678\nMST: 0309999999";
        assert_eq!(super::msts_in(report), ["0101234567", "0101234567-001", "0309999999"]);
        assert!(super::msts_in("no tax code here 0101234567").is_empty(), "a number alone is not an MST");
    }
}
