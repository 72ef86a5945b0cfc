//! Concurrent load on both listeners of one relay process: 2,000 signed webhooks on the
//! endpoint listener while admin clients do what the UI does (status, conversation list,
//! a transcript, the inspector's deliveries and outbox, the settings) and a live SSE
//! stream is open. Every request is answered without error, every webhook is stored and
//! processed, and the live stream goes on delivering during and after the load.
//!
//! The bounds are hang guards only; the figures are printed, not asserted.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use reqwest::header;
use serde_json::{json, Value};
use switchboard_e2e::{
    emulator::{self, open_agent_conversations, seed_for, TENANT},
    eventually, one_failure_test_at_a_time,
    process::{ServerConfig, ServerProcess},
    relay_db::RelayDb,
    Seen,
};

const CONVERSATIONS: usize = 20;
const WEBHOOKS: usize = 2_000;
const SENDERS: usize = 16;
const ADMIN_CLIENTS: usize = 4;
/// Per request: a request taking longer than this is a stall.
const REQUEST_GUARD: Duration = Duration::from_secs(60);
const GUARD: Duration = Duration::from_secs(180);

#[derive(Default)]
struct Timings {
    ok: Vec<Duration>,
    errors: Vec<String>,
}

impl Timings {
    fn record(&mut self, took: Duration, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => self.ok.push(took),
            Err(e) => self.errors.push(e),
        }
    }

    fn row(&mut self, name: &str) {
        self.ok.sort();
        let pick = |q: f64| {
            self.ok
                .get(((self.ok.len() as f64 - 1.0) * q).round() as usize)
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        println!(
            "  {name:<34} {:>6} {:>6} {:>9.1} {:>9.1} {:>9.1}",
            self.ok.len(),
            self.errors.len(),
            pick(0.5),
            pick(0.99),
            pick(1.0)
        );
    }
}

/// One agent message as 8x8 sends it, signed like 8x8 signs it.
fn signed_delivery(
    keyring: &chat_gateway_sim::Keyring,
    customer: &str,
    conversation: &str,
    text: &str,
) -> (Vec<(String, String)>, Vec<u8>) {
    let now = switchboard_types::events::now_ms();
    let body = serde_json::to_vec(&json!({
        "eventType": "MESSAGE",
        "conversationId": conversation,
        "timestamp": now,
        "data": { "isEcho": false, "sender": { "id": "agent-lou", "type": "agent" }, "text": text },
    }))
    .unwrap();
    let eid = switchboard_types::token::generate()[..22].to_string();
    let signed = keyring.sign_delivery(&body, TENANT, customer, &eid, 0, now as u64);
    let mut headers: Vec<(String, String)> = signed
        .pairs()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    headers.push(("content-type".into(), "application/json".into()));
    (headers, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_endpoint_and_live_stream_under_load_together() {
    let _turn = one_failure_test_at_a_time().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new(dir.path(), "http://127.0.0.1:9");
    let sim = emulator::start(
        "127.0.0.1:0",
        seed_for(&config.endpoint_url()),
        emulator::settings(20, 200, 30_000),
        None,
    )
    .await;
    config.base_url = sim.base_url();
    let relay = Arc::new(ServerProcess::start(&config));
    let conversations = open_agent_conversations(&sim, CONVERSATIONS, "agent-lou").await;
    let db = RelayDb::open(&relay.db_path());
    let seen = Seen::new("every conversation with its agent in the relay");
    eventually(&seen, GUARD, async || {
        let n = db.count("SELECT COUNT(*) FROM conversations WHERE phase = 'agent'");
        seen.check(n == CONVERSATIONS as i64, n)
    })
    .await;

    // Signing is 8x8's work, done before the clock starts.
    let keyring = sim.keyring();
    let customer = sim.customer_id().to_string();
    let convs = conversations.clone();
    let deliveries = Arc::new(
        tokio::task::spawn_blocking(move || {
            (0..WEBHOOKS)
                .map(|i| {
                    let c = &convs[i % convs.len()];
                    signed_delivery(&keyring, &customer, c, &format!("load {i} in {c}"))
                })
                .collect::<Vec<_>>()
        })
        .await
        .unwrap(),
    );
    let http = reqwest::Client::builder()
        .timeout(REQUEST_GUARD)
        .build()
        .unwrap();

    // The live stream, as the UI opens it.
    let sse_events: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let sse = {
        let res = http
            .get(relay.admin("/api/events"))
            .header(header::AUTHORIZATION, relay.bearer())
            .timeout(Duration::from_secs(3600))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{}", res.status());
        let events = sse_events.clone();
        tokio::spawn(async move {
            let mut res = res;
            let mut pending = String::new();
            while let Ok(Some(chunk)) = res.chunk().await {
                pending.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = pending.find("\n\n") {
                    let event: String = pending.drain(..end + 2).collect();
                    events.lock().unwrap().push((Instant::now(), event));
                }
            }
        })
    };

    let load_started = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicUsize::new(0));
    let webhook_timings = Arc::new(Mutex::new(Timings::default()));
    let mut senders = Vec::new();
    for _ in 0..SENDERS {
        let (http, deliveries, next, timings) = (
            http.clone(),
            deliveries.clone(),
            next.clone(),
            webhook_timings.clone(),
        );
        let url = relay.endpoint_url();
        senders.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((headers, body)) = deliveries.get(i) else {
                    break;
                };
                let mut req = http.post(&url).body(body.clone());
                for (k, v) in headers {
                    req = req.header(k, v);
                }
                let t = Instant::now();
                let outcome = match req.send().await {
                    Ok(r) if r.status() == 204 => Ok(()),
                    Ok(r) => Err(format!(
                        "{} {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    )),
                    Err(e) => Err(e.to_string()),
                };
                timings.lock().unwrap().record(t.elapsed(), outcome);
            }
        }));
    }
    let admin_kinds: Vec<(&str, String)> = vec![
        ("GET /api/status", "/api/status".into()),
        (
            "GET /api/conversations",
            "/api/conversations?limit=50".into(),
        ),
        (
            "GET /api/conversations/{id}",
            format!("/api/conversations/{}", conversations[0]),
        ),
        (
            "GET /api/inspector/deliveries",
            "/api/inspector/deliveries?limit=100".into(),
        ),
        (
            "GET /api/inspector/outbox",
            "/api/inspector/outbox?limit=100".into(),
        ),
        ("GET /api/settings", "/api/settings".into()),
    ];
    let admin_timings: Arc<Vec<Mutex<Timings>>> =
        Arc::new(admin_kinds.iter().map(|_| Mutex::default()).collect());
    let mut admins = Vec::new();
    for client in 0..ADMIN_CLIENTS {
        let (http, done, timings, kinds, relay) = (
            http.clone(),
            done.clone(),
            admin_timings.clone(),
            admin_kinds.clone(),
            relay.clone(),
        );
        admins.push(tokio::spawn(async move {
            let mut k = client;
            while !done.load(Ordering::Relaxed) {
                let kind = k % kinds.len();
                k += 1;
                let t = Instant::now();
                let res = http
                    .get(relay.admin(&kinds[kind].1))
                    .header(header::AUTHORIZATION, relay.bearer())
                    .send()
                    .await;
                let outcome = match res {
                    Ok(r) if r.status().is_success() => r
                        .json::<Value>()
                        .await
                        .map(|_| ())
                        .map_err(|e| format!("body: {e}")),
                    Ok(r) => Err(format!(
                        "{} {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    )),
                    Err(e) => Err(e.to_string()),
                };
                timings[kind].lock().unwrap().record(t.elapsed(), outcome);
            }
        }));
    }

    for s in senders {
        tokio::time::timeout(GUARD, s)
            .await
            .expect("senders finish")
            .unwrap();
    }
    let webhooks_took = load_started.elapsed();
    // The engine's work continues after the answers; the admin clients keep going
    // until it is done.
    let seen = Seen::new("every load webhook processed");
    eventually(&seen, GUARD, async || {
        let n = db.count(
            "SELECT COUNT(*) FROM deliveries WHERE event_type = 'MESSAGE' AND status = 'processed'
             AND json_extract(body, '$.data.text') LIKE 'load %'",
        );
        seen.note(format_args!("{n} processed"));
        (n == WEBHOOKS as i64).then_some(())
    })
    .await;
    let load_took = load_started.elapsed();
    done.store(true, Ordering::Relaxed);
    for a in admins {
        tokio::time::timeout(GUARD, a)
            .await
            .expect("admin clients finish")
            .unwrap();
    }

    // The stream still delivers after the load: one more message shows up on it.
    let (headers, body) = signed_delivery(
        &sim.keyring(),
        sim.customer_id(),
        &conversations[1],
        "after the load",
    );
    let mut req = http.post(relay.endpoint_url()).body(body);
    for (k, v) in &headers {
        req = req.header(k, v);
    }
    assert_eq!(req.send().await.unwrap().status(), 204);
    eventually(
        "the message after the load on the live stream",
        GUARD,
        async || {
            let seen = sse_events
                .lock()
                .unwrap()
                .iter()
                .any(|(_, e)| e.contains("transcriptEntry") && e.contains("after the load"));
            seen.then_some(())
        },
    )
    .await;
    sse.abort();

    let events = sse_events.lock().unwrap().clone();
    let during: Vec<&(Instant, String)> = events
        .iter()
        .filter(|(t, _)| *t >= load_started && *t <= load_started + load_took)
        .collect();
    let entries = during
        .iter()
        .filter(|(_, e)| e.contains("transcriptEntry") && e.contains("load "))
        .count();
    let lagged = events
        .iter()
        .filter(|(_, e)| e.contains("event: lagged"))
        .count();
    let mut longest_gap = Duration::ZERO;
    let mut last = load_started;
    for (t, _) in &during {
        longest_gap = longest_gap.max(t.duration_since(last));
        last = *t;
    }

    let mut webhook_timings = std::mem::take(&mut *webhook_timings.lock().unwrap());
    println!(
        "concurrent load: {WEBHOOKS} signed webhooks from {SENDERS} senders, {ADMIN_CLIENTS} admin clients, one SSE stream"
    );
    println!(
        "  webhooks answered in {:.1} s ({:.0}/s); all processed after {:.1} s",
        webhooks_took.as_secs_f64(),
        WEBHOOKS as f64 / webhooks_took.as_secs_f64(),
        load_took.as_secs_f64()
    );
    println!(
        "  {:<34} {:>6} {:>6} {:>9} {:>9} {:>9}",
        "request", "ok", "errors", "p50 ms", "p99 ms", "max ms"
    );
    webhook_timings.row("POST /endpoint/{token}");
    let mut admin_errors = Vec::new();
    for (i, (name, _)) in admin_kinds.iter().enumerate() {
        let mut t = admin_timings[i].lock().unwrap();
        t.row(name);
        admin_errors.extend(t.errors.iter().map(|e| format!("{name}: {e}")));
        assert!(!t.ok.is_empty(), "{name} was never answered");
    }
    println!(
        "  SSE: {} events during the load ({entries} transcript lines of the load), {lagged} lagged notices, longest gap {:.0} ms",
        during.len(),
        longest_gap.as_secs_f64() * 1000.0
    );

    assert!(
        webhook_timings.errors.is_empty(),
        "{} webhooks failed, e.g. {:?}",
        webhook_timings.errors.len(),
        webhook_timings.errors.first()
    );
    assert!(admin_errors.is_empty(), "{admin_errors:?}");
    assert!(
        entries > 0,
        "the live stream delivered nothing during the load"
    );
    Arc::try_unwrap(relay).ok().expect("one owner").stop();
    sim.shutdown().await;
}
