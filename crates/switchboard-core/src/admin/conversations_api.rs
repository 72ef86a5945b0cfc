//! The admin API for conversations (list, transcript) and the tester's simulated users.

use std::sync::Arc;

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::Deserialize;
use serde_json::json;

use super::{ApiError, JsonBody};
use crate::{
    engine::{Engine, EngineError, NewUser, UserInput},
    relay::RelayState,
};

pub fn router() -> Router<Arc<RelayState>> {
    Router::new()
        .route("/conversations", get(list))
        .route("/conversations/{id}", get(one))
        .route("/tester/conversations", post(start))
        .route("/tester/conversations/{id}/messages", post(say))
        .route("/tester/conversations/{id}/typing", post(typing))
        .route("/tester/conversations/{id}/leave", post(leave))
}

fn engine_error(e: EngineError) -> Response {
    match e {
        EngineError::NotFound(id) => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("There is no conversation {id}."),
        ),
        EngineError::Refused(m) => ApiError::new(StatusCode::CONFLICT, "refused", m),
        EngineError::Stopping => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "stopping",
            "The relay is stopping.",
        ),
        other => {
            tracing::error!(error = %other, "conversation request failed");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "The relay could not complete this; the log has the details.",
            )
        }
    }
    .into_response()
}

#[derive(Deserialize)]
struct Page {
    limit: Option<u32>,
    before: Option<i64>,
}

async fn list(State(state): State<Arc<RelayState>>, Query(page): Query<Page>) -> Response {
    let limit = page.limit.unwrap_or(50).clamp(1, 500);
    match state.engine.store.list(limit, page.before).await {
        Ok(conversations) => Json(json!({ "conversations": conversations })).into_response(),
        Err(e) => engine_error(e.into()),
    }
}

async fn one(State(state): State<Arc<RelayState>>, Path(id): Path<String>) -> Response {
    match state.engine.view(&id).await {
        Ok(view) => Json(view).into_response(),
        Err(e) => engine_error(e),
    }
}

async fn start(
    State(state): State<Arc<RelayState>>,
    JsonBody(user): JsonBody<NewUser>,
) -> Response {
    match Engine::start(&state, user).await {
        Ok(conv) => (StatusCode::CREATED, Json(conv)).into_response(),
        Err(e) => engine_error(e),
    }
}

async fn say(
    State(state): State<Arc<RelayState>>,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<UserInput>,
) -> Response {
    match Engine::input(&state, &id, input).await {
        Ok(conv) => Json(conv).into_response(),
        Err(e) => engine_error(e),
    }
}

async fn typing(State(state): State<Arc<RelayState>>, Path(id): Path<String>) -> StatusCode {
    Engine::typing(&state, &id);
    StatusCode::NO_CONTENT
}

async fn leave(State(state): State<Arc<RelayState>>, Path(id): Path<String>) -> Response {
    match Engine::leave(&state, &id).await {
        Ok(conv) => Json(conv).into_response(),
        Err(e) => engine_error(e),
    }
}
