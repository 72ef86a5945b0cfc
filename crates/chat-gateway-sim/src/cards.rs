//! The card action PUTs under `/api/v1/tenant/{tenantId}/…` (chat-gateway.md §3.9, P25): they flip
//! a card's flags and report an `adaptiveCard/action` activity.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;

use crate::api::json_body;
use crate::auth::authorize_path_tenant;
use crate::engine::EngineError;
use crate::errors::{empty, ApiError, ErrorStyle};
use crate::state::Sim;
use crate::validate::{object, optional_str};

async fn action(
    sim: Arc<Sim>,
    headers: HeaderMap,
    tenant: String,
    conv: String,
    card: String,
    body: Bytes,
    execute: bool,
) -> Response {
    let style = ErrorStyle::Card;
    let caller = match authorize_path_tenant(&sim.seed, &headers, &tenant) {
        Ok(c) => c,
        Err(e) => return e.render(style, ""),
    };
    let result = (|| {
        if sim.lock().conversation(&caller.tenant, &conv).is_none() {
            return Err(ApiError::not_found("Conversation", &conv));
        }
        let body = json_body(&body)?;
        let m = object(&body, "body")?;
        optional_str(m, "name")?;
        sim.card_action(&conv, &card, execute, body.clone())
            .map_err(|e| match e {
                EngineError::NoCard(id) => ApiError::not_found("Card", id),
                EngineError::NoConversation(id) => ApiError::not_found("Conversation", id),
                other => ApiError::Internal(other.to_string()),
            })?;
        Ok(empty(StatusCode::NO_CONTENT))
    })();
    result.unwrap_or_else(|e: ApiError| e.render(style, &caller.tenant))
}

pub async fn submit(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path((tenant, conv, card)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    action(sim, headers, tenant, conv, card, body, false).await
}

pub async fn execute(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path((tenant, conv, card)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    action(sim, headers, tenant, conv, card, body, true).await
}
