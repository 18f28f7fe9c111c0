//! HTTP: the v1 routes, the request context (reference, language, client address),
//! limits, and the one place errors become answers.
//!
//! Internals never reach the client: an unexpected error is logged with the request's
//! reference code and answered as `INTERNAL` with that reference.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, FromRequestParts, Request, State};
use axum::http::header::{HeaderValue, AUTHORIZATION, RETRY_AFTER};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use bhxh_protocol::domain::normalize_username;
use bhxh_protocol::vnid::msts;
use bhxh_protocol::wire::*;
use bhxh_protocol::{to_be_signed, ErrorCode, Lang, Purpose, Reference, Username};
use rand::RngCore;
use tokio::sync::Notify;
use zeroize::Zeroizing;

use crate::clock::{rfc3339, Clock};
use crate::config::{Config, Delivery};
use crate::mail::{self, MailFacts, NoticeKind, OutboxKey};
use crate::passwords::{self, Hasher};
use crate::store::{Account, AuditEntry, NewMail, NewSession, ResetWrite, SessionRow, Store};
use crate::verify::{check_signature, TrustStore};

/// Everything a handler needs; one struct, cloned per request (all fields are cheap).
#[derive(Clone, Debug)]
pub struct AppState {
    pub config: Arc<Config>,
    /// The origin clients reach this server at, hashed into what they sign.
    pub origin: Arc<str>,
    pub store: Store,
    pub trust: Arc<TrustStore>,
    pub hasher: Hasher,
    pub clock: Clock,
    pub outbox_key: OutboxKey,
    /// Wakes the outbox worker when a mail is enqueued.
    pub wake: Arc<Notify>,
    /// In-process tests only: sees captcha answers (see [`crate::portal::CaptchaTap`]).
    pub captcha_tap: Option<crate::portal::CaptchaTap>,
}

/// The v1 router with its limits.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.limits.max_body_bytes;
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/recovery/challenge", post(challenge))
        .route("/v1/recovery/complete", post(complete))
        .route("/v1/auth/login", post(login))
        .route("/v1/auth/change-password", post(change_password))
        .route("/v1/auth/logout", post(logout))
        .route("/v1/auth/session", get(session_info))
        .merge(crate::portal::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(state.clone(), context_layer))
        .with_state(state)
}

// ---- request context ----------------------------------------------------------------

/// Per-request facts every answer and audit line carries.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub reference: Reference,
    pub lang: Lang,
    pub client: String,
}

/// Gives each request its reference code and context, bounds its time, and stamps the
/// reference on the answer (`X-Reference`), errors from extractors included.
pub(crate) async fn context_layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let lang = req
        .headers()
        .get("accept-language")
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_header)
        .unwrap_or_default();
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    let forwarded = state
        .config
        .trust_proxy
        .then(|| req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()))
        .flatten()
        .and_then(|v| v.split(',').next())
        .map(|s| s.trim().to_string());
    let ctx = Ctx { reference: Reference::new(), lang, client: forwarded.or(peer).unwrap_or_else(|| "unknown".into()) };
    req.extensions_mut().insert(ctx.clone());
    let timeout = Duration::from_secs(state.config.limits.request_timeout_secs);
    let mut response = match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => {
            tracing::warn!(reference = %ctx.reference, "request timed out");
            ctx.err(ErrorCode::RequestTimeout).into_response()
        }
    };
    if let Ok(v) = HeaderValue::from_str(ctx.reference.as_str()) {
        response.headers_mut().entry("x-reference").or_insert(v);
    }
    response
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Ctx>().cloned().unwrap_or_else(|| Ctx {
            reference: Reference::new(),
            lang: Lang::Vi,
            client: "unknown".into(),
        }))
    }
}

impl Ctx {
    /// An error answer with this request's reference and language.
    pub fn err(&self, code: ErrorCode) -> ApiError {
        ApiError { code, reference: self.reference.clone(), lang: self.lang, retry_after: None }
    }

    /// Logs an unexpected error under the reference and answers `INTERNAL`.
    pub fn internal(&self, e: impl std::fmt::Display) -> ApiError {
        tracing::error!(reference = %self.reference, error = %e, "internal error");
        self.err(ErrorCode::Internal)
    }
}

/// `Json<T>` whose rejections are answered in the catalogue's shape.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = req.extensions().get::<Ctx>().cloned();
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => {
                let code = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ErrorCode::BodyTooLarge
                } else {
                    ErrorCode::MalformedRequest
                };
                let ctx = ctx.unwrap_or_else(|| Ctx { reference: Reference::new(), lang: Lang::Vi, client: String::new() });
                tracing::info!(reference = %ctx.reference, rejection = %rejection.body_text(), "request body refused");
                Err(ctx.err(code))
            }
        }
    }
}

/// An error answer: `{code, message, hint, reference}` with the code's status.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub reference: Reference,
    pub lang: Lang,
    pub retry_after: Option<u64>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            code: self.code.as_str().into(),
            message: self.code.message(self.lang).into(),
            hint: self.code.hint(self.lang).into(),
            reference: self.reference.to_string(),
            retry_after: self.retry_after,
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

async fn not_found(ctx: Ctx) -> ApiError {
    ctx.err(ErrorCode::NotFound)
}

// ---- shared steps -------------------------------------------------------------------

impl AppState {
    pub(crate) fn audit_entry(&self, ctx: &Ctx, event: &str, username: Option<&str>, outcome: Result<(), ErrorCode>) -> AuditEntry {
        AuditEntry {
            reference: ctx.reference.to_string(),
            at: self.clock.now(),
            event: event.into(),
            username: username.filter(|u| !u.is_empty()).map(str::to_string),
            outcome: if outcome.is_ok() { "ok".into() } else { "rejected".into() },
            error_code: outcome.err().map(|c| c.as_str().to_string()),
            client_addr: Some(ctx.client.clone()),
            cert_fingerprint: None,
            actor: "user".into(),
            detail: None,
        }
    }

    /// Records a refused attempt and turns it into the answer.
    pub(crate) async fn refuse(&self, ctx: &Ctx, event: &str, username: Option<&str>, code: ErrorCode) -> ApiError {
        self.refuse_with(ctx, event, username, code, None).await
    }

    /// [`AppState::refuse`] with a detail on the audit line (never a secret).
    pub(crate) async fn refuse_detail(&self, ctx: &Ctx, event: &str, username: Option<&str>, code: ErrorCode, detail: String) -> ApiError {
        self.refuse_with(ctx, event, username, code, Some(detail)).await
    }

    async fn refuse_with(&self, ctx: &Ctx, event: &str, username: Option<&str>, code: ErrorCode, detail: Option<String>) -> ApiError {
        let mut entry = self.audit_entry(ctx, event, username, Err(code));
        entry.detail = detail;
        if let Err(e) = self.store.audit(&entry).await {
            return ctx.internal(e);
        }
        ctx.err(code)
    }

    /// Counts a hit on `key`; past `max` in the window, answers `RATE_LIMITED`.
    pub(crate) async fn limit(&self, ctx: &Ctx, key: &str, max: u32, window: i64, event: &str, username: Option<&str>) -> Result<(), ApiError> {
        let now = self.clock.now();
        let (count, start) = self.store.hit(key, window, now).await.map_err(|e| ctx.internal(e))?;
        if count > i64::from(max) {
            let mut err = self.refuse(ctx, event, username, ErrorCode::RateLimited).await;
            err.retry_after = Some((start + window - now).max(1) as u64);
            return Err(err);
        }
        Ok(())
    }

    pub(crate) async fn limit_client(&self, ctx: &Ctx, event: &str, username: Option<&str>) -> Result<(), ApiError> {
        let l = &self.config.limits;
        self.limit(ctx, &format!("client:{}:{event}", ctx.client), l.per_client, l.per_client_window_secs, event, username)
            .await
    }

    async fn limit_user(&self, ctx: &Ctx, event: &str, username: &str) -> Result<(), ApiError> {
        let l = &self.config.limits;
        self.limit(ctx, &user_limit_key(username, event), l.per_username, l.per_username_window_secs, event, Some(username))
            .await
    }

    pub(crate) fn mail(&self, account: &Account, kind: &str, subject: String, body: String, reference: &str, secret: Option<&str>) -> anyhow::Result<NewMail> {
        let secrets = secret.map(|p| mail::Secrets::from([(mail::PASSWORD_PLACEHOLDER.to_string(), p.to_string())]));
        self.mail_with(account, kind, subject, body, reference, secrets.as_ref())
    }

    /// A mail for `account` whose placeholders are sealed in the outbox until delivery.
    pub(crate) fn mail_with(
        &self,
        account: &Account,
        kind: &str,
        subject: String,
        body: String,
        reference: &str,
        secrets: Option<&mail::Secrets>,
    ) -> anyhow::Result<NewMail> {
        let message_id = mail::new_message_id();
        let secret = secrets.map(|s| self.outbox_key.seal_secrets(&message_id, s)).transpose()?;
        Ok(NewMail {
            message_id,
            account_id: Some(account.id),
            kind: kind.into(),
            recipient: account.email.clone(),
            subject,
            body,
            secret,
            reference: reference.into(),
        })
    }

    async fn bearer(&self, ctx: &Ctx, parts: &axum::http::HeaderMap) -> Result<SessionRow, ApiError> {
        let token = parts
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or_default();
        if token.is_empty() {
            return Err(ctx.err(ErrorCode::SessionInvalid));
        }
        let hash = passwords::token_hash(token);
        match self.store.session(&hash, self.clock.now()).await.map_err(|e| ctx.internal(e))? {
            Some(s) => Ok(s),
            None => Err(ctx.err(ErrorCode::SessionInvalid)),
        }
    }
}

/// Rate-limit key of a username; `account unlock` clears every key with this prefix.
pub fn user_limit_key(username: &str, event: &str) -> String {
    format!("user:{username}:{event}")
}

// ---- handlers -----------------------------------------------------------------------

async fn health(State(s): State<AppState>, ctx: Ctx) -> Result<Json<Health>, ApiError> {
    s.store.ping().await.map_err(|e| {
        tracing::error!(reference = %ctx.reference, error = %e, "database unavailable");
        ctx.err(ErrorCode::ServiceUnavailable)
    })?;
    Ok(Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        protocol: bhxh_protocol::PROTOCOL_VERSION.into(),
        time: rfc3339(s.clock.now()),
        reference: ctx.reference.to_string(),
    }))
}

/// Issues a challenge. It does not look the username up at all, so the answer for an
/// unknown username is the same in status, shape and work.
async fn challenge(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(req): ApiJson<ChallengeRequest>,
) -> Result<Json<ChallengeResponse>, ApiError> {
    const EVENT: &str = "challenge";
    let username = match req.purpose {
        Purpose::UsernameLookup => String::new(),
        _ => match Username::parse(&req.username) {
            Ok(u) => u.as_str().to_string(),
            Err(code) => return Err(s.refuse(&ctx, EVENT, None, code).await),
        },
    };
    s.limit_client(&ctx, EVENT, Some(&username)).await?;
    if !username.is_empty() {
        s.limit_user(&ctx, EVENT, &username).await?;
    }
    let now = s.clock.now();
    let mut nonce = [0u8; 32];
    let mut id = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    rand::rngs::OsRng.fill_bytes(&mut id);
    let c = crate::store::Challenge {
        id: URL_SAFE_NO_PAD.encode(id),
        username: username.clone(),
        purpose: req.purpose.as_str().into(),
        nonce: STANDARD.encode(nonce),
        origin: s.origin.to_string(),
        created_at: now,
        expires_at: now + s.config.challenge_ttl_secs,
        used_at: None,
        outcome: None,
    };
    let audit = s.audit_entry(&ctx, EVENT, Some(&username), Ok(()));
    s.store.insert_challenge(&c, &audit).await.map_err(|e| ctx.internal(e))?;
    Ok(Json(ChallengeResponse {
        challenge_id: c.id,
        nonce: c.nonce,
        origin: c.origin,
        expires_at: rfc3339(c.expires_at),
        reference: ctx.reference.to_string(),
    }))
}

/// Runs every check of protocol v1 step 4 in order and stops at the first failure.
async fn complete(State(s): State<AppState>, ctx: Ctx, ApiJson(req): ApiJson<CompleteRequest>) -> Result<Response, ApiError> {
    const EVENT: &str = "complete";
    let claimed = normalize_username(&req.username);
    s.limit_client(&ctx, EVENT, Some(&claimed)).await?;
    let now = s.clock.now();

    // 1. The challenge: exists, unused, unexpired, for this username and purpose.
    let ch = match s.store.challenge(&req.challenge_id).await.map_err(|e| ctx.internal(e))? {
        Some(c) => c,
        None => return Err(s.refuse(&ctx, EVENT, Some(&claimed), ErrorCode::ChallengeNotFound).await),
    };
    if ch.used_at.is_some() {
        return Err(s.refuse(&ctx, EVENT, Some(&claimed), ErrorCode::ChallengeUsed).await);
    }
    // From here on a failure uses the challenge up: one attempt per challenge.
    let fail = |code: ErrorCode, fingerprint: Option<String>| {
        let s = s.clone();
        let ctx = ctx.clone();
        let ch_id = ch.id.clone();
        let claimed = claimed.clone();
        async move {
            let mut entry = s.audit_entry(&ctx, EVENT, Some(&claimed), Err(code));
            entry.cert_fingerprint = fingerprint;
            match s.store.fail_challenge(&ch_id, code.as_str(), s.clock.now(), &entry).await {
                Ok(_) => ctx.err(code),
                Err(e) => ctx.internal(e),
            }
        }
    };
    if now > ch.expires_at {
        return Err(fail(ErrorCode::ChallengeExpired, None).await);
    }
    if ch.username != claimed || ch.purpose != req.purpose.as_str() {
        return Err(fail(ErrorCode::ChallengeMismatch, None).await);
    }

    // 2–4. The certificate: parses, valid now, key usage, key and algorithm, chain, CRL.
    let cert_der = match STANDARD.decode(req.certificate.as_bytes()) {
        Ok(d) if !d.is_empty() => d,
        _ => return Err(fail(ErrorCode::CertMalformed, None).await),
    };
    let fingerprint = crate::verify::fingerprint(&cert_der);
    let checked = match s.trust.check_certificate(&cert_der, req.algorithm, now) {
        Ok(c) => c,
        Err(code) => return Err(fail(code, Some(fingerprint)).await),
    };

    // 5. Bound to the account: pinned fingerprint, else the certificate's MST.
    let (account, usernames) = match req.purpose {
        Purpose::UsernameLookup => {
            let mut names = Vec::new();
            for mst in msts(&checked.ids) {
                names.extend(s.store.usernames_by_mst(mst.as_str()).await.map_err(|e| ctx.internal(e))?);
            }
            if msts(&checked.ids).next().is_none() {
                return Err(fail(ErrorCode::CertNotBound, Some(fingerprint)).await);
            }
            (None, names)
        }
        _ => {
            let account = s.store.account_by_username(&claimed).await.map_err(|e| ctx.internal(e))?;
            let bound = account.as_ref().is_some_and(|a| match &a.cert_fingerprint {
                Some(pin) => *pin == fingerprint,
                None => msts(&checked.ids).any(|m| m.as_str() == a.mst),
            });
            match account {
                Some(a) if bound => (Some(a), Vec::new()),
                _ => return Err(fail(ErrorCode::CertNotBound, Some(fingerprint)).await),
            }
        }
    };

    // 6. The signature, over the bytes the server rebuilds from what it stored.
    let data = to_be_signed(req.purpose, &ch.origin, &ch.username, &ch.nonce);
    let sig_ok = STANDARD
        .decode(req.signature.as_bytes())
        .map_err(|_| ErrorCode::SignatureInvalid)
        .and_then(|sig| check_signature(&cert_der, req.algorithm, &data, &sig));
    if let Err(code) = sig_ok {
        return Err(fail(code, Some(fingerprint)).await);
    }

    let mut entry = s.audit_entry(&ctx, EVENT, Some(&claimed), Ok(()));
    entry.cert_fingerprint = Some(fingerprint);
    entry.detail = Some(format!("purpose={}; subject CN={}", req.purpose.as_str(), checked.common_name));
    let Some(account) = account else {
        let won = s.store.complete_lookup(&ch.id, now, &entry).await.map_err(|e| ctx.internal(e))?;
        if !won {
            return Err(ctx.err(ErrorCode::ChallengeUsed));
        }
        return Ok(Json(UsernameLookupComplete { usernames, reference: ctx.reference.to_string() }).into_response());
    };

    // Success: a temporary password, only its hash stored; mails in the same transaction.
    let temp = Zeroizing::new(passwords::temporary_password());
    let temp_hash = s.hasher.hash(temp.clone()).await.map_err(|e| ctx.internal(e))?;
    let expires = now + s.config.temp_password_ttl_secs;
    let reference = ctx.reference.to_string();
    let facts = MailFacts { username: &account.username, at: now, reference: &reference, hotline: &s.config.hotline };
    let mut mails = Vec::new();
    if s.config.deliver == Delivery::Email {
        let (subject, body) = mail::reset_mail(&facts, expires);
        mails.push(s.mail(&account, "reset", subject, body, &reference, Some(&temp)).map_err(|e| ctx.internal(e))?);
    }
    let (subject, body) = mail::notice_mail(&facts, NoticeKind::Reset);
    mails.push(s.mail(&account, "notice-reset", subject, body, &reference, None).map_err(|e| ctx.internal(e))?);
    let won = s
        .store
        .complete_reset(ResetWrite {
            challenge_id: &ch.id,
            account_id: account.id,
            temp_hash: &temp_hash,
            temp_expires_at: expires,
            reference: &reference,
            now,
            mails,
            audit: entry,
        })
        .await
        .map_err(|e| ctx.internal(e))?;
    if !won {
        return Err(ctx.err(ErrorCode::ChallengeUsed));
    }
    s.wake.notify_one();
    let masked = bhxh_protocol::Email::parse(&account.email).map(|e| e.masked()).unwrap_or_else(|_| "***".into());
    Ok(Json(RecoveryComplete {
        masked_email: masked,
        reference,
        password_expires_at: rfc3339(expires),
        delivery: s.config.deliver.as_str().into(),
        temporary_password: (s.config.deliver == Delivery::InApp).then(|| temp.to_string()),
    })
    .into_response())
}

/// Logs in with the long-term or the temporary password. Both hashes are always
/// verified (the missing one against a dummy), so the answer takes the same time
/// whether the account exists, has a temporary password, or neither.
async fn login(State(s): State<AppState>, ctx: Ctx, ApiJson(req): ApiJson<LoginRequest>) -> Result<Json<LoginResponse>, ApiError> {
    const EVENT: &str = "login";
    let password = Zeroizing::new(req.password);
    let username = normalize_username(&req.username);
    s.limit_client(&ctx, EVENT, Some(&username)).await?;
    s.limit_user(&ctx, EVENT, &username).await?;
    let account = match Username::parse(&username) {
        Ok(u) => s.store.account_by_username(u.as_str()).await.map_err(|e| ctx.internal(e))?,
        Err(_) => None,
    };
    let (long_hash, temp_hash) = match &account {
        Some(a) => (a.password_hash.clone(), a.temp_password_hash.clone().filter(|_| a.temp_used_at.is_none())),
        None => (None, None),
    };
    let long_ok = s.hasher.verify(password.clone(), long_hash).await.map_err(|e| ctx.internal(e))?;
    let temp_ok = s.hasher.verify(password, temp_hash).await.map_err(|e| ctx.internal(e))?;
    let Some(account) = account.filter(|_| long_ok || temp_ok) else {
        return Err(s.refuse(&ctx, EVENT, Some(&username), ErrorCode::InvalidCredentials).await);
    };
    let now = s.clock.now();
    let (token, token_hash) = passwords::session_token();
    let must_change = !long_ok;
    let session = NewSession { token_hash, must_change, created_at: now, expires_at: now + s.config.session_ttl_secs };
    let mut entry = s.audit_entry(&ctx, EVENT, Some(&username), Ok(()));
    if must_change {
        if account.temp_expires_at.is_some_and(|t| now > t) {
            return Err(s.refuse(&ctx, EVENT, Some(&username), ErrorCode::TempPasswordExpired).await);
        }
        entry.detail = Some(format!("temporary password of {} used", account.temp_reference.as_deref().unwrap_or("?")));
        let won = s.store.use_temp_password(account.id, &session, now, &entry).await.map_err(|e| ctx.internal(e))?;
        if !won {
            return Err(s.refuse(&ctx, EVENT, Some(&username), ErrorCode::InvalidCredentials).await);
        }
    } else {
        s.store.create_session(account.id, &session, &entry).await.map_err(|e| ctx.internal(e))?;
    }
    Ok(Json(LoginResponse {
        session_token: token,
        must_change_password: must_change,
        expires_at: rfc3339(session.expires_at),
        reference: ctx.reference.to_string(),
    }))
}

/// Sets a new long-term password. With a must-change session the current password is
/// the temporary one; the new one may never equal it.
async fn change_password(
    State(s): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> Result<Json<Ack>, ApiError> {
    const EVENT: &str = "change_password";
    let current = Zeroizing::new(req.current_password);
    let new = Zeroizing::new(req.new_password);
    let session = s.bearer(&ctx, &headers).await?;
    let account = &session.account;
    s.limit_user(&ctx, EVENT, &account.username).await?;
    let current_hash = if session.must_change { account.temp_password_hash.clone() } else { account.password_hash.clone() };
    if !s.hasher.verify(current.clone(), current_hash).await.map_err(|e| ctx.internal(e))? {
        return Err(s.refuse(&ctx, EVENT, Some(&account.username), ErrorCode::InvalidCredentials).await);
    }
    if !bhxh_protocol::domain::password_policy(&new, &account.username).is_empty() {
        return Err(s.refuse(&ctx, EVENT, Some(&account.username), ErrorCode::PasswordPolicy).await);
    }
    let equals_temp = match &account.temp_password_hash {
        Some(h) => s.hasher.verify(new.clone(), Some(h.clone())).await.map_err(|e| ctx.internal(e))?,
        None => false,
    };
    if *new == *current || equals_temp {
        return Err(s.refuse(&ctx, EVENT, Some(&account.username), ErrorCode::PasswordReuse).await);
    }
    let new_hash = s.hasher.hash(new).await.map_err(|e| ctx.internal(e))?;
    let now = s.clock.now();
    let reference = ctx.reference.to_string();
    let facts = MailFacts { username: &account.username, at: now, reference: &reference, hotline: &s.config.hotline };
    let (subject, body) = mail::notice_mail(&facts, NoticeKind::Changed);
    let notice = s.mail(account, "notice-changed", subject, body, &reference, None).map_err(|e| ctx.internal(e))?;
    let entry = s.audit_entry(&ctx, EVENT, Some(&account.username), Ok(()));
    s.store.change_password(account.id, &new_hash, now, &notice, &entry).await.map_err(|e| ctx.internal(e))?;
    s.wake.notify_one();
    Ok(Json(Ack { reference }))
}

async fn logout(State(s): State<AppState>, ctx: Ctx, headers: axum::http::HeaderMap) -> Result<Json<Ack>, ApiError> {
    let session = s.bearer(&ctx, &headers).await?;
    let entry = s.audit_entry(&ctx, "logout", Some(&session.account.username), Ok(()));
    s.store.delete_session(&session.token_hash, &entry).await.map_err(|e| ctx.internal(e))?;
    Ok(Json(Ack { reference: ctx.reference.to_string() }))
}

async fn session_info(State(s): State<AppState>, ctx: Ctx, headers: axum::http::HeaderMap) -> Result<Json<SessionInfo>, ApiError> {
    let session = s.bearer(&ctx, &headers).await?;
    Ok(Json(SessionInfo {
        username: session.account.username.clone(),
        must_change_password: session.must_change,
        expires_at: rfc3339(session.expires_at),
        reference: ctx.reference.to_string(),
    }))
}
