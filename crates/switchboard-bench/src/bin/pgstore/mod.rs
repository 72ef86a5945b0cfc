//! `bench-store --database postgres://…`: the same conversations and lines as the SQLite
//! file just seeded, copied into PostgreSQL (conversations through `PgConversations::save`,
//! lines in bulk `INSERT … SELECT unnest(…)` batches with their folded words, as
//! `add_entry_write` writes them), then the list and transcript queries timed on the
//! store functions (the relay does not run on PostgreSQL yet, so there is no HTTP case).

use std::time::Instant;

use switchboard_store::conversations::{Cursor, ListQuery, PhaseFilter};
use switchboard_store::pg::{transcripts::line_words, PgConversations, PgDb};
use switchboard_store::{ConversationStore as Store, Mode};
use switchboard_types::events::now_ms;

use crate::{pct, time};

/// Lines per insert.
const BATCH: usize = 10_000;

#[allow(clippy::too_many_arguments)]
pub async fn bench(
    url: &str,
    sqlite_file: &std::path::Path,
    sqlite: &Store,
    runs: usize,
    page: u32,
    surname: &str,
    rare: &str,
    thousand: &str,
) {
    let db = PgDb::connect(url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL: {e}"));
    println!();
    println!("PostgreSQL at {}", db.url());
    let pg = PgConversations::new(db.clone());
    let client = db.client().await.expect("a connection");
    let present: i64 = client
        .query_one(
            "SELECT (SELECT COUNT(*) FROM conversations) + (SELECT COUNT(*) FROM messages)",
            &[],
        )
        .await
        .expect("counts")
        .get(0);
    assert!(
        present == 0,
        "the PostgreSQL database must be empty (it holds {present} conversations and lines): \
         the benchmark fills it; give it a new database"
    );

    let t = Instant::now();
    let convs = sqlite
        .list(u32::MAX, None)
        .await
        .expect("the conversations");
    for c in &convs {
        pg.save(c).await.expect("a save");
    }
    let saved = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let conn = rusqlite::Connection::open(sqlite_file).expect("the SQLite file");
    let mut stmt = conn
        .prepare(
            "SELECT id, conversation_id, direction, author_type, COALESCE(text, ''),
                    payload_json, created_at_ms FROM messages ORDER BY id",
        )
        .expect("the lines");
    let mut rows = stmt.query([]).expect("the lines");
    let mut copied = 0usize;
    let mut batch = Batch::default();
    while let Some(r) = rows.next().expect("a line") {
        batch.ids.push(r.get(0).unwrap());
        batch.conversations.push(r.get(1).unwrap());
        batch.directions.push(r.get(2).unwrap());
        batch.lanes.push(r.get(3).unwrap());
        let text: String = r.get(4).unwrap();
        batch.words.push(line_words(&text));
        batch.texts.push(text);
        batch.payloads.push(r.get(5).unwrap());
        batch.at.push(r.get(6).unwrap());
        if batch.ids.len() == BATCH {
            copied += batch.insert(&db).await;
        }
    }
    copied += batch.insert(&db).await;
    client
        .execute(
            "SELECT setval(pg_get_serial_sequence('messages', 'id'), (SELECT MAX(id) FROM messages))",
            &[],
        )
        .await
        .expect("the sequence moved past the copied ids");
    let lines_took = t.elapsed().as_secs_f64();
    let t = Instant::now();
    // One statement each: several in one string run as one transaction, which VACUUM refuses.
    for table in ["conversations", "messages"] {
        client
            .batch_execute(&format!("VACUUM ANALYZE {table}"))
            .await
            .expect("vacuum");
    }
    let size: i64 = client
        .query_one("SELECT pg_database_size(current_database())", &[])
        .await
        .expect("size")
        .get(0);
    let index: i64 = client
        .query_one("SELECT pg_relation_size('messages_search')", &[])
        .await
        .expect("size")
        .get(0);
    println!(
        "copied {} conversations in {saved:.1} s (one save each), {copied} lines in {lines_took:.1} s \
         ({BATCH} per insert, with the indexes), VACUUM ANALYZE {:.1} s; database {:.0} MB, \
         of which the lines' tsvector index {:.0} MB",
        convs.len(),
        t.elapsed().as_secs_f64(),
        size as f64 / 1e6,
        index as f64 / 1e6
    );

    let newest = ListQuery::newest(page);
    let mut cases: Vec<(String, ListQuery, usize)> = vec![(
        format!("list: first page ({page}, newest first)"),
        newest.clone(),
        usize::MAX,
    )];
    let mut q = newest.clone();
    q.phase = PhaseFilter::parse("queued");
    cases.push(("list: filtered (queued, the rarest)".into(), q, usize::MAX));
    let mut q = newest.clone();
    q.phase = PhaseFilter::parse("handedOver");
    q.mode = Mode::from_name("handover");
    cases.push((
        "list: filtered (handed over, handover mode)".into(),
        q,
        usize::MAX,
    ));
    let common = switchboard_store::transcript_search::COMMON_AFTER;
    for (what, words) in [
        ("a surname", surname),
        ("matching nothing", "no such words"),
        ("a word in many lines", "parcel"),
        ("in every other line", "the"),
        ("a number in one conversation", rare),
        ("two words of one line", "charged invoice"),
    ] {
        let mut q = newest.clone();
        q.search = Some(words.into());
        cases.push((
            format!("list: search \"{words}\" ({what})"),
            q.clone(),
            common,
        ));
        if what != "matching nothing" && what != "a surname" {
            cases.push((
                "  the same, every matching line read from the index".into(),
                q,
                usize::MAX,
            ));
        }
    }
    let mut q = newest.clone();
    q.search = Some("parcel".into());
    q.phase = PhaseFilter::parse("queued");
    cases.push(("list: search \"parcel\", queued only".into(), q, common));
    let mut at = newest.clone();
    let mut seen = 0;
    while seen < convs.len().saturating_sub(page as usize) {
        let rows = pg.page(at.clone()).await.expect("a page");
        let Some(last) = rows.last() else { break };
        seen += rows.len();
        at.after = Some(Cursor {
            created_at_ms: last.created_at_ms,
            id: Some(last.id.clone()),
        });
    }
    cases.push((
        format!("list: deep page (after row {seen})"),
        at,
        usize::MAX,
    ));

    println!();
    println!(
        "{:<56} {:>5}   {:>21}",
        "case (PostgreSQL)", "rows", "store fn p50 / p99"
    );
    for (label, q, common_after) in &cases {
        let rows = pg
            .page_with(q.clone(), *common_after)
            .await
            .expect("a page")
            .len();
        let d = time(runs, || async {
            pg.page_with(q.clone(), *common_after)
                .await
                .expect("a page");
        })
        .await;
        println!(
            "{label:<56} {rows:>5}   {:>8.2} / {:>7.2} ms",
            pct(&d, 0.5),
            pct(&d, 0.99)
        );
    }
    let lines = pg
        .transcript(thousand, 0, 10_000)
        .await
        .expect("transcript")
        .len();
    let d = time(runs, || async {
        pg.get(thousand).await.expect("get").expect("the row");
        pg.transcript(thousand, 0, 10_000)
            .await
            .expect("transcript");
    })
    .await;
    println!(
        "{:<56} {lines:>5}   {:>8.2} / {:>7.2} ms",
        format!("transcript: open ({lines} messages)"),
        pct(&d, 0.5),
        pct(&d, 0.99)
    );
    let d = time(runs, || async {
        pg.idle_handovers(now_ms() - 30 * 60_000)
            .await
            .expect("sweep");
    })
    .await;
    println!(
        "{:<56} {:>5}   {:>8.2} / {:>7.2} ms",
        "inactivity sweep query (every second)",
        "",
        pct(&d, 0.5),
        pct(&d, 0.99)
    );
    println!();
    println!("PostgreSQL plans (EXPLAIN, the list without its transcript part):");
    for (label, q, _) in &cases {
        let plan = pg.plan(q.clone()).await.expect("a plan");
        println!("  {label}:");
        for line in plan {
            println!("      {line}");
        }
    }
}

#[derive(Default)]
struct Batch {
    ids: Vec<i64>,
    conversations: Vec<String>,
    directions: Vec<String>,
    lanes: Vec<String>,
    texts: Vec<String>,
    payloads: Vec<String>,
    at: Vec<i64>,
    words: Vec<String>,
}

impl Batch {
    /// Inserts the lines held and empties the batch; how many.
    async fn insert(&mut self, db: &PgDb) -> usize {
        let n = self.ids.len();
        if n == 0 {
            return 0;
        }
        db.client()
            .await
            .expect("a connection")
            .execute(
                "INSERT INTO messages (id, conversation_id, direction, author_type, text,
                    payload_json, created_at_ms, search_text)
                 SELECT * FROM unnest($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::TEXT[],
                    $5::TEXT[], $6::TEXT[], $7::BIGINT[], $8::TEXT[])",
                &[
                    &self.ids,
                    &self.conversations,
                    &self.directions,
                    &self.lanes,
                    &self.texts,
                    &self.payloads,
                    &self.at,
                    &self.words,
                ],
            )
            .await
            .expect("a batch of lines");
        *self = Self::default();
        n
    }
}
