//! The control API under `/sim/...`: everything a test or a person needs that 8x8's API
//! does not offer — acting as the agent, acting as an 8x8 web-chat customer, switching
//! faults and settings, rotating the signing key and reading the Event Log. Documented
//! in the crate's README.md. Not part of 8x8's contract.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::attachments::download;
use crate::clock::now_ms;
use crate::engine::EngineError;
use crate::faults::Faults;
use crate::seed::AgentScript;
use crate::settings::Settings;
use crate::state::Sim;
use crate::store::{Assignment, Channel};
use crate::validate::CARD_TYPES;

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let status = match &self {
            ControlError::Engine(EngineError::NoConversation(_))
            | ControlError::Engine(EngineError::NoCard(_))
            | ControlError::Engine(EngineError::NoChannel(_))
            | ControlError::Engine(EngineError::NoWebhook(_))
            | ControlError::NotFound(_) => StatusCode::NOT_FOUND,
            ControlError::Engine(EngineError::NoQueue(_)) => StatusCode::BAD_REQUEST,
            ControlError::Engine(EngineError::NoOffer(_))
            | ControlError::Engine(EngineError::NoAgent(_)) => StatusCode::CONFLICT,
            ControlError::BadRequest(_) => StatusCode::BAD_REQUEST,
        };
        (status, Json(json!({"error": self.to_string()}))).into_response()
    }
}

type R = Result<Response, ControlError>;

fn ok(v: Value) -> R {
    Ok(Json(v).into_response())
}

pub fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route(
            "/sim/health",
            get(|| async { Json(json!({"status": "ok"})) }),
        )
        .route("/sim/info", get(info))
        .route("/sim/log", get(log).delete(clear_log))
        .route(
            "/sim/faults",
            get(get_faults).put(put_faults).patch(patch_faults),
        )
        .route(
            "/sim/settings",
            get(get_settings).put(put_settings).patch(patch_settings),
        )
        .route("/sim/keys/rotate", post(rotate))
        .route("/sim/queues", get(queues))
        .route("/sim/queues/{id}/agent", put(set_queue_agent))
        .route("/sim/offers", get(offers))
        .route("/sim/conversations/{id}", get(conversation))
        .route("/sim/conversations/{id}/agent/accept", post(agent_accept))
        .route("/sim/conversations/{id}/agent/typing", post(agent_typing))
        .route("/sim/conversations/{id}/agent/say", post(agent_say))
        .route(
            "/sim/conversations/{id}/agent/transfer",
            post(agent_transfer),
        )
        .route("/sim/conversations/{id}/agent/end", post(agent_end))
        .route("/sim/webchat/conversations", post(webchat_start))
        .route("/sim/conversations/{id}/customer/say", post(customer_say))
        .route(
            "/sim/conversations/{id}/customer/typing",
            post(customer_typing),
        )
        .route(
            "/sim/conversations/{id}/customer/quick-reply",
            post(customer_quick_reply),
        )
        .route(
            "/sim/conversations/{id}/customer/submit-card",
            post(customer_submit_card),
        )
        .route(
            "/sim/conversations/{id}/customer/leave",
            post(customer_leave),
        )
        .route("/sim/files/{conv}/{att}", get(file))
}

async fn info(State(sim): State<Arc<Sim>>) -> Json<Value> {
    let store = sim.lock();
    let kid = sim.keyring.current_kid();
    Json(json!({
        "baseUrl": sim.base_url,
        "apiBase": format!("{}/chat-gateway/v1", sim.base_url),
        "customerId": sim.seed.customer_id,
        "apiKeys": sim.seed.api_keys,
        "queues": store.queues,
        "currentKid": kid,
        "jwkUrl": format!("{}/chat-gateway/v1/jwk/{kid}/public", sim.base_url),
    }))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct LogFilter {
    direction: Option<String>,
    conversation_id: Option<String>,
    record_type: Option<String>,
    status: Option<String>,
    webhook_id: Option<String>,
    event_id: Option<String>,
}

async fn log(State(sim): State<Arc<Sim>>, Query(f): Query<LogFilter>) -> Json<Value> {
    let eq =
        |want: &Option<String>, have: Option<&str>| want.as_deref().is_none_or(|w| Some(w) == have);
    let records: Vec<_> = sim
        .log
        .records()
        .into_iter()
        .filter(|r| {
            eq(&f.direction, Some(&r.direction))
                && eq(&f.conversation_id, r.conversation_id.as_deref())
                && eq(&f.record_type, Some(&r.record_type))
                && eq(&f.status, Some(&r.status))
                && eq(&f.webhook_id, r.webhook_id.as_deref())
                && eq(&f.event_id, r.event_id.as_deref())
        })
        .collect();
    Json(json!({"records": records}))
}

async fn clear_log(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.log.clear();
    StatusCode::NO_CONTENT
}

async fn get_faults(State(sim): State<Arc<Sim>>) -> Json<Faults> {
    Json(sim.faults.lock().unwrap_or_else(|e| e.into_inner()).clone())
}

async fn put_faults(State(sim): State<Arc<Sim>>, Json(f): Json<Faults>) -> Json<Faults> {
    *sim.faults.lock().unwrap_or_else(|e| e.into_inner()) = f.clone();
    Json(f)
}

/// Merges the given fields into the current faults.
async fn patch_faults(State(sim): State<Arc<Sim>>, Json(patch): Json<Value>) -> R {
    let mut g = sim.faults.lock().unwrap_or_else(|e| e.into_inner());
    let merged = merge(serde_json::to_value(&*g).unwrap_or_default(), patch);
    *g = serde_json::from_value(merged).map_err(|e| ControlError::BadRequest(e.to_string()))?;
    ok(serde_json::to_value(&*g).unwrap_or_default())
}

async fn get_settings(State(sim): State<Arc<Sim>>) -> Json<Settings> {
    Json(sim.settings())
}

async fn put_settings(State(sim): State<Arc<Sim>>, Json(s): Json<Settings>) -> Json<Settings> {
    *sim.settings.write().unwrap_or_else(|e| e.into_inner()) = s.clone();
    Json(s)
}

async fn patch_settings(State(sim): State<Arc<Sim>>, Json(patch): Json<Value>) -> R {
    let mut g = sim.settings.write().unwrap_or_else(|e| e.into_inner());
    let merged = merge(serde_json::to_value(&*g).unwrap_or_default(), patch);
    *g = serde_json::from_value(merged).map_err(|e| ControlError::BadRequest(e.to_string()))?;
    ok(serde_json::to_value(&*g).unwrap_or_default())
}

fn merge(mut base: Value, patch: Value) -> Value {
    if let (Some(b), Value::Object(p)) = (base.as_object_mut(), patch) {
        for (k, v) in p {
            b.insert(k, v);
        }
    }
    base
}

async fn rotate(State(sim): State<Arc<Sim>>) -> R {
    let kid = sim
        .keyring
        .rotate()
        .map_err(|e| ControlError::BadRequest(e.to_string()))?;
    ok(json!({"kid": kid}))
}

async fn queues(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(json!({"queues": sim.lock().queues}))
}

/// Replaces (or, with `null`, removes) a queue's scripted agent.
async fn set_queue_agent(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    Json(script): Json<Option<AgentScript>>,
) -> R {
    let mut store = sim.lock();
    let q = store
        .queues
        .iter_mut()
        .find(|q| q.id == id)
        .ok_or_else(|| ControlError::NotFound(format!("queue {id} not found")))?;
    q.agent = script;
    ok(serde_json::to_value(&*q).unwrap_or_default())
}

async fn offers(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(json!({"offers": sim.lock().offers}))
}

/// Everything the emulator knows about a conversation, as the agent's screen would show
/// it (including the bot/user typing, thinking and read receipts).
async fn conversation(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> R {
    let store = sim.lock();
    let c = store
        .conversations
        .get(&id)
        .ok_or_else(|| EngineError::NoConversation(id.clone()))?;
    let mut v = c.to_json();
    v["tenant"] = json!(c.tenant);
    v["agent"] = json!(c.agent);
    v["scripted"] = json!(c.script.is_some());
    v["lastQueue"] = json!(c.last_queue);
    v["handbackWebhook"] = json!(c.handback);
    v["postAgentAssignment"] = json!(c.post_agent.as_ref().map(|p| json!({
        "webhookId": p.webhook_id,
        "notifyChannelWebhookIfExists": p.notify_channel_webhook,
        "maxTotalMinutes": p.max_total_minutes,
        "userTimeoutInMinutes": p.user_timeout_minutes,
    })));
    v["digitalChannel"] = json!(c.digital_channel);
    v["interactions"] = json!(c
        .interactions
        .iter()
        .map(|i| json!({"id": i.id, "startMs": i.start_ms, "endMs": i.end_ms}))
        .collect::<Vec<_>>());
    v["participants"] = json!(c
        .participants
        .iter()
        .map(|p| p.to_json())
        .collect::<Vec<_>>());
    v["messages"] = json!(c
        .messages
        .iter()
        .map(|m| m.to_json(&c.participants))
        .collect::<Vec<_>>());
    v["indicators"] = json!(c.indicators);
    v["createdAtMs"] = json!(c.created_ms);
    v["attachments"] = json!(c
        .attachments
        .iter()
        .map(|a| {
            let mut j = a.to_json();
            j["authorType"] = json!(a.author_type);
            j["contentType"] = json!(a.content_type);
            j
        })
        .collect::<Vec<_>>());
    let typing_until = c
        .indicators
        .iter()
        .rev()
        .find(|i| i.kind == "typing")
        .map(|i| i.at_ms + 5_000);
    // P23: a typing pulse counts for 5 s.
    v["userTyping"] = json!(typing_until.is_some_and(|t| t > now_ms()));
    v["offer"] = json!(store.offers.iter().find(|o| o.conversation_id == id));
    ok(v)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct AcceptBody {
    agent_id: Option<String>,
}

async fn agent_accept(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    body: Option<Json<AcceptBody>>,
) -> R {
    let agent = sim.accept(&id, body.and_then(|b| b.0.agent_id), None)?;
    ok(json!({"agentId": agent}))
}

#[derive(Deserialize)]
struct TypingBody {
    typing: bool,
}

async fn agent_typing(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    Json(b): Json<TypingBody>,
) -> R {
    sim.agent_typing(&id, b.typing)?;
    ok(json!({}))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct FileBody {
    filename: String,
    content_type: Option<String>,
    /// Text content, or…
    text: Option<String>,
    /// …base64 content.
    base64: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct SayBody {
    text: Option<String>,
    cards: Vec<Value>,
    attachments: Vec<FileBody>,
}

async fn agent_say(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    Json(b): Json<SayBody>,
) -> R {
    let mut cards = Vec::new();
    for c in b.cards {
        let ct = c
            .get("contentType")
            .and_then(Value::as_str)
            .unwrap_or(CARD_TYPES[0])
            .to_string();
        let content = c.get("content").cloned().unwrap_or_else(|| json!({}));
        cards.push((ct, content));
    }
    let mut files = Vec::new();
    for f in b.attachments {
        let bytes = match (f.text, f.base64) {
            (Some(t), _) => t.into_bytes(),
            (None, Some(b64)) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| ControlError::BadRequest(format!("bad base64: {e}")))?,
            (None, None) => {
                return Err(ControlError::BadRequest(
                    "attachment needs text or base64".into(),
                ))
            }
        };
        let name = if f.filename.is_empty() {
            "file.txt".to_string()
        } else {
            f.filename
        };
        files.push((
            name,
            f.content_type.unwrap_or_else(|| "text/plain".into()),
            bytes::Bytes::from(bytes),
        ));
    }
    if b.text.is_none() && cards.is_empty() && files.is_empty() {
        return Err(ControlError::BadRequest(
            "say needs text, cards or attachments".into(),
        ));
    }
    let mid = sim.agent_say(&id, b.text, cards, files)?;
    ok(json!({"messageId": mid}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TransferBody {
    queue_id: String,
}

async fn agent_transfer(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    Json(b): Json<TransferBody>,
) -> R {
    sim.transfer(&id, &b.queue_id)?;
    ok(json!({}))
}

async fn agent_end(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> R {
    sim.agent_end(&id)?;
    ok(json!({}))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct WebchatBody {
    /// The bot's webhook: a WebChat channel bound to it is created (or reused).
    webhook_id: Option<String>,
    /// Or an existing channel.
    channel_id: Option<String>,
    /// Defaults to the key's only tenant.
    tenant: Option<String>,
    user: Option<Map<String, Value>>,
    /// The queue the WebChat channel falls back to; defaults to the first queue.
    queue_id: Option<String>,
}

/// 8x8's web chat routes a new customer to the bot first (brief §6.6).
async fn webchat_start(State(sim): State<Arc<Sim>>, Json(b): Json<WebchatBody>) -> R {
    let target = match (b.channel_id, b.webhook_id) {
        (Some(ch), _) => WebchatTarget::Channel(ch),
        (None, Some(wh)) => WebchatTarget::Webhook(wh),
        (None, None) => {
            return Err(ControlError::BadRequest(
                "webhookId or channelId is required".into(),
            ))
        }
    };
    let (id, channel_id) = start_webchat(&sim, b.tenant, target, b.user, b.queue_id)?;
    ok(json!({"conversationId": id, "channelId": channel_id}))
}

/// Where a web-chat customer's conversation lands.
#[derive(Debug, Clone)]
pub enum WebchatTarget {
    /// A `WebChat` channel bound to this webhook is created (or reused).
    Webhook(String),
    /// An existing channel.
    Channel(String),
}

/// Starts an 8x8 web-chat conversation routed to the bot first; returns the
/// conversation and channel ids.
pub(crate) fn start_webchat(
    sim: &Arc<Sim>,
    tenant: Option<String>,
    target: WebchatTarget,
    user: Option<Map<String, Value>>,
    queue_id: Option<String>,
) -> Result<(String, String), EngineError> {
    let tenant = tenant.unwrap_or_else(|| sim.seed.tenant_id().to_string());
    let channel_id = {
        let mut store = sim.lock();
        match target {
            WebchatTarget::Channel(ch) => {
                store
                    .channel(&tenant, &ch)
                    .ok_or_else(|| EngineError::NoChannel(ch.clone()))?;
                ch
            }
            WebchatTarget::Webhook(wh) => {
                if store.webhook(&tenant, &wh).is_none() {
                    return Err(EngineError::NoWebhook(wh));
                }
                let existing = store
                    .channels
                    .values()
                    .find(|c| c.tenant == tenant && c.kind == "WebChat" && c.webhook_id == wh)
                    .map(|c| c.id.clone());
                match existing {
                    Some(id) => id,
                    None => {
                        let queue_id = queue_id
                            .or_else(|| store.queues.first().map(|q| q.id.clone()))
                            .unwrap_or_default();
                        let id = store.next_numeric_id();
                        let seq = store.next_seq();
                        store.channels.insert(
                            id.clone(),
                            Channel {
                                id: id.clone(),
                                tenant: tenant.clone(),
                                name: format!("Web chat to webhook {wh}"),
                                kind: "WebChat".into(),
                                webhook_id: wh,
                                queue_id,
                                seq,
                            },
                        );
                        id
                    }
                }
            }
        }
    };
    let mut user = user.unwrap_or_default();
    user.entry("name")
        .or_insert_with(|| json!("Web chat visitor"));
    user.entry("language").or_insert_with(|| json!("en"));
    let (id, _) = sim.create_conversation(
        &tenant,
        &channel_id,
        Assignment {
            kind: "script".into(),
            id: "bot-routing-script".into(),
        },
        user,
        Vec::new(),
        Some("WebChat".into()),
    );
    Ok((id, channel_id))
}

#[derive(Deserialize)]
struct TextBody {
    text: String,
}

async fn customer_say(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    Json(b): Json<TextBody>,
) -> R {
    sim.customer_say(&id, b.text)?;
    ok(json!({}))
}

async fn customer_typing(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    Json(b): Json<TypingBody>,
) -> R {
    let users = if b.typing {
        vec![json!({"type": "user", "id": "user"})]
    } else {
        vec![]
    };
    sim.activity(&id, "typing", json!({"users": users}))?;
    ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QuickReplyBody {
    title: String,
    payload: String,
    card_id: Option<String>,
}

async fn customer_quick_reply(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    Json(b): Json<QuickReplyBody>,
) -> R {
    if let Some(card) = &b.card_id {
        mark_submitted(&sim, &id, card)?;
    }
    sim.activity(
        &id,
        "quickReply/action",
        json!({"type": "postback", "data": {"title": b.title, "payload": b.payload}}),
    )?;
    ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubmitCardBody {
    card_id: Option<String>,
    #[serde(default)]
    data: Value,
    #[serde(default)]
    execute: bool,
}

async fn customer_submit_card(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    Json(b): Json<SubmitCardBody>,
) -> R {
    match &b.card_id {
        Some(card) => sim.card_action(&id, card, b.execute, b.data)?,
        None => {
            let kind = if b.execute {
                "Action.Execute"
            } else {
                "Action.Submit"
            };
            sim.activity(
                &id,
                "adaptiveCard/action",
                json!({"type": kind, "data": b.data}),
            )?
        }
    }
    ok(json!({}))
}

fn mark_submitted(sim: &Sim, conv: &str, card: &str) -> Result<(), ControlError> {
    let mut store = sim.lock();
    let c = store
        .conversations
        .get_mut(conv)
        .ok_or_else(|| EngineError::NoConversation(conv.into()))?;
    let card = c
        .messages
        .iter_mut()
        .flat_map(|m| m.cards.iter_mut())
        .find(|x| x.id == card)
        .ok_or_else(|| EngineError::NoCard(card.into()))?;
    card.action_submitted = true;
    Ok(())
}

async fn customer_leave(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> R {
    sim.user_leave(&id)?;
    ok(json!({}))
}

/// The `preSignedUrl` of MESSAGE attachments: downloadable without a key.
async fn file(State(sim): State<Arc<Sim>>, Path((conv, att)): Path<(String, String)>) -> R {
    let store = sim.lock();
    let a = store
        .conversations
        .get(&conv)
        .and_then(|c| c.attachments.iter().find(|a| a.id == att))
        .ok_or_else(|| ControlError::NotFound(format!("attachment {att} not found")))?;
    Ok(download(a))
}
