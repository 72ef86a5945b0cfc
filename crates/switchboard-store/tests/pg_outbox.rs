//! The outbox shared by several relays on PostgreSQL: no entry taken by two relays, the
//! entries of one key sent in order and one at a time, and an entry a dead relay was
//! sending sent again once its lease runs out (at least once, not more). Runs against a
//! real PostgreSQL (common/mod.rs).

mod common;

use std::{
    collections::{BTreeMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use switchboard_store::pg::{PgDb, PgError, PgOutbox};
use switchboard_types::OutboxStatus;

fn delivered() -> switchboard_store::outbox::AttemptOutcome {
    (OutboxStatus::Delivered, 0, None, Some(200), None)
}

/// Two relays drain 120 entries over 8 keys at once: each entry is taken once, and per
/// key the entries go out in id order, never two in flight together.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_relays_send_each_entry_once_in_order_per_key() {
    let Some(test_db) = common::test_database("outbox_two_relays").await else {
        return;
    };
    let relays = [
        PgOutbox::new(
            PgDb::connect(&test_db.url).await.unwrap(),
            Duration::from_secs(30),
        ),
        PgOutbox::new(
            PgDb::connect(&test_db.url).await.unwrap(),
            Duration::from_secs(30),
        ),
    ];
    let mut ids = BTreeMap::<String, Vec<i64>>::new();
    for n in 0..120 {
        let key = format!("c{}", n % 8);
        let id = relays[n % 2]
            .add(&key, "sendMessage", &format!(r#"{{"n":{n}}}"#), 1)
            .await
            .unwrap();
        ids.entry(key).or_default().push(id);
    }
    let sent: Arc<Mutex<BTreeMap<String, Vec<i64>>>> = Default::default();
    let in_flight: Arc<Mutex<HashSet<String>>> = Default::default();
    let workers: Vec<_> = relays
        .iter()
        .map(|outbox| {
            let (outbox, sent, in_flight) = (outbox.clone(), sent.clone(), in_flight.clone());
            tokio::spawn(async move {
                let mut idle = 0;
                while idle < 20 {
                    let taken = outbox.take_due(10, 3).await.unwrap();
                    if taken.is_empty() {
                        idle += 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                    idle = 0;
                    for entry in taken {
                        assert_eq!(entry.status, OutboxStatus::Sending);
                        assert_eq!(entry.attempts, 1, "entry {} taken twice", entry.id);
                        assert!(
                            in_flight.lock().unwrap().insert(entry.ordering_key.clone()),
                            "two entries of {} in flight",
                            entry.ordering_key
                        );
                        tokio::task::yield_now().await;
                        sent.lock()
                            .unwrap()
                            .entry(entry.ordering_key.clone())
                            .or_default()
                            .push(entry.id);
                        in_flight.lock().unwrap().remove(&entry.ordering_key);
                        outbox
                            .record_attempt(entry.id, delivered(), 11)
                            .await
                            .unwrap();
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let sent = std::mem::take(&mut *sent.lock().unwrap());
    assert_eq!(sent, ids, "every entry once, in id order per key");
    drop(relays);
    test_db.drop_database().await;
}

/// A relay takes an entry and dies mid-call: the entries behind it wait, no one takes it
/// while the lease lasts, then another relay sends it again (attempt 2, saying why); the
/// dead relay's late outcome is refused; then the key moves on.
#[tokio::test]
async fn a_dead_relays_entry_is_sent_again_after_its_lease() {
    let Some(test_db) = common::test_database("outbox_lease_expiry").await else {
        return;
    };
    // Long enough that a busy machine does not let it run out before B's first look.
    let lease = Duration::from_millis(1000);
    let a = PgOutbox::new(PgDb::connect(&test_db.url).await.unwrap(), lease);
    let b = PgOutbox::new(PgDb::connect(&test_db.url).await.unwrap(), lease);
    let first = a.add("c1", "sendMessage", "{}", 1).await.unwrap();
    let second = a.add("c1", "sendMessage", "{}", 1).await.unwrap();
    let taken = a.take_due(10, 10).await.unwrap();
    assert_eq!(taken.iter().map(|e| e.id).collect::<Vec<_>>(), [first]);
    // A dies here, its call to 8x8 perhaps made.

    assert!(
        b.take_due(10, 10).await.unwrap().is_empty(),
        "c1 waits for its head"
    );
    tokio::time::sleep(lease + Duration::from_millis(200)).await;
    let retaken = b.take_due(10, 10).await.unwrap();
    assert_eq!(retaken.len(), 1);
    assert_eq!((retaken[0].id, retaken[0].attempts), (first, 2));
    assert!(
        retaken[0]
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("sent again"),
        "{:?}",
        retaken[0].last_error
    );
    let late = a.record_attempt(first, delivered(), 12).await;
    assert!(
        matches!(late, Err(PgError::OutboxLeaseLost { id }) if id == first),
        "{late:?}"
    );
    assert!(a.renew(first).await.is_err());
    b.renew(first).await.unwrap();
    b.record_attempt(first, delivered(), 13).await.unwrap();
    let next = b.take_due(20, 10).await.unwrap();
    assert_eq!(next.iter().map(|e| e.id).collect::<Vec<_>>(), [second]);
    let done = b.get(first).await.unwrap().unwrap();
    assert_eq!(
        (done.status, done.finished_at_ms, done.last_status),
        (OutboxStatus::Delivered, Some(13), Some(200))
    );
    drop((a, b));
    test_db.drop_database().await;
}

/// An entry waiting for its retry time keeps its key closed, and one refused for good
/// lets the next go.
#[tokio::test]
async fn a_head_waiting_for_a_retry_holds_its_key_and_a_failed_one_does_not() {
    let Some(test_db) = common::test_database("outbox_retry_and_failure").await else {
        return;
    };
    let outbox = PgOutbox::new(
        PgDb::connect(&test_db.url).await.unwrap(),
        Duration::from_secs(30),
    );
    let head = outbox.add("c1", "sendMessage", "{}", 1).await.unwrap();
    let behind = outbox.add("c1", "sendMessage", "{}", 1).await.unwrap();
    let other = outbox.add("c2", "sendMessage", "{}", 1).await.unwrap();
    let taken: Vec<i64> = outbox
        .take_due(5, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(taken, [head, other]);
    let retry_later = (
        OutboxStatus::Pending,
        1_000,
        Some("HTTP 503".to_string()),
        Some(503),
        None,
    );
    outbox.record_attempt(head, retry_later, 6).await.unwrap();
    assert!(
        outbox.take_due(500, 10).await.unwrap().is_empty(),
        "not due, and its key waits"
    );
    let again = outbox.take_due(1_000, 10).await.unwrap();
    assert_eq!((again[0].id, again[0].attempts), (head, 2));
    let refused = (
        OutboxStatus::Failed,
        0,
        Some("HTTP 400".to_string()),
        Some(400),
        None,
    );
    outbox.record_attempt(head, refused, 1_001).await.unwrap();
    let next: Vec<i64> = outbox
        .take_due(1_001, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(next, [behind]);
    drop(outbox);
    test_db.drop_database().await;
}
