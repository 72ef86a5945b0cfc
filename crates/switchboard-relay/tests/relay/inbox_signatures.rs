//! The webhook receiver against the emulator's real signing keys and JWK endpoint, over
//! real HTTP: genuine deliveries are stored and queued; every kind of forged, tampered,
//! stale or unsigned delivery is refused, recorded with its reason and never processed.

use crate::support::*;
use chat_gateway_sim::Keyring;

async fn status_and_reason(env: &Env, body: &[u8], headers: &[(String, String)]) -> (u16, String) {
    let response = env.post(body, headers).await;
    let status = response.status().as_u16();
    let eid = headers
        .iter()
        .find(|(k, _)| k == "x-8x8-event-id")
        .map(|(_, v)| v.clone());
    let record = match eid {
        Some(eid) => env.inbox().store.by_event_id(&eid).await.unwrap().pop(),
        None => env.inbox().store.list(1, None).await.unwrap().pop(),
    }
    .expect("every delivery past the token is recorded");
    assert_eq!(record.http_status, status);
    (status, record.signature_reason.unwrap_or_default())
}

fn replace(headers: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            if k == name {
                (k.clone(), value.to_string())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect()
}

#[tokio::test]
async fn a_genuine_delivery_is_stored_queued_and_acknowledged() {
    let env = Env::start().await;
    let body = message_body("conv-1", "hello");
    let eid = event_id();
    let response = env.post(&body, &env.sign(&body, &eid, 0, now_ms())).await;
    assert_eq!(response.status(), 204);

    let records = env.inbox().store.by_event_id(&eid).await.unwrap();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.signature, "valid");
    assert!(queued(&r.status), "{r:?}");
    assert_eq!(r.event_type.as_deref(), Some("MESSAGE"));
    assert_eq!(r.conversation_id.as_deref(), Some("conv-1"));
    assert_eq!(
        r.body.as_bytes(),
        &body[..],
        "the raw body is kept byte for byte"
    );
    assert_eq!(r.headers["x-8x8-event-id"], eid.as_str());
    env.shutdown().await;
}

#[tokio::test]
async fn forged_tampered_stale_and_unsigned_deliveries_are_refused_and_not_processed() {
    let env = Env::start().await;
    let body = message_body("conv-2", "original");
    let now = now_ms();

    // Body changed after signing (the CRC inside the signed payload no longer matches).
    let eid = event_id();
    let signed = env.sign(&body, &eid, 0, now);
    let tampered = message_body("conv-2", "tampered");
    let (status, reason) = status_and_reason(&env, &tampered, &signed).await;
    assert_eq!(
        (status, reason.starts_with("bad_signature")),
        (401, true),
        "{reason}"
    );

    // One signed header changed (the attempt counter).
    let eid = event_id();
    let signed = env.sign(&body, &eid, 0, now);
    let (status, reason) =
        status_and_reason(&env, &body, &replace(&signed, "x-8x8-retry", "3")).await;
    assert_eq!(
        (status, reason.starts_with("bad_signature")),
        (401, true),
        "{reason}"
    );

    // Signed by someone else's key under a kid 8x8 does not know.
    let forger = Keyring::with_bits(1024).unwrap();
    let eid = event_id();
    let forged = sign_with(&forger, &body, &eid, 0, now);
    let (status, reason) = status_and_reason(&env, &body, &forged).await;
    assert_eq!(
        (status, reason.starts_with("unknown_kid")),
        (401, true),
        "{reason}"
    );

    // Someone else's signature under 8x8's current kid.
    let eid = event_id();
    let genuine = env.sign(&body, &eid, 0, now);
    let forged = sign_with(&forger, &body, &eid, 0, now);
    let sig = |h: &[(String, String)]| {
        h.iter()
            .find(|(k, _)| k == "x-8x8-signature")
            .unwrap()
            .1
            .clone()
    };
    let (genuine_sig, forged_sig) = (sig(&genuine), sig(&forged));
    let spliced = format!(
        "{}..{}",
        genuine_sig.split('.').next().unwrap(),
        forged_sig.split('.').nth(2).unwrap()
    );
    let (status, reason) =
        status_and_reason(&env, &body, &replace(&genuine, "x-8x8-signature", &spliced)).await;
    assert_eq!(
        (status, reason.starts_with("bad_signature")),
        (401, true),
        "{reason}"
    );

    // A genuine delivery replayed long after it was sent.
    let eid = event_id();
    let stale = env.sign(&body, &eid, 0, now - 10 * 60 * 1000);
    let (status, reason) = status_and_reason(&env, &body, &stale).await;
    assert_eq!(
        (status, reason.starts_with("stale")),
        (401, true),
        "{reason}"
    );

    // No signature headers at all.
    let (status, reason) = status_and_reason(&env, &body, &[]).await;
    assert_eq!(
        (status, reason.starts_with("missing_header")),
        (401, true),
        "{reason}"
    );

    // Each signed header missing in turn.
    for name in [
        "x-8x8-tenant-id",
        "x-8x8-customer-id",
        "x-8x8-transmission-time",
        "x-8x8-retry",
        "x-8x8-signature",
    ] {
        let eid = event_id();
        let headers: Vec<_> = env
            .sign(&body, &eid, 0, now)
            .into_iter()
            .filter(|(k, _)| k != name)
            .collect();
        let (status, reason) = status_and_reason(&env, &body, &headers).await;
        assert_eq!(status, 401, "{name}");
        assert!(reason.contains(name), "{name}: {reason}");
    }

    // Another tenant's delivery, genuinely signed.
    let eid = event_id();
    let other = chat_gateway_sim::Keyring::sign_delivery(
        &env.sim.keyring(),
        &body,
        "other-tenant",
        "sandbox-customer",
        &eid,
        0,
        now as u64,
    );
    let other: Vec<_> = other
        .pairs()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let (status, reason) = status_and_reason(&env, &body, &other).await;
    assert_eq!(
        (status, reason.starts_with("wrong_tenant")),
        (401, true),
        "{reason}"
    );

    // A signature that is not a detached JWS.
    let eid = event_id();
    let signed = env.sign(&body, &eid, 0, now);
    let (status, reason) = status_and_reason(
        &env,
        &body,
        &replace(&signed, "x-8x8-signature", "abc.def.ghi"),
    )
    .await;
    assert_eq!(
        (status, reason.starts_with("malformed_signature")),
        (401, true),
        "{reason}"
    );

    // Nothing reached the conversation engine, everything is on record as rejected.
    assert_eq!(env.inbox().queue.pending_count().await.unwrap(), 0);
    let all = env.inbox().store.list(100, None).await.unwrap();
    assert_eq!(all.len(), 13);
    assert!(all
        .iter()
        .all(|r| r.status == "rejected" && r.signature != "valid"));
    env.shutdown().await;
}

#[tokio::test]
async fn the_verify_event_is_answered_even_unsigned_and_unknown_types_are_kept() {
    let env = Env::start().await;
    let verify = br#"{"notificationVersion":"Chat Gateway v1.0","eventType":"WEB_HOOK_VERIFY"}"#;
    let response = env.post(verify, &[]).await;
    assert!(response.status().is_success());
    let r = env.inbox().store.list(1, None).await.unwrap().remove(0);
    assert_eq!(
        (r.signature.as_str(), r.status.as_str()),
        ("unsigned", "unverified"),
        "an unsigned verify never marks its event id as seen"
    );

    // A MESSAGE without signature is not a verify event: refused.
    let response = env.post(&message_body("c", "x"), &[]).await;
    assert_eq!(response.status(), 401);

    // A genuine event of a type this build does not know: acknowledged, stored, not queued.
    let body = br#"{"eventType":"SOMETHING_NEW","conversationId":"c9","timestamp":1}"#;
    let eid = event_id();
    let response = env.post(body, &env.sign(body, &eid, 0, now_ms())).await;
    assert_eq!(response.status(), 204);
    let r = env.inbox().store.by_event_id(&eid).await.unwrap().remove(0);
    assert_eq!(
        (r.signature.as_str(), r.status.as_str()),
        ("valid", "ignored")
    );
    assert_eq!(env.inbox().queue.pending_count().await.unwrap(), 0);
    env.shutdown().await;
}

#[tokio::test]
async fn a_wrong_token_is_a_bare_404_and_leaves_no_record() {
    let env = Env::start().await;
    let wrong = format!(
        "http://{}/endpoint/{}",
        env.relay.endpoint_addr,
        switchboard_types::token::generate()
    );
    let body = message_body("c", "x");
    let response = post(
        &env.http,
        &wrong,
        &body,
        &env.sign(&body, &event_id(), 0, now_ms()),
    )
    .await;
    assert_eq!(response.status(), 404);
    assert_eq!(response.bytes().await.unwrap().len(), 0);
    assert!(env.inbox().store.list(10, None).await.unwrap().is_empty());
    assert_eq!(
        env.relay
            .state
            .rejected_token_count
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    // JSON only.
    let response = env
        .http
        .post(&env.endpoint)
        .header("content-type", "text/plain")
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    env.shutdown().await;
}

#[tokio::test]
async fn retried_events_are_acknowledged_and_processed_once() {
    let env = Env::start().await;
    let body = message_body("conv-3", "once");
    let eid = event_id();
    for retry in 0..3 {
        // Every attempt has a fresh time and a fresh signature, like 8x8's retries.
        let response = env
            .post(&body, &env.sign(&body, &eid, retry, now_ms()))
            .await;
        assert_eq!(response.status(), 204, "attempt {retry}");
    }
    // Concurrent copies too (8x8 may time out and retry while the first is in flight).
    let mut tasks = Vec::new();
    for retry in 3..13 {
        let headers = env.sign(&body, &eid, retry, now_ms());
        let (http, url, body) = (env.http.clone(), env.endpoint.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            post(&http, &url, &body, &headers).await.status().as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 204);
    }
    let records = env.inbox().store.by_event_id(&eid).await.unwrap();
    assert_eq!(records.len(), 13);
    let first = records[0].id;
    assert!(queued(&records[0].status), "{records:?}");
    assert!(records[1..]
        .iter()
        .all(|r| r.status == "duplicate" && r.duplicate_of == Some(first)));
    env.shutdown().await;
}

#[tokio::test]
async fn a_rotated_key_is_fetched_and_old_keys_still_verify() {
    let env = Env::start().await;
    let old_body = message_body("conv-4", "before");
    let old_eid = event_id();
    let old_headers = env.sign(&old_body, &old_eid, 0, now_ms());
    assert_eq!(env.post(&old_body, &old_headers).await.status(), 204);
    assert_eq!(env.inbox().jwks.len(), 1);
    // The rotation happens on the emulator only; the relay learns of it from the kid.
    let new_kid = env.sim.rotate_key().unwrap();
    let body = message_body("conv-4", "after");
    let headers = env.sign(&body, &event_id(), 0, now_ms());
    let signature = &headers
        .iter()
        .find(|(k, _)| k == "x-8x8-signature")
        .unwrap()
        .1;
    assert_eq!(
        chat_gateway_sim::signing::signature_kid(signature),
        Some(new_kid)
    );
    assert_eq!(env.post(&body, &headers).await.status(), 204);
    assert_eq!(env.inbox().jwks.len(), 2);
    let all = env.inbox().store.list(10, None).await.unwrap();
    assert_eq!(all.iter().filter(|r| queued(&r.status)).count(), 2);
    // A retry signed before the rotation still verifies with the old key.
    assert_eq!(env.post(&old_body, &old_headers).await.status(), 204);
    let records = env.inbox().store.by_event_id(&old_eid).await.unwrap();
    assert_eq!(records[1].signature, "valid");
    assert_eq!(records[1].status, "duplicate");
    env.shutdown().await;
}

#[tokio::test]
async fn jwk_endpoint_down_then_up_is_retried_not_remembered() {
    // The relay points at an address where 8x8 is down; the emulator comes up there
    // later with the key the deliveries are signed with.
    let keyring = std::sync::Arc::new(Keyring::with_bits(2048).unwrap());
    let probe = start_sim_at("127.0.0.1:0".parse().unwrap(), keyring.clone()).await;
    let addr = probe.addr;
    probe.shutdown().await;

    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path(), &format!("http://{addr}")).await;
    let url = relay.endpoint_url().await;
    let http = reqwest::Client::new();
    let body = message_body("conv-5", "while down");
    let eid = event_id();
    let response = post(
        &http,
        &url,
        &body,
        &sign_with(&keyring, &body, &eid, 0, now_ms()),
    )
    .await;
    // Our failure, not the sender's: 503 so that 8x8 delivers again.
    assert_eq!(response.status(), 503);
    let records = relay.state.inbox.store.by_event_id(&eid).await.unwrap();
    assert_eq!(records[0].status, "rejected");
    assert!(
        records[0]
            .signature_reason
            .as_deref()
            .unwrap()
            .starts_with("key_unavailable"),
        "{records:?}"
    );

    let sim = start_sim_at(addr, keyring.clone()).await;
    let response = post(
        &http,
        &url,
        &body,
        &sign_with(&keyring, &body, &eid, 1, now_ms()),
    )
    .await;
    assert_eq!(response.status(), 204, "the failed fetch was not cached");
    let records = relay.state.inbox.store.by_event_id(&eid).await.unwrap();
    assert_eq!(records.len(), 2);
    assert!(queued(&records[1].status), "{records:?}");
    assert_eq!(
        records[1].duplicate_of, None,
        "a rejected attempt is not an original"
    );

    // Once cached, the key keeps working while 8x8's JWK endpoint is down again.
    sim.shutdown().await;
    let body = message_body("conv-5", "cached");
    let response = post(
        &http,
        &url,
        &body,
        &sign_with(&keyring, &body, &event_id(), 0, now_ms()),
    )
    .await;
    assert_eq!(response.status(), 204);
    relay.shutdown().await;
}

#[tokio::test]
async fn with_verification_off_deliveries_are_accepted_and_marked_skipped() {
    let env = Env::start().await;
    env.relay
        .state
        .settings
        .send_modify(|s| std::sync::Arc::make_mut(s).endpoint.verify_signatures = false);
    assert!(switchboard_relay::endpoint::inbox::signature_warning(false).is_some());
    let body = message_body("conv-6", "unchecked");
    let response = env
        .post(&body, &[("x-8x8-event-id".into(), "e-unchecked".into())])
        .await;
    assert_eq!(response.status(), 204);
    let r = env
        .inbox()
        .store
        .by_event_id("e-unchecked")
        .await
        .unwrap()
        .remove(0);
    assert_eq!(r.signature, "skipped");
    assert!(queued(&r.status), "{r:?}");
    env.shutdown().await;
}

#[tokio::test]
async fn a_failed_write_answers_503_and_the_retry_is_stored_once() {
    let env = Env::start().await;
    env.relay
        .state
        .db
        .sqlite()
        .expect("this relay runs on SQLite")
        .call(|c| {
            c.execute_batch(
                "CREATE TRIGGER disk_full BEFORE INSERT ON deliveries
                 BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
            )
        })
        .await
        .unwrap();
    let body = message_body("conv-7", "not lost");
    let eid = event_id();
    let response = env.post(&body, &env.sign(&body, &eid, 0, now_ms())).await;
    assert_eq!(response.status(), 503);
    assert_eq!(env.inbox().queue.pending_count().await.unwrap(), 0);

    env.relay
        .state
        .db
        .sqlite()
        .expect("this relay runs on SQLite")
        .call(|c| c.execute_batch("DROP TRIGGER disk_full"))
        .await
        .unwrap();
    let response = env.post(&body, &env.sign(&body, &eid, 1, now_ms())).await;
    assert_eq!(response.status(), 204);
    let records = env.inbox().store.by_event_id(&eid).await.unwrap();
    assert_eq!(records.len(), 1);
    assert!(queued(&records[0].status), "{records:?}");
    env.shutdown().await;
}
