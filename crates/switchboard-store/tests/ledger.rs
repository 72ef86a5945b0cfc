//! The delivery ledger's promises, one test body run on both backends: SQLite's
//! `DeliveryStore` and PostgreSQL's `PgDeliveries` store the same rows and give the same
//! `Recorded` answers. Then what only several relays on PostgreSQL can show: a delivery
//! is stored once whichever relay receives it, and retries are recognised across them.

mod common;

use std::sync::Arc;

use bytes::Bytes;
use switchboard_store::{
    deliveries::{Disposition, NewDelivery, REJECTED_BODY_KEPT},
    inbox_queue::Handoff,
    pg::{PgDb, PgDeliveries},
    Db, DeliveryRecord, DeliveryStore, Recorded,
};

/// What the tests ask of a ledger, whichever the backend.
trait Ledger {
    async fn record(&self, d: NewDelivery) -> Recorded;
    async fn get(&self, id: i64) -> DeliveryRecord;
    async fn by_event_id(&self, event_id: &str) -> Vec<DeliveryRecord>;
    async fn list(&self, limit: u32, before: Option<i64>) -> Vec<DeliveryRecord>;
    async fn complete(&self, id: i64, status: &'static str, outcome: &str, at_ms: i64);
}

impl Ledger for DeliveryStore {
    async fn record(&self, d: NewDelivery) -> Recorded {
        DeliveryStore::record(self, d).await.unwrap()
    }
    async fn get(&self, id: i64) -> DeliveryRecord {
        DeliveryStore::get(self, id).await.unwrap().unwrap()
    }
    async fn by_event_id(&self, event_id: &str) -> Vec<DeliveryRecord> {
        DeliveryStore::by_event_id(self, event_id).await.unwrap()
    }
    async fn list(&self, limit: u32, before: Option<i64>) -> Vec<DeliveryRecord> {
        DeliveryStore::list(self, limit, before).await.unwrap()
    }
    async fn complete(&self, id: i64, status: &'static str, outcome: &str, at_ms: i64) {
        self.writer()
            .expect("SQLite")
            .complete(id, status, outcome.into(), at_ms)
            .await
            .unwrap()
    }
}

impl Ledger for PgDeliveries {
    async fn record(&self, d: NewDelivery) -> Recorded {
        PgDeliveries::record(self, d).await.unwrap()
    }
    async fn get(&self, id: i64) -> DeliveryRecord {
        PgDeliveries::get(self, id).await.unwrap().unwrap()
    }
    async fn by_event_id(&self, event_id: &str) -> Vec<DeliveryRecord> {
        PgDeliveries::by_event_id(self, event_id).await.unwrap()
    }
    async fn list(&self, limit: u32, before: Option<i64>) -> Vec<DeliveryRecord> {
        PgDeliveries::list(self, limit, before).await.unwrap()
    }
    async fn complete(&self, id: i64, status: &'static str, outcome: &str, at_ms: i64) {
        PgDeliveries::complete(self, id, status, outcome, at_ms)
            .await
            .unwrap()
    }
}

fn delivery(event_id: &str, signature: &'static str, disposition: Disposition) -> NewDelivery {
    NewDelivery {
        received_at_ms: 1_700_000_000_000,
        headers_json: r#"{"x-8x8-event-id":"e"}"#.into(),
        body: Bytes::from_static(br#"{"eventType":"MESSAGE","conversationId":"c1"}"#),
        event_id: Some(event_id.into()),
        event_type: Some("MESSAGE".into()),
        conversation_id: Some("c1".into()),
        signature,
        signature_reason: None,
        http_status: 204,
        disposition,
        outcome: None,
    }
}

fn statuses(rows: &[DeliveryRecord]) -> Vec<&str> {
    rows.iter().map(|r| r.status.as_str()).collect()
}

async fn a_genuine_retry_is_a_duplicate_of_the_first(l: &impl Ledger) {
    let first = l.record(delivery("e1", "valid", Disposition::Queue)).await;
    assert_eq!(first.duplicate_of, None);
    let retry = l.record(delivery("e1", "valid", Disposition::Queue)).await;
    assert_eq!(retry.duplicate_of, Some(first.id));
    assert_ne!(retry.id, first.id);
    let rows = l.by_event_id("e1").await;
    assert_eq!(statuses(&rows), ["pending", "duplicate"]);
    assert_eq!(
        rows[1].outcome.as_deref(),
        Some(format!("retry of delivery {}; not processed again", first.id).as_str())
    );
    assert_eq!(rows[1].duplicate_of, Some(first.id));
    // Once processed, the event still holds its id.
    l.complete(first.id, "processed", "replied", 5).await;
    let again = l.record(delivery("e1", "valid", Disposition::Queue)).await;
    assert_eq!(again.duplicate_of, Some(first.id));
}

async fn an_unverified_delivery_never_makes_a_genuine_one_a_duplicate(l: &impl Ledger) {
    for signature in ["unsigned", "invalid"] {
        let id = format!("e-{signature}");
        let shadow = l
            .record(delivery(&id, signature, Disposition::Ignore))
            .await;
        assert_eq!(shadow.duplicate_of, None);
        let genuine = l.record(delivery(&id, "valid", Disposition::Queue)).await;
        assert_eq!(genuine.duplicate_of, None, "{signature} shadowed the event");
        assert_eq!(
            statuses(&l.by_event_id(&id).await),
            ["unverified", "pending"]
        );
    }
}

async fn a_rejected_delivery_is_never_deduplicated_and_its_body_is_cut(l: &impl Ledger) {
    let mut big = delivery("e-r", "unsigned", Disposition::Reject);
    big.body = Bytes::from(vec![b'x'; 1024 * 1024]);
    big.outcome = Some("no signature".into());
    let r1 = l.record(big.clone()).await;
    let r2 = l.record(big).await;
    assert_eq!((r1.duplicate_of, r2.duplicate_of), (None, None));
    let row = l.get(r1.id).await;
    assert_eq!(row.body.len(), REJECTED_BODY_KEPT);
    assert_eq!(
        row.outcome.as_deref(),
        Some("no signature (body cut: the first 4096 of 1048576 bytes kept)")
    );
    let genuine = l.record(delivery("e-r", "valid", Disposition::Queue)).await;
    assert_eq!(genuine.duplicate_of, None);
    assert_eq!(
        statuses(&l.by_event_id("e-r").await),
        ["rejected", "rejected", "pending"]
    );
}

async fn ignored_and_settled_deliveries_hold_their_event_id(l: &impl Ledger) {
    let settled = l
        .record(delivery("e-echo", "valid", Disposition::Settled))
        .await;
    let row = l.get(settled.id).await;
    assert_eq!(row.status, "processed");
    assert_eq!(row.processed_at_ms, Some(row.received_at_ms));
    let ignored = l
        .record(delivery("e-verify", "skipped", Disposition::Ignore))
        .await;
    assert_eq!(l.get(ignored.id).await.status, "ignored");
    let echo_again = l
        .record(delivery("e-echo", "valid", Disposition::Queue))
        .await;
    assert_eq!(echo_again.duplicate_of, Some(settled.id));
    let verify_again = l
        .record(delivery("e-verify", "valid", Disposition::Ignore))
        .await;
    assert_eq!(verify_again.duplicate_of, Some(ignored.id));
}

async fn a_row_reads_back_as_stored_and_pages_newest_first(l: &impl Ledger) {
    let mut d = delivery("e-row", "invalid", Disposition::Reject);
    d.signature_reason = Some("bad_signature".into());
    d.http_status = 401;
    d.conversation_id = None;
    d.body = Bytes::from_static("caf\u{e9} \u{1F600}".as_bytes());
    let stored = l.record(d).await;
    let row = l.get(stored.id).await;
    assert_eq!(row.headers, serde_json::json!({"x-8x8-event-id": "e"}));
    assert_eq!(row.body, "caf\u{e9} \u{1F600}");
    assert_eq!(row.signature, "invalid");
    assert_eq!(row.signature_reason.as_deref(), Some("bad_signature"));
    assert_eq!((row.http_status, row.conversation_id), (401, None));
    assert_eq!(row.event_type.as_deref(), Some("MESSAGE"));
    let mut ids = vec![stored.id];
    for i in 0..4 {
        ids.push(
            l.record(delivery(&format!("p{i}"), "valid", Disposition::Queue))
                .await
                .id,
        );
    }
    let page: Vec<i64> = l.list(3, None).await.iter().map(|r| r.id).collect();
    assert_eq!(page, [ids[4], ids[3], ids[2]]);
    let next: Vec<i64> = l.list(3, Some(ids[2])).await.iter().map(|r| r.id).collect();
    assert_eq!(next, [ids[1], ids[0]]);
    // A completion touches only a pending row, once.
    l.complete(ids[1], "failed", "the bot crashed", 9).await;
    l.complete(ids[1], "processed", "late", 10).await;
    let row = l.get(ids[1]).await;
    assert_eq!(
        (
            row.status.as_str(),
            row.outcome.as_deref(),
            row.processed_at_ms
        ),
        ("failed", Some("the bot crashed"), Some(9))
    );
}

/// Each test body as two tests: `sqlite::name` on a file in a temporary directory,
/// `postgres::name` on a fresh database of the test server.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let db = super::Db::open(&dir.path().join("t.db")).unwrap();
                    let store = super::DeliveryStore::open(&db, super::Arc::new(super::Handoff::new())).unwrap();
                    super::$name(&store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(test_db) = super::common::test_database(stringify!($name)).await else {
                        return;
                    };
                    let db = super::PgDb::connect(&test_db.url).await.unwrap();
                    super::$name(&super::PgDeliveries::new(db)).await;
                    test_db.drop_database().await;
                }
            )*
        }
    };
}

on_both_backends!(
    a_genuine_retry_is_a_duplicate_of_the_first,
    an_unverified_delivery_never_makes_a_genuine_one_a_duplicate,
    a_rejected_delivery_is_never_deduplicated_and_its_body_is_cut,
    ignored_and_settled_deliveries_hold_their_event_id,
    a_row_reads_back_as_stored_and_pages_newest_first,
);

/// Three relays on one database receive the same 200 events, each event three times
/// (8x8's retries land on any relay), all at once: every event is stored once as
/// accepted, every other delivery of it is a duplicate pointing at that row.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_delivery_is_stored_once_whichever_relay_receives_it() {
    let Some(test_db) = common::test_database("ledger_across_relays").await else {
        return;
    };
    let mut relays = Vec::new();
    for _ in 0..3 {
        relays.push(PgDeliveries::new(
            PgDb::connect(&test_db.url).await.unwrap(),
        ));
    }
    let start = Arc::new(tokio::sync::Barrier::new(3 * 200));
    let mut tasks = Vec::new();
    for event in 0..200 {
        for relay in &relays {
            let (relay, start) = (relay.clone(), start.clone());
            tasks.push(tokio::spawn(async move {
                let mut d = delivery(&format!("ev{event}"), "valid", Disposition::Queue);
                d.conversation_id = Some(format!("c{}", event % 7));
                start.wait().await;
                (event, relay.record(d).await.unwrap())
            }));
        }
    }
    let mut by_event: std::collections::BTreeMap<i32, Vec<Recorded>> = Default::default();
    for task in tasks {
        let (event, recorded) = task.await.unwrap();
        by_event.entry(event).or_default().push(recorded);
    }
    for (event, answers) in &by_event {
        let originals: Vec<&Recorded> = answers
            .iter()
            .filter(|r| r.duplicate_of.is_none())
            .collect();
        assert_eq!(originals.len(), 1, "event {event}: {answers:?}");
        let first = originals[0].id;
        assert!(
            answers
                .iter()
                .all(|r| r.id == first || r.duplicate_of == Some(first)),
            "event {event}: {answers:?}"
        );
    }
    let client = PgDb::connect(&test_db.url).await.unwrap();
    let counts = client
        .client()
        .await
        .unwrap()
        .query(
            "SELECT status, COUNT(*) FROM deliveries GROUP BY status ORDER BY status",
            &[],
        )
        .await
        .unwrap();
    let counts: Vec<(String, i64)> = counts.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        counts,
        [("duplicate".to_string(), 400), ("pending".to_string(), 200)]
    );
    drop((relays, client));
    test_db.drop_database().await;
}

/// The server ends every connection of the relay (a PostgreSQL restart or failover does
/// that): the relay's next deliveries may fail, which the receiver answers with 5xx so
/// 8x8 retries, and within moments it stores again on new connections, without a restart.
#[tokio::test]
async fn a_relay_whose_connections_are_cut_stores_again_without_a_restart() {
    let Some(test_db) = common::test_database("ledger_connections_cut").await else {
        return;
    };
    let db = PgDb::connect(&test_db.url).await.unwrap();
    let ledger = PgDeliveries::new(db.clone());
    ledger
        .record(delivery("before", "valid", Disposition::Queue))
        .await
        .unwrap();
    // Another relay's connection ends all of this database's other sessions.
    let admin = PgDb::connect(&test_db.url).await.unwrap();
    let ended: i64 = admin
        .client()
        .await
        .unwrap()
        .query_one(
            "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()) t",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(ended >= 1, "the relay's pooled connection was ended");
    let mut failures = 0;
    let stored = loop {
        match ledger
            .record(delivery("after", "valid", Disposition::Queue))
            .await
        {
            Ok(recorded) => break recorded,
            Err(e) => {
                failures += 1;
                assert!(failures < 20, "never recovered: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    };
    assert_eq!(stored.duplicate_of, None);
    assert_eq!(
        statuses(&PgDeliveries::by_event_id(&ledger, "after").await.unwrap()),
        ["pending"],
        "a failed attempt stored nothing"
    );
    drop((ledger, db, admin));
    test_db.drop_database().await;
}
