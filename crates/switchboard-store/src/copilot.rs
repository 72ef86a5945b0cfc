//! The agent's Copilot sessions: one per handed-over conversation, opened by the relay
//! when it builds the link. Only the SHA-256 of the link's token is kept (a copy of the
//! database does not open any page); the relay compares hashes in constant time.
//! A session goes with its conversation: a trigger deletes it when retention (or
//! anything else) deletes the conversation.

use rusqlite::OptionalExtension;
use serde::Serialize;

use crate::{pg::PgCopilotSessions, Database, Db, DbError};

/// The migration that adds the table and the trigger (appended to `db::MIGRATIONS`).
pub const MIGRATION: &str = "CREATE TABLE copilot_sessions (
        conversation_id TEXT PRIMARY KEY,
        token_hash      TEXT NOT NULL,
        created_at_ms   INTEGER NOT NULL,
        revoked_at_ms   INTEGER
    );
    CREATE TRIGGER copilot_sessions_go_with_conversation AFTER DELETE ON conversations
    BEGIN
        DELETE FROM copilot_sessions WHERE conversation_id = old.id;
    END;";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CopilotSession {
    pub conversation_id: String,
    /// Hex SHA-256 of the link's token.
    pub token_hash: String,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

#[derive(Clone)]
pub enum CopilotSessions {
    Sqlite(Db),
    Postgres(PgCopilotSessions),
}

impl CopilotSessions {
    pub fn new(db: Db) -> Self {
        CopilotSessions::Sqlite(db)
    }

    pub fn on(db: &Database) -> Self {
        match db {
            Database::Sqlite(db) => Self::new(db.clone()),
            Database::Postgres(db) => CopilotSessions::Postgres(PgCopilotSessions::new(db.clone())),
        }
    }

    pub async fn get(&self, conversation_id: &str) -> Result<Option<CopilotSession>, DbError> {
        let db = match self {
            CopilotSessions::Sqlite(db) => db,
            CopilotSessions::Postgres(pg) => return Ok(pg.get(conversation_id).await?),
        };
        let id = conversation_id.to_string();
        db.call(move |c| {
            c.prepare_cached(
                "SELECT conversation_id, token_hash, created_at_ms, revoked_at_ms
                     FROM copilot_sessions WHERE conversation_id = ?1",
            )?
            .query_row([id], |r| {
                Ok(CopilotSession {
                    conversation_id: r.get(0)?,
                    token_hash: r.get(1)?,
                    created_at_ms: r.get(2)?,
                    revoked_at_ms: r.get(3)?,
                })
            })
            .optional()
        })
        .await
    }

    /// Opens a new session for the conversation, replacing a revoked one (a revoked
    /// link never works again: the new one has a new token).
    pub async fn open(&self, session: CopilotSession) -> Result<(), DbError> {
        let db = match self {
            CopilotSessions::Sqlite(db) => db,
            CopilotSessions::Postgres(pg) => return Ok(pg.open(session).await?),
        };
        db.call(move |c| {
                c.prepare_cached(
                    "INSERT INTO copilot_sessions (conversation_id, token_hash, created_at_ms, revoked_at_ms)
                     VALUES (?1, ?2, ?3, NULL)
                     ON CONFLICT(conversation_id) DO UPDATE SET token_hash = excluded.token_hash,
                        created_at_ms = excluded.created_at_ms, revoked_at_ms = NULL",
                )?
                .execute(rusqlite::params![
                    session.conversation_id,
                    session.token_hash,
                    session.created_at_ms
                ])
                .map(|_| ())
            })
            .await
    }

    /// Marks the session revoked; false when there is none (or it already was).
    pub async fn revoke(&self, conversation_id: &str, now_ms: i64) -> Result<bool, DbError> {
        let db = match self {
            CopilotSessions::Sqlite(db) => db,
            CopilotSessions::Postgres(pg) => return Ok(pg.revoke(conversation_id, now_ms).await?),
        };
        let id = conversation_id.to_string();
        db.call(move |c| {
            c.prepare_cached(
                "UPDATE copilot_sessions SET revoked_at_ms = ?2
                     WHERE conversation_id = ?1 AND revoked_at_ms IS NULL",
            )?
            .execute(rusqlite::params![id, now_ms])
            .map(|n| n > 0)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn open_revoke_reopen_and_go_with_the_conversation() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        let s = CopilotSessions::new(db.clone());
        let session = |hash: &str, at| CopilotSession {
            conversation_id: "c1".into(),
            token_hash: hash.into(),
            created_at_ms: at,
            revoked_at_ms: None,
        };
        assert_eq!(s.get("c1").await.unwrap(), None);
        s.open(session("h1", 1)).await.unwrap();
        assert!(s.revoke("c1", 5).await.unwrap());
        assert!(!s.revoke("c1", 6).await.unwrap());
        assert_eq!(s.get("c1").await.unwrap().unwrap().revoked_at_ms, Some(5));
        s.open(session("h2", 7)).await.unwrap();
        assert_eq!(s.get("c1").await.unwrap().unwrap(), session("h2", 7));

        db.blocking(|c| {
            c.execute(
                "INSERT INTO conversations (id, role, phase, created_at_ms, updated_at_ms)
                 VALUES ('c1', 'handover', 'ended', 0, 0)",
                [],
            )
            .unwrap();
            c.execute("DELETE FROM conversations WHERE id = 'c1'", [])
                .unwrap();
        });
        assert_eq!(s.get("c1").await.unwrap(), None);
    }
}
