//! A support code's page: what the caller's app sees. The report they agreed to send,
//! the attempts their app instance made since from the caller's network (reloaded every
//! 10 s while the page is open; an instance id is the app's word, so another network's
//! attempts under the same id are not the caller's to show), and the next step that fits. Every opening is audited with the staff member's
//! name; an unknown, mistyped or expired code gets one answer; lookups are limited per
//! staff member.

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
    let mut attempts =
        s.store.audit_of_instance(&row.instance, row.created_at, 100).await.map_err(|e| desk.internal(e))?;
    let network = |addr: Option<&str>| addr.and_then(|a| a.parse().ok()).map(crate::client_addr::network_key);
    let callers = network(row.client_addr.as_deref());
    attempts.retain(|a| callers.is_some() && network(a.client_addr.as_deref()) == callers);
    let steps = crate::support::next_steps(&report.facts, &attempts, lang);
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
        }
        section class="card" aria-labelledby="a" {
            h2 id="a" { (tr(lang, "Các lần thử từ ứng dụng này", "Attempts from this app")) }
            p class="muted" { (tr(lang, "Những gì máy chủ ghi lại từ ứng dụng này, trên mạng của người gọi.", "What the server recorded of this app, from the caller's network.")) }
            (timeline_table(lang, &attempts, true))
        }
        section class="card" aria-labelledby="r" {
            h2 id="r" { (tr(lang, "Báo cáo người gọi đã gửi", "The report the caller sent")) }
            pre class="report" data-testid="support-report" { (report.text.as_str()) }
        }
    };
    Ok(desk.refreshing_page(tr(lang, "Mã hỗ trợ", "Support code"), body, REFRESH_SECS))
}
