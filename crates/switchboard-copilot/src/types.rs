//! What the workspace page receives, as JSON (camelCase) and as TypeScript (ts-rs).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use chat_gateway_client::types::KeyValue;
pub use switchboard_types::{Lane, Mode, Phase};

/// Everything the agent's page shows for one conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    pub conversation: WorkspaceConversation,
    pub identity: WorkspaceIdentity,
    pub transcript: Vec<WorkspaceLine>,
    pub summary: WorkspaceSummary,
    /// `None` where the sentiment analysis does not apply (a language it does not cover,
    /// or no customer message yet); `sentiment_note` says why.
    pub sentiment: Option<WorkspaceSentiment>,
    /// Why there is no sentiment, in the agent's words; `None` when there is one.
    pub sentiment_note: Option<String>,
    /// The flow's answers that fit the customer's last message, best first (at most 3).
    pub suggestions: Vec<Suggestion>,
    /// Set when a language model wrote part of the page (see [`ModelNote`]).
    pub model: Option<ModelNote>,
    pub generated_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceConversation {
    pub id: String,
    pub mode: Mode,
    pub phase: Phase,
    /// The customer's channel as the conversation knows it (e.g. "webchat"), else 8x8's
    /// channel id.
    pub channel: Option<String>,
    /// The customer's language as given (e.g. "en-GB").
    pub language: Option<String>,
    pub queue_id: Option<String>,
    pub queue_name: Option<String>,
    pub agent_id: Option<String>,
    pub created_at_ms: i64,
    pub queued_at_ms: Option<i64>,
    pub agent_joined_at_ms: Option<i64>,
    pub ended_at_ms: Option<i64>,
}

/// The customer as 8x8's agent was told about them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceIdentity {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub user_id: Option<String>,
    pub company: Option<String>,
    pub case_id: Option<String>,
    /// Exactly the `additionalProperties` sent to 8x8, in order.
    pub properties: Vec<KeyValue>,
}

/// One line of the transcript as the agent reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceLine {
    pub lane: Lane,
    pub text: String,
    pub at_ms: i64,
    /// Part of the bot history sent to 8x8 with the handover.
    pub history: bool,
}

/// What the customer wanted, readable in five seconds. Taken from the transcript only:
/// nothing here is made up.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceSummary {
    /// The customer's first substantive message (or the one before the handover), trimmed.
    pub wanted: Option<String>,
    /// The flow's rules that answered, in order ("billing", "rule at line 12", "fallback",
    /// "greeting", "handover").
    pub rules_hit: Vec<String>,
    pub handover_reason: Option<String>,
    /// Order numbers, invoices, emails, phone numbers and amounts the customer wrote.
    pub entities: Vec<WorkspaceEntity>,
    /// From the first line to the handover (or now, while still with the bot).
    pub bot_seconds: Option<u64>,
    /// From queued to the agent joining (or now, while waiting).
    pub queue_seconds: Option<u64>,
    /// Whether a language model wrote a summary too (in [`Workspace::model`]).
    pub model_written: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceEntity {
    pub kind: EntityKind,
    /// As written by the customer (phone numbers in E.164 when they parse as one).
    pub value: String,
    /// The transcript line it was found on.
    pub line_at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum EntityKind {
    Order,
    Invoice,
    Email,
    Phone,
    Amount,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceSentiment {
    /// The language the analysis covers ("en"): the page says so.
    pub language: String,
    /// Each customer message, in order.
    pub messages: Vec<SentimentMessage>,
    pub trend: SentimentTrend,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SentimentMessage {
    pub at_ms: i64,
    pub text: String,
    /// VADER's compound score, -1 (most negative) to 1 (most positive).
    pub compound: f64,
    pub label: SentimentLabel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum SentimentLabel {
    Positive,
    Neutral,
    Negative,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum SentimentTrend {
    Improving,
    Steady,
    Worsening,
}

/// An answer the agent may copy into 8x8.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Suggestion {
    /// The rule's name, or "rule at line N".
    pub title: String,
    /// The reply text to copy.
    pub text: String,
    /// Higher is better; only the order is meaningful.
    pub score: f64,
    /// Where it comes from, e.g. "flow rule billing" or "language model gpt-4o-mini".
    pub source: String,
    /// Written by the language model rather than taken from the flow.
    pub model_written: bool,
}

/// Which parts a language model wrote, and what it said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ModelNote {
    /// The model's name as configured.
    pub model: String,
    /// Its summary of the conversation.
    pub summary: String,
    /// The parts it wrote: "summary", "suggestions".
    pub parts: Vec<String>,
    pub written_at_ms: i64,
}

/// One answer of a knowledge search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct KnowledgeHit {
    pub title: String,
    pub text: String,
    /// Where it comes from: "flow rule opening_hours", "knowledge file § Returns",
    /// "knowledge file, question 3".
    pub source: String,
    pub score: f64,
}
