//! The write unit on PostgreSQL (src/pg/unit.rs): an event's writes, notifications and
//! "processed" mark commit together or not at all. A relay whose lease was taken over
//! while it worked commits nothing and the other relays hear nothing; a failing write
//! leaves the event pending for a retry; ids from the sequences never collide across
//! relays; a row written twice in a unit is written once, in its last state. Runs against
//! a real PostgreSQL (common/mod.rs).

mod common;

use std::{collections::HashSet, time::Duration};

use bytes::Bytes;
use switchboard_store::{
    deliveries::{Disposition, NewDelivery},
    pg::{
        inbox::Claimed,
        unit::{EVENTS_CHANNEL, EVENT_TOO_LARGE, OUTBOX_CHANNEL},
        Notice, PgDb, PgDeliveries, PgError, PgInbox, PgListener, PgUnit, PgWrite,
    },
    pg_params,
};
use switchboard_types::RelayEvent;

fn message(conversation: &str, n: usize) -> NewDelivery {
    NewDelivery {
        received_at_ms: 1,
        headers_json: "{}".into(),
        body: Bytes::from(format!(
            r#"{{"eventType":"MESSAGE","conversationId":"{conversation}","data":{{"text":"m{n}"}}}}"#
        )),
        event_id: Some(format!("{conversation}-{n}")),
        event_type: Some("MESSAGE".into()),
        conversation_id: Some(conversation.into()),
        signature: "valid",
        signature_reason: None,
        http_status: 204,
        disposition: Disposition::Queue,
        outcome: None,
    }
}

/// An outbox call with its id given (taken from the sequence beforehand).
fn outbox_insert(id: i64, key: &str) -> PgWrite {
    PgWrite::new(
        "INSERT INTO outbox (id, ordering_key, operation, request_json, status,
            next_attempt_at_ms, created_at_ms, updated_at_ms)
         VALUES ($1, $2, 'send_message', '{}', 'pending', 0, 0, 0)",
        pg_params![id, key.to_string()],
    )
}

fn meta_insert(key: &str, value: &str) -> PgWrite {
    PgWrite::new(
        "INSERT INTO app_meta (key, value) VALUES ($1, $2)",
        pg_params![key.to_string(), value.to_string()],
    )
}

fn changed(conversation: &str) -> RelayEvent {
    RelayEvent::ConversationChanged {
        conversation_id: conversation.into(),
        phase: "bot",
    }
}

async fn meta(db: &PgDb, key: &str) -> Option<String> {
    db.client()
        .await
        .unwrap()
        .query_opt("SELECT value FROM app_meta WHERE key = $1", &[&key])
        .await
        .unwrap()
        .map(|r| r.get(0))
}

async fn count(db: &PgDb, sql: &str) -> i64 {
    db.client()
        .await
        .unwrap()
        .query_one(sql, &[])
        .await
        .unwrap()
        .get(0)
}

async fn status_of(db: &PgDb, delivery_id: i64) -> String {
    db.client()
        .await
        .unwrap()
        .query_one(
            "SELECT status FROM deliveries WHERE id = $1",
            &[&delivery_id],
        )
        .await
        .unwrap()
        .get(0)
}

/// One event stored for `conversation` and claimed by `inbox`.
async fn one_claimed(db: &PgDb, inbox: &PgInbox, conversation: &str) -> Claimed {
    PgDeliveries::new(db.clone())
        .record(message(conversation, 1))
        .await
        .unwrap();
    let mut claimed = inbox.claim(1).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let claimed = claimed.remove(0);
    assert_eq!(claimed.events.len(), 1);
    claimed
}

/// The next message a listener hears within `wait`, if any (a lost connection fails).
async fn heard(listener: &mut PgListener, wait: Duration) -> Option<(String, String, bool)> {
    match tokio::time::timeout(wait, listener.recv()).await {
        Err(_) => None,
        Ok(Some(Notice::Message {
            channel,
            payload,
            from_self,
        })) => Some((channel, payload, from_self)),
        Ok(other) => panic!("the listener: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_writes_the_notifications_and_the_mark_commit_together() {
    let Some(test_db) = common::test_database("unit_commits_together").await else {
        return;
    };
    let (a, b) = (
        PgDb::connect(&test_db.url).await.unwrap(),
        PgDb::connect(&test_db.url).await.unwrap(),
    );
    let mut listener = PgListener::start(&b, &[EVENTS_CHANNEL, OUTBOX_CHANNEL])
        .await
        .unwrap();
    let inbox = PgInbox::new(a.clone(), Duration::from_secs(30));
    let claimed = one_claimed(&a, &inbox, "c1").await;
    let event = &claimed.events[0];

    let ids = a.next_ids("outbox", 2).await.unwrap();
    let mut unit = PgUnit::new();
    unit.write(outbox_insert(ids[0], "c1"));
    unit.write(outbox_insert(ids[1], "c1"));
    unit.write(meta_insert("c1-seen", "yes"));
    unit.publish(changed("c1"));
    unit.outbox_added();
    let committed = unit
        .commit_event(&a, &claimed.lease, event.delivery_id, Ok("replied".into()))
        .await
        .unwrap();
    assert_eq!(
        committed.events.len(),
        1,
        "the event, for this relay's own bus"
    );
    assert!(committed.outbox_added);

    assert_eq!(status_of(&a, event.delivery_id).await, "processed");
    assert_eq!(count(&a, "SELECT COUNT(*) FROM outbox").await, 2);
    assert_eq!(meta(&a, "c1-seen").await.as_deref(), Some("yes"));
    let (channel, payload, from_self) = heard(&mut listener, Duration::from_secs(5))
        .await
        .expect("the event reaches the other relay");
    assert_eq!(channel, EVENTS_CHANNEL);
    assert!(!from_self);
    let json: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(json["type"], "conversationChanged");
    assert_eq!(json["conversationId"], "c1");
    let (channel, _, _) = heard(&mut listener, Duration::from_secs(5)).await.unwrap();
    assert_eq!(channel, OUTBOX_CHANNEL);

    drop((a, b, inbox, listener));
    test_db.drop_database().await;
}

/// Relay A's lease runs out while its unit is still running (a write that takes long
/// stands for a GC pause or a slow network); relay B takes the conversation over. A's
/// mark is refused at the end and takes every write and notification of the unit down
/// with it; B then handles the event from the start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_lost_mid_unit_rolls_back_everything_and_nothing_is_heard() {
    let Some(test_db) = common::test_database("unit_lease_lost").await else {
        return;
    };
    let (a, b) = (
        PgDb::connect(&test_db.url).await.unwrap(),
        PgDb::connect(&test_db.url).await.unwrap(),
    );
    let mut listener = PgListener::start(&b, &[EVENTS_CHANNEL, OUTBOX_CHANNEL])
        .await
        .unwrap();
    let inbox_a = PgInbox::new(a.clone(), Duration::from_millis(200));
    let claimed = one_claimed(&a, &inbox_a, "c1").await;
    let delivery_id = claimed.events[0].delivery_id;

    let ids = a.next_ids("outbox", 1).await.unwrap();
    let mut unit = PgUnit::new();
    unit.write(outbox_insert(ids[0], "c1"));
    unit.write(meta_insert("a-was-here", "yes"));
    // Still inside the unit's transaction when B takes over.
    unit.write(PgWrite::new("SELECT pg_sleep(1.2)", vec![]));
    unit.publish(changed("c1"));
    unit.outbox_added();
    let inbox_b = PgInbox::new(b.clone(), Duration::from_secs(30));
    let takeover = {
        let inbox_b = inbox_b.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(400)).await;
            inbox_b.claim(1).await.unwrap()
        })
    };
    let result = unit
        .commit_event(&a, &claimed.lease, delivery_id, Ok("replied".into()))
        .await
        .map(|_| ());
    let taken = takeover.await.unwrap();
    assert_eq!(taken.len(), 1, "B took the conversation over mid-unit");
    assert!(taken[0].lease.generation > claimed.lease.generation);
    assert!(
        matches!(result, Err(PgError::LeaseLost { ref conversation }) if conversation == "c1"),
        "{result:?}"
    );

    assert_eq!(count(&a, "SELECT COUNT(*) FROM outbox").await, 0);
    assert_eq!(meta(&a, "a-was-here").await, None);
    assert_eq!(status_of(&a, delivery_id).await, "pending");
    assert_eq!(
        heard(&mut listener, Duration::from_millis(500)).await,
        None,
        "a rolled-back unit's notifications never go out"
    );

    // B handles the event from the start, under its own lease.
    let mut unit = PgUnit::new();
    unit.write(meta_insert("b-was-here", "yes"));
    unit.commit_event(&b, &taken[0].lease, delivery_id, Ok("replied".into()))
        .await
        .unwrap();
    assert_eq!(status_of(&a, delivery_id).await, "processed");
    assert_eq!(meta(&a, "b-was-here").await.as_deref(), Some("yes"));

    drop((a, b, inbox_a, inbox_b, listener));
    test_db.drop_database().await;
}

/// A write that fails takes the unit down: the writes before it are gone, nothing is
/// heard, and the event is still pending under the same lease, so the relay can run it
/// again and commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_write_rolls_back_the_unit_and_the_event_waits_for_a_retry() {
    let Some(test_db) = common::test_database("unit_failing_write").await else {
        return;
    };
    let (a, b) = (
        PgDb::connect(&test_db.url).await.unwrap(),
        PgDb::connect(&test_db.url).await.unwrap(),
    );
    let mut listener = PgListener::start(&b, &[EVENTS_CHANNEL]).await.unwrap();
    let inbox = PgInbox::new(a.clone(), Duration::from_secs(30));
    let claimed = one_claimed(&a, &inbox, "c1").await;
    let delivery_id = claimed.events[0].delivery_id;

    let mut unit = PgUnit::new();
    unit.write(meta_insert("first", "1"));
    unit.publish(changed("c1"));
    // Plain writes are not rows replaced by key: both run, and the second one conflicts.
    unit.write(meta_insert("k", "1"));
    unit.write(meta_insert("k", "2"));
    let err = unit
        .commit_event(&a, &claimed.lease, delivery_id, Ok("replied".into()))
        .await
        .err()
        .expect("the conflicting write fails the unit");
    assert!(
        matches!(err, PgError::Query(_)) && err.to_string().contains("duplicate key"),
        "{err}"
    );
    assert_eq!(meta(&a, "first").await, None);
    assert_eq!(meta(&a, "k").await, None);
    assert_eq!(status_of(&a, delivery_id).await, "pending");
    assert_eq!(heard(&mut listener, Duration::from_millis(300)).await, None);

    // The retry, under the same lease.
    let mut unit = PgUnit::new();
    unit.write(meta_insert("first", "1"));
    unit.publish(changed("c1"));
    unit.commit_event(&a, &claimed.lease, delivery_id, Ok("replied".into()))
        .await
        .unwrap();
    assert_eq!(status_of(&a, delivery_id).await, "processed");
    assert_eq!(meta(&a, "first").await.as_deref(), Some("1"));
    assert!(heard(&mut listener, Duration::from_secs(5)).await.is_some());
    // Marked once: the same mark again is refused, and its unit with it.
    let mut unit = PgUnit::new();
    unit.write(meta_insert("again", "1"));
    let again = unit
        .commit_event(&a, &claimed.lease, delivery_id, Ok("replied".into()))
        .await
        .map(|_| ());
    assert!(matches!(again, Err(PgError::LeaseLost { .. })), "{again:?}");
    assert_eq!(meta(&a, "again").await, None);

    drop((a, b, inbox, listener));
    test_db.drop_database().await;
}

/// Two relays take ids from the same sequences at once, many at a time: none is handed
/// out twice, rows inserted with them fit, and the table's own inserts go on past them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ids_from_the_sequences_are_unique_across_relays() {
    let Some(test_db) = common::test_database("unit_next_ids").await else {
        return;
    };
    let relays = [
        PgDb::connect(&test_db.url).await.unwrap(),
        PgDb::connect(&test_db.url).await.unwrap(),
    ];
    let takers: Vec<_> = (0..8)
        .map(|t| {
            let db = relays[t % 2].clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for _ in 0..25 {
                    let batch = db.next_ids("outbox", 10).await.unwrap();
                    assert_eq!(batch.len(), 10);
                    ids.extend(batch);
                    tokio::task::yield_now().await;
                }
                ids
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in takers {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), 2_000);
    assert_eq!(unique.len(), all.len(), "an id handed out twice");

    // Rows inserted with ids taken, then one with the table's own id: no collision.
    let mut unit = PgUnit::new();
    for id in all.iter().take(50) {
        unit.write(outbox_insert(*id, "k"));
    }
    unit.commit(&relays[1]).await.unwrap();
    let own: i64 = relays[0]
        .client()
        .await
        .unwrap()
        .query_one(
            "INSERT INTO outbox (ordering_key, operation, request_json, status,
                next_attempt_at_ms, created_at_ms, updated_at_ms)
             VALUES ('k', 'x', '{}', 'pending', 0, 0, 0) RETURNING id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(!unique.contains(&own));

    assert!(relays[0].next_ids("outbox", 0).await.unwrap().is_empty());
    relays[0]
        .client()
        .await
        .unwrap()
        .batch_execute("CREATE TABLE ids_given (id BIGINT PRIMARY KEY)")
        .await
        .unwrap();
    let err = relays[0].next_ids("ids_given", 1).await.unwrap_err();
    assert!(matches!(err, PgError::NoSequence { .. }), "{err:?}");
    assert!(relays[0].next_ids("no_such_table", 1).await.is_err());

    drop(relays);
    test_db.drop_database().await;
}

/// A row stored whole twice in a unit (the engine saves a conversation more than once
/// per event) is written once, in its last state; other writes stay, in order. A unit
/// with no event (a tester's message, a timer's job) commits its writes and
/// notifications by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_written_twice_is_written_once_in_its_last_state() {
    let Some(test_db) = common::test_database("unit_row_replaced").await else {
        return;
    };
    let (a, b) = (
        PgDb::connect(&test_db.url).await.unwrap(),
        PgDb::connect(&test_db.url).await.unwrap(),
    );
    let mut listener = PgListener::start(&b, &[EVENTS_CHANNEL]).await.unwrap();
    let mut unit = PgUnit::new();
    // Both plain inserts: were the first one run as well, the second would conflict.
    unit.write_row("app_meta:state", meta_insert("state", "first"));
    unit.write(meta_insert("other", "kept"));
    unit.write_row("app_meta:state", meta_insert("state", "last"));
    unit.write_row("app_meta:elsewhere", meta_insert("elsewhere", "kept too"));
    assert_eq!(unit.len(), 3);
    unit.publish(changed("c9"));
    let committed = unit.commit(&a).await.unwrap();
    assert_eq!(committed.events.len(), 1);
    assert_eq!(meta(&a, "state").await.as_deref(), Some("last"));
    assert_eq!(meta(&a, "other").await.as_deref(), Some("kept"));
    assert_eq!(meta(&a, "elsewhere").await.as_deref(), Some("kept too"));
    let (channel, payload, _) = heard(&mut listener, Duration::from_secs(5)).await.unwrap();
    assert_eq!(channel, EVENTS_CHANNEL);
    assert!(payload.contains("c9"), "{payload}");

    // An event too large for a notification (8,000 bytes) still commits; the other
    // relays are told they fell behind, and their UIs fetch again.
    let mut unit = PgUnit::new();
    unit.publish(RelayEvent::TranscriptEntry {
        entry: serde_json::json!({ "text": "x".repeat(10_000) }),
    });
    unit.commit(&a).await.unwrap();
    let (_, payload, _) = heard(&mut listener, Duration::from_secs(5)).await.unwrap();
    assert_eq!(payload, EVENT_TOO_LARGE);

    drop((a, b, listener));
    test_db.drop_database().await;
}
