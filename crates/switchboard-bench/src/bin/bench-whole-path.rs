//! Benchmark of the whole path (not a test: it prints figures, it asserts none): a signed
//! customer MESSAGE arrives at the relay's endpoint, is verified and stored, the engine
//! opens an endpoint conversation and runs the bot, the bot's reply goes through the
//! outbox to 8x8 — here a fast stand-in that answers 202 (benchkit/stand_in.rs). Beside
//! it, in the same run, the receiver alone (8x8 echoes, which the engine drops), so the
//! whole path is given as a share of what the receiver takes.
//!
//! `cargo run --release -p switchboard-bench --bin bench-whole-path -- [messages] [concurrency] [slow-messages] [seconds-after=60]`
//! (see crates/switchboard-bench/BENCHMARKS.md).

mod benchkit;

use std::{
    collections::HashMap,
    net::Ipv4Addr,
    ops::Range,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use benchkit::{
    cpu,
    deliveries::{self, Delivery},
    memory,
    proxy::Posted,
    senders, stand_in,
    table::{ms, Samples, Table},
};
use chat_gateway_sim::{Keyring, Seed, SimConfig};
use serde_json::json;
use tokio::sync::mpsc;

/// The outbox worker's calls in flight (switchboard-outbox-worker's CONCURRENCY).
const OUTBOX_IN_FLIGHT: f64 = 64.0;
const SLOW_8X8: Duration = Duration::from_millis(100);

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| {
            a.parse().expect(
                "arguments are numbers: [messages] [concurrency] [slow-messages] [seconds-after]",
            )
        })
        .collect();
    let messages = args.first().copied().unwrap_or(5_000);
    let concurrency = args.get(1).copied().unwrap_or(64);
    let slow = args.get(2).copied().unwrap_or(2_000);
    let after = Duration::from_secs(args.get(3).copied().unwrap_or(60) as u64);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(bench(messages, concurrency, slow, after));
}

/// A customer's first message in a conversation of its own; the built-in flow answers it.
fn customer_body(run: &str) -> impl Fn(usize, u64) -> Vec<u8> + Sync + '_ {
    move |i, now_ms| {
        json!({
            "eventType": "MESSAGE",
            "conversationId": format!("wp-{run}-{i}"),
            "timestamp": now_ms,
            "data": {"isEcho": false, "sender": {"id": format!("customer-{i}"), "type": "user"},
                     "text": "What are your opening hours?"}
        })
        .to_string()
        .into_bytes()
    }
}

struct PathRun {
    messages: usize,
    /// From the first POST to the relay until the last conversation's reply reached 8x8.
    elapsed: Duration,
    /// Per message: from the relay's 2xx to its reply reaching 8x8.
    lag: Samples,
    replied: usize,
    peak_mib: f64,
    cpu: Duration,
    /// CPU by thread group (tokio workers, the database thread …), busiest first.
    threads: Vec<(String, Duration)>,
}

impl PathRun {
    fn rate(&self) -> f64 {
        self.replied as f64 / self.elapsed.as_secs_f64()
    }
}

async fn bench(messages: usize, concurrency: usize, slow: usize, after: Duration) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("bench-whole-path: {messages} conversations ({slow} against a 100 ms 8x8), {concurrency} concurrent senders, {cores} cores");

    let keyring = Arc::new(Keyring::generate().expect("an RSA key"));
    let seed = Seed::sandbox();
    let key = seed.api_keys[0].key.clone();
    let mut sim_config = SimConfig::new((Ipv4Addr::LOCALHOST, 0).into(), seed);
    sim_config.keyring = Some(keyring.clone());
    let sim = chat_gateway_sim::start(sim_config)
        .await
        .expect("the emulator starts");
    let (stand_in_url, posted, latency_ms) = stand_in::start(sim.base_url()).await;
    let posted = Arc::new(tokio::sync::Mutex::new(posted));
    let dir = std::env::temp_dir().join(format!("bench-whole-path-{}", std::process::id()));
    let relay = benchkit::relay::start(&stand_in_url, Some(&key), dir.clone()).await;
    let url = relay.endpoint_url().await;

    let run = format!("{}", switchboard_types::events::now_ms());
    let warm = 0..200;
    let echoes = 0..messages;
    let fast = warm.end..warm.end + messages;
    let slow_range = fast.end..fast.end + slow;
    let signing = Instant::now();
    let customers = Arc::new(deliveries::sign_all(
        &keyring,
        slow_range.end,
        customer_body(&run),
    ));
    let echo_deliveries = Arc::new(deliveries::sign_all(
        &keyring,
        echoes.end,
        deliveries::echo_body,
    ));
    println!(
        "signed {} deliveries in {:.1} s (8x8's work: not measured)",
        customers.len() + echo_deliveries.len(),
        signing.elapsed().as_secs_f64()
    );
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();

    // Warm-up: keys fetched, connections open, the bot's flow loaded.
    let warm_run = whole_path(&http, &url, &customers, warm, concurrency, &posted, &run).await;
    assert_eq!(
        warm_run.replied, warm_run.messages,
        "every warm-up conversation must get its reply (is the bot answering?)"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle_mib = memory::resident_mib();

    cpu::settle().await;
    let cpu0 = cpu::own();
    let (_, receiver) =
        senders::closed_loop(&http, &url, &echo_deliveries, echoes.clone(), concurrency).await;
    let receiver_cpu = cpu::own().saturating_sub(cpu0);
    let receiver_rate = echoes.len() as f64 / receiver.as_secs_f64();

    cpu::settle().await;
    let fast_run = whole_path(&http, &url, &customers, fast, concurrency, &posted, &run).await;
    let after_burst = Instant::now();
    tokio::time::sleep(after).await;
    let after_mib = memory::resident_mib();
    println!(
        "(waited {:.0} s after the burst for the memory figure)",
        after_burst.elapsed().as_secs_f64()
    );

    latency_ms.store(SLOW_8X8.as_millis() as u64, Ordering::Relaxed);
    cpu::settle().await;
    let slow_run = whole_path(
        &http,
        &url,
        &customers,
        slow_range,
        concurrency,
        &posted,
        &run,
    )
    .await;

    println!();
    let mut table = Table::new(
        &[
            "run",
            "per second",
            "lag p50",
            "lag p99",
            "lag max",
            "CPU/event",
            "done",
        ],
        1,
    );
    table.row(vec![
        format!("receiver alone (8x8 echoes), {concurrency} concurrent"),
        format!("{receiver_rate:.0} events"),
        "—".into(),
        "—".into(),
        "—".into(),
        format!(
            "{:.0} µs",
            receiver_cpu.as_secs_f64() * 1e6 / echoes.len() as f64
        ),
        format!("{} of {}", echoes.len(), echoes.len()),
    ]);
    for (label, r) in [
        ("whole path, fast 8x8", &fast_run),
        ("whole path, 8x8 answering in 100 ms", &slow_run),
    ] {
        table.row(vec![
            label.into(),
            format!("{:.0} conversations", r.rate()),
            ms(r.lag.pct(0.50)),
            ms(r.lag.pct(0.99)),
            ms(r.lag.max()),
            format!("{:.0} µs", r.cpu.as_secs_f64() * 1e6 / r.messages as f64),
            format!("{} of {}", r.replied, r.messages),
        ]);
    }
    table.print();
    println!(
        "CPU/event: this process (load generator, relay and 8x8 stand-in together) per message"
    );
    println!();
    let per_thread: Vec<String> = fast_run
        .threads
        .iter()
        .take(6)
        .map(|(name, d)| {
            let per = d.as_secs_f64() * 1e6 / fast_run.messages as f64;
            let busy = d.as_secs_f64() / fast_run.elapsed.as_secs_f64() * 100.0;
            format!("{name} {per:.0} µs ({busy:.0} % of a core)")
        })
        .collect();
    println!(
        "whole path, fast 8x8, CPU per conversation by thread: {}",
        per_thread.join(", ")
    );
    println!(
        "whole path / receiver: {:.2}× (target ≥ 0.5×)",
        fast_run.rate() / receiver_rate
    );
    let bound = OUTBOX_IN_FLIGHT / SLOW_8X8.as_secs_f64();
    println!(
        "8x8 at 100 ms: {:.0} conversations/s = {:.2}× the in-flight bound of {bound:.0}/s (target ≥ 0.8×)",
        slow_run.rate(),
        slow_run.rate() / bound
    );
    println!(
        "resident memory: idle {idle_mib:.0} MiB, peak in the burst {:.0} MiB, {} s after it {after_mib:.0} MiB = {:.2}× idle (target ≤ 2×)",
        fast_run.peak_mib,
        after.as_secs(),
        after_mib / idle_mib
    );
    relay.shutdown().await;
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Sends `range`'s customer messages (`concurrency` senders, each sending its next as
/// soon as the last is acknowledged) and waits until every conversation's first reply
/// has reached the stand-in (at most 120 s).
async fn whole_path(
    http: &reqwest::Client,
    url: &str,
    customers: &Arc<Vec<Delivery>>,
    range: Range<usize>,
    concurrency: usize,
    posted: &Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Posted>>>,
    run: &str,
) -> PathRun {
    let peak = Arc::new(Mutex::new(memory::resident_mib()));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                let now = memory::resident_mib();
                {
                    let mut p = peak.lock().unwrap();
                    *p = p.max(now);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let cpu0 = cpu::own();
    let threads0 = cpu::by_thread_name();
    let started = Instant::now();
    let senders = {
        let (http, url, customers, range) = (
            http.clone(),
            url.to_string(),
            customers.clone(),
            range.clone(),
        );
        tokio::spawn(async move {
            senders::closed_loop(&http, &url, &customers, range, concurrency).await
        })
    };
    let prefix = format!("wp-{run}-");
    let mut replies: HashMap<usize, Instant> = HashMap::new();
    let mut posted = posted.lock().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while replies.len() < range.len() {
        match tokio::time::timeout_at(deadline, posted.recv()).await {
            Ok(Some(p)) => {
                let i = p
                    .conversation_id
                    .strip_prefix(&prefix)
                    .and_then(|i| i.parse::<usize>().ok());
                if let Some(i) = i.filter(|i| range.contains(i)) {
                    replies.entry(i).or_insert(p.at);
                }
            }
            _ => {
                println!(
                    "stopped waiting: {} of {} conversations answered after 120 s",
                    replies.len(),
                    range.len()
                );
                break;
            }
        }
    }
    let last = replies.values().max().copied().unwrap_or_else(Instant::now);
    let (answers, _) = senders.await.expect("the senders run");
    let cpu = cpu::own().saturating_sub(cpu0);
    let threads = cpu::since(&threads0);
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.await;
    let acked: HashMap<usize, Instant> = answers
        .iter()
        .filter(|a| a.accepted())
        .map(|a| (a.index, a.at))
        .collect();
    let lag = replies
        .iter()
        .filter_map(|(i, at)| acked.get(i).map(|a| at.saturating_duration_since(*a)))
        .collect();
    let peak_mib = *peak.lock().unwrap();
    PathRun {
        messages: range.len(),
        elapsed: last.saturating_duration_since(started),
        lag: Samples(lag),
        replied: replies.len(),
        peak_mib,
        cpu,
        threads,
    }
}
