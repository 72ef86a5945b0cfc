//! Fault injection switched at run time: API 429/5xx/latency, and dropped, duplicated and
//! reordered webhook deliveries.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::*;

#[tokio::test]
async fn api_429_with_retry_after_then_5xx_then_latency() {
    let env = Env::start().await;
    env.control(
        "PATCH",
        "/sim/faults",
        Some(json!({"apiFailNext": 1, "apiFailStatus": 429, "retryAfterSecs": 7})),
    )
    .await;
    let r = env.api.get(&format!("{V1}/webhooks")).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.headers.get("retry-after").unwrap(), "7");
    assert_eq!(r.content_type.as_deref(), Some("application/problem+json"));
    // Only the next one.
    assert_eq!(env.api.get(&format!("{V1}/webhooks")).await.status, 200);

    env.control(
        "PATCH",
        "/sim/faults",
        Some(json!({"apiFailNext": 2, "apiFailStatus": 503})),
    )
    .await;
    assert_eq!(env.api.get(&format!("{V1}/channels")).await.status, 503);
    let r = env
        .api
        .post(
            &format!("{V1}/conversations"),
            json!({"channelId": "x", "user": {}}),
        )
        .await;
    assert_eq!(r.status, 503);
    assert_eq!(env.api.get(&format!("{V1}/channels")).await.status, 200);
    // A failed create stored nothing.
    let list = env.api.get(&format!("{V1}/conversations")).await;
    assert_eq!(list.json()["page"]["totalElements"], 0);

    env.control("PATCH", "/sim/faults", Some(json!({"apiLatencyMs": 600})))
        .await;
    let t = Instant::now();
    assert_eq!(env.api.get(&format!("{V1}/webhooks")).await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(600));
    let faults = env.control("GET", "/sim/faults", None).await;
    assert_eq!(faults["apiLatencyMs"], 600);
    env.control("PUT", "/sim/faults", Some(json!({}))).await;
    let t = Instant::now();
    env.api.get(&format!("{V1}/webhooks")).await;
    assert!(t.elapsed() < Duration::from_millis(600));
    // The inbound Event Log records the injected faults.
    let log = env.log("direction=inbound").await;
    assert!(log
        .iter()
        .any(|r| r["fault"] == "api-429" && r["statusCode"] == 429));
    env.sim.shutdown().await;
}

#[tokio::test]
async fn dropped_duplicated_and_reordered_deliveries() {
    let env = Env::start().await;
    env.manual_agents().await;
    let (_, cid) = env.webhook_and_channel().await;

    // Dropped: the created event never arrives; the log says so.
    env.control("PATCH", "/sim/faults", Some(json!({"dropNext": 1})))
        .await;
    let conv = env.create_conversation(&cid).await;
    env.rx.wait_event(&conv, "QUEUED", |_| true).await;
    assert_eq!(
        env.rx.labels(&conv),
        vec!["CONVERSATION_UPDATE:active:queue", "QUEUED:101"]
    );
    let dropped = env
        .log(&format!("conversationId={conv}&status=dropped"))
        .await;
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0]["fault"], "drop");

    // Duplicated: the same event id twice.
    env.control("PATCH", "/sim/faults", Some(json!({"duplicateNext": 1})))
        .await;
    let conv = env.create_conversation(&cid).await;
    env.rx.wait_event(&conv, "QUEUED", |_| true).await;
    let all = env.rx.for_conversation(&conv);
    assert_eq!(
        all[0].header("x-8x8-event-id"),
        all[1].header("x-8x8-event-id")
    );
    assert_eq!(all[0].body, all[1].body);
    assert_eq!(
        env.rx.labels(&conv),
        vec![
            "CONVERSATION_UPDATE:created:queue",
            "CONVERSATION_UPDATE:created:queue",
            "CONVERSATION_UPDATE:active:queue",
            "QUEUED:101"
        ]
    );

    // Reordered: created arrives after active.
    env.control("PATCH", "/sim/faults", Some(json!({"reorderNext": 1})))
        .await;
    let conv = env.create_conversation(&cid).await;
    env.rx
        .wait_until(5_000, "three events", |_| env.rx.labels(&conv).len() >= 3)
        .await;
    assert_eq!(
        env.rx.labels(&conv),
        vec![
            "CONVERSATION_UPDATE:active:queue",
            "CONVERSATION_UPDATE:created:queue",
            "QUEUED:101"
        ]
    );

    // Webhook latency delays deliveries.
    env.control("PUT", "/sim/faults", Some(json!({"webhookLatencyMs": 300})))
        .await;
    let t = Instant::now();
    let conv = env.create_conversation(&cid).await;
    env.rx
        .wait_event(&conv, "CONVERSATION_UPDATE", |_| true)
        .await;
    assert!(t.elapsed() >= Duration::from_millis(300));
    env.sim.shutdown().await;
}
