//! Retention, one test body run on both backends: SQLite's `Retention` and PostgreSQL's
//! `PgRetention` delete the same old finished rows and keep everything unfinished or
//! young, in batches that carry on until everything old is gone. (SQLite also always
//! keeps each table's newest row, for its ids; the fixtures' newest rows are young, so
//! the rule does not show here. The file shrinking is SQLite's own: src/retention.rs.)

mod common;

use std::time::Duration;

use switchboard_store::{
    pg::{self, PgDb, PgRetention},
    retention::Policy,
    Db,
};

#[path = "retention/backends.rs"]
mod backends;
use backends::{Backend, Postgres, Sqlite};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const NOW: i64 = 1_000 * DAY_MS;
const POLICY: Policy = Policy {
    deliveries_days: 14,
    outbox_days: 30,
    conversations_days: 90,
};

fn days_ago(days: i64) -> i64 {
    NOW - days * DAY_MS
}

/// What a pass at `NOW` keeps and removes: old finished rows go; new ones and unfinished
/// ones stay; references to what went are cleared and the pass is remembered.
async fn old_finished_rows_go_and_new_or_unfinished_ones_stay(b: &impl Backend) {
    // Deliveries: 14 days.
    let old_processed = b.delivery(days_ago(20), "processed", None).await;
    let old_pending = b.delivery(days_ago(20), "pending", None).await;
    b.delivery(days_ago(20), "rejected", None).await;
    b.delivery(days_ago(15), "failed", None).await;
    let original = b.delivery(days_ago(19), "processed", None).await;
    b.delivery(days_ago(19), "duplicate", Some(original)).await;
    let kept_original = b.delivery(days_ago(18), "processed", None).await;
    let new_processed = b.delivery(days_ago(13), "processed", None).await;
    let new_retry = b
        .delivery(days_ago(2), "duplicate", Some(kept_original))
        .await;
    let newest = b.delivery(days_ago(1), "processed", None).await;
    // Outbox: 30 days, final entries only.
    let old_delivered = b
        .outbox(days_ago(40), "delivered", Some(days_ago(40)))
        .await;
    b.outbox(days_ago(40), "failed", Some(days_ago(35))).await;
    let old_pending_call = b.outbox(days_ago(40), "pending", None).await;
    let old_sending = b.outbox(days_ago(40), "sending", None).await;
    let finished_late = b.outbox(days_ago(40), "failed", Some(days_ago(10))).await;
    let new_delivered = b.outbox(days_ago(5), "delivered", Some(days_ago(5))).await;
    // Conversations: 90 days after they ended and stopped changing.
    let long_ago = (days_ago(200), days_ago(100), Some(days_ago(100)));
    b.conversation(
        "ended-long-ago",
        "ended",
        long_ago.0,
        long_ago.1,
        long_ago.2,
    )
    .await;
    b.line("ended-long-ago", days_ago(200), Some(original), None)
        .await;
    b.line("ended-long-ago", days_ago(150), None, None).await;
    b.conversation("old-but-active", "bot", days_ago(200), days_ago(100), None)
        .await;
    b.conversation(
        "old-with-agent",
        "agent",
        days_ago(200),
        days_ago(100),
        None,
    )
    .await;
    b.conversation(
        "ended-recently",
        "ended",
        days_ago(200),
        days_ago(30),
        Some(days_ago(30)),
    )
    .await;
    b.conversation(
        "ended-touched-since",
        "ended",
        days_ago(200),
        days_ago(10),
        Some(days_ago(100)),
    )
    .await;
    // A kept conversation's lines keep their text; links to what went are cleared.
    let kept_line = b
        .line(
            "ended-recently",
            days_ago(30),
            Some(old_processed),
            Some(old_delivered),
        )
        .await;
    let linked_line = b
        .line(
            "old-but-active",
            days_ago(100),
            Some(new_processed),
            Some(new_delivered),
        )
        .await;

    assert_eq!(b.last_pass().await, None);
    let pass = b.run(3).await;
    assert_eq!(
        (
            pass.at_ms,
            pass.deliveries,
            pass.outbox,
            pass.conversations,
            pass.transcript_lines
        ),
        (NOW, 5, 2, 1, 2),
        "{pass:?}"
    );
    assert_eq!(b.last_pass().await, Some(pass));
    let text = |ids: &[i64]| ids.iter().map(i64::to_string).collect::<Vec<_>>();
    assert_eq!(
        b.ids("deliveries").await,
        text(&[old_pending, kept_original, new_processed, new_retry, newest])
    );
    assert_eq!(
        b.ids("outbox").await,
        text(&[old_pending_call, old_sending, finished_late, new_delivered])
    );
    assert_eq!(
        b.ids("conversations").await,
        [
            "ended-recently",
            "ended-touched-since",
            "old-but-active",
            "old-with-agent"
        ]
    );
    assert_eq!(b.ids("messages").await, text(&[kept_line, linked_line]));
    assert_eq!(
        b.links().await,
        [(None, None), (Some(new_processed), Some(new_delivered))]
    );
    // Nothing is left to remove at the same time.
    let again = b.run(3).await;
    assert!(!again.removed_anything(), "{again:?}");
}

/// Every old row goes: the passes' batches carry on from where the last stopped,
/// including conversations with more lines than a batch.
async fn batches_carry_on_until_everything_old_is_gone(b: &impl Backend) {
    for i in 0..40 {
        let id = format!("c{i:02}");
        let ended = Some(days_ago(200));
        b.conversation(&id, "ended", days_ago(300) + i, days_ago(200), ended)
            .await;
        for _ in 0..(i % 7) {
            b.line(&id, days_ago(200), None, None).await;
        }
        b.delivery(days_ago(100) + i, "processed", None).await;
        b.outbox(days_ago(100), "delivered", Some(days_ago(100)))
            .await;
    }
    b.conversation("live", "bot", NOW, NOW, None).await;
    b.line("live", NOW, None, None).await;
    let pending = b.delivery(NOW, "pending", None).await;
    let open = b.outbox(NOW, "pending", None).await;
    let pass = b.run(4).await;
    let lines: u64 = (0..40).map(|i| i % 7).sum();
    assert_eq!(
        (
            pass.conversations,
            pass.transcript_lines,
            pass.deliveries,
            pass.outbox
        ),
        (40, lines, 40, 40)
    );
    assert_eq!(b.ids("conversations").await, ["live"]);
    assert_eq!(b.ids("messages").await.len(), 1);
    assert_eq!(b.ids("deliveries").await, [pending.to_string()]);
    assert_eq!(b.ids("outbox").await, [open.to_string()]);
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let db = super::Db::open(&dir.path().join("t.db")).unwrap();
                    super::$name(&super::Sqlite { db, _dir: dir }).await;
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
                    super::$name(&super::Postgres { db }).await;
                    test_db.drop_database().await;
                }
            )*
        }
    };
}

on_both_backends!(
    old_finished_rows_go_and_new_or_unfinished_ones_stay,
    batches_carry_on_until_everything_old_is_gone,
);

/// On PostgreSQL an ended conversation's Copilot session goes with it, the newest row of
/// a table goes when it is old and finished (ids never come back), and the size is the
/// database's.
#[tokio::test]
async fn postgres_takes_sessions_and_old_newest_rows_and_reports_its_size() {
    let Some(test_db) = common::test_database("retention_pg_only").await else {
        return;
    };
    let db = PgDb::connect(&test_db.url).await.unwrap();
    let b = Postgres { db: db.clone() };
    b.conversation(
        "gone",
        "ended",
        days_ago(300),
        days_ago(200),
        Some(days_ago(200)),
    )
    .await;
    let sessions = pg::PgCopilotSessions::new(db.clone());
    sessions
        .open(switchboard_store::CopilotSession {
            conversation_id: "gone".into(),
            token_hash: "h".into(),
            created_at_ms: days_ago(200),
            revoked_at_ms: None,
        })
        .await
        .unwrap();
    let old = b.delivery(days_ago(100), "processed", None).await;
    let pass = b.run(10).await;
    assert_eq!(
        (pass.conversations, pass.deliveries, pass.freed_bytes),
        (1, 1, 0)
    );
    assert_eq!(sessions.get("gone").await.unwrap(), None);
    assert!(b.ids("deliveries").await.is_empty());
    assert!(
        b.delivery(NOW, "pending", None).await > old,
        "ids never come back"
    );
    let size = pg::retention::database_size(&db).await.unwrap();
    assert!(size.total_bytes > 1_000_000, "{size:?}");
    assert_eq!(size.total_bytes, size.file_bytes);
    drop((b, sessions, db));
    test_db.drop_database().await;
}

/// Two relays running a pass at the same moment (the cluster's timer makes that rare,
/// not impossible) delete each old row once between them and neither fails.
#[tokio::test]
async fn postgres_two_relays_passing_at_once_delete_each_row_once() {
    let Some(test_db) = common::test_database("retention_two_relays").await else {
        return;
    };
    let a = PgDb::connect(&test_db.url).await.unwrap();
    let b = PgDb::connect(&test_db.url).await.unwrap();
    let fixture = Postgres { db: a.clone() };
    for i in 0..60 {
        let id = format!("c{i:02}");
        let ended = Some(days_ago(200));
        fixture
            .conversation(&id, "ended", days_ago(300) + i, days_ago(200), ended)
            .await;
        let delivery = fixture.delivery(days_ago(100) + i, "processed", None).await;
        let call = fixture
            .outbox(days_ago(100), "delivered", Some(days_ago(100)))
            .await;
        fixture
            .line(&id, days_ago(200), Some(delivery), Some(call))
            .await;
        fixture
            .delivery(days_ago(100) + i, "duplicate", Some(delivery))
            .await;
    }
    let run = |db: PgDb| async move {
        PgRetention::new(db)
            .with_batches(3, Duration::ZERO)
            .run(NOW, POLICY)
            .await
            .unwrap()
    };
    let (x, y) = tokio::join!(run(a.clone()), run(b.clone()));
    assert_eq!(
        (
            x.conversations + y.conversations,
            x.transcript_lines + y.transcript_lines,
            x.deliveries + y.deliveries,
            x.outbox + y.outbox
        ),
        (60, 60, 120, 60),
        "{x:?} {y:?}"
    );
    for table in ["conversations", "messages", "deliveries", "outbox"] {
        assert!(fixture.ids(table).await.is_empty(), "{table}");
    }
    drop((fixture, a, b));
    test_db.drop_database().await;
}
