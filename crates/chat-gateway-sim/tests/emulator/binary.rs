//! The program: --help, a config file, port 0, and the base URL printed when ready —
//! then a person's curl session (webhook, channel, conversation) against it.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use crate::support::*;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_chat-gateway-sim");

#[test]
fn help_describes_the_options() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--listen",
        "--config",
        "--api-key",
        "--queue",
        "--retry-schedule-ms",
    ] {
        assert!(text.contains(flag), "--help lacks {flag}:\n{text}");
    }
}

#[test]
fn a_broken_config_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.yml");
    std::fs::write(&path, "apiKeys: []\n").unwrap();
    let out = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no API key"));
}

#[tokio::test]
async fn starts_from_a_config_file_and_prints_its_base_url() {
    let rx = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.yml");
    let mut f = std::fs::File::create(&path).unwrap();
    write!(
        f,
        "customerId: acme\n\
         apiKeys:\n  - key: k1\n    tenants: [acme-tenant]\n\
         queues:\n  - id: \"7\"\n    name: Billing\n    agent:\n      agentId: bill\n      acceptAfterMs: 10\n      typingMs: 5\n      greeting: Billing here\n\
         webhooks:\n  - id: \"40\"\n    tenant: acme-tenant\n    name: seeded\n    uri: {}\n\
         channels:\n  - id: \"41\"\n    tenant: acme-tenant\n    name: seeded channel\n    webHookId: \"40\"\n    queueId: \"7\"\n",
        rx.url
    )
    .unwrap();
    drop(f);
    let mut child = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--retry-schedule-ms",
            "50,50",
            "--api-key",
            "extra=acme-tenant",
            "--config",
        ])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(line.contains("ready at http://127.0.0.1:"), "{line}");
    let result = std::panic::AssertUnwindSafe(async {
        let api = Api::new(&base)
            .with_key(Some("k1"))
            .with_tenant(Some("acme-tenant"));
        // The seeded webhook and channel are there; the extra key works too.
        let ch = api.get(&format!("{V1}/channels/41")).await;
        assert_eq!(ch.json()["webHookId"], "40");
        assert_eq!(
            api.with_key(Some("extra"))
                .get(&format!("{V1}/webhooks/40"))
                .await
                .status,
            200
        );
        assert_eq!(
            api.with_key(Some("sandbox-key"))
                .get(&format!("{V1}/webhooks"))
                .await
                .status,
            401
        );
        let r = api
            .post(
                &format!("{V1}/conversations"),
                json!({"channelId": "41", "user": {"name": "Bo"}}),
            )
            .await;
        let conv = r.json()["conversationId"].as_str().unwrap().to_string();
        let greet = rx
            .wait_event(&conv, "MESSAGE", |j| j["data"]["sender"]["id"] == "bill")
            .await;
        assert_eq!(greet.json["data"]["text"], "Billing here");
        assert_eq!(greet.header("x-8x8-customer-id").as_deref(), Some("acme"));
        assert_eq!(
            greet.header("x-8x8-tenant-id").as_deref(),
            Some("acme-tenant")
        );
    });
    let outcome = futures_util::FutureExt::catch_unwind(result).await;
    let _ = child.kill();
    let _ = child.wait();
    if let Err(p) = outcome {
        std::panic::resume_unwind(p);
    }
}
