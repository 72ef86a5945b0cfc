//! Benchmark of the webhook receiver (not a test: it prints figures, it asserts none).
//!
//! The same signed MESSAGE deliveries, from the same load generator in the same run, go
//! to three receivers: a no-op server that answers 204, a reference receiver written the
//! way 8x8's docs show (Node + `jose`: verify, store nothing), and the relay's endpoint
//! listener (verify, commit to SQLite, then 204). Then an open-loop run at a fixed rate
//! (1,000 events/s by default) for the relay's latency under a realistic load. One table.
//!
//! `cargo run --release -p switchboard-bench --bin bench-ingest -- [events] [concurrency] [rate]`
//! (see crates/switchboard-bench/BENCHMARKS.md).

mod benchkit;

use std::{
    net::Ipv4Addr,
    ops::Range,
    sync::Arc,
    time::{Duration, Instant},
};

use benchkit::{
    cpu,
    deliveries::{self, Delivery, TENANT},
    noop,
    reference::NodeReference,
    senders,
    table::{ms, Samples, Table},
};
use chat_gateway_sim::{Keyring, Seed, SimConfig};
use switchboard_relay::endpoint::inbox::DEFAULT_FRESHNESS_WINDOW_MS;
use switchboard_relay::RelayHandle;

struct Run {
    events: usize,
    elapsed: Duration,
    latencies: Samples,
    failures: usize,
    /// CPU used meanwhile by this process, by its load generator and by the Node
    /// reference.
    cpu: Cpu,
}

/// The load generator runs on a runtime of its own whose threads carry this name, so
/// its CPU is read from its threads rather than estimated.
const LOAD_GEN: &str = "load-gen";

#[derive(Debug, Default, Clone, Copy)]
struct Cpu {
    own: Duration,
    load_gen: Duration,
    node: Duration,
}

impl Cpu {
    fn now(node: Option<&NodeReference>) -> Self {
        Self {
            own: cpu::own(),
            load_gen: cpu::threads_named(LOAD_GEN),
            node: node.map_or(Duration::ZERO, |n| cpu::used(n.pid())),
        }
    }

    fn since(self, before: Cpu) -> Self {
        Self {
            own: self.own.saturating_sub(before.own),
            load_gen: self.load_gen.saturating_sub(before.load_gen),
            node: self.node.saturating_sub(before.node),
        }
    }
}

impl Run {
    fn rate(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }

    /// CPU µs per event over every process of the run.
    fn cpu_per_event(&self) -> f64 {
        (self.cpu.own + self.cpu.node).as_secs_f64() * 1e6 / self.events as f64
    }

    /// CPU µs per event of the receiver alone: everything but the load generator's
    /// threads (the relay's or the no-op server's threads, or the Node process).
    fn receiver_cpu_per_event(&self) -> f64 {
        let receiver = self.cpu.own.saturating_sub(self.cpu.load_gen) + self.cpu.node;
        receiver.as_secs_f64() * 1e6 / self.events as f64
    }

    fn row(&self, label: &str) -> Vec<String> {
        vec![
            label.to_string(),
            format!("{:.0}", self.rate()),
            ms(self.latencies.pct(0.50)),
            ms(self.latencies.pct(0.99)),
            format!("{:.0} µs", self.cpu_per_event()),
            format!(
                "{:.0} µs",
                self.cpu.load_gen.as_secs_f64() * 1e6 / self.events as f64
            ),
            format!("{:.0} µs", self.receiver_cpu_per_event()),
            format!("{} of {}", self.failures, self.events),
        ]
    }
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| {
            a.parse()
                .expect("arguments are numbers: [events] [concurrency] [rate]")
        })
        .collect();
    let events = args.first().copied().unwrap_or(10_000);
    let concurrency = args.get(1).copied().unwrap_or(64);
    let rate = args.get(2).copied().unwrap_or(1_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let load_gen = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name(LOAD_GEN)
        .build()
        .expect("a tokio runtime for the load generator");
    let sender = load_gen.handle().clone();
    runtime.block_on(bench(events, concurrency, rate, sender));
}

/// Before each measured run: the machine settled, or a note that it did not.
async fn settled(run: &str) {
    let busy = cpu::settle().await;
    if busy >= 0.10 {
        println!(
            "note: the cores were still {:.0} % busy before the {run} run (other processes?)",
            busy * 100.0
        );
    }
}

async fn bench(events: usize, concurrency: usize, rate: usize, load_gen: tokio::runtime::Handle) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("bench-ingest: {events} events, {concurrency} concurrent, fixed-rate run at {rate}/s, {cores} cores");

    let keyring = Arc::new(Keyring::generate().expect("an RSA key"));
    let mut sim_config = SimConfig::new((Ipv4Addr::LOCALHOST, 0).into(), Seed::sandbox());
    sim_config.keyring = Some(keyring.clone());
    let sim = chat_gateway_sim::start(sim_config)
        .await
        .expect("the emulator starts");
    let dir = std::env::temp_dir().join(format!("bench-ingest-{}", std::process::id()));
    let relay = benchkit::relay::start(&sim.base_url(), None, dir.clone()).await;
    let relay_url = relay.endpoint_url().await;
    let noop_url = noop::start().await;
    let node = NodeReference::start(&sim.base_url(), TENANT, DEFAULT_FRESHNESS_WINDOW_MS);

    signature_cost(&keyring);

    // One set of deliveries for every receiver: a warm-up slice, the measured slice, the
    // fixed-rate slice and one spare for the checks below.
    let warm = 0..events / 10;
    let measured = warm.end..warm.end + events;
    let fixed = measured.end..measured.end + rate * 5;
    let spare = fixed.end;
    let signing = Instant::now();
    let deliveries = Arc::new(deliveries::sign_all(
        &keyring,
        spare + 1,
        deliveries::echo_body,
    ));
    println!(
        "signed {} deliveries in {:.1} s (8x8's work: not measured)",
        deliveries.len(),
        signing.elapsed().as_secs_f64()
    );

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    // Both verifying receivers must refuse a changed body and take the genuine one.
    let check = &deliveries[spare];
    refuses_tampering(&http, "relay", &relay_url, check).await;
    let node = match node {
        Ok(node) => {
            refuses_tampering(&http, "Node reference", &node.url, check).await;
            let seen = node.seen(&http).await;
            assert_eq!(
                (seen.valid, seen.invalid),
                (1, 1),
                "the Node reference must count what it verified"
            );
            Some(node)
        }
        Err(reason) => {
            println!("Node reference not run: {reason}");
            None
        }
    };

    // Warm-up: keys fetched and cached, connections open, JIT and SQLite pages warm.
    let mut targets = vec![("no-op", noop_url.as_str())];
    if let Some(node) = &node {
        targets.push(("node", node.url.as_str()));
    }
    targets.push(("relay", relay_url.as_str()));
    let closed = |url: &str, range: Range<usize>| {
        let (http, url, deliveries) = (http.clone(), url.to_string(), deliveries.clone());
        let task = load_gen
            .spawn(async move { closed_loop(&http, &url, &deliveries, range, concurrency).await });
        async move { task.await.expect("the load generator runs") }
    };
    for (_, url) in &targets {
        closed(url, warm.clone()).await;
    }
    let mut runs = Vec::new();
    let mut relay_threads = Vec::new();
    for (name, url) in &targets {
        settled(name).await;
        let before = Cpu::now(node.as_ref());
        let threads = cpu::by_thread_name();
        let mut run = closed(url, measured.clone()).await;
        run.cpu = Cpu::now(node.as_ref()).since(before);
        if *name == "relay" {
            relay_threads = cpu::since(&threads);
        }
        runs.push((*name, run));
    }
    settled("relay at a fixed rate").await;
    let before = Cpu::now(node.as_ref());
    let fixed_threads = cpu::by_thread_name();
    let mut fixed_run = {
        let (http, url, deliveries) = (http.clone(), relay_url.clone(), deliveries.clone());
        let range = fixed.clone();
        load_gen
            .spawn(async move { open_loop(&http, &url, &deliveries, range, rate).await })
            .await
            .expect("the load generator runs")
    };
    fixed_run.cpu = Cpu::now(node.as_ref()).since(before);
    let fixed_threads = cpu::since(&fixed_threads);

    let run = |name: &str| runs.iter().find(|(n, _)| *n == name).map(|(_, r)| r);
    println!();
    let mut table = Table::new(
        &[
            "receiver",
            "events/s",
            "p50",
            "p99",
            "CPU/event, all",
            "load generator",
            "receiver",
            "failed",
        ],
        1,
    );
    table.row(run("no-op").unwrap().row("no-op server (answers 204)"));
    if let Some(r) = run("node") {
        table.row(r.row("Node reference (jose: verify, no storage)"));
    }
    let relay_run = run("relay").unwrap();
    table.row(relay_run.row(&format!(
        "relay (verify + store + 204), {concurrency} concurrent"
    )));
    table.row(fixed_run.row(&format!("relay at a fixed {rate} events/s")));
    table.print();
    println!(
        "CPU/event, all: every process of the run; load generator: the threads of its own runtime; receiver: the rest (this process's other threads, or the Node process)"
    );
    println!();
    println!(
        "relay / no-op: {:.2}× the throughput (target ≥ 0.5×)",
        relay_run.rate() / run("no-op").unwrap().rate()
    );
    if let Some(r) = run("node") {
        println!(
            "relay / Node:  {:.2}× the throughput (target ≥ 5×); the Node reference spends {:.1}× the relay's CPU per event",
            relay_run.rate() / r.rate(),
            r.receiver_cpu_per_event() / relay_run.receiver_cpu_per_event()
        );
    }
    let by_thread = |threads: &[(String, Duration)], events: usize| {
        threads
            .iter()
            .take(6)
            .map(|(name, d)| format!("{name} {:.0} µs", d.as_secs_f64() * 1e6 / events as f64))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "CPU per event by thread, relay at saturation: {}",
        by_thread(&relay_threads, measured.len())
    );
    println!(
        "CPU per event by thread, relay at {rate}/s: {}",
        by_thread(&fixed_threads, fixed.len())
    );
    println!(
        "relay's CPU per event at a fixed {rate}/s: {:.2}× that at saturation (target ≤ 2×)",
        fixed_run.receiver_cpu_per_event() / relay_run.receiver_cpu_per_event()
    );

    // Proof that the figures are for verified deliveries (and, for the relay, stored).
    if let Some(node) = &node {
        let seen = node.seen(&http).await;
        println!(
            "Node reference saw {} valid and {} invalid deliveries ({} sent valid, 1 tampered); {} key fetch(es)",
            seen.valid,
            seen.invalid,
            1 + warm.len() + measured.len(),
            seen.key_fetches
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let valid = stored_valid(&relay).await;
    println!(
        "relay stored {valid} deliveries with a valid signature ({} sent valid, 1 tampered)",
        1 + warm.len() + measured.len() + fixed.len()
    );
    drop(node);
    relay.shutdown().await;
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// What one signature check costs on this machine, alone, on one core.
fn signature_cost(keyring: &Keyring) {
    use chat_gateway_client::webhook::signature;
    let d = deliveries::sign(keyring, deliveries::echo_body(0, 0), "cost", 0);
    let mut map = axum::http::HeaderMap::new();
    for (k, v) in &d.headers {
        map.insert(*k, v.parse().unwrap());
    }
    let h = signature::DeliveryHeaders::from_headers(&map).unwrap();
    let parsed = signature::parse_signature(&h.signature).unwrap();
    let jwk = keyring.jwk(&parsed.kid).unwrap();
    let key = signature::key_from_jwk(&jwk, &parsed.kid).unwrap();
    // Enough checks that the 10 ms ticks of the CPU clock do not matter.
    let n = 10_000;
    let (t, cpu0) = (Instant::now(), cpu::own());
    for _ in 0..n {
        signature::verify(&key, &d.body, &h, &parsed).unwrap();
    }
    let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    println!(
        "signature check (CRC-32 + RS256 verify), one core: {:.1} µs of CPU each ({:.1} µs of wall time)",
        per(cpu::own().saturating_sub(cpu0)),
        per(t.elapsed())
    );
}

/// A receiver whose figures are compared must really verify: a changed body is refused
/// with 401, the genuine delivery taken with 2xx. Without that its figures mean nothing.
async fn refuses_tampering(http: &reqwest::Client, name: &str, url: &str, genuine: &Delivery) {
    let tampered = deliveries::send(http, url, &genuine.tampered()).await;
    let accepted = deliveries::send(http, url, genuine).await;
    assert!(
        tampered == Some(401) && accepted.is_some_and(|s| (200..300).contains(&s)),
        "{name} must refuse a tampered delivery and take the genuine one; it answered {tampered:?} and {accepted:?}"
    );
    println!("{name}: a tampered delivery is refused (401), the genuine one taken");
}

async fn stored_valid(relay: &RelayHandle) -> i64 {
    relay
        .state
        .db
        .sqlite()
        .expect("the benchmark's relay runs on SQLite")
        .call(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM deliveries WHERE signature = 'valid' AND status NOT IN ('rejected', 'duplicate')",
                [],
                |r| r.get(0),
            )
        })
        .await
        .unwrap()
}

/// `concurrency` senders, each sending its next delivery as soon as the last is answered.
async fn closed_loop(
    http: &reqwest::Client,
    url: &str,
    deliveries: &Arc<Vec<Delivery>>,
    range: Range<usize>,
    concurrency: usize,
) -> Run {
    let (answers, elapsed) =
        senders::closed_loop(http, url, deliveries, range.clone(), concurrency).await;
    Run {
        events: range.len(),
        elapsed,
        failures: answers.iter().filter(|a| !a.accepted()).count(),
        latencies: Samples(answers.iter().map(|a| a.took).collect()),
        cpu: Cpu::default(),
    }
}

/// One delivery every 1/rate s whatever the answers do; latency is measured from the
/// moment each was due, so a stall shows up in the percentiles.
async fn open_loop(
    http: &reqwest::Client,
    url: &str,
    deliveries: &Arc<Vec<Delivery>>,
    range: Range<usize>,
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
            let status = deliveries::send(&http, &url, &deliveries[i]).await;
            (
                due.elapsed(),
                status.is_some_and(|s| (200..300).contains(&s)),
            )
        }));
    }
    let mut run = Run {
        events: range.len(),
        elapsed: Duration::ZERO,
        latencies: Samples(Vec::with_capacity(range.len())),
        failures: 0,
        cpu: Cpu::default(),
    };
    for t in tasks {
        let (l, ok) = t.await.unwrap();
        run.latencies.0.push(l);
        run.failures += usize::from(!ok);
    }
    run.elapsed = started.elapsed();
    run
}
