//! Who is at the desk: the staff session as an extractor ([`OnPage`] redirects to the
//! login, [`OnAction`] answers 401), the error page as [`StaffError`], the CSRF check,
//! and the login, logout and language switch.

use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use bhxh_protocol::domain::normalize_username;
use bhxh_protocol::{ErrorCode, Lang};
use maud::html;
use rand::RngCore;
use serde::Deserialize;
use zeroize::Zeroizing;

use super::{page, redirect};
use crate::context::{AppState, Ctx};
use crate::html::{self, tr};
use crate::passwords;
use crate::store::{Actor, AuditEntry, AuditEvent, Detail, StaffSession};

const LANG_COOKIE: &str = "bhxh_staff_lang";

/// The session cookie and the login form's CSRF cookie. Over HTTPS (a trusted proxy
/// says so) they are `__Host-` cookies: `Secure`, `Path=/`, no `Domain`, so nothing on
/// plain HTTP or another host can set or read them.
#[derive(Clone, Copy)]
enum Jar {
    Session,
    Login,
}

impl Jar {
    fn name(self, ctx: &Ctx) -> &'static str {
        match (self, ctx.https) {
            (Jar::Session, false) => "bhxh_staff",
            (Jar::Session, true) => "__Host-bhxh_staff",
            (Jar::Login, false) => "bhxh_staff_login",
            (Jar::Login, true) => "__Host-bhxh_staff_login",
        }
    }

    /// `Set-Cookie` for `value`, kept `max_age` seconds (0 deletes it).
    fn set(self, ctx: &Ctx, value: &str, max_age: i64) -> Option<HeaderValue> {
        let secure = if ctx.https { "; Secure" } else { "" };
        let cookie = Zeroizing::new(format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
            self.name(ctx)
        ));
        HeaderValue::from_str(&cookie).ok()
    }
}

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

/// The console's language: the staff member's choice (a cookie), else the browser's.
pub(super) fn lang_of(ctx: &Ctx, headers: &HeaderMap) -> Lang {
    match cookie(headers, LANG_COOKIE) {
        Some("en") => Lang::En,
        Some("vi") => Lang::Vi,
        _ => ctx.lang,
    }
}

async fn session(s: &AppState, ctx: &Ctx, headers: &HeaderMap) -> anyhow::Result<Option<StaffSession>> {
    match cookie(headers, Jar::Session.name(ctx)) {
        Some(token) if !token.is_empty() => s.store.staff_session(&session_hash(ctx, token), s.clock.now()).await,
        _ => Ok(None),
    }
}

/// A session's stored hash. A session made over HTTPS is hashed with that fact: its
/// token opens nothing over plain HTTP (where it may have been read, whatever the
/// cookie's name), nor a plain one over HTTPS.
fn session_hash(ctx: &Ctx, token: &str) -> String {
    if ctx.https {
        passwords::token_hash(&Zeroizing::new(format!("https:{token}")))
    } else {
        passwords::token_hash(token)
    }
}

/// How long a login form's token is good for.
const LOGIN_TOKEN_SECS: i64 = 1800;
const LOGIN_TOKEN_PURPOSE: &str = "bhxh-staff-login-csrf/v1";

/// A login form's token: a nonce, its expiry and the server's tag over both and the
/// client's address. Only a token this server gave this client, in the last 30 minutes,
/// opens a login: not a pair another site (or a cookie set over plain HTTP) planted in
/// the browser's cookie and form, nor one the planter fetched for itself.
fn login_token(s: &AppState, ctx: &Ctx) -> String {
    let nonce = random_token();
    let until = s.clock.now() + LOGIN_TOKEN_SECS;
    let tag = s.outbox_key.tag(LOGIN_TOKEN_PURPOSE, &format!("{}|{nonce}|{until}", ctx.client_key));
    format!("{nonce}.{until}.{tag}")
}

fn login_token_ok(s: &AppState, ctx: &Ctx, token: &str) -> bool {
    let mut parts = token.splitn(3, '.');
    let (Some(nonce), Some(until), Some(tag)) = (parts.next(), parts.next(), parts.next()) else { return false };
    let Ok(until) = until.parse::<i64>() else { return false };
    s.clock.now() <= until
        && same(&s.outbox_key.tag(LOGIN_TOKEN_PURPOSE, &format!("{}|{nonce}|{until}", ctx.client_key)), tag)
}

// ---- errors -----------------------------------------------------------------------

/// A refused console request: the login (for a page without a session) or the error
/// page with its code and reference.
#[derive(Debug)]
pub(super) enum StaffError {
    Login,
    Page {
        lang: Lang,
        who: Option<Box<StaffSession>>,
        code: ErrorCode,
        reference: String,
        /// The account the refused action was about: the page leads back to it.
        account: Option<String>,
    },
}

impl StaffError {
    /// The error page for `code`.
    pub(super) fn code(ctx: &Ctx, lang: Lang, who: Option<&StaffSession>, code: ErrorCode) -> StaffError {
        StaffError::Page {
            lang,
            who: who.cloned().map(Box::new),
            code,
            reference: ctx.reference.to_string(),
            account: None,
        }
    }

    /// Logs an unexpected error under the reference and answers `INTERNAL`.
    pub(super) fn internal<E: std::fmt::Display + 'static>(
        ctx: &Ctx,
        lang: Lang,
        who: Option<&StaffSession>,
        e: E,
    ) -> StaffError {
        if crate::store::is_outage(&e) {
            tracing::warn!(reference = %ctx.reference, error = %e, "staff console: database unavailable");
            return StaffError::code(ctx, lang, who, ErrorCode::ServiceUnavailable);
        }
        tracing::error!(reference = %ctx.reference, error = %e, "staff console: internal error");
        StaffError::code(ctx, lang, who, ErrorCode::Internal)
    }
}

impl IntoResponse for StaffError {
    fn into_response(self) -> Response {
        match self {
            StaffError::Login => redirect("/login"),
            StaffError::Page { lang, who, code, reference, account } => {
                // Back to the account the agent was on (unless it is the one not found).
                let account = account.filter(|_| code != ErrorCode::AccountNotFound);
                let body = html! {
                    section class="card" {
                        (html::staff_error_box(lang, code, &reference))
                        @if let Some(u) = &account {
                            p { a href={ "/account/" (crate::html::url_escape(u)) } data-testid="back-to-account" {
                                (tr(lang, "Về trang tài khoản ", "Back to the account ")) (u)
                            } }
                        }
                        p { a href="/" { (tr(lang, "Về trang tìm kiếm", "Back to search")) } }
                    }
                };
                page(lang, html::status_of(code), who.as_deref(), tr(lang, "Lỗi", "Error"), body)
            }
        }
    }
}

// ---- the signed-in staff member ---------------------------------------------------------

/// A request from a signed-in staff member: its context, language and session.
#[derive(Debug)]
pub(super) struct Desk {
    pub ctx: Ctx,
    pub lang: Lang,
    pub who: StaffSession,
    /// The account the request is about (from its `/account/<username>/…` path, or set
    /// by the handler once it knows it): an error page leads back to it.
    account: std::sync::OnceLock<String>,
}

impl Desk {
    /// The error page for `code`, for this member.
    pub(super) fn error(&self, code: ErrorCode) -> StaffError {
        StaffError::Page {
            lang: self.lang,
            who: Some(Box::new(self.who.clone())),
            code,
            reference: self.ctx.reference.to_string(),
            account: self.account.get().cloned(),
        }
    }

    /// The request turned out to be about `username`'s account (a mail, an email change).
    pub(super) fn about(&self, username: &str) {
        let _ = self.account.set(username.to_string());
    }

    /// `INTERNAL`, logged under the reference.
    pub(super) fn internal<E: std::fmt::Display + 'static>(&self, e: E) -> StaffError {
        StaffError::internal(&self.ctx, self.lang, Some(&self.who), e)
    }

    /// An audit line whose actor is this member.
    pub(super) fn audit(
        &self,
        s: &AppState,
        event: AuditEvent,
        username: Option<&str>,
        detail: Option<Detail>,
    ) -> AuditEntry {
        let mut e = s.audit_entry(&self.ctx, event, username, Ok(()));
        e.actor = actor(&self.who);
        e.detail = detail;
        e
    }

    /// Checks the form's CSRF token; a mismatch is audited and refused.
    pub(super) async fn check_csrf(&self, s: &AppState, given: Option<&str>) -> Result<(), StaffError> {
        if given.is_some_and(|c| csrf_matches(&self.who, c)) {
            return Ok(());
        }
        let mut entry = s.audit_entry(&self.ctx, AuditEvent::StaffAction, None, Err(ErrorCode::StaffCsrf));
        entry.actor = actor(&self.who);
        let _ = s.store.audit(&entry).await;
        Err(self.error(ErrorCode::StaffCsrf))
    }

    /// A console page for this member.
    pub(super) fn page(&self, title: &str, body: maud::Markup) -> Response {
        page(self.lang, StatusCode::OK, Some(&self.who), title, body)
    }

    /// [`Desk::page`], loaded again every `refresh` seconds.
    pub(super) fn refreshing_page(&self, title: &str, body: maud::Markup, refresh: u32) -> Response {
        super::page_with(self.lang, StatusCode::OK, Some(&self.who), title, body, Some(refresh))
    }
}

fn actor(w: &StaffSession) -> Actor {
    Actor::staff(&w.staff.username, &w.staff.name)
}

fn csrf_matches(w: &StaffSession, given: &str) -> bool {
    same(&w.csrf, given)
}

/// Equal in constant time.
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// 24 random bytes, hex.
fn random_token() -> String {
    let mut t = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut t);
    crate::verify::hex(&t)
}

async fn desk(parts: &Parts, s: &AppState, page_request: bool) -> Result<Desk, StaffError> {
    let ctx = parts.extensions.get::<Ctx>().cloned().unwrap_or_else(Ctx::unknown);
    let lang = lang_of(&ctx, &parts.headers);
    match session(s, &ctx, &parts.headers).await {
        Ok(Some(who)) => {
            // The desk's writes go ahead of strangers' (it keeps working under a flood).
            crate::store::gate::serve_first();
            let account = std::sync::OnceLock::new();
            if let Some(u) = account_in_path(parts.uri.path()) {
                let _ = account.set(u);
            }
            Ok(Desk { ctx, lang, who, account })
        }
        Ok(None) if page_request => Err(StaffError::Login),
        Ok(None) => Err(StaffError::code(&ctx, lang, None, ErrorCode::StaffLoginRequired)),
        Err(e) => Err(StaffError::internal(&ctx, lang, None, e)),
    }
}

/// The username of an `/account/<username>…` path, when it is one.
fn account_in_path(path: &str) -> Option<String> {
    let segment = path.strip_prefix("/account/")?.split('/').next()?;
    bhxh_protocol::Username::parse(segment).ok().map(|u| u.as_str().to_string())
}

/// A page request from a signed-in member; without a session, the login page.
#[derive(Debug)]
pub(super) struct OnPage(pub Desk);

/// An action (a POST) from a signed-in member; without a session, 401.
#[derive(Debug)]
pub(super) struct OnAction(pub Desk);

impl FromRequestParts<AppState> for OnPage {
    type Rejection = StaffError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        desk(parts, s, true).await.map(OnPage)
    }
}

impl FromRequestParts<AppState> for OnAction {
    type Rejection = StaffError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        desk(parts, s, false).await.map(OnAction)
    }
}

// ---- handlers -----------------------------------------------------------------------------

pub(super) async fn not_found(ctx: Ctx, headers: HeaderMap) -> StaffError {
    StaffError::code(&ctx, lang_of(&ctx, &headers), None, ErrorCode::NotFound)
}

pub(super) async fn set_lang(ctx: Ctx, Path(to): Path<String>) -> Response {
    let lang = if to == "en" { "en" } else { "vi" };
    let secure = if ctx.https { "; Secure" } else { "" };
    let mut r = redirect("/");
    let cookie = format!("{LANG_COOKIE}={lang}; Path=/; HttpOnly; SameSite=Strict; Max-Age=31536000{secure}");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(SET_COOKIE, v);
    }
    r
}

/// The login page with a fresh login CSRF token, in its form and in its cookie
/// (double submit: a page elsewhere can make a browser post the form, not read the
/// cookie), so no other site can log a browser into the console under its own account.
fn login_page_with(
    s: &AppState,
    ctx: &Ctx,
    lang: Lang,
    status: StatusCode,
    error: Option<(ErrorCode, &str)>,
) -> Response {
    let token = login_token(s, ctx);
    let mut r = page(lang, status, None, tr(lang, "Đăng nhập", "Log in"), login_form(lang, &token, error));
    if let Some(v) = Jar::Login.set(ctx, &token, LOGIN_TOKEN_SECS) {
        r.headers_mut().append(SET_COOKIE, v);
    }
    r
}

fn login_form(lang: Lang, csrf: &str, error: Option<(ErrorCode, &str)>) -> maud::Markup {
    html! {
        section class="card narrow" aria-labelledby="t" {
            h1 id="t" { (tr(lang, "Đăng nhập nhân viên hỗ trợ", "Support staff login")) }
            @if let Some((code, reference)) = error { (html::staff_error_box(lang, code, reference)) }
            form method="post" action="/login" {
                input type="hidden" name="csrf" value=(csrf);
                label for="username" { (tr(lang, "Tên đăng nhập", "Username")) }
                input type="text" id="username" name="username" autocomplete="username" required autofocus;
                label for="password" { (tr(lang, "Mật khẩu", "Password")) }
                input type="password" id="password" name="password" autocomplete="current-password" required;
                p { button class="primary" type="submit" data-testid="login" { (tr(lang, "Đăng nhập", "Log in")) } }
            }
            p class="muted" { (tr(
                lang,
                "Mọi thao tác trên bàn hỗ trợ đều được ghi nhật ký kèm tên nhân viên.",
                "Every action on the support desk is logged with the staff member's name."
            )) }
        }
    }
}

pub(super) async fn login_page(State(s): State<AppState>, ctx: Ctx, headers: HeaderMap) -> Response {
    let lang = lang_of(&ctx, &headers);
    if let Ok(Some(_)) = session(&s, &ctx, &headers).await {
        return redirect("/");
    }
    login_page_with(&s, &ctx, lang, StatusCode::OK, None)
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

pub(super) async fn login(
    State(s): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, StaffError> {
    const EVENT: AuditEvent = AuditEvent::StaffLogin;
    let lang = lang_of(&ctx, &headers);
    let Ok(Form(form)) = form else {
        return Err(StaffError::code(&ctx, lang, None, ErrorCode::MalformedRequest));
    };
    let password = Zeroizing::new(form.password);
    let username = normalize_username(&form.username);
    let refused =
        |code: ErrorCode| login_page_with(&s, &ctx, lang, html::status_of(code), Some((code, ctx.reference.as_str())));
    let internal = |e: anyhow::Error| StaffError::internal(&ctx, lang, None, e);
    // The form must come from our own login page, given to this client (its token, in
    // its cookie, tagged by this server).
    let from_our_page = cookie(&headers, Jar::Login.name(&ctx)).is_some_and(|c| !c.is_empty() && same(c, &form.csrf));
    if !from_our_page || !login_token_ok(&s, &ctx, &form.csrf) {
        let mut entry = s.audit_entry(&ctx, EVENT, None, Err(ErrorCode::StaffCsrf));
        entry.actor = Actor::staff_login(&username);
        s.store.audit(&entry).await.map_err(internal)?;
        return Ok(refused(ErrorCode::StaffCsrf));
    }
    // Per member and client: a client that guesses is refused; all clients' tries
    // together only mark the member as under attack, so nobody locks a member out.
    let limits = async {
        s.limit_client(&ctx, EVENT, None).await?;
        s.limit_identity(&ctx, &crate::context::staff_limit_prefix(&username), EVENT, None).await
    };
    if let Err(e) = limits.await {
        return Ok(refused(e.code));
    }
    let staff = s.store.staff_by_username(&username).await.map_err(internal)?.filter(|st| st.disabled_at.is_none());
    // Verified against a dummy when there is no such member: the same work either way.
    let ok = s
        .hasher
        .verify(crate::passwords::Lane::Staff, password, staff.as_ref().map(|st| st.password_hash.clone()))
        .await
        .map_err(|e| internal(e.into()))?;
    let Some(staff) = staff.filter(|_| ok) else {
        let mut entry = s.audit_entry(&ctx, EVENT, None, Err(ErrorCode::StaffLoginFailed));
        entry.actor = Actor::staff_login(&username);
        s.store.audit(&entry).await.map_err(internal)?;
        return Ok(refused(ErrorCode::StaffLoginFailed));
    };
    // The right password: the new session's writes go ahead of strangers'.
    crate::store::gate::serve_first();
    let (token, _) = passwords::session_token();
    let token_hash = session_hash(&ctx, token.expose());
    let csrf = random_token();
    let now = s.clock.now();
    let ttl = s.config.staff_session_ttl_secs;
    let mut entry = s.audit_entry(&ctx, EVENT, None, Ok(()));
    entry.actor = Actor::staff(&staff.username, &staff.name);
    s.store.create_staff_session(staff.id, &token_hash, &csrf, now, now + ttl, &entry).await.map_err(internal)?;
    let mut r = redirect("/");
    if let Some(v) = Jar::Session.set(&ctx, token.expose(), ttl) {
        r.headers_mut().append(SET_COOKIE, v);
    }
    if let Some(v) = Jar::Login.set(&ctx, "", 0) {
        r.headers_mut().append(SET_COOKIE, v);
    }
    Ok(r)
}

/// A form that carries nothing but its CSRF token.
#[derive(Deserialize)]
pub(super) struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

pub(super) async fn logout(
    State(s): State<AppState>,
    OnAction(desk): OnAction,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, StaffError> {
    if !form.as_ref().is_ok_and(|f| csrf_matches(&desk.who, &f.csrf)) {
        return Err(desk.error(ErrorCode::StaffCsrf));
    }
    let entry = desk.audit(&s, AuditEvent::StaffLogout, None, None);
    s.store.delete_staff_session(&desk.who.token_hash, &entry).await.map_err(|e| desk.internal(e))?;
    let mut r = redirect("/login");
    if let Some(v) = Jar::Session.set(&desk.ctx, "", 0) {
        r.headers_mut().insert(SET_COOKIE, v);
    }
    Ok(r)
}
