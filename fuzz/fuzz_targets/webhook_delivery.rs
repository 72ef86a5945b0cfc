//! A webhook request as the receiver reads it: content type, body, event type and
//! conversation, the `x-8x8-*` headers, the headers the inspector stores, and the typed
//! event the conversation engine later builds from the same body.
//!
//! Beyond "never panics": the receiver's quick "is this processable" decision agrees with
//! the engine's typed parse (a queued event must parse), a field of the expected shape
//! survives odd shapes in the others, and the stored headers never include one that may
//! carry a credential.

#![no_main]

use chat_gateway_client::webhook::{
    request::{headers_json, read_request},
    signature::{self, DeliveryHeaders, DEFAULT_FRESHNESS_WINDOW_MS},
    EventKind, WebhookEvent,
};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use switchboard_fuzz::{request, NOW_MS};

/// What `headers_json` must leave out (a proxy's credentials).
const NEVER_STORED: [&str; 4] = [
    "authorization",
    "cookie",
    "proxy-authorization",
    "x-api-key",
];

fuzz_target!(|data: &[u8]| {
    let req = request::read(data);

    let read = read_request(&req.headers, req.body);
    if !read.is_json {
        assert!(read.parsed.is_err(), "only a JSON content type is parsed");
    }
    if let Ok(value) = &read.parsed {
        assert_eq!(
            read.event_type.as_deref(),
            value.get("eventType").and_then(Value::as_str)
        );
        check_typed_event(value, read.event_type.as_deref(), req.body);
    }

    let stored: Value =
        serde_json::from_str(&headers_json(&req.headers)).expect("the stored headers are JSON");
    let stored = stored
        .as_object()
        .expect("the stored headers are an object");
    for name in NEVER_STORED {
        assert!(!stored.contains_key(name), "{name} was stored");
    }
    for (name, _) in &req.headers {
        let kept = !NEVER_STORED.contains(&name.as_str());
        assert_eq!(stored.contains_key(name.as_str()), kept, "{name}");
    }

    if let Some(eid) = signature::event_id(&req.headers) {
        assert!(!eid.is_empty());
    }
    if let Ok(h) = DeliveryHeaders::from_headers(&req.headers) {
        let _ = h.check_fresh(NOW_MS, DEFAULT_FRESHNESS_WINDOW_MS);
    }
});

/// The engine's view of a body the receiver accepted as JSON.
fn check_typed_event(value: &Value, event_type: Option<&str>, body: &[u8]) {
    let typed = WebhookEvent::parse(body);
    match (event_type, &typed) {
        (Some(t), Ok(event)) => {
            assert_eq!(event.event_type, t);
            assert_eq!(
                event.is_processable(),
                WebhookEvent::is_processable_type(t, value),
                "the receiver and the engine disagree about {t:?}"
            );
            assert_eq!(
                event.conversation_id.as_deref(),
                value.get("conversationId").and_then(Value::as_str)
            );
            // The inspector and the live UI serialize events; that must not fail.
            serde_json::to_string(event).expect("a typed event serializes");
            check_fields_survive(event);
        }
        (Some(t), Err(e)) => panic!("the receiver read type {t:?} but the engine says {e}"),
        (None, Ok(event)) => panic!("the engine read a type the receiver did not: {event:?}"),
        (None, Err(_)) => {}
    }
    assert_eq!(
        WebhookEvent::from_value(value.clone()).ok(),
        typed.ok(),
        "parse and from_value differ"
    );
}

/// 8x8 may add fields or send one in a shape this build does not expect: each field of
/// the typed view that has the expected shape in `data` is read, whatever the others
/// hold. (An echo whose other fields are odd must still be an echo, or the bot answers
/// itself.)
fn check_fields_survive(event: &WebhookEvent) {
    let data = &event.data;
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    // A string field read as one of the protocol's enums: its value, or `Other` for a
    // value this build does not know.
    fn as_enum<T: serde::de::DeserializeOwned + Default>(text: Option<String>) -> Option<T> {
        text.map(|t| serde_json::from_value(Value::String(t)).unwrap_or_default())
    }
    match &event.kind {
        EventKind::Message(m) => {
            let is_echo = data.get("isEcho").and_then(Value::as_bool).unwrap_or(false);
            assert_eq!(m.is_echo, is_echo, "isEcho was lost");
            assert_eq!(m.text, text(data, "text"), "text was lost");
            if let Some(sender) = data.get("sender").filter(|s| s.is_object()) {
                let typed = m.sender.as_ref().expect("the sender was lost");
                assert_eq!(
                    typed.kind,
                    as_enum(text(sender, "type")),
                    "sender.type was lost"
                );
                assert_eq!(typed.id, text(sender, "id"), "sender.id was lost");
            }
            if let Some(items) = data.get("attachments").and_then(Value::as_array) {
                assert_eq!(&m.attachments, items, "attachments were lost");
            }
        }
        EventKind::ConversationUpdate(c) => {
            assert_eq!(c.state, text(data, "state"), "state was lost");
            assert_eq!(c.channel, text(data, "channel"), "channel was lost");
            if let Some(assignment) = data.get("assignment").filter(|a| a.is_object()) {
                let typed = c.assignment.as_ref().expect("the assignment was lost");
                assert_eq!(
                    typed.kind,
                    text(assignment, "type"),
                    "assignment.type was lost"
                );
                assert_eq!(typed.id, text(assignment, "id"), "assignment.id was lost");
            }
        }
        EventKind::Queued(q) => {
            assert_eq!(q.queue_id, text(data, "queueId"), "queueId was lost");
        }
        EventKind::MembersChanged(m) => {
            assert_eq!(
                m.member_type,
                as_enum(text(data, "memberType")),
                "memberType was lost"
            );
            assert_eq!(m.change, as_enum(text(data, "change")), "change was lost");
        }
        EventKind::Activity(a) => {
            assert_eq!(
                Some(a.name.clone()).filter(|n| !n.is_empty()),
                text(data, "name").filter(|n| !n.is_empty()),
                "name was lost"
            );
        }
        EventKind::Transfer | EventKind::WebhookVerify | EventKind::Unknown => {}
    }
}
