//! The inbox shared by several relays on PostgreSQL: each conversation is processed by
//! one relay at a time, in event order, no event is completed twice, and a dead relay's
//! conversations are taken over once its lease expires. Runs against a real PostgreSQL
//! (common/mod.rs).

mod common;

use std::{
    collections::{BTreeMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use bytes::Bytes;
use switchboard_store::{
    deliveries::{Disposition, NewDelivery},
    pg::{inbox::complete_in, PgDb, PgDeliveries, PgError, PgInbox},
};

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

/// Two relays receive a burst for 12 conversations (their deliveries interleaved, both
/// relays storing events of the same conversation) while two relays consume: every
/// event is processed once, each conversation by one relay at a time, and within a
/// conversation in the order its events were stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_relays_share_the_inbox_without_doubling_or_reordering() {
    let Some(test_db) = common::test_database("inbox_two_relays").await else {
        return;
    };
    let relays = [
        PgDb::connect(&test_db.url).await.unwrap(),
        PgDb::connect(&test_db.url).await.unwrap(),
    ];
    const CONVERSATIONS: usize = 12;
    const PER_CONVERSATION: usize = 25;

    let producers: Vec<_> = (0..4)
        .map(|p| {
            let ledger = PgDeliveries::new(relays[p % 2].clone());
            tokio::spawn(async move {
                for n in (p..PER_CONVERSATION * CONVERSATIONS).step_by(4) {
                    let conversation = format!("c{}", n % CONVERSATIONS);
                    ledger.record(message(&conversation, n)).await.unwrap();
                }
            })
        })
        .collect();

    // Per conversation, the delivery ids in the order they were processed.
    let processed: Arc<Mutex<BTreeMap<String, Vec<i64>>>> = Default::default();
    // Conversations being processed right now, by any relay.
    let busy: Arc<Mutex<HashSet<String>>> = Default::default();
    let produced = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let consumers: Vec<_> = relays
        .iter()
        .map(|db| {
            let inbox = PgInbox::new(db.clone(), Duration::from_secs(30));
            let (processed, busy, produced) = (processed.clone(), busy.clone(), produced.clone());
            tokio::spawn(async move {
                let mut idle_rounds = 0;
                // Until the burst is stored and nothing has come for a while.
                while !(produced.load(std::sync::atomic::Ordering::SeqCst) && idle_rounds >= 20) {
                    let claimed = inbox.claim(3).await.unwrap();
                    if claimed.is_empty() {
                        idle_rounds += 1;
                        tokio::time::sleep(Duration::from_millis(25)).await;
                        continue;
                    }
                    idle_rounds = 0;
                    for c in claimed {
                        let key = c.lease.conversation_key.clone();
                        assert!(
                            busy.lock().unwrap().insert(key.clone()),
                            "{key} processed by two relays at once"
                        );
                        for event in &c.events {
                            tokio::task::yield_now().await;
                            processed
                                .lock()
                                .unwrap()
                                .entry(key.clone())
                                .or_default()
                                .push(event.delivery_id);
                            inbox
                                .complete(&c.lease, event.delivery_id, Ok("done".into()))
                                .await
                                .unwrap();
                        }
                        busy.lock().unwrap().remove(&key);
                        inbox.release(&c.lease).await.unwrap();
                    }
                }
            })
        })
        .collect();
    for p in producers {
        p.await.unwrap();
    }
    produced.store(true, std::sync::atomic::Ordering::SeqCst);
    for c in consumers {
        c.await.unwrap();
    }

    let processed = std::mem::take(&mut *processed.lock().unwrap());
    assert_eq!(processed.len(), CONVERSATIONS);
    let mut all: Vec<i64> = Vec::new();
    for (key, ids) in processed.iter() {
        assert_eq!(ids.len(), PER_CONVERSATION, "{key}");
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "{key} out of order: {ids:?}"
        );
        all.extend(ids);
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(
        unique.len(),
        CONVERSATIONS * PER_CONVERSATION,
        "no event twice"
    );
    let inbox = PgInbox::new(relays[0].clone(), Duration::from_secs(30));
    assert_eq!(inbox.pending_count().await.unwrap(), 0);
    let leases: i64 = relays[0]
        .client()
        .await
        .unwrap()
        .query_one("SELECT COUNT(*) FROM inbox_leases", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(leases, 0, "every lease released");
    drop((relays, inbox));
    test_db.drop_database().await;
}

/// A relay claims a conversation and dies (its lease is never renewed): no other relay
/// takes the conversation while the lease lasts; once it has expired another does, gets
/// the events that were not completed, in order, and the dead relay's late completion,
/// renewal and the effects written with it are refused.
#[tokio::test]
async fn a_dead_relays_lease_expires_and_its_conversation_is_taken_over() {
    let Some(test_db) = common::test_database("inbox_lease_expiry").await else {
        return;
    };
    let (a_db, b_db) = (
        PgDb::connect(&test_db.url).await.unwrap(),
        PgDb::connect(&test_db.url).await.unwrap(),
    );
    let ledger = PgDeliveries::new(a_db.clone());
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(ledger.record(message("c1", n)).await.unwrap().id);
    }
    // Long enough that a busy machine does not let it run out before B's first look.
    let lease = Duration::from_millis(1000);
    let (a, b) = (
        PgInbox::new(a_db.clone(), lease),
        PgInbox::new(b_db.clone(), lease),
    );
    let taken = a.claim(10).await.unwrap();
    assert_eq!(taken.len(), 1);
    let a_lease = taken[0].lease.clone();
    let got: Vec<i64> = taken[0].events.iter().map(|e| e.delivery_id).collect();
    assert_eq!(got, ids);
    a.complete(&a_lease, ids[0], Ok("replied".into()))
        .await
        .unwrap();
    // A completes the first event and dies.

    assert!(
        b.claim(10).await.unwrap().is_empty(),
        "the lease still holds"
    );
    tokio::time::sleep(lease + Duration::from_millis(200)).await;
    let taken = b.claim(10).await.unwrap();
    assert_eq!(taken.len(), 1, "the expired lease is taken over");
    let b_lease = taken[0].lease.clone();
    assert_eq!(b_lease.conversation_key, "c1");
    assert!(b_lease.generation > a_lease.generation);
    let got: Vec<i64> = taken[0].events.iter().map(|e| e.delivery_id).collect();
    assert_eq!(got, ids[1..], "only what A did not complete, in order");

    // A comes back (it was only paused): it may not complete, renew, or commit effects.
    let late = a.complete(&a_lease, ids[1], Ok("late".into())).await;
    assert!(matches!(late, Err(PgError::LeaseLost { .. })), "{late:?}");
    assert!(matches!(
        a.renew(&a_lease).await,
        Err(PgError::LeaseLost { .. })
    ));
    {
        let mut client = a_db.client().await.unwrap();
        let tx = client.transaction().await.unwrap();
        tx.execute(
            "INSERT INTO app_meta (key, value) VALUES ('effect-of-a', 'x')",
            &[],
        )
        .await
        .unwrap();
        let unit = complete_in(&*tx, a_db.instance(), &a_lease, ids[1], Ok("x".into())).await;
        assert!(matches!(unit, Err(PgError::LeaseLost { .. })));
        drop(tx); // rolled back with the refused mark
    }
    a.release(&a_lease).await.unwrap(); // does nothing: the lease is B's now

    b.renew(&b_lease).await.unwrap();
    for id in &ids[1..] {
        b.complete(&b_lease, *id, Ok("replied".into()))
            .await
            .unwrap();
    }
    // Completing twice is refused as well: nothing is marked twice.
    let again = b.complete(&b_lease, ids[1], Ok("again".into())).await;
    assert!(matches!(again, Err(PgError::LeaseLost { .. })));
    b.release(&b_lease).await.unwrap();

    let client = b_db.client().await.unwrap();
    let effect = client
        .query_opt("SELECT 1 FROM app_meta WHERE key = 'effect-of-a'", &[])
        .await
        .unwrap();
    assert!(effect.is_none(), "A's effects were rolled back");
    let rows = client
        .query("SELECT status, outcome FROM deliveries ORDER BY id", &[])
        .await
        .unwrap();
    let rows: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        rows,
        [
            ("processed".into(), "replied".into()),
            ("processed".into(), "replied".into()),
            ("processed".into(), "replied".into()),
        ]
    );
    assert!(b.claim(10).await.unwrap().is_empty());
    drop((client, a, b, a_db, b_db, ledger));
    test_db.drop_database().await;
}

/// A queued row whose body no longer parses is marked failed at the claim instead of
/// being handed out (and claimed) forever.
#[tokio::test]
async fn an_unreadable_queued_event_is_marked_failed() {
    let Some(test_db) = common::test_database("inbox_unreadable").await else {
        return;
    };
    let db = PgDb::connect(&test_db.url).await.unwrap();
    let ledger = PgDeliveries::new(db.clone());
    let mut bad = message("c1", 0);
    bad.body = Bytes::from_static(b"not json");
    let bad = ledger.record(bad).await.unwrap().id;
    let good = ledger.record(message("c1", 1)).await.unwrap().id;
    let inbox = PgInbox::new(db.clone(), Duration::from_secs(30));
    let claimed = inbox.claim(10).await.unwrap();
    let got: Vec<i64> = claimed[0].events.iter().map(|e| e.delivery_id).collect();
    assert_eq!(got, [good]);
    let row = ledger.get(bad).await.unwrap().unwrap();
    assert_eq!(row.status, "failed");
    drop((inbox, ledger, db));
    test_db.drop_database().await;
}

/// While one relay is still storing an event of a conversation (its transaction open,
/// the conversation's lock held), another relay's event of the same conversation waits
/// to be stored: it gets the later id and becomes visible after the first, so the inbox
/// never hands out the second before the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_one_conversation_become_visible_in_id_order() {
    let Some(test_db) = common::test_database("inbox_visible_in_order").await else {
        return;
    };
    let (a_db, b_db) = (
        PgDb::connect(&test_db.url).await.unwrap(),
        PgDb::connect(&test_db.url).await.unwrap(),
    );
    // Relay A, mid-way through storing c1's first event.
    let mut a_client = a_db.client().await.unwrap();
    let a_tx = a_client.transaction().await.unwrap();
    a_tx.execute(
        switchboard_store::pg::deliveries::CONVERSATION_LOCK,
        &[&"c1"],
    )
    .await
    .unwrap();
    let first: i64 = a_tx
        .query_one(
            "INSERT INTO deliveries (received_at_ms, headers_json, body, event_id, conversation_id,
                signature, http_status, status)
             VALUES (1, '{}', $1, 'c1-first', 'c1', 'valid', 204, 'pending')
             RETURNING id",
            &[&&message("c1", 0).body[..]],
        )
        .await
        .unwrap()
        .get(0);

    // Relay B receives c1's next event meanwhile, and an event of c2.
    let b_ledger = PgDeliveries::new(b_db.clone());
    let other = b_ledger.record(message("c2", 0)).await.unwrap();
    assert!(other.id > first, "another conversation is not held up");
    let waiting = tokio::spawn({
        let b_ledger = b_ledger.clone();
        async move { b_ledger.record(message("c1", 1)).await.unwrap() }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "c1's next event waits for the first"
    );
    let inbox = PgInbox::new(b_db.clone(), Duration::from_secs(30));
    let claimed = inbox.claim(10).await.unwrap();
    let keys: Vec<&str> = claimed
        .iter()
        .map(|c| c.lease.conversation_key.as_str())
        .collect();
    assert_eq!(keys, ["c2"], "nothing of c1 is visible yet");
    a_tx.commit().await.unwrap();
    let second = waiting.await.unwrap();
    assert!(second.id > first);
    let claimed = inbox.claim(10).await.unwrap();
    let got: Vec<i64> = claimed[0].events.iter().map(|e| e.delivery_id).collect();
    assert_eq!(got, [first, second.id]);
    drop((a_client, inbox, b_ledger, a_db, b_db));
    test_db.drop_database().await;
}

/// Work on a conversation that is not one of its events (a tester's message on another
/// relay) holds it like a claim: it waits while another relay has the conversation, it
/// does not take a relay's own claim away from it, and while it holds the conversation
/// no relay claims its events.
#[tokio::test]
async fn a_hold_waits_for_another_relays_claim_and_keeps_claims_off() {
    let Some(test_db) = common::test_database("inbox_hold").await else {
        return;
    };
    let a = PgDb::connect(&test_db.url).await.unwrap();
    let b = PgDb::connect(&test_db.url).await.unwrap();
    let lease = Duration::from_secs(30);
    let (inbox_a, inbox_b) = (
        PgInbox::new(a.clone(), lease),
        PgInbox::new(b.clone(), lease),
    );
    let ledger = PgDeliveries::new(a.clone());
    let first = ledger.record(message("c1", 1)).await.unwrap().id;

    let claimed = inbox_a.claim(8).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let claim = claimed[0].lease.clone();
    match inbox_b.hold("c1", Duration::from_millis(200)).await {
        Err(PgError::Busy { conversation }) => assert_eq!(conversation, "c1"),
        other => panic!("relay B held a conversation relay A has: {other:?}"),
    }
    assert_eq!(
        inbox_a
            .hold("c1", Duration::from_millis(200))
            .await
            .unwrap(),
        None,
        "relay A holds it already"
    );
    // A's claim is still good: the hold above did not take it over.
    inbox_a
        .complete(&claim, first, Ok("done".into()))
        .await
        .unwrap();

    // B waits for A to let go, then holds it.
    let waiting = tokio::spawn({
        let inbox_b = inbox_b.clone();
        async move { inbox_b.hold("c1", Duration::from_secs(5)).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !waiting.is_finished(),
        "B waits while A holds the conversation"
    );
    inbox_a.release(&claim).await.unwrap();
    let held = waiting.await.unwrap().unwrap().expect("B holds it now");

    // While B holds it, no relay claims its events; once B lets go, they do.
    let second = ledger.record(message("c1", 2)).await.unwrap().id;
    assert!(inbox_a.claim(8).await.unwrap().is_empty());
    inbox_b.release(&held).await.unwrap();
    let claimed = inbox_a.claim(8).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].events[0].delivery_id, second);
    test_db.drop_database().await;
}
