//! Deliveries verify with an independent JOSE implementation (Node's `jose`, RFC 7797
//! `b64:false` detached) and with the Rust verifier; faults that break signatures are
//! caught by both; key rotation publishes the new key and keeps the old one.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use chat_gateway_sim::control_client::{FaultsPatch, LogFilter};
use serde_json::{json, Value};

use crate::support::*;

fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/node")
}

/// Runs tests/node/jose-verify.mjs; true when jose accepts the signature.
fn jose_verifies(jwk: &Value, d: &Delivered) -> bool {
    let dir = node_dir();
    assert!(
        dir.join("node_modules/jose/package.json").exists(),
        "the independent JOSE check needs Node's `jose`: run `cd tests/node && npm ci` in the repository"
    );
    let input = json!({
        "jwk": jwk,
        "headers": d.headers,
        "body": base64_encode(&d.body),
        "bodyEncoding": "base64",
    });
    let mut child = Command::new("node")
        .arg(dir.join("jose-verify.mjs"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("`node` must be on PATH for the independent JOSE check");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    match out.status.code() {
        Some(0) => true,
        Some(1) => false,
        other => panic!(
            "jose-verify.mjs failed to run ({other:?}): {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

async fn jwk(env: &Env, kid: &str) -> Value {
    let r = env
        .api
        .with_key(None)
        .get(&format!("{V1}/jwk/{kid}/public"))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    r.json().clone()
}

fn kid_of(d: &Delivered) -> String {
    chat_gateway_sim::signing::signature_kid(&d.header("x-8x8-signature").unwrap()).unwrap()
}

#[tokio::test]
async fn deliveries_verify_with_node_jose() {
    let env = Env::start().await;
    env.manual_agents().await;
    let (_, cid) = env.webhook_and_channel().await;
    env.rx.answer_next(&[]);
    let verify = env.rx.all()[0].clone();
    assert_eq!(verify.json["eventType"], "WEB_HOOK_VERIFY");
    // The verify body is the docs' bytes; its CRC is the documented vector (chat-gateway.md §7).
    assert_eq!(
        chat_gateway_sim::signing::checksum(&verify.body),
        4_205_147_136
    );
    let key = jwk(&env, &kid_of(&verify)).await;
    assert!(jose_verifies(&key, &verify));

    // A retried delivery (retry=1) verifies too, with its own signature.
    env.rx.answer_next(&[500]);
    let conv = env.create_conversation(&cid).await;
    env.rx.wait_event(&conv, "QUEUED", |_| true).await;
    let all = env.rx.for_conversation(&conv);
    assert!(all
        .iter()
        .any(|d| d.header("x-8x8-retry").as_deref() == Some("1")));
    for d in &all {
        assert!(
            jose_verifies(&key, d),
            "jose rejects {}",
            String::from_utf8_lossy(&d.body)
        );
    }
    // Tampering is detected: another body, or another retry counter.
    let mut tampered = all[0].clone();
    let mut longer = tampered.body.to_vec();
    longer.push(b' ');
    tampered.body = axum::body::Bytes::from(longer);
    assert!(!jose_verifies(&key, &tampered));
    let mut tampered = all[0].clone();
    tampered.headers.insert("x-8x8-retry".into(), "7".into());
    assert!(!jose_verifies(&key, &tampered));
    env.sim.shutdown().await;
}

#[tokio::test]
async fn unsigned_and_missigned_faults() {
    let env = Env::start().await;
    env.manual_agents().await;
    let (_, cid) = env.webhook_and_channel().await;
    let unsigned_then_missigned = FaultsPatch {
        unsigned_next: Some(1),
        bad_signature_next: Some(1),
        ..FaultsPatch::default()
    };
    env.ctl
        .patch_faults(&unsigned_then_missigned)
        .await
        .unwrap();
    let conv = env.create_conversation(&cid).await;
    env.rx.wait_event(&conv, "QUEUED", |_| true).await;
    let all = env.rx.for_conversation(&conv);
    assert!(
        all[0].header("x-8x8-signature").is_none(),
        "first event unsigned"
    );
    assert!(
        all[0].header("x-8x8-event-id").is_some(),
        "the other headers stay"
    );
    let key = jwk(&env, &kid_of(&all[1])).await;
    assert!(!jose_verifies(&key, &all[1]), "second event mis-signed");
    assert!(
        chat_gateway_sim::signing::verify_delivery(&key, &all[1].body, |n| all[1].header(n))
            .is_err()
    );
    assert!(jose_verifies(&key, &all[2]), "third event signed again");
    let log = env.log(LogFilter::default().conversation_id(&conv)).await;
    let faults: Vec<_> = log.iter().filter_map(|r| r.fault.clone()).collect();
    assert_eq!(faults, vec!["unsigned", "bad-signature"]);
    env.sim.shutdown().await;
}

#[tokio::test]
async fn key_rotation_publishes_the_new_key_and_keeps_the_old() {
    // Its own keyring, since rotation changes it.
    let mut config = chat_gateway_sim::SimConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        chat_gateway_sim::Seed::sandbox(),
    );
    config.settings = chat_gateway_sim::Settings::fast();
    config.keyring = Some(std::sync::Arc::new(
        chat_gateway_sim::Keyring::with_bits(2048).unwrap(),
    ));
    let sim = chat_gateway_sim::start(config).await.unwrap();
    let api = Api::new(&sim.base_url());
    let rx = Receiver::start().await;
    api.post(
        &format!("{V1}/webhooks"),
        json!({"name": "r", "uri": rx.url, "version": "Chat Gateway v1.0"}),
    )
    .await;
    let old = rx.all()[0].clone();
    let old_kid = kid_of(&old);
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let new_kid = sim.control().rotate_key().await.unwrap().kid;
    assert_ne!(new_kid, old_kid);
    api.post(
        &format!("{V1}/webhooks/verify"),
        json!({"version": "Chat Gateway v1.0", "uri": rx.url}),
    )
    .await;
    let new = rx.all()[1].clone();
    assert_eq!(kid_of(&new), new_kid);
    let new_jwk = api
        .with_key(None)
        .get(&format!("{V1}/jwk/{new_kid}/public"))
        .await
        .json()
        .clone();
    let old_jwk = api
        .with_key(None)
        .get(&format!("{V1}/jwk/{old_kid}/public"))
        .await
        .json()
        .clone();
    assert!(jose_verifies(&new_jwk, &new));
    assert!(jose_verifies(&old_jwk, &old));
    assert!(
        !jose_verifies(&old_jwk, &new),
        "the old key does not verify new deliveries"
    );
    // The legacy JWK path serves the same key (P15); unknown kids are 404.
    let legacy: Value = http
        .get(format!(
            "{}/vcc/us/chat/v2/jwk/{new_kid}/public",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(legacy, new_jwk);
    let missing = api
        .with_key(None)
        .get(&format!("{V1}/jwk/nope/public"))
        .await;
    assert_eq!(missing.status, 404);
    // The handle can rotate too.
    let third = sim.rotate_key().unwrap();
    assert_eq!(sim.keyring().current_kid(), third);
    sim.shutdown().await;
}
