//! Messages and their cards (chat-gateway.md §3.5, §3.9). Sending answers 202 with no body and no
//! id (P5); the message then shows up in the list and as an echo event.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;

use crate::api::{json_body, run};
use crate::engine::NewMessage;
use crate::errors::{empty, hal, ApiError, ErrorStyle};
use crate::paging::ListQuery;
use crate::state::Sim;
use crate::validate;

pub async fn list(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    run(&sim, &headers, ErrorStyle::ListWithoutNotFound, |caller| {
        let query = ListQuery::parse(q.as_deref(), "createdAt:desc", &["createdAt"])?;
        let store = sim.lock();
        let c = store
            .conversation(&caller.tenant, &id)
            .ok_or_else(|| ApiError::not_found("Conversation", &id))?;
        let items = c
            .messages
            .iter()
            .map(|m| (m.seq, m.to_json(&c.participants)))
            .collect();
        // P32: MessageListResult has no `_links`.
        Ok(hal(StatusCode::OK, query.page(items, "messages", None)))
    })
}

pub async fn get(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path((id, message_id)): Path<(String, String)>,
) -> Response {
    run(&sim, &headers, ErrorStyle::Generic, |caller| {
        let store = sim.lock();
        let c = store
            .conversation(&caller.tenant, &id)
            .ok_or_else(|| ApiError::not_found("Conversation", &id))?;
        let m = c
            .messages
            .iter()
            .find(|m| m.id == message_id)
            .ok_or_else(|| ApiError::not_found("Message", &message_id))?;
        Ok(hal(StatusCode::OK, m.to_json(&c.participants)))
    })
}

pub async fn cards(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path((id, message_id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    run(&sim, &headers, ErrorStyle::ListWithoutNotFound, |caller| {
        let query = ListQuery::parse(q.as_deref(), "createdAt:desc", &["createdAt"])?;
        let store = sim.lock();
        let c = store
            .conversation(&caller.tenant, &id)
            .ok_or_else(|| ApiError::not_found("Conversation", &id))?;
        let m = c
            .messages
            .iter()
            .find(|m| m.id == message_id)
            .ok_or_else(|| ApiError::not_found("Message", &message_id))?;
        let items = m
            .cards
            .iter()
            .enumerate()
            .map(|(i, card)| (i as u64, card.to_json()))
            .collect();
        let href = format!(
            "{}/chat-gateway/v1/conversations/{id}/messages/{message_id}/cards",
            sim.base_url
        );
        Ok(hal(StatusCode::OK, query.page(items, "cards", Some(href))))
    })
}

pub async fn send(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    run(&sim, &headers, ErrorStyle::Message, |caller| {
        {
            let store = sim.lock();
            if store.conversation(&caller.tenant, &id).is_none() {
                return Err(ApiError::not_found("Conversation", &id));
            }
        }
        let body = json_body(&body)?;
        let msg = validate::message(&body, "")?;
        {
            let store = sim.lock();
            let c = store.conversation(&caller.tenant, &id).expect("checked");
            if let Some(missing) = msg
                .attachments
                .iter()
                .find(|a| !c.attachments.iter().any(|x| &x.id == *a))
            {
                return Err(ApiError::invalid(
                    "invalid_json_object",
                    format!("Attachment {missing} does not exist in this conversation"),
                ));
            }
        }
        sim.post_message(
            &id,
            &msg.author_type,
            NewMessage {
                text: msg.text,
                external_provider: msg.external_provider,
                attachments: msg.attachments,
                cards: msg.cards,
            },
        )
        .map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(empty(StatusCode::ACCEPTED))
    })
}
