//! The inspector's and the sandbox proxy's admin API over real HTTP, against the relay's
//! embedded emulator: deliveries grouped with their retries, the signature explainer on
//! genuine and forged deliveries, replays (deduplicated, re-processed, edited), synthetic
//! events from every template, and the proxy's limits.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use switchboard_e2e::{client, eventually, TestRelay};
use switchboard_relay::SandboxMode;

/// Hang guard for each wait (never a speed bound).
const GUARD: Duration = Duration::from_secs(15);

async fn call(
    relay: &TestRelay,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = client()
        .request(method.parse().unwrap(), relay.admin(&format!("/api{path}")))
        .header("authorization", relay.bearer());
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn get(relay: &TestRelay, path: &str) -> Value {
    let (status, body) = call(relay, "GET", path, None).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

/// A web-chat customer in the sandbox, so genuine signed deliveries reach the relay;
/// returns the 8x8 conversation id once the relay has processed its first events.
async fn webchat(relay: &TestRelay) -> String {
    let (status, started) = call(
        relay,
        "POST",
        "/sandbox/webchat/conversations",
        Some(json!({ "user": { "name": "Ivy Inspector" } })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let gateway = started["conversationId"].as_str().unwrap().to_string();
    eventually("the relay's conversation", GUARD, async || {
        let list = get(relay, "/conversations?limit=50").await;
        list["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["gatewayId"] == gateway.as_str())
            .then_some(())
    })
    .await;
    gateway
}

fn deliveries_of(page: &Value, gateway: &str, event_type: &str) -> Vec<Value> {
    page["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["conversationId"] == gateway && g["eventType"] == event_type)
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_genuine_delivery_is_explained_and_replays_deduplicated_or_reprocessed() {
    let relay = TestRelay::start().await;
    let gateway = webchat(&relay).await;
    let page = get(&relay, "/inspector/deliveries?limit=100").await;
    let group = deliveries_of(&page, &gateway, "CONVERSATION_UPDATE")
        .into_iter()
        .next()
        .expect("a CONVERSATION_UPDATE delivery");
    let first = &group["deliveries"][0];
    let id = first["id"].as_i64().unwrap();
    assert_eq!(first["signature"], "valid");
    assert_eq!(group["retryCount"], 0);

    // The explainer takes the signature apart and checks it again.
    let detail = get(&relay, &format!("/inspector/deliveries/{id}")).await;
    let x = &detail["explainer"];
    let kid = get(&relay, "/sandbox/info").await["currentKid"].clone();
    assert_eq!(x["kid"], kid);
    assert_eq!(x["protectedHeader"]["alg"], "RS256");
    assert_eq!(x["verdict"], "valid");
    assert_eq!(x["recheck"]["ok"], true, "{x}");
    let eid = detail["delivery"]["eventId"].as_str().unwrap();
    let payload: Value = serde_json::from_str(x["signedPayload"].as_str().unwrap()).unwrap();
    assert_eq!(payload["checksum"], x["crc32"]);
    assert_eq!(payload["eid"], eid);
    assert_eq!(payload["tid"], "sandbox-tenant");

    // Same event id: a duplicate, counted as a retry of the event, not processed.
    let (status, replay) = call(
        &relay,
        "POST",
        &format!("/inspector/deliveries/{id}/replay"),
        Some(json!({ "mode": "dedupe" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{replay}");
    assert_eq!(replay["delivery"]["duplicateOf"], id);
    assert_eq!(replay["delivery"]["status"], "duplicate");
    assert_eq!(
        replay["delivery"]["origin"],
        format!("replay of delivery {id}")
    );
    let page = get(&relay, "/inspector/deliveries?limit=100").await;
    let regrouped = page["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["eventId"] == eid)
        .unwrap()
        .clone();
    assert_eq!(regrouped["retryCount"], 1);
    assert_eq!(regrouped["deliveries"].as_array().unwrap().len(), 2);

    // A new event id: queued and processed by the engine like a delivery from 8x8.
    let (status, again) = call(
        &relay,
        "POST",
        &format!("/inspector/deliveries/{id}/replay"),
        Some(json!({ "mode": "reprocess" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let new_id = again["delivery"]["id"].as_i64().unwrap();
    assert!(again["delivery"]["eventId"]
        .as_str()
        .unwrap()
        .starts_with("replay-"));
    assert_eq!(again["delivery"]["duplicateOf"], Value::Null);
    eventually("the replay to be processed", GUARD, async || {
        let d = get(&relay, &format!("/inspector/deliveries/{new_id}")).await;
        (d["delivery"]["status"] == "processed").then_some(())
    })
    .await;
    relay.handle.shutdown().await;
}

#[tokio::test]
async fn an_edited_replay_is_stored_unsigned_and_processed() {
    let relay = TestRelay::start().await;
    let gateway = webchat(&relay).await;
    let (status, _) = call(
        &relay,
        "POST",
        &format!("/sandbox/conversations/{gateway}/customer/say"),
        Some(json!({ "text": "opening hours" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let original = eventually("the customer's message", GUARD, async || {
        let page = get(&relay, "/inspector/deliveries?limit=100").await;
        for g in deliveries_of(&page, &gateway, "MESSAGE") {
            let id = g["deliveries"][0]["id"].as_i64().unwrap();
            let d = get(&relay, &format!("/inspector/deliveries/{id}")).await;
            if d["delivery"]["body"]
                .as_str()
                .unwrap()
                .contains("opening hours")
                && d["delivery"]["status"] == "processed"
            {
                return Some(d["delivery"].clone());
            }
        }
        None
    })
    .await;
    let id = original["id"].as_i64().unwrap();
    let mut body: Value = serde_json::from_str(original["body"].as_str().unwrap()).unwrap();
    body["data"]["text"] = json!("billing");
    let (status, replay) = call(
        &relay,
        "POST",
        &format!("/inspector/deliveries/{id}/replay"),
        Some(json!({ "mode": "reprocess", "body": body })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{replay}");
    assert_eq!(replay["delivery"]["signature"], "unsigned");
    assert_eq!(
        replay["delivery"]["origin"],
        format!("edited replay of delivery {id}")
    );
    let new_id = replay["delivery"]["id"].as_i64().unwrap();
    let stored = get(&relay, &format!("/inspector/deliveries/{new_id}")).await;
    assert!(
        stored["delivery"]["headers"]
            .get("x-8x8-signature")
            .is_none(),
        "8x8's signature does not travel with a body it did not sign"
    );
    assert!(stored["delivery"]["signatureReason"]
        .as_str()
        .unwrap()
        .contains("not signed by 8x8"));
    // The bot answered the edited words.
    eventually("the bot's billing answer", GUARD, async || {
        let list = get(&relay, "/conversations?limit=50").await;
        let conv = list["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["gatewayId"] == gateway.as_str())?
            .clone();
        let view = get(&relay, &format!("/conversations/{}", conv["id"].as_str()?)).await;
        view["transcript"]
            .as_array()?
            .iter()
            .any(|e| {
                e["lane"] == "bot"
                    && e["text"]
                        .as_str()
                        .is_some_and(|t| t.starts_with("Invoices"))
            })
            .then_some(())
    })
    .await;

    // Bad replays are refused with reasons.
    let (status, err) = call(
        &relay,
        "POST",
        &format!("/inspector/deliveries/{id}/replay"),
        Some(json!({ "mode": "reprocess", "body": [1, 2] })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["code"], "invalid_event");
    let (status, err) = call(
        &relay,
        "POST",
        "/inspector/deliveries/999999/replay",
        Some(json!({ "mode": "dedupe" })),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["code"], "not_found");
    let (status, err) = call(
        &relay,
        "POST",
        &format!("/inspector/deliveries/{id}/replay"),
        Some(json!({ "mode": "sideways" })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["code"], "bad_request");
    relay.handle.shutdown().await;
}

#[tokio::test]
async fn a_forged_delivery_is_rejected_with_its_reason_and_explained() {
    let relay = TestRelay::start().await;
    let kid = get(&relay, "/sandbox/info").await["currentKid"]
        .as_str()
        .unwrap()
        .to_string();
    // 8x8's real protected header (RS256, b64:false, the current kid) from a genuine
    // delivery, over 256 bytes that are no signature.
    let gateway = webchat(&relay).await;
    let page = get(&relay, "/inspector/deliveries?limit=100").await;
    let genuine = deliveries_of(&page, &gateway, "CONVERSATION_UPDATE")[0]["deliveries"][0]["id"]
        .as_i64()
        .unwrap();
    let genuine = get(&relay, &format!("/inspector/deliveries/{genuine}")).await;
    let protected = genuine["delivery"]["headers"]["x-8x8-signature"]
        .as_str()
        .unwrap()
        .split('.')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(genuine["explainer"]["kid"], kid.as_str());
    let forged = format!("{protected}..{}", "A".repeat(342));
    let endpoint_url = relay.handle.endpoint_url().await;
    let body = json!({ "eventType": "MESSAGE", "conversationId": "c-forged", "timestamp": 1,
        "data": { "isEcho": false, "sender": { "type": "agent", "id": "x" }, "text": "hi" } });
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let res = client()
        .post(&endpoint_url)
        .header("content-type", "application/json")
        .header("x-8x8-tenant-id", "sandbox-tenant")
        .header("x-8x8-customer-id", "sandbox-customer")
        .header("x-8x8-event-id", "forged-1")
        .header("x-8x8-transmission-time", now.to_string())
        .header("x-8x8-retry", "0")
        .header("x-8x8-signature", forged)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let page = get(&relay, "/inspector/deliveries?limit=100").await;
    let group = page["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["eventId"] == "forged-1")
        .expect("the forged delivery is listed")
        .clone();
    let d = &group["deliveries"][0];
    assert_eq!(d["signature"], "invalid");
    assert_eq!(d["status"], "rejected");
    assert!(d["signatureReason"]
        .as_str()
        .unwrap()
        .starts_with("bad_signature"));
    let detail = get(
        &relay,
        &format!("/inspector/deliveries/{}", d["id"].as_i64().unwrap()),
    )
    .await;
    let x = &detail["explainer"];
    assert_eq!(x["kid"], kid.as_str());
    assert_eq!(x["recheck"]["ok"], false);
    assert_eq!(x["recheck"]["code"], "bad_signature");
    assert!(x["signedPayload"]
        .as_str()
        .unwrap()
        .contains("\"eid\":\"forged-1\""));
    relay.handle.shutdown().await;
}

#[tokio::test]
async fn synthetic_events_come_from_a_template_for_every_event_type_and_activity() {
    let relay = TestRelay::start().await;
    let templates = get(&relay, "/inspector/templates?conversationId=c-synth").await;
    let names: Vec<&str> = templates["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for expected in [
        "CONVERSATION_UPDATE/active",
        "QUEUED",
        "MEMBERS_CHANGED/agent joined",
        "MESSAGE",
        "TRANSFER",
        "ACTIVITY/typing",
        "ACTIVITY/adaptiveCard/action",
        "ACTIVITY/quickReply/action",
        "ACTIVITY/read-receipts",
        "WEB_HOOK_VERIFY",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    for name in &names {
        let (status, injected) = call(
            &relay,
            "POST",
            "/inspector/synthetic",
            Some(json!({ "template": name, "conversationId": "c-synth" })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{name}: {injected}");
        let d = &injected["delivery"];
        assert_eq!(d["signature"], "unsigned");
        assert_eq!(d["origin"], format!("synthetic ({name})"));
        // Queued for the engine, which may already have taken it by the time the row
        // is read back; the verify event is never queued, and unsigned it is stored as
        // unverified (its event id is not taken as seen).
        let status = d["status"].as_str().unwrap();
        if *name == "WEB_HOOK_VERIFY" {
            assert_eq!(status, "unverified", "{name}");
        } else {
            assert!(
                matches!(status, "pending" | "processed" | "failed"),
                "{name}: {status}"
            );
        }
    }
    let (status, err) = call(
        &relay,
        "POST",
        "/inspector/synthetic",
        Some(json!({ "template": "NOPE", "conversationId": "c" })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(err["message"].as_str().unwrap().contains("QUEUED"));

    // The outbox pages like the deliveries.
    let outbox = get(&relay, "/inspector/outbox?limit=1").await;
    assert!(outbox["entries"].as_array().unwrap().len() <= 1);
    relay.handle.shutdown().await;
}

#[tokio::test]
async fn the_sandbox_proxy_forwards_what_the_pages_need_and_nothing_else() {
    let relay = TestRelay::start().await;
    let queues = get(&relay, "/sandbox/queues").await;
    assert_eq!(queues["queues"][0]["id"], "101");
    assert!(get(&relay, "/sandbox/offers").await["offers"].is_array());

    // The emulator's refusals arrive as {code, message}.
    let (status, err) = call(
        &relay,
        "POST",
        "/sandbox/conversations/no-such/agent/accept",
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["code"], "not_found");
    assert!(err["message"].as_str().unwrap().contains("no-such"));
    // Only the agent's and customer's actions.
    let (status, _) = call(
        &relay,
        "POST",
        "/sandbox/conversations/x/agent/explode",
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, err) = call(&relay, "GET", "/sandbox/conversations/a%2Fb", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    let (status, _) = call(&relay, "GET", "/sandbox/faults", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "faults are not for the UI");
    relay.handle.shutdown().await;

    let without = TestRelay::start_with(|c| c.sandbox = SandboxMode::Off).await;
    let (status, err) = call(&without, "GET", "/sandbox/offers", None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["code"], "no_sandbox");
    without.handle.shutdown().await;
}
