//! The language-model client against a local stand-in chat-completions server (never a
//! real one): the request it sends, an answer, a 500, garbage, a timeout; no key in errors.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
    routing::post,
    Json, Router,
};
use serde_json::{json, Value};
use switchboard_copilot::{
    build_workspace, model_summary, model_summary_within, ModelError, WorkspaceInput,
};

use crate::fixture::*;

const KEY: &str = "sk-test-secret-key-123";

/// A request the stand-in received: its Authorization header and its body.
type Request = (Option<String>, Value);

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Request>>>);

async fn stand_in() -> (String, Seen) {
    let seen = Seen::default();
    let record = |seen: &Seen, headers: &HeaderMap, body: Value| {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        seen.0.lock().unwrap().push((auth, body));
    };
    let app = Router::new()
        .route(
            "/ok/v1/chat/completions",
            post(move |State(seen): State<Seen>, headers: HeaderMap, Json(body): Json<Value>| async move {
                record(&seen, &headers, body);
                Json(json!({
                    "id": "chatcmpl-1", "object": "chat.completion",
                    "choices": [{ "index": 0, "finish_reason": "stop", "message": { "role": "assistant",
                        "content": "```json\n{\"summary\": \"Ada was charged twice for order 12345 and wants a refund.\", \"answers\": [\"I have asked for the duplicate charge to be refunded.\", \"Could you confirm the card you paid with?\"]}\n```" } }]
                }))
            }),
        )
        .route(
            "/fail/v1/chat/completions",
            post(|| async {
                (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"error": {"message": format!("Incorrect API key provided: {KEY}"), "type": "server_error"}})))
            }),
        )
        .route(
            "/garbage/v1/chat/completions",
            post(|| async { (StatusCode::OK, "<html>not an API</html>").into_response() }),
        )
        .route(
            "/nochoices/v1/chat/completions",
            post(|| async { Json(json!({"choices": []})) }),
        )
        .route(
            "/slow/v1/chat/completions",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Json(json!({}))
            }),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, seen)
}

fn workspace() -> switchboard_copilot::Workspace {
    let t = transcript();
    let conv = conversation(&t);
    let flow = flow();
    build_workspace(WorkspaceInput {
        conversation: &conv,
        transcript: &t,
        flow: Some(&flow),
        now_ms: s(200),
    })
}

#[tokio::test]
async fn an_answer_gives_the_summary_and_answers_and_the_request_is_openai_shaped() {
    let (base, seen) = stand_in().await;
    let client = reqwest::Client::new();
    let w = workspace();
    // A base ending in /v1 gets the chat-completions path.
    let (summary, answers) =
        model_summary(&client, &format!("{base}/ok/v1"), "llama3", Some(KEY), &w)
            .await
            .unwrap();
    assert_eq!(
        summary,
        "Ada was charged twice for order 12345 and wants a refund."
    );
    assert_eq!(answers.len(), 2);
    let seen = seen.0.lock().unwrap();
    let (auth, body) = &seen[0];
    assert_eq!(auth.as_deref(), Some(format!("Bearer {KEY}").as_str()));
    assert_eq!(body["model"], "llama3");
    assert_eq!(body["messages"][0]["role"], "system");
    let prompt = body["messages"][1]["content"].as_str().unwrap();
    assert!(
        prompt.contains("(The bot handed over: asked for an agent.)"),
        "{prompt}"
    );
    assert!(prompt.contains(&format!("Customer: {CHARGED}")), "{prompt}");
    assert!(prompt.contains("Agent: Hi Ada"), "{prompt}");
}

#[tokio::test]
async fn without_a_key_no_authorization_is_sent() {
    let (base, seen) = stand_in().await;
    let w = workspace();
    model_summary(
        &reqwest::Client::new(),
        &format!("{base}/ok/v1/chat/completions"),
        "m",
        None,
        &w,
    )
    .await
    .unwrap();
    assert_eq!(seen.0.lock().unwrap()[0].0, None);
}

#[tokio::test]
async fn a_500_is_said_with_the_servers_words_and_without_the_key() {
    let (base, _) = stand_in().await;
    let e = model_summary(
        &reqwest::Client::new(),
        &format!("{base}/fail/v1?key={KEY}"),
        "m",
        Some(KEY),
        &workspace(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, ModelError::Status { status: 500, .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("answered 500: Incorrect API key provided"),
        "{text}"
    );
    assert!(!text.contains(KEY) && !text.contains("sk-test"), "{text}");
}

#[tokio::test]
async fn garbage_is_refused_in_words() {
    let (base, _) = stand_in().await;
    let client = reqwest::Client::new();
    let e = model_summary(
        &client,
        &format!("{base}/garbage/v1"),
        "m",
        Some(KEY),
        &workspace(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, ModelError::Garbage(_)), "{e:?}");
    assert!(e.to_string().contains("not JSON"), "{e}");
    let e = model_summary(
        &client,
        &format!("{base}/nochoices/v1"),
        "m",
        None,
        &workspace(),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("choices[0].message.content"), "{e}");
}

#[tokio::test]
async fn a_slow_model_times_out_and_a_closed_port_is_unreachable() {
    let (base, _) = stand_in().await;
    let client = reqwest::Client::new();
    let started = std::time::Instant::now();
    let e = model_summary_within(
        &client,
        &format!("{base}/slow/v1"),
        "m",
        Some(KEY),
        &workspace(),
        Duration::from_millis(300),
    )
    .await
    .unwrap_err();
    assert_eq!(e, ModelError::Timeout(1));
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        e.to_string(),
        "The language model did not answer within 1 seconds."
    );
    // A port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let e = model_summary(
        &client,
        &format!("http://127.0.0.1:{closed}/v1"),
        "m",
        Some(KEY),
        &workspace(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, ModelError::Unreachable { .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.starts_with(&format!("The language model at http://127.0.0.1:{closed}/v1/chat/completions could not be reached: ")), "{text}");
    assert!(!text.contains(KEY));
}
