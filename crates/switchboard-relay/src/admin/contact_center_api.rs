//! The admin API over 8x8's queue statistics and schedules (docs/contact-center.md),
//! read through the handover role's connection: the schedules for the Handover
//! settings' picker, the queues' figures, one queue's figures (from the cache: the UI
//! polls it for queued conversations) and a schedule's state now.

use std::sync::Arc;

use axum::{extract::State, http::StatusCode, routing::get, Json, Router};
use serde::Serialize;
use ts_rs::TS;

use super::error::{ApiError, ErrorCode, PathParams};
use crate::contact_center_cache::ReadError;
use crate::relay::RelayState;
use chat_gateway_client::ClientError;
use switchboard_types::contact_center::{QueueFigures, ScheduleState};

pub fn router() -> Router<Arc<RelayState>> {
    Router::new()
        .route("/contact-center/schedules", get(schedules))
        .route(
            "/contact-center/schedules/{id}/status",
            get(schedule_status),
        )
        .route("/contact-center/queues", get(queues))
        .route("/contact-center/queues/{id}", get(queue))
}

/// `GET /api/contact-center/schedules`.
#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleList {
    pub schedules: Vec<ScheduleChoice>,
}

/// A schedule to pick; `name` is the id when 8x8 gives none.
#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleChoice {
    pub id: String,
    pub name: String,
}

/// `GET /api/contact-center/queues`.
#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QueueFiguresList {
    pub queues: Vec<QueueFigures>,
}

/// `GET /api/contact-center/schedules/{id}/status`.
#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleStatus {
    pub schedule_id: String,
    pub state: ScheduleState,
    /// "Open", "Closed" or the choice, as 8x8 names it.
    pub label: String,
}

async fn schedules(State(state): State<Arc<RelayState>>) -> Result<Json<ScheduleList>, ApiError> {
    let list = state.contact_center.schedules(&state).await.map_err(api)?;
    Ok(Json(ScheduleList {
        schedules: list
            .into_iter()
            .map(|s| ScheduleChoice {
                name: s.name.unwrap_or_else(|| s.id.clone()),
                id: s.id,
            })
            .collect(),
    }))
}

async fn schedule_status(
    State(state): State<Arc<RelayState>>,
    PathParams(id): PathParams<String>,
) -> Result<Json<ScheduleStatus>, ApiError> {
    let id = checked(&id, "schedule")?;
    let s = state
        .contact_center
        .schedule_state(&state, id)
        .await
        .map_err(api)?;
    Ok(Json(ScheduleStatus {
        schedule_id: id.to_string(),
        label: s.label().to_string(),
        state: s,
    }))
}

async fn queues(State(state): State<Arc<RelayState>>) -> Result<Json<QueueFiguresList>, ApiError> {
    let queues = state.contact_center.queues(&state).await.map_err(api)?;
    Ok(Json(QueueFiguresList { queues }))
}

async fn queue(
    State(state): State<Arc<RelayState>>,
    PathParams(id): PathParams<String>,
) -> Result<Json<QueueFigures>, ApiError> {
    let id = checked(&id, "queue")?;
    Ok(Json(
        state.contact_center.queue(&state, id).await.map_err(api)?,
    ))
}

/// An id as 8x8 gives them: short, no spaces (a typo would otherwise be asked of 8x8).
fn checked<'a>(id: &'a str, what: &str) -> Result<&'a str, ApiError> {
    let id = id.trim();
    if id.is_empty() || id.len() > 256 || id.chars().any(char::is_whitespace) {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            format!("A {what} id is a short text without spaces, as 8x8 lists it."),
        ));
    }
    Ok(id)
}

/// 8x8's failure: 502 with the cache's words (which figures, what 8x8 answered), or
/// 409 when no key is set for the handover connection.
fn api(e: ReadError) -> ApiError {
    let code = ErrorCode::from(&e.error);
    let error = ApiError::new(code, e.message).with_detail(&e.error);
    match e.error {
        ClientError::NotConfigured(_) => error,
        _ => error.with_status(StatusCode::BAD_GATEWAY),
    }
}
