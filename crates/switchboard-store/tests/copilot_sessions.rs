//! Copilot sessions, one test body run on both backends: SQLite's `CopilotSessions` and
//! PostgreSQL's `PgCopilotSessions` open, revoke and reopen alike, and a session goes
//! with its conversation's row (a trigger on each backend).

mod common;

use switchboard_store::{
    conversations::{Conversation, ConversationStore, Mode},
    pg::{copilot, PgConversations, PgCopilotSessions, PgDb, PgUnit},
    CopilotSession, CopilotSessions, Db,
};

/// What the tests ask of the sessions, whichever the backend.
trait Sessions {
    async fn get(&self, id: &str) -> Option<CopilotSession>;
    async fn open(&self, session: CopilotSession);
    async fn revoke(&self, id: &str, now_ms: i64) -> bool;
    /// Writes the conversation's row.
    async fn save_conversation(&self, id: &str);
    /// Deletes the conversation's row, as retention does.
    async fn delete_conversation(&self, id: &str);
}

struct Sqlite {
    sessions: CopilotSessions,
    conversations: ConversationStore,
    db: Db,
    _dir: tempfile::TempDir,
}

impl Sessions for Sqlite {
    async fn get(&self, id: &str) -> Option<CopilotSession> {
        self.sessions.get(id).await.unwrap()
    }
    async fn open(&self, session: CopilotSession) {
        self.sessions.open(session).await.unwrap()
    }
    async fn revoke(&self, id: &str, now_ms: i64) -> bool {
        self.sessions.revoke(id, now_ms).await.unwrap()
    }
    async fn save_conversation(&self, id: &str) {
        let c = Conversation::new(id.into(), Mode::Handover, 0);
        self.conversations.save(&c).await.unwrap()
    }
    async fn delete_conversation(&self, id: &str) {
        let id = id.to_string();
        self.db.blocking(move |c| {
            c.execute("DELETE FROM conversations WHERE id = ?1", [id])
                .unwrap();
        });
    }
}

struct Postgres {
    sessions: PgCopilotSessions,
    conversations: PgConversations,
    db: PgDb,
}

impl Sessions for Postgres {
    async fn get(&self, id: &str) -> Option<CopilotSession> {
        self.sessions.get(id).await.unwrap()
    }
    async fn open(&self, session: CopilotSession) {
        self.sessions.open(session).await.unwrap()
    }
    async fn revoke(&self, id: &str, now_ms: i64) -> bool {
        self.sessions.revoke(id, now_ms).await.unwrap()
    }
    async fn save_conversation(&self, id: &str) {
        let c = Conversation::new(id.into(), Mode::Handover, 0);
        self.conversations.save(&c).await.unwrap()
    }
    async fn delete_conversation(&self, id: &str) {
        let client = self.db.client().await.unwrap();
        client
            .execute("DELETE FROM conversations WHERE id = $1", &[&id])
            .await
            .unwrap();
    }
}

fn session(id: &str, hash: &str, at: i64) -> CopilotSession {
    CopilotSession {
        conversation_id: id.into(),
        token_hash: hash.into(),
        created_at_ms: at,
        revoked_at_ms: None,
    }
}

async fn open_revoke_and_reopen(s: &impl Sessions) {
    assert_eq!(s.get("c1").await, None);
    assert!(!s.revoke("c1", 1).await, "nothing to revoke yet");
    s.open(session("c1", "h1", 1)).await;
    assert_eq!(s.get("c1").await, Some(session("c1", "h1", 1)));
    assert!(s.revoke("c1", 5).await);
    assert!(!s.revoke("c1", 6).await, "revoked once, at 5");
    assert_eq!(s.get("c1").await.unwrap().revoked_at_ms, Some(5));
    // A new link replaces the revoked one: new hash, new time, not revoked.
    s.open(session("c1", "h2", 7)).await;
    assert_eq!(s.get("c1").await, Some(session("c1", "h2", 7)));
    // Opening again while open also replaces (the relay reuses an open one itself).
    s.open(session("c1", "h3", 8)).await;
    assert_eq!(s.get("c1").await, Some(session("c1", "h3", 8)));
}

async fn a_session_goes_with_its_conversation_only(s: &impl Sessions) {
    // A session may be opened before its conversation's row exists.
    s.open(session("c1", "h1", 1)).await;
    s.open(session("c2", "h2", 2)).await;
    s.save_conversation("c1").await;
    s.save_conversation("c2").await;
    // Saving the row again (an update) keeps the session.
    s.save_conversation("c1").await;
    assert!(s.get("c1").await.is_some());
    s.delete_conversation("c1").await;
    assert_eq!(s.get("c1").await, None);
    assert_eq!(s.get("c2").await, Some(session("c2", "h2", 2)));
    // Deleting a conversation that has no session is fine.
    s.save_conversation("c3").await;
    s.delete_conversation("c3").await;
    assert_eq!(s.get("c2").await, Some(session("c2", "h2", 2)));
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
                        sessions: super::CopilotSessions::new(db.clone()),
                        conversations: super::ConversationStore::new(db.clone()),
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
                        sessions: super::PgCopilotSessions::new(db.clone()),
                        conversations: super::PgConversations::new(db.clone()),
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
    open_revoke_and_reopen,
    a_session_goes_with_its_conversation_only
);

/// The writes as data commit with the rest of a unit (PostgreSQL only: on SQLite the
/// unit's writes are closures).
#[tokio::test]
async fn postgres_writes_as_data_commit_in_a_unit() {
    let Some(test_db) = common::test_database("copilot_unit").await else {
        return;
    };
    let db = PgDb::connect(&test_db.url).await.unwrap();
    let sessions = PgCopilotSessions::new(db.clone());
    let mut unit = PgUnit::default();
    unit.write(copilot::open_write(&session("c1", "h1", 1)));
    unit.write(copilot::revoke_write("c1", 4));
    unit.write(copilot::open_write(&session("c2", "h2", 2)));
    unit.commit(&db).await.unwrap();
    assert_eq!(
        sessions.get("c1").await.unwrap().unwrap().revoked_at_ms,
        Some(4)
    );
    assert_eq!(
        sessions.get("c2").await.unwrap(),
        Some(session("c2", "h2", 2))
    );
    drop(sessions);
    drop(db);
    test_db.drop_database().await;
}
