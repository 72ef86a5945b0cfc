//! 8x8's API down while the bot talks to several customers: the emulator answers every
//! call with 503 for a while, then with 429 and `Retry-After`, then recovers. Every bot
//! message of every conversation reaches 8x8 after the recovery, once, in the order the
//! bot said them, and no call comes back sooner than 8x8's `Retry-After` asked.
//!
//! The outbox on its own is tested in crates/switchboard-engine/tests
//! (calls enqueued by hand); here the calls come from the conversation engine, driven by
//! 8x8 web-chat customers over signed webhooks, through the whole relay.

use std::time::{Duration, Instant};

use chat_gateway_sim::control_client::{Faults, LogFilter, LogRecord, SimControl, WebchatBody};
use reqwest::header;
use serde_json::{json, Value};
use switchboard_e2e::{client, eventually, one_failure_test_at_a_time, Seen, TestRelay};
use switchboard_store::outbox::Backoff;

const CUSTOMERS: usize = 5;
const WORDS: [&str; 4] = ["alpha", "bravo", "charlie", "delta"];
const GREETING: &str = "Hello from the outage test bot.";
/// Hang guard for each wait (never a speed bound).
const GUARD: Duration = Duration::from_secs(60);

/// A bot whose every answer names what it answers, so the order is visible at 8x8.
fn flow() -> String {
    let mut yaml = format!("greeting:\n  reply: {GREETING}\nrules:\n");
    for w in WORDS {
        yaml.push_str(&format!(
            "  - name: {w}\n    keywords: [{w}]\n    reply: Answer to {w}.\n"
        ));
    }
    yaml.push_str("fallback:\n  reply: Not understood.\nhandover:\n  keywords: [agent]\n  after_fallbacks: 0\n  reply: Connecting you.\n");
    yaml
}

struct Env {
    relay: TestRelay,
    /// The relay's embedded emulator, playing 8x8.
    sim: SimControl,
}

impl Env {
    async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let mut req = client()
            .request(method.parse().unwrap(), self.relay.admin(path))
            .header(header::AUTHORIZATION, self.relay.bearer());
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v
    }

    /// 8x8's Event Log of the API calls it was sent.
    async fn sim_log(&self) -> Vec<LogRecord> {
        let inbound = LogFilter::default().direction("inbound");
        self.sim.log(&inbound).await.unwrap()
    }

    /// Sets every fault of 8x8's API.
    async fn faults(&self, faults: Faults) {
        self.sim.set_faults(&faults).await.unwrap();
    }

    async fn bot_lines(&self, conversation: &str) -> Vec<String> {
        let res = client()
            .get(
                self.relay
                    .admin(&format!("/api/conversations/{conversation}")),
            )
            .header(header::AUTHORIZATION, self.relay.bearer())
            .send()
            .await
            .unwrap();
        if !res.status().is_success() {
            return Vec::new();
        }
        let v: Value = res.json().await.unwrap();
        v["transcript"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["lane"] == "bot")
            .map(|e| e["text"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

/// 8x8's answers to the relay's `POST …/messages` for `conversation`, in arrival order:
/// (status, text, time).
fn posts(log: &[LogRecord], conversation: &str) -> Vec<(u64, String, u64)> {
    let path = format!("POST /chat-gateway/v1/conversations/{conversation}/messages");
    log.iter()
        .filter(|r| r.record_type == path)
        .map(|r| {
            let body: Value = serde_json::from_str(&r.request_body).unwrap_or(Value::Null);
            (
                r.status_code.map_or(0, u64::from),
                body["text"].as_str().unwrap_or_default().to_string(),
                r.timestamp,
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_messages_reach_8x8_after_503s_and_429s_in_order_per_conversation() {
    let _turn = one_failure_test_at_a_time().await;
    let relay = TestRelay::start().await;
    // Short waits between attempts, so the outage is crossed in seconds.
    relay.handle.state.outbox.set_backoff(Backoff {
        base: Duration::from_millis(50),
        max: Duration::from_millis(400),
    });
    let sim = relay.sim();
    let env = Env { relay, sim };
    let view = env.admin("GET", "/api/settings", None).await;
    let mut settings = view["settings"].clone();
    settings["bot"]["flow"] = json!(flow());
    env.admin(
        "PUT",
        "/api/settings",
        Some(json!({ "settings": settings })),
    )
    .await;
    // The signing key is fetched at start (8x8 verifies the webhook with a signed event);
    // the JWK endpoint is part of the API the outage takes down.
    assert!(!env.relay.handle.state.inbox.jwks.is_empty());
    let hooks = client()
        .get(format!("{}/chat-gateway/v1/webhooks", env.sim.base_url()))
        .header("x-api-key", "sandbox-key")
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let webhook = hooks["_embedded"]["webhooks"][0]["id"]
        .as_str()
        .expect("a webhook id")
        .to_string();

    // 8x8 is down: every API call answers 503.
    env.faults(Faults {
        api_fail_rate: 1.0,
        api_fail_status: 503,
        ..Faults::default()
    })
    .await;
    let mut conversations = Vec::new();
    for i in 0..CUSTOMERS {
        let user = json!({ "name": format!("Customer {i}") });
        let webchat = WebchatBody::webhook(&webhook).with_user(user.as_object().unwrap().clone());
        let started = env.sim.start_webchat(&webchat).await.unwrap();
        conversations.push(started.conversation_id);
    }
    // The bot greets when 8x8 says the conversation is active; the customers speak after.
    for c in &conversations {
        let seen = Seen::new("the bot greeted");
        eventually(&seen, GUARD, async || {
            let lines = env.bot_lines(c).await;
            seen.note(format_args!("{lines:?}"));
            (lines == [GREETING]).then_some(())
        })
        .await;
    }
    let mut expected = vec![GREETING.to_string()];
    expected.extend(WORDS.iter().map(|w| format!("Answer to {w}.")));
    for w in WORDS {
        for c in &conversations {
            env.sim.customer_say(c, w).await.unwrap();
        }
    }
    // The bot has answered everything (in the relay), and 8x8 has refused each
    // conversation's first message more than once.
    for c in &conversations {
        let seen = Seen::new("the bot answered every message");
        eventually(&seen, GUARD, async || {
            let lines = env.bot_lines(c).await;
            seen.note(format_args!("{lines:?}"));
            (lines == expected).then_some(())
        })
        .await;
    }
    let seen = Seen::new("8x8 refused each conversation at least twice");
    eventually(&seen, GUARD, async || {
        let log = env.sim_log().await;
        let refused: Vec<usize> = conversations
            .iter()
            .map(|c| posts(&log, c).iter().filter(|p| p.0 == 503).count())
            .collect();
        seen.note(format_args!("{refused:?}"));
        refused.iter().all(|n| *n >= 2).then_some(())
    })
    .await;

    // Then 8x8 says "too many requests, come back in 1 s".
    env.faults(Faults {
        api_fail_rate: 1.0,
        api_fail_status: 429,
        retry_after_secs: 1,
        ..Faults::default()
    })
    .await;
    let seen = Seen::new("8x8 answered 429 twice for each conversation");
    eventually(&seen, GUARD, async || {
        let log = env.sim_log().await;
        let limited: Vec<usize> = conversations
            .iter()
            .map(|c| posts(&log, c).iter().filter(|p| p.0 == 429).count())
            .collect();
        seen.note(format_args!("{limited:?}"));
        limited.iter().all(|n| *n >= 2).then_some(())
    })
    .await;

    // 8x8 is back.
    env.faults(Faults::default()).await;
    let recovered = Instant::now();
    let outbox = env.relay.handle.state.outbox.clone();
    let seen = Seen::new("every outbox entry final");
    eventually(&seen, GUARD, async || {
        let open = outbox.open_count().await.unwrap();
        seen.note(format_args!("{open} open"));
        (open == 0).then_some(())
    })
    .await;
    let drained = recovered.elapsed();

    let entries = outbox.list(500, None).await.unwrap();
    let failed: Vec<_> = entries
        .iter()
        .filter(|e| e.status != switchboard_types::OutboxStatus::Delivered)
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let log = env.sim_log().await;
    let (mut refused_503, mut limited_429, mut shortest_wait_after_429) = (0, 0, u64::MAX);
    for c in &conversations {
        let posts = posts(&log, c);
        let accepted: Vec<String> = posts
            .iter()
            .filter(|p| (200..300).contains(&p.0))
            .map(|p| p.1.clone())
            .collect();
        // Once each, in the order the bot said them: 503 and 429 mean 8x8 took nothing.
        assert_eq!(accepted, expected, "conversation {c}");
        assert_eq!(env.bot_lines(c).await, expected);
        refused_503 += posts.iter().filter(|p| p.0 == 503).count();
        limited_429 += posts.iter().filter(|p| p.0 == 429).count();
        for pair in posts.windows(2).filter(|w| w[0].0 == 429) {
            shortest_wait_after_429 =
                shortest_wait_after_429.min(pair[1].2.saturating_sub(pair[0].2));
        }
    }
    // The relay waited as long as 8x8 asked (a lower bound: a slow machine only adds).
    assert!(
        shortest_wait_after_429 >= 950,
        "a call came back {shortest_wait_after_429} ms after a 429 with Retry-After: 1"
    );
    let attempts: i64 = entries.iter().map(|e| e.attempts).sum();
    println!("8x8 API down (503), then rate-limited (429, Retry-After 1 s), then back:");
    println!("  conversations                        {CUSTOMERS:>6}");
    println!(
        "  bot messages delivered, in order     {:>6}",
        entries.len()
    );
    println!("  attempts in all                      {attempts:>6}");
    println!("  POSTs answered 503 / 429             {refused_503:>6} / {limited_429}");
    println!("  shortest wait after a 429            {shortest_wait_after_429:>6} ms");
    println!(
        "  all delivered {:.2} s after 8x8 recovered",
        drained.as_secs_f64()
    );
    env.relay.handle.shutdown().await;
}
