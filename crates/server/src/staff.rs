//! The support desk's staff console: server-rendered pages on their own listener
//! (loopback by default), behind a staff login.
//!
//! Staff find an account by reference code, username or MST, read the timeline of its
//! attempts and the state of its mail, and can resend a mail, unlock the account (clear
//! its rate limits) or start a reset for a caller who proved who they are by phone. They
//! never see or choose a password: no page shows a password, a hash, a token or a link,
//! and a password mail whose content was wiped after delivery cannot be resent.
//!
//! Every staff action and login is audited with the staff member's username and name.
//! Sessions: a random token in an `HttpOnly; SameSite=Strict` cookie, stored hashed;
//! every form carries the session's CSRF token, checked on every POST.

use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::header::{COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use bhxh_protocol::domain::normalize_username;
use bhxh_protocol::{ErrorCode, Lang, Mst, Reference, Username};
use rand::RngCore;
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::clock::vn_time;
use crate::html::{self, esc, tr};
use crate::http::{context_layer, user_limit_key, AppState, Ctx};
use crate::mail::{self, MailFacts, NoticeKind, ResetVia};
use crate::passwords;
use crate::store::{Account, AuditEntry, Mail, StaffSession};

const COOKIE_NAME: &str = "bhxh_staff";
const LANG_COOKIE: &str = "bhxh_staff_lang";

/// The console's router (served on `staff_listen`).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/lang/{to}", get(set_lang))
        .route("/account/{username}", get(account_page))
        .route("/account/{username}/unlock", post(unlock))
        .route("/account/{username}/reset", post(start_reset))
        .route("/mail/{id}/resend", post(resend))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(16 * 1024))
        .layer(axum::middleware::from_fn_with_state(state.clone(), context_layer))
        .with_state(state)
}

// ---- sessions, language, pages --------------------------------------------------------

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn lang_of(ctx: &Ctx, headers: &HeaderMap) -> Lang {
    match cookie(headers, LANG_COOKIE) {
        Some("en") => Lang::En,
        Some("vi") => Lang::Vi,
        _ => ctx.lang,
    }
}

async fn session(s: &AppState, headers: &HeaderMap) -> anyhow::Result<Option<StaffSession>> {
    match cookie(headers, COOKIE_NAME) {
        Some(token) if !token.is_empty() => s.store.staff_session(&passwords::token_hash(token), s.clock.now()).await,
        _ => Ok(None),
    }
}

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

fn brand(lang: Lang) -> &'static str {
    tr(lang, "BHXH – Bàn hỗ trợ", "BHXH – Support desk")
}

fn nav(lang: Lang, who: Option<&StaffSession>) -> String {
    let switch = match lang {
        Lang::Vi => "<a href=\"/lang/en\" lang=\"en\">English</a>",
        Lang::En => "<a href=\"/lang/vi\" lang=\"vi\">Tiếng Việt</a>",
    };
    match who {
        None => switch.to_string(),
        Some(w) => format!(
            "<a href=\"/\">{search}</a>{switch}<span data-testid=\"staff-name\">{name}</span>\
<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<button class=\"link\" type=\"submit\" data-testid=\"logout\">{logout}</button></form>",
            search = tr(lang, "Tìm kiếm", "Search"),
            name = esc(&w.staff.name),
            csrf = esc(&w.csrf),
            logout = tr(lang, "Đăng xuất", "Log out"),
        ),
    }
}

fn page(lang: Lang, status: StatusCode, who: Option<&StaffSession>, title: &str, body: &str) -> Response {
    html::page(lang, status, title, brand(lang), &nav(lang, who), body)
}

fn error_page(lang: Lang, who: Option<&StaffSession>, code: ErrorCode, reference: &str) -> Response {
    let body = format!("<section class=\"card\">{}<p><a href=\"/\">{}</a></p></section>", html::error_box(lang, code, reference), tr(lang, "Về trang tìm kiếm", "Back to search"));
    page(lang, html::status_of(code), who, tr(lang, "Lỗi", "Error"), &body)
}

fn internal(ctx: &Ctx, lang: Lang, who: Option<&StaffSession>, e: impl std::fmt::Display) -> Response {
    tracing::error!(reference = %ctx.reference, error = %e, "staff console: internal error");
    error_page(lang, who, ErrorCode::Internal, ctx.reference.as_str())
}

/// The session or the refusal: pages redirect to the login, actions answer 401.
async fn require(s: &AppState, ctx: &Ctx, headers: &HeaderMap, lang: Lang, page_request: bool) -> Result<StaffSession, Response> {
    match session(s, headers).await {
        Ok(Some(w)) => Ok(w),
        Ok(None) if page_request => Err(redirect("/login")),
        Ok(None) => Err(error_page(lang, None, ErrorCode::StaffLoginRequired, ctx.reference.as_str())),
        Err(e) => Err(internal(ctx, lang, None, e)),
    }
}

fn check_csrf(w: &StaffSession, given: &str) -> bool {
    let (a, b) = (w.csrf.as_bytes(), given.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn actor(w: &StaffSession) -> String {
    format!("staff:{} ({})", w.staff.username, w.staff.name)
}

fn staff_audit(s: &AppState, ctx: &Ctx, w: &StaffSession, event: &str, username: Option<&str>, detail: String) -> AuditEntry {
    let mut e = s.audit_entry(ctx, event, username, Ok(()));
    e.actor = actor(w);
    e.detail = Some(detail);
    e
}

async fn not_found(ctx: Ctx, headers: HeaderMap) -> Response {
    error_page(lang_of(&ctx, &headers), None, ErrorCode::NotFound, ctx.reference.as_str())
}

async fn set_lang(Path(to): Path<String>) -> Response {
    let lang = if to == "en" { "en" } else { "vi" };
    let mut r = redirect("/");
    if let Ok(v) = HeaderValue::from_str(&format!("{LANG_COOKIE}={lang}; Path=/; SameSite=Strict; Max-Age=31536000")) {
        r.headers_mut().insert(SET_COOKIE, v);
    }
    r
}

// ---- login ----------------------------------------------------------------------------

fn login_form(lang: Lang, error: Option<(ErrorCode, &str)>) -> String {
    format!(
        "<section class=\"card narrow\" aria-labelledby=\"t\"><h1 id=\"t\">{title}</h1>{err}\
<form method=\"post\" action=\"/login\">\
<label for=\"username\">{user}</label><input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\" required autofocus>\
<label for=\"password\">{pass}</label><input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>\
<p><button class=\"primary\" type=\"submit\" data-testid=\"login\">{button}</button></p></form>\
<p class=\"muted\">{note}</p></section>",
        title = tr(lang, "Đăng nhập nhân viên hỗ trợ", "Support staff login"),
        err = error.map(|(c, r)| html::error_box(lang, c, r)).unwrap_or_default(),
        user = tr(lang, "Tên đăng nhập", "Username"),
        pass = tr(lang, "Mật khẩu", "Password"),
        button = tr(lang, "Đăng nhập", "Log in"),
        note = tr(
            lang,
            "Mọi thao tác trên bàn hỗ trợ đều được ghi nhật ký kèm tên nhân viên.",
            "Every action on the support desk is logged with the staff member's name."
        ),
    )
}

async fn login_page(State(s): State<AppState>, ctx: Ctx, headers: HeaderMap) -> Response {
    let lang = lang_of(&ctx, &headers);
    if let Ok(Some(_)) = session(&s, &headers).await {
        return redirect("/");
    }
    page(lang, StatusCode::OK, None, tr(lang, "Đăng nhập", "Log in"), &login_form(lang, None))
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

async fn login(State(s): State<AppState>, ctx: Ctx, headers: HeaderMap, form: Result<Form<LoginForm>, FormRejection>) -> Response {
    const EVENT: &str = "staff.login";
    let lang = lang_of(&ctx, &headers);
    let Ok(Form(form)) = form else {
        return error_page(lang, None, ErrorCode::MalformedRequest, ctx.reference.as_str());
    };
    let password = Zeroizing::new(form.password);
    let username = normalize_username(&form.username);
    let refused = |code: ErrorCode| {
        let status = html::status_of(code);
        page(lang, status, None, tr(lang, "Đăng nhập", "Log in"), &login_form(lang, Some((code, ctx.reference.as_str()))))
    };
    let l = &s.config.limits;
    let limits = async {
        s.limit_client(&ctx, EVENT, None).await?;
        s.limit(&ctx, &format!("staff:{username}:{EVENT}"), l.per_username, l.per_username_window_secs, EVENT, None).await
    };
    if let Err(e) = limits.await {
        return refused(e.code);
    }
    let staff = match s.store.staff_by_username(&username).await {
        Ok(st) => st.filter(|st| st.disabled_at.is_none()),
        Err(e) => return internal(&ctx, lang, None, e),
    };
    // Verified against a dummy when there is no such member: the same work either way.
    let ok = match s.hasher.verify(password, staff.as_ref().map(|st| st.password_hash.clone())).await {
        Ok(ok) => ok,
        Err(e) => return internal(&ctx, lang, None, e),
    };
    let Some(staff) = staff.filter(|_| ok) else {
        let mut entry = s.audit_entry(&ctx, EVENT, None, Err(ErrorCode::StaffLoginFailed));
        entry.actor = format!("staff:{username}");
        if let Err(e) = s.store.audit(&entry).await {
            return internal(&ctx, lang, None, e);
        }
        return refused(ErrorCode::StaffLoginFailed);
    };
    let (token, token_hash) = passwords::session_token();
    let mut csrf = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut csrf);
    let csrf: String = csrf.iter().map(|b| format!("{b:02x}")).collect();
    let now = s.clock.now();
    let ttl = s.config.staff_session_ttl_secs;
    let mut entry = s.audit_entry(&ctx, EVENT, None, Ok(()));
    entry.actor = format!("staff:{} ({})", staff.username, staff.name);
    if let Err(e) = s.store.create_staff_session(staff.id, &token_hash, &csrf, now, now + ttl, &entry).await {
        return internal(&ctx, lang, None, e);
    }
    let mut r = redirect("/");
    let cookie = format!("{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={ttl}");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(SET_COOKIE, v);
    }
    r
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(State(s): State<AppState>, ctx: Ctx, headers: HeaderMap, form: Result<Form<CsrfForm>, FormRejection>) -> Response {
    let lang = lang_of(&ctx, &headers);
    let w = match require(&s, &ctx, &headers, lang, false).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    if !form.as_ref().is_ok_and(|f| check_csrf(&w, &f.csrf)) {
        return error_page(lang, Some(&w), ErrorCode::StaffCsrf, ctx.reference.as_str());
    }
    let entry = staff_audit(&s, &ctx, &w, "staff.logout", None, String::new());
    if let Err(e) = s.store.delete_staff_session(&w.token_hash, &entry).await {
        return internal(&ctx, lang, Some(&w), e);
    }
    let mut r = redirect("/login");
    r.headers_mut().insert(SET_COOKIE, HeaderValue::from_static("bhxh_staff=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"));
    r
}

// ---- search ---------------------------------------------------------------------------

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

fn search_form(lang: Lang, q: &str) -> String {
    format!(
        "<section class=\"card\" aria-labelledby=\"t\"><h1 id=\"t\">{title}</h1>\
<form method=\"get\" action=\"/\" role=\"search\" class=\"row\"><div><label for=\"q\">{label}</label>\
<input type=\"search\" id=\"q\" name=\"q\" value=\"{q}\" placeholder=\"RC-7F3K-9Q2M · ketoan01 · 0101234567\" autofocus></div>\
<button class=\"primary\" type=\"submit\" data-testid=\"search\">{button}</button></form></section>",
        title = tr(lang, "Tìm tài khoản", "Find an account"),
        label = tr(lang, "Mã tham chiếu, tên đăng nhập hoặc mã số thuế", "Reference code, username or tax code (MST)"),
        q = esc(q),
        button = tr(lang, "Tìm", "Search"),
    )
}

fn event_label(lang: Lang, event: &str) -> &'static str {
    match event {
        "challenge" => tr(lang, "Yêu cầu thử thách (token)", "Challenge requested (token)"),
        "complete" => tr(lang, "Xác thực bằng token", "Token proof"),
        "login" => tr(lang, "Đăng nhập", "Login"),
        "logout" => tr(lang, "Đăng xuất", "Logout"),
        "change_password" => tr(lang, "Đổi mật khẩu", "Password change"),
        "portal_recover" => tr(lang, "Lấy lại mật khẩu qua MST + email", "Portal recovery (MST + email)"),
        "activate" => tr(lang, "Mở đường link kích hoạt", "Activation link opened"),
        "staff.reset" => tr(lang, "Nhân viên cấp lại mật khẩu", "Reset started by staff"),
        "staff.unlock" => tr(lang, "Nhân viên mở khóa", "Unlocked by staff"),
        "staff.resend" => tr(lang, "Nhân viên gửi lại thư", "Mail resent by staff"),
        "staff.login" => tr(lang, "Nhân viên đăng nhập", "Staff login"),
        "staff.view" => tr(lang, "Nhân viên xem tài khoản", "Viewed by staff"),
        "staff.search" => tr(lang, "Nhân viên tìm kiếm", "Staff search"),
        "staff.logout" => tr(lang, "Nhân viên đăng xuất", "Staff logout"),
        "admin.account_add" => tr(lang, "Tạo tài khoản", "Account enrolled"),
        "admin.account_unlock" => tr(lang, "Mở khóa (dòng lệnh)", "Unlocked (command line)"),
        _ => tr(lang, "Sự kiện khác", "Other event"),
    }
}

fn timeline_table(lang: Lang, entries: &[AuditEntry], with_user: bool) -> String {
    if entries.is_empty() {
        return format!("<p class=\"muted\">{}</p>", tr(lang, "Chưa có sự kiện nào.", "No events yet."));
    }
    let mut rows = String::new();
    for e in entries {
        let outcome = if e.outcome == "ok" {
            format!("<span class=\"ok\">{}</span>", tr(lang, "Thành công", "OK"))
        } else {
            let code = e.error_code.as_deref().unwrap_or("");
            let msg = ErrorCode::parse(code).map(|c| c.message(lang)).unwrap_or("");
            format!("<span class=\"bad\">{}</span> <code>{}</code><br><span class=\"muted\">{}</span>", tr(lang, "Bị từ chối", "Refused"), esc(code), esc(msg))
        };
        let user = if with_user {
            match &e.username {
                Some(u) => format!("<td><a href=\"/account/{0}\">{0}</a></td>", esc(u)),
                None => "<td></td>".into(),
            }
        } else {
            String::new()
        };
        rows.push_str(&format!(
            "<tr data-event=\"{event}\"><td>{at}</td><td><code>{reference}</code></td>{user}<td>{label}<br><span class=\"muted\">{event}</span></td>\
<td>{outcome}</td><td>{actor}</td><td>{client}</td><td class=\"muted\">{detail}</td></tr>",
            at = vn_time(e.at),
            reference = esc(&e.reference),
            label = event_label(lang, &e.event),
            event = esc(&e.event),
            actor = esc(&e.actor),
            client = esc(e.client_addr.as_deref().unwrap_or("")),
            detail = esc(e.detail.as_deref().unwrap_or("")),
        ));
    }
    format!(
        "<table data-testid=\"timeline\"><thead><tr><th>{at}</th><th>{reference}</th>{user}<th>{event}</th><th>{outcome}</th><th>{actor}</th><th>{client}</th><th>{detail}</th></tr></thead><tbody>{rows}</tbody></table>",
        at = tr(lang, "Thời gian", "Time"),
        reference = tr(lang, "Mã tham chiếu", "Reference"),
        user = if with_user { format!("<th>{}</th>", tr(lang, "Tài khoản", "Account")) } else { String::new() },
        event = tr(lang, "Sự kiện", "Event"),
        outcome = tr(lang, "Kết quả", "Outcome"),
        actor = tr(lang, "Người thực hiện", "Actor"),
        client = tr(lang, "Địa chỉ", "Address"),
        detail = tr(lang, "Chi tiết", "Detail"),
    )
}

async fn home(State(s): State<AppState>, ctx: Ctx, headers: HeaderMap, Query(q): Query<SearchQuery>) -> Response {
    let lang = lang_of(&ctx, &headers);
    let w = match require(&s, &ctx, &headers, lang, true).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let query: String = q.q.trim().chars().filter(|c| !c.is_control()).take(100).collect();
    let query = query.as_str();
    let mut body = search_form(lang, query);
    if !query.is_empty() {
        // Looking people up is access to personal data: it is audited too.
        let entry = staff_audit(&s, &ctx, &w, "staff.search", None, format!("q={query}"));
        if let Err(e) = s.store.audit(&entry).await {
            return internal(&ctx, lang, Some(&w), e);
        }
        match search(&s, lang, query).await {
            Ok(html) => body.push_str(&html),
            Err(e) => return internal(&ctx, lang, Some(&w), e),
        }
    }
    page(lang, StatusCode::OK, Some(&w), tr(lang, "Tìm kiếm", "Search"), &body)
}

async fn search(s: &AppState, lang: Lang, query: &str) -> anyhow::Result<String> {
    // "RC-…" is a reference; a bare 8-character code is one only if no account has it.
    let as_reference = Reference::parse(&query.to_ascii_uppercase());
    let explicit = query.to_ascii_uppercase().starts_with("RC-");
    let key = match Mst::parse(query) {
        Ok(m) => m.as_str().to_string(),
        Err(_) => Username::parse(query).map(|u| u.as_str().to_string()).unwrap_or_else(|_| normalize_username(query)),
    };
    let accounts = if explicit { Vec::new() } else { s.store.search_accounts(&key, 50).await? };
    if let Some(reference) = as_reference.filter(|_| accounts.is_empty()) {
        let entries = s.store.audit_by_reference(reference.as_str()).await?;
        return Ok(format!(
            "<section class=\"card\" data-testid=\"reference-result\"><h2>{title} <code>{reference}</code></h2>{table}</section>",
            title = tr(lang, "Sự kiện có mã tham chiếu", "Events with reference"),
            reference = esc(reference.as_str()),
            table = timeline_table(lang, &entries, true),
        ));
    }
    if accounts.is_empty() {
        return Ok(format!(
            "<section class=\"card\" data-testid=\"no-result\"><p>{}</p></section>",
            tr(lang, "Không tìm thấy tài khoản nào.", "No account found.")
        ));
    }
    let mut rows = String::new();
    for a in &accounts {
        rows.push_str(&format!(
            "<tr><td><a href=\"/account/{u}\">{u}</a></td><td>{mst}</td><td>{email}</td></tr>",
            u = esc(&a.username),
            mst = esc(&a.mst),
            email = esc(&a.email),
        ));
    }
    Ok(format!(
        "<section class=\"card\"><table data-testid=\"results\"><thead><tr><th>{user}</th><th>MST</th><th>Email</th></tr></thead><tbody>{rows}</tbody></table></section>",
        user = tr(lang, "Tên đăng nhập", "Username"),
    ))
}

// ---- the account page -----------------------------------------------------------------

#[derive(Deserialize)]
struct Notice {
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
            format!("{} {}", tr(lang, "Mật khẩu tạm thời đã hết hạn lúc", "Temporary password expired at"), vn_time(exp))
        }
        (Some(_), None, exp) => format!(
            "{} {}",
            tr(lang, "Mật khẩu tạm thời chưa dùng, hết hạn lúc", "Temporary password not used yet, expires at"),
            exp.map(vn_time).unwrap_or_default()
        ),
    }
}

fn mail_status(lang: Lang, m: &Mail) -> String {
    let (class, label) = match m.status.as_str() {
        "sent" => ("ok", tr(lang, "Đã gửi", "Delivered")),
        "pending" if m.attempts > 0 => ("bad", tr(lang, "Đang thử lại", "Retrying")),
        "pending" => ("muted", tr(lang, "Đang chờ gửi", "Waiting")),
        _ => ("bad", tr(lang, "Gửi thất bại", "Failed")),
    };
    format!("<span class=\"{class}\" data-status=\"{}\">{label}</span>", esc(&m.status))
}

fn mail_kind(lang: Lang, kind: &str) -> &'static str {
    match kind {
        "reset" => tr(lang, "Mật khẩu tạm thời", "Temporary password"),
        "portal-reset" => tr(lang, "Mật khẩu mới + link kích hoạt", "New password + activation link"),
        "notice-reset" => tr(lang, "Thông báo cấp lại mật khẩu", "Reset notice"),
        "notice-changed" => tr(lang, "Thông báo đổi mật khẩu", "Change notice"),
        "notice-activated" => tr(lang, "Thông báo kích hoạt", "Activation notice"),
        _ => tr(lang, "Thư khác", "Other mail"),
    }
}

fn notice_box(lang: Lang, n: &Notice) -> String {
    let what = match n.done.as_deref() {
        Some("unlock") => tr(lang, "Đã mở khóa tài khoản (xóa các giới hạn thử lại).", "The account was unlocked (retry limits cleared)."),
        Some("reset") => tr(
            lang,
            "Đã cấp lại mật khẩu: mật khẩu tạm thời được gửi tới email đã đăng ký. Nhân viên không xem được mật khẩu.",
            "A reset was started: the temporary password was sent to the registered email. Staff cannot see it."
        ),
        Some("resend") => tr(lang, "Đã đưa thư vào hàng đợi gửi lại.", "The mail was queued to be sent again."),
        _ => return String::new(),
    };
    format!(
        "<div class=\"notice\" role=\"status\" data-testid=\"notice\"><p>{what}</p><p class=\"muted\">{label}: <code>{r}</code></p></div>",
        label = tr(lang, "Mã tham chiếu", "Reference"),
        r = esc(n.r.as_deref().unwrap_or("")),
    )
}

async fn account_page(
    State(s): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(username): Path<String>,
    Query(n): Query<Notice>,
) -> Response {
    let lang = lang_of(&ctx, &headers);
    let w = match require(&s, &ctx, &headers, lang, true).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    match render_account(&s, lang, &w, &username, &n).await {
        Ok(Some(body)) => {
            // Opening an account is audited, except the page an action redirects to
            // (the action's own line already says who).
            if n.done.is_none() {
                let entry = staff_audit(&s, &ctx, &w, "staff.view", Some(&username), "account page".into());
                if let Err(e) = s.store.audit(&entry).await {
                    return internal(&ctx, lang, Some(&w), e);
                }
            }
            page(lang, StatusCode::OK, Some(&w), &username, &body)
        }
        Ok(None) => error_page(lang, Some(&w), ErrorCode::AccountNotFound, ctx.reference.as_str()),
        Err(e) => internal(&ctx, lang, Some(&w), e),
    }
}

async fn render_account(s: &AppState, lang: Lang, w: &StaffSession, username: &str, n: &Notice) -> anyhow::Result<Option<String>> {
    let Some(a) = s.store.account_by_username(username).await? else {
        return Ok(None);
    };
    let now = s.clock.now();
    let l = &s.config.limits;
    let limits = s.store.limits_with_prefix(&user_limit_key(&a.username, ""), now - l.per_username_window_secs).await?;
    let locked: Vec<String> = limits
        .iter()
        .filter(|(_, count, _)| *count > i64::from(l.per_username))
        .map(|(key, _, start)| {
            let event = key.rsplit(':').next().unwrap_or("");
            format!("{} ({} {})", event_label(lang, event), tr(lang, "đến", "until"), vn_time(start + l.per_username_window_secs))
        })
        .collect();
    let pending = s.store.pending_activation(a.id, now).await?;
    let timeline = s.store.audit_for_account(&a.username, &a.mst, 100).await?;
    let mails = s.store.mail_of_account(a.id, 20).await?;
    let csrf = esc(&w.csrf);
    let u = esc(&a.username);

    let mut mail_rows = String::new();
    for m in &mails {
        mail_rows.push_str(&format!(
            "<tr data-mail=\"{id}\" data-kind=\"{kind_raw}\"><td>{created}</td><td>{kind}</td><td>{to}</td><td>{status}</td><td>{attempts}</td>\
<td>{sent}</td><td class=\"muted\">{error}</td><td><code>{reference}</code></td>\
<td><form method=\"post\" action=\"/mail/{id}/resend\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<button type=\"submit\" data-testid=\"resend-{id}\">{resend}</button></form></td></tr>",
            id = m.id,
            kind_raw = esc(&m.kind),
            created = vn_time(m.created_at),
            kind = mail_kind(lang, &m.kind),
            to = esc(&m.recipient),
            status = mail_status(lang, m),
            attempts = m.attempts,
            sent = m.sent_at.map(vn_time).unwrap_or_default(),
            error = esc(m.last_error.as_deref().unwrap_or("")),
            reference = esc(&m.reference),
            resend = tr(lang, "Gửi lại", "Resend"),
        ));
    }
    let mails_html = if mails.is_empty() {
        format!("<p class=\"muted\">{}</p>", tr(lang, "Chưa có thư nào.", "No mail yet."))
    } else {
        format!(
            "<table data-testid=\"mails\"><thead><tr><th>{c}</th><th>{k}</th><th>{t}</th><th>{st}</th><th>{at}</th><th>{se}</th><th>{er}</th><th>{r}</th><th></th></tr></thead><tbody>{mail_rows}</tbody></table>",
            c = tr(lang, "Tạo lúc", "Created"),
            k = tr(lang, "Loại thư", "Kind"),
            t = tr(lang, "Gửi tới", "To"),
            st = tr(lang, "Trạng thái", "State"),
            at = tr(lang, "Số lần gửi", "Attempts"),
            se = tr(lang, "Gửi xong lúc", "Delivered at"),
            er = tr(lang, "Lỗi gần nhất", "Last error"),
            r = tr(lang, "Mã tham chiếu", "Reference"),
        )
    };

    let body = format!(
        "{notice}<section class=\"card\" aria-labelledby=\"t\"><h1 id=\"t\">{title} <code data-testid=\"account\">{u}</code></h1><dl>\
<dt>MST</dt><dd>{mst}</dd><dt>Email</dt><dd>{email}</dd>\
<dt>{cert_l}</dt><dd>{cert}</dd>\
<dt>{pw_l}</dt><dd data-testid=\"password-state\">{pw}</dd>\
<dt>{act_l}</dt><dd>{act}</dd>\
<dt>{lock_l}</dt><dd data-testid=\"lock-state\">{lock}</dd></dl></section>\
<section class=\"card\" aria-labelledby=\"a\"><h2 id=\"a\">{actions}</h2><div class=\"actions\">\
<form method=\"post\" action=\"/account/{u}/unlock\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<p>{unlock_help}</p><button type=\"submit\" data-testid=\"unlock\">{unlock}</button></form>\
<form method=\"post\" action=\"/account/{u}/reset\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<p>{reset_help}</p>\
<label><input type=\"checkbox\" name=\"verified\" value=\"yes\" required data-testid=\"verified\"> {verified}</label>\
<label for=\"note\">{note_l}</label><input type=\"text\" id=\"note\" name=\"note\" maxlength=\"200\" required placeholder=\"{note_ph}\">\
<p><button class=\"danger\" type=\"submit\" data-testid=\"reset\">{reset}</button></p></form></div></section>\
<section class=\"card\" aria-labelledby=\"m\"><h2 id=\"m\">{mails_t}</h2>{mails_html}</section>\
<section class=\"card\" aria-labelledby=\"tl\"><h2 id=\"tl\">{timeline_t}</h2>{timeline}</section>",
        notice = notice_box(lang, n),
        title = tr(lang, "Tài khoản", "Account"),
        mst = esc(&a.mst),
        email = esc(&a.email),
        cert_l = tr(lang, "Chứng thư số", "Certificate"),
        cert = match &a.cert_fingerprint {
            Some(f) => format!("{} <code>{}</code>", tr(lang, "ghim theo dấu vân tay", "pinned by fingerprint"), esc(f)),
            None => tr(lang, "mọi chứng thư hợp lệ mang MST này", "any valid certificate carrying this MST").to_string(),
        },
        pw_l = tr(lang, "Mật khẩu", "Password"),
        pw = password_state(lang, &a, now),
        act_l = tr(lang, "Link kích hoạt (cổng)", "Activation link (portal)"),
        act = match &pending {
            Some(p) => format!("{} {}", tr(lang, "đang chờ người dùng mở, hết hạn lúc", "waiting for the user, expires at"), vn_time(p.expires_at)),
            None => tr(lang, "không có link nào đang chờ", "none waiting").to_string(),
        },
        lock_l = tr(lang, "Giới hạn thử lại", "Retry limits"),
        lock = if locked.is_empty() {
            format!("<span class=\"ok\">{}</span>", tr(lang, "không bị chặn", "not blocked"))
        } else {
            format!("<span class=\"bad\">{}</span>: {}", tr(lang, "đang bị chặn tạm thời", "temporarily blocked"), esc(&locked.join(", ")))
        },
        actions = tr(lang, "Thao tác", "Actions"),
        unlock_help = tr(lang, "Xóa các giới hạn thử lại để người dùng thử lại ngay.", "Clear the retry limits so the user can try again now."),
        unlock = tr(lang, "Mở khóa", "Unlock"),
        reset_help = tr(
            lang,
            "Gửi mật khẩu tạm thời mới tới email đã đăng ký. Nhân viên không xem và không chọn được mật khẩu.",
            "Send a new temporary password to the registered email. Staff can neither see nor choose it."
        ),
        verified = tr(
            lang,
            "Tôi đã xác minh danh tính người gọi (CCCD/CMND của người đăng ký, giấy phép kinh doanh, giấy ủy quyền bản gốc nếu không phải người đăng ký).",
            "I verified the caller (ID card of the registrant, business licence, original letter of authorisation if not the registrant)."
        ),
        note_l = tr(lang, "Ghi chú xác minh", "Verification note"),
        note_ph = tr(lang, "VD: gọi lúc 9:40, đối chiếu CCCD và GPKD", "e.g. call at 9:40, checked ID card and licence"),
        reset = tr(lang, "Cấp lại mật khẩu", "Start a reset"),
        mails_t = tr(lang, "Thư đã gửi", "Mail"),
        timeline_t = tr(lang, "Lịch sử", "Timeline"),
        timeline = timeline_table(lang, &timeline, false),
    );
    Ok(Some(body))
}

// ---- actions --------------------------------------------------------------------------

/// The session and a valid CSRF token, or the refusal page.
async fn action_guard(
    s: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    lang: Lang,
    csrf: Option<&str>,
) -> Result<StaffSession, Response> {
    let w = require(s, ctx, headers, lang, false).await?;
    if !csrf.is_some_and(|c| check_csrf(&w, c)) {
        let mut entry = s.audit_entry(ctx, "staff.action", None, Err(ErrorCode::StaffCsrf));
        entry.actor = actor(&w);
        let _ = s.store.audit(&entry).await;
        return Err(error_page(lang, Some(&w), ErrorCode::StaffCsrf, ctx.reference.as_str()));
    }
    Ok(w)
}

/// The account an action is about, or the page that says why there is none.
async fn account_for(s: &AppState, ctx: &Ctx, lang: Lang, w: &StaffSession, username: &str) -> Result<Account, Response> {
    match s.store.account_by_username(username).await {
        Ok(Some(a)) => Ok(a),
        Ok(None) => Err(error_page(lang, Some(w), ErrorCode::AccountNotFound, ctx.reference.as_str())),
        Err(e) => Err(internal(ctx, lang, Some(w), e)),
    }
}

fn done(username: &str, what: &str, reference: &str) -> Response {
    let u: String = url_escape(username);
    redirect(&format!("/account/{u}?done={what}&r={reference}"))
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn unlock(
    State(s): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(username): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let lang = lang_of(&ctx, &headers);
    let w = match action_guard(&s, &ctx, &headers, lang, form.as_ref().ok().map(|f| f.csrf.as_str())).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let account = match account_for(&s, &ctx, lang, &w, &username).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let cleared = match s.store.clear_limits(&user_limit_key(&account.username, "")).await {
        Ok(n) => n,
        Err(e) => return internal(&ctx, lang, Some(&w), e),
    };
    let entry = staff_audit(&s, &ctx, &w, "staff.unlock", Some(&account.username), format!("{cleared} rate-limit windows cleared"));
    if let Err(e) = s.store.audit(&entry).await {
        return internal(&ctx, lang, Some(&w), e);
    }
    done(&account.username, "unlock", ctx.reference.as_str())
}

#[derive(Deserialize)]
struct ResetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    verified: String,
    #[serde(default)]
    note: String,
}

async fn start_reset(
    State(s): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(username): Path<String>,
    form: Result<Form<ResetForm>, FormRejection>,
) -> Response {
    let lang = lang_of(&ctx, &headers);
    let w = match action_guard(&s, &ctx, &headers, lang, form.as_ref().ok().map(|f| f.csrf.as_str())).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let Ok(Form(form)) = form else {
        return error_page(lang, Some(&w), ErrorCode::MalformedRequest, ctx.reference.as_str());
    };
    let note: String = form.note.trim().chars().filter(|c| !c.is_control()).take(200).collect();
    if form.verified != "yes" || note.is_empty() {
        return error_page(lang, Some(&w), ErrorCode::MalformedRequest, ctx.reference.as_str());
    }
    let account = match account_for(&s, &ctx, lang, &w, &username).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let result = async {
        let now = s.clock.now();
        let reference = ctx.reference.to_string();
        let temp = Zeroizing::new(passwords::temporary_password());
        let temp_hash = s.hasher.hash(temp.clone()).await?;
        let expires = now + s.config.temp_password_ttl_secs;
        let facts = MailFacts { username: &account.username, at: now, reference: &reference, hotline: &s.config.hotline };
        let (subject, body) = mail::reset_mail_via(&facts, expires, ResetVia::Staff);
        let reset = s.mail(&account, "reset", subject, body, &reference, Some(&temp))?;
        let (subject, body) = mail::notice_mail(&facts, NoticeKind::StaffReset);
        let notice = s.mail(&account, "notice-reset", subject, body, &reference, None)?;
        let entry = staff_audit(&s, &ctx, &w, "staff.reset", Some(&account.username), format!("verified by phone: {note}"));
        s.store.staff_reset(account.id, &temp_hash, expires, &reference, now, &[reset, notice], &entry).await?;
        s.wake.notify_one();
        anyhow::Ok(())
    };
    match result.await {
        Ok(()) => done(&account.username, "reset", ctx.reference.as_str()),
        Err(e) => internal(&ctx, lang, Some(&w), e),
    }
}

async fn resend(
    State(s): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<i64>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let lang = lang_of(&ctx, &headers);
    let w = match action_guard(&s, &ctx, &headers, lang, form.as_ref().ok().map(|f| f.csrf.as_str())).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let result = async {
        let Some(m) = s.store.mail(id).await? else { return Ok(Err(ErrorCode::NoMailToResend)) };
        let Some(account_id) = m.account_id else { return Ok(Err(ErrorCode::NoMailToResend)) };
        let Some(account) = s.store.account_by_id(account_id).await? else { return Ok(Err(ErrorCode::AccountNotFound)) };
        let now = s.clock.now();
        // A mail whose body waits for a sealed secret cannot be rebuilt once delivered.
        let wiped = m.status != "pending" && m.body.contains("{{");
        if wiped {
            let mut entry = staff_audit(&s, &ctx, &w, "staff.resend", Some(&account.username), format!("mail {id} ({})", m.kind));
            entry.outcome = "rejected".into();
            entry.error_code = Some(ErrorCode::MailContentWiped.as_str().into());
            s.store.audit(&entry).await?;
            return Ok(Err(ErrorCode::MailContentWiped));
        }
        let copy = (m.status != "pending").then(|| crate::store::NewMail {
            message_id: mail::new_message_id(),
            account_id: Some(account.id),
            kind: m.kind.clone(),
            recipient: account.email.clone(),
            subject: m.subject.clone(),
            body: m.body.clone(),
            secret: None,
            reference: ctx.reference.to_string(),
        });
        let entry = staff_audit(&s, &ctx, &w, "staff.resend", Some(&account.username), format!("mail {id} ({}) of {}", m.kind, m.reference));
        if !s.store.resend_mail(id, copy.as_ref(), now, &entry).await? {
            return Ok(Err(ErrorCode::NoMailToResend));
        }
        s.wake.notify_one();
        anyhow::Ok(Ok(account.username))
    };
    match result.await {
        Ok(Ok(username)) => done(&username, "resend", ctx.reference.as_str()),
        Ok(Err(code)) => error_page(lang, Some(&w), code, ctx.reference.as_str()),
        Err(e) => internal(&ctx, lang, Some(&w), e),
    }
}
