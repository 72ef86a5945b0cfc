//! The emulator's in-memory state: what 8x8 would keep in its databases. Plain data;
//! the rules live in the engine and the handlers. One mutex guards it all, which keeps
//! every change and the events it causes in one order.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use serde_json::{json, Map, Value};

use crate::agent_sessions::AgentSession;
use crate::clock::iso8601;
use crate::seed::{AgentScript, QueueSeed};

#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub uri: String,
    pub version: String,
    pub seq: u64,
}

impl Webhook {
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "name": self.name, "uri": self.uri, "version": self.version})
    }
}

#[derive(Debug, Clone)]
pub struct Channel {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub kind: String,
    pub webhook_id: String,
    pub queue_id: String,
    pub seq: u64,
}

impl Channel {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "type": self.kind,
            "webHookId": self.webhook_id,
            "routingOptions": {"type": "queue", "id": self.queue_id},
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvState {
    Created,
    Active,
    Idle,
}

impl ConvState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConvState::Created => "created",
            ConvState::Active => "active",
            ConvState::Idle => "idle",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub kind: String,
    pub id: String,
}

#[derive(Debug, Clone)]
pub struct Interaction {
    pub id: String,
    pub start_ms: u64,
    pub end_ms: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Participant {
    pub id: String,
    pub kind: String,
    pub removed: bool,
    pub language: String,
}

impl Participant {
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "type": self.kind, "removed": self.removed, "language": self.language})
    }
}

#[derive(Debug, Clone)]
pub struct Card {
    pub id: String,
    pub content_type: String,
    pub content: Value,
    pub action_submitted: bool,
    pub action_executed: bool,
}

impl Card {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "contentType": self.content_type,
            "content": self.content,
            "actionSubmitted": self.action_submitted,
            "actionExecuted": self.action_executed,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Message {
    pub id: String,
    pub seq: u64,
    pub text: Option<String>,
    pub created_ms: u64,
    pub author_id: String,
    pub author_type: String,
    pub language: String,
    pub external_provider: Option<Value>,
    pub attachments: Vec<String>,
    pub cards: Vec<Card>,
    /// Written by a scripted mock agent (not part of 8x8's shape; the agent side's view
    /// tells a queue's script from a person).
    pub scripted: bool,
}

impl Message {
    pub fn to_json(&self, participants: &[Participant]) -> Value {
        let removed = participants
            .iter()
            .find(|p| p.id == self.author_id)
            .map(|p| p.removed)
            .unwrap_or(false);
        let mut m = json!({
            "id": self.id,
            // MessageResult requires `text`; card-only and external-provider messages
            // carry an empty one.
            "text": self.text.clone().unwrap_or_default(),
            "createdAt": iso8601(self.created_ms),
            "author": {"id": self.author_id, "type": self.author_type, "removed": removed, "language": self.language},
            "attachments": self.attachments.iter().map(|a| json!({"id": a})).collect::<Vec<_>>(),
            "cards": self.cards.iter().map(Card::to_json).collect::<Vec<_>>(),
        });
        if let Some(p) = &self.external_provider {
            m["externalProvider"] = p.clone();
        }
        m
    }
}

#[derive(Debug, Clone)]
pub struct Attachment {
    pub id: String,
    pub seq: u64,
    pub filename: String,
    pub content_type: String,
    pub bytes: Bytes,
    pub created_ms: u64,
    pub author_type: String,
}

impl Attachment {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "filename": self.filename,
            "sizeInBytes": self.bytes.len(),
            "createdAt": iso8601(self.created_ms),
        })
    }

    /// The attachment kind of MESSAGE events: image, video, audio or file.
    pub fn kind(&self) -> &'static str {
        let ct = self.content_type.to_ascii_lowercase();
        if ct.starts_with("image/") {
            "image"
        } else if ct.starts_with("video/") {
            "video"
        } else if ct.starts_with("audio/") {
            "audio"
        } else {
            "file"
        }
    }
}

#[derive(Debug, Clone)]
pub struct PostAgent {
    pub webhook_id: String,
    pub notify_channel_webhook: bool,
    pub max_total_minutes: Option<u64>,
    pub user_timeout_minutes: Option<u64>,
}

/// A transient indicator (typing, thinking, read receipt) sent by the bot/user side,
/// kept so the agent side of the control API can show it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Indicator {
    pub kind: String,
    pub author_type: String,
    pub at_ms: u64,
    pub detail: Value,
}

#[derive(Debug, Clone)]
pub struct Conversation {
    pub id: String,
    pub tenant: String,
    pub channel_id: String,
    pub state: ConvState,
    pub assignment: Assignment,
    pub user: Map<String, Value>,
    pub created_ms: u64,
    pub seq: u64,
    pub interactions: Vec<Interaction>,
    pub participants: Vec<Participant>,
    pub messages: Vec<Message>,
    pub attachments: Vec<Attachment>,
    /// The queue a re-open goes back to (P26).
    pub last_queue: Option<String>,
    /// The agent handling it now.
    pub agent: Option<String>,
    /// The scripted agent handling it, if the agent is a mock.
    pub script: Option<AgentScript>,
    pub reply_index: usize,
    pub post_agent: Option<PostAgent>,
    /// The webhook a post-agent handback routed it to, while the handback lasts.
    pub handback: Option<String>,
    /// Set when an 8x8 digital channel (web chat) started it: the `data.channel` value.
    pub digital_channel: Option<String>,
    /// Bumped by every routing change so that timers of an earlier routing do nothing.
    pub epoch: u64,
    pub handback_epoch: u64,
    /// Whether the agent is shown typing, and which typing start that was.
    pub agent_typing: bool,
    pub typing_seq: u64,
    pub indicators: Vec<Indicator>,
    /// How many of the first messages came as `history` with the create request.
    pub history_len: usize,
    /// Every agent's part in it, oldest first.
    pub agent_sessions: Vec<AgentSession>,
}

impl Conversation {
    pub fn language(&self) -> String {
        self.user
            .get("language")
            .and_then(Value::as_str)
            .unwrap_or("en")
            .to_string()
    }

    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "channelId": self.channel_id,
            "state": self.state.as_str(),
            "assignment": {"type": self.assignment.kind, "id": self.assignment.id},
            "user": Value::Object(self.user.clone()),
        })
    }

    pub fn current_interaction(&self) -> Option<&Interaction> {
        self.interactions.last().filter(|i| i.end_ms.is_none())
    }

    pub fn participant_mut(&mut self, id: &str, kind: &str) -> &mut Participant {
        if let Some(i) = self.participants.iter().position(|p| p.id == id) {
            return &mut self.participants[i];
        }
        let language = self.language();
        self.participants.push(Participant {
            id: id.into(),
            kind: kind.into(),
            removed: false,
            language,
        });
        self.participants.last_mut().expect("just pushed")
    }

    pub fn user_removed(&self) -> bool {
        self.participants
            .iter()
            .any(|p| p.kind == "user" && p.removed)
    }
}

/// An interaction waiting in a queue for an agent.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    pub conversation_id: String,
    pub tenant: String,
    pub queue_id: String,
    pub queue_name: String,
    pub interaction_id: String,
    pub offered_at_ms: u64,
}

#[derive(Debug, Default)]
pub struct Store {
    pub seq: u64,
    pub next_numeric_id: u64,
    pub webhooks: BTreeMap<String, Webhook>,
    pub channels: BTreeMap<String, Channel>,
    pub conversations: HashMap<String, Conversation>,
    pub queues: Vec<QueueSeed>,
    pub offers: Vec<Offer>,
    /// Agents' states, schedules and queue counters (contact_center.rs).
    pub cc: crate::contact_center::ContactCenter,
}

impl Store {
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Webhook and channel ids look like 8x8's: small decimal numbers.
    pub fn next_numeric_id(&mut self) -> String {
        loop {
            self.next_numeric_id += 1;
            let id = self.next_numeric_id.to_string();
            if !self.webhooks.contains_key(&id) && !self.channels.contains_key(&id) {
                return id;
            }
        }
    }

    pub fn queue(&self, tenant: &str, id: &str) -> Option<&QueueSeed> {
        self.queues
            .iter()
            .find(|q| q.id == id && q.tenant.as_deref().is_none_or(|t| t == tenant))
    }

    pub fn webhook(&self, tenant: &str, id: &str) -> Option<&Webhook> {
        self.webhooks.get(id).filter(|w| w.tenant == tenant)
    }

    pub fn channel(&self, tenant: &str, id: &str) -> Option<&Channel> {
        self.channels.get(id).filter(|c| c.tenant == tenant)
    }

    pub fn conversation(&self, tenant: &str, id: &str) -> Option<&Conversation> {
        self.conversations.get(id).filter(|c| c.tenant == tenant)
    }

    pub fn conversation_mut(&mut self, tenant: &str, id: &str) -> Option<&mut Conversation> {
        self.conversations
            .get_mut(id)
            .filter(|c| c.tenant == tenant)
    }
}
