//! Conversations (chat-gateway.md §3.4, §3.6): create (202, asynchronous), read, update
//! assignment/user, interactions, participants, the user leaving (P27) and scheduling a
//! post-agent handback (P22).

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};

use crate::api::{json_body, run};
use crate::clock::iso8601;
use crate::engine::NewMessage;
use crate::errors::{empty, hal, ApiError, ErrorStyle};
use crate::paging::ListQuery;
use crate::state::Sim;
use crate::store::{Assignment, PostAgent};
use crate::validate::{self, int_in_range, object, optional_str, required_str};

pub async fn list(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    run(&sim, &headers, ErrorStyle::Generic, |caller| {
        let query = ListQuery::parse(
            q.as_deref(),
            "id:asc",
            &["id", "state", "channelId", "createdAt"],
        )?;
        let store = sim.lock();
        let items = store
            .conversations
            .values()
            .filter(|c| c.tenant == caller.tenant)
            .map(|c| (c.seq, c.to_json()))
            .collect();
        let href = format!("{}/chat-gateway/v1/conversations", sim.base_url);
        Ok(hal(
            StatusCode::OK,
            query.page(items, "conversations", Some(href)),
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
            .conversation(&caller.tenant, &id)
            .ok_or_else(|| ApiError::not_found("Conversation", &id))?;
        Ok(hal(StatusCode::OK, c.to_json()))
    })
}

pub async fn create(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    run(&sim, &headers, ErrorStyle::Generic, |caller| {
        let body = json_body(&body)?;
        let m = object(&body, "body")?;
        let channel_id = required_str(m, "channelId", None)?;
        let strict = sim.settings().strict_language;
        let user = validate::user(
            m.get("user").ok_or_else(|| {
                ApiError::invalid("constraint_violation", "user: May not be null.")
            })?,
            strict,
        )?;
        let assignment = {
            let store = sim.lock();
            let channel = store.channel(&caller.tenant, &channel_id).ok_or_else(|| {
                ApiError::invalid(
                    "invalid_channel",
                    format!("Channel ID {channel_id} is invalid."),
                )
            })?;
            let assignment = match m.get("assignment").filter(|a| !a.is_null()) {
                Some(a) => validate::assignment(a)?,
                None => Assignment {
                    kind: "queue".into(),
                    id: channel.queue_id.clone(),
                },
            };
            if assignment.kind == "queue" && store.queue(&caller.tenant, &assignment.id).is_none() {
                return Err(ApiError::invalid(
                    "invalid_queue",
                    format!("Queue ID {} is invalid.", assignment.id),
                ));
            }
            assignment
        };
        let mut history = Vec::new();
        if let Some(h) = m.get("history").filter(|h| !h.is_null()) {
            let hm = object(h, "history")?;
            let items = hm
                .get("messages")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    ApiError::invalid("constraint_violation", "history.messages: May not be null.")
                })?;
            if items.len() > 200 {
                return Err(ApiError::invalid(
                    "constraint_violation",
                    format!(
                        "history.messages: at most 200 messages are allowed, got {}",
                        items.len()
                    ),
                ));
            }
            for (i, item) in items.iter().enumerate() {
                let msg = validate::message(item, &format!("history.messages[{i}]."))
                    .map_err(|e| ApiError::invalid("invalid_history", e.to_string()))?;
                history.push((
                    msg.author_type,
                    NewMessage {
                        text: msg.text,
                        external_provider: msg.external_provider,
                        attachments: msg.attachments,
                        cards: msg.cards,
                    },
                ));
            }
        }
        let (id, created) =
            sim.create_conversation(&caller.tenant, &channel_id, assignment, user, history, None);
        Ok(hal(
            StatusCode::ACCEPTED,
            json!({"conversationId": id, "createdAt": iso8601(created)}),
        ))
    })
}

/// PUT (full) and PATCH (partial) share the rules; PUT replaces the user object.
fn update(sim: &Arc<Sim>, headers: &HeaderMap, id: &str, body: &Bytes, full: bool) -> Response {
    run(sim, headers, ErrorStyle::Generic, |caller| {
        let mut store = sim.lock();
        if store.conversation(&caller.tenant, id).is_none() {
            return Err(ApiError::not_found("Conversation", id));
        }
        let body = json_body(body)?;
        let m = object(&body, "body")?;
        let strict = sim.settings().strict_language;
        let user = m
            .get("user")
            .filter(|u| !u.is_null())
            .map(|u| validate::user(u, strict))
            .transpose()?;
        let assignment = m
            .get("assignment")
            .filter(|a| !a.is_null())
            .map(validate::assignment)
            .transpose()?;
        if let Some(a) = &assignment {
            if a.kind == "queue" && store.queue(&caller.tenant, &a.id).is_none() {
                return Err(ApiError::invalid(
                    "invalid_queue",
                    format!("Queue ID {} is invalid.", a.id),
                ));
            }
        }
        let channel = optional_str(m, "channelId")?;
        if let Some(ch) = &channel {
            if store.channel(&caller.tenant, ch).is_none() {
                return Err(ApiError::invalid(
                    "invalid_channel",
                    format!("Channel ID {ch} is invalid."),
                ));
            }
        }
        if !full && user.is_none() && assignment.is_none() {
            return Err(ApiError::invalid(
                "constraint_violation",
                "Either assignment or user has to be provided.",
            ));
        }
        let conv = store.conversations.get_mut(id).expect("checked");
        let user_changed = user.is_some();
        if let Some(u) = user {
            if full {
                conv.user = u;
            } else {
                for (k, v) in u {
                    conv.user.insert(k, v);
                }
            }
        }
        if let Some(ch) = channel {
            conv.channel_id = ch;
        }
        sim.reassign(&mut store, id, assignment, user_changed);
        let json = store.conversations[id].to_json();
        Ok(hal(StatusCode::ACCEPTED, json))
    })
}

pub async fn put(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    update(&sim, &headers, &id, &body, true)
}

pub async fn patch(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    update(&sim, &headers, &id, &body, false)
}

pub async fn interactions(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    run(&sim, &headers, ErrorStyle::Generic, |caller| {
        let query = ListQuery::parse(q.as_deref(), "id:asc", &["id", "startTime", "endTime"])?;
        let store = sim.lock();
        let c = store
            .conversation(&caller.tenant, &id)
            .ok_or_else(|| ApiError::not_found("Conversation", &id))?;
        let items = c
            .interactions
            .iter()
            .enumerate()
            .map(|(i, it)| {
                let mut v = json!({"id": it.id, "startTime": iso8601(it.start_ms)});
                if let Some(end) = it.end_ms {
                    v["endTime"] = json!(iso8601(end));
                }
                (i as u64, v)
            })
            .collect();
        let href = format!(
            "{}/chat-gateway/v1/conversations/{id}/interactions",
            sim.base_url
        );
        Ok(hal(
            StatusCode::OK,
            query.page(items, "interactions", Some(href)),
        ))
    })
}

pub async fn participants(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    run(&sim, &headers, ErrorStyle::ListWithoutNotFound, |caller| {
        let query = ListQuery::parse(q.as_deref(), "id:asc", &["id", "type"])?;
        let store = sim.lock();
        let c = store
            .conversation(&caller.tenant, &id)
            .ok_or_else(|| ApiError::not_found("Conversation", &id))?;
        let items = c
            .participants
            .iter()
            .enumerate()
            .map(|(i, p)| (i as u64, p.to_json()))
            .collect();
        let href = format!(
            "{}/chat-gateway/v1/conversations/{id}/participants",
            sim.base_url
        );
        Ok(hal(
            StatusCode::OK,
            query.page(items, "participants", Some(href)),
        ))
    })
}

/// `PATCH …/participants/user`: only `{"removed": true}` is meaningful (P27).
pub async fn leave(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    run(&sim, &headers, ErrorStyle::Generic, |caller| {
        if sim.lock().conversation(&caller.tenant, &id).is_none() {
            return Err(ApiError::not_found("Conversation", &id));
        }
        let body = json_body(&body)?;
        let m = object(&body, "body")?;
        if m.get("removed") != Some(&Value::Bool(true)) {
            return Err(ApiError::invalid(
                "invalid_parameter",
                "Only {\"removed\": true} is supported: the user can only leave.",
            ));
        }
        sim.user_leave(&id)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(empty(StatusCode::NO_CONTENT))
    })
}

pub async fn post_agent_assignment(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    run(&sim, &headers, ErrorStyle::Indicator, |caller| {
        let mut store = sim.lock();
        if store.conversation(&caller.tenant, &id).is_none() {
            return Err(ApiError::not_found("Conversation", &id));
        }
        let body = json_body(&body)?;
        let m = object(&body, "body")?;
        let kind = required_str(m, "type", None)
            .map_err(|_| ApiError::invalid("invalid_parameter", "type: May not be empty."))?;
        if kind != "webhook" {
            return Err(ApiError::invalid(
                "invalid_parameter",
                format!("Invalid type={kind}, has to be webhook"),
            ));
        }
        let webhook_id = required_str(m, "id", None)
            .map_err(|_| ApiError::invalid("invalid_parameter", "id: May not be empty."))?;
        if store.webhook(&caller.tenant, &webhook_id).is_none() {
            return Err(ApiError::invalid(
                "invalid_parameter",
                format!("WebHook ID {webhook_id} is invalid."),
            ));
        }
        let mut pa = PostAgent {
            webhook_id,
            notify_channel_webhook: false,
            max_total_minutes: None,
            user_timeout_minutes: None,
        };
        if let Some(cfg) = m.get("configuration").filter(|c| !c.is_null()) {
            let cm = object(cfg, "configuration")
                .map_err(|e| ApiError::invalid("invalid_parameter", e.to_string()))?;
            if let Some(n) = cm
                .get("notifyChannelWebhookIfExists")
                .filter(|n| !n.is_null())
            {
                pa.notify_channel_webhook = match n {
                    Value::String(s) if s.eq_ignore_ascii_case("true") => true,
                    Value::String(s) if s.eq_ignore_ascii_case("false") => false,
                    Value::Bool(b) => *b,
                    _ => {
                        return Err(ApiError::invalid(
                            "invalid_parameter",
                            "notifyChannelWebhookIfExists must be \"true\" or \"false\"",
                        ))
                    }
                };
            }
            if let Some(v) = cm.get("maxTotalMinutes").filter(|n| !n.is_null()) {
                pa.max_total_minutes = Some(int_in_range(v, "maxTotalMinutes", 20, 600)? as u64);
            }
            if let Some(v) = cm.get("userTimeoutInMinutes").filter(|n| !n.is_null()) {
                pa.user_timeout_minutes =
                    Some(int_in_range(v, "userTimeoutInMinutes", 10, 300)? as u64);
            }
        }
        store
            .conversations
            .get_mut(&id)
            .expect("checked")
            .post_agent = Some(pa);
        Ok(empty(StatusCode::CREATED))
    })
}
