//! The event inspector: what the relay received and sent, explained. It groups webhook
//! deliveries by event id (8x8 retries keep the id), takes a stored signature apart so a
//! person can see why it passed or failed, replays a delivery into the relay (as a retry
//! that deduplication catches, or as a new event), and injects synthetic events made from
//! templates. Locally made deliveries never pretend to come from 8x8: their stored
//! headers carry `x-switchboard-origin` and their signature is recorded as not checked.

use std::collections::HashMap;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use bytes::Bytes;
use serde::Serialize;
use serde_json::{json, Map, Value};
use ts_rs::TS;

use crate::relay::RelayState;
use chat_gateway_client;
use chat_gateway_client::webhook::{
    signature::{self, DeliveryHeaders},
    WebhookEvent,
};
use switchboard_store::deliveries::{DeliveryRecord, Disposition, NewDelivery, StoreError};
use switchboard_types::events::{now_ms, RelayEvent};

/// The header that marks a delivery made inside the relay (replay, edit, template).
pub const ORIGIN_HEADER: &str = "x-switchboard-origin";

#[derive(Debug, thiserror::Error)]
pub enum InspectorError {
    #[error("there is no delivery {0}")]
    NotFound(i64),
    #[error("{0}")]
    BadInput(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One delivery in a list: everything but the body and headers.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeliverySummary {
    pub id: i64,
    pub received_at_ms: i64,
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    /// `data.name` of an ACTIVITY: typing, quickReply/action …
    pub activity: Option<String>,
    pub conversation_id: Option<String>,
    pub signature: String,
    pub signature_reason: Option<String>,
    pub http_status: u16,
    pub duplicate_of: Option<i64>,
    pub status: String,
    pub outcome: Option<String>,
    /// `x-8x8-retry` as received (0 on the first attempt).
    pub retry: Option<i64>,
    /// Set on deliveries made inside the relay.
    pub origin: Option<String>,
}

impl From<&DeliveryRecord> for DeliverySummary {
    fn from(d: &DeliveryRecord) -> Self {
        let header = |name: &str| d.headers.get(name).and_then(Value::as_str);
        let activity = serde_json::from_str::<Value>(&d.body).ok().and_then(|v| {
            v.pointer("/data/name")
                .and_then(Value::as_str)
                .filter(|_| v["eventType"] == "ACTIVITY")
                .map(str::to_string)
        });
        Self {
            id: d.id,
            received_at_ms: d.received_at_ms,
            event_id: d.event_id.clone(),
            event_type: d.event_type.clone(),
            activity,
            conversation_id: d.conversation_id.clone(),
            signature: d.signature.clone(),
            signature_reason: d.signature_reason.clone(),
            http_status: d.http_status,
            duplicate_of: d.duplicate_of,
            status: d.status.clone(),
            outcome: d.outcome.clone(),
            retry: header(signature::RETRY).and_then(|v| v.trim().parse().ok()),
            origin: header(ORIGIN_HEADER).map(str::to_string),
        }
    }
}

/// Every delivery of one event: the first and its retries/duplicates, oldest first.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryGroup {
    /// The event id, or `delivery-{id}` for a delivery without one.
    pub key: String,
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    pub conversation_id: Option<String>,
    /// Deliveries after the first: what 8x8 (or a replay) sent again.
    pub retry_count: usize,
    pub latest_id: i64,
    pub deliveries: Vec<DeliverySummary>,
}

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GroupPage {
    pub groups: Vec<DeliveryGroup>,
    /// Pass as `before` for the next page; absent at the end.
    pub next_before: Option<i64>,
}

/// A page of deliveries (newest first), each shown with every delivery of its event id,
/// including ones outside the page, so retry counts are whole.
pub async fn delivery_groups(
    state: &RelayState,
    limit: u32,
    before: Option<i64>,
) -> Result<GroupPage, InspectorError> {
    let page = state.inbox.store.list(limit, before).await?;
    let next_before = (page.len() as u32 == limit)
        .then(|| page.last().map(|d| d.id))
        .flatten();
    // Every member of every group on the page in one query (indexed on event_id),
    // not one query per row.
    let event_ids: Vec<String> = page
        .iter()
        .filter_map(|d| d.event_id.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut by_event: HashMap<String, Vec<DeliveryRecord>> = HashMap::new();
    for m in state.inbox.store.by_event_ids(event_ids).await? {
        if let Some(eid) = m.event_id.clone() {
            by_event.entry(eid).or_default().push(m);
        }
    }
    let mut groups: Vec<DeliveryGroup> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for d in &page {
        let key = d
            .event_id
            .clone()
            .unwrap_or_else(|| format!("delivery-{}", d.id));
        if seen.contains_key(&key) {
            continue;
        }
        let members = match d.event_id.as_ref().and_then(|eid| by_event.remove(eid)) {
            Some(members) => members,
            None => vec![d.clone()],
        };
        let first = members.first().unwrap_or(d);
        seen.insert(key.clone(), groups.len());
        groups.push(DeliveryGroup {
            key,
            event_id: d.event_id.clone(),
            event_type: first.event_type.clone(),
            conversation_id: first.conversation_id.clone(),
            retry_count: members.len().saturating_sub(1),
            latest_id: members.iter().map(|m| m.id).max().unwrap_or(d.id),
            deliveries: members.iter().map(DeliverySummary::from).collect(),
        });
    }
    Ok(GroupPage {
        groups,
        next_before,
    })
}

/// The signature explainer: the parts of `x-8x8-signature` and what was signed, so a
/// failure can be read rather than guessed at.
#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SignatureExplainer {
    /// `valid`, `invalid`, `unsigned` or `skipped`, as recorded at receipt.
    pub verdict: String,
    pub reason: Option<String>,
    /// The JWS protected header, decoded.
    pub protected_header: Option<Value>,
    pub kid: Option<String>,
    /// CRC-32 of the raw body: unsigned (what 8x8 signs) and as a signed int (P14).
    pub crc32: u32,
    pub crc32_signed: i32,
    /// The compact JSON the signature covers, rebuilt from this body and these headers.
    pub signed_payload: Option<String>,
    /// Why the payload could not be rebuilt (a header missing or malformed).
    pub problem: Option<String>,
    /// `x-8x8-transmission-time` minus the receipt time, and the window allowed.
    pub transmission_skew_ms: Option<i64>,
    pub freshness_window_ms: i64,
    /// The signature checked again now with the current key of the receiving Base URL
    /// (freshness aside: a stored delivery is old by now).
    pub recheck: Option<Recheck>,
}

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Recheck {
    pub ok: bool,
    pub code: Option<&'static str>,
    pub message: String,
}

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryDetail {
    pub delivery: DeliveryRecord,
    /// Every delivery of the same event id, oldest first.
    pub group: Vec<DeliverySummary>,
    pub explainer: SignatureExplainer,
}

pub async fn delivery_detail(
    state: &RelayState,
    id: i64,
) -> Result<DeliveryDetail, InspectorError> {
    let delivery = state
        .inbox
        .store
        .get(id)
        .await?
        .ok_or(InspectorError::NotFound(id))?;
    let group = match &delivery.event_id {
        Some(eid) => state.inbox.store.by_event_id(eid).await?,
        None => vec![delivery.clone()],
    };
    let explainer = explain(state, &delivery).await;
    Ok(DeliveryDetail {
        group: group.iter().map(DeliverySummary::from).collect(),
        delivery,
        explainer,
    })
}

fn header_map(headers: &Value) -> axum::http::HeaderMap {
    let mut map = axum::http::HeaderMap::new();
    if let Some(object) = headers.as_object() {
        for (name, value) in object {
            let (Ok(name), Some(Ok(value))) = (
                axum::http::HeaderName::from_bytes(name.as_bytes()),
                value.as_str().map(axum::http::HeaderValue::from_str),
            ) else {
                continue;
            };
            map.insert(name, value);
        }
    }
    map
}

async fn explain(state: &RelayState, d: &DeliveryRecord) -> SignatureExplainer {
    let body = d.body.as_bytes();
    let crc32 = crc32fast::hash(body);
    let headers = header_map(&d.headers);
    let mut out = SignatureExplainer {
        verdict: d.signature.clone(),
        reason: d.signature_reason.clone(),
        protected_header: None,
        kid: None,
        crc32,
        crc32_signed: crc32 as i32,
        signed_payload: None,
        problem: None,
        transmission_skew_ms: None,
        freshness_window_ms: state.inbox.freshness_window_ms(),
        recheck: None,
    };
    let parsed_headers = match DeliveryHeaders::from_headers(&headers) {
        Ok(h) => h,
        Err(e) => {
            out.problem = Some(e.to_string());
            return out;
        }
    };
    out.signed_payload = Some(signature::signed_payload(body, &parsed_headers));
    out.transmission_skew_ms = Some(parsed_headers.transmission_time - d.received_at_ms);
    // The protected header is shown even when the signature does not parse as a whole.
    if let Some(first) = parsed_headers.signature.split('.').next() {
        out.protected_header = URL_SAFE_NO_PAD
            .decode(first)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        out.kid = out
            .protected_header
            .as_ref()
            .and_then(|h| h.get("kid"))
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    let parsed = match signature::parse_signature(&parsed_headers.signature) {
        Ok(p) => p,
        Err(e) => {
            out.recheck = Some(Recheck {
                ok: false,
                code: Some(e.code()),
                message: e.to_string(),
            });
            return out;
        }
    };
    let base_url = {
        let settings = state.settings();
        crate::connections::target(state, &settings).base_url
    };
    let result = match state.inbox.jwks.get(&base_url, &parsed.kid).await {
        Ok(key) => {
            let body = Bytes::copy_from_slice(body);
            tokio::task::spawn_blocking(move || {
                signature::verify(&key, &body, &parsed_headers, &parsed)
            })
            .await
            .unwrap_or(Err(signature::SignatureError::Malformed(
                "the check did not finish",
            )))
        }
        Err(e) => Err(e),
    };
    out.recheck = Some(match result {
        Ok(variant) => Recheck {
            ok: true,
            code: None,
            message: match variant {
                signature::ChecksumVariant::Unsigned => {
                    "the signature matches this body and these headers".into()
                }
                signature::ChecksumVariant::SignedInt => {
                    "the signature matches, with the CRC-32 written as a signed int (P14)".into()
                }
            },
        },
        Err(e) => Recheck {
            ok: false,
            code: Some(e.code()),
            message: e.to_string(),
        },
    });
    out
}

/// What a replay does with the event id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ReplayMode {
    /// Same event id: the relay must recognise it as a repeat (processed only if no
    /// accepted delivery of it exists).
    Dedupe,
    /// A new event id: processed again as if 8x8 had sent it anew.
    Reprocess,
}

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Injected {
    pub delivery: DeliverySummary,
}

/// Replays stored delivery `id`. With `edited_body` the body is replaced and the record
/// says it is not signed by 8x8.
pub async fn replay(
    state: &RelayState,
    id: i64,
    mode: ReplayMode,
    edited_body: Option<Value>,
) -> Result<Injected, InspectorError> {
    let original = state
        .inbox
        .store
        .get(id)
        .await?
        .ok_or(InspectorError::NotFound(id))?;
    let edited = edited_body.is_some();
    let body = match edited_body {
        Some(v) => v.to_string(),
        None => original.body.clone(),
    };
    let event_id = match mode {
        ReplayMode::Dedupe => original.event_id.clone().ok_or_else(|| {
            InspectorError::BadInput(
                "This delivery has no event id, so there is nothing to deduplicate on; replay it as a new event."
                    .into(),
            )
        })?,
        ReplayMode::Reprocess => fresh_event_id("replay"),
    };
    let mut headers = original.headers.as_object().cloned().unwrap_or_default();
    let (signature_label, reason, origin) = if edited {
        headers.remove(signature::SIGNATURE);
        (
            "unsigned",
            format!("edited and replayed locally from delivery {id}: not signed by 8x8"),
            format!("edited replay of delivery {id}"),
        )
    } else {
        (
            "skipped",
            format!(
                "replayed locally from delivery {id} (signature recorded then: {}); not checked again",
                original.signature
            ),
            format!("replay of delivery {id}"),
        )
    };
    headers.insert(signature::EVENT_ID.into(), Value::String(event_id.clone()));
    headers.insert(ORIGIN_HEADER.into(), Value::String(origin));
    inject(state, headers, body, event_id, signature_label, reason).await
}

/// The templates the inspector offers, one per 8x8 event type and ACTIVITY subtype.
pub const TEMPLATES: [&str; 14] = [
    "CONVERSATION_UPDATE/created",
    "CONVERSATION_UPDATE/active",
    "CONVERSATION_UPDATE/idle",
    "QUEUED",
    "MEMBERS_CHANGED/agent joined",
    "MEMBERS_CHANGED/agent left",
    "MEMBERS_CHANGED/user left",
    "MESSAGE",
    "TRANSFER",
    "ACTIVITY/typing",
    "ACTIVITY/adaptiveCard/action",
    "ACTIVITY/quickReply/action",
    "ACTIVITY/read-receipts",
    "WEB_HOOK_VERIFY",
];

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "EventTemplate")]
pub struct Template {
    pub name: &'static str,
    pub body: Value,
}

/// The body of template `name` for 8x8 conversation `conversation_id` (chat-gateway.md §5).
pub fn template(name: &str, conversation_id: &str) -> Option<Value> {
    let now = now_ms();
    let event = |event_type: &str, data: Option<Value>| {
        let mut v =
            json!({ "eventType": event_type, "conversationId": conversation_id, "timestamp": now });
        if let Some(data) = data {
            v["data"] = data;
        }
        v
    };
    let update = |state: &str| {
        event(
            "CONVERSATION_UPDATE",
            Some(
                json!({ "state": state, "assignment": { "type": "queue", "id": "101" }, "channel": "ChatAPI" }),
            ),
        )
    };
    let members = |member_type: &str, change: &str, id: &str| {
        event(
            "MEMBERS_CHANGED",
            Some(json!({ "memberType": member_type, "change": change, "id": id })),
        )
    };
    let activity =
        |name: &str, value: Value| event("ACTIVITY", Some(json!({ "name": name, "value": value })));
    Some(match name {
        "CONVERSATION_UPDATE/created" => update("created"),
        "CONVERSATION_UPDATE/active" => update("active"),
        "CONVERSATION_UPDATE/idle" => update("idle"),
        "QUEUED" => event(
            "QUEUED",
            Some(json!({ "queueId": "101", "queueName": "Sandbox support" })),
        ),
        "MEMBERS_CHANGED/agent joined" => members("agent", "joined", "synthetic-agent"),
        "MEMBERS_CHANGED/agent left" => members("agent", "left", "synthetic-agent"),
        "MEMBERS_CHANGED/user left" => members("user", "left", "user"),
        "MESSAGE" => event(
            "MESSAGE",
            Some(json!({
                "isEcho": false,
                "sender": { "id": "synthetic-agent", "type": "agent" },
                "text": "A synthetic agent message",
            })),
        ),
        "TRANSFER" => event("TRANSFER", None),
        "ACTIVITY/typing" => activity(
            "typing",
            json!({ "users": [{ "type": "agent", "id": "synthetic-agent" }] }),
        ),
        "ACTIVITY/adaptiveCard/action" => activity(
            "adaptiveCard/action",
            json!({ "type": "Action.Submit", "data": { "feedbackRating": 5, "comments": "Great service!" } }),
        ),
        "ACTIVITY/quickReply/action" => activity(
            "quickReply/action",
            json!({ "type": "postback", "data": { "title": "Check order status", "payload": "order_status" } }),
        ),
        "ACTIVITY/read-receipts" => activity(
            "read-receipts",
            json!([{ "timestamp": now, "users": [{ "id": "synthetic-agent", "type": "agent" }] }]),
        ),
        "WEB_HOOK_VERIFY" => {
            json!({ "notificationVersion": "Chat Gateway v1.0", "eventType": "WEB_HOOK_VERIFY" })
        }
        _ => return None,
    })
}

pub fn templates(conversation_id: &str) -> Vec<Template> {
    TEMPLATES
        .iter()
        .filter_map(|&name| template(name, conversation_id).map(|body| Template { name, body }))
        .collect()
}

/// Injects a synthetic event: template `name` (or `body` when given, e.g. the template
/// as edited in the UI) for 8x8 conversation `conversation_id`.
pub async fn synthetic(
    state: &RelayState,
    name: &str,
    conversation_id: &str,
    body: Option<Value>,
) -> Result<Injected, InspectorError> {
    let body = match body {
        Some(b) => b,
        None => template(name, conversation_id).ok_or_else(|| {
            InspectorError::BadInput(format!(
                "There is no template {name:?}; the templates are: {}.",
                TEMPLATES.join(", ")
            ))
        })?,
    };
    check_conversation_id(&body)?;
    let event_id = fresh_event_id("synthetic");
    let mut headers = Map::new();
    headers.insert("content-type".into(), "application/json".into());
    headers.insert(signature::EVENT_ID.into(), Value::String(event_id.clone()));
    headers.insert(signature::RETRY.into(), "0".into());
    headers.insert(
        ORIGIN_HEADER.into(),
        Value::String(format!("synthetic ({name})")),
    );
    let reason =
        format!("synthetic event from the template {name:?}: made locally, not signed by 8x8");
    inject(
        state,
        headers,
        body.to_string(),
        event_id,
        "unsigned",
        reason,
    )
    .await
}

/// A synthetic event must name a real conversation: a template's placeholder
/// (`CONVERSATION_ID`, `<id>`, `{conversationId}`) would be stored and "processed" as an
/// event of a conversation that does not exist.
fn check_conversation_id(body: &Value) -> Result<(), InspectorError> {
    if body.get("eventType").and_then(Value::as_str) == Some("WEB_HOOK_VERIFY") {
        return Ok(());
    }
    let id = body
        .get("conversationId")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or("");
    if id.is_empty() {
        return Err(InspectorError::BadInput(
            "The event has no conversationId: pick a conversation or type its 8x8 conversation id."
                .into(),
        ));
    }
    if is_placeholder(id) {
        return Err(InspectorError::BadInput(format!(
            "{id:?} is a placeholder, not an 8x8 conversation id: pick a conversation or type its id."
        )));
    }
    Ok(())
}

fn is_placeholder(id: &str) -> bool {
    let wrapped = |open: char, close: char| id.starts_with(open) && id.ends_with(close);
    wrapped('<', '>')
        || wrapped('{', '}')
        || wrapped('[', ']')
        || (id.chars().any(|c| c.is_ascii_uppercase())
            && id.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
}

fn fresh_event_id(prefix: &str) -> String {
    format!("{prefix}-{}", &switchboard_types::token::generate()[..16])
}

/// Stores a locally made delivery the way the receiver stores 8x8's, so the engine picks
/// it up from the same queue and the inspector lists it beside the real ones.
async fn inject(
    state: &RelayState,
    headers: Map<String, Value>,
    body: String,
    event_id: String,
    signature_label: &'static str,
    reason: String,
) -> Result<Injected, InspectorError> {
    let value: Value = serde_json::from_str(&body)
        .map_err(|e| InspectorError::BadInput(format!("The body is not JSON: {e}")))?;
    let event = WebhookEvent::from_value(value)
        .map_err(|e| InspectorError::BadInput(format!("This is not an 8x8 event: {e}.")))?;
    let (disposition, outcome) = if event.is_processable() {
        (Disposition::Queue, None)
    } else {
        (
            Disposition::Ignore,
            Some("verify, unknown or legacy event type: stored, not processed".to_string()),
        )
    };
    let event_type = event.event_type.clone();
    let recorded = state
        .inbox
        .store
        .record(NewDelivery {
            received_at_ms: now_ms(),
            headers_json: Value::Object(headers).to_string(),
            body: Bytes::from(body),
            event_id: Some(event_id),
            event_type: Some(event_type.clone()),
            conversation_id: event.conversation_id.clone(),
            signature: signature_label,
            signature_reason: Some(reason.clone()),
            http_status: 204,
            disposition,
            outcome,
        })
        .await?;
    if disposition == Disposition::Queue && recorded.duplicate_of.is_none() {
        state.inbox.queue.wake();
    }
    state.bus.publish(RelayEvent::DeliveryReceived {
        event_type: event_type.clone(),
        accepted: true,
    });
    state.bus.publish(RelayEvent::DeliveryRecorded {
        id: recorded.id,
        event_type,
        http_status: 204,
        signature: signature_label.into(),
        signature_reason: Some(reason),
        duplicate_of: recorded.duplicate_of,
    });
    let stored = state
        .inbox
        .store
        .get(recorded.id)
        .await?
        .ok_or(InspectorError::NotFound(recorded.id))?;
    Ok(Injected {
        delivery: DeliverySummary::from(&stored),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_is_an_event_of_its_type() {
        for t in templates("c-1") {
            let event = WebhookEvent::from_value(t.body.clone()).unwrap();
            let (event_type, subtype) = t.name.split_once('/').unwrap_or((t.name, ""));
            assert_eq!(event.event_type, event_type, "{}", t.name);
            if event_type == "ACTIVITY" {
                assert_eq!(t.body["data"]["name"], subtype, "{}", t.name);
            }
            if event_type != "WEB_HOOK_VERIFY" {
                assert_eq!(event.conversation_id.as_deref(), Some("c-1"));
                assert!(event.is_processable(), "{}", t.name);
            }
        }
        assert!(template("NOPE", "c").is_none());
    }

    #[test]
    fn a_placeholder_conversation_id_is_refused() {
        let event = |id: &str| json!({ "eventType": "MESSAGE", "conversationId": id });
        for id in [
            "CONVERSATION_ID",
            "<conversation id>",
            "{conversationId}",
            "",
            "  ",
        ] {
            let e = check_conversation_id(&event(id)).unwrap_err().to_string();
            assert!(e.contains("pick a conversation"), "{id:?}: {e}");
        }
        assert!(check_conversation_id(&json!({ "eventType": "QUEUED" })).is_err());
        for id in [
            "hc-FUY40TUYC_eegqdi",
            "c-1",
            "3f2a9c1e-0000-4000-8000-000000000000",
        ] {
            check_conversation_id(&event(id)).unwrap();
        }
        check_conversation_id(&json!({ "eventType": "WEB_HOOK_VERIFY" })).unwrap();
    }
}
