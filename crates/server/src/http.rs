//! The public HTTP API: every v1 route (token recovery, auth, the portal path, health)
//! under one router with the request context, body limit and timeout. The handlers live
//! in their rooms ([`crate::recovery`], [`crate::auth`], [`crate::portal`]); the shared
//! context, the error answer and the steps they repeat in [`crate::context`].

use std::sync::OnceLock;

use axum::extract::{DefaultBodyLimit, State};
use axum::{Json, Router};
use bhxh_protocol::wire::{Health, Liveness, Readiness};
use bhxh_protocol::ErrorCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::rfc3339;
use crate::context::{context_layer, ApiError, AppState, Ctx, HEALTH_PING_TTL};

/// Every public route with its description ([`crate::openapi`]).
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(live))
        .routes(routes!(ready))
        .routes(routes!(openapi_json))
        .merge(crate::recovery::routes())
        .merge(crate::auth::routes())
        .merge(crate::portal::routes())
        .merge(crate::email_change::routes())
        .merge(crate::support::routes())
}

/// The API contract of these routes (`GET /v1/openapi.json`, `docs/openapi.json`).
pub fn document() -> utoipa::openapi::OpenApi {
    crate::openapi::finish(api().into_openapi())
}

/// [`document`] as JSON, made once.
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        let mut text = document().to_pretty_json().unwrap_or_default();
        text.push('\n');
        text
    })
}

/// The v1 router with its limits.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.limits.max_body_bytes;
    let (routes, _) = api().split_for_parts();
    routes
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(state.clone(), context_layer))
        .with_state(state)
}

async fn not_found(ctx: Ctx) -> ApiError {
    ctx.err(ErrorCode::NotFound)
}

crate::refusals!(
    /// What the service's own endpoints refuse: nothing but [`crate::openapi::ANY`].
    ServiceRefusals, Plain:
);

/// The API contract.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "service", summary = "This document (OpenAPI 3.1)",
    responses((status = 200, description = "The document.", content_type = "application/json", body = Object), ServiceRefusals))]
async fn openapi_json() -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], document_json())
}

/// Liveness: the process serves requests (nothing else is asked: a database outage is
/// readiness's, and restarting the server would not mend it).
#[utoipa::path(get, path = "/v1/health/live", tag = "service", summary = "Liveness: the process serves requests",
    responses((status = 200, description = "Alive.", body = Liveness), ServiceRefusals))]
async fn live(ctx: Ctx) -> Json<Liveness> {
    Json(Liveness { status: "alive".into(), reference: ctx.reference.to_string() })
}

/// Readiness: the database answers and revocation can decide (no CRL held past its
/// nextUpdate); 503 otherwise, with which of the two failed.
#[utoipa::path(get, path = "/v1/health/ready", tag = "service",
    summary = "Readiness: the database answers and revocation can decide",
    // The refusals first: its own 503 (a Readiness, never an error body) replaces theirs.
    responses(
        ServiceRefusals,
        (status = 200, description = "Ready.", body = Readiness),
        (status = 503, description = "Not ready: which of the two failed.", body = Readiness)))]
async fn ready(State(s): State<AppState>, ctx: Ctx) -> axum::response::Response {
    use axum::response::IntoResponse;
    let database = database_ok(&s, &ctx).await;
    let now = s.clock.now();
    let revocation = !s.revocation.enabled() || {
        let file_current = s.revocation.file_crls().all(|c| c.next_update > now);
        let cached_current = match s.store.crl_states().await {
            Ok(crls) => crls.iter().all(|c| c.next_update.is_none_or(|next| next > now)),
            Err(_) => !database,
        };
        file_current && cached_current
    };
    let ok = database && revocation;
    let body = Readiness {
        status: if ok { "ready" } else { "not_ready" }.into(),
        database,
        revocation,
        reference: ctx.reference.to_string(),
    };
    let status = if ok { axum::http::StatusCode::OK } else { axum::http::StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}

/// Whether the database answers (one ping per second for everyone).
async fn database_ok(s: &AppState, ctx: &Ctx) -> bool {
    // Whoever holds the lock pings; the others wait for it and read its answer.
    let mut last = s.health.lock().await;
    match *last {
        Some((at, ok)) if at.elapsed() < HEALTH_PING_TTL => ok,
        _ => {
            let ok = match s.store.ping().await {
                Ok(()) => true,
                Err(e) => {
                    tracing::error!(reference = %ctx.reference, error = %e, "database unavailable");
                    false
                }
            };
            *last = Some((std::time::Instant::now(), ok));
            ok
        }
    }
}

#[utoipa::path(get, path = "/v1/health", tag = "service",
    summary = "The server's version, protocol, clock and the support desk's number",
    responses((status = 200, description = "Serving.", body = Health), ServiceRefusals))]
async fn health(State(s): State<AppState>, ctx: Ctx) -> Result<Json<Health>, ApiError> {
    let db_ok = database_ok(&s, &ctx).await;
    if !db_ok {
        return Err(ctx.unavailable());
    }
    Ok(Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        protocol: bhxh_protocol::PROTOCOL_VERSION.into(),
        time: rfc3339(s.clock.now()),
        hotline: s.config.hotline.clone(),
        reference: ctx.reference.to_string(),
    }))
}
