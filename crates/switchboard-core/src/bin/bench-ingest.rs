//! Benchmark of the webhook receiver (not a test: it prints figures, it asserts none).
//!
//! Fires signed MESSAGE deliveries at a relay's endpoint listener on loopback — each one
//! signature-verified against the emulator's JWK and committed to SQLite before the 204
//! — and the same load at a no-op server that answers 204, in the same run, and prints
//! events/s, p50/p99 latency and the ratio. Then an open-loop run at a fixed rate (1,000
//! events/s by default) for the latency under a realistic load.
//!
//! `cargo run --release -p switchboard-core --bin bench-ingest -- [events] [concurrency] [rate]`
//! (see crates/switchboard-core/BENCHMARKS.md).

use std::{
    net::Ipv4Addr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use axum::{http::StatusCode, routing::post, Router};
use chat_gateway_sim::{Keyring, Seed, SimConfig};
use switchboard_core::{
    relay::{RelayConfig, SandboxMode},
    settings::{MemorySettings, Settings, SettingsStore},
};

const TENANT: &str = "sandbox-tenant";
const CUSTOMER: &str = "sandbox-customer";

struct Delivery {
    body: Vec<u8>,
    headers: Vec<(&'static str, String)>,
}

struct Run {
    label: &'static str,
    events: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    failures: usize,
}

impl Run {
    fn rate(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }

    fn pct(&self, p: f64) -> Duration {
        let mut l = self.latencies.clone();
        l.sort();
        l[((l.len() as f64 - 1.0) * p).round() as usize]
    }

    fn print(&self) {
        println!(
            "{:<34} {:>9.0} events/s   p50 {:>8.3} ms   p99 {:>8.3} ms   ({} events, {} failed)",
            self.label,
            self.rate(),
            self.pct(0.50).as_secs_f64() * 1e3,
            self.pct(0.99).as_secs_f64() * 1e3,
            self.events,
            self.failures,
        );
    }
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("arguments are numbers"))
        .collect();
    let events = args.first().copied().unwrap_or(10_000);
    let concurrency = args.get(1).copied().unwrap_or(64);
    let rate = args.get(2).copied().unwrap_or(1_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(bench(events, concurrency, rate));
}

async fn bench(events: usize, concurrency: usize, rate: usize) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("bench-ingest: {events} events, {concurrency} concurrent, fixed-rate run at {rate}/s, {cores} cores");

    let keyring = Arc::new(Keyring::generate().expect("an RSA key"));
    let mut sim_config = SimConfig::new((Ipv4Addr::LOCALHOST, 0).into(), Seed::sandbox());
    sim_config.keyring = Some(keyring.clone());
    let sim = chat_gateway_sim::start(sim_config)
        .await
        .expect("the emulator starts");

    let dir = std::env::temp_dir().join(format!("bench-ingest-{}", std::process::id()));
    let settings = MemorySettings::default();
    let mut s = Settings::default();
    s.connection.base_url = sim.base_url();
    s.connection.tenant = Some(TENANT.into());
    s.endpoint.token = switchboard_core::token::generate();
    settings.save(&s).expect("memory settings save");
    let mut config = RelayConfig::for_tests(dir.clone());
    config.settings_store = Arc::new(settings);
    config.sandbox = SandboxMode::Off;
    let relay = switchboard_core::start(config)
        .await
        .expect("the relay starts");
    let relay_url = relay.endpoint_url().await;

    let noop = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let noop_url = format!("http://{}/noop", noop.local_addr().unwrap());
    let noop_app = Router::new().route(
        "/noop",
        post(|_body: axum::body::Bytes| async { StatusCode::NO_CONTENT }),
    );
    tokio::spawn(async move { axum::serve(noop, noop_app).await });

    // What one signature check costs on this machine, alone.
    {
        use switchboard_core::inbox::signature;
        let d = sign_all(&keyring, 1).remove(0);
        let mut map = axum::http::HeaderMap::new();
        for (k, v) in &d.headers {
            map.insert(*k, v.parse().unwrap());
        }
        let h = signature::DeliveryHeaders::from_headers(&map).unwrap();
        let parsed = signature::parse_signature(&h.signature).unwrap();
        let jwk = keyring.jwk(&parsed.kid).unwrap();
        let key = signature::key_from_jwk(&jwk, &parsed.kid).unwrap();
        let n = 2_000;
        let t = Instant::now();
        for _ in 0..n {
            signature::verify(&key, &d.body, &h, &parsed).unwrap();
        }
        println!(
            "signature check (CRC-32 + RS256 verify): {:.1} µs each, one core",
            t.elapsed().as_secs_f64() * 1e6 / n as f64
        );
    }

    let fixed = rate * 5;
    let total = events * 2 + fixed;
    let signing = Instant::now();
    let deliveries = Arc::new(sign_all(&keyring, total));
    println!(
        "signed {total} deliveries in {:.1} s (not measured)",
        signing.elapsed().as_secs_f64()
    );

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    // Warm-up: JWK fetched and cached, connections open, SQLite pages in.
    closed_loop(
        "warm-up",
        &http,
        &noop_url,
        &deliveries,
        0..events / 10,
        concurrency,
    )
    .await;
    closed_loop(
        "warm-up",
        &http,
        &relay_url,
        &deliveries,
        0..events / 10,
        concurrency,
    )
    .await;

    println!();
    let noop_run = closed_loop(
        "no-op server (204)",
        &http,
        &noop_url,
        &deliveries,
        0..events,
        concurrency,
    )
    .await;
    noop_run.print();
    let relay_run = closed_loop(
        "relay: verify + store + 204",
        &http,
        &relay_url,
        &deliveries,
        events..events * 2,
        concurrency,
    )
    .await;
    relay_run.print();
    println!(
        "ratio relay / no-op: {:.2}× throughput",
        relay_run.rate() / noop_run.rate()
    );

    let fixed_run = open_loop(
        "relay at a fixed rate",
        &http,
        &relay_url,
        &deliveries,
        events * 2..total,
        rate,
    )
    .await;
    fixed_run.print();

    // Proof that the figures are for verified, stored events.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let valid: i64 = relay
        .state
        .db
        .call(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM deliveries WHERE signature = 'valid' AND status NOT IN ('rejected', 'duplicate')",
                [],
                |r| r.get(0),
            )
        })
        .await
        .unwrap();
    println!(
        "stored with a valid signature: {valid} of {} sent to the relay",
        events + events / 10 + fixed
    );
    relay.shutdown().await;
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Signing is 8x8's work, not the receiver's: done up front, on every core.
fn sign_all(keyring: &Keyring, n: usize) -> Vec<Delivery> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let now = switchboard_core::events::now_ms() as u64;
    let chunks: Vec<Vec<Delivery>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    (0..n)
                        .filter(|i| i % threads == t)
                        .map(|i| {
                            let body = serde_json::json!({
                                "eventType": "MESSAGE",
                                "conversationId": format!("conv-{}", i % 100),
                                "timestamp": now,
                                "data": {"isEcho": true, "sender": {"id": "bot", "type": "bot"},
                                         "text": format!("benchmark message {i}")}
                            })
                            .to_string()
                            .into_bytes();
                            let eid = format!("bench-{now}-{i}");
                            let headers = keyring
                                .sign_delivery(&body, TENANT, CUSTOMER, &eid, 0, now)
                                .pairs();
                            Delivery { body, headers }
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    chunks.into_iter().flatten().collect()
}

async fn send(http: &reqwest::Client, url: &str, d: &Delivery) -> bool {
    let mut req = http
        .post(url)
        .header("content-type", "application/json")
        .body(d.body.clone());
    for (k, v) in &d.headers {
        req = req.header(*k, v);
    }
    matches!(req.send().await, Ok(r) if r.status().is_success())
}

/// `concurrency` senders, each sending its next delivery as soon as the last is answered.
async fn closed_loop(
    label: &'static str,
    http: &reqwest::Client,
    url: &str,
    deliveries: &Arc<Vec<Delivery>>,
    range: std::ops::Range<usize>,
    concurrency: usize,
) -> Run {
    let next = Arc::new(AtomicUsize::new(range.start));
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (http, url, deliveries, next) = (
                http.clone(),
                url.to_string(),
                deliveries.clone(),
                next.clone(),
            );
            let end = range.end;
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failures = 0;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= end {
                        return (latencies, failures);
                    }
                    let t = Instant::now();
                    if !send(&http, &url, &deliveries[i]).await {
                        failures += 1;
                    }
                    latencies.push(t.elapsed());
                }
            })
        })
        .collect();
    let mut run = Run {
        label,
        events: range.len(),
        elapsed: Duration::ZERO,
        latencies: Vec::with_capacity(range.len()),
        failures: 0,
    };
    for t in tasks {
        let (l, f) = t.await.unwrap();
        run.latencies.extend(l);
        run.failures += f;
    }
    run.elapsed = started.elapsed();
    run
}

/// One delivery every 1/rate s whatever the answers do; latency is measured from the
/// moment each was due, so a stall shows up in the percentiles.
async fn open_loop(
    label: &'static str,
    http: &reqwest::Client,
    url: &str,
    deliveries: &Arc<Vec<Delivery>>,
    range: std::ops::Range<usize>,
    rate: usize,
) -> Run {
    let started = Instant::now();
    let period = Duration::from_secs_f64(1.0 / rate as f64);
    let mut tasks = Vec::with_capacity(range.len());
    for (n, i) in range.clone().enumerate() {
        let due = started + period * n as u32;
        tokio::time::sleep_until(due.into()).await;
        let (http, url, deliveries) = (http.clone(), url.to_string(), deliveries.clone());
        tasks.push(tokio::spawn(async move {
            let ok = send(&http, &url, &deliveries[i]).await;
            (due.elapsed(), ok)
        }));
    }
    let mut run = Run {
        label,
        events: range.len(),
        elapsed: Duration::ZERO,
        latencies: Vec::with_capacity(range.len()),
        failures: 0,
    };
    for t in tasks {
        let (l, ok) = t.await.unwrap();
        run.latencies.push(l);
        run.failures += usize::from(!ok);
    }
    run.elapsed = started.elapsed();
    run
}
