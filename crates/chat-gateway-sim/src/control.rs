//! The control API under `/sim/...`: everything a test or a person needs that 8x8's API
//! does not offer — acting as the agent, acting as an 8x8 web-chat customer, switching
//! faults and settings, rotating the signing key and reading the Event Log. Documented
//! in the crate's README.md. Not part of 8x8's contract.
//!
//! The request and response types are public (re-exported by
//! [`crate::control_client`]), so the typed client sends and reads exactly what these
//! handlers (de)serialize.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::agent_sessions::AgentSession;
use crate::attachments::download;
use crate::clock::now_ms;
use crate::engine::EngineError;
use crate::eventlog::LogRecord;
use crate::faults::Faults;
use crate::seed::{AgentScript, ApiKeySeed, QueueSeed};
use crate::settings::Settings;
use crate::state::Sim;
use crate::store::{
    Assignment, Attachment, Card, Channel, Conversation, Indicator, Message, Offer, Participant,
};
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
            | ControlError::Engine(EngineError::NoAgent(_))
            | ControlError::Engine(EngineError::NotTheAgent { .. }) => StatusCode::CONFLICT,
            ControlError::BadRequest(_) => StatusCode::BAD_REQUEST,
        };
        (status, Json(json!({"error": self.to_string()}))).into_response()
    }
}

type R = Result<Response, ControlError>;

/// The `{}` that actions without a result answer.
fn done() -> R {
    Ok(Json(json!({})).into_response())
}

pub fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route(
            "/sim/health",
            get(|| async {
                Json(Health {
                    status: "ok".into(),
                })
            }),
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

/// `GET /sim/health`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// `GET /sim/info`: what a client needs to talk to this emulator.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SimInfo {
    pub base_url: String,
    /// `{baseUrl}/chat-gateway/v1`, in place of `https://api.8x8.com/chat-gateway/v1`.
    pub api_base: String,
    pub customer_id: String,
    pub api_keys: Vec<ApiKeySeed>,
    pub queues: Vec<QueueSeed>,
    /// The `kid` deliveries are signed with now.
    pub current_kid: String,
    pub jwk_url: String,
}

async fn info(State(sim): State<Arc<Sim>>) -> Json<SimInfo> {
    let store = sim.lock();
    let kid = sim.keyring.current_kid();
    Json(SimInfo {
        base_url: sim.base_url.clone(),
        api_base: format!("{}/chat-gateway/v1", sim.base_url),
        customer_id: sim.seed.customer_id.clone(),
        api_keys: sim.seed.api_keys.clone(),
        queues: store.queues.clone(),
        jwk_url: format!("{}/chat-gateway/v1/jwk/{kid}/public", sim.base_url),
        current_kid: kid,
    })
}

/// The query of `GET /sim/log`: records match every field given.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LogFilter {
    /// `outbound` (webhook deliveries) or `inbound` (API calls).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    /// The event type, or `METHOD path` of an API call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_type: Option<String>,
    /// `delivered`, `failed`, `error`, `dropped`, `undeliverable`; `ok`/`error` inbound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
}

impl LogFilter {
    pub fn direction(mut self, v: impl Into<String>) -> Self {
        self.direction = Some(v.into());
        self
    }
    pub fn conversation_id(mut self, v: impl Into<String>) -> Self {
        self.conversation_id = Some(v.into());
        self
    }
    pub fn record_type(mut self, v: impl Into<String>) -> Self {
        self.record_type = Some(v.into());
        self
    }
    pub fn status(mut self, v: impl Into<String>) -> Self {
        self.status = Some(v.into());
        self
    }
    pub fn webhook_id(mut self, v: impl Into<String>) -> Self {
        self.webhook_id = Some(v.into());
        self
    }
    pub fn event_id(mut self, v: impl Into<String>) -> Self {
        self.event_id = Some(v.into());
        self
    }
}

/// The body of `GET /sim/log`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct LogRecords {
    pub records: Vec<LogRecord>,
}

async fn log(State(sim): State<Arc<Sim>>, Query(f): Query<LogFilter>) -> Json<LogRecords> {
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
    Json(LogRecords { records })
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

/// Merges the given fields into the current faults (a [`crate::faults::FaultsPatch`], or
/// any JSON object: unknown fields are ignored).
async fn patch_faults(
    State(sim): State<Arc<Sim>>,
    Json(patch): Json<Value>,
) -> Result<Json<Faults>, ControlError> {
    let mut g = sim.faults.lock().unwrap_or_else(|e| e.into_inner());
    let merged = merge(serde_json::to_value(&*g).unwrap_or_default(), patch);
    *g = serde_json::from_value(merged).map_err(|e| ControlError::BadRequest(e.to_string()))?;
    Ok(Json(g.clone()))
}

async fn get_settings(State(sim): State<Arc<Sim>>) -> Json<Settings> {
    Json(sim.settings())
}

async fn put_settings(State(sim): State<Arc<Sim>>, Json(s): Json<Settings>) -> Json<Settings> {
    *sim.settings.write().unwrap_or_else(|e| e.into_inner()) = s.clone();
    Json(s)
}

/// Merges the given fields into the current settings (a
/// [`crate::settings::SettingsPatch`], or any JSON object: unknown fields are ignored).
async fn patch_settings(
    State(sim): State<Arc<Sim>>,
    Json(patch): Json<Value>,
) -> Result<Json<Settings>, ControlError> {
    let mut g = sim.settings.write().unwrap_or_else(|e| e.into_inner());
    let merged = merge(serde_json::to_value(&*g).unwrap_or_default(), patch);
    *g = serde_json::from_value(merged).map_err(|e| ControlError::BadRequest(e.to_string()))?;
    Ok(Json(g.clone()))
}

fn merge(mut base: Value, patch: Value) -> Value {
    if let (Some(b), Value::Object(p)) = (base.as_object_mut(), patch) {
        for (k, v) in p {
            b.insert(k, v);
        }
    }
    base
}

/// The answer of `POST /sim/keys/rotate`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RotateKeyResponse {
    /// The new signing key's id; the old keys stay published.
    pub kid: String,
}

async fn rotate(State(sim): State<Arc<Sim>>) -> Result<Json<RotateKeyResponse>, ControlError> {
    let kid = sim
        .keyring
        .rotate()
        .map_err(|e| ControlError::BadRequest(e.to_string()))?;
    Ok(Json(RotateKeyResponse { kid }))
}

/// The body of `GET /sim/queues`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Queues {
    pub queues: Vec<QueueSeed>,
}

async fn queues(State(sim): State<Arc<Sim>>) -> Json<Queues> {
    Json(Queues {
        queues: sim.lock().queues.clone(),
    })
}

/// Replaces (or, with `null`, removes) a queue's scripted agent. Without one, the
/// queue's offers wait for a person (a scripted accept already on its timer is dropped,
/// see `Sim::accept`); with one, the offers already waiting go to it as new ones would.
async fn set_queue_agent(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    Json(script): Json<Option<AgentScript>>,
) -> Result<Json<QueueSeed>, ControlError> {
    let mut store = sim.lock();
    let q = store
        .queues
        .iter_mut()
        .find(|q| q.id == id)
        .ok_or_else(|| ControlError::NotFound(format!("queue {id} not found")))?;
    q.agent = script.clone();
    let queue = q.clone();
    if let Some(script) = script {
        let waiting: Vec<(String, u64)> = store
            .offers
            .iter()
            .filter(|o| o.queue_id == id)
            .filter_map(|o| store.conversations.get(&o.conversation_id))
            .map(|c| (c.id.clone(), c.epoch))
            .collect();
        drop(store);
        for (conv, epoch) in waiting {
            let script = script.clone();
            sim.after(script.accept_after_ms, move |sim| {
                let _ = sim.accept(&conv, None, Some((epoch, script)));
            });
        }
    }
    Ok(Json(queue))
}

/// The body of `GET /sim/offers`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Offers {
    pub offers: Vec<Offer>,
}

async fn offers(State(sim): State<Arc<Sim>>) -> Json<Offers> {
    Json(Offers {
        offers: sim.lock().offers.clone(),
    })
}

/// `GET /sim/conversations/{id}`: everything the emulator knows about a conversation, as
/// the agent's screen would show it (including the bot/user typing, thinking and read
/// receipts). Messages, participants and cards have the shapes of 8x8's API.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ConversationView {
    pub id: String,
    pub channel_id: String,
    /// `created`, `active` or `idle`.
    pub state: String,
    pub assignment: AssignmentView,
    pub user: Map<String, Value>,
    pub tenant: String,
    /// The agent handling it now.
    pub agent: Option<String>,
    /// Whether that agent is a scripted mock.
    pub scripted: bool,
    /// The queue a re-open goes back to (P26).
    pub last_queue: Option<String>,
    /// The webhook a post-agent handback routed it to, while the handback lasts.
    pub handback_webhook: Option<String>,
    pub post_agent_assignment: Option<PostAgentView>,
    /// `WebChat` when an 8x8 web chat started it.
    pub digital_channel: Option<String>,
    pub interactions: Vec<InteractionView>,
    pub participants: Vec<ParticipantView>,
    pub messages: Vec<MessageView>,
    /// Typing, thinking and read receipts sent by the bot/user side, oldest first.
    pub indicators: Vec<Indicator>,
    pub created_at_ms: u64,
    pub attachments: Vec<AttachmentView>,
    /// The customer typing: a user-side pulse (or the web-chat customer typing) counts for
    /// 5 s (P23), until their next message. The bot's own pulses do not count.
    pub user_typing: bool,
    /// The offer waiting for an agent, if any.
    pub offer: Option<Offer>,
    /// How many of the first `messages` came as `history` with the create request.
    #[serde(default)]
    pub history_count: usize,
    /// Every agent's part in it, oldest first: who, scripted or not, joined and left
    /// when, and how it ended (transfer to which queue, end, the customer left).
    #[serde(default)]
    pub agent_sessions: Vec<AgentSession>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AssignmentView {
    /// `queue`, `agent`, `webhook` or `script`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PostAgentView {
    pub webhook_id: String,
    pub notify_channel_webhook_if_exists: bool,
    pub max_total_minutes: Option<u64>,
    pub user_timeout_in_minutes: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InteractionView {
    pub id: String,
    pub start_ms: u64,
    pub end_ms: Option<u64>,
}

/// A participant, or a message's author, as 8x8's API shows them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ParticipantView {
    pub id: String,
    /// `user`, `bot` or `agent`.
    #[serde(rename = "type")]
    pub kind: String,
    pub removed: bool,
    pub language: String,
}

/// A message as 8x8's API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub id: String,
    /// Empty for card-only and external-provider messages.
    pub text: String,
    pub created_at: String,
    pub author: ParticipantView,
    pub attachments: Vec<AttachmentRef>,
    pub cards: Vec<CardView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_provider: Option<Value>,
    /// Beyond 8x8's shape: a scripted mock agent wrote it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub scripted: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AttachmentRef {
    pub id: String,
}

/// A card as 8x8's API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CardView {
    pub id: String,
    pub content_type: String,
    pub content: Value,
    pub action_submitted: bool,
    pub action_executed: bool,
}

/// An attachment as 8x8's API shows it, plus who sent it and its content type.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentView {
    pub id: String,
    pub filename: String,
    pub size_in_bytes: u64,
    pub created_at: String,
    pub author_type: String,
    pub content_type: String,
}

impl From<&Participant> for ParticipantView {
    fn from(p: &Participant) -> Self {
        Self {
            id: p.id.clone(),
            kind: p.kind.clone(),
            removed: p.removed,
            language: p.language.clone(),
        }
    }
}

impl From<&Card> for CardView {
    fn from(c: &Card) -> Self {
        Self {
            id: c.id.clone(),
            content_type: c.content_type.clone(),
            content: c.content.clone(),
            action_submitted: c.action_submitted,
            action_executed: c.action_executed,
        }
    }
}

impl MessageView {
    fn new(m: &Message, participants: &[Participant]) -> Self {
        let removed = participants
            .iter()
            .find(|p| p.id == m.author_id)
            .is_some_and(|p| p.removed);
        Self {
            id: m.id.clone(),
            text: m.text.clone().unwrap_or_default(),
            created_at: crate::clock::iso8601(m.created_ms),
            author: ParticipantView {
                id: m.author_id.clone(),
                kind: m.author_type.clone(),
                removed,
                language: m.language.clone(),
            },
            attachments: m
                .attachments
                .iter()
                .map(|id| AttachmentRef { id: id.clone() })
                .collect(),
            cards: m.cards.iter().map(CardView::from).collect(),
            external_provider: m.external_provider.clone(),
            scripted: m.scripted,
        }
    }
}

impl From<&Attachment> for AttachmentView {
    fn from(a: &Attachment) -> Self {
        Self {
            id: a.id.clone(),
            filename: a.filename.clone(),
            size_in_bytes: a.bytes.len() as u64,
            created_at: crate::clock::iso8601(a.created_ms),
            author_type: a.author_type.clone(),
            content_type: a.content_type.clone(),
        }
    }
}

impl ConversationView {
    fn new(c: &Conversation, offer: Option<Offer>) -> Self {
        // The customer's typing pulse (the bot's own pulses are not the customer
        // typing); the message it led to ends it.
        let typed_at = c
            .indicators
            .iter()
            .rev()
            .find(|i| i.kind == "typing" && i.author_type == "user")
            .map(|i| i.at_ms);
        let typing_until = typed_at
            .filter(|&at| {
                !c.messages
                    .iter()
                    .any(|m| m.author_type == "user" && m.created_ms >= at)
            })
            .map(|at| at + 5_000);
        Self {
            id: c.id.clone(),
            channel_id: c.channel_id.clone(),
            state: c.state.as_str().to_string(),
            assignment: AssignmentView {
                kind: c.assignment.kind.clone(),
                id: c.assignment.id.clone(),
            },
            user: c.user.clone(),
            tenant: c.tenant.clone(),
            agent: c.agent.clone(),
            scripted: c.script.is_some(),
            last_queue: c.last_queue.clone(),
            handback_webhook: c.handback.clone(),
            post_agent_assignment: c.post_agent.as_ref().map(|p| PostAgentView {
                webhook_id: p.webhook_id.clone(),
                notify_channel_webhook_if_exists: p.notify_channel_webhook,
                max_total_minutes: p.max_total_minutes,
                user_timeout_in_minutes: p.user_timeout_minutes,
            }),
            digital_channel: c.digital_channel.clone(),
            interactions: c
                .interactions
                .iter()
                .map(|i| InteractionView {
                    id: i.id.clone(),
                    start_ms: i.start_ms,
                    end_ms: i.end_ms,
                })
                .collect(),
            participants: c.participants.iter().map(ParticipantView::from).collect(),
            messages: c
                .messages
                .iter()
                .map(|m| MessageView::new(m, &c.participants))
                .collect(),
            indicators: c.indicators.clone(),
            created_at_ms: c.created_ms,
            attachments: c.attachments.iter().map(AttachmentView::from).collect(),
            // P23: a typing pulse counts for 5 s.
            user_typing: typing_until.is_some_and(|t| t > now_ms()),
            offer,
            history_count: c.history_len,
            agent_sessions: c.agent_sessions.clone(),
        }
    }
}

async fn conversation(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
) -> Result<Json<ConversationView>, ControlError> {
    let store = sim.lock();
    let c = store
        .conversations
        .get(&id)
        .ok_or_else(|| EngineError::NoConversation(id.clone()))?;
    let offer = store
        .offers
        .iter()
        .find(|o| o.conversation_id == id)
        .cloned();
    Ok(Json(ConversationView::new(c, offer)))
}

/// The body of `POST /sim/conversations/{id}/agent/accept` (optional).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct AcceptBody {
    /// Defaults to the queue's scripted agent, or a made-up id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
}

/// The answer of `POST /sim/conversations/{id}/agent/accept`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AcceptResponse {
    pub agent_id: String,
}

async fn agent_accept(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    body: Option<Json<AcceptBody>>,
) -> Result<Json<AcceptResponse>, ControlError> {
    let agent_id = sim.accept(&id, body.and_then(|b| b.0.agent_id), None)?;
    Ok(Json(AcceptResponse { agent_id }))
}

/// The body of `POST /sim/conversations/{id}/{agent|customer}/typing`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TypingBody {
    pub typing: bool,
    /// The agent typing; refused (409) when it no longer handles the conversation.
    /// Without it, the conversation's agent. The customer's typing ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
}

async fn agent_typing(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    Json(b): Json<TypingBody>,
) -> R {
    sim.agent_typing(&id, b.typing, b.agent_id.as_deref())?;
    done()
}

/// A file the agent sends (`attachments` of [`SayBody`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct FileBody {
    /// Defaults to `file.txt`.
    pub filename: String,
    /// Defaults to `text/plain`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Text content, or…
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// …base64 content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
}

impl FileBody {
    /// A file with text content.
    pub fn text(
        filename: impl Into<String>,
        content_type: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        Self {
            filename: filename.into(),
            content_type: Some(content_type.into()),
            text: Some(text.into()),
            base64: None,
        }
    }

    /// A file with any bytes (sent base64-encoded).
    pub fn bytes(
        filename: impl Into<String>,
        content_type: impl Into<String>,
        bytes: &[u8],
    ) -> Self {
        Self {
            filename: filename.into(),
            content_type: Some(content_type.into()),
            text: None,
            base64: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
        }
    }
}

/// A card the agent sends (`cards` of [`SayBody`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct CardBody {
    /// Defaults to an adaptive card.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Defaults to `{}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<Value>,
}

/// The body of `POST /sim/conversations/{id}/agent/say`: text, cards or attachments (at
/// least one).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct SayBody {
    /// The agent speaking; refused (409) when it no longer handles the conversation
    /// (it transferred or ended it, or the customer left). Without it, the
    /// conversation's agent, whoever that is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cards: Vec<CardBody>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<FileBody>,
}

impl SayBody {
    /// Just text.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            ..Self::default()
        }
    }

    /// Spoken as this agent (refused once it no longer handles the conversation).
    pub fn as_agent(mut self, agent_id: impl Into<String>) -> Self {
        self.agent_id = Some(agent_id.into());
        self
    }

    pub fn with_card(mut self, card: CardBody) -> Self {
        self.cards.push(card);
        self
    }

    pub fn with_attachment(mut self, file: FileBody) -> Self {
        self.attachments.push(file);
        self
    }
}

/// The answer of `POST /sim/conversations/{id}/agent/say`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SayResponse {
    pub message_id: String,
}

async fn agent_say(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    Json(b): Json<SayBody>,
) -> Result<Json<SayResponse>, ControlError> {
    let mut cards = Vec::new();
    for c in b.cards {
        let ct = c.content_type.unwrap_or_else(|| CARD_TYPES[0].to_string());
        cards.push((ct, c.content.unwrap_or_else(|| json!({}))));
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
    let message_id = sim.agent_say(&id, b.text, cards, files, b.agent_id.as_deref())?;
    Ok(Json(SayResponse { message_id }))
}

/// The body of `POST /sim/conversations/{id}/agent/transfer`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TransferBody {
    pub queue_id: String,
    /// The agent transferring; refused (409) when it no longer handles the conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
}

async fn agent_transfer(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    Json(b): Json<TransferBody>,
) -> R {
    sim.transfer(&id, &b.queue_id, b.agent_id.as_deref())?;
    done()
}

/// The body of `POST /sim/conversations/{id}/agent/end` (optional).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct EndBody {
    /// The agent ending; refused (409) when it no longer handles the conversation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
}

async fn agent_end(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    body: Option<Json<EndBody>>,
) -> R {
    let agent = body.and_then(|b| b.0.agent_id);
    sim.agent_end(&id, agent.as_deref())?;
    done()
}

/// The body of `POST /sim/webchat/conversations`: `webhook_id` or `channel_id` is
/// required.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct WebchatBody {
    /// The bot's webhook: a WebChat channel bound to it is created (or reused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<String>,
    /// Or an existing channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    /// Defaults to the key's first tenant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The customer; `name` and `language` get defaults.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<Map<String, Value>>,
    /// The queue the WebChat channel falls back to; defaults to the first queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<String>,
}

impl WebchatBody {
    /// A chat to the bot behind this webhook.
    pub fn webhook(webhook_id: impl Into<String>) -> Self {
        Self {
            webhook_id: Some(webhook_id.into()),
            ..Self::default()
        }
    }

    /// A chat on an existing channel.
    pub fn channel(channel_id: impl Into<String>) -> Self {
        Self {
            channel_id: Some(channel_id.into()),
            ..Self::default()
        }
    }

    pub fn with_user(mut self, user: Map<String, Value>) -> Self {
        self.user = Some(user);
        self
    }
}

/// The answer of `POST /sim/webchat/conversations`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WebchatResponse {
    pub conversation_id: String,
    pub channel_id: String,
}

/// 8x8's web chat routes a new customer to the bot first (chat-gateway.md §6.6).
async fn webchat_start(
    State(sim): State<Arc<Sim>>,
    Json(b): Json<WebchatBody>,
) -> Result<Json<WebchatResponse>, ControlError> {
    let target = match (b.channel_id, b.webhook_id) {
        (Some(ch), _) => WebchatTarget::Channel(ch),
        (None, Some(wh)) => WebchatTarget::Webhook(wh),
        (None, None) => {
            return Err(ControlError::BadRequest(
                "webhookId or channelId is required".into(),
            ))
        }
    };
    let (conversation_id, channel_id) = start_webchat(&sim, b.tenant, target, b.user, b.queue_id)?;
    Ok(Json(WebchatResponse {
        conversation_id,
        channel_id,
    }))
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

/// The body of `POST /sim/conversations/{id}/customer/say`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TextBody {
    pub text: String,
}

async fn customer_say(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    Json(b): Json<TextBody>,
) -> R {
    sim.customer_say(&id, b.text)?;
    done()
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
    // The agent sees the web-chat customer typing as they see a bot-side user pulse.
    if b.typing {
        if let Some(c) = sim.lock().conversations.get_mut(&id) {
            c.indicators.push(Indicator {
                kind: "typing".into(),
                author_type: "user".into(),
                at_ms: now_ms(),
                detail: Value::Null,
            });
            if c.indicators.len() > 100 {
                c.indicators.remove(0);
            }
        }
    }
    done()
}

/// The body of `POST /sim/conversations/{id}/customer/quick-reply`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QuickReplyBody {
    pub title: String,
    pub payload: String,
    /// The quick-replies card, marked submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
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
    done()
}

/// The body of `POST /sim/conversations/{id}/customer/submit-card`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SubmitCardBody {
    /// The adaptive card, marked submitted/executed; without it only the ACTIVITY is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    #[serde(default)]
    pub data: Value,
    /// `Action.Execute` rather than `Action.Submit`.
    #[serde(default)]
    pub execute: bool,
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
    done()
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
    done()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The view's messages, participants and attachments are built field by field; they
    /// must stay what 8x8's API shows (`to_json`), which the view promises.
    #[test]
    fn the_view_shows_what_the_api_shows() {
        let participants = vec![
            Participant {
                id: "user".into(),
                kind: "user".into(),
                removed: true,
                language: "de".into(),
            },
            Participant {
                id: "ann".into(),
                kind: "agent".into(),
                removed: false,
                language: "en".into(),
            },
        ];
        let card = Card {
            id: "c1".into(),
            content_type: CARD_TYPES[0].into(),
            content: json!({"type": "AdaptiveCard"}),
            action_submitted: true,
            action_executed: false,
        };
        let message = |author: &str, text: Option<&str>, external: Option<Value>| Message {
            id: "m1".into(),
            seq: 1,
            text: text.map(str::to_string),
            created_ms: 1_770_200_431_963,
            author_id: author.into(),
            author_type: "user".into(),
            language: "fr".into(),
            external_provider: external,
            attachments: vec!["a1".into(), "a2".into()],
            cards: vec![card.clone()],
            scripted: false,
        };
        for m in [
            message("user", Some("hi"), None),
            message(
                "nobody",
                None,
                Some(json!({"name": "X", "externalMessageId": "1"})),
            ),
        ] {
            assert_eq!(
                serde_json::to_value(MessageView::new(&m, &participants)).unwrap(),
                m.to_json(&participants)
            );
        }
        for p in &participants {
            assert_eq!(
                serde_json::to_value(ParticipantView::from(p)).unwrap(),
                p.to_json()
            );
        }
        let a = Attachment {
            id: "a1".into(),
            seq: 2,
            filename: "s.txt".into(),
            content_type: "text/plain".into(),
            bytes: bytes::Bytes::from_static(b"hello"),
            created_ms: 1_770_200_431_963,
            author_type: "agent".into(),
        };
        let mut api = a.to_json();
        api["authorType"] = json!("agent");
        api["contentType"] = json!("text/plain");
        assert_eq!(serde_json::to_value(AttachmentView::from(&a)).unwrap(), api);
    }
}
