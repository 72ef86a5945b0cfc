//! Identity, transcript, summary, sentiment and next best answers.

use std::time::Instant;

use serde_json::{json, Value};
use switchboard_copilot::{
    apply_model, build_workspace, EntityKind, SentimentLabel, SentimentTrend, Workspace,
    WorkspaceInput,
};
use switchboard_store::{Conversation, Entry, Mode, Phase};
use switchboard_types::Lane;

use crate::fixture::*;

fn build(conv: &Conversation, transcript: &[Entry], now_s: i64) -> Workspace {
    let flow = flow();
    build_workspace(WorkspaceInput {
        conversation: conv,
        transcript,
        flow: Some(&flow),
        now_ms: s(now_s),
    })
}

#[test]
fn identity_is_what_8x8_was_sent_with_channel_language_and_queue() {
    let t = transcript();
    let w = build(&conversation(&t), &t, 200);
    assert_eq!(w.identity.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(w.identity.email.as_deref(), Some("ada@example.com"));
    assert_eq!(w.identity.phone.as_deref(), Some("+44 20 7946 0000"));
    assert_eq!(
        w.identity.properties,
        properties(),
        "exactly the additionalProperties sent"
    );
    let c = &w.conversation;
    assert_eq!(
        (c.id.as_str(), c.mode, c.phase),
        ("conv-1", Mode::Handover, Phase::Agent)
    );
    assert_eq!(c.channel.as_deref(), Some("webchat"));
    assert_eq!(c.language.as_deref(), Some("en-GB"));
    assert_eq!(c.queue_name.as_deref(), Some("Support"));
    assert_eq!(c.agent_id.as_deref(), Some("agent-7"));
    assert_eq!(
        (c.queued_at_ms, c.agent_joined_at_ms),
        (Some(s(90)), Some(s(150)))
    );
    assert_eq!(w.generated_at_ms, s(200));
}

#[test]
fn endpoint_mode_shows_the_user_8x8_gave_and_its_properties() {
    let t = transcript();
    let mut conv = conversation(&t);
    conv.mode = Mode::Endpoint;
    conv.handover = None;
    conv.user = json!({"name": "Bo", "userId": "u-1", "additionalProperties": [{"key": "tier", "value": "gold"}, {"key": "n", "value": 3}]});
    let w = build(&conv, &t, 200);
    assert_eq!(w.identity.name.as_deref(), Some("Bo"));
    assert_eq!(w.identity.user_id.as_deref(), Some("u-1"));
    let props: Vec<_> = w
        .identity
        .properties
        .iter()
        .map(|p| (p.key.as_str(), p.value.as_str()))
        .collect();
    assert_eq!(props, [("tier", "gold"), ("n", "3")]);
    assert_eq!(
        w.conversation.channel.as_deref(),
        Some("chan-9"),
        "8x8's channel when the user names none"
    );
    assert!(
        w.transcript.iter().all(|l| !l.history),
        "no history is sent in endpoint mode"
    );
}

#[test]
fn the_transcript_marks_the_history_sent_to_8x8_and_keeps_later_lines() {
    let t = transcript();
    let w = build(&conversation(&t), &t, 200);
    assert_eq!(w.transcript.len(), t.len());
    let marked: Vec<(Lane, &str, bool)> = w
        .transcript
        .iter()
        .map(|l| (l.lane, l.text.as_str(), l.history))
        .collect();
    assert_eq!(marked.iter().filter(|m| m.2).count(), 9);
    assert!(marked[..9].iter().all(|m| m.2), "{marked:?}");
    assert!(marked[9..].iter().all(|m| !m.2), "{marked:?}");
    assert_eq!(
        marked[13],
        (
            Lane::Agent,
            "Hi Ada, I am looking at the double charge now.",
            false
        )
    );
    assert_eq!(w.transcript[14].at_ms, s(170));
}

#[test]
fn the_history_is_found_when_the_same_words_came_earlier_too() {
    // Asked twice: the second handover's history is the latest run of lines.
    let mut t = transcript();
    let again = [
        entry(16, Lane::User, "agent", 200, Value::Null),
        entry(
            17,
            Lane::Bot,
            "Connecting you to an agent.",
            201,
            json!({"rule": "handover"}),
        ),
        entry(
            18,
            Lane::System,
            "Handover to queue q-support: asked for an agent.",
            201,
            Value::Null,
        ),
    ];
    t.extend(again);
    let mut conv = conversation(&t);
    let history: Vec<_> = t
        .iter()
        .filter(|e| matches!(e.lane, Lane::User | Lane::Bot) && e.id <= 17)
        .map(|e| chat_gateway_client::types::SendMessage::text(e.lane.as_str(), &e.text))
        .skip(3) // cut at the front, as the 200-message limit would
        .collect();
    conv.handover
        .as_mut()
        .unwrap()
        .request
        .history
        .as_mut()
        .unwrap()
        .messages = history;
    let w = build(&conv, &t, 300);
    let ids: Vec<i64> = t
        .iter()
        .zip(&w.transcript)
        .filter(|(_, l)| l.history)
        .map(|(e, _)| e.id)
        .collect();
    assert_eq!(ids, [4, 5, 6, 7, 8, 9, 15, 16, 17]);
}

#[test]
fn the_summary_says_what_the_customer_wanted_and_what_the_bot_saw() {
    let t = transcript();
    let w = build(&conversation(&t), &t, 200);
    let sum = &w.summary;
    // "hi" is no request; the first substantive message is.
    assert_eq!(sum.wanted.as_deref(), Some(CHARGED));
    assert_eq!(
        sum.rules_hit,
        ["greeting", "fallback", "billing", "fallback", "handover"]
    );
    assert_eq!(sum.handover_reason.as_deref(), Some("asked for an agent"));
    let found: Vec<(EntityKind, &str, i64)> = sum
        .entities
        .iter()
        .map(|e| (e.kind, e.value.as_str(), e.line_at_ms))
        .collect();
    assert_eq!(
        found,
        [
            (EntityKind::Order, "12345", s(20)),
            (EntityKind::Invoice, "INV-991", s(20)),
            (EntityKind::Amount, "$12.50", s(20)),
            (EntityKind::Email, "ada@example.com", s(40)),
            // Read in the customer's region (en-GB), written in E.164.
            (EntityKind::Phone, "+442079460958", s(40)),
        ]
    );
    // First line at 0 s, handover at 61 s; queued at 90 s, the agent at 150 s.
    assert_eq!(sum.bot_seconds, Some(61));
    assert_eq!(sum.queue_seconds, Some(60));
    assert!(!sum.model_written);
}

#[test]
fn times_run_to_now_while_the_customer_is_with_the_bot_or_waiting() {
    let t = transcript();
    let mut conv = conversation(&t);
    conv.phase = Phase::Queued;
    conv.agent_joined_at_ms = None;
    let w = build(&conv, &t[..12], 130);
    assert_eq!(w.summary.queue_seconds, Some(40));
    let bot_only: Vec<Entry> = t[..4].to_vec();
    let mut conv = Conversation::new("c2".into(), Mode::Handover, s(0));
    conv.user = json!({"language": "en"});
    let w = build(&conv, &bot_only, 33);
    assert_eq!(w.summary.bot_seconds, Some(33));
    assert_eq!(w.summary.queue_seconds, None);
    assert_eq!(w.summary.handover_reason, None);
    assert_eq!(w.summary.wanted.as_deref(), Some(CHARGED));
}

#[test]
fn without_a_substantive_message_before_the_handover_the_first_after_it_then_the_last_before() {
    let t = vec![
        entry(
            1,
            Lane::Bot,
            "Hello! How can I help?",
            0,
            json!({"rule": "greeting"}),
        ),
        entry(2, Lane::User, "hello", 2, json!({})),
        entry(3, Lane::User, "  refund   please ", 4, Value::Null),
        entry(4, Lane::User, "agent", 6, Value::Null),
        entry(
            5,
            Lane::System,
            "Handover to queue q: asked for an agent.",
            7,
            Value::Null,
        ),
        entry(
            6,
            Lane::User,
            "are you there? I need help with my order",
            9,
            Value::Null,
        ),
    ];
    let conv = Conversation::new("c3".into(), Mode::Handover, s(0));
    let w = build(&conv, &t, 10);
    // What they told the agent, rather than the "agent" that asked for one.
    assert_eq!(
        w.summary.wanted.as_deref(),
        Some("are you there? I need help with my order")
    );
    let t1 = &t[..5];
    assert_eq!(
        build(&conv, t1, 10).summary.wanted.as_deref(),
        Some("agent")
    );
    let t2 = [t[0].clone(), t[1].clone(), t[2].clone()];
    assert_eq!(
        build(&conv, &t2, 10).summary.wanted.as_deref(),
        Some("refund please")
    );
}

#[test]
fn sentiment_scores_each_customer_message_and_its_trend() {
    let t = transcript();
    let w = build(&conversation(&t), &t, 200);
    let s = w.sentiment.expect("English is covered");
    assert_eq!(s.language, "en");
    let scored: Vec<(&str, SentimentLabel)> = s
        .messages
        .iter()
        .map(|m| (m.text.as_str(), m.label))
        .collect();
    assert_eq!(
        scored,
        [
            ("hi", SentimentLabel::Neutral),
            // VADER's lexicon counts "charged" against.
            (CHARGED, SentimentLabel::Negative),
            (CONTACT, SentimentLabel::Neutral),
            (ANGRY, SentimentLabel::Negative),
            (THANKS, SentimentLabel::Positive),
        ]
    );
    assert!(s.messages[3].compound < -0.5, "{:?}", s.messages[3]);
    assert!(s.messages[4].compound > 0.5, "{:?}", s.messages[4]);
    // Last third (the thanks) against the first third ("hi"): better.
    assert_eq!(s.trend, SentimentTrend::Improving);
    assert_eq!(w.sentiment_note, None);
}

#[test]
fn sentiment_worsens_as_the_customer_gets_angrier() {
    let t = vec![
        entry(
            1,
            Lane::User,
            "Hello, thanks for the quick help, great service",
            0,
            Value::Null,
        ),
        entry(2, Lane::User, "Where is my parcel?", 10, Value::Null),
        entry(
            3,
            Lane::User,
            "This is awful, worst shop ever, I hate this",
            20,
            Value::Null,
        ),
    ];
    let conv = Conversation::new("c4".into(), Mode::Handover, s(0));
    let s = build(&conv, &t, 30).sentiment.unwrap();
    assert_eq!(s.trend, SentimentTrend::Worsening);
}

#[test]
fn no_sentiment_for_a_conversation_not_in_english_and_the_page_says_why() {
    let t = transcript();
    let mut conv = conversation(&t);
    conv.user["language"] = json!("de-DE");
    let w = build(&conv, &t, 200);
    assert_eq!(w.sentiment, None);
    let note = w.sentiment_note.unwrap();
    assert!(
        note.contains("English only") && note.contains("de-DE"),
        "{note}"
    );
    // Nothing yet to score.
    let w = build(
        &Conversation::new("c5".into(), Mode::Handover, s(0)),
        &t[..1],
        1,
    );
    assert_eq!(w.sentiment, None);
    assert_eq!(
        w.sentiment_note.as_deref(),
        Some("No customer message yet.")
    );
}

#[test]
fn next_best_answers_put_the_matching_rule_first_then_shared_words() {
    let flow = flow();
    let conv = Conversation::new("c6".into(), Mode::Handover, s(0));
    let at = |text: &str| {
        let t = [entry(1, Lane::User, text, 0, Value::Null)];
        build_workspace(WorkspaceInput {
            conversation: &conv,
            transcript: &t,
            flow: Some(&flow),
            now_ms: s(1),
        })
        .suggestions
    };
    let s = at("I was charged twice, where is my refund for order 12345?");
    let titles: Vec<&str> = s.iter().map(|x| x.title.as_str()).collect();
    // billing and order_status both match (the bot would pick billing, first in the flow).
    assert_eq!(&titles[..2], ["billing", "order_status"]);
    assert!(s.len() <= 3);
    assert!(s.iter().all(|x| x.score > 0.0));
    assert!(s[0].score > s[1].score);
    assert_eq!(s[0].source, "flow rule billing");
    assert!(s[0].text.starts_with("Billing questions"));
    assert!(!s[0].model_written);
    // No rule matches; shared words rank ("returned" shares "days"? no: "return" by prefix).
    let s = at("can I send back what I returned?");
    assert_eq!(s[0].title, "rule at line 15", "{s:?}");
    assert_eq!(s[0].source, "flow rule at line 15");
    assert!(s[0].score < 100.0, "a word match only: {s:?}");
    // Nothing in common: nothing offered.
    assert_eq!(at("xyzzy plugh"), []);
    // A handover-only rule has no reply to copy.
    assert!(at("I have a complaint")
        .iter()
        .all(|x| x.title != "complaint"));
}

#[test]
fn next_best_answers_follow_the_transcript_and_skip_a_request_for_a_person() {
    let mut t = transcript();
    let conv = conversation(&t);
    // The last message is thanks: nothing in the flow fits it.
    let w = build(&conv, &t, 200);
    assert_eq!(w.suggestions, []);
    t.push(entry(
        16,
        Lane::User,
        "Also, when are you open on Saturday?",
        180,
        Value::Null,
    ));
    let w = build(&conv, &t, 200);
    assert_eq!(w.suggestions[0].title, "opening_hours");
    // Asking for a person: the message before it is the question.
    t.push(entry(17, Lane::User, "a human please", 190, Value::Null));
    let w = build(&conv, &t, 200);
    assert_eq!(w.suggestions[0].title, "opening_hours");
}

#[test]
fn a_model_marks_what_it_wrote() {
    let t = transcript();
    let mut w = build(&conversation(&t), &t, 200);
    let flow_suggestions = w.suggestions.len();
    apply_model(
        &mut w,
        "llama3",
        "Ada was charged twice.".into(),
        vec!["I have refunded it.".into(), " ".into()],
        s(201),
    );
    assert!(w.summary.model_written);
    let note = w.model.as_ref().unwrap();
    assert_eq!(
        (note.model.as_str(), note.summary.as_str()),
        ("llama3", "Ada was charged twice.")
    );
    assert_eq!(note.parts, ["summary", "suggestions"]);
    assert_eq!(w.suggestions.len(), flow_suggestions + 1);
    let last = w.suggestions.last().unwrap();
    assert!(last.model_written);
    assert_eq!(last.source, "language model llama3");
}

#[test]
fn the_page_json_is_camel_case() {
    let t = transcript();
    let w = build(&conversation(&t), &t, 200);
    let v = serde_json::to_value(&w).unwrap();
    for key in [
        "conversation",
        "identity",
        "transcript",
        "summary",
        "sentiment",
        "sentimentNote",
        "suggestions",
        "model",
        "generatedAtMs",
    ] {
        assert!(v.get(key).is_some(), "{key} in {v}");
    }
    assert_eq!(v["conversation"]["queuedAtMs"], s(90));
    assert_eq!(v["transcript"][0]["lane"], "bot");
    assert_eq!(v["transcript"][0]["history"], true);
    assert_eq!(v["summary"]["rulesHit"][2], "billing");
    assert_eq!(
        v["summary"]["entities"][0],
        json!({"kind": "order", "value": "12345", "lineAtMs": s(20)})
    );
    assert_eq!(v["sentiment"]["trend"], "improving");
    assert_eq!(v["sentiment"]["messages"][3]["label"], "negative");
    let back: Workspace = serde_json::from_value(v).unwrap();
    assert_eq!(back, w);
}

/// Not a benchmark: the time is printed (`--nocapture`), not asserted.
#[test]
fn a_2000_line_transcript_builds_in_milliseconds() {
    let base = transcript();
    let mut t: Vec<Entry> = Vec::with_capacity(2_000);
    for i in 0..2_000i64 {
        let mut e = base[(i as usize) % base.len()].clone();
        e.id = i + 1;
        e.at_ms = s(i);
        e.text = format!("{} ({i})", e.text);
        t.push(e);
    }
    let conv = conversation(&base);
    let flow = flow();
    let input = WorkspaceInput {
        conversation: &conv,
        transcript: &t,
        flow: Some(&flow),
        now_ms: s(2_001),
    };
    // The first call also loads VADER's lexicon and the phone metadata (once a process).
    let started = Instant::now();
    let w = build_workspace(input);
    let first = started.elapsed();
    let started = Instant::now();
    let again = build_workspace(input);
    let next = started.elapsed();
    println!(
        "build_workspace for {} lines: first {:.1} ms, then {:.1} ms",
        t.len(),
        first.as_secs_f64() * 1000.0,
        next.as_secs_f64() * 1000.0
    );
    assert_eq!(again, w);
    assert_eq!(w.transcript.len(), 2_000);
    assert!(w.sentiment.unwrap().messages.len() > 600);
}
