//! Signed 8x8 webhook deliveries, made exactly as the emulator (and 8x8) makes them, and
//! sent the way 8x8 sends them. Signing is 8x8's work, not the receiver's: benchmarks do
//! it before the clock starts.

use chat_gateway_sim::Keyring;
use serde_json::json;

/// The sandbox seed's tenant and customer, which the deliveries carry.
pub const TENANT: &str = "sandbox-tenant";
pub const CUSTOMER: &str = "sandbox-customer";

pub struct Delivery {
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
}

impl Delivery {
    /// The same headers over a changed body (still valid JSON: one more space before the
    /// closing brace): a receiver that verifies must refuse it.
    pub fn tampered(&self) -> Delivery {
        let mut body = self.body.clone();
        body.insert(body.len() - 1, b' ');
        Delivery {
            body,
            headers: self.headers.clone(),
        }
    }
}

pub fn sign(keyring: &Keyring, body: Vec<u8>, event_id: &str, now_ms: u64) -> Delivery {
    let headers = keyring
        .sign_delivery(&body, TENANT, CUSTOMER, event_id, 0, now_ms)
        .pairs();
    Delivery { body, headers }
}

/// `n` deliveries signed on every core; `body(i, now_ms)` makes the i-th body. Each is
/// stamped when it is signed, as 8x8 stamps each attempt when it sends it.
pub fn sign_all(
    keyring: &Keyring,
    n: usize,
    body: impl Fn(usize, u64) -> Vec<u8> + Sync,
) -> Vec<Delivery> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let run = switchboard_types::events::now_ms();
    let body = &body;
    let mut chunks: Vec<Vec<(usize, Delivery)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    (t..n)
                        .step_by(threads)
                        .map(|i| {
                            let now = switchboard_types::events::now_ms() as u64;
                            let d = sign(keyring, body(i, now), &format!("bench-{run}-{i}"), now);
                            (i, d)
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all: Vec<(usize, Delivery)> = chunks.drain(..).flatten().collect();
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, d)| d).collect()
}

/// A bot message as 8x8 echoes it (P5): the relay stores it and the engine drops it
/// without running the bot, so ingest figures are the receiver's.
pub fn echo_body(i: usize, now_ms: u64) -> Vec<u8> {
    json!({
        "eventType": "MESSAGE",
        "conversationId": format!("conv-{}", i % 100),
        "timestamp": now_ms,
        "data": {"isEcho": true, "sender": {"id": "bot", "type": "bot"},
                 "text": format!("benchmark message {i}")}
    })
    .to_string()
    .into_bytes()
}

/// An agent's MESSAGE event, in the shape (and key order) the emulator sends it.
pub fn agent_message_body(
    conversation_id: &str,
    agent_id: &str,
    text: &str,
    now_ms: u64,
) -> Vec<u8> {
    json!({
        "eventType": "MESSAGE",
        "conversationId": conversation_id,
        "timestamp": now_ms,
        "data": {"isEcho": false, "sender": {"id": agent_id, "type": "agent"}, "text": text}
    })
    .to_string()
    .into_bytes()
}

/// POSTs one delivery; the answer's status, or `None` when there was no answer.
pub async fn send(http: &reqwest::Client, url: &str, d: &Delivery) -> Option<u16> {
    let mut req = http
        .post(url)
        .header("content-type", "application/json")
        .body(d.body.clone());
    for (k, v) in &d.headers {
        req = req.header(*k, v);
    }
    req.send().await.ok().map(|r| r.status().as_u16())
}
