//! Typing, thinking and read receipts from the bot/user side (chat-gateway.md §3.7). They go to the
//! agent's screen, not to webhooks, so the emulator keeps them for the control API's
//! agent view.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};

use crate::api::{json_body, optional_json_body, run};
use crate::clock::now_ms;
use crate::errors::{empty, ApiError, ErrorStyle};
use crate::state::Sim;
use crate::store::Indicator;
use crate::validate::{int_in_range, object};

fn record(sim: &Sim, tenant: &str, id: &str, ind: Indicator) -> Result<(), ApiError> {
    let mut store = sim.lock();
    let c = store
        .conversation_mut(tenant, id)
        .ok_or_else(|| ApiError::not_found("Conversation", id))?;
    c.indicators.push(ind);
    if c.indicators.len() > 100 {
        c.indicators.remove(0);
    }
    Ok(())
}

fn exists(sim: &Sim, tenant: &str, id: &str) -> Result<(), ApiError> {
    sim.lock()
        .conversation(tenant, id)
        .map(|_| ())
        .ok_or_else(|| ApiError::not_found("Conversation", id))
}

fn author(m: &serde_json::Map<String, Value>, allowed: &[&str]) -> Result<String, ApiError> {
    match m.get("authorType") {
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(s.clone()),
        Some(v) => Err(ApiError::invalid(
            "invalid_parameter",
            format!(
                "Invalid authorType={v}, has to be one of {}",
                allowed.join(", ")
            ),
        )),
        None => Err(ApiError::invalid(
            "invalid_parameter",
            "authorType: May not be empty.",
        )),
    }
}

pub async fn typing(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    run(&sim, &headers, ErrorStyle::Indicator, |caller| {
        exists(&sim, &caller.tenant, &id)?;
        let body = json_body(&body)?;
        let m = object(&body, "body")?;
        let author_type = author(m, &["bot", "user"])?;
        record(
            &sim,
            &caller.tenant,
            &id,
            Indicator {
                kind: "typing".into(),
                author_type,
                at_ms: now_ms(),
                detail: Value::Null,
            },
        )?;
        Ok(empty(StatusCode::NO_CONTENT))
    })
}

pub async fn thinking(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    run(&sim, &headers, ErrorStyle::Indicator, |caller| {
        exists(&sim, &caller.tenant, &id)?;
        let body = optional_json_body(&body)?.unwrap_or_else(|| json!({}));
        let m = object(&body, "body")?;
        let author_type = if m.contains_key("authorType") {
            author(m, &["bot"])?
        } else {
            "bot".into()
        };
        let max = match m.get("maxThinkingTimeSeconds") {
            None | Some(Value::Null) => 60,
            Some(v @ Value::Number(_)) => int_in_range(v, "maxThinkingTimeSeconds", 1, 600)?,
            Some(_) => {
                return Err(ApiError::invalid(
                    "invalid_parameter",
                    "maxThinkingTimeSeconds must be an integer",
                ))
            }
        };
        record(
            &sim,
            &caller.tenant,
            &id,
            Indicator {
                kind: "thinking".into(),
                author_type,
                at_ms: now_ms(),
                detail: json!({"maxThinkingTimeSeconds": max}),
            },
        )?;
        Ok(empty(StatusCode::NO_CONTENT))
    })
}

/// P24: `authorType:user` read receipts only on ChatAPI channels.
pub async fn read_receipt(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    run(&sim, &headers, ErrorStyle::Indicator, |caller| {
        exists(&sim, &caller.tenant, &id)?;
        let body = json_body(&body)?;
        let m = object(&body, "body")?;
        let author_type = author(m, &["bot", "user"])?;
        let read_at = match m.get("readAt") {
            Some(Value::Number(n)) if n.as_u64().is_some() => n.as_u64().unwrap_or(0),
            Some(_) => {
                return Err(ApiError::invalid(
                    "invalid_parameter",
                    "readAt must be epoch milliseconds (an integer)",
                ))
            }
            None => {
                return Err(ApiError::invalid(
                    "invalid_parameter",
                    "readAt: May not be empty.",
                ))
            }
        };
        if author_type == "user" {
            let store = sim.lock();
            let c = store.conversation(&caller.tenant, &id).expect("checked");
            let kind = c
                .digital_channel
                .clone()
                .or_else(|| store.channels.get(&c.channel_id).map(|ch| ch.kind.clone()))
                .unwrap_or_default();
            if kind != "ChatAPI" {
                return Err(ApiError::invalid(
                    "invalid_parameter",
                    format!("Read receipts with authorType=user are only allowed on CHAT_API channels, not {kind}"),
                ));
            }
        }
        record(
            &sim,
            &caller.tenant,
            &id,
            Indicator {
                kind: "read-receipt".into(),
                author_type,
                at_ms: now_ms(),
                detail: json!({"readAt": read_at}),
            },
        )?;
        Ok(empty(StatusCode::NO_CONTENT))
    })
}
