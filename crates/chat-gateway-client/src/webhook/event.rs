//! 8x8's webhook events (chat-gateway.md §5) as types, so the conversation engine matches on
//! variants instead of digging in JSON. Unknown fields are ignored and the raw `data`
//! is kept beside the typed view, because 8x8 may add fields and enum values.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEvent {
    pub event_type: String,
    pub conversation_id: Option<String>,
    /// When the event happened (epoch ms), not when it was sent.
    pub timestamp: Option<i64>,
    pub kind: EventKind,
    /// `data` exactly as received.
    pub data: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum EventKind {
    ConversationUpdate(ConversationUpdate),
    Queued(Queued),
    MembersChanged(MembersChanged),
    Message(Message),
    Activity(Activity),
    Transfer,
    WebhookVerify,
    /// A type this build does not know, or a legacy Chat API v2 event (P29).
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConversationUpdate {
    /// `created`, `active`, `idle` — compare case-insensitively (P8).
    #[serde(deserialize_with = "lenient")]
    pub state: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub assignment: Option<Assignment>,
    pub user: Option<Value>,
    #[serde(deserialize_with = "lenient")]
    pub msisdn: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub channel: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Assignment {
    #[serde(rename = "type", deserialize_with = "lenient")]
    pub kind: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub resource_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Queued {
    #[serde(deserialize_with = "lenient")]
    pub queue_id: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub queue_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MembersChanged {
    #[serde(deserialize_with = "lenient")]
    pub member_type: Option<Participant>,
    #[serde(deserialize_with = "lenient")]
    pub change: Option<MemberChange>,
    #[serde(deserialize_with = "lenient")]
    pub id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Message {
    /// Our own post coming back: a relay must drop it or loop (P5, P6).
    #[serde(deserialize_with = "lenient")]
    pub is_echo: bool,
    #[serde(deserialize_with = "lenient")]
    pub sender: Option<Sender>,
    #[serde(deserialize_with = "lenient")]
    pub text: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub attachments: Vec<Value>,
    #[serde(deserialize_with = "lenient")]
    pub cards: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Sender {
    #[serde(deserialize_with = "lenient")]
    pub id: Option<String>,
    #[serde(rename = "type", deserialize_with = "lenient")]
    pub kind: Option<Participant>,
}

/// Who takes part in a conversation: a member that joins or leaves, or a message's sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Participant {
    User,
    Agent,
    Bot,
    System,
    /// A value this build does not know (8x8 may add some).
    #[default]
    #[serde(other)]
    Other,
}

/// What happened to a member (`MEMBERS_CHANGED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MemberChange {
    Joined,
    Left,
    /// A value this build does not know.
    #[default]
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Activity {
    /// `typing`, `adaptiveCard/action`, `quickReply/action`, `read-receipts`, …
    #[serde(deserialize_with = "lenient")]
    pub name: String,
    pub value: Value,
}

/// A wrong shape inside `data` leaves the typed view empty rather than failing the
/// event; `data` still has everything.
fn typed<T: serde::de::DeserializeOwned + Default>(data: &Value) -> T {
    serde_json::from_value(data.clone()).unwrap_or_default()
}

/// One field of the typed view: a value of another shape (or null) reads as the field's
/// default, so that one odd field does not blank the others. Read whole, a customer's
/// message whose `attachments` came as null lost its text and sender, and an echo (from
/// an inspector replay, which reaches the engine without the receiver) its `isEcho`.
fn lenient<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned + Default,
{
    let value = Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).unwrap_or_default())
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("the body is not a JSON object with an eventType")]
    NoEventType,
}

impl WebhookEvent {
    pub fn parse(body: &[u8]) -> Result<Self, EventError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| EventError::NotJson(e.to_string()))?;
        Self::from_value(value)
    }

    pub fn from_value(mut value: Value) -> Result<Self, EventError> {
        let event_type = value
            .get("eventType")
            .and_then(Value::as_str)
            .ok_or(EventError::NoEventType)?
            .to_string();
        let conversation_id = value
            .get("conversationId")
            .and_then(Value::as_str)
            .map(str::to_string);
        let timestamp = value.get("timestamp").and_then(Value::as_i64);
        let data = value
            .get_mut("data")
            .map(Value::take)
            .unwrap_or(Value::Null);
        let legacy = is_legacy(&value);
        let kind = match event_type.as_str() {
            _ if legacy => EventKind::Unknown,
            "CONVERSATION_UPDATE" => EventKind::ConversationUpdate(typed(&data)),
            "QUEUED" => EventKind::Queued(typed(&data)),
            "MEMBERS_CHANGED" => EventKind::MembersChanged(typed(&data)),
            "MESSAGE" => EventKind::Message(typed(&data)),
            "ACTIVITY" => EventKind::Activity(typed(&data)),
            "TRANSFER" => EventKind::Transfer,
            "WEB_HOOK_VERIFY" => EventKind::WebhookVerify,
            _ => EventKind::Unknown,
        };
        Ok(Self {
            event_type,
            conversation_id,
            timestamp,
            kind,
            data,
        })
    }

    /// Whether the conversation engine has anything to do with it.
    pub fn is_processable(&self) -> bool {
        !matches!(self.kind, EventKind::WebhookVerify | EventKind::Unknown)
    }

    /// [`WebhookEvent::is_processable`] from the type and the raw body, without building
    /// the typed event (the receiver's hot path).
    pub fn is_processable_type(event_type: &str, body: &Value) -> bool {
        !is_legacy(body) && PROCESSABLE.contains(&event_type)
    }
}

const PROCESSABLE: [&str; 6] = [
    "CONVERSATION_UPDATE",
    "QUEUED",
    "MEMBERS_CHANGED",
    "MESSAGE",
    "ACTIVITY",
    "TRANSFER",
];

/// Legacy v2 events are flat and carry `messageType`; a v1.0 webhook never gets them.
fn is_legacy(body: &Value) -> bool {
    body.get("messageType").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_examples() {
        let e = WebhookEvent::parse(br#"{"eventType":"MESSAGE","conversationId":"ID-0","timestamp":1713100000000,"data":{"isEcho":false,"sender":{"id":"a1","type":"agent"},"text":"Hello","extra":1}}"#).unwrap();
        assert_eq!(e.conversation_id.as_deref(), Some("ID-0"));
        let EventKind::Message(m) = &e.kind else {
            panic!("{e:?}")
        };
        assert_eq!(m.text.as_deref(), Some("Hello"));
        assert_eq!(m.sender.as_ref().unwrap().kind, Some(Participant::Agent));
        assert!(e.is_processable());

        let e = WebhookEvent::parse(
            br#"{"eventType":"TRANSFER","conversationId":"ID-0","timestamp":1}"#,
        )
        .unwrap();
        assert_eq!(e.kind, EventKind::Transfer);

        let e = WebhookEvent::parse(br#"{"eventType":"ACTIVITY","conversationId":"c","data":{"name":"typing","value":{"users":[]}}}"#).unwrap();
        assert!(matches!(&e.kind, EventKind::Activity(a) if a.name == "typing"));
    }

    #[test]
    fn legacy_unknown_and_verify_are_not_processed() {
        let legacy = WebhookEvent::parse(
            br#"{"eventType":"QUEUED","messageType":"SYSTEM","conversationId":"c","queueId":"1"}"#,
        )
        .unwrap();
        assert_eq!(legacy.kind, EventKind::Unknown);
        let new =
            WebhookEvent::parse(br#"{"eventType":"SOMETHING_NEW","conversationId":"c"}"#).unwrap();
        assert!(!new.is_processable());
        let verify = WebhookEvent::parse(
            br#"{"notificationVersion":"Chat Gateway v1.0","eventType":"WEB_HOOK_VERIFY"}"#,
        )
        .unwrap();
        assert_eq!(verify.kind, EventKind::WebhookVerify);
        assert!(WebhookEvent::parse(b"[1]").is_err());
        assert!(WebhookEvent::parse(b"nope").is_err());
    }

    /// Found with the webhook fuzz target's check that a field of the expected shape
    /// survives odd shapes in the others.
    #[test]
    fn one_odd_field_does_not_blank_the_others() {
        let e = WebhookEvent::parse(br#"{"eventType":"MESSAGE","conversationId":"c","data":{"isEcho":true,"sender":{"id":"bot","type":"bot"},"text":"Hi","attachments":null,"cards":{}}}"#).unwrap();
        let EventKind::Message(m) = &e.kind else {
            panic!("{e:?}")
        };
        assert!(m.is_echo);
        assert_eq!(m.text.as_deref(), Some("Hi"));
        assert_eq!(m.sender.as_ref().unwrap().kind, Some(Participant::Bot));
        assert!(m.attachments.is_empty() && m.cards.is_empty());

        let e = WebhookEvent::parse(br#"{"eventType":"MESSAGE","conversationId":"c","data":{"isEcho":true,"text":5,"sender":{"id":7,"type":"user"}}}"#).unwrap();
        let EventKind::Message(m) = &e.kind else {
            panic!("{e:?}")
        };
        assert!(m.is_echo);
        assert_eq!(m.text, None);
        assert_eq!(m.sender.as_ref().unwrap().kind, Some(Participant::User));

        let e = WebhookEvent::parse(br#"{"eventType":"CONVERSATION_UPDATE","conversationId":"c","data":{"state":"active","assignment":{"type":"queue","id":101},"msisdn":false}}"#).unwrap();
        let EventKind::ConversationUpdate(c) = &e.kind else {
            panic!("{e:?}")
        };
        assert_eq!(c.state.as_deref(), Some("active"));
        let assignment = c.assignment.as_ref().unwrap();
        assert_eq!(
            (assignment.kind.as_deref(), assignment.id.as_deref()),
            (Some("queue"), None)
        );
    }

    #[test]
    fn wrong_shapes_in_data_do_not_fail_the_event() {
        let e = WebhookEvent::parse(
            br#"{"eventType":"QUEUED","conversationId":"c","data":{"queueId":7}}"#,
        )
        .unwrap();
        assert_eq!(e.kind, EventKind::Queued(Queued::default()));
        assert_eq!(e.data["queueId"], 7);
    }
}
