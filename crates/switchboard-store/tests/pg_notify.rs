//! `LISTEN/NOTIFY` between relays: a notification sent in a transaction reaches the
//! other relays only if it commits, a relay knows its own, and a listener whose
//! connection is cut says so and hears again once it has reconnected by itself. Runs
//! against a real PostgreSQL (common/mod.rs).

mod common;

use std::time::Duration;

use switchboard_store::pg::{
    notify::{notify_in, LISTENER_NAME},
    Notice, PgDb, PgListener,
};

const CHANNEL: &str = "switchboard_events";

async fn next(listener: &mut PgListener, within: Duration) -> Option<Notice> {
    tokio::time::timeout(within, listener.recv())
        .await
        .ok()
        .flatten()
}

#[tokio::test]
async fn a_notification_reaches_the_other_relays_only_when_its_transaction_commits() {
    let Some(test_db) = common::test_database("notify_commit").await else {
        return;
    };
    let (a, b) = (
        PgDb::connect(&test_db.url).await.unwrap(),
        PgDb::connect(&test_db.url).await.unwrap(),
    );
    let mut a_hears = PgListener::start(&a, &[CHANNEL]).await.unwrap();
    let mut b_hears = PgListener::start(&b, &[CHANNEL]).await.unwrap();

    let mut client = a.client().await.unwrap();
    let tx = client.transaction().await.unwrap();
    notify_in(&*tx, a.instance(), CHANNEL, "undone")
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let tx = client.transaction().await.unwrap();
    notify_in(
        &*tx,
        a.instance(),
        CHANNEL,
        r#"{"kind":"conversation","id":"c1"}"#,
    )
    .await
    .unwrap();
    assert_eq!(
        next(&mut b_hears, Duration::from_millis(300)).await,
        None,
        "nothing before the commit"
    );
    tx.commit().await.unwrap();

    let heard = next(&mut b_hears, Duration::from_secs(5)).await;
    assert_eq!(
        heard,
        Some(Notice::Message {
            channel: CHANNEL.into(),
            payload: r#"{"kind":"conversation","id":"c1"}"#.into(),
            from_self: false,
        }),
        "the rolled-back notification never arrives; the committed one does"
    );
    let own = next(&mut a_hears, Duration::from_secs(5)).await;
    assert!(
        matches!(
            own,
            Some(Notice::Message {
                from_self: true,
                ..
            })
        ),
        "{own:?}"
    );
    // A listener dropped closes its connection.
    drop((a_hears, b_hears));
    let mut listening = -1;
    for _ in 0..50 {
        listening = client
            .query_one(
                "SELECT COUNT(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND application_name = $1",
                &[&LISTENER_NAME],
            )
            .await
            .unwrap()
            .get::<_, i64>(0);
        if listening == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        listening, 0,
        "the dropped listeners' connections are closed"
    );
    drop((client, a, b));
    test_db.drop_database().await;
}

#[tokio::test]
async fn a_listener_whose_connection_is_cut_says_so_and_hears_again() {
    let Some(test_db) = common::test_database("notify_reconnect").await else {
        return;
    };
    let (a, b) = (
        PgDb::connect(&test_db.url).await.unwrap(),
        PgDb::connect(&test_db.url).await.unwrap(),
    );
    let mut b_hears = PgListener::start(&b, &[CHANNEL]).await.unwrap();
    let client = a.client().await.unwrap();
    let cut: i64 = client
        .query_one(
            "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = $1) t",
            &[&LISTENER_NAME],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(cut, 1);
    assert_eq!(
        next(&mut b_hears, Duration::from_secs(5)).await,
        Some(Notice::Lost)
    );
    // Sent until heard: the listener is back within moments, by itself.
    let mut heard = None;
    for _ in 0..50 {
        notify_in(&**client, a.instance(), CHANNEL, "after")
            .await
            .unwrap();
        if let Some(notice) = next(&mut b_hears, Duration::from_millis(100)).await {
            heard = Some(notice);
            break;
        }
    }
    assert!(
        matches!(&heard, Some(Notice::Message { payload, .. }) if payload == "after"),
        "{heard:?}"
    );
    drop((client, b_hears, a, b));
    test_db.drop_database().await;
}
