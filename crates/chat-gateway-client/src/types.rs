//! Request and response bodies of the Chat Gateway operations the relay and the setup
//! helpers use, named and shaped as in 8x8's OpenAPI document. Optional fields are left
//! out when unset (8x8 validates what is sent, not what is absent); responses ignore
//! unknown fields and tolerate missing ones, since 8x8's enums and objects may grow.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

/// The webhook format this relay understands (chat-gateway.md §3.1).
pub const CHAT_GATEWAY_V1: &str = "Chat Gateway v1.0";

/// `WebHookV2CreateRequest` / `WebHookV2PutRequest`. Both `version` and
/// `notificationVersion` are sent because the schema requires the one it does not
/// define (P1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookRequest {
    pub name: String,
    pub uri: String,
    pub version: String,
    pub notification_version: String,
}

impl WebhookRequest {
    pub fn new(name: impl Into<String>, uri: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            uri: uri.into(),
            version: CHAT_GATEWAY_V1.into(),
            notification_version: CHAT_GATEWAY_V1.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookVerifyRequest {
    pub version: String,
    pub uri: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct Webhook {
    pub id: String,
    pub name: String,
    pub uri: String,
    pub version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Channel {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub web_hook_id: Option<String>,
    pub routing_options: Option<RoutingOptions>,
}

/// `ChannelV2CreateRequest`: binds a webhook to a default queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelRequest {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub web_hook_id: String,
    pub routing_options: RoutingOptions,
}

impl ChannelRequest {
    pub fn chat_api(
        name: impl Into<String>,
        webhook_id: impl Into<String>,
        queue_id: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            kind: "ChatAPI".into(),
            web_hook_id: webhook_id.into(),
            routing_options: RoutingOptions {
                kind: "queue".into(),
                id: queue_id.into(),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RoutingOptions {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// `{type: queue|script, id}`; responses may also say `agent` (and more, extensible).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Assignment {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

impl Assignment {
    pub fn queue(id: impl Into<String>) -> Self {
        Self {
            kind: "queue".into(),
            id: id.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

/// `ConversationUserData` (chat-gateway.md §4.1): what the agent sees about the customer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(optional_fields)]
pub struct ConversationUser {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// At most 30 (P18); the only custom data agents surely see.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<KeyValue>>")]
    pub additional_properties: Vec<KeyValue>,
}

/// A message as `POST …/messages` and `history.messages[]` take it (chat-gateway.md §4.3).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(optional_fields)]
pub struct SendMessage {
    /// `user` or `bot`.
    pub author_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<AttachmentRef>>")]
    pub attachments: Vec<AttachmentRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<Value>>")]
    pub cards: Vec<Value>,
}

impl SendMessage {
    pub fn text(author_type: &str, text: impl Into<String>) -> Self {
        Self {
            author_type: author_type.into(),
            text: Some(text.into()),
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
pub struct AttachmentRef {
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
pub struct History {
    pub messages: Vec<SendMessage>,
}

/// `CreateTransactionRequest`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CreateConversation {
    pub channel_id: String,
    pub user: ConversationUser,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub assignment: Option<Assignment>,
    /// At most 200 messages (P18).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub history: Option<History>,
}

/// The 202 answer of a create: `conversationId`, not `id` (P9).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CreatedConversation {
    pub conversation_id: String,
    pub created_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Conversation {
    pub id: String,
    pub channel_id: Option<String>,
    /// `created`, `active`, `idle`; compare case-insensitively (P8).
    pub state: Option<String>,
    pub assignment: Option<Assignment>,
    pub user: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Interaction {
    pub id: String,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
}

/// `MessageResult`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Message {
    pub id: String,
    pub text: Option<String>,
    pub created_at: Option<String>,
    pub author: Option<Author>,
    pub attachments: Vec<AttachmentRef>,
    pub cards: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Author {
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub removed: Option<bool>,
    pub language: Option<String>,
}

/// `AttachmentResult`: `sizeInBytes`, whatever `required` says (P21).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Attachment {
    pub id: String,
    pub filename: Option<String>,
    pub size_in_bytes: Option<u64>,
    pub created_at: Option<String>,
}

/// A downloaded attachment's bytes and how 8x8 labelled them.
#[derive(Debug, Clone, PartialEq)]
pub struct AttachmentContent {
    pub bytes: bytes::Bytes,
    pub content_type: Option<String>,
    pub content_disposition: Option<String>,
}

/// `POST …/post-agent-assignment`: hand the conversation back to a webhook (the bot)
/// after the agent. `notifyChannelWebhookIfExists` is a string in the schema (P22).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostAgentAssignment {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration: Option<PostAgentConfiguration>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostAgentConfiguration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify_channel_webhook_if_exists: Option<String>,
    /// 20–600.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_total_minutes: Option<u32>,
    /// 10–300.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_timeout_in_minutes: Option<u32>,
}

/// One page of a list, with 8x8's page counters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub number: u32,
    pub size: u32,
    pub total_elements: u64,
    pub total_pages: u32,
}

impl<T> Page<T> {
    /// 8x8's loop condition (chat-gateway.md §1.6).
    pub fn has_next(&self) -> bool {
        self.number + 1 < self.total_pages
    }
}

/// `size`, `page`, `sort` of list calls; `None` leaves 8x8's default.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageQuery {
    pub size: Option<u32>,
    pub page: Option<u32>,
    pub sort: Option<String>,
}

impl PageQuery {
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(s) = self.size {
            q.push(("size", s.to_string()));
        }
        if let Some(p) = self.page {
            q.push(("page", p.to_string()));
        }
        if let Some(s) = &self.sort {
            q.push(("sort", s.clone()));
        }
        q
    }
}
