//! What staff read: the search (reference code, username, MST), the timeline of
//! attempts, and the account page with its password state, link, limits and mail.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use bhxh_protocol::domain::normalize_username;
use bhxh_protocol::{ErrorCode, Lang, Mst, Reference, Username};
use maud::{html, Markup};
use serde::Deserialize;

use super::auth::{OnPage, StaffError};
use super::reference_label;
use crate::clock::vn_time;
use crate::context::{user_limit_prefix, AppState};
use crate::html::tr;
use crate::store::{Account, AuditEntry, AuditEvent, Detail, Mail, MailStatus, Outcome};

#[derive(Deserialize)]
pub(super) struct SearchQuery {
    #[serde(default)]
    q: String,
}

fn search_form(lang: Lang, q: &str) -> Markup {
    html! {
        section class="card" aria-labelledby="t" {
            h1 id="t" { (tr(lang, "Tìm tài khoản", "Find an account")) }
            form method="get" action="/" role="search" class="row" {
                div {
                    label for="q" { (tr(lang, "Mã hỗ trợ, mã tham chiếu, tên đăng nhập, mã số thuế, email hoặc tên doanh nghiệp", "Support code, reference code, username, tax code (MST), email or business name")) }
                    input type="search" id="q" name="q" value=(q) placeholder="HT-4821-7305-6 · RC-7F3K-9Q2M · ketoan01 · 0101234567 · cong ty abc" autofocus;
                }
                button class="primary" type="submit" data-testid="search" { (tr(lang, "Tìm", "Search")) }
            }
        }
    }
}

/// What staff read for an event: every event has its words (no fallback).
pub(super) fn event_label(lang: Lang, event: AuditEvent) -> &'static str {
    match event {
        AuditEvent::Challenge => tr(lang, "Yêu cầu mã xác thực (token)", "Challenge requested (token)"),
        AuditEvent::Complete => tr(lang, "Xác thực bằng token", "Token proof"),
        AuditEvent::Login => tr(lang, "Đăng nhập", "Login"),
        AuditEvent::Logout => tr(lang, "Đăng xuất", "Logout"),
        AuditEvent::ChangePassword => tr(lang, "Đổi mật khẩu", "Password change"),
        AuditEvent::Captcha => tr(lang, "Lấy mã captcha", "Captcha requested"),
        AuditEvent::PortalRecover => tr(lang, "Lấy lại mật khẩu qua MST + email", "Portal recovery (MST + email)"),
        AuditEvent::Activate => tr(lang, "Mở đường link kích hoạt", "Activation link opened"),
        AuditEvent::CertificateCheck => {
            tr(lang, "Kiểm tra chứng thư số (trước khi nhập PIN)", "Certificate checked (before the PIN)")
        }
        AuditEvent::StaffReset => tr(lang, "Nhân viên cấp lại mật khẩu", "Reset started by staff"),
        AuditEvent::StaffUnlock => tr(lang, "Nhân viên mở khóa", "Unlocked by staff"),
        AuditEvent::StaffResend => tr(lang, "Nhân viên gửi lại thư", "Mail resent by staff"),
        AuditEvent::StaffLogin => tr(lang, "Nhân viên đăng nhập", "Staff login"),
        AuditEvent::StaffView => tr(lang, "Nhân viên xem tài khoản", "Viewed by staff"),
        AuditEvent::StaffSearch => tr(lang, "Nhân viên tìm kiếm", "Staff search"),
        AuditEvent::StaffLogout => tr(lang, "Nhân viên đăng xuất", "Staff logout"),
        AuditEvent::StaffAction => tr(lang, "Thao tác của nhân viên bị từ chối", "Staff action refused"),
        AuditEvent::AdminAccountAdd => tr(lang, "Tạo tài khoản", "Account enrolled"),
        AuditEvent::AdminAccountUnlock => tr(lang, "Mở khóa (dòng lệnh)", "Unlocked (command line)"),
        AuditEvent::AdminAccountDisable => {
            tr(lang, "Vô hiệu hóa tài khoản (dòng lệnh)", "Account disabled (command line)")
        }
        AuditEvent::AdminAccountEnable => tr(lang, "Bật lại tài khoản (dòng lệnh)", "Account enabled (command line)"),
        AuditEvent::AdminStaffAdd => tr(lang, "Tạo nhân viên hỗ trợ (dòng lệnh)", "Staff member added (command line)"),
        AuditEvent::AdminStaffPassword => {
            tr(lang, "Đặt mật khẩu nhân viên (dòng lệnh)", "Staff password set (command line)")
        }
        AuditEvent::AdminOutboxAdoptKey => {
            tr(lang, "Nhận khóa hộp thư mới (dòng lệnh)", "New outbox key adopted (command line)")
        }
        AuditEvent::AdminStaffDisable => tr(lang, "Khóa nhân viên (dòng lệnh)", "Staff member disabled (command line)"),
        AuditEvent::AdminStaffRole => tr(lang, "Đặt vai trò nhân viên (dòng lệnh)", "Staff role set (command line)"),
        AuditEvent::AdminStaffUnlock => {
            tr(lang, "Mở giới hạn đăng nhập của nhân viên (dòng lệnh)", "Staff login limits cleared (command line)")
        }
        AuditEvent::EmailChangeRequest => tr(lang, "Yêu cầu đổi email bằng token", "Email change asked with the token"),
        AuditEvent::EmailChangeConfirm => tr(lang, "Email mới xác nhận", "New email confirmed"),
        AuditEvent::EmailChangeCancel => {
            tr(lang, "Hủy đổi email từ email cũ", "Email change cancelled from the old email")
        }
        AuditEvent::EmailChangeApply => tr(lang, "Email đăng ký đã đổi", "Registered email changed"),
        AuditEvent::StaffEmailPropose => tr(
            lang,
            "Nhân viên ghi nhận giấy tờ và đề xuất email mới",
            "Documents recorded and new email proposed by staff",
        ),
        AuditEvent::StaffEmailApprove => tr(lang, "Giám sát phê duyệt email mới", "New email approved by a supervisor"),
        AuditEvent::StaffEmailCancel => tr(lang, "Nhân viên hủy đổi email", "Email change cancelled by staff"),
        AuditEvent::SupportReport => {
            tr(lang, "Người gọi gửi thông tin cho nhân viên hỗ trợ", "Caller sent their details to support")
        }
        AuditEvent::StaffSupportView => tr(lang, "Nhân viên mở mã hỗ trợ", "Support code opened by staff"),
    }
}

pub(super) fn timeline_table(lang: Lang, entries: &[AuditEntry], with_user: bool) -> Markup {
    html! {
        @if entries.is_empty() {
            p class="muted" { (tr(lang, "Chưa có sự kiện nào.", "No events yet.")) }
        } @else {
            // One line per event; a table wider than the card scrolls inside it.
            div class="scroll" {
            table data-testid="timeline" {
                thead { tr {
                    th { (tr(lang, "Thời gian", "Time")) }
                    th { (reference_label(lang)) }
                    @if with_user { th { (tr(lang, "Tài khoản", "Account")) } }
                    th { (tr(lang, "Sự kiện", "Event")) }
                    th { (tr(lang, "Kết quả", "Outcome")) }
                    th { (tr(lang, "Người thực hiện", "Actor")) }
                    th { (tr(lang, "Địa chỉ", "Address")) }
                    th { (tr(lang, "Chi tiết", "Detail")) }
                } }
                tbody {
                    @for e in entries {
                        tr data-event=(e.event) {
                            td class="nowrap" { (vn_time(e.at)) }
                            td class="nowrap" { code { (e.reference) } }
                            @if with_user {
                                td class="nowrap" { @if let Some(u) = &e.username { a href={ "/account/" (u) } { (u) } } }
                            }
                            td class="nowrap" title=(e.event) { (event_label(lang, e.event)) }
                            @match e.outcome {
                                // The code's words on hover and in the detail column: one line.
                                Outcome::Ok => td class="nowrap" { span class="ok" { (tr(lang, "Thành công", "OK")) } },
                                Outcome::Rejected(code) => td class="nowrap" title=(code.message(lang)) {
                                    span class="bad" { (tr(lang, "Bị từ chối", "Refused")) } " " code { (code.as_str()) }
                                },
                            }
                            td class="nowrap" { (super::words::actor(lang, &e.actor)) }
                            td class="nowrap" { (e.client_addr.as_deref().unwrap_or("")) }
                            @let detail = e.detail.as_ref().map(|d| super::words::detail(lang, d)).unwrap_or_default();
                            @let said = match e.outcome { Outcome::Rejected(code) if detail.is_empty() => code.message(lang).to_string(), Outcome::Rejected(code) => format!("{} — {detail}", code.message(lang)), Outcome::Ok => detail };
                            td class="muted detail" title=(said) { (said) }
                        }
                    }
                }
            }
            }
        }
    }
}

pub(super) async fn home(
    State(s): State<AppState>,
    OnPage(desk): OnPage,
    Query(q): Query<SearchQuery>,
) -> Result<Response, StaffError> {
    let lang = desk.lang;
    let query: String = q.q.trim().chars().filter(|c| !c.is_control()).take(100).collect();
    let query = query.as_str();
    // A support code the caller read out opens its page (the code itself is not written
    // to the audit: for an hour it opens the caller's report; the page's line says which).
    // (`HT` then a digit, a space or a dash: `htx_nongnghiep` is a username.)
    let upper = query.to_ascii_uppercase();
    if upper.starts_with("HT") && upper[2..].starts_with(|c: char| c.is_ascii_digit() || c == ' ' || c == '-') {
        let code =
            bhxh_protocol::SupportCode::parse(query).map(|c| c.to_string()).unwrap_or_else(|| "HT-invalid".into());
        return Ok(super::redirect(&format!("/support/{code}")));
    }
    let results = if query.is_empty() {
        None
    } else {
        // Looking people up is access to personal data: it is audited too.
        let entry = desk.audit(
            &s,
            AuditEvent::StaffSearch,
            None,
            Some(Detail::Search { query: super::words::mask_id_numbers(query) }),
        );
        s.store.audit(&entry).await.map_err(|e| desk.internal(e))?;
        match search(&s, lang, query).await.map_err(|e| desk.internal(e))? {
            Found::Page(page) => Some(page),
            // One account matches: its page at once (the agent on the phone wants it).
            Found::One(username) => {
                return Ok(super::redirect(&format!("/account/{}", crate::html::url_escape(&username))))
            }
        }
    };
    // Mail the relay refused for good: staff should know before a caller does.
    let dead = s.store.dead_mail_count(s.clock.now() - 7 * 86_400).await.map_err(|e| desk.internal(e))?;
    // Mail sealed with an outbox key this server does not have: delivered only by a
    // server that has it, or never.
    let foreign = s.store.foreign_key_mail_count(s.outbox_key.id()).await.map_err(|e| desk.internal(e))?;
    // Proposals waiting for a supervisor (those out of date ended first): for a
    // supervisor, those another member proposed, the ones they can approve.
    crate::email_change::settle(&s).await.map_err(|e| desk.internal(e))?;
    let me = desk.who.staff.username.as_str();
    let supervisor = desk.who.staff.role == crate::store::StaffRole::Supervisor;
    let waiting = s
        .store
        .open_email_changes(500)
        .await
        .map_err(|e| desk.internal(e))?
        .iter()
        .filter(|c| {
            c.state == crate::store::ChangeState::Proposed && (!supervisor || c.proposed_by.as_deref() != Some(me))
        })
        .count();
    // The service's state, under the search form on the first page (not over results).
    let service = match results {
        None => {
            let attacked = attacked_accounts(&s, lang).await.map_err(|e| desk.internal(e))?;
            Some(super::service::section(&s, lang, &attacked).await.map_err(|e| desk.internal(e))?)
        }
        Some(_) => None,
    };
    Ok(desk.page(
        tr(lang, "Tìm kiếm", "Search"),
        html! {
            @if dead > 0 {
                p class="notice bad" role="alert" data-testid="dead-mail-alert" {
                    (tr(lang, "Cảnh báo: ", "Warning: ")) (dead)
                    (tr(lang, " thư không gửi được trong 7 ngày qua (máy chủ thư từ chối). Mở tài khoản để xem lỗi và gửi lại.",
                        " mail(s) could not be delivered in the last 7 days (refused by the mail server). Open the account to see the error and resend."))
                }
            }
            @if foreign > 0 {
                p class="notice bad" role="alert" data-testid="foreign-key-alert" {
                    (tr(lang, "Cảnh báo: ", "Warning: ")) (foreign)
                    (tr(lang, " thư đang chờ được niêm phong bằng một khóa hộp thư khác với khóa của máy chủ này, nên máy chủ này không gửi được. Hãy chép tệp outbox.key giống nhau cho mọi máy chủ.",
                        " waiting mail(s) are sealed with another outbox key than this server's, so this server cannot send them. Give every server the same outbox.key file."))
                }
            }
            @if waiting > 0 {
                p class="notice" data-testid="approvals-waiting" {
                    a href="/email-changes" {
                        strong { (waiting) }
                        @if supervisor {
                            (tr(lang, " yêu cầu đổi email đang chờ bạn phê duyệt", " email change(s) waiting for your approval"))
                        } @else {
                            (tr(lang, " yêu cầu đổi email đang chờ người giám sát phê duyệt", " email change(s) waiting for a supervisor"))
                        }
                    }
                }
            }
            (search_form(lang, query))
            @if let Some(r) = results { (r) }
            @if let Some(state) = service { (state) }
        },
    ))
}

/// What a search found: one account (opened at once) or a page of results.
enum Found {
    One(String),
    Page(Markup),
}

async fn search(s: &AppState, lang: Lang, query: &str) -> anyhow::Result<Found> {
    // "RC-…" is a reference; a bare 8-character code is one only if no account has it.
    let as_reference = Reference::parse(&query.to_ascii_uppercase());
    let explicit = query.to_ascii_uppercase().starts_with("RC-");
    // An MST read out in groups ("0101 234 567", "0101.234.567-001") is the MST.
    let grouped: String = query.chars().filter(|c| !c.is_whitespace() && *c != '.').collect();
    let key = match Mst::parse(query).or_else(|e| Mst::parse(&grouped).map_err(|_| e)) {
        Ok(m) => m.as_str().to_string(),
        Err(_) => Username::parse(query).map(|u| u.as_str().to_string()).unwrap_or_else(|_| normalize_username(query)),
    };
    let accounts = if explicit {
        Vec::new()
    } else if query.contains('@') {
        // An email address: the accounts registered with it.
        s.store.accounts_by_email(query, 50).await?
    } else {
        let mut found = s.store.search_accounts(&key, 50).await?;
        // Else words of a business's name, as a verified certificate wrote it.
        if found.is_empty() && bhxh_protocol::domain::fold_for_search(query).chars().count() >= 3 {
            found = s.store.accounts_by_business(query, 50).await?;
        }
        found
    };
    if let Some(reference) = as_reference.filter(|_| accounts.is_empty()) {
        let entries = s.store.audit_by_reference(reference.as_str()).await?;
        return Ok(Found::Page(html! {
            section class="card" data-testid="reference-result" {
                h2 { (tr(lang, "Sự kiện có mã tham chiếu", "Events with reference")) " " code { (reference.as_str()) } }
                (timeline_table(lang, &entries, true))
            }
        }));
    }
    if let [one] = accounts.as_slice() {
        return Ok(Found::One(one.username.clone()));
    }
    let mut businesses = Vec::with_capacity(accounts.len());
    for a in &accounts {
        businesses.push(s.store.business_name(&a.mst).await?);
    }
    Ok(Found::Page(html! {
        @if accounts.is_empty() {
            section class="card" data-testid="no-result" { p { (tr(lang, "Không tìm thấy tài khoản nào.", "No account found.")) } }
        } @else {
            section class="card" {
                table data-testid="results" {
                    thead { tr { th { (tr(lang, "Tên đăng nhập", "Username")) } th { "MST" } th { (tr(lang, "Doanh nghiệp", "Business")) } th { "Email" } } }
                    tbody {
                        @for (a, business) in accounts.iter().zip(&businesses) {
                            tr {
                                td { a href={ "/account/" (a.username) } { (a.username) } }
                                td { (a.mst) }
                                td { (business.as_deref().unwrap_or("—")) }
                                td { (a.email) }
                            }
                        }
                    }
                }
            }
        }
    }))
}

// ---- the account page -----------------------------------------------------------------

/// What an action that redirected here did (`done`) and its reference (`r`).
#[derive(Deserialize)]
pub(super) struct Notice {
    done: Option<String>,
    r: Option<String>,
}

fn password_state(lang: Lang, a: &Account, now: i64) -> String {
    match (&a.temp_password_hash, a.temp_used_at, a.temp_expires_at) {
        (None, _, _) => tr(lang, "Không có mật khẩu tạm thời.", "No temporary password.").to_string(),
        (Some(_), Some(used), _) => format!(
            "{} {} — {}",
            tr(lang, "Mật khẩu tạm thời đã được dùng lúc", "Temporary password used at"),
            vn_time(used),
            tr(lang, "người dùng phải đổi mật khẩu.", "the user must change the password.")
        ),
        (Some(_), None, Some(exp)) if exp < now => {
            format!(
                "{} {}",
                tr(lang, "Mật khẩu tạm thời đã hết hạn lúc", "Temporary password expired at"),
                vn_time(exp)
            )
        }
        (Some(_), None, exp) => format!(
            "{} {}",
            tr(lang, "Mật khẩu tạm thời chưa dùng, hết hạn lúc", "Temporary password not used yet, expires at"),
            exp.map(vn_time).unwrap_or_default()
        ),
    }
}

fn mail_status(lang: Lang, m: &Mail) -> Markup {
    let (class, label) = match m.status {
        MailStatus::Sent => ("ok", tr(lang, "Đã gửi", "Delivered")),
        MailStatus::Pending if m.attempts > 0 => ("bad", tr(lang, "Đang thử lại", "Retrying")),
        MailStatus::Pending => ("muted", tr(lang, "Đang chờ gửi", "Waiting")),
        MailStatus::Failed => ("bad", tr(lang, "Gửi thất bại", "Failed")),
    };
    html! { span class=(class) data-status=(m.status) { (label) } }
}

fn notice_box(lang: Lang, n: &Notice) -> Markup {
    let what = match n.done.as_deref() {
        Some("unlock") => tr(lang, "Đã mở khóa tài khoản (xóa các giới hạn thử lại).", "The account was unlocked (retry limits cleared)."),
        Some("reset") => tr(
            lang,
            "Đã cấp lại mật khẩu: mật khẩu tạm thời được gửi tới email đã đăng ký. Nhân viên không xem được mật khẩu.",
            "A reset was started: the temporary password was sent to the registered email. Staff cannot see it."
        ),
        Some("resend") => tr(lang, "Đã đưa thư vào hàng đợi gửi lại.", "The mail was queued to be sent again."),
        Some("email-proposed") => tr(
            lang,
            "Đã ghi nhận giấy tờ và đề xuất email mới. Cần một nhân viên giám sát khác phê duyệt.",
            "The documents are recorded and the new email proposed. Another staff member, a supervisor, must approve."
        ),
        Some("email-approved") => tr(
            lang,
            "Đã phê duyệt: email mới nhận link xác nhận (30 phút); sau khi xác nhận, email cũ được báo và có thể hủy.",
            "Approved: the new email got a confirmation link (30 minutes); once confirmed, the old email is told and can cancel."
        ),
        Some("email-cancelled") => tr(lang, "Đã hủy yêu cầu đổi email.", "The email change was cancelled."),
        _ => return html! {},
    };
    html! {
        div class="notice" role="status" data-testid="notice" {
            p { (what) }
            p class="muted" { (reference_label(lang)) ": " code { (n.r.as_deref().unwrap_or("")) } }
        }
    }
}

pub(super) async fn account_page(
    State(s): State<AppState>,
    OnPage(desk): OnPage,
    Path(username): Path<String>,
    Query(n): Query<Notice>,
) -> Result<Response, StaffError> {
    crate::email_change::settle(&s).await.map_err(|e| desk.internal(e))?;
    let Some(body) = render_account(&s, &desk, &username, &n).await.map_err(|e| desk.internal(e))? else {
        return Err(desk.error(ErrorCode::AccountNotFound));
    };
    // Opening an account is audited, except the page an action redirects to (the
    // action's own line already says who).
    if n.done.is_none() {
        let entry = desk.audit(&s, AuditEvent::StaffView, Some(&username), Some(Detail::AccountPage));
        s.store.audit(&entry).await.map_err(|e| desk.internal(e))?;
    }
    Ok(desk.page(&username, body))
}

/// The accounts under attack now (every client together past an account's mark), each
/// with what marks it.
async fn attacked_accounts(s: &AppState, lang: Lang) -> anyhow::Result<Vec<(String, Vec<String>)>> {
    let now = s.clock.now();
    let l = &s.config.limits;
    let window = l.per_username_window_secs.max(l.failed_proofs_window_secs);
    let windows = s.store.limits_with_prefix("user:", now - window).await?;
    let mut users: Vec<&str> = windows
        .iter()
        .filter_map(|(key, _, _)| key.strip_prefix("user:").and_then(|rest| rest.split_once(':')).map(|(u, _)| u))
        .collect();
    users.sort_unstable();
    users.dedup();
    let mut attacked = Vec::new();
    for user in users {
        let prefix = user_limit_prefix(user);
        let mine: Vec<(String, i64, i64)> =
            windows.iter().filter(|(k, _, _)| k.starts_with(&prefix)).cloned().collect();
        let (_, marks) = read_windows(s, lang, &prefix, &mine, now);
        if !marks.is_empty() {
            attacked.push((user.to_string(), marks));
        }
    }
    Ok(attacked)
}

/// The limits' windows of one account (`prefix` is its `user:NAME:`), as staff read
/// them: those that hold one client back, and those that mark an attack (every client
/// together past the account's mark).
fn read_windows(
    s: &AppState,
    lang: Lang,
    prefix: &str,
    windows: &[(String, i64, i64)],
    now: i64,
) -> (Vec<String>, Vec<String>) {
    let l = &s.config.limits;
    let (mut locked, mut attacked) = (Vec::new(), Vec::new());
    for (key, count, start) in windows {
        let Some(w) = Window::parse(key.strip_prefix(prefix).unwrap_or(key)) else { continue };
        let (length, limit, mark) = match w.what {
            Tried::Event(_) => {
                (l.per_username_window_secs, i64::from(l.per_username) + 1, i64::from(l.per_username_total) + 1)
            }
            Tried::WrongPasswords(_) => {
                (l.per_username_window_secs, i64::from(l.per_username), i64::from(l.per_username_total) + 1)
            }
            Tried::FailedProofs => (
                l.failed_proofs_window_secs,
                i64::from(l.failed_proofs_per_client),
                i64::from(l.failed_proofs_per_account) + 1,
            ),
        };
        if start + length <= now {
            continue;
        }
        let until = vn_time(start + length);
        let label = w.what.label(lang);
        match w.client {
            Some(client) if *count >= limit => locked.push(format!(
                "{label}, {} {client} ({} {until})",
                tr(lang, "từ", "from"),
                tr(lang, "đến", "until")
            )),
            None if *count >= mark => attacked.push(format!("{label}: {count} ({} {until})", tr(lang, "đến", "until"))),
            _ => {}
        }
    }
    (locked, attacked)
}

/// A window of tries on an account, read from its key (after the account's prefix; see
/// `context`): one client's, or every client's together.
struct Window<'a> {
    client: Option<&'a str>,
    what: Tried,
}

/// What a window counts.
enum Tried {
    /// Requests of an event (challenges, change-password tries).
    Event(AuditEvent),
    /// Wrong passwords at an event's login.
    WrongPasswords(AuditEvent),
    /// Failed token proofs.
    FailedProofs,
}

impl Window<'_> {
    fn parse(rest: &str) -> Option<Window<'_>> {
        let (client, what) = match rest.strip_prefix("client:") {
            // The client key is an address or an IPv6 /64 (colons inside): what follows
            // its last colon-separated part that names an event is the event.
            Some(tail) => {
                let (client, what) = split_client(tail)?;
                (Some(client), what)
            }
            None => (None, rest),
        };
        let what = if what == "failed-proofs" {
            Tried::FailedProofs
        } else if let Some(event) = what.strip_suffix(":failed") {
            Tried::WrongPasswords(AuditEvent::parse(event)?)
        } else {
            Tried::Event(AuditEvent::parse(what)?)
        };
        Some(Window { client, what })
    }
}

/// `ADDRESS:WHAT` where the address may hold colons: the split is at the first colon
/// after which the rest is a known window kind.
fn split_client(tail: &str) -> Option<(&str, &str)> {
    tail.match_indices(':').map(|(i, _)| (&tail[..i], &tail[i + 1..])).find(|(_, what)| {
        *what == "failed-proofs" || AuditEvent::parse(what.strip_suffix(":failed").unwrap_or(what)).is_some()
    })
}

impl Tried {
    fn label(&self, lang: Lang) -> String {
        match self {
            Tried::Event(e) => event_label(lang, *e).to_string(),
            Tried::WrongPasswords(e) => {
                format!("{} — {}", event_label(lang, *e), tr(lang, "sai mật khẩu", "wrong passwords"))
            }
            Tried::FailedProofs => tr(lang, "Xác thực bằng token thất bại", "Failed token proofs").to_string(),
        }
    }
}

async fn render_account(
    s: &AppState,
    desk: &super::auth::Desk,
    username: &str,
    n: &Notice,
) -> anyhow::Result<Option<Markup>> {
    let (lang, csrf) = (desk.lang, desk.who.csrf.as_str());
    let Some(a) = s.store.account_by_username(username).await? else {
        return Ok(None);
    };
    let email_section = super::email::section(s, lang, csrf, desk.who.staff.role, &desk.who.staff.username, &a).await?;
    let now = s.clock.now();
    let l = &s.config.limits;
    let prefix = user_limit_prefix(&a.username);
    let since = now - l.per_username_window_secs.max(l.failed_proofs_window_secs);
    let windows = s.store.limits_with_prefix(&prefix, since).await?;
    let (locked, attacked) = read_windows(s, lang, &prefix, &windows, now);
    let pending = s.store.pending_activation(a.id, now).await?;
    let timeline = s.store.audit_for_account(&a.username, &a.mst, 100).await?;
    let mails = s.store.mail_of_account(a.id, 20).await?;
    let business = s.store.business_name(&a.mst).await?;
    let u = &a.username;
    Ok(Some(html! {
        (notice_box(lang, n))
        section class="card" aria-labelledby="t" {
            h1 id="t" { (tr(lang, "Tài khoản", "Account")) " " code data-testid="account" { (u) } }
            @if let Some(at) = a.disabled_at {
                div class="error" role="status" data-testid="account-disabled" {
                    p { strong { (tr(lang, "Tài khoản đang bị vô hiệu hóa", "The account is disabled")) } " " (tr(lang, "từ", "since")) " " (vn_time(at)) ": " (a.disabled_reason.as_deref().unwrap_or("—")) }
                    p { (tr(
                        lang,
                        "Người dùng không lấy lại được mật khẩu và không đăng nhập được; hệ thống trả lời như với tài khoản không tồn tại. Bật lại bằng lệnh bhxh-server account enable.",
                        "The user cannot recover a password or log in; the system answers as for an unknown account. Enable it with bhxh-server account enable."
                    )) }
                }
            }
            dl {
                dt { "MST" } dd { (a.mst) }
                dt { (tr(lang, "Doanh nghiệp", "Business")) }
                dd data-testid="business" {
                    @match &business {
                        Some(name) => { (name) " " span class="muted" { (tr(lang, "(theo chứng thư số đã xác thực gần nhất)", "(as the last verified certificate names it)")) } },
                        None => span class="muted" { (tr(lang, "chưa biết: chưa có lần xác thực bằng token nào thành công", "not known yet: no token proof has succeeded")) },
                    }
                }
                dt { "Email" } dd { (a.email) }
                dt { (tr(lang, "Chứng thư số", "Certificate")) }
                dd {
                    @match &a.cert_fingerprint {
                        Some(f) => { (tr(lang, "ghim theo dấu vân tay", "pinned by fingerprint")) " " code { (f) } },
                        None => (tr(lang, "mọi chứng thư hợp lệ mang MST này", "any valid certificate carrying this MST")),
                    }
                }
                dt { (tr(lang, "Mật khẩu", "Password")) }
                dd data-testid="password-state" { (password_state(lang, &a, now)) }
                dt { (tr(lang, "Link kích hoạt (cổng)", "Activation link (portal)")) }
                dd {
                    @match &pending {
                        Some(p) => { (tr(lang, "đang chờ người dùng mở, hết hạn lúc", "waiting for the user, expires at")) " " (vn_time(p.expires_at)) },
                        None => (tr(lang, "không có link nào đang chờ", "none waiting")),
                    }
                }
                dt { (tr(lang, "Giới hạn thử lại", "Retry limits")) }
                dd data-testid="lock-state" {
                    @if locked.is_empty() {
                        span class="ok" { (tr(lang, "không bị chặn", "not blocked")) }
                    } @else {
                        span class="bad" { (tr(lang, "đang bị chặn tạm thời", "temporarily blocked")) } ": " (locked.join("; "))
                    }
                    @if !attacked.is_empty() {
                        br;
                        span class="bad" data-testid="under-attack" {
                            (tr(lang, "Đang bị thử dồn dập từ nhiều nơi (chủ tài khoản vẫn dùng được bình thường)", "Under attack from many places (the owner is not held back)"))
                        } ": " (attacked.join("; "))
                    }
                }
            }
        }
        section class="card" aria-labelledby="a" {
            h2 id="a" { (tr(lang, "Thao tác", "Actions")) }
            div class="actions" {
                form method="post" action={ "/account/" (u) "/unlock" } {
                    input type="hidden" name="csrf" value=(csrf);
                    p { (tr(lang, "Xóa các giới hạn thử lại để người dùng thử lại ngay.", "Clear the retry limits so the user can try again now.")) }
                    button type="submit" data-testid="unlock" { (tr(lang, "Mở khóa", "Unlock")) }
                }
                // Folded: the page stays short; the agent opens it once the caller is verified.
                details class="fold" data-testid="reset-fold" {
                summary { (tr(lang, "Cấp lại mật khẩu (sau khi xác minh người gọi)…", "Start a reset (once the caller is verified)…")) }
                form method="post" action={ "/account/" (u) "/reset" } {
                    input type="hidden" name="csrf" value=(csrf);
                    p { (tr(
                        lang,
                        "Gửi mật khẩu tạm thời mới tới email đã đăng ký. Nhân viên không xem và không chọn được mật khẩu.",
                        "Send a new temporary password to the registered email. Staff can neither see nor choose it."
                    )) }
                    label {
                        input type="checkbox" name="verified" value="yes" required data-testid="verified";
                        " " (tr(
                            lang,
                            "Tôi đã xác minh danh tính người gọi (CCCD/CMND của người đăng ký, giấy phép kinh doanh, giấy ủy quyền bản gốc nếu không phải người đăng ký).",
                            "I verified the caller (ID card of the registrant, business licence, original letter of authorisation if not the registrant)."
                        ))
                    }
                    label for="note" { (tr(lang, "Ghi chú xác minh", "Verification note")) }
                    input type="text" id="note" name="note" maxlength="200" required
                        placeholder=(tr(lang, "VD: gọi lúc 9:40, đã đối chiếu CCCD và GPKD (không ghi số CCCD)", "e.g. call at 9:40, checked ID card and licence (no ID number)"));
                    p { button class="danger" type="submit" data-testid="reset" { (tr(lang, "Cấp lại mật khẩu", "Start a reset")) } }
                }
                }
            }
        }
        (email_section)
        details class="card fold" open aria-labelledby="m" data-testid="mail-section" {
            summary { h2 id="m" { (tr(lang, "Thư đã gửi", "Mail")) " " span class="muted small" { "(" (mails.len()) ")" } } }
            @if mails.is_empty() {
                p class="muted" { (tr(lang, "Chưa có thư nào.", "No mail yet.")) }
            } @else {
                table data-testid="mails" {
                    thead { tr {
                        th { (tr(lang, "Tạo lúc", "Created")) }
                        th { (tr(lang, "Loại thư", "Kind")) }
                        th { (tr(lang, "Gửi tới", "To")) }
                        th { (tr(lang, "Trạng thái", "State")) }
                        th { (tr(lang, "Số lần gửi", "Attempts")) }
                        th { (tr(lang, "Gửi xong lúc", "Delivered at")) }
                        th { (tr(lang, "Lỗi gần nhất", "Last error")) }
                        th { (reference_label(lang)) }
                        th {}
                    } }
                    tbody {
                        @for m in &mails {
                            tr data-mail=(m.id) data-kind=(m.kind) {
                                td { (vn_time(m.created_at)) }
                                td { (super::words::mail_kind(lang, m.kind)) }
                                td { (m.recipient) }
                                td { (mail_status(lang, m)) }
                                td { (m.attempts) }
                                td { (m.sent_at.map(vn_time).unwrap_or_default()) }
                                td class="muted" { (m.last_error.as_deref().unwrap_or("")) }
                                td { code { (m.reference) } }
                                td {
                                    @if m.can_resend() {
                                        form method="post" action={ "/mail/" (m.id) "/resend" } {
                                            input type="hidden" name="csrf" value=(csrf);
                                            button type="submit" data-testid={ "resend-" (m.id) } { (tr(lang, "Gửi lại", "Resend")) }
                                        }
                                    } @else {
                                        span class="muted small" data-testid={ "no-resend-" (m.id) } {
                                            (tr(lang, "Không gửi lại được: thư có mật khẩu hoặc đường link, đã xóa sau khi gửi.",
                                                "Cannot be resent: it held a password or a link, wiped once delivered."))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        details class="card fold" open aria-labelledby="tl" data-testid="timeline-section" {
            summary { h2 id="tl" { (tr(lang, "Lịch sử", "Timeline")) " " span class="muted small" { "(" (timeline.len()) ")" } } }
            (timeline_table(lang, &timeline, false))
        }
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_window_key_reads_as_who_and_what() {
        let w = Window::parse("client:2001:db8:1:0::/64:login:failed").unwrap();
        assert_eq!(w.client, Some("2001:db8:1:0::/64"));
        assert!(matches!(w.what, Tried::WrongPasswords(AuditEvent::Login)));
        let w = Window::parse("client:198.51.100.7:failed-proofs").unwrap();
        assert_eq!(w.client, Some("198.51.100.7"));
        assert!(matches!(w.what, Tried::FailedProofs));
        let w = Window::parse("change_password").unwrap();
        assert!(w.client.is_none() && matches!(w.what, Tried::Event(AuditEvent::ChangePassword)));
        assert!(Window::parse("mails").is_none(), "the day's mails are not a window of tries");
        assert!(Window::parse("client:198.51.100.7:nonsense").is_none());
    }
}
