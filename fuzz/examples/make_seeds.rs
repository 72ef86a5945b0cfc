//! Writes the seed corpora in `fuzz/corpus-seed/` from real inputs: deliveries the 8x8
//! emulator signs and posts to a webhook (as headers and body, the form the webhook and
//! signature targets read) for a handed-over conversation and a web-chat customer, the settings export of a fresh relay
//! and of one set up for handover, and the default bot flow.
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --example make_seeds` (a normal build, no
//! fuzzing flags). Seeds are committed; run this again only to refresh them.

use std::{
    collections::BTreeSet,
    io::{Read, Write},
    net::TcpListener,
    path::{Path, PathBuf},
    time::Duration,
};

use chat_gateway_sim::{Seed, SimConfig, WebchatTarget};
use serde_json::json;
use switchboard_bot::{BotKind, DEFAULT_FLOW};
use switchboard_fuzz::request;
use switchboard_settings::export::export;
use switchboard_settings::settings::Settings;

#[tokio::main]
async fn main() {
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus-seed");
    deliveries(&out).await;
    settings(&out.join("settings_import"));
    write(
        &out.join("flow"),
        "default_flow.yaml",
        DEFAULT_FLOW.as_bytes(),
    );
    write(
        &out.join("flow"),
        "documented_example.yaml",
        documented_flow().as_bytes(),
    );
    println!("seeds written to {}", out.display());
}

/// A receiver that answers 204 to everything, so that every delivery is final.
fn receiver() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
            let mut buf = [0u8; 65536];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n");
        }
    });
    format!("http://{addr}/endpoint/seed")
}

async fn deliveries(out: &Path) {
    let mut config = SimConfig::new("127.0.0.1:0".parse().unwrap(), Seed::sandbox());
    config.settings = chat_gateway_sim::Settings::fast();
    let sim = chat_gateway_sim::start(config)
        .await
        .expect("the emulator starts");
    let api = Api {
        http: reqwest::Client::new(),
        base: format!("{}/chat-gateway/v1", sim.base_url()),
    };
    let pause = |ms| tokio::time::sleep(Duration::from_millis(ms));

    // As a relay in handover mode: a webhook (8x8 verifies it), a ChatAPI channel on the
    // queue of the mock agent, a conversation the agent takes, a message each way and a
    // transfer.
    let hook = api
        .post(
            "webhooks",
            json!({"name": "relay", "uri": receiver(), "version": "Chat Gateway v1.0"}),
        )
        .await;
    let hook_id = hook["id"].as_str().expect("a webhook id").to_string();
    let channel = api
        .post(
            "channels",
            json!({"name": "relay", "type": "ChatAPI", "webHookId": hook_id,
                   "routingOptions": {"type": "queue", "id": "101"}}),
        )
        .await;
    let conversation = api
        .post(
            "conversations",
            json!({"channelId": channel["id"], "user": {"name": "Jo Example", "email": "jo@example.com"},
                   "history": {"messages": [{"authorType": "user", "text": "I need help with my bill"}]}}),
        )
        .await;
    let conv = conversation["conversationId"]
        .as_str()
        .expect("a conversation id")
        .to_string();
    pause(3000).await;
    api.post(
        &format!("conversations/{conv}/messages"),
        json!({"authorType": "user", "text": "Invoice 2024-117, \"urgent\" \u{e9}t\u{e9}"}),
    )
    .await;
    pause(1500).await;
    sim.agent_transfer(&conv, "102").unwrap();
    pause(1500).await;

    // As an 8x8 endpoint: a web-chat customer routed to the bot, who writes and leaves.
    let user = json!({"name": "Sam", "language": "de"});
    let (chat, _) = sim
        .start_webchat(
            None,
            WebchatTarget::Webhook(hook_id),
            user.as_object().cloned(),
        )
        .expect("a web chat starts");
    pause(300).await;
    sim.customer_say(&chat, "Where is my order 1234567? \u{1F4E6}")
        .unwrap();
    pause(300).await;
    sim.customer_leave(&chat).unwrap();
    pause(500).await;

    // One seed per kind of event.
    let mut seen = BTreeSet::new();
    for record in sim.log() {
        if record.direction != "outbound" || record.request_body.is_empty() {
            continue;
        }
        let Ok(body) = serde_json::from_str::<serde_json::Value>(&record.request_body) else {
            continue;
        };
        let data = &body["data"];
        let detail = [
            &data["state"],
            &data["name"],
            &data["sender"]["type"],
            &data["memberType"],
            &data["change"],
            &data["channel"],
        ]
        .iter()
        .filter_map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join("-");
        let kind = format!("{}-{detail}", body["eventType"].as_str().unwrap_or("none"))
            .to_lowercase()
            .replace(
                |c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_',
                "-",
            )
            .trim_end_matches('-')
            .to_string();
        if !seen.insert(kind.clone()) {
            continue;
        }
        let headers = record
            .request_headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()));
        let message = request::write(headers, record.request_body.as_bytes());
        for target in ["webhook_delivery", "signature"] {
            write(&out.join(target), &kind, &message);
        }
    }
    assert!(
        seen.len() >= 8,
        "too few kinds of deliveries were logged: {seen:?}"
    );
    sim.shutdown().await;
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    /// A sandbox API call that must succeed.
    async fn post(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let response = self
            .http
            .post(format!("{}/{path}", self.base))
            .header("x-api-key", "sandbox-key")
            .header("X-8x8-Tenant", "sandbox-tenant")
            .json(&body)
            .send()
            .await
            .expect("the emulator answers");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "POST {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
    }
}

fn settings(out: &Path) {
    write(out, "fresh.json", &pretty(&Settings::default()));
    let mut handover = Settings::default();
    handover.connection.tenant = Some("acme-tenant".into());
    handover.endpoint.public_base_url = Some("https://relay.example.com".into());
    handover.handover.use_endpoint_connection = false;
    handover.handover.connection.base_url = "http://127.0.0.1:8088".into();
    handover.handover.channel_id = Some("41".into());
    handover.handover.queue_id = Some("101".into());
    handover.handover.json_properties =
        r#"{"intent": "billing", "vip": true, "cart": {"items": [1, 2]}}"#.into();
    handover.bot.kind = BotKind::External;
    handover.bot.external_url = Some("http://localhost:5005/webhooks/rest/webhook".into());
    write(out, "handover-external-bot.json", &pretty(&handover));
}

/// The example in the flow module's documentation: smaller than the default flow, so
/// the fuzzer compiles fewer regexes per run while it explores.
fn documented_flow() -> String {
    const SOURCE: &str = include_str!("../../crates/switchboard-bot/src/flow.rs");
    let yaml: Vec<&str> = SOURCE
        .lines()
        .map_while(|l| l.strip_prefix("//!"))
        .skip_while(|l| l.trim() != "```yaml")
        .skip(1)
        .take_while(|l| l.trim() != "```")
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    assert!(!yaml.is_empty(), "the flow module documents an example");
    yaml.join("\n") + "\n"
}

fn pretty(settings: &Settings) -> Vec<u8> {
    serde_json::to_vec_pretty(&export(settings)).unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}
