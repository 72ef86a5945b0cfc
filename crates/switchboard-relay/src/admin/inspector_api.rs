//! The admin API of the event inspector. Thin: the logic is in `crate::admin::inspector`.

use std::sync::Arc;

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{ApiError, JsonBody};
use crate::admin::inspector::{self, InspectorError, ReplayMode};
use crate::relay::RelayState;

pub fn router() -> Router<Arc<RelayState>> {
    Router::new()
        .route("/inspector/deliveries", get(deliveries))
        .route("/inspector/deliveries/{id}", get(delivery))
        .route("/inspector/deliveries/{id}/replay", post(replay))
        .route("/inspector/outbox", get(outbox))
        .route("/inspector/templates", get(templates))
        .route("/inspector/synthetic", post(synthetic))
}

fn failure(e: InspectorError) -> Response {
    match e {
        InspectorError::NotFound(_) => {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
        }
        InspectorError::BadInput(m) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_event", m)
        }
        InspectorError::Store(e) => internal(&e),
    }
    .into_response()
}

fn internal(e: &dyn std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "inspector request failed");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "The relay could not read its records; the log has the details.",
    )
}

#[derive(Deserialize)]
struct Page {
    limit: Option<u32>,
    before: Option<i64>,
}

async fn deliveries(State(state): State<Arc<RelayState>>, Query(page): Query<Page>) -> Response {
    let limit = page.limit.unwrap_or(100).clamp(1, 500);
    match inspector::delivery_groups(&state, limit, page.before).await {
        Ok(p) => Json(p).into_response(),
        Err(e) => failure(e),
    }
}

async fn delivery(State(state): State<Arc<RelayState>>, Path(id): Path<i64>) -> Response {
    match inspector::delivery_detail(&state, id).await {
        Ok(d) => Json(d).into_response(),
        Err(e) => failure(e),
    }
}

async fn outbox(State(state): State<Arc<RelayState>>, Query(page): Query<Page>) -> Response {
    let limit = page.limit.unwrap_or(100).clamp(1, 500);
    match state.outbox.list(limit, page.before).await {
        Ok(entries) => {
            let next_before = (entries.len() as u32 == limit)
                .then(|| entries.last().map(|e| e.id))
                .flatten();
            Json(json!({ "entries": entries, "nextBefore": next_before })).into_response()
        }
        Err(e) => internal(&e).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReplayRequest {
    mode: ReplayMode,
    /// An edited body (JSON); absent = the stored body as received.
    body: Option<Value>,
}

async fn replay(
    State(state): State<Arc<RelayState>>,
    Path(id): Path<i64>,
    JsonBody(req): JsonBody<ReplayRequest>,
) -> Response {
    match inspector::replay(&state, id, req.mode, req.body).await {
        Ok(d) => (StatusCode::CREATED, Json(d)).into_response(),
        Err(e) => failure(e),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TemplateQuery {
    conversation_id: Option<String>,
}

async fn templates(Query(q): Query<TemplateQuery>) -> Response {
    let id = q
        .conversation_id
        .unwrap_or_else(|| "CONVERSATION_ID".into());
    Json(json!({ "templates": inspector::templates(&id) })).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SyntheticRequest {
    template: String,
    conversation_id: String,
    /// The template as edited; absent = the template as it is.
    body: Option<Value>,
}

async fn synthetic(
    State(state): State<Arc<RelayState>>,
    JsonBody(req): JsonBody<SyntheticRequest>,
) -> Response {
    match inspector::synthetic(&state, &req.template, &req.conversation_id, req.body).await {
        Ok(d) => (StatusCode::CREATED, Json(d)).into_response(),
        Err(e) => failure(e),
    }
}
