//! The admin API for conversations (list, transcript) and the tester's simulated users.
//! The list pages by keyset and filters in SQL, so a page costs the same at row 9,800 as at
//! row 0 and a search covers every conversation (figures: BENCHMARKS.md, "Scale of the
//! store").

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
use crate::relay::RelayState;
use switchboard_engine::{ConversationView, EngineError, Mode, NewUser, UserInput};
use switchboard_store::conversations::{Cursor, ListQuery, PhaseFilter};

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

/// `GET /conversations`: `limit` (1–500, 50), the keyset cursor `before` (the last
/// row's `createdAtMs`) with `beforeId` (its `id`), and the filters `phase` (a phase or
/// `handedOver`), `mode` (`endpoint`, `handover`) and `q` (search words).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListParams {
    limit: Option<u32>,
    before: Option<i64>,
    before_id: Option<String>,
    phase: Option<String>,
    mode: Option<String>,
    q: Option<String>,
}

fn bad_query(message: String) -> Response {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_query", message).into_response()
}

async fn list(State(state): State<Arc<RelayState>>, Query(p): Query<ListParams>) -> Response {
    let phase = match p.phase.as_deref().filter(|s| !s.is_empty() && *s != "all") {
        None => None,
        Some(s) => match PhaseFilter::parse(s) {
            Some(f) => Some(f),
            None => return bad_query(format!("Unknown phase \"{s}\": use bot, handover, queued, agent, transferred, ended or handedOver.")),
        },
    };
    let mode = match p.mode.as_deref().filter(|s| !s.is_empty() && *s != "all") {
        None => None,
        Some(s) => match Mode::from_name(s) {
            Some(m) => Some(m),
            None => return bad_query(format!("Unknown mode \"{s}\": use endpoint or handover.")),
        },
    };
    let query = ListQuery {
        limit: p.limit.unwrap_or(50).clamp(1, 500),
        after: p.before.map(|created_at_ms| Cursor {
            created_at_ms,
            id: p.before_id,
        }),
        phase,
        mode,
        search: p.q.map(|q| q.trim().to_string()).filter(|q| !q.is_empty()),
    };
    match state.engine.store.page(query).await {
        Ok(conversations) => Json(json!({ "conversations": conversations })).into_response(),
        Err(e) => engine_error(e.into()),
    }
}

/// The most lines one answer carries.
const MAX_LINES: u32 = 10_000;

/// `GET /conversations/{id}`: the record and its transcript; `after` (a line id) gives
/// only the lines after it, `limit` at most that many (0: the record alone).
#[derive(Deserialize)]
struct OneParams {
    after: Option<i64>,
    limit: Option<u32>,
}

async fn one(
    State(state): State<Arc<RelayState>>,
    Path(id): Path<String>,
    Query(p): Query<OneParams>,
) -> Response {
    let store = &state.engine.store;
    let conversation = match store.get(&id).await {
        Ok(Some(c)) => c,
        Ok(None) => return engine_error(EngineError::NotFound(id)),
        Err(e) => return engine_error(e.into()),
    };
    let limit = p.limit.unwrap_or(MAX_LINES).min(MAX_LINES);
    let transcript = if limit == 0 {
        Vec::new()
    } else {
        match store.transcript(&id, p.after.unwrap_or(0), limit).await {
            Ok(t) => t,
            Err(e) => return engine_error(e.into()),
        }
    };
    Json(ConversationView {
        conversation,
        transcript,
    })
    .into_response()
}

async fn start(
    State(state): State<Arc<RelayState>>,
    JsonBody(user): JsonBody<NewUser>,
) -> Response {
    match state.engine.start(user).await {
        Ok(conv) => (StatusCode::CREATED, Json(conv)).into_response(),
        Err(e) => engine_error(e),
    }
}

async fn say(
    State(state): State<Arc<RelayState>>,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<UserInput>,
) -> Response {
    match state.engine.input(&id, input).await {
        Ok(conv) => Json(conv).into_response(),
        Err(e) => engine_error(e),
    }
}

async fn typing(State(state): State<Arc<RelayState>>, Path(id): Path<String>) -> StatusCode {
    state.engine.typing(&id);
    StatusCode::NO_CONTENT
}

async fn leave(State(state): State<Arc<RelayState>>, Path(id): Path<String>) -> Response {
    match state.engine.leave(&id).await {
        Ok(conv) => Json(conv).into_response(),
        Err(e) => engine_error(e),
    }
}
