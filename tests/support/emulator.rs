//! The 8x8 side of the failure tests: an emulator in the test process whose webhook and
//! channel point at a relay known in advance (its Endpoint URL is chosen before it
//! starts), a queue without a mock agent so agents act only when the test says, and
//! conversations opened through the Chat Gateway API and accepted by an agent.

use std::{sync::Arc, time::Duration};

use chat_gateway_sim::{Keyring, QueueSeed, Seed, SimConfig, SimHandle, WebhookSeed};
use serde_json::{json, Value};

use crate::eventually;

pub const KEY: &str = "sandbox-key";
pub const TENANT: &str = "sandbox-tenant";
/// A queue nobody answers but the test.
pub const QUEUE: &str = "150";
pub const WEBHOOK: &str = "900";
pub const CHANNEL: &str = "901";

/// The sandbox seed plus a webhook to `endpoint_url` and a channel routed to [`QUEUE`].
pub fn seed_for(endpoint_url: &str) -> Seed {
    let mut seed = Seed::sandbox();
    seed.queues.push(QueueSeed {
        id: QUEUE.into(),
        name: "Failure tests".into(),
        tenant: None,
        agent: None,
    });
    seed.webhooks.push(WebhookSeed {
        id: WEBHOOK.into(),
        tenant: TENANT.into(),
        name: "relay under test".into(),
        uri: endpoint_url.into(),
    });
    seed.channels.push(chat_gateway_sim::ChannelSeed {
        id: CHANNEL.into(),
        tenant: TENANT.into(),
        name: "failure tests".into(),
        kind: "ChatAPI".into(),
        web_hook_id: WEBHOOK.into(),
        queue_id: QUEUE.into(),
    });
    seed
}

/// Emulator timings for tests: quick activation, and a retry schedule of `retries`
/// attempts `every_ms` apart (8x8 retries unacknowledged deliveries, P11) so a test can
/// outlast a relay outage of `retries × every_ms` without waiting minutes.
pub fn settings(
    retries: usize,
    every_ms: u64,
    delivery_timeout_ms: u64,
) -> chat_gateway_sim::Settings {
    chat_gateway_sim::Settings {
        retry_schedule_ms: vec![every_ms; retries],
        delivery_timeout_ms,
        ..chat_gateway_sim::Settings::fast()
    }
}

pub async fn start(
    listen: &str,
    seed: Seed,
    settings: chat_gateway_sim::Settings,
    keyring: Option<Arc<Keyring>>,
) -> SimHandle {
    let mut config = SimConfig::new(listen.parse().expect("listen address"), seed);
    config.settings = settings;
    config.keyring = keyring;
    chat_gateway_sim::start(config)
        .await
        .expect("emulator starts")
}

/// Opens `n` conversations on [`CHANNEL`] through the Chat Gateway API and has agent
/// `agent` accept each, so the relay sees created, active, queued and agent joined, and
/// later agent messages only need the relay to record them.
pub async fn open_agent_conversations(sim: &SimHandle, n: usize, agent: &str) -> Vec<String> {
    let http = reqwest::Client::new();
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let res = http
            .post(format!("{}/chat-gateway/v1/conversations", sim.base_url()))
            .header("x-api-key", KEY)
            .header("X-8x8-Tenant", TENANT)
            .json(&json!({ "channelId": CHANNEL, "user": { "name": format!("Customer {i}") } }))
            .send()
            .await
            .expect("emulator answers");
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "create conversation: {status} {body}");
        ids.push(
            body["conversationId"]
                .as_str()
                .expect("conversationId")
                .to_string(),
        );
    }
    // The offer appears once the emulator has activated the conversation.
    for id in &ids {
        eventually(
            format!("an offer of {id} for {agent}"),
            Duration::from_secs(30),
            async || sim.agent_accept(id, Some(agent)).ok(),
        )
        .await;
    }
    ids
}

/// Outbound records (deliveries to the relay) of the events whose ids are in `ids`.
pub fn attempts_of<'a>(
    log: &'a [chat_gateway_sim::LogRecord],
    event_id: &'a str,
) -> impl Iterator<Item = &'a chat_gateway_sim::LogRecord> + 'a {
    log.iter()
        .filter(move |r| r.direction == "outbound" && r.event_id.as_deref() == Some(event_id))
}
