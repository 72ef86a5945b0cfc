//! Fault injection switched at run time: API 429/5xx/latency, and dropped, duplicated and
//! reordered webhook deliveries.

use std::time::{Duration, Instant};

use chat_gateway_sim::control_client::{Faults, FaultsPatch, LogFilter};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn api_429_with_retry_after_then_5xx_then_latency() {
    let env = Env::start().await;
    let throttle = FaultsPatch {
        api_fail_next: Some(1),
        api_fail_status: Some(429),
        retry_after_secs: Some(7),
        ..FaultsPatch::default()
    };
    env.ctl.patch_faults(&throttle).await.unwrap();
    let r = env.api.get(&format!("{V1}/webhooks")).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.headers.get("retry-after").unwrap(), "7");
    assert_eq!(r.content_type.as_deref(), Some("application/problem+json"));
    // Only the next one.
    assert_eq!(env.api.get(&format!("{V1}/webhooks")).await.status, 200);

    let unavailable = FaultsPatch {
        api_fail_next: Some(2),
        api_fail_status: Some(503),
        ..FaultsPatch::default()
    };
    env.ctl.patch_faults(&unavailable).await.unwrap();
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

    let slow = FaultsPatch {
        api_latency_ms: Some(600),
        ..FaultsPatch::default()
    };
    env.ctl.patch_faults(&slow).await.unwrap();
    let t = Instant::now();
    assert_eq!(env.api.get(&format!("{V1}/webhooks")).await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(600));
    let faults = env.ctl.faults().await.unwrap();
    assert_eq!(faults.api_latency_ms, 600);
    env.ctl.set_faults(&Faults::default()).await.unwrap();
    let t = Instant::now();
    env.api.get(&format!("{V1}/webhooks")).await;
    assert!(t.elapsed() < Duration::from_millis(600));
    // The inbound Event Log records the injected faults.
    let log = env.log(LogFilter::default().direction("inbound")).await;
    assert!(log
        .iter()
        .any(|r| r.fault.as_deref() == Some("api-429") && r.status_code == Some(429)));
    env.sim.shutdown().await;
}

#[tokio::test]
async fn dropped_duplicated_and_reordered_deliveries() {
    let env = Env::start().await;
    env.manual_agents().await;
    let (_, cid) = env.webhook_and_channel().await;

    // Dropped: the created event never arrives; the log says so.
    let drop_one = FaultsPatch {
        drop_next: Some(1),
        ..FaultsPatch::default()
    };
    env.ctl.patch_faults(&drop_one).await.unwrap();
    let conv = env.create_conversation(&cid).await;
    env.rx.wait_event(&conv, "QUEUED", |_| true).await;
    assert_eq!(
        env.rx.labels(&conv),
        vec!["CONVERSATION_UPDATE:active:queue", "QUEUED:101"]
    );
    let dropped = env
        .log(
            LogFilter::default()
                .conversation_id(&conv)
                .status("dropped"),
        )
        .await;
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0].fault.as_deref(), Some("drop"));

    // Duplicated: the same event id twice.
    let duplicate = FaultsPatch {
        duplicate_next: Some(1),
        ..FaultsPatch::default()
    };
    env.ctl.patch_faults(&duplicate).await.unwrap();
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
    let reorder = FaultsPatch {
        reorder_next: Some(1),
        ..FaultsPatch::default()
    };
    env.ctl.patch_faults(&reorder).await.unwrap();
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
    let late = Faults {
        webhook_latency_ms: 300,
        ..Faults::default()
    };
    env.ctl.set_faults(&late).await.unwrap();
    let t = Instant::now();
    let conv = env.create_conversation(&cid).await;
    env.rx
        .wait_event(&conv, "CONVERSATION_UPDATE", |_| true)
        .await;
    assert!(t.elapsed() >= Duration::from_millis(300));
    env.sim.shutdown().await;
}
