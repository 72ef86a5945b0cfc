//! The external bot against a small server on loopback that speaks the Rasa REST channel:
//! what the relay sends, how replies, buttons and handovers come back, and that a slow,
//! failing or garbled bot becomes an error to show, never a lost message.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::post,
    Json, Router,
};
use serde_json::{json, Value};
use switchboard_bot::{
    Bot, BotError, BotInput, BotKind, BotSession, BotSettings, EXTERNAL_START_MESSAGE,
};

type Seen = Arc<Mutex<Vec<Value>>>;

/// Answers like a small Rasa bot would, and remembers every request body.
async fn rasa(State(seen): State<Seen>, Json(body): Json<Value>) -> Json<Value> {
    seen.lock().unwrap().push(body.clone());
    let sender = body["sender"].clone();
    let message = body["message"].as_str().unwrap_or_default().to_string();
    Json(match message.as_str() {
        "/greet" => json!([
            {"recipient_id": sender, "text": "Hello from Rasa"},
            {"recipient_id": sender, "text": "Shall we start?",
             "buttons": [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]}
        ]),
        "human" => json!([
            {"recipient_id": sender, "text": "Passing you on."},
            {"recipient_id": sender, "custom": {"handover": true}}
        ]),
        "billing dispute" => json!([
            {"recipient_id": sender, "custom": {"action": "handover", "reason": "billing dispute"}}
        ]),
        "silent" => json!([]),
        other => json!([{"recipient_id": sender, "text": format!("You said: {other}")}]),
    })
}

async fn slow() -> Json<Value> {
    tokio::time::sleep(Duration::from_secs(2)).await;
    Json(json!([{"text": "too late"}]))
}

async fn failing() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "Internal error: the tracker store is down",
    )
        .into_response()
}

async fn garbage() -> Response {
    (StatusCode::OK, "<html>Welcome to nginx</html>").into_response()
}

async fn object() -> Json<Value> {
    Json(json!({"text": "not a list"}))
}

async fn serve() -> (SocketAddr, Seen) {
    let seen = Seen::default();
    let app = Router::new()
        .route("/webhooks/rest/webhook", post(rasa))
        .route("/slow", post(slow))
        .route("/failing", post(failing))
        .route("/garbage", post(garbage))
        .route("/object", post(object))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, seen)
}

fn bot(url: String, timeout_ms: u32) -> Bot {
    Bot::from_settings(&BotSettings {
        kind: BotKind::External,
        external_url: Some(url),
        external_timeout_ms: timeout_ms,
        ..BotSettings::default()
    })
    .expect("an http URL makes an external bot")
}

#[tokio::test]
async fn start_sends_the_greet_intent_with_the_sender_and_metadata() {
    let (addr, seen) = serve().await;
    let bot = bot(format!("http://{addr}/webhooks/rest/webhook"), 5_000);
    let mut session = BotSession::new("conv-42");
    session.name = Some("Ada".into());
    session.language = Some("en".into());
    session.metadata.insert("channel".into(), json!("webchat"));

    let turn = bot.respond(&mut session, BotInput::Start).await.unwrap();

    assert_eq!(
        seen.lock().unwrap()[0],
        json!({
            "sender": "conv-42",
            "message": EXTERNAL_START_MESSAGE,
            "metadata": {"name": "Ada", "language": "en", "channel": "webchat"}
        })
    );
    let texts: Vec<_> = turn.replies.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(texts, ["Hello from Rasa", "Shall we start?"]);
    let buttons: Vec<_> = turn.replies[1]
        .quick_replies
        .iter()
        .map(|q| (q.title.as_str(), q.payload.as_str()))
        .collect();
    assert_eq!(buttons, [("Yes", "/affirm"), ("No", "/deny")]);
    assert_eq!(turn.handover, None);
}

#[tokio::test]
async fn text_and_quick_replies_send_the_text_and_the_payload() {
    let (addr, seen) = serve().await;
    let bot = bot(format!("http://{addr}/webhooks/rest/webhook"), 5_000);
    let mut session = BotSession::new("c");
    let turn = bot
        .respond(&mut session, BotInput::Text("where is my parcel".into()))
        .await
        .unwrap();
    assert_eq!(turn.replies[0].text, "You said: where is my parcel");
    let turn = bot
        .respond(
            &mut session,
            BotInput::QuickReply {
                title: "Yes".into(),
                payload: "/affirm".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(turn.replies[0].text, "You said: /affirm");
    let card = json!({"data": {"topic": "refund"}});
    bot.respond(&mut session, BotInput::CardSubmit(card.clone()))
        .await
        .unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen[2]["message"], "refund");
    assert_eq!(seen[2]["metadata"]["card"], card);
}

#[tokio::test]
async fn a_custom_handover_payload_hands_over() {
    let (addr, _) = serve().await;
    let bot = bot(format!("http://{addr}/webhooks/rest/webhook"), 5_000);
    let mut session = BotSession::new("c");
    let turn = bot
        .respond(&mut session, BotInput::Text("human".into()))
        .await
        .unwrap();
    assert_eq!(turn.replies.len(), 1);
    assert_eq!(turn.replies[0].text, "Passing you on.");
    assert_eq!(
        turn.handover.as_deref(),
        Some("the external bot asked for a handover")
    );
    let turn = bot
        .respond(&mut session, BotInput::Text("billing dispute".into()))
        .await
        .unwrap();
    assert!(turn.replies.is_empty());
    assert_eq!(turn.handover.as_deref(), Some("billing dispute"));
}

#[tokio::test]
async fn an_empty_answer_is_a_turn_without_replies() {
    let (addr, _) = serve().await;
    let bot = bot(format!("http://{addr}/webhooks/rest/webhook"), 5_000);
    let turn = bot
        .respond(&mut BotSession::new("c"), BotInput::Text("silent".into()))
        .await
        .unwrap();
    assert!(turn.replies.is_empty());
    assert_eq!(turn.handover, None);
}

#[tokio::test]
async fn a_session_without_a_sender_gets_one_that_sticks() {
    let (addr, seen) = serve().await;
    let bot = bot(format!("http://{addr}/webhooks/rest/webhook"), 5_000);
    let mut session = BotSession::default();
    for _ in 0..2 {
        bot.respond(&mut session, BotInput::Text("hi".into()))
            .await
            .unwrap();
    }
    assert!(!session.sender_id.is_empty());
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0]["sender"], session.sender_id.as_str());
    assert_eq!(seen[1]["sender"], session.sender_id.as_str());
}

#[tokio::test]
async fn a_slow_bot_times_out_at_the_limit() {
    let (addr, _) = serve().await;
    let bot = bot(format!("http://{addr}/slow"), 200);
    let started = std::time::Instant::now();
    let err = bot
        .respond(&mut BotSession::new("c"), BotInput::Text("hi".into()))
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(1_500),
        "gave up only after {:?}",
        started.elapsed()
    );
    assert!(
        matches!(err, BotError::Timeout { limit_ms: 200, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("The external bot at {addr} did not answer within 200 ms; the message got no bot reply.")
    );
}

#[tokio::test]
async fn an_http_error_names_the_status_and_the_start_of_the_body() {
    let (addr, _) = serve().await;
    let bot = bot(format!("http://{addr}/failing?token=secret"), 5_000);
    let err = bot
        .respond(&mut BotSession::new("c"), BotInput::Text("hi".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, BotError::Status { status: 500, .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("HTTP 500"), "{message}");
    assert!(message.contains("the tracker store is down"), "{message}");
    assert!(!message.contains("secret"), "{message}");
}

#[tokio::test]
async fn an_answer_that_is_not_the_rasa_shape_is_an_error() {
    let (addr, _) = serve().await;
    for (path, says) in [
        ("garbage", "Welcome to nginx"),
        ("object", "an object, not a list"),
    ] {
        let bot = bot(format!("http://{addr}/{path}"), 5_000);
        let err = bot
            .respond(&mut BotSession::new("c"), BotInput::Text("hi".into()))
            .await
            .unwrap_err();
        assert!(matches!(err, BotError::Unreadable { .. }), "{err:?}");
        assert!(err.to_string().contains(says), "{err}");
    }
}

#[tokio::test]
async fn a_bot_that_is_not_running_is_unreachable() {
    // A port that was just free: nothing listens there.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let bot = bot(
        format!("http://{addr}/webhooks/rest/webhook?token=secret"),
        5_000,
    );
    let err = bot
        .respond(&mut BotSession::new("c"), BotInput::Start)
        .await
        .unwrap_err();
    assert!(matches!(err, BotError::Unreachable { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "The external bot at {addr} could not be reached: "
        )),
        "{message}"
    );
    assert!(!message.contains("secret"), "{message}");
}
