//! The agent's Copilot sessions on PostgreSQL: the same rows and answers as SQLite's
//! `CopilotSessions` (`crate::copilot`). Only the SHA-256 of the link's token is stored.
//! A session goes with its conversation: a trigger (schema version 6) deletes it when
//! the conversation row is deleted, by retention or a save that displaces it. A trigger
//! rather than a foreign key because, as on SQLite, a session may be opened before its
//! conversation's row is written (the relay writes both, not in one transaction).
//! Each write is also available as data ([`open_write`], [`revoke_write`]) for a write
//! unit that opens or revokes a session together with other writes.

use crate::copilot::CopilotSession;
use crate::pg_params;

use super::{PgDb, PgError, PgWrite};

const OPEN: &str = "INSERT INTO copilot_sessions
        (conversation_id, token_hash, created_at_ms, revoked_at_ms)
    VALUES ($1, $2, $3, NULL)
    ON CONFLICT (conversation_id) DO UPDATE SET token_hash = EXCLUDED.token_hash,
        created_at_ms = EXCLUDED.created_at_ms, revoked_at_ms = NULL";

const REVOKE: &str = "UPDATE copilot_sessions SET revoked_at_ms = $2
    WHERE conversation_id = $1 AND revoked_at_ms IS NULL";

/// The write that opens `session` (replacing a revoked one: the new one has a new token).
pub fn open_write(session: &CopilotSession) -> PgWrite {
    PgWrite::new(
        OPEN,
        pg_params![
            session.conversation_id.clone(),
            session.token_hash.clone(),
            session.created_at_ms
        ],
    )
}

/// The write that marks the conversation's session revoked at `now_ms`.
pub fn revoke_write(conversation_id: &str, now_ms: i64) -> PgWrite {
    PgWrite::new(REVOKE, pg_params![conversation_id.to_string(), now_ms])
}

/// One relay's view of the shared Copilot sessions; cheap to clone.
#[derive(Clone, Debug)]
pub struct PgCopilotSessions {
    db: PgDb,
}

impl PgCopilotSessions {
    pub fn new(db: PgDb) -> Self {
        Self { db }
    }

    pub async fn get(&self, conversation_id: &str) -> Result<Option<CopilotSession>, PgError> {
        let row = self
            .db
            .client()
            .await?
            .query_opt(
                "SELECT conversation_id, token_hash, created_at_ms, revoked_at_ms
                 FROM copilot_sessions WHERE conversation_id = $1",
                &[&conversation_id],
            )
            .await?;
        Ok(row.map(|r| CopilotSession {
            conversation_id: r.get(0),
            token_hash: r.get(1),
            created_at_ms: r.get(2),
            revoked_at_ms: r.get(3),
        }))
    }

    /// Opens a new session for the conversation, replacing a revoked one (a revoked
    /// link never works again: the new one has a new token).
    pub async fn open(&self, session: CopilotSession) -> Result<(), PgError> {
        open_write(&session).run(&self.db.client().await?).await?;
        Ok(())
    }

    /// Marks the session revoked; false when there is none (or it already was).
    pub async fn revoke(&self, conversation_id: &str, now_ms: i64) -> Result<bool, PgError> {
        let changed = revoke_write(conversation_id, now_ms)
            .run(&self.db.client().await?)
            .await?;
        Ok(changed > 0)
    }
}
