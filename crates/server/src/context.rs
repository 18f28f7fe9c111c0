//! The request context every handler shares: the application state, the per-request
//! facts (reference, language, client address), the JSON extractor and error answer,
//! and the steps handlers repeat (audit lines, refusals, rate limits, mails).
//!
//! Internals never reach the client: an unexpected error is logged with the request's
//! reference code and answered as `INTERNAL` with that reference.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request, State};
use axum::http::header::{HeaderValue, RETRY_AFTER};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bhxh_protocol::wire::ErrorBody;
use bhxh_protocol::{ErrorCode, Lang, Reference};
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::Config;
use crate::mail::OutboxKey;
use crate::passwords::Hasher;
use crate::store::limits::Hit;
use crate::store::{Account, Actor, AuditEntry, AuditEvent, Counted, Detail, Store};
use crate::verify::TrustStore;

/// Everything a handler needs; one struct, cloned per request (all fields are cheap).
#[derive(Clone, Debug)]
pub struct AppState {
    pub config: Arc<Config>,
    /// The origin clients reach this server at, hashed into what they sign.
    pub origin: Arc<str>,
    pub store: Store,
    pub trust: Arc<TrustStore>,
    /// Revocation of the checked paths: OCSP and CRLs, cached.
    pub revocation: crate::revocation::Revocation,
    pub hasher: Hasher,
    pub clock: Clock,
    pub outbox_key: OutboxKey,
    /// Wakes the outbox worker when a mail is enqueued.
    pub wake: Arc<Notify>,
    /// The reverse proxies whose `X-Forwarded-For` is believed.
    pub proxies: Arc<crate::client_addr::ProxyList>,
    /// Seals and opens the stateless challenges.
    pub challenges: crate::challenge::Challenges,
    /// The challenge endpoint's limit windows (in memory: a flood writes nothing).
    pub memory_limits: Arc<crate::mem_limits::MemoryLimits>,
    /// Where each client stands, and the turns it waits for (see [`crate::standing`]).
    pub standing: Arc<crate::standing::Standing>,
    /// In-process tests only: sees captcha answers (see [`CaptchaTap`]).
    pub captcha_tap: Option<CaptchaTap>,
    /// The database's last ping for `/v1/health`: one ping at a time, its answer kept
    /// [`HEALTH_PING_TTL`], so a client polling health in a loop costs the database
    /// nothing more than one probe does.
    pub health: Arc<tokio::sync::Mutex<Option<(std::time::Instant, bool)>>>,
}

/// How long one database ping answers `/v1/health` for everyone.
pub const HEALTH_PING_TTL: Duration = Duration::from_secs(1);

/// Per-request facts every answer and audit line carries.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub reference: Reference,
    pub lang: Lang,
    /// The client's address, as the audit records it.
    pub client: String,
    /// What its limits are counted under (the address; an IPv6 /64).
    pub client_key: String,
    /// Its network (an IPv4 /24, an IPv6 /48): what a site's budgets are counted under.
    pub network_key: String,
    /// Reached over HTTPS, as a trusted proxy says (the staff console's cookies are
    /// then `Secure` and `__Host-`).
    pub https: bool,
    /// The app instance the request says it comes from (`X-BHXH-Instance`, when it has
    /// the form of one): kept on its audit lines for the support code's page.
    pub instance: Option<String>,
}

/// The answers whose success puts a client in good standing (crate::standing): a login,
/// a token proof.
const PROOFS: [&str; 2] = ["/v1/auth/login", "/v1/recovery/complete"];

/// Gives each request its reference code and context, bounds its time, and stamps the
/// reference on the answer (`X-Reference`), errors from extractors included.
pub(crate) async fn context_layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let lang =
        req.headers().get("accept-language").and_then(|v| v.to_str().ok()).map(Lang::from_header).unwrap_or_default();
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let client = peer.map(|peer| {
        let forwarded = req.headers().get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        crate::client_addr::client_address(peer, forwarded, &state.proxies)
    });
    let https = peer.is_some_and(|peer| {
        let proto = req.headers().get_all("x-forwarded-proto").iter().filter_map(|v| v.to_str().ok());
        crate::client_addr::forwarded_https(peer, proto, &state.proxies)
    });
    let instance = req
        .headers()
        .get(bhxh_protocol::INSTANCE_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| bhxh_protocol::valid_instance(v))
        .map(str::to_string);
    let ctx = match client {
        Some(ip) => Ctx {
            reference: Reference::new(),
            lang,
            client: ip.to_string(),
            client_key: crate::client_addr::limit_key(ip),
            network_key: crate::client_addr::network_key(ip),
            https,
            instance,
        },
        None => Ctx { lang, instance, ..Ctx::unknown() },
    };
    req.extensions_mut().insert(ctx.clone());
    // The router's template, never the path a client sent (no unbounded label).
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let started = std::time::Instant::now();
    let timeout = Duration::from_secs(state.config.limits.request_timeout_secs);
    // A stranger's request, and one from a client that earned refusals, waits for a turn
    // of its kind before any work is done for it (crate::standing), within the request's
    // time; a client in good standing never waits. Each request writes in its own lane
    // of the writer's queue (ordinary until it shows it is the owner's: crate::store::gate).
    let standing = match client {
        Some(_) => state.standing.class(&ctx.client_key, state.clock.now()),
        None => crate::standing::Class::Good,
    };
    let post = req.method() == axum::http::Method::POST;
    let run = async {
        let turn = state.standing.turn(standing).await;
        crate::standing::holding(turn, crate::store::gate::in_request(next.run(req))).await
    };
    let mut response = match tokio::time::timeout(timeout, run).await {
        Ok(r) => r,
        Err(_) => {
            tracing::warn!(reference = %ctx.reference, "request timed out");
            ctx.err(ErrorCode::RequestTimeout).into_response()
        }
    };
    let code = match response.extensions().get::<ErrorCode>() {
        Some(code) => code.as_str(),
        None if response.status().is_client_error() || response.status().is_server_error() => "http_error",
        None => "ok",
    };
    crate::metrics::metrics().answered(&route, code, started.elapsed());
    if client.is_some() {
        if response.status().is_client_error() && response.extensions().get::<ErrorCode>().is_some() {
            state.standing.refused(&ctx.client_key, state.clock.now());
        } else if post && response.status().is_success() && PROOFS.contains(&route.as_str()) {
            state.standing.proved(&ctx.client_key, state.clock.now());
        }
    }
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(ctx.reference.as_str()) {
        headers.entry("x-reference").or_insert(v);
    }
    // No answer is kept by a browser or a proxy (a login's session token, a recovery's
    // masked email), read as anything but its declared type, framed, or allowed to load
    // anything — the JSON, and the framework's own plain-text refusals (which may echo
    // the request) alike. Pages set their own, which stay.
    use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
    headers.entry(CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    headers.entry(X_CONTENT_TYPE_OPTIONS).or_insert(HeaderValue::from_static("nosniff"));
    headers
        .entry(CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"));
    headers.entry(X_FRAME_OPTIONS).or_insert(HeaderValue::from_static("DENY"));
    // Over HTTPS (a trusted proxy said so) the browser is told to keep to HTTPS for a
    // year; over plain HTTP the header would mean nothing (RFC 6797 §8.1), so it is not sent.
    if ctx.https {
        headers
            .entry(axum::http::header::STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static("max-age=31536000"));
    }
    response
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Ctx>().cloned().unwrap_or_else(Ctx::unknown))
    }
}

impl Ctx {
    /// The context of a request that did not pass through [`context_layer`].
    pub fn unknown() -> Ctx {
        Ctx {
            reference: Reference::new(),
            lang: Lang::Vi,
            client: "unknown".into(),
            client_key: "unknown".into(),
            network_key: "unknown".into(),
            https: false,
            instance: None,
        }
    }

    /// An error answer with this request's reference and language.
    pub fn err(&self, code: ErrorCode) -> ApiError {
        ApiError { code, reference: self.reference.clone(), lang: self.lang, retry_after: None, usernames: None }
    }

    /// A hash that could not be had: `SERVER_BUSY` (503, retry in a second) when its
    /// queue is full, else `INTERNAL`.
    pub fn hashing(&self, e: crate::passwords::HashError) -> ApiError {
        match e {
            crate::passwords::HashError::Busy(lane) => {
                tracing::warn!(reference = %self.reference, ?lane, "argon2 queue full: SERVER_BUSY");
                let mut err = self.err(ErrorCode::ServerBusy);
                err.retry_after = Some(1);
                err
            }
            crate::passwords::HashError::Failed(e) => self.internal(e),
        }
    }

    /// `SERVICE_UNAVAILABLE` with `Retry-After`: the database is down or saturated.
    pub fn unavailable(&self) -> ApiError {
        let mut err = self.err(ErrorCode::ServiceUnavailable);
        err.retry_after = Some(OUTAGE_RETRY_AFTER_SECS);
        err
    }

    /// Logs an unexpected error under the reference and answers `INTERNAL`, or, when
    /// the database is down or saturated, `SERVICE_UNAVAILABLE` with `Retry-After`.
    pub fn internal<E: std::fmt::Display + 'static>(&self, e: E) -> ApiError {
        if crate::store::is_outage(&e) {
            tracing::warn!(reference = %self.reference, error = %e, "database unavailable: SERVICE_UNAVAILABLE");
            return self.unavailable();
        }
        tracing::error!(reference = %self.reference, error = %e, "internal error");
        let database = (&e as &dyn std::any::Any)
            .downcast_ref::<anyhow::Error>()
            .is_some_and(|e| e.chain().any(|c| c.is::<sqlx::Error>()))
            || (&e as &dyn std::any::Any).is::<sqlx::Error>();
        let kind = if database { "database" } else { "other" };
        crate::metrics::metrics().internal_errors.with_label_values(&[kind]).inc();
        self.err(ErrorCode::Internal)
    }
}

/// What a `SERVICE_UNAVAILABLE` for a database outage asks the client to wait.
pub const OUTAGE_RETRY_AFTER_SECS: u64 = 5;

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
                let ctx = ctx.unwrap_or_else(Ctx::unknown);
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
    /// The accounts a verified certificate does prove, on `CERT_NOT_BOUND`.
    pub usernames: Option<Vec<String>>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            code: self.code.as_str().into(),
            message: match self.retry_after {
                Some(secs) => self.code.message_with_wait(self.lang, secs),
                None => self.code.message(self.lang).into(),
            },
            hint: self.code.hint(self.lang).into(),
            reference: self.reference.to_string(),
            retry_after: self.retry_after,
            usernames: self.usernames,
        };
        let mut response = (status, Json(body)).into_response();
        // For the metrics: the answer's code, read by `context_layer`.
        response.extensions_mut().insert(self.code);
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

// ---- shared steps -------------------------------------------------------------------

impl AppState {
    /// An audit line of this request, by the user.
    pub(crate) fn audit_entry(
        &self,
        ctx: &Ctx,
        event: AuditEvent,
        username: Option<&str>,
        outcome: Result<(), ErrorCode>,
    ) -> AuditEntry {
        let mut entry =
            AuditEntry::new(ctx.reference.to_string(), self.clock.now(), event, outcome.into(), Actor::User);
        entry.username = username.filter(|u| !u.is_empty()).map(str::to_string);
        entry.client_addr = Some(ctx.client.clone());
        entry.client_instance = ctx.instance.clone();
        entry
    }

    /// Records a refused attempt and turns it into the answer.
    pub(crate) async fn refuse(
        &self,
        ctx: &Ctx,
        event: AuditEvent,
        username: Option<&str>,
        code: ErrorCode,
    ) -> ApiError {
        self.refuse_with(ctx, event, username, code, None).await
    }

    /// [`AppState::refuse`] with a detail on the audit line (never a secret).
    pub(crate) async fn refuse_detail(
        &self,
        ctx: &Ctx,
        event: AuditEvent,
        username: Option<&str>,
        code: ErrorCode,
        detail: Detail,
    ) -> ApiError {
        self.refuse_with(ctx, event, username, code, Some(detail)).await
    }

    async fn refuse_with(
        &self,
        ctx: &Ctx,
        event: AuditEvent,
        username: Option<&str>,
        code: ErrorCode,
        detail: Option<Detail>,
    ) -> ApiError {
        let mut entry = self.audit_entry(ctx, event, username, Err(code));
        entry.detail = detail;
        if let Err(e) = self.store.audit(&entry).await {
            return ctx.internal(e);
        }
        ctx.err(code)
    }

    /// Counts a hit on `key`; past `max` in the window, answers `RATE_LIMITED`. The
    /// challenge endpoint counts in memory and writes only the first refusal of a window
    /// to the audit (a flood of refusals writes one line, which says so); every other
    /// event counts in the database, shared by every server.
    pub(crate) async fn limit(
        &self,
        ctx: &Ctx,
        key: &str,
        max: u32,
        window: i64,
        event: AuditEvent,
        username: Option<&str>,
    ) -> Result<(), ApiError> {
        let now = self.clock.now();
        let in_memory = event == AuditEvent::Challenge;
        let (count, start) = if in_memory {
            self.memory_limits.hit(key, window, now)
        } else {
            self.store.hit(key, window, now).await.map_err(|e| ctx.internal(e))?
        };
        if count > i64::from(max) {
            let kind = key.split(':').next().unwrap_or("other");
            crate::metrics::metrics().limits_hit.with_label_values(&[kind]).inc();
            let mut err = if !in_memory {
                self.refuse(ctx, event, username, ErrorCode::RateLimited).await
            } else if count == i64::from(max) + 1 {
                let detail = Detail::FurtherRefusalsUnwritten { key: key.to_string(), until: start + window };
                self.refuse_detail(ctx, event, username, ErrorCode::RateLimited, detail).await
            } else {
                tracing::debug!(reference = %ctx.reference, key, "challenge refused by its limit (not audited again)");
                ctx.err(ErrorCode::RateLimited)
            };
            err.retry_after = Some((start + window - now).max(1) as u64);
            return Err(err);
        }
        Ok(())
    }

    /// The per-client limit of an event.
    pub(crate) async fn limit_client(
        &self,
        ctx: &Ctx,
        event: AuditEvent,
        username: Option<&str>,
    ) -> Result<(), ApiError> {
        let l = &self.config.limits;
        self.limit(
            ctx,
            &format!("client:{}:{event}", ctx.client_key),
            l.per_client,
            l.per_client_window_secs,
            event,
            username,
        )
        .await
    }

    /// The per-username limit of an event: this client's tries on the username.
    pub(crate) async fn limit_user(&self, ctx: &Ctx, event: AuditEvent, username: &str) -> Result<(), ApiError> {
        self.limit_identity(ctx, &user_limit_prefix(username), event, Some(username)).await
    }

    /// [`AppState::limit_user`] for any identity (a username's or an MST's key prefix):
    /// this client's tries on the identity are refused past the limit. All clients'
    /// tries together are counted too, but never refuse anyone: they would refuse the
    /// owner for other people's traffic. Past their mark the identity is under attack,
    /// which the desk's account page shows (its windows) and the log says once per window.
    pub(crate) async fn limit_identity(
        &self,
        ctx: &Ctx,
        prefix: &str,
        event: AuditEvent,
        username: Option<&str>,
    ) -> Result<(), ApiError> {
        let l = &self.config.limits;
        let window = l.per_username_window_secs;
        self.limit(ctx, &format!("{prefix}client:{}:{event}", ctx.client_key), l.per_username, window, event, username)
            .await?;
        self.count_identity(ctx, &format!("{prefix}{event}"), l.per_username_total, window, event).await
    }

    /// Counts a hit on an identity-wide window, which refuses no one (see
    /// [`AppState::limit_identity`]); says once per window when it passes `mark`.
    pub(crate) async fn count_identity(
        &self,
        ctx: &Ctx,
        key: &str,
        mark: u32,
        window: i64,
        event: AuditEvent,
    ) -> Result<(), ApiError> {
        let now = self.clock.now();
        let (count, _) = if event == AuditEvent::Challenge {
            self.memory_limits.hit(key, window, now)
        } else {
            self.store.hit(key, window, now).await.map_err(|e| ctx.internal(e))?
        };
        identity_counted(ctx, key, count, mark);
        Ok(())
    }

    /// Refuses a wrong password (or a try on a name that cannot be one) with its audit
    /// line, counting it — for this client, which is refused past its limit, and for
    /// every client together, which only marks an attack — in the audit line's own
    /// transaction.
    pub(crate) async fn refuse_wrong_password(
        &self,
        ctx: &Ctx,
        prefix: &str,
        event: AuditEvent,
        username: Option<&str>,
        detail: Option<Detail>,
    ) -> ApiError {
        let l = &self.config.limits;
        let window = l.per_username_window_secs;
        let (client, all) = (failed_logins_key(ctx, prefix, event), format!("{prefix}{event}:failed"));
        let hits = [Hit { key: &client, window_secs: window }, Hit { key: &all, window_secs: window }];
        let mut entry = self.audit_entry(ctx, event, username, Err(ErrorCode::InvalidCredentials));
        entry.detail = detail;
        match self.store.audit_counting(&entry, &hits, entry.at).await {
            Ok(counts) => {
                identity_counted(ctx, &all, counts[1], l.per_username_total);
                ctx.err(ErrorCode::InvalidCredentials)
            }
            Err(e) => ctx.internal(e),
        }
    }

    /// Refuses this client a password try on `username` once it has failed
    /// `per_username` times in the window (it earned it; nobody else is refused for it);
    /// else how many it failed in the window. Counted by
    /// [`AppState::refuse_wrong_password`] after a wrong password only.
    pub(crate) async fn check_failed_logins(
        &self,
        ctx: &Ctx,
        prefix: &str,
        event: AuditEvent,
        username: Option<&str>,
    ) -> Result<i64, ApiError> {
        let l = &self.config.limits;
        let key = failed_logins_key(ctx, prefix, event);
        self.check_window(
            ctx,
            &key,
            l.per_username,
            l.per_username_window_secs,
            event,
            username,
            Counted::WrongPasswordsFromClient,
        )
        .await
    }

    /// The keys a right password for `username` writes with its session
    /// ([`crate::store::LoginWindows`]): this client's window of wrong ones, and its mark
    /// as a client known to the account.
    pub(crate) fn login_window_keys(&self, ctx: &Ctx, username: &str, event: AuditEvent) -> (String, String) {
        (failed_logins_key(ctx, &user_limit_prefix(username), event), known_client_key(username, &ctx.client_key))
    }

    /// `RATE_LIMITED` (with how long to wait) when the window `key` holds `max` or more;
    /// else how many it holds.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn check_window(
        &self,
        ctx: &Ctx,
        key: &str,
        max: u32,
        window: i64,
        event: AuditEvent,
        username: Option<&str>,
        counted: Counted,
    ) -> Result<i64, ApiError> {
        let now = self.clock.now();
        let Some((count, start)) = self.store.limit_window(key, window, now).await.map_err(|e| ctx.internal(e))? else {
            return Ok(0);
        };
        if count < i64::from(max) {
            return Ok(count);
        }
        crate::metrics::metrics().limits_hit.with_label_values(&[counted.as_str()]).inc();
        let mut err =
            self.refuse_detail(ctx, event, username, ErrorCode::RateLimited, Detail::TooMany { count, counted }).await;
        err.retry_after = Some((start + window - now).max(1) as u64);
        Err(err)
    }

    /// Whether this client logged in to `username`, or proved it with a token, in the
    /// last [`KNOWN_CLIENT_DAYS`](crate::store::limits::KNOWN_CLIENT_DAYS) days: its
    /// password is then hashed in the [`Lane::KnownLogin`](crate::passwords::Lane)
    /// queue, ahead of everyone else's.
    pub(crate) async fn is_known_client(&self, ctx: &Ctx, username: &str) -> Result<bool, ApiError> {
        let window = crate::store::limits::KNOWN_CLIENT_DAYS * 86_400;
        let key = known_client_key(username, &ctx.client_key);
        let seen = self.store.limit_window(&key, window, self.clock.now()).await.map_err(|e| ctx.internal(e))?;
        Ok(seen.is_some())
    }

    /// Remembers this client as known to `username` (a right password, a token's proof).
    pub(crate) async fn mark_known_client(&self, client_key: &str, username: &str) -> anyhow::Result<()> {
        self.store.mark_limit(&known_client_key(username, client_key), self.clock.now()).await
    }

    /// A proof of ownership ends the owner's own windows of tries on the account (wrong
    /// passwords before it, failed proofs, challenges asked for), so the password just
    /// mailed logs in at once: those of the client that proved it (`Some`: a token), or
    /// of every client (`None`: a portal activation link, opened on any device, or a
    /// desk reset, where the owner's computer is not known). The account-wide marks of
    /// an attack stay for the desk, as does the day's count of password mails.
    pub(crate) async fn end_owner_windows(&self, username: &str, client_key: Option<&str>) -> anyhow::Result<u64> {
        let prefix = match client_key {
            Some(key) => {
                // Best effort: the proof is already written and mailed; a saturated
                // database must not turn its answer into an error for this mark.
                if let Err(e) = self.mark_known_client(key, username).await {
                    tracing::warn!(error = %e, "a proven client could not be marked known");
                }
                format!("{}client:{key}:", user_limit_prefix(username))
            }
            None => format!("{}client:", user_limit_prefix(username)),
        };
        self.memory_limits.clear_prefix(&prefix);
        self.store.clear_limits(&prefix).await
    }

    /// Refuses another password mail to `account` once today's cap is reached
    /// (`RATE_LIMITED`: more would only flood the registered inbox). Counted by
    /// [`AppState::count_reset_mail`] once the mail is written, so a request that loses
    /// a race counts nothing.
    pub(crate) async fn check_reset_mails(
        &self,
        ctx: &Ctx,
        event: AuditEvent,
        account: &Account,
    ) -> Result<(), ApiError> {
        let sent = self
            .store
            .limit_count(&reset_mails_key(&account.username), DAY, self.clock.now())
            .await
            .map_err(|e| ctx.internal(e))?;
        if sent >= i64::from(self.config.limits.reset_mails_per_day) {
            crate::metrics::metrics().limits_hit.with_label_values(&[Counted::PasswordMailsToday.as_str()]).inc();
            let mut err = self
                .refuse_detail(
                    ctx,
                    event,
                    Some(&account.username),
                    ErrorCode::RateLimited,
                    Detail::TooMany { count: sent, counted: Counted::PasswordMailsToday },
                )
                .await;
            err.retry_after = Some(DAY as u64);
            return Err(err);
        }
        Ok(())
    }

    /// Counts a password mail written for `account`.
    pub(crate) async fn count_reset_mail(&self, account: &Account) -> anyhow::Result<()> {
        self.store.hit(&reset_mails_key(&account.username), DAY, self.clock.now()).await.map(|_| ())
    }
}

/// Sees each captcha's answer as it is made: for in-process tests only (a test cannot
/// read the image). Never set by `bhxh-server serve`; not reachable over the network.
#[derive(Clone)]
pub struct CaptchaTap(pub Arc<TapFn>);

/// `(captcha id, answer)`.
pub type TapFn = dyn Fn(&str, &str) + Send + Sync;

impl std::fmt::Debug for CaptchaTap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CaptchaTap")
    }
}

/// What every rate-limit key of an MST's portal requests starts with.
pub fn mst_limit_prefix(mst: &str) -> String {
    format!("mst:{mst}:")
}

/// What every rate-limit key of a username starts with; unlocking clears them all.
pub fn user_limit_prefix(username: &str) -> String {
    format!("user:{username}:")
}

/// The mark of a client known to `username` (see [`AppState::is_known_client`]).
pub fn known_client_key(username: &str, client_key: &str) -> String {
    format!("{}{username}:{client_key}", crate::store::limits::KNOWN_CLIENT_PREFIX)
}

/// What every rate-limit key of a staff member's console logins starts with.
pub fn staff_limit_prefix(username: &str) -> String {
    format!("staff:{username}:")
}

const DAY: i64 = 24 * 3600;

/// The count of password mails to a username today.
fn reset_mails_key(username: &str) -> String {
    format!("{}mails", user_limit_prefix(username))
}

/// An identity-wide window's count after a hit: past `mark` the identity is under attack,
/// which the log says once per window (the desk's page shows the windows).
pub(crate) fn identity_counted(ctx: &Ctx, key: &str, count: i64, mark: u32) {
    if count == i64::from(mark) + 1 {
        tracing::warn!(reference = %ctx.reference, key, count, "an identity is under attack: its tries from every client passed the mark (nobody is refused for it)");
    }
}

/// Wrong passwords for an identity (`prefix`) from the request's client.
fn failed_logins_key(ctx: &Ctx, prefix: &str, event: AuditEvent) -> String {
    format!("{prefix}client:{}:{event}:failed", ctx.client_key)
}

/// The failed-proof count of a username from every client (it marks the account as
/// under attack, never refuses; a proof of ownership clears it).
pub fn failed_proofs_key(username: &str) -> String {
    format!("{}failed-proofs", user_limit_prefix(username))
}

/// The failed-proof count of a username from one client (past the limit that client is
/// refused before anything is verified; a proof of ownership clears it).
pub fn client_failed_proofs_key(username: &str, client_key: &str) -> String {
    format!("{}client:{client_key}:failed-proofs", user_limit_prefix(username))
}
