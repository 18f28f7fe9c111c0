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
//!
//! Rooms: [`auth`] (the session extractors, the error page, login and logout),
//! [`views`] (search, timeline, account page), [`actions`] (unlock, reset, resend),
//! [`email`] (changing the registered email after the documents are checked: an agent
//! proposes, a supervisor approves; the open changes), [`support`] (a support code's
//! page: the caller's report, the attempts of their app since, the next step).

mod actions;
mod auth;
mod email;
mod service;
mod support;
mod views;
pub mod words;

use axum::extract::DefaultBodyLimit;
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use bhxh_protocol::Lang;
use maud::{html, Markup};

use crate::context::{context_layer, AppState};
use crate::html::{self, tr};
use crate::store::StaffSession;

/// The console's router (served on `staff_listen`). Its clients take turns among
/// themselves (crate::standing): a flood of the public's never queues the desk.
pub fn router(mut state: AppState) -> Router {
    state.standing = Default::default();
    Router::new()
        .route("/", get(views::home))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/lang/{to}", get(auth::set_lang))
        .route("/account/{username}", get(views::account_page))
        .route("/account/{username}/unlock", post(actions::unlock))
        .route("/account/{username}/reset", post(actions::start_reset))
        .route("/mail/{id}/resend", post(actions::resend))
        .route("/account/{username}/email-change", post(email::propose))
        .route("/email-changes", get(email::list_page))
        .route("/email-change/{id}/approve", post(email::approve))
        .route("/email-change/{id}/cancel", post(email::cancel))
        .route("/support/{code}", get(support::page))
        // For the operators' Prometheus: this listener only, never the public one.
        .route("/metrics", get(metrics_page))
        .fallback(auth::not_found)
        .layer(DefaultBodyLimit::max(16 * 1024))
        .layer(axum::middleware::from_fn_with_state(state.clone(), context_layer))
        .with_state(state)
}

/// `GET /metrics`: what the process counted, and what the server holds now (argon2
/// queues, CRLs, outbox; the database's answer), in Prometheus' text format.
async fn metrics_page(axum::extract::State(s): axum::extract::State<AppState>) -> Response {
    use crate::metrics::{CrlTimes, OutboxFacts, Scraped};
    let mut scraped = Scraped {
        argon2_queued: s.hasher.queued().iter().map(|(lane, n)| (lane.name(), *n as i64)).collect(),
        ..Scraped::default()
    };
    for crl in s.revocation.file_crls() {
        let source = format!("file:{}", crl.issuer_cn);
        scraped.crls.push(CrlTimes { source, this_update: crl.this_update, next_update: crl.next_update });
    }
    let now = s.clock.now();
    let db = async { Ok::<_, anyhow::Error>((s.store.outbox_state().await?, s.store.crl_states().await?)) }.await;
    match db {
        Ok((outbox, crls)) => {
            scraped.outbox = Some(OutboxFacts {
                pending: outbox.pending,
                oldest_pending_age_secs: outbox.oldest_pending.map_or(0, |at| (now - at).max(0)),
                dead: outbox.dead,
            });
            for crl in crls {
                if let (Some(this_update), Some(next_update)) = (crl.this_update, crl.next_update) {
                    scraped.crls.push(CrlTimes { source: crl.url, this_update, next_update });
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: the database did not answer"),
    }
    match crate::metrics::metrics().render(&scraped) {
        Ok(text) => ([(axum::http::header::CONTENT_TYPE, prometheus::TEXT_FORMAT)], text).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "metrics could not be encoded");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

fn nav(lang: Lang, who: Option<&StaffSession>) -> Markup {
    html! {
        @if who.is_some() {
            a href="/" { (tr(lang, "Tìm kiếm", "Search")) }
            a href="/email-changes" data-testid="nav-email-changes" { (tr(lang, "Đổi email", "Email changes")) }
        }
        @match lang {
            Lang::Vi => a href="/lang/en" lang="en" { "English" },
            Lang::En => a href="/lang/vi" lang="vi" { "Tiếng Việt" },
        }
        @if let Some(w) = who {
            span data-testid="staff-name" { (w.staff.name) " (" (match w.staff.role { crate::store::StaffRole::Agent => tr(lang, "nhân viên", "agent"), crate::store::StaffRole::Supervisor => tr(lang, "giám sát", "supervisor") }) ")" }
            form method="post" action="/logout" {
                input type="hidden" name="csrf" value=(w.csrf);
                button class="link" type="submit" data-testid="logout" { (tr(lang, "Đăng xuất", "Log out")) }
            }
        }
    }
}

/// A console page.
fn page(lang: Lang, status: StatusCode, who: Option<&StaffSession>, title: &str, body: Markup) -> Response {
    page_with(lang, status, who, title, body, None)
}

/// [`page`] that the browser loads again every `refresh` seconds.
fn page_with(
    lang: Lang,
    status: StatusCode,
    who: Option<&StaffSession>,
    title: &str,
    body: Markup,
    refresh: Option<u32>,
) -> Response {
    html::page_with(
        lang,
        status,
        title,
        tr(lang, "BHXH – Bàn hỗ trợ", "BHXH – Support desk"),
        nav(lang, who),
        body,
        refresh,
    )
}

/// `Mã tham chiếu` / `Reference`.
fn reference_label(lang: Lang) -> &'static str {
    tr(lang, "Mã tham chiếu", "Reference")
}
