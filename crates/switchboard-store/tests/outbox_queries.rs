//! The outbox's queries beside taking and recording, one test body run on both backends:
//! SQLite's `Outbox` and PostgreSQL's `PgOutbox` page the inspector's list, count the open
//! entries and find a handover's created conversation alike.

mod common;

use std::time::Duration;

use switchboard_store::{
    pg::{PgDb, PgOutbox},
    Db, Outbox, OutboxEntry,
};
use switchboard_types::OutboxStatus;

/// What the tests ask of the outbox, whichever the backend.
trait Queries {
    /// Stores an entry as it would stand after its attempts; returns its id.
    async fn insert(&self, key: &str, op: &str, status: &str, response: Option<&str>) -> i64;
    async fn get(&self, id: i64) -> Option<OutboxEntry>;
    async fn list(&self, limit: u32, before: Option<i64>) -> Vec<OutboxEntry>;
    async fn open_count(&self) -> i64;
    async fn key_of_created(&self, conversation_id: &str) -> Option<String>;
    async fn creates_in_flight(&self) -> bool;
}

struct Sqlite {
    outbox: Outbox,
    db: Db,
    _dir: tempfile::TempDir,
}

impl Queries for Sqlite {
    async fn insert(&self, key: &str, op: &str, status: &str, response: Option<&str>) -> i64 {
        let (key, op, status) = (key.to_string(), op.to_string(), status.to_string());
        let response = response.map(str::to_string);
        self.db.blocking(move |c| {
            c.execute(
                "INSERT INTO outbox (ordering_key, operation, request_json, status,
                    next_attempt_at_ms, response_json, created_at_ms, updated_at_ms)
                 VALUES (?1, ?2, '{}', ?3, 5, ?4, 5, 5)",
                rusqlite::params![key, op, status, response],
            )
            .unwrap();
            c.last_insert_rowid()
        })
    }
    async fn get(&self, id: i64) -> Option<OutboxEntry> {
        self.outbox.get(id).await.unwrap()
    }
    async fn list(&self, limit: u32, before: Option<i64>) -> Vec<OutboxEntry> {
        self.outbox.list(limit, before).await.unwrap()
    }
    async fn open_count(&self) -> i64 {
        self.outbox.open_count().await.unwrap()
    }
    async fn key_of_created(&self, conversation_id: &str) -> Option<String> {
        self.outbox.key_of_created(conversation_id).await.unwrap()
    }
    async fn creates_in_flight(&self) -> bool {
        self.outbox.creates_in_flight().await.unwrap()
    }
}

struct Postgres {
    outbox: PgOutbox,
    db: PgDb,
}

impl Queries for Postgres {
    async fn insert(&self, key: &str, op: &str, status: &str, response: Option<&str>) -> i64 {
        let client = self.db.client().await.unwrap();
        client
            .query_one(
                "INSERT INTO outbox (ordering_key, operation, request_json, status,
                    next_attempt_at_ms, response_json, created_at_ms, updated_at_ms)
                 VALUES ($1, $2, '{}', $3, 5, $4, 5, 5) RETURNING id",
                &[&key, &op, &status, &response],
            )
            .await
            .unwrap()
            .get(0)
    }
    async fn get(&self, id: i64) -> Option<OutboxEntry> {
        self.outbox.get(id).await.unwrap()
    }
    async fn list(&self, limit: u32, before: Option<i64>) -> Vec<OutboxEntry> {
        self.outbox.list(limit, before).await.unwrap()
    }
    async fn open_count(&self) -> i64 {
        self.outbox.open_count().await.unwrap()
    }
    async fn key_of_created(&self, conversation_id: &str) -> Option<String> {
        self.outbox.key_of_created(conversation_id).await.unwrap()
    }
    async fn creates_in_flight(&self) -> bool {
        self.outbox.creates_in_flight().await.unwrap()
    }
}

fn ids(entries: &[OutboxEntry]) -> Vec<i64> {
    entries.iter().map(|e| e.id).collect()
}

async fn the_list_pages_newest_first(o: &impl Queries) {
    assert!(o.list(10, None).await.is_empty());
    let mut made = Vec::new();
    for n in 0..5 {
        made.push(
            o.insert(&format!("k{n}"), "sendMessage", "pending", None)
                .await,
        );
    }
    let (a, b, c, d, e) = (made[0], made[1], made[2], made[3], made[4]);
    assert_eq!(ids(&o.list(2, None).await), [e, d]);
    assert_eq!(ids(&o.list(2, Some(d)).await), [c, b]);
    assert_eq!(ids(&o.list(2, Some(b)).await), [a]);
    assert!(o.list(2, Some(a)).await.is_empty());
    assert_eq!(ids(&o.list(100, None).await), [e, d, c, b, a]);
    // A page's entries read back as `get` reads them.
    let page = o.list(1, Some(c)).await;
    let got = o.get(b).await.unwrap();
    assert_eq!(page[0].id, got.id);
    assert_eq!(page[0].ordering_key, "k1");
    assert_eq!(got.ordering_key, "k1");
    assert_eq!(page[0].operation, got.operation);
    assert_eq!(page[0].status, OutboxStatus::Pending);
    assert_eq!(page[0].created_at_ms, 5);
    assert!(o.get(e + 1000).await.is_none());
}

async fn open_entries_are_pending_or_sending(o: &impl Queries) {
    assert_eq!(o.open_count().await, 0);
    o.insert("k1", "sendMessage", "pending", None).await;
    o.insert("k1", "sendMessage", "sending", None).await;
    o.insert("k2", "sendMessage", "delivered", Some("{}")).await;
    o.insert("k2", "sendMessage", "failed", None).await;
    o.insert("k3", "sendMessage", "pending", None).await;
    assert_eq!(o.open_count().await, 3);
}

async fn a_created_conversation_is_found_by_its_8x8_id(o: &impl Queries) {
    assert!(!o.creates_in_flight().await);
    assert_eq!(o.key_of_created("gw-1").await, None);
    let created = r#"{"conversationId":"gw-1"}"#;
    // Only a delivered create counts: not another operation with the same answer, nor a
    // create that failed.
    o.insert("other", "sendMessage", "delivered", Some(created))
        .await;
    o.insert("failed", "createConversation", "failed", Some(created))
        .await;
    assert_eq!(o.key_of_created("gw-1").await, None);
    let pending = o
        .insert("local-1", "createConversation", "pending", None)
        .await;
    assert!(o.creates_in_flight().await, "a pending create");
    o.insert("local-1", "createConversation", "delivered", Some(created))
        .await;
    assert_eq!(o.key_of_created("gw-1").await.as_deref(), Some("local-1"));
    assert_eq!(o.key_of_created("gw-2").await, None);
    // The newest delivered create of that id wins.
    o.insert("local-2", "createConversation", "delivered", Some(created))
        .await;
    assert_eq!(o.key_of_created("gw-1").await.as_deref(), Some("local-2"));
    assert!(o.get(pending).await.is_some());
}

async fn no_create_in_flight_once_all_ended(o: &impl Queries) {
    o.insert("a", "createConversation", "delivered", Some("{}"))
        .await;
    o.insert("b", "createConversation", "failed", None).await;
    o.insert("c", "sendMessage", "pending", None).await;
    assert!(
        !o.creates_in_flight().await,
        "ended creates and other calls"
    );
    o.insert("d", "createConversation", "sending", None).await;
    assert!(o.creates_in_flight().await, "a create being sent");
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let db = super::Db::open(&dir.path().join("t.db")).unwrap();
                    let store = super::Sqlite {
                        outbox: super::Outbox::new(db.clone()),
                        db,
                        _dir: dir,
                    };
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
                    let store = super::Postgres {
                        outbox: super::PgOutbox::new(db.clone(), super::Duration::from_secs(30)),
                        db,
                    };
                    super::$name(&store).await;
                    drop(store);
                    test_db.drop_database().await;
                }
            )*
        }
    };
}

on_both_backends!(
    the_list_pages_newest_first,
    open_entries_are_pending_or_sending,
    a_created_conversation_is_found_by_its_8x8_id,
    no_create_in_flight_once_all_ended,
);
