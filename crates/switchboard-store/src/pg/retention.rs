//! Retention on PostgreSQL: the same rules as SQLite's (`crate::retention` has them):
//! finished deliveries, outbox entries in a final state and ended conversations (with
//! their transcript lines) older than the admin's limits are deleted; nothing pending,
//! sending or still going is. Each batch is one short transaction, with a pause between
//! batches, so a pass never holds many rows locked and a pass cut short is finished by
//! the next one.
//!
//! What differs from SQLite:
//!
//! - **The newest row of a table may go** when it is old and finished: ids come from the
//!   tables' sequences, which never hand out an id again, so the SQLite rule (an id
//!   reused above the highest row) does not apply.
//! - **Several relays write while a pass deletes.** Each delete checks its conditions
//!   again in its own `WHERE` (a conversation saved since it was read is not deleted: the
//!   `DELETE` waits for the save's row lock and re-reads the row), and an old delivery is
//!   locked before its retries are counted, so a retry stored at that moment is either
//!   seen (the original stays) or waits and then fails its reference (the receiver
//!   answers 5xx and 8x8 sends it again, stored then as a new delivery).
//! - **No file to shrink.** Deleted rows' space is reused after autovacuum (PostgreSQL's
//!   own job); `freed_bytes` is always 0, and [`database_size`] is `pg_database_size`.

use std::time::Duration;

use deadpool_postgres::Object;
use switchboard_types::OutboxStatus;

use crate::retention::{DatabaseSize, Policy, RetentionPass, BATCH, PAUSE};

use super::{PgDb, PgError};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// Where the last pass is remembered (`app_meta`, as on SQLite).
const LAST_PASS_KEY: &str = "retention_last_pass";

fn cutoff(now_ms: i64, days: u32) -> i64 {
    now_ms.saturating_sub(i64::from(days) * DAY_MS)
}

/// The database's size on disk (`pg_database_size`: tables, indexes and their free
/// space; the server's WAL is shared by all its databases and not counted).
pub async fn database_size(db: &PgDb) -> Result<DatabaseSize, PgError> {
    let bytes: i64 = db
        .client()
        .await?
        .query_one("SELECT pg_database_size(current_database())", &[])
        .await?
        .get(0);
    let bytes = bytes.max(0) as u64;
    Ok(DatabaseSize {
        total_bytes: bytes,
        file_bytes: bytes,
        wal_bytes: 0,
        free_bytes: 0,
    })
}

/// Runs retention passes over one PostgreSQL database (see the module's notes).
#[derive(Clone, Debug)]
pub struct PgRetention {
    db: PgDb,
    batch: usize,
    pause: Duration,
}

struct Step {
    removed: u64,
    /// The last id looked at: the next batch starts after it.
    cursor: i64,
    done: bool,
}

struct ConversationStep {
    conversations: u64,
    lines: u64,
    cursor: (i64, String),
    done: bool,
}

impl PgRetention {
    pub fn new(db: PgDb) -> Self {
        Self {
            db,
            batch: BATCH,
            pause: PAUSE,
        }
    }

    /// Smaller batches or another pause (tests, benchmarks).
    pub fn with_batches(mut self, batch: usize, pause: Duration) -> Self {
        self.batch = batch.max(1);
        self.pause = pause;
        self
    }

    /// Deletes what `policy` no longer keeps at `now_ms` and remembers the pass.
    /// Dropping the future between two batches is safe: each batch is its own
    /// transaction, and the next pass carries on.
    pub async fn run(&self, now_ms: i64, policy: Policy) -> Result<RetentionPass, PgError> {
        let started = std::time::Instant::now();
        let mut pass = RetentionPass {
            at_ms: now_ms,
            ..RetentionPass::default()
        };
        let batch = self.batch as i64;

        // Conversations first: the transcript lines they take with them no longer hold
        // on to deliveries and outbox entries.
        let limit = cutoff(now_ms, policy.conversations_days);
        let mut after = (i64::MIN, String::new());
        loop {
            let mut client = self.db.client().await?;
            let step = conversations_batch(&mut client, limit, after, batch).await?;
            drop(client);
            pass.conversations += step.conversations;
            pass.transcript_lines += step.lines;
            after = step.cursor;
            if step.done {
                break;
            }
            tokio::time::sleep(self.pause).await;
        }

        let limit = cutoff(now_ms, policy.deliveries_days);
        let mut after = 0;
        loop {
            let mut client = self.db.client().await?;
            let step = deliveries_batch(&mut client, limit, after, batch).await?;
            drop(client);
            pass.deliveries += step.removed;
            after = step.cursor;
            if step.done {
                break;
            }
            tokio::time::sleep(self.pause).await;
        }

        let limit = cutoff(now_ms, policy.outbox_days);
        let mut after = 0;
        loop {
            let mut client = self.db.client().await?;
            let step = outbox_batch(&mut client, limit, after, batch).await?;
            drop(client);
            pass.outbox += step.removed;
            after = step.cursor;
            if step.done {
                break;
            }
            tokio::time::sleep(self.pause).await;
        }

        pass.took_ms = started.elapsed().as_millis() as u64;
        let json = serde_json::to_string(&pass).unwrap_or_default();
        self.db
            .client()
            .await?
            .execute(
                "INSERT INTO app_meta (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                &[&LAST_PASS_KEY, &json],
            )
            .await?;
        Ok(pass)
    }

    /// The last pass over this database, whichever relay made it.
    pub async fn last_pass(&self) -> Result<Option<RetentionPass>, PgError> {
        let row = self
            .db
            .client()
            .await?
            .query_opt(
                "SELECT value FROM app_meta WHERE key = $1",
                &[&LAST_PASS_KEY],
            )
            .await?;
        Ok(row.and_then(|r| serde_json::from_str(r.get::<_, &str>(0)).ok()))
    }
}

/// Ended conversations untouched since `cutoff`, oldest first, read through the phase
/// index (`conversations_phase`) from `after` on; the scan stops at the cutoff, since a
/// conversation created after it cannot have ended before it.
async fn conversations_batch(
    client: &mut Object,
    cutoff: i64,
    after: (i64, String),
    batch: i64,
) -> Result<ConversationStep, PgError> {
    let tx = client.transaction().await?;
    let candidates = tx
        .query(
            "SELECT id, created_at_ms, updated_at_ms, ended_at_ms FROM conversations
             WHERE phase = 'ended' AND (created_at_ms, id) > ($1, $2) AND created_at_ms < $3
             ORDER BY created_at_ms, id LIMIT $4",
            &[&after.0, &after.1, &cutoff, &batch],
        )
        .await?;
    let mut step = ConversationStep {
        conversations: 0,
        lines: 0,
        done: (candidates.len() as i64) < batch,
        cursor: after,
    };
    for row in candidates {
        if step.lines >= batch as u64 {
            // Enough for one transaction; the rest in the next.
            step.done = false;
            break;
        }
        let id: String = row.get(0);
        step.cursor = (row.get(1), id.clone());
        let (updated_at_ms, ended_at_ms): (i64, Option<i64>) = (row.get(2), row.get(3));
        if updated_at_ms >= cutoff || ended_at_ms.is_some_and(|at| at >= cutoff) {
            continue;
        }
        // The conditions again: a relay may have saved the conversation since the read.
        // The Copilot session goes with the row (a trigger).
        let gone = tx
            .execute(
                "DELETE FROM conversations WHERE id = $1 AND phase = 'ended'
                   AND updated_at_ms < $2 AND (ended_at_ms IS NULL OR ended_at_ms < $2)",
                &[&id, &cutoff],
            )
            .await?;
        if gone == 0 {
            continue;
        }
        let lines = tx
            .execute("DELETE FROM messages WHERE conversation_id = $1", &[&id])
            .await?;
        step.conversations += 1;
        step.lines += lines;
    }
    tx.commit().await?;
    Ok(step)
}

/// Finished deliveries received before `cutoff`, in id order from `after` on. Ids follow
/// arrival closely (several relays' clocks differ a little), so the scan stops at the
/// first delivery received after the cutoff; an old one just past it goes next pass.
async fn deliveries_batch(
    client: &mut Object,
    cutoff: i64,
    after: i64,
    batch: i64,
) -> Result<Step, PgError> {
    let tx = client.transaction().await?;
    let rows = tx
        .query(
            "SELECT id, received_at_ms, status FROM deliveries
             WHERE id > $1 ORDER BY id LIMIT $2",
            &[&after, &batch],
        )
        .await?;
    let mut step = Step {
        removed: 0,
        cursor: after,
        done: (rows.len() as i64) < batch,
    };
    for row in rows {
        let (id, received_at_ms, status): (i64, i64, &str) = (row.get(0), row.get(1), row.get(2));
        if received_at_ms >= cutoff {
            step.done = true;
            break;
        }
        step.cursor = id;
        if status == "pending" {
            continue;
        }
        // Locked first, so a retry being stored now is either counted below or waits.
        let locked = tx
            .query_opt(
                "SELECT id FROM deliveries WHERE id = $1 AND status <> 'pending' FOR UPDATE",
                &[&id],
            )
            .await?;
        if locked.is_none() {
            continue; // gone already, as the retry of an original earlier in this batch
        }
        // Retries of this event point at it: they go with it when they are old too,
        // otherwise it stays until they go.
        let young_retries: bool = tx
            .query_one(
                "SELECT EXISTS(SELECT 1 FROM deliveries
                    WHERE duplicate_of = $1 AND received_at_ms >= $2)",
                &[&id, &cutoff],
            )
            .await?
            .get(0);
        if young_retries {
            continue;
        }
        tx.execute(
            "UPDATE messages SET delivery_id = NULL WHERE delivery_id IN
                (SELECT id FROM deliveries WHERE duplicate_of = $1)",
            &[&id],
        )
        .await?;
        let retries = tx
            .execute("DELETE FROM deliveries WHERE duplicate_of = $1", &[&id])
            .await?;
        tx.execute(
            "UPDATE messages SET delivery_id = NULL WHERE delivery_id = $1",
            &[&id],
        )
        .await?;
        let gone = tx
            .execute("DELETE FROM deliveries WHERE id = $1", &[&id])
            .await?;
        step.removed += gone + retries;
    }
    tx.commit().await?;
    Ok(step)
}

/// Outbox entries that finished before `cutoff`, in id order from `after` on; the scan
/// stops at the first one created after the cutoff, and open entries (`pending`,
/// `sending` under a relay's lease) or ones finished later are stepped over.
async fn outbox_batch(
    client: &mut Object,
    cutoff: i64,
    after: i64,
    batch: i64,
) -> Result<Step, PgError> {
    let tx = client.transaction().await?;
    let rows = tx
        .query(
            "SELECT id, status, created_at_ms, COALESCE(finished_at_ms, updated_at_ms)
             FROM outbox WHERE id > $1 ORDER BY id LIMIT $2",
            &[&after, &batch],
        )
        .await?;
    let mut step = Step {
        removed: 0,
        cursor: after,
        done: (rows.len() as i64) < batch,
    };
    for row in rows {
        let (id, status, created_at_ms, finished_at_ms): (i64, &str, i64, i64) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        if created_at_ms >= cutoff {
            step.done = true;
            break;
        }
        step.cursor = id;
        if !OutboxStatus::parse(status).is_final() || finished_at_ms >= cutoff {
            continue;
        }
        tx.execute(
            "UPDATE messages SET outbox_id = NULL WHERE outbox_id = $1",
            &[&id],
        )
        .await?;
        // A final entry stays final; the status is checked again all the same.
        step.removed += tx
            .execute(
                "DELETE FROM outbox WHERE id = $1 AND status IN ('delivered', 'failed')",
                &[&id],
            )
            .await?;
    }
    tx.commit().await?;
    Ok(step)
}
