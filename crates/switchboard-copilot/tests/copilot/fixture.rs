//! A handed-over conversation as the relay stores it: the customer asked about a double
//! charge, gave an order number, an invoice, an amount, an email and a phone number, got
//! angry, asked for a person, waited in the queue, and an agent joined.

use chat_gateway_client::types::{
    Assignment, ConversationUser, CreateConversation, History, KeyValue, SendMessage,
};
use serde_json::{json, Value};
use switchboard_copilot::FlowAnswers;
use switchboard_store::{Conversation, Entry, HandoverBookkeeping, HandoverRecord, Mode, Phase};
use switchboard_types::{Direction, Lane};

pub const T0: i64 = 1_700_000_000_000;

pub const FLOW: &str = r#"
greeting:
  reply: Hello! How can I help?
  quick_replies: [Opening hours, Talk to a person]
rules:
  - name: opening_hours
    keywords: [opening hours, open]
    reply: We are open Monday to Friday, 9 to 5.
  - name: billing
    keywords: [charged, charge, invoice, refund]
    reply: Billing questions are answered within one working day; a duplicate charge is refunded automatically.
  - name: order_status
    regex: '\border\s*#?\d{4,}'
    reply: You can follow your order with the link in its confirmation email.
  - keywords: [return, returns]
    reply: Items can be returned within 30 days with the returns form.
  - name: complaint
    keywords: [complaint]
    handover: true
fallback: Sorry, I did not get that.
handover:
  keywords: [agent, person, human]
  after_fallbacks: 3
  reply: Connecting you to an agent.
"#;

pub fn flow() -> FlowAnswers {
    FlowAnswers::parse(FLOW).expect("the fixture flow parses")
}

pub fn s(seconds: i64) -> i64 {
    T0 + seconds * 1000
}

pub fn entry(id: i64, lane: Lane, text: &str, at_s: i64, payload: Value) -> Entry {
    Entry {
        id,
        conversation_id: "conv-1".into(),
        lane,
        direction: match lane {
            Lane::Agent => Direction::In,
            _ => Direction::Local,
        },
        text: text.into(),
        payload,
        at_ms: s(at_s),
    }
}

pub const CHARGED: &str =
    "I was charged twice for order 12345 on invoice INV-991, $12.50 each time";
pub const CONTACT: &str = "You can reach me at ada@example.com or on 020 7946 0958";
pub const ANGRY: &str = "This is ridiculous and I am really angry. I want a person now!";
pub const THANKS: &str = "Thanks, that is great, much appreciated!";

/// The transcript up to the handover (what the history sent to 8x8 is made of), then the
/// relay's notes, the agent and the customer's last word.
pub fn transcript() -> Vec<Entry> {
    let mut t = vec![
        entry(1, Lane::Bot, "Hello! How can I help?", 0, json!({"rule": "greeting", "quickReplies": []})),
        entry(2, Lane::User, "hi", 5, Value::Null),
        entry(3, Lane::Bot, "Sorry, I did not get that.", 6, json!({"rule": "fallback"})),
        entry(4, Lane::User, CHARGED, 20, Value::Null),
        entry(5, Lane::Bot, "Billing questions are answered within one working day; a duplicate charge is refunded automatically.", 21, json!({"rule": "billing"})),
        entry(6, Lane::User, CONTACT, 40, Value::Null),
        entry(7, Lane::Bot, "Sorry, I did not get that.", 41, json!({"rule": "fallback"})),
        entry(8, Lane::User, ANGRY, 60, Value::Null),
        entry(9, Lane::Bot, "Connecting you to an agent.", 61, json!({"rule": "handover"})),
        entry(10, Lane::System, "Handover to queue q-support: asked for an agent.", 61, Value::Null),
        entry(11, Lane::System, "8x8 conversation gw-1 created; waiting for an agent.", 62, Value::Null),
        entry(12, Lane::System, "Queued in Support.", 90, Value::Null),
        entry(13, Lane::System, "Agent agent-7 joined.", 150, Value::Null),
        entry(14, Lane::Agent, "Hi Ada, I am looking at the double charge now.", 160, Value::Null),
        entry(15, Lane::User, THANKS, 170, Value::Null),
    ];
    t.sort_by_key(|e| e.id);
    t
}

/// The history the handover sent: the user and bot lines before it.
pub fn history(transcript: &[Entry]) -> Vec<SendMessage> {
    transcript
        .iter()
        .take_while(|e| e.lane != Lane::System)
        .filter(|e| matches!(e.lane, Lane::User | Lane::Bot))
        .map(|e| SendMessage::text(e.lane.as_str(), &e.text))
        .collect()
}

pub fn properties() -> Vec<KeyValue> {
    vec![
        KeyValue {
            key: "intent".into(),
            value: "billing".into(),
        },
        KeyValue {
            key: "vip".into(),
            value: "true".into(),
        },
        KeyValue {
            key: "Copilot".into(),
            value: "https://relay.example/copilot/abc".into(),
        },
    ]
}

pub fn conversation(transcript: &[Entry]) -> Conversation {
    let mut c = Conversation::new("conv-1".into(), Mode::Handover, s(0));
    c.phase = Phase::Agent;
    c.gateway_id = Some("gw-1".into());
    c.channel_id = Some("chan-9".into());
    c.user = json!({
        "name": "Ada Lovelace", "email": "ada@example.com", "phone": "+44 20 7946 0000",
        "language": "en-GB", "channel": "webchat"
    });
    c.queue_id = Some("q-support".into());
    c.queue_name = Some("Support".into());
    c.agent_id = Some("agent-7".into());
    c.queued_at_ms = Some(s(90));
    c.agent_joined_at_ms = Some(s(150));
    c.handover = Some(HandoverRecord {
        request: CreateConversation {
            channel_id: "chan-9".into(),
            user: ConversationUser {
                name: Some("Ada Lovelace".into()),
                email: Some("ada@example.com".into()),
                phone: Some("+44 20 7946 0000".into()),
                language: Some("en-GB".into()),
                additional_properties: properties(),
                ..ConversationUser::default()
            },
            assignment: Some(Assignment::queue("q-support")),
            history: Some(History {
                messages: history(transcript),
            }),
        },
        local: HandoverBookkeeping::default(),
    });
    c
}
