//! The endpoint listener: the only listener meant to face 8x8 (through a tunnel or a
//! reverse proxy). It carries the webhook route and a health check, nothing else, so the
//! admin API can never be reached through the Endpoint URL.

use std::sync::{atomic::Ordering, Arc};

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, Path, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde_json::json;

use crate::{events::RelayEvent, relay::RelayState, token};

/// 8x8 events are small JSON documents; anything far larger is not one.
pub const BODY_LIMIT: usize = 1024 * 1024;

pub fn router(state: Arc<RelayState>) -> Router {
    Router::new()
        .route("/endpoint/{token}", post(receive))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

fn problem(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "message": message }))).into_response()
}

async fn receive(
    State(state): State<Arc<RelayState>>,
    Path(given): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let expected = state.settings.read().await.endpoint.token.clone();
    if !token::matches(&expected, &given) {
        // Only a count: logging the path would write guesses (and typos of the real
        // token) into the log.
        state.rejected_token_count.fetch_add(1, Ordering::Relaxed);
        return StatusCode::NOT_FOUND.into_response();
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if !is_json {
        return problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "8x8 events are sent as application/json.",
        );
    }
    let event: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return problem(
                StatusCode::BAD_REQUEST,
                &format!("The body is not JSON: {e}"),
            )
        }
    };
    let event_type = event
        .get("eventType")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    // 8x8 sends WEB_HOOK_VERIFY when a webhook is created or verified, possibly unsigned
    // (brief 5.8); any 2xx passes.
    let accepted = event_type == "WEB_HOOK_VERIFY";
    state.bus.publish(RelayEvent::DeliveryReceived {
        event_type: event_type.clone(),
        accepted,
    });
    if accepted {
        return StatusCode::NO_CONTENT.into_response();
    }
    // Until the durable inbox exists, refusing is the honest answer: 8x8 keeps the event
    // and retries, where a 2xx would lose it.
    problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "This relay does not process conversation events yet; 8x8 will retry.",
    )
}
