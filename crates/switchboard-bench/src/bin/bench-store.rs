//! Scale of the store: a relay database with 10,000 conversations and 1,000,000
//! transcript lines, and how fast the admin API serves the conversation list and a
//! transcript of 1,000 messages from it — the store function the route calls, and the
//! full HTTP request to a running relay on that database. A benchmark: it prints figures
//! and asserts nothing.
//!
//! `cargo run --release -p switchboard-bench --bin bench-store -- [--conversations N] [--messages M] [--runs R]`
//! `… --bin bench-store -- --seed-only DIR` writes DIR/switchboard.db and exits (for the UI
//! render benchmark, tests/node/bench/render.bench.mjs).
//! `… --bin bench-store -- --database postgres://…` also copies the same data into that
//! (empty) PostgreSQL database and times the same list and transcript queries there.
//! See crates/switchboard-bench/BENCHMARKS.md.

mod pgstore;
mod seed;

use std::{
    future::Future,
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use clap::Parser;
use serde_json::Value;
use switchboard_relay::{RelayConfig, RelayState, SandboxMode};
use switchboard_settings::settings::{MemorySettings, Settings, SettingsStore};
use switchboard_store::conversations::{Cursor, ListQuery, PhaseFilter};
use switchboard_store::db::Db;
use switchboard_store::{ConversationStore as Store, Mode};
use switchboard_types::events::now_ms;

#[derive(Parser)]
#[command(about = "Store and admin API figures on a database of many conversations")]
struct Args {
    /// Conversations to generate.
    #[arg(long, default_value_t = 10_000)]
    conversations: usize,
    /// Transcript lines to generate, over all conversations.
    #[arg(long, default_value_t = 1_000_000)]
    messages: usize,
    /// Timed runs of each case (after a few untimed ones).
    #[arg(long, default_value_t = 100)]
    runs: usize,
    /// Page size of the list requests (the UI's).
    #[arg(long, default_value_t = 200)]
    page: u32,
    /// Only write DIR/switchboard.db (and print what is in it as JSON), then exit.
    #[arg(long, value_name = "DIR")]
    seed_only: Option<PathBuf>,
    /// Also on PostgreSQL: an empty database the benchmark fills with the same data.
    #[arg(long, value_name = "postgres://…")]
    database: Option<String>,
}

fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        match &args.seed_only {
            Some(dir) => seed_only(&args, dir).await,
            None => bench(&args).await,
        }
    });
}

async fn seed_into(args: &Args, dir: &std::path::Path) -> seed::Seeded {
    std::fs::create_dir_all(dir).expect("the data directory");
    let db = Db::open(&dir.join("switchboard.db")).expect("the database opens and migrates");
    let plan = seed::Plan::new(args.conversations, args.messages, now_ms());
    let seeded = seed::seed(&db, &plan).await.expect("seeding");
    // Indexed for search now, as a relay that has run a while has them (its indexer takes
    // new lines within a quarter of a second).
    db.blocking(switchboard_store::transcript_search::index_all)
        .expect("the transcript lines indexed");
    seeded
}

async fn seed_only(args: &Args, dir: &std::path::Path) {
    let s = seed_into(args, dir).await;
    println!(
        "{}",
        serde_json::json!({
            "conversations": s.conversations, "messages": s.messages,
            "thousand": s.thousand, "longest": { "id": s.longest.0, "messages": s.longest.1 },
            "surname": s.surname, "seconds": s.seconds,
        })
    );
}

async fn bench(args: &Args) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "bench-store: {} conversations, {} messages, {} runs per case, page size {}, {cores} cores",
        args.conversations, args.messages, args.runs, args.page
    );
    let dir = std::env::temp_dir().join(format!("bench-store-{}", std::process::id()));
    let seeded = seed_into(args, &dir).await;
    let size = std::fs::metadata(dir.join("switchboard.db")).map_or(0, |m| m.len());
    println!(
        "seeded {} conversations, {} messages in {:.1} s; database {:.0} MB; longest transcript {} lines",
        seeded.conversations,
        seeded.messages,
        seeded.seconds,
        size as f64 / 1e6,
        seeded.longest.1
    );
    let phases: Vec<String> = seeded
        .per_phase
        .iter()
        .map(|(p, n)| format!("{p} {n}"))
        .collect();
    println!("phases: {}", phases.join(", "));
    let rare = rebuild_transcript_index(&dir.join("switchboard.db"));

    // The relay on that database, as the server would run it; the sandbox is off and
    // the inactivity timeout long, so nothing writes while the figures are taken.
    let settings = MemorySettings::default();
    let mut s = Settings::default();
    s.handover.inactivity_timeout_minutes = 1440;
    settings.save(&s).expect("memory settings save");
    let mut config = RelayConfig::for_tests(dir.clone());
    config.settings_store = Arc::new(settings);
    config.sandbox = SandboxMode::Off;
    let relay = switchboard_relay::start(config)
        .await
        .expect("the relay starts");
    let state = relay.state.clone();
    let http = Http {
        client: reqwest::Client::new(),
        base: format!("http://{}/api", relay.admin_addr),
        token: relay.admin_token().to_string(),
    };

    let cases = cases(&state, &seeded, args.page, &rare).await;
    println!();
    println!(
        "{:<44} {:>5} {:>8}   {:>21}   {:>21}",
        "case", "rows", "bytes", "store fn p50 / p99", "HTTP p50 / p99"
    );
    let mut plans = Vec::new();
    for case in &cases {
        let store = time(args.runs, || (case.store)()).await;
        let web = match &case.path {
            Some(path) => {
                let (rows, bytes) = http.get(path).await;
                let t = time(args.runs, || async {
                    http.get(path).await;
                })
                .await;
                format!(
                    "{:>5} {:>8}   {:>8.2} / {:>7.2} ms   {:>8.2} / {:>7.2} ms",
                    rows,
                    bytes,
                    pct(&store, 0.5),
                    pct(&store, 0.99),
                    pct(&t, 0.5),
                    pct(&t, 0.99)
                )
            }
            None => format!(
                "{:>5} {:>8}   {:>8.2} / {:>7.2} ms   {:>21}",
                "",
                "",
                pct(&store, 0.5),
                pct(&store, 0.99),
                "—"
            ),
        };
        println!("{:<44} {web}", case.label);
        if let Some(q) = &case.query {
            let plan = state.engine.store.plan(q.clone()).await.expect("a plan");
            plans.push((case.label.clone(), plan));
        }
    }
    println!();
    println!("query plans (EXPLAIN QUERY PLAN):");
    for (label, plan) in plans {
        println!("  {label}: {}", plan.join("; "));
    }
    if let Some(url) = &args.database {
        let thousand = seeded
            .thousand
            .clone()
            .unwrap_or_else(|| seeded.longest.0.clone());
        pgstore::bench(
            url,
            &dir.join("switchboard.db"),
            &state.engine.store,
            args.runs,
            args.page,
            &seeded.surname.to_lowercase(),
            &rare,
            &thousand,
        )
        .await;
    }
    relay.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

type StoreCall = Box<dyn Fn() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

struct Case {
    label: String,
    /// The store function the route calls, with the route's arguments.
    store: StoreCall,
    /// The request the UI makes for the same result (none: a store function alone).
    path: Option<String>,
    /// The list query, for its plan.
    query: Option<ListQuery>,
}

fn list_case(store: &Store, label: String, query: ListQuery, path: String) -> Case {
    let s = store.clone();
    let q = query.clone();
    Case {
        label,
        store: Box::new(move || {
            let s = s.clone();
            let q = q.clone();
            Box::pin(async move {
                s.page(q).await.expect("a page");
            })
        }),
        path: Some(path),
        query: Some(query),
    }
}

/// What upgrading a database of this size costs: the transcript search index (migration
/// 11) is dropped and built again from every stored line exactly as the migration builds
/// it, in one transaction, timed. Also its size. Gives a word that occurs in one or two
/// conversations only (an order number a user typed), for the rare-word search.
fn rebuild_transcript_index(path: &std::path::Path) -> String {
    use switchboard_store::transcript_search;
    let mut c = rusqlite::Connection::open(path).expect("the database");
    transcript_search::register(&c).expect("search_fold");
    c.execute_batch(
        "DROP TRIGGER transcript_search_delete; DROP TRIGGER transcript_search_update;
         DROP TABLE transcript_search; DROP TABLE transcript_keys; DROP TABLE transcript_indexed;",
    )
    .expect("the index dropped");
    let t = Instant::now();
    let tx = c.transaction().expect("a transaction");
    tx.execute_batch(transcript_search::MIGRATION)
        .expect("the migration's statements");
    tx.execute_batch(transcript_search::DEFERRED)
        .expect("the later migration's statements");
    tx.commit().expect("commit");
    let took = t.elapsed();
    let (lines, bytes): (i64, i64) = c
        .query_row(
            "SELECT (SELECT COUNT(*) FROM messages WHERE text <> ''),
                    (SELECT SUM(length(block)) FROM transcript_search_data)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("counts");
    println!(
        "transcript search index (migration 11) built for {lines} lines in {:.1} s; {:.0} MB",
        took.as_secs_f64(),
        bytes as f64 / 1e6
    );
    c.query_row(
        "SELECT substr(text, -7) FROM messages WHERE author_type = 'user'
         AND text GLOB '* [0-9][0-9][0-9][0-9][0-9][0-9][0-9]' ORDER BY id DESC LIMIT 1",
        [],
        |r| r.get(0),
    )
    .expect("a line ending in an order number")
}

async fn cases(state: &Arc<RelayState>, seeded: &seed::Seeded, page: u32, rare: &str) -> Vec<Case> {
    let store = state.engine.store.clone();
    let mut cases = Vec::new();
    let newest = ListQuery::newest(page);

    cases.push(list_case(
        &store,
        format!("list: first page ({page}, newest first)"),
        newest.clone(),
        format!("/conversations?limit={page}"),
    ));

    // The previous answer: whole records (with the handover record) from the same index.
    let s = store.clone();
    cases.push(Case {
        label: "  the same as whole records (before)".into(),
        store: Box::new(move || {
            let s = s.clone();
            Box::pin(async move {
                s.list(page, None).await.expect("list");
            })
        }),
        path: None,
        query: None,
    });

    // A rare state: the whole table is looked through for fewer rows than a page.
    let mut queued = newest.clone();
    queued.phase = PhaseFilter::parse("queued");
    cases.push(list_case(
        &store,
        "list: filtered (queued, the rarest)".into(),
        queued,
        format!("/conversations?limit={page}&phase=queued"),
    ));
    let mut handed = newest.clone();
    handed.phase = PhaseFilter::parse("handedOver");
    handed.mode = Mode::from_name("handover");
    cases.push(list_case(
        &store,
        "list: filtered (handed over, handover mode)".into(),
        handed,
        format!("/conversations?limit={page}&phase=handedOver&mode=handover"),
    ));

    let word = seeded.surname.to_lowercase();
    let mut search = newest.clone();
    search.search = Some(word.clone());
    cases.push(list_case(
        &store,
        format!("list: search \"{word}\" (a surname)"),
        search,
        format!("/conversations?limit={page}&q={word}"),
    ));
    let mut nothing = newest.clone();
    nothing.search = Some("no such words".into());
    cases.push(list_case(
        &store,
        "list: search matching nothing".into(),
        nothing,
        format!("/conversations?limit={page}&q=no%20such%20words"),
    ));

    // Words anywhere in the transcripts (the whole-transcript index): a word in some
    // 2% of lines, one in about every other line, a number typed in one conversation,
    // two words of one line, and a search within a filter.
    for (what, words) in [
        ("a word in many lines", "parcel"),
        ("in every other line", "the"),
        ("a number in one conversation", rare),
        ("two words of one line", "charged invoice"),
    ] {
        let mut q = newest.clone();
        q.search = Some(words.into());
        cases.push(list_case(
            &store,
            format!("list: search \"{words}\" ({what})"),
            q.clone(),
            format!(
                "/conversations?limit={page}&q={}",
                words.replace(' ', "%20")
            ),
        ));
        // The same with every matching line read from the index, however many (the way
        // before a common word took the other way): the figures to set the new ones by.
        let s = store.clone();
        cases.push(Case {
            label: "  the same, every matching line read from the index".to_string(),
            store: Box::new(move || {
                let s = s.clone();
                let q = q.clone();
                Box::pin(async move {
                    s.page_with(q, usize::MAX).await.expect("a page");
                })
            }),
            path: None,
            query: None,
        });
    }
    let mut q = newest.clone();
    q.search = Some("parcel".into());
    q.phase = PhaseFilter::parse("queued");
    cases.push(list_case(
        &store,
        "list: search \"parcel\", queued only".into(),
        q,
        format!("/conversations?limit={page}&q=parcel&phase=queued"),
    ));

    // The page that starts after row 9,800, reached by walking the cursor as the UI does.
    let target = seeded.conversations.saturating_sub(page as usize);
    let mut at = newest.clone();
    let mut seen = 0;
    while seen < target {
        let rows = store.page(at.clone()).await.expect("a page");
        let Some(last) = rows.last() else { break };
        seen += rows.len();
        at.after = Some(Cursor {
            created_at_ms: last.created_at_ms,
            id: Some(last.id.clone()),
        });
    }
    let cursor = at.after.clone().expect("a cursor");
    cases.push(list_case(
        &store,
        format!("list: deep page (after row {seen})"),
        at,
        format!(
            "/conversations?limit={page}&before={}&beforeId={}",
            cursor.created_at_ms,
            cursor.id.unwrap_or_default()
        ),
    ));

    let id = seeded
        .thousand
        .clone()
        .unwrap_or_else(|| seeded.longest.0.clone());
    let lines = store
        .transcript(&id, 0, 10_000)
        .await
        .map_or(0, |t| t.len());
    let (s, id2) = (store.clone(), id.clone());
    cases.push(Case {
        label: format!("transcript: open ({lines} messages)"),
        store: Box::new(move || {
            let (s, id) = (s.clone(), id2.clone());
            Box::pin(async move {
                s.get(&id).await.expect("get").expect("the conversation");
                s.transcript(&id, 0, 10_000).await.expect("transcript");
            })
        }),
        path: Some(format!("/conversations/{id}")),
        query: None,
    });

    // The analytics page's default: the last 30 days, both modes.
    let db = state.db.clone();
    cases.push(Case {
        label: "analytics: 30 days, both modes".into(),
        store: Box::new(move || {
            let db = db.clone();
            Box::pin(async move {
                let now = now_ms();
                let q = switchboard_store::analytics::AnalyticsQuery {
                    from_ms: now - 30 * 86_400_000,
                    to_ms: now,
                    mode: None,
                    utc_offset_min: 0,
                    now_ms: now,
                };
                switchboard_store::analytics::analytics_of(&db, q)
                    .await
                    .expect("analytics");
            })
        }),
        path: Some("/analytics?mode=both".into()),
        query: None,
    });

    // Not a page the UI asks for: the inactivity sweep runs this every second.
    let s = store.clone();
    cases.push(Case {
        label: "inactivity sweep query (every second)".into(),
        store: Box::new(move || {
            let s = s.clone();
            Box::pin(async move {
                s.idle_handovers(now_ms() - 30 * 60_000)
                    .await
                    .expect("sweep");
            })
        }),
        path: None,
        query: None,
    });
    cases
}

struct Http {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Http {
    /// GETs `path` from the admin API; the rows and bytes of the answer.
    async fn get(&self, path: &str) -> (usize, usize) {
        let body = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .expect("the admin API answers")
            .bytes()
            .await
            .expect("a body");
        let v: Value = serde_json::from_slice(&body).expect("JSON");
        let rows = v["conversations"]
            .as_array()
            .or(v["transcript"].as_array())
            .map_or(0, Vec::len);
        (rows, body.len())
    }
}

/// Runs `f` a few times untimed, then `runs` times timed; the durations.
async fn time<F, Fut>(runs: usize, mut f: F) -> Vec<Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    for _ in 0..3 {
        f().await;
    }
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f().await;
        out.push(t.elapsed());
    }
    out.sort();
    out
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3
}
