//! The endpoint listener: the only listener meant to face 8x8 (through a tunnel or a
//! reverse proxy). It carries the webhook route, a health check and the agent's Copilot
//! page under `/copilot/` ([`copilot`]), nothing else, so the admin API can never be
//! reached through it. What happens to a delivery
//! past the token check is the inbox's business ([`crate::endpoint::inbox`]).

use std::sync::{atomic::Ordering, Arc};

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde_json::json;

pub mod copilot;
mod copilot_model;
pub mod inbox;
pub mod receive;

use switchboard_types::token;

use self::inbox::Checks;
use crate::connections;
use crate::relay::RelayState;

/// 8x8 events are small JSON documents; anything far larger is not one.
pub const BODY_LIMIT: usize = 1024 * 1024;

pub fn router(state: Arc<RelayState>) -> Router {
    Router::new()
        .route("/endpoint/{token}", post(receive))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state.clone())
        // The agent's Copilot page and its API (copilot.rs): its own limits and headers.
        .merge(copilot::router(state))
}

async fn receive(
    State(state): State<Arc<RelayState>>,
    Path(given): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let checks = {
        let settings = state.settings();
        if !token::matches(&settings.endpoint.token, &given) {
            // Only a count: logging the path would write guesses (and typos of the real
            // token) into the log.
            state.rejected_token_count.fetch_add(1, Ordering::Relaxed);
            return StatusCode::NOT_FOUND.into_response();
        }
        let target = connections::target(&state, &settings);
        Checks {
            verify_signatures: settings.endpoint.verify_signatures,
            base_url: target.base_url,
            tenant: target.tenant,
        }
    };
    let reply = state
        .inbox
        .receive(&checks, &headers, body, &state.bus)
        .await;
    match reply.message {
        Some(message) if !reply.status.is_success() => {
            (reply.status, Json(json!({ "message": message }))).into_response()
        }
        _ => reply.status.into_response(),
    }
}
