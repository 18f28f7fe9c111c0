//! Portal recovery: the BHXH portal's path for users without a token. MST + the
//! registered email + an image captcha → a temporary password and an activation link
//! are emailed; the password works only once the link is opened.
//!
//! - A captcha is single use (a wrong answer uses it up too) and lives 2 minutes; only
//!   a hash of its answer is stored.
//! - The link's token is stored only as a hash, lives 30 minutes, works once; a newer
//!   request (or a token recovery) supersedes it. The old password keeps working until
//!   the link is opened; then it stops and every session ends.
//! - Opening the link shows a page with a button; only the button's POST activates, so
//!   a mail scanner that fetches links does not use the link up.

use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Form, Json};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use bhxh_protocol::wire::{PortalCaptcha, PortalRecoverComplete, PortalRecoverRequest};
use bhxh_protocol::{Email, ErrorCode, Lang, Mst};
use maud::{html, Markup};
use rand::RngCore;
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zeroize::Zeroizing;

use crate::clock::rfc3339;
use crate::context::{mst_limit_prefix, ApiError, ApiJson, AppState, Ctx};
use crate::html::{self, tr, LinkQuery};
use crate::mail::{self, MailFacts, NoticeKind, Secrets};
use crate::passwords::{self, Lane};
use crate::store::{Activation, ActivationOutcome, AuditEvent, CaptchaCheck, Detail, MailKind, PortalWrite};

/// The public routes of portal recovery.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(captcha)).routes(routes!(recover)).routes(routes!(activate_page, activate))
}

crate::refusals!(
    /// What `GET /v1/portal/captcha` refuses.
    CaptchaRefusals, Plain: RateLimited
);
crate::refusals!(
    /// What `POST /v1/portal/recover` refuses: the same `PORTAL_EMAIL_MISMATCH` for an
    /// unknown MST and a wrong email.
    RecoverRefusals, Json: InvalidMst, InvalidEmail, CaptchaIncorrect, CaptchaUsed, CaptchaExpired,
        PortalEmailMismatch, RateLimited, ServerBusy
);
crate::refusals!(
    /// What the activation link's page says instead of its button.
    ActivateRefusals, Html: MalformedRequest, ActivationInvalid, ActivationUsed, ActivationExpired, ActivationSuperseded, RateLimited
);

/// A fresh captcha: its answer and its PNG ([`crate::captcha_image`]).
pub fn make_captcha() -> anyhow::Result<(String, Vec<u8>)> {
    crate::captcha_image::draw().map(|d| (d.answer, d.png))
}

/// What is stored of an answer: bound to the captcha's id, case and spaces ignored.
pub fn captcha_answer_hash(id: &str, answer: &str) -> String {
    let normalized: String = answer.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
    let digest =
        Sha256::new().chain_update(id.as_bytes()).chain_update(b":").chain_update(normalized.as_bytes()).finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[utoipa::path(get, path = "/v1/portal/captcha", tag = "portal", summary = "A fresh captcha",
    description = "Single use, short-lived; its answer is five characters without look-alikes.",
    responses((status = 200, description = "The captcha.", body = PortalCaptcha), CaptchaRefusals))]
async fn captcha(State(s): State<AppState>, ctx: Ctx) -> Result<Json<PortalCaptcha>, ApiError> {
    s.limit_client(&ctx, AuditEvent::Captcha, None).await?;
    let (answer, png) =
        tokio::task::spawn_blocking(make_captcha).await.map_err(|e| ctx.internal(e))?.map_err(|e| ctx.internal(e))?;
    let mut id = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let id = URL_SAFE_NO_PAD.encode(id);
    let now = s.clock.now();
    let expires = now + s.config.captcha_ttl_secs;
    s.store.insert_captcha(&id, &captcha_answer_hash(&id, &answer), now, expires).await.map_err(|e| ctx.internal(e))?;
    if let Some(tap) = &s.captcha_tap {
        (tap.0)(&id, &answer);
    }
    Ok(Json(PortalCaptcha {
        captcha_id: id,
        image_png: STANDARD.encode(png),
        expires_at: rfc3339(expires),
        reference: ctx.reference.to_string(),
    }))
}

/// `POST /v1/portal/recover`. Order: cheap checks that lose nothing (limits, formats),
/// then the captcha (used up), then the lookup; a mismatch says the same for an unknown
/// MST as for a wrong email.
#[utoipa::path(post, path = "/v1/portal/recover", tag = "portal",
    summary = "A temporary password and an activation link, by tax code and registered email",
    description = "The captcha is used up by any answer. The temporary password works only once the emailed link is opened.",
    request_body = PortalRecoverRequest,
    responses((status = 200, description = "Emailed.", body = PortalRecoverComplete), RecoverRefusals))]
async fn recover(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(req): ApiJson<PortalRecoverRequest>,
) -> Result<Json<PortalRecoverComplete>, ApiError> {
    const EVENT: AuditEvent = AuditEvent::PortalRecover;
    s.limit_client(&ctx, EVENT, None).await?;
    let mst = match Mst::parse(&req.mst) {
        Ok(m) => m,
        Err(code) => return Err(s.refuse(&ctx, EVENT, None, code).await),
    };
    let email = match Email::parse(&req.email) {
        Ok(e) => e,
        Err(code) => return Err(s.refuse_detail(&ctx, EVENT, None, code, portal_detail(&mst)).await),
    };
    let now = s.clock.now();
    let check = s
        .store
        .take_captcha(&req.captcha_id, &captcha_answer_hash(&req.captcha_id, &req.captcha_answer), now)
        .await
        .map_err(|e| ctx.internal(e))?;
    let captcha_code = match check {
        CaptchaCheck::Ok => None,
        CaptchaCheck::Incorrect => Some(ErrorCode::CaptchaIncorrect),
        CaptchaCheck::Used => Some(ErrorCode::CaptchaUsed),
        CaptchaCheck::Expired | CaptchaCheck::Unknown => Some(ErrorCode::CaptchaExpired),
    };
    if let Some(code) = captcha_code {
        return Err(s.refuse_detail(&ctx, EVENT, None, code, portal_detail(&mst)).await);
    }
    // Counted only after a correct captcha: requests nobody paid a captcha for cannot
    // use up an MST's tries.
    s.limit_identity(&ctx, &mst_limit_prefix(mst.as_str()), EVENT, None).await?;
    // The registered email is the one in effect now (a change whose wait is over).
    let settled = crate::email_change::settle(&s).await.map_err(|e| ctx.internal(e))?;
    let (disabled, accounts): (Vec<_>, Vec<_>) = s
        .store
        .accounts_by_mst_email(mst.as_str(), email.as_str())
        .await
        .map_err(|e| ctx.internal(e))?
        .into_iter()
        .partition(|a| a.is_disabled());
    if accounts.is_empty() {
        // A disabled account is answered like a wrong email; the audit says which.
        let detail =
            Detail::Portal { mst: mst.to_string(), disabled: disabled.iter().map(|a| a.username.clone()).collect() };
        return Err(s.refuse_detail(&ctx, EVENT, None, ErrorCode::PortalEmailMismatch, detail).await);
    }
    for account in &accounts {
        s.check_reset_mails(&ctx, EVENT, account).await?;
    }

    let reference = ctx.reference.to_string();
    let link_expires = now + s.config.activation_ttl_secs;
    // The password may be activated up to the link's end and then lives its full span.
    let temp_expires = link_expires + s.config.temp_password_ttl_secs;
    for account in &accounts {
        let temp = Zeroizing::new(passwords::temporary_password());
        let temp_hash = s.hasher.hash(Lane::Recovery, temp.clone()).await.map_err(|e| ctx.hashing(e))?;
        let (token, token_hash) = passwords::session_token();
        // In Vietnamese, the language the mail leads with, whatever the browser's.
        let link = Zeroizing::new(format!("{}/portal/activate?t={}&lang=vi", s.origin, token.expose()));
        drop(token);
        let facts =
            MailFacts { username: &account.username, at: now, reference: &reference, hotline: &s.config.hotline };
        let (subject, body) = mail::portal_mail(&facts, link_expires, temp_expires);
        let secrets = Secrets::from([
            (mail::PASSWORD_PLACEHOLDER.to_string(), temp.to_string()),
            (mail::LINK_PLACEHOLDER.to_string(), link.to_string()),
        ]);
        let portal_mail = s
            .mail_with(settled, account, MailKind::PortalReset, subject, body, &reference, Some(&secrets))
            .map_err(|e| ctx.internal(e))?;
        let mut audit = s.audit_entry(&ctx, EVENT, Some(&account.username), Ok(()));
        audit.detail = Some(Detail::PortalLinkSent { mst: mst.to_string(), until: link_expires });
        let write = PortalWrite {
            account_id: account.id,
            token_hash,
            temp_hash,
            temp_expires_at: temp_expires,
            reference: reference.clone(),
            now,
            expires_at: link_expires,
            mails: vec![portal_mail],
            audit,
        };
        s.store.start_activation(&write).await.map_err(|e| ctx.internal(e))?;
        s.count_reset_mail(account).await.map_err(|e| ctx.internal(e))?;
    }
    s.wake.notify_one();
    Ok(Json(PortalRecoverComplete {
        // The registered address, as the mail went to it.
        masked_email: Email::parse(&accounts[0].email).map(|e| e.masked()).unwrap_or_else(|_| email.masked()),
        reference,
        activation_expires_at: rfc3339(link_expires),
    }))
}

// ---- the activation page ------------------------------------------------------------

fn brand(lang: Lang) -> &'static str {
    tr(lang, "BHXH – Kích hoạt mật khẩu mới", "BHXH – Activate the new password")
}

fn lang_switch(lang: Lang, token: &str) -> Markup {
    html::lang_switch("/portal/activate", lang, token)
}

fn outcome_code(o: ActivationOutcome) -> Option<ErrorCode> {
    match o {
        ActivationOutcome::Activated => None,
        ActivationOutcome::Unknown => Some(ErrorCode::ActivationInvalid),
        ActivationOutcome::Used => Some(ErrorCode::ActivationUsed),
        ActivationOutcome::Superseded => Some(ErrorCode::ActivationSuperseded),
        ActivationOutcome::Expired => Some(ErrorCode::ActivationExpired),
    }
}

fn activation_page(lang: Lang, status: StatusCode, nav: Markup, body: Markup) -> Response {
    html::page(lang, status, tr(lang, "Kích hoạt mật khẩu", "Activate password"), brand(lang), nav, body)
}

fn error_page(lang: Lang, hotline: &str, token: &str, code: ErrorCode, reference: &str) -> Response {
    let body = html! {
        section class="card narrow" aria-labelledby="t" {
            h1 id="t" { (tr(lang, "Không kích hoạt được", "Could not activate")) }
            (html::error_box(lang, code, reference))
            (html::hotline_line(lang, hotline))
        }
    };
    activation_page(lang, html::status_of(code), lang_switch(lang, token), body)
}

/// The outcome the link would have now, without using it.
async fn peek(s: &AppState, token_hash: &str) -> anyhow::Result<(ActivationOutcome, Option<Activation>)> {
    Ok(match s.store.activation(token_hash).await? {
        Some(a) => (a.outcome(s.clock.now()), Some(a)),
        None => (ActivationOutcome::Unknown, None),
    })
}

/// A portal request's audit detail: its MST (the account's timeline finds it by that).
fn portal_detail(mst: &impl std::fmt::Display) -> Detail {
    Detail::Portal { mst: mst.to_string(), disabled: Vec::new() }
}

/// `GET /portal/activate?t=…`: what the link will do, and the button that does it.
#[utoipa::path(get, path = "/portal/activate", tag = "portal", summary = "The activation link's page",
    description = "What the link will do and the button that does it (a GET changes nothing).", params(LinkQuery),
    responses((status = 200, description = "The page with its button.", content_type = "text/html; charset=utf-8", body = String), ActivateRefusals))]
async fn activate_page(State(s): State<AppState>, ctx: Ctx, Query(q): Query<LinkQuery>) -> Response {
    let lang = html::page_lang(ctx.lang, q.lang.as_deref());
    let reference = ctx.reference.to_string();
    let result = async {
        s.limit_client(&ctx, AuditEvent::Activate, None).await?;
        peek(&s, &passwords::token_hash(&q.t)).await.map_err(|e| ctx.internal(e))
    }
    .await;
    let (outcome, activation) = match result {
        Ok(r) => r,
        Err(e) => return error_page(lang, &s.config.hotline, &q.t, e.code, &reference),
    };
    if let Some(code) = outcome_code(outcome) {
        let username = match &activation {
            Some(a) => s.store.account_by_id(a.account_id).await.ok().flatten().map(|a| a.username),
            None => None,
        };
        s.refuse(&ctx, AuditEvent::Activate, username.as_deref(), code).await;
        return error_page(lang, &s.config.hotline, &q.t, code, &reference);
    }
    let expires = activation.map(|a| crate::clock::vn_time(a.expires_at)).unwrap_or_default();
    let body = html! {
        section class="card narrow" aria-labelledby="t" {
            h1 id="t" { (tr(lang, "Kích hoạt mật khẩu mới", "Activate the new password")) }
            p { (tr(
                lang,
                "Nhấn nút dưới đây để mật khẩu mới trong email có hiệu lực. Sau đó mật khẩu cũ không còn dùng được; hãy đăng nhập bằng mật khẩu mới và đổi ngay mật khẩu của riêng bạn.",
                "Press the button below to put the new password from the email into effect. The old password then stops working; log in with the new password and change it to one of your own at once."
            )) }
            p { (tr(lang, "Đường link có hiệu lực đến", "The link is valid until")) " " strong { (expires) } "." }
            form method="post" action="/portal/activate" {
                input type="hidden" name="t" value=(q.t);
                input type="hidden" name="lang" value=(lang.as_str());
                button class="primary" type="submit" data-testid="activate" { (tr(lang, "Kích hoạt mật khẩu mới", "Activate the new password")) }
            }
            p class="muted" { (tr(
                lang,
                "Không phải bạn yêu cầu? Đừng nhấn nút; mật khẩu cũ vẫn dùng được.",
                "Not you? Do not press the button; your old password keeps working."
            )) }
            (html::hotline_line(lang, &s.config.hotline))
        }
    };
    activation_page(lang, StatusCode::OK, lang_switch(lang, &q.t), body)
}

/// `POST /portal/activate`: uses the link.
#[utoipa::path(post, path = "/portal/activate", tag = "portal", summary = "Activate the temporary password (the page's button)",
    request_body(content = LinkQuery, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Activated: the page says what to do next.", content_type = "text/html; charset=utf-8", body = String),
        ActivateRefusals))]
async fn activate(State(s): State<AppState>, ctx: Ctx, form: Result<Form<LinkQuery>, FormRejection>) -> Response {
    // Not a form (no body, another type): the page's error, nothing used up.
    let Ok(Form(form)) = form else {
        let reference = ctx.reference.to_string();
        return error_page(ctx.lang, &s.config.hotline, "", ErrorCode::MalformedRequest, &reference);
    };
    let lang = html::page_lang(ctx.lang, form.lang.as_deref());
    let reference = ctx.reference.to_string();
    let result: Result<(ActivationOutcome, Option<String>), ApiError> = async {
        s.limit_client(&ctx, AuditEvent::Activate, None).await?;
        // A change of the registered email now in effect ends the links the old one got.
        let settled = crate::email_change::settle(&s).await.map_err(|e| ctx.internal(e))?;
        let token_hash = passwords::token_hash(&form.t);
        let (outcome, activation) = peek(&s, &token_hash).await.map_err(|e| ctx.internal(e))?;
        let Some(activation) = activation else { return Ok((outcome, None)) };
        let account = s.store.account_by_id(activation.account_id).await.map_err(|e| ctx.internal(e))?;
        let Some(account) = account else { return Ok((ActivationOutcome::Unknown, None)) };
        if outcome != ActivationOutcome::Activated {
            return Ok((outcome, Some(account.username)));
        }
        let now = s.clock.now();
        let facts =
            MailFacts { username: &account.username, at: now, reference: &reference, hotline: &s.config.hotline };
        let (subject, body) = mail::notice_mail(&facts, NoticeKind::Activated);
        let notice = s
            .mail(settled, &account, MailKind::NoticeActivated, subject, body, &reference, None)
            .map_err(|e| ctx.internal(e))?;
        let mut audit = s.audit_entry(&ctx, AuditEvent::Activate, Some(&account.username), Ok(()));
        audit.detail = Some(Detail::PortalActivated { reference: activation.reference.clone() });
        let outcome = s.store.activate(&token_hash, now, &notice, &audit).await.map_err(|e| ctx.internal(e))?;
        if outcome == ActivationOutcome::Activated {
            // The link proved the registered inbox: the owner's own windows of tries end.
            s.end_owner_windows(&account.username, None).await.map_err(|e| ctx.internal(e))?;
            s.wake.notify_one();
        }
        Ok((outcome, Some(account.username)))
    }
    .await;
    let (outcome, username) = match result {
        Ok(r) => r,
        Err(e) => return error_page(lang, &s.config.hotline, &form.t, e.code, &reference),
    };
    if let Some(code) = outcome_code(outcome) {
        s.refuse(&ctx, AuditEvent::Activate, username.as_deref(), code).await;
        return error_page(lang, &s.config.hotline, &form.t, code, &reference);
    }
    let body = html! {
        section class="card narrow" aria-labelledby="t" {
            h1 id="t" { (tr(lang, "Kích hoạt mật khẩu mới", "Activate the new password")) }
            div class="notice" role="status" data-testid="activated" {
                p { strong { (tr(lang, "Mật khẩu mới đã được kích hoạt.", "The new password is now active.")) } }
            }
            ol {
                li { (tr(lang, "Mở phần mềm BHXH và đăng nhập bằng mật khẩu mới trong email.", "Open the BHXH software and log in with the new password from the email.")) }
                li { (tr(lang, "Hệ thống sẽ yêu cầu đổi mật khẩu ngay; hãy đặt mật khẩu của riêng bạn.", "You will be asked to change it at once; choose a password of your own.")) }
            }
            p class="muted" { (tr(lang, "Mã tham chiếu", "Reference")) ": " code data-testid="reference" { (reference) } }
        }
    };
    activation_page(lang, StatusCode::OK, html! {}, body)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_captcha_is_a_png_whose_answer_uses_only_unambiguous_characters() {
        let (answer, png) = make_captcha().unwrap();
        assert_eq!(answer.chars().count(), crate::captcha_image::LEN as usize);
        assert!(answer.chars().all(|c| crate::captcha_image::CHARS.contains(&c)), "{answer}");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }

    #[test]
    fn answers_ignore_case_and_spaces_but_not_the_captcha() {
        assert_eq!(captcha_answer_hash("a", "ab 3K"), captcha_answer_hash("a", "AB3K"));
        assert_ne!(captcha_answer_hash("a", "AB3K"), captcha_answer_hash("b", "AB3K"));
        assert_ne!(captcha_answer_hash("a", "AB3K"), captcha_answer_hash("a", "AB3X"));
    }
}
