//! Benchmark of several headless relays on one PostgreSQL (issue #19; not a test: it
//! prints figures, it asserts none). In one run, in turn: one relay on SQLite, then one,
//! two and three relays on a fresh PostgreSQL database each, all in this process, pointed
//! at a fast 8x8 stand-in (benchkit/stand_in.rs). Each configuration is measured as
//! bench-whole-path measures one relay: the receiver alone (8x8 echoes) and the whole
//! path (a customer's first message until the bot's reply reaches 8x8), with the senders
//! spread round-robin over the relays, as a load balancer would. Beside this process's
//! CPU it reads the PostgreSQL server's (every `postgres` process) and the database's
//! transaction count, which is what the leases and the shared outbox cost.
//!
//! `cargo run --release -p switchboard-bench --bin bench-cluster -- [--database <admin URL>] [messages=3000] [concurrency=64]`
//! (see crates/switchboard-bench/BENCHMARKS.md; the URL's user needs CREATEDB).

mod benchkit;

use std::{
    collections::HashMap,
    net::Ipv4Addr,
    ops::Range,
    sync::Arc,
    time::{Duration, Instant},
};

use benchkit::{
    cluster::PgStats,
    cpu,
    deliveries::{self, Delivery},
    proxy::Posted,
    senders, stand_in,
    table::{ms, Samples, Table},
};
use chat_gateway_sim::{Keyring, Seed, SimConfig};
use serde_json::json;
use switchboard_store::pg::DatabaseUrl;
use switchboard_testkit::postgres::TestDatabase;
use tokio::sync::mpsc;

const WARM_UP: usize = 200;
/// How long a whole-path phase may take before the benchmark stops waiting for replies.
const REPLY_DEADLINE: Duration = Duration::from_secs(180);
/// PostgreSQL's backends report their transaction counts at most once a second.
const STATS_DELAY: Duration = Duration::from_millis(1_500);

fn main() {
    let mut database = None;
    let mut numbers = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--database" {
            database = Some(args.next().unwrap_or_else(|| {
                eprintln!("--database needs a PostgreSQL URL (a user that may CREATEDB)");
                std::process::exit(2)
            }));
        } else {
            numbers.push(a.parse::<usize>().unwrap_or_else(|_| {
                eprintln!("usage: bench-cluster [--database <admin URL>] [messages=3000] [concurrency=64] (got {a:?})");
                std::process::exit(2)
            }));
        }
    }
    let messages = numbers.first().copied().unwrap_or(3_000);
    let concurrency = numbers.get(1).copied().unwrap_or(64).max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(bench(database, messages, concurrency));
}

/// A customer's first message in a conversation of its own; the built-in flow answers it.
fn customer_body(run: &str) -> impl Fn(usize, u64) -> Vec<u8> + Sync + '_ {
    move |i, now_ms| {
        json!({
            "eventType": "MESSAGE",
            "conversationId": format!("bc-{run}-{i}"),
            "timestamp": now_ms,
            "data": {"isEcho": false, "sender": {"id": format!("customer-{i}"), "type": "user"},
                     "text": "What are your opening hours?"}
        })
        .to_string()
        .into_bytes()
    }
}

/// What the benchmark shares across configurations: 8x8 and how to reach the relays.
struct Rig {
    keyring: Arc<Keyring>,
    key: String,
    stand_in_url: String,
    posted: tokio::sync::Mutex<mpsc::UnboundedReceiver<Posted>>,
    http: reqwest::Client,
    messages: usize,
    concurrency: usize,
}

/// One configuration's figures.
struct Measured {
    label: String,
    postgres: bool,
    ingest_rate: f64,
    ingest_accepted: usize,
    /// CPU per event: this process, the PostgreSQL server.
    ingest_cpu: (Duration, Duration),
    ingest_xacts: Option<f64>,
    path: PathRun,
    path_cpu: (Duration, Duration),
    path_xacts: Option<f64>,
    leases: Option<i64>,
}

struct PathRun {
    messages: usize,
    /// From the first POST until the last conversation's reply reached 8x8.
    elapsed: Duration,
    /// Per message: from the relay's 2xx to its reply reaching 8x8.
    lag: Samples,
    replied: usize,
}

impl PathRun {
    fn rate(&self) -> f64 {
        self.replied as f64 / self.elapsed.as_secs_f64()
    }
}

async fn bench(database: Option<String>, messages: usize, concurrency: usize) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("bench-cluster: {messages} events per phase, {concurrency} concurrent senders, {cores} cores");
    match &database {
        Some(url) => println!("PostgreSQL: {} (a fresh database per configuration)", DatabaseUrl::new(url.as_str())),
        None => println!("no --database: only the SQLite row runs (give a PostgreSQL admin URL for the cluster rows)"),
    }

    let keyring = Arc::new(Keyring::generate().expect("an RSA key"));
    let seed = Seed::sandbox();
    let key = seed.api_keys[0].key.clone();
    let mut sim_config = SimConfig::new((Ipv4Addr::LOCALHOST, 0).into(), seed);
    sim_config.keyring = Some(keyring.clone());
    let sim = chat_gateway_sim::start(sim_config)
        .await
        .expect("the emulator starts");
    let (stand_in_url, posted, _latency_ms) = stand_in::start(sim.base_url()).await;
    let rig = Rig {
        keyring,
        key,
        stand_in_url,
        posted: tokio::sync::Mutex::new(posted),
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(concurrency)
            .build()
            .unwrap(),
        messages,
        concurrency,
    };

    let mut configurations = vec![(1, false)];
    if database.is_some() {
        configurations.extend([(1, true), (2, true), (3, true)]);
    }
    let mut rows = Vec::new();
    for (n, (relays, postgres)) in configurations.into_iter().enumerate() {
        let admin = database.as_deref().filter(|_| postgres);
        rows.push(configuration(&rig, n, relays, admin).await);
    }
    sim.shutdown().await;
    report(&rows, cores, concurrency);
}

/// Starts `relays` relays (SQLite when `admin` is `None`, else on a new database on that
/// server), measures them and stops them.
async fn configuration(rig: &Rig, n: usize, relays: usize, admin: Option<&str>) -> Measured {
    let label = match admin {
        None => "1 relay, SQLite".to_string(),
        Some(_) => format!(
            "{relays} relay{}, PostgreSQL",
            if relays > 1 { "s" } else { "" }
        ),
    };
    println!();
    println!("== {label}");
    let db = match admin {
        Some(admin) => Some(TestDatabase::create(admin, &format!("bench_cluster_{relays}")).await),
        None => None,
    };
    let db_url = db.as_ref().map(|d| d.url.as_str());
    let base = std::env::temp_dir().join(format!("bench-cluster-{}-{n}", std::process::id()));
    let mut handles = Vec::new();
    let mut urls = Vec::new();
    // The first relay seeds the cluster's settings; the others adopt them (the same
    // endpoint token), so they start one after the other.
    for k in 0..relays {
        let relay = benchkit::relay::start_on(
            &rig.stand_in_url,
            Some(&rig.key),
            base.join(format!("relay-{k}")),
            db_url,
        )
        .await;
        urls.push(relay.endpoint_url().await);
        handles.push(relay);
    }
    let paths: Vec<&str> = urls
        .iter()
        .map(|u| {
            u.split_once("://")
                .and_then(|(_, r)| r.split_once('/'))
                .map_or("", |(_, p)| p)
        })
        .collect();
    println!(
        "{relays} endpoint(s); same path and token on every relay: {}",
        if paths.windows(2).all(|w| w[0] == w[1]) {
            "yes"
        } else {
            "NO"
        }
    );
    let stats = match db_url {
        Some(url) => Some(PgStats::connect(url).await),
        None => None,
    };

    let run = format!("{}-{n}", switchboard_types::events::now_ms());
    let signing = Instant::now();
    let customers = Arc::new(deliveries::sign_all(
        &rig.keyring,
        WARM_UP + rig.messages,
        customer_body(&run),
    ));
    let echoes = Arc::new(deliveries::sign_all(
        &rig.keyring,
        rig.messages,
        deliveries::echo_body,
    ));
    println!(
        "signed {} deliveries in {:.1} s (8x8's work: not measured)",
        customers.len() + echoes.len(),
        signing.elapsed().as_secs_f64()
    );

    let warm = whole_path(rig, &urls, &customers, 0..WARM_UP, &run).await;
    if warm.replied < warm.messages {
        println!(
            "WARNING: only {} of {} warm-up conversations were answered",
            warm.replied, warm.messages
        );
    }
    // What idle relays cost (lease renewals, the sweep, LISTEN): part of every figure
    // below, which run until the machine is idle again.
    cpu::settle().await;
    let (own0, pg0, idle) = (cpu::own(), pg_cpu(&stats), Instant::now());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let secs = idle.elapsed().as_secs_f64();
    println!(
        "idle: this process {:.1} %, PostgreSQL {:.1} % of a core",
        cpu::own().saturating_sub(own0).as_secs_f64() / secs * 100.0,
        pg_cpu(&stats).saturating_sub(pg0).as_secs_f64() / secs * 100.0
    );

    // Ingest: CPU from the first POST until the machine is idle again, so the engine's
    // dropping of the echoes (after the 2xx) is counted too.
    let x0 = transactions(&stats).await;
    cpu::settle().await;
    let (own0, pg0) = (cpu::own(), pg_cpu(&stats));
    let (answers, took) =
        senders::closed_loop_over(&rig.http, &urls, &echoes, 0..rig.messages, rig.concurrency)
            .await;
    cpu::settle().await;
    let ingest_cpu = per(
        rig.messages,
        cpu::own().saturating_sub(own0),
        pg_cpu(&stats).saturating_sub(pg0),
    );
    let x1 = transactions(&stats).await;
    let ingest_accepted = answers.iter().filter(|a| a.accepted()).count();

    let (own0, pg0) = (cpu::own(), pg_cpu(&stats));
    let path = whole_path(
        rig,
        &urls,
        &customers,
        WARM_UP..WARM_UP + rig.messages,
        &run,
    )
    .await;
    cpu::settle().await;
    let path_cpu = per(
        rig.messages,
        cpu::own().saturating_sub(own0),
        pg_cpu(&stats).saturating_sub(pg0),
    );
    let x2 = transactions(&stats).await;
    let leases = match &stats {
        Some(s) => s.leases().await,
        None => None,
    };

    for relay in handles {
        relay.shutdown().await;
    }
    drop(stats);
    if let Some(db) = db {
        db.drop_database().await;
    }
    let _ = std::fs::remove_dir_all(&base);
    let xacts = |a: Option<i64>, b: Option<i64>| match (a, b) {
        (Some(a), Some(b)) => Some((b - a) as f64 / rig.messages as f64),
        _ => None,
    };
    let m = Measured {
        label,
        postgres: admin.is_some(),
        ingest_rate: rig.messages as f64 / took.as_secs_f64(),
        ingest_accepted,
        ingest_cpu,
        ingest_xacts: xacts(x0, x1),
        path,
        path_cpu,
        path_xacts: xacts(x1, x2),
        leases,
    };
    println!(
        "ingest {:.0} events/s ({} of {} accepted); whole path {:.0} conversations/s ({} of {} answered)",
        m.ingest_rate, m.ingest_accepted, rig.messages, m.path.rate(), m.path.replied, m.path.messages
    );
    m
}

fn per(n: usize, own: Duration, pg: Duration) -> (Duration, Duration) {
    (own / n as u32, pg / n as u32)
}

fn pg_cpu(stats: &Option<PgStats>) -> Duration {
    stats.as_ref().map_or(Duration::ZERO, PgStats::cpu)
}

async fn transactions(stats: &Option<PgStats>) -> Option<i64> {
    let stats = stats.as_ref()?;
    tokio::time::sleep(STATS_DELAY).await;
    Some(stats.transactions().await)
}

fn report(rows: &[Measured], cores: usize, concurrency: usize) {
    let us = |d: Duration| format!("{:.0}", d.as_secs_f64() * 1e6);
    let opt = |x: Option<f64>| x.map_or("—".into(), |x| format!("{x:.1}"));
    println!();
    let mut table = Table::new(
        &[
            "configuration",
            "ingest events/s",
            "whole path conv./s",
            "lag p50",
            "lag p99",
            "ingest CPU/event µs (bench + PG)",
            "whole path CPU/conv. µs (bench + PG)",
            "PG xacts/event (ingest)",
            "PG xacts/conv. (whole path)",
            "answered",
        ],
        1,
    );
    for m in rows {
        table.row(vec![
            m.label.clone(),
            format!("{:.0}", m.ingest_rate),
            format!("{:.0}", m.path.rate()),
            ms(m.path.lag.pct(0.50)),
            ms(m.path.lag.pct(0.99)),
            format!(
                "{} + {}",
                us(m.ingest_cpu.0),
                if m.postgres {
                    us(m.ingest_cpu.1)
                } else {
                    "—".into()
                }
            ),
            format!(
                "{} + {}",
                us(m.path_cpu.0),
                if m.postgres {
                    us(m.path_cpu.1)
                } else {
                    "—".into()
                }
            ),
            opt(m.ingest_xacts),
            opt(m.path_xacts),
            format!("{} of {}", m.path.replied, m.path.messages),
        ]);
    }
    table.print();
    println!(
        "{concurrency} closed-loop senders, round-robin over the relays. CPU: \"bench\" is this process \
         (load generator, every relay and the 8x8 stand-in), \"PG\" the PostgreSQL server's processes, \
         each from the first POST until the machine is idle again, per event."
    );
    for m in rows.iter().filter(|m| m.postgres) {
        let pg = m.path_cpu.1.as_secs_f64();
        let all = pg + m.path_cpu.0.as_secs_f64();
        if pg <= 0.0 {
            println!(
                "{}: no PostgreSQL CPU was seen (is the server on another machine?)",
                m.label
            );
            continue;
        }
        println!(
            "on paper, {}: PostgreSQL {:.0} µs per conversation, so one PostgreSQL core carries \
             {:.0} conversations/s and PostgreSQL saturates {cores} cores of its own at {:.0}/s; \
             here relays and PostgreSQL share the {cores} cores, {:.0} µs in all, so at most {:.0}/s; \
             {} lease(s) held at the end",
            m.label,
            pg * 1e6,
            1.0 / pg,
            cores as f64 / pg,
            all * 1e6,
            cores as f64 / all,
            m.leases.map_or("?".into(), |l| l.to_string()),
        );
    }
}

/// Sends `range`'s customer messages round-robin over `urls` and waits until every
/// conversation's first reply has reached the stand-in (at most [`REPLY_DEADLINE`]).
async fn whole_path(
    rig: &Rig,
    urls: &[String],
    customers: &Arc<Vec<Delivery>>,
    range: Range<usize>,
    run: &str,
) -> PathRun {
    let started = Instant::now();
    let senders = {
        let (http, urls, customers, range) = (
            rig.http.clone(),
            urls.to_vec(),
            customers.clone(),
            range.clone(),
        );
        let concurrency = rig.concurrency;
        tokio::spawn(async move {
            senders::closed_loop_over(&http, &urls, &customers, range, concurrency).await
        })
    };
    let prefix = format!("bc-{run}-");
    let mut replies: HashMap<usize, Instant> = HashMap::new();
    let mut posted = rig.posted.lock().await;
    let deadline = tokio::time::Instant::now() + REPLY_DEADLINE;
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
                    "stopped waiting: {} of {} conversations answered after {} s",
                    replies.len(),
                    range.len(),
                    REPLY_DEADLINE.as_secs()
                );
                break;
            }
        }
    }
    let last = replies.values().max().copied().unwrap_or_else(Instant::now);
    let (answers, _) = senders.await.expect("the senders run");
    let acked: HashMap<usize, Instant> = answers
        .iter()
        .filter(|a| a.accepted())
        .map(|a| (a.index, a.at))
        .collect();
    let refused = range.len() - acked.len();
    if refused > 0 {
        println!(
            "{refused} of {} messages were not accepted by a relay",
            range.len()
        );
    }
    let lag = replies
        .iter()
        .filter_map(|(i, at)| acked.get(i).map(|a| at.saturating_duration_since(*a)))
        .collect();
    PathRun {
        messages: range.len(),
        elapsed: last.saturating_duration_since(started),
        lag: Samples(lag),
        replied: replies.len(),
    }
}
