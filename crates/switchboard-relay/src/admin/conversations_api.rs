//! The admin API for conversations (list, transcript) and the tester's simulated users.
//! The list pages by keyset and filters in SQL, so a page costs the same at row 9,800 as at
//! row 0 and a search covers every conversation (figures: BENCHMARKS.md, "Scale of the
//! store").

use std::sync::Arc;

use axum::{
    extract::State,
    http::StatusCode,
    routing::{get, post},
    Json, Router,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::error::{ApiError, ErrorCode, JsonBody, PathParams, QueryParams};
use crate::relay::RelayState;
use switchboard_engine::{Conversation, ConversationView, EngineError, Mode, NewUser, UserInput};
use switchboard_store::conversations::{Cursor, ListQuery, PhaseFilter, Summary};

pub fn router() -> Router<Arc<RelayState>> {
    Router::new()
        .route("/conversations", get(list))
        .route("/conversations/{id}", get(one))
        .route("/tester/conversations", post(start))
        .route("/tester/conversations/{id}/messages", post(say))
        .route("/tester/conversations/{id}/typing", post(typing))
        .route("/tester/conversations/{id}/leave", post(leave))
}

/// `GET /conversations`: `limit` (1–500, 50), the keyset cursor `before` (the last
/// row's `createdAtMs`) with `beforeId` (its `id`), and the filters `phase` (a phase or
/// `handedOver`), `mode` (`endpoint`, `handover`) and `q` (search words: the user's name
/// and email, the ids, queue and agent, and every transcript line; a conversation a line
/// matched carries that line as `matchedLine`).
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

/// A page of the conversation list, newest first.
#[derive(Serialize, TS)]
pub struct ConversationPage {
    conversations: Vec<Summary>,
}

async fn list(
    State(state): State<Arc<RelayState>>,
    QueryParams(p): QueryParams<ListParams>,
) -> Result<Json<ConversationPage>, ApiError> {
    let phase = match p.phase.as_deref().filter(|s| !s.is_empty() && *s != "all") {
        None => None,
        Some(s) => Some(PhaseFilter::parse(s).ok_or_else(|| ApiError::new(ErrorCode::BadQuery, format!("Unknown phase \"{s}\": use bot, handover, queued, agent, transferred, ended or handedOver.")))?),
    };
    let mode = match p.mode.as_deref().filter(|s| !s.is_empty() && *s != "all") {
        None => None,
        Some(s) => Some(Mode::from_name(s).ok_or_else(|| {
            ApiError::new(
                ErrorCode::BadQuery,
                format!("Unknown mode \"{s}\": use endpoint or handover."),
            )
        })?),
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
    let conversations = state.engine.store.page(query).await?;
    Ok(Json(ConversationPage { conversations }))
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
    PathParams(id): PathParams<String>,
    QueryParams(p): QueryParams<OneParams>,
) -> Result<Json<ConversationView>, ApiError> {
    let store = &state.engine.store;
    let Some(conversation) = store.get(&id).await? else {
        return Err(EngineError::NotFound(id).into());
    };
    let limit = p.limit.unwrap_or(MAX_LINES).min(MAX_LINES);
    let transcript = if limit == 0 {
        Vec::new()
    } else {
        store.transcript(&id, p.after.unwrap_or(0), limit).await?
    };
    Ok(Json(ConversationView {
        conversation,
        transcript,
    }))
}

async fn start(
    State(state): State<Arc<RelayState>>,
    JsonBody(user): JsonBody<NewUser>,
) -> Result<(StatusCode, Json<Conversation>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.engine.start(user).await?)))
}

async fn say(
    State(state): State<Arc<RelayState>>,
    PathParams(id): PathParams<String>,
    JsonBody(input): JsonBody<UserInput>,
) -> Result<Json<Conversation>, ApiError> {
    Ok(Json(state.engine.input(&id, input).await?))
}

async fn typing(
    State(state): State<Arc<RelayState>>,
    PathParams(id): PathParams<String>,
) -> StatusCode {
    state.engine.typing(&id);
    StatusCode::NO_CONTENT
}

async fn leave(
    State(state): State<Arc<RelayState>>,
    PathParams(id): PathParams<String>,
) -> Result<Json<Conversation>, ApiError> {
    Ok(Json(state.engine.leave(&id).await?))
}
