//! The public HTTP API: every v1 route (token recovery, auth, the portal path, health)
//! under one router with the request context, body limit and timeout. The handlers live
//! in their rooms ([`crate::recovery`], [`crate::auth`], [`crate::portal`]); the shared
//! context, the error answer and the steps they repeat in [`crate::context`].

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::get;
use axum::{Json, Router};
use bhxh_protocol::wire::Health;
use bhxh_protocol::ErrorCode;

use crate::clock::rfc3339;
use crate::context::{context_layer, ApiError, AppState, Ctx, HEALTH_PING_TTL};

/// The v1 router with its limits.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.limits.max_body_bytes;
    Router::new()
        .route("/v1/health", get(health))
        .merge(crate::recovery::routes())
        .merge(crate::auth::routes())
        .merge(crate::portal::routes())
        .merge(crate::email_change::routes())
        .merge(crate::support::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(state.clone(), context_layer))
        .with_state(state)
}

async fn not_found(ctx: Ctx) -> ApiError {
    ctx.err(ErrorCode::NotFound)
}

async fn health(State(s): State<AppState>, ctx: Ctx) -> Result<Json<Health>, ApiError> {
    let db_ok = {
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
    };
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
