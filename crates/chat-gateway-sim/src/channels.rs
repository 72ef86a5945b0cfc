//! Channels (chat-gateway.md §3.3): ChatAPI channels bind a webhook to a default queue. Only
//! ChatAPI channels can be created; seeded ones of other types can be listed and read.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde_json::Value;

use crate::api::{json_body, run, run_generic_403};
use crate::errors::{empty, hal, ApiError, ErrorStyle};
use crate::paging::ListQuery;
use crate::state::Sim;
use crate::store::{Channel, Store};
use crate::validate::{object, optional_str, required_str};

pub async fn list(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    run(&sim, &headers, ErrorStyle::Generic, |caller| {
        let query = ListQuery::parse(q.as_deref(), "id:asc", &["id", "name", "type", "webHookId"])?;
        let store = sim.lock();
        let items = store
            .channels
            .values()
            .filter(|c| c.tenant == caller.tenant)
            .map(|c| (c.seq, c.to_json()))
            .collect();
        let href = format!("{}/chat-gateway/v1/channels", sim.base_url);
        Ok(hal(
            StatusCode::OK,
            query.page(items, "channels", Some(href)),
        ))
    })
}

pub async fn get(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    run(&sim, &headers, ErrorStyle::Generic, |caller| {
        let store = sim.lock();
        let c = store
            .channel(&caller.tenant, &id)
            .ok_or_else(|| ApiError::not_found("Channel", &id))?;
        Ok(hal(StatusCode::OK, c.to_json()))
    })
}

pub async fn delete(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    run(&sim, &headers, ErrorStyle::Generic, |caller| {
        let mut store = sim.lock();
        if store.channel(&caller.tenant, &id).is_none() {
            return Err(ApiError::not_found("Channel", &id));
        }
        store.channels.remove(&id);
        Ok(empty(StatusCode::NO_CONTENT))
    })
}

struct ChannelInput {
    name: String,
    kind: String,
    webhook_id: String,
    queue_id: String,
}

fn parse(
    store: &Store,
    tenant: &str,
    body: &Value,
    existing_kind: Option<&str>,
) -> Result<ChannelInput, ApiError> {
    let m = object(body, "body")?;
    let name = required_str(m, "name", Some(255))?;
    let kind =
        optional_str(m, "type")?.unwrap_or_else(|| existing_kind.unwrap_or("ChatAPI").to_string());
    if kind.chars().count() > 25 {
        return Err(ApiError::invalid(
            "constraint_violation",
            "type: size must be between 0 and 25.",
        ));
    }
    if kind != "ChatAPI" && Some(kind.as_str()) != existing_kind {
        return Err(ApiError::invalid(
            "invalid_channel_type",
            format!("Channel type {kind} is not supported; only ChatAPI channels can be created"),
        ));
    }
    let webhook_id = required_str(m, "webHookId", None)?;
    if store.webhook(tenant, &webhook_id).is_none() {
        return Err(ApiError::invalid(
            "invalid_webhook",
            format!("WebHook ID {webhook_id} is invalid."),
        ));
    }
    let routing = m.get("routingOptions").ok_or_else(|| {
        ApiError::invalid("constraint_violation", "routingOptions: May not be empty.")
    })?;
    let r = object(routing, "routingOptions")?;
    let rtype = optional_str(r, "type")?.unwrap_or_else(|| "queue".into());
    if rtype != "queue" {
        return Err(ApiError::invalid(
            "invalid_routing_type",
            format!("routingOptions.type {rtype} is invalid; only queue is supported"),
        ));
    }
    let queue_id = required_str(r, "id", None)?;
    if store.queue(tenant, &queue_id).is_none() {
        return Err(ApiError::invalid(
            "invalid_queue",
            format!("Queue ID {queue_id} is invalid."),
        ));
    }
    Ok(ChannelInput {
        name,
        kind,
        webhook_id,
        queue_id,
    })
}

pub async fn create(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    run_generic_403(&sim, &headers, ErrorStyle::Generic, |caller| {
        let body = json_body(&body)?;
        let mut store = sim.lock();
        let input = parse(&store, &caller.tenant, &body, None)?;
        let id = store.next_numeric_id();
        let seq = store.next_seq();
        let c = Channel {
            id: id.clone(),
            tenant: caller.tenant.clone(),
            name: input.name,
            kind: input.kind,
            webhook_id: input.webhook_id,
            queue_id: input.queue_id,
            seq,
        };
        let json = c.to_json();
        store.channels.insert(id, c);
        Ok(hal(StatusCode::OK, json))
    })
}

pub async fn update(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    run(&sim, &headers, ErrorStyle::Generic, |caller| {
        let mut store = sim.lock();
        let existing = store
            .channel(&caller.tenant, &id)
            .ok_or_else(|| ApiError::not_found("Channel", &id))?
            .kind
            .clone();
        let body = json_body(&body)?;
        let input = parse(&store, &caller.tenant, &body, Some(&existing))?;
        let c = store.channels.get_mut(&id).expect("checked");
        c.name = input.name;
        c.kind = input.kind;
        c.webhook_id = input.webhook_id;
        c.queue_id = input.queue_id;
        Ok(hal(StatusCode::OK, c.to_json()))
    })
}
