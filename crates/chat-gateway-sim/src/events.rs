//! The webhook event bodies of Chat Gateway v1.0 (chat-gateway.md §5), built in one place so every
//! flow emits the same shapes.

use serde_json::{json, Value};

use crate::store::Conversation;

/// The verify event, byte for byte as the docs show it.
pub const WEB_HOOK_VERIFY: &str =
    r#"{"notificationVersion":"Chat Gateway v1.0","eventType":"WEB_HOOK_VERIFY"}"#;

fn envelope(event_type: &str, conversation_id: &str, ts: u64, data: Option<Value>) -> Value {
    let mut v =
        json!({"eventType": event_type, "conversationId": conversation_id, "timestamp": ts});
    if let Some(d) = data {
        v["data"] = d;
    }
    v
}

pub fn conversation_update(conv: &Conversation, ts: u64, channel_display: &str) -> Value {
    let mut data = json!({
        "state": conv.state.as_str(),
        "assignment": {"type": conv.assignment.kind, "id": conv.assignment.id},
        "user": Value::Object(conv.user.clone()),
        "channel": channel_display,
    });
    if let Some(phone) = conv
        .user
        .get("phone")
        .filter(|_| channel_display != "ChatAPI")
    {
        data["msisdn"] = phone.clone();
    }
    envelope("CONVERSATION_UPDATE", &conv.id, ts, Some(data))
}

pub fn queued(conversation_id: &str, ts: u64, queue_id: &str, queue_name: &str) -> Value {
    envelope(
        "QUEUED",
        conversation_id,
        ts,
        Some(json!({"queueId": queue_id, "queueName": queue_name})),
    )
}

pub fn members_changed(
    conversation_id: &str,
    ts: u64,
    member_type: &str,
    change: &str,
    id: &str,
) -> Value {
    envelope(
        "MEMBERS_CHANGED",
        conversation_id,
        ts,
        Some(json!({"memberType": member_type, "change": change, "id": id})),
    )
}

pub struct MessageEvent<'a> {
    pub is_echo: bool,
    pub sender_type: &'a str,
    pub sender_id: &'a str,
    pub text: Option<&'a str>,
    pub attachments: Vec<Value>,
    pub cards: Vec<Value>,
}

pub fn message(conversation_id: &str, ts: u64, m: MessageEvent<'_>) -> Value {
    let mut data = json!({
        "isEcho": m.is_echo,
        "sender": {"id": m.sender_id, "type": m.sender_type},
    });
    if let Some(t) = m.text {
        data["text"] = json!(t);
    }
    if !m.attachments.is_empty() {
        data["attachments"] = json!(m.attachments);
    }
    if !m.cards.is_empty() {
        data["cards"] = json!(m.cards);
    }
    envelope("MESSAGE", conversation_id, ts, Some(data))
}

pub fn typing(conversation_id: &str, ts: u64, users: Vec<(&str, &str)>) -> Value {
    let users: Vec<Value> = users
        .into_iter()
        .map(|(kind, id)| json!({"type": kind, "id": id}))
        .collect();
    activity(conversation_id, ts, "typing", json!({"users": users}))
}

pub fn activity(conversation_id: &str, ts: u64, name: &str, value: Value) -> Value {
    envelope(
        "ACTIVITY",
        conversation_id,
        ts,
        Some(json!({"name": name, "value": value})),
    )
}

pub fn transfer(conversation_id: &str, ts: u64) -> Value {
    envelope("TRANSFER", conversation_id, ts, None)
}
