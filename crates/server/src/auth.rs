//! Logging in with the long-term or the temporary password, the forced change, the
//! session behind a bearer token, logging out.

use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use axum::Json;
use bhxh_protocol::wire::*;
use bhxh_protocol::{ErrorCode, Secret, Username};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::rfc3339;
use crate::context::{user_limit_prefix, ApiError, ApiJson, AppState, Ctx};
use crate::mail::{self, MailFacts, NoticeKind};
use crate::passwords::{self, Lane};
use crate::store::{AuditEvent, Detail, LoginWindows, MailKind, NewSession, SessionRow};

/// The `/v1/auth` routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(change_password))
        .routes(routes!(logout))
        .routes(routes!(session_info))
}

crate::refusals!(
    /// What `POST /v1/auth/login` refuses: the same `INVALID_CREDENTIALS` for an unknown
    /// username, a wrong password and a disabled account.
    LoginRefusals, Json: InvalidCredentials, TempPasswordExpired, RateLimited, ServerBusy
);
crate::refusals!(
    /// What `POST /v1/auth/change-password` refuses.
    ChangeRefusals, Json: SessionInvalid, InvalidCredentials, PasswordPolicy, PasswordReuse, RateLimited, ServerBusy
);
crate::refusals!(
    /// What the session's own endpoints refuse: no live session behind the bearer.
    SessionRefusals, Plain: SessionInvalid
);

/// The live session named by `Authorization: Bearer …`, or `SESSION_INVALID`.
async fn bearer(s: &AppState, ctx: &Ctx, headers: &HeaderMap) -> Result<SessionRow, ApiError> {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    if token.is_empty() {
        return Err(ctx.err(ErrorCode::SessionInvalid));
    }
    let hash = passwords::token_hash(token);
    match s.store.session(&hash, s.clock.now()).await.map_err(|e| ctx.internal(e))? {
        Some(session) => {
            // A signed-in user's writes go ahead of strangers'.
            crate::store::gate::serve_first();
            Ok(session)
        }
        None => Err(ctx.err(ErrorCode::SessionInvalid)),
    }
}

/// Logs in with the long-term or the temporary password. Both hashes are always
/// verified (the missing one against a dummy), so the answer takes the same time
/// whether the account exists, has a temporary password, or neither.
#[utoipa::path(post, path = "/v1/auth/login", tag = "account",
    summary = "Log in with the password or the temporary one",
    description = "After a temporary password the session may only change the password, read itself and log out (must_change_password).",
    request_body = LoginRequest,
    responses((status = 200, description = "A session.", body = LoginResponse), LoginRefusals))]
async fn login(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    const EVENT: AuditEvent = AuditEvent::Login;
    let password = req.password.into_zeroizing();
    // A name that cannot be a username (it may be 64 KiB) is verified against dummies
    // like an unknown one, but never becomes a limit key or an audit line's username.
    let valid = Username::parse(&req.username).ok();
    let named = valid.as_ref().map(Username::as_str);
    // Only wrong passwords count, and only against the client that sent them: the
    // owner's right password is never refused for other people's wrong ones.
    let prefix = named.map(user_limit_prefix);
    let failed_here = match &prefix {
        Some(prefix) => s.check_failed_logins(&ctx, prefix, EVENT, named).await?,
        None => 0,
    };
    // The owner's own computer (it logged in or proved the account lately) never waits
    // behind strangers' wrong passwords, for the hash nor for the database's writer —
    // while it sends none itself: a known client with a wrong password in its window
    // queues like anyone (so a client known to its own account cannot flood ahead of
    // everyone). Asked for every well-formed name, known or not, so the answer takes the
    // same time.
    let owners_computer = match named {
        Some(u) => s.is_known_client(&ctx, u).await? && failed_here == 0,
        None => false,
    };
    if owners_computer {
        crate::store::gate::serve_first();
    }
    // The hashes' place first: a try they would be refused is answered `SERVER_BUSY` now,
    // before the client's count, the account's lookup and their writes (nothing is
    // counted for a try never made, and a flood's surplus costs next to nothing).
    let lane = if owners_computer { Lane::KnownLogin } else { Lane::Login };
    let place = s.hasher.place(lane).map_err(|e| ctx.hashing(e))?;
    s.limit_client(&ctx, EVENT, named).await?;
    let account = match named {
        Some(u) => s.store.account_by_username(u).await.map_err(|e| ctx.internal(e))?,
        None => None,
    };
    // A disabled account is verified against dummies like an unknown one: same answer,
    // same time; only the audit line says why.
    let disabled = account.as_ref().is_some_and(|a| a.is_disabled());
    let (long_hash, temp_hash) = match &account {
        Some(a) if !disabled => {
            (a.password_hash.clone(), a.temp_password_hash.clone().filter(|_| a.temp_used_at.is_none()))
        }
        _ => (None, None),
    };
    // The two hashes run side by side, one per hashing thread when they are free.
    let [long_ok, temp_ok] =
        s.hasher.verify_both(place, password, [long_hash, temp_hash]).await.map_err(|e| ctx.hashing(e))?;
    let Some(account) = account.filter(|_| long_ok || temp_ok) else {
        let Some(prefix) = &prefix else {
            let detail = Detail::NotAUsername { bytes: req.username.len() };
            return Err(s.refuse_detail(&ctx, EVENT, None, ErrorCode::InvalidCredentials, detail).await);
        };
        let detail = disabled.then_some(Detail::AccountDisabled);
        return Err(s.refuse_wrong_password(&ctx, prefix, EVENT, named, detail).await);
    };
    // The right password: the session's writes go ahead of strangers'.
    crate::store::gate::serve_first();
    let username = account.username.clone();
    let now = s.clock.now();
    let (token, token_hash) = passwords::session_token();
    let must_change = !long_ok;
    let session = NewSession { token_hash, must_change, created_at: now, expires_at: now + s.config.session_ttl_secs };
    let mut entry = s.audit_entry(&ctx, EVENT, Some(&username), Ok(()));
    // The right password ends this client's window of wrong ones and makes it known, in
    // the session's own transaction.
    let (clear, known) = s.login_window_keys(&ctx, &username, EVENT);
    let windows = LoginWindows { clear: &clear, known: &known, now };
    if must_change {
        if account.temp_expires_at.is_some_and(|t| now > t) {
            return Err(s.refuse(&ctx, EVENT, Some(&username), ErrorCode::TempPasswordExpired).await);
        }
        entry.detail = Some(Detail::TempPasswordUsed { reference: account.temp_reference.clone() });
        let won = s
            .store
            .use_temp_password(account.id, &session, now, &entry, &windows)
            .await
            .map_err(|e| ctx.internal(e))?;
        if !won {
            return Err(s.refuse(&ctx, EVENT, Some(&username), ErrorCode::InvalidCredentials).await);
        }
    } else {
        s.store.create_session(account.id, &session, &entry, &windows).await.map_err(|e| ctx.internal(e))?;
    }
    Ok(Json(LoginResponse {
        session_token: token,
        must_change_password: must_change,
        expires_at: rfc3339(session.expires_at),
        reference: ctx.reference.to_string(),
    }))
}

/// Sets a new long-term password. With a must-change session the current password is
/// the temporary one; the new one may never equal it. A session is a proven user: its
/// hashes go in the proven users' argon2 budget, never behind a flood of public logins.
#[utoipa::path(post, path = "/v1/auth/change-password", tag = "account",
    summary = "Set a new password of one's own",
    description = "With the session of a temporary password, current_password may be left out; any other session must send it.",
    request_body = ChangePasswordRequest, security(("session" = [])),
    responses((status = 200, description = "Changed; a notice is mailed to the registered address.", body = Ack), ChangeRefusals))]
async fn change_password(
    State(s): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> Result<Json<Ack>, ApiError> {
    const EVENT: AuditEvent = AuditEvent::ChangePassword;
    let current = req.current_password.map(Secret::into_zeroizing);
    let new = req.new_password.into_zeroizing();
    // The notice goes to the registered address as it is now (a change whose wait is over).
    let settled = crate::email_change::settle(&s).await.map_err(|e| ctx.internal(e))?;
    let session = bearer(&s, &ctx, &headers).await?;
    let account = &session.account;
    s.limit_user(&ctx, EVENT, &account.username).await?;
    // A must-change session was opened with the account's current temporary password
    // (used up then; a newer reset ends such sessions): it is the proof, and the app
    // need not ask for the 14 characters again. Sent anyway, it must be right. Any other
    // session must send the long-term password.
    match (&current, session.must_change) {
        (None, true) if account.temp_used_at.is_some() && account.password_hash.is_none() => {}
        (None, true) => {
            return Err(s
                .refuse_detail(&ctx, EVENT, Some(&account.username), ErrorCode::SessionInvalid, Detail::SessionReplaced)
                .await)
        }
        (None, false) => {
            return Err(s
                .refuse_detail(
                    &ctx,
                    EVENT,
                    Some(&account.username),
                    ErrorCode::InvalidCredentials,
                    Detail::NoCurrentPassword,
                )
                .await)
        }
        (Some(current), must_change) => {
            let current_hash =
                if must_change { account.temp_password_hash.clone() } else { account.password_hash.clone() };
            if !s.hasher.verify(Lane::Recovery, current.clone(), current_hash).await.map_err(|e| ctx.hashing(e))? {
                return Err(s.refuse(&ctx, EVENT, Some(&account.username), ErrorCode::InvalidCredentials).await);
            }
        }
    }
    if !bhxh_protocol::domain::password_policy(&new, &account.username).is_empty() {
        return Err(s.refuse(&ctx, EVENT, Some(&account.username), ErrorCode::PasswordPolicy).await);
    }
    let equals_temp = match &account.temp_password_hash {
        Some(h) => s.hasher.verify(Lane::Recovery, new.clone(), Some(h.clone())).await.map_err(|e| ctx.hashing(e))?,
        None => false,
    };
    if current.as_ref().is_some_and(|c| **c == *new) || equals_temp {
        return Err(s.refuse(&ctx, EVENT, Some(&account.username), ErrorCode::PasswordReuse).await);
    }
    let new_hash = s.hasher.hash(Lane::Recovery, new).await.map_err(|e| ctx.hashing(e))?;
    let now = s.clock.now();
    let reference = ctx.reference.to_string();
    let facts = MailFacts { username: &account.username, at: now, reference: &reference, hotline: &s.config.hotline };
    let (subject, body) = mail::notice_mail(&facts, NoticeKind::Changed);
    let notice = s
        .mail(settled, account, MailKind::NoticeChanged, subject, body, &reference, None)
        .map_err(|e| ctx.internal(e))?;
    let entry = s.audit_entry(&ctx, EVENT, Some(&account.username), Ok(()));
    s.store.change_password(account.id, &new_hash, now, &notice, &entry).await.map_err(|e| ctx.internal(e))?;
    s.wake.notify_one();
    Ok(Json(Ack { reference }))
}

#[utoipa::path(post, path = "/v1/auth/logout", tag = "account", summary = "End the session", security(("session" = [])),
    responses((status = 200, description = "The session is gone.", body = Ack), SessionRefusals))]
async fn logout(State(s): State<AppState>, ctx: Ctx, headers: HeaderMap) -> Result<Json<Ack>, ApiError> {
    let session = bearer(&s, &ctx, &headers).await?;
    let entry = s.audit_entry(&ctx, AuditEvent::Logout, Some(&session.account.username), Ok(()));
    s.store.delete_session(&session.token_hash, &entry).await.map_err(|e| ctx.internal(e))?;
    Ok(Json(Ack { reference: ctx.reference.to_string() }))
}

#[utoipa::path(get, path = "/v1/auth/session", tag = "account", summary = "Who the session is", security(("session" = [])),
    responses((status = 200, description = "The session's account.", body = SessionInfo), SessionRefusals))]
async fn session_info(State(s): State<AppState>, ctx: Ctx, headers: HeaderMap) -> Result<Json<SessionInfo>, ApiError> {
    let session = bearer(&s, &ctx, &headers).await?;
    Ok(Json(SessionInfo {
        username: session.account.username.clone(),
        must_change_password: session.must_change,
        expires_at: rfc3339(session.expires_at),
        reference: ctx.reference.to_string(),
    }))
}
