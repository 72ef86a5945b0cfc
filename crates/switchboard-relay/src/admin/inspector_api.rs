//! The admin API of the event inspector. Thin: the logic is in `crate::admin::inspector`.

use std::sync::Arc;

use axum::{
    extract::State,
    http::StatusCode,
    routing::{get, post},
    Json, Router,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use super::error::{ApiError, JsonBody, PathParams, QueryParams};
use crate::admin::inspector::{self, DeliveryDetail, GroupPage, Injected, ReplayMode, Template};
use crate::relay::RelayState;
use switchboard_store::outbox::OutboxEntry;

pub fn router() -> Router<Arc<RelayState>> {
    Router::new()
        .route("/inspector/deliveries", get(deliveries))
        .route("/inspector/deliveries/{id}", get(delivery))
        .route("/inspector/deliveries/{id}/replay", post(replay))
        .route("/inspector/outbox", get(outbox))
        .route("/inspector/templates", get(templates))
        .route("/inspector/synthetic", post(synthetic))
}

#[derive(Deserialize)]
struct Page {
    limit: Option<u32>,
    before: Option<i64>,
}

async fn deliveries(
    State(state): State<Arc<RelayState>>,
    QueryParams(page): QueryParams<Page>,
) -> Result<Json<GroupPage>, ApiError> {
    let limit = page.limit.unwrap_or(100).clamp(1, 500);
    Ok(Json(
        inspector::delivery_groups(&state, limit, page.before).await?,
    ))
}

async fn delivery(
    State(state): State<Arc<RelayState>>,
    PathParams(id): PathParams<i64>,
) -> Result<Json<DeliveryDetail>, ApiError> {
    Ok(Json(inspector::delivery_detail(&state, id).await?))
}

/// `GET /api/inspector/outbox`: newest first.
#[derive(Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OutboxPage {
    entries: Vec<OutboxEntry>,
    /// Pass as `before` for the next page; null at the end.
    next_before: Option<i64>,
}

async fn outbox(
    State(state): State<Arc<RelayState>>,
    QueryParams(page): QueryParams<Page>,
) -> Result<Json<OutboxPage>, ApiError> {
    let limit = page.limit.unwrap_or(100).clamp(1, 500);
    let entries = state.outbox.list(limit, page.before).await?;
    let next_before = (entries.len() as u32 == limit)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(Json(OutboxPage {
        entries,
        next_before,
    }))
}

/// `POST /api/inspector/deliveries/{id}/replay`.
#[derive(Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReplayRequest {
    mode: ReplayMode,
    /// An edited body (JSON); absent = the stored body as received.
    #[serde(default)]
    #[ts(optional)]
    body: Option<Value>,
}

async fn replay(
    State(state): State<Arc<RelayState>>,
    PathParams(id): PathParams<i64>,
    JsonBody(req): JsonBody<ReplayRequest>,
) -> Result<(StatusCode, Json<Injected>), ApiError> {
    let injected = inspector::replay(&state, id, req.mode, req.body).await?;
    Ok((StatusCode::CREATED, Json(injected)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TemplateQuery {
    conversation_id: Option<String>,
}

/// `GET /api/inspector/templates`.
#[derive(Serialize, TS)]
pub struct TemplateList {
    templates: Vec<Template>,
}

async fn templates(QueryParams(q): QueryParams<TemplateQuery>) -> Json<TemplateList> {
    let id = q
        .conversation_id
        .unwrap_or_else(|| "CONVERSATION_ID".into());
    Json(TemplateList {
        templates: inspector::templates(&id),
    })
}

/// `POST /api/inspector/synthetic`.
#[derive(Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyntheticRequest {
    template: String,
    conversation_id: String,
    /// The template as edited; absent = the template as it is.
    #[serde(default)]
    #[ts(optional)]
    body: Option<Value>,
}

async fn synthetic(
    State(state): State<Arc<RelayState>>,
    JsonBody(req): JsonBody<SyntheticRequest>,
) -> Result<(StatusCode, Json<Injected>), ApiError> {
    let injected =
        inspector::synthetic(&state, &req.template, &req.conversation_id, req.body).await?;
    Ok((StatusCode::CREATED, Json(injected)))
}
