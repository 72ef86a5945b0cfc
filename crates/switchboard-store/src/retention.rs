//! Retention: finished records older than the admin's limits are deleted, so the
//! database stops growing with the traffic it has seen. Only what is done goes:
//!
//! - **deliveries** whose processing is over (any status but `pending`, so the inbox
//!   queue never loses an event), rejected ones included, by `received_at_ms`. An
//!   original whose retry (a `duplicate`) is still kept stays with it; a transcript line
//!   that came from a deleted delivery keeps its text and loses only the link;
//! - **outbox** entries in a final state (`delivered`, `failed`), by `finished_at_ms`;
//!   a transcript line keeps its text and loses only the link;
//! - **conversations** that have ended and not changed since the limit (`updated_at_ms`,
//!   which an ended conversation's late events and a re-opening move on), together with
//!   their transcript lines and their search text (a column of the row). A conversation
//!   goes whole, in one transaction, or not at all.
//!
//! The newest row of each table is always kept, whatever its age: row ids are handed out
//! above the highest one stored (SQLite's rowid; `write_unit::IdSeq`), and an id used
//! again would look to the inbox queue like an event it has already handed out.
//!
//! **Without stalling ingest.** Every write goes through the one connection ([`Db`]);
//! a pass takes it for one small transaction at a time (a few hundred rows, a few
//! milliseconds) and lets go for a pause between them, so a webhook delivery waits at
//! most one batch. The clock is a parameter (`now_ms`): the relay passes the real one,
//! tests their own.
//!
//! **The file shrinks.** Databases are created with `auto_vacuum=INCREMENTAL` (db.rs), so
//! after the deletions `PRAGMA incremental_vacuum` hands the freed pages back to the file
//! system, also a few at a time, and a final `wal_checkpoint(TRUNCATE)` empties the WAL
//! the pass wrote through. [`database_size`] is what the Status page shows.

use std::{path::PathBuf, time::Duration};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use switchboard_types::OutboxStatus;

use crate::{
    database::Database,
    db::{Db, DbError},
};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// How many days each kind of finished record is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub deliveries_days: u32,
    pub outbox_days: u32,
    pub conversations_days: u32,
}

impl Policy {
    fn cutoff(now_ms: i64, days: u32) -> i64 {
        now_ms.saturating_sub(i64::from(days) * DAY_MS)
    }
}

/// What one pass removed, and when it ran.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RetentionPass {
    /// When the pass ran, by the clock it was given (ms since the epoch).
    pub at_ms: i64,
    pub deliveries: u64,
    pub outbox: u64,
    pub conversations: u64,
    /// Transcript lines removed with their conversations.
    pub transcript_lines: u64,
    /// Bytes the database file gave back to the file system (incremental vacuum).
    pub freed_bytes: u64,
    pub took_ms: u64,
}

impl RetentionPass {
    pub fn removed_anything(&self) -> bool {
        self.deliveries + self.outbox + self.conversations + self.transcript_lines > 0
    }
}

/// How big the database is on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseSize {
    /// The database and its WAL together.
    pub total_bytes: u64,
    /// The database's pages (`page_count × page_size`).
    pub file_bytes: u64,
    /// The write-ahead log (`-wal`), not yet copied back or not yet emptied.
    pub wal_bytes: u64,
    /// Pages inside the file that are free for reuse (`freelist_count × page_size`);
    /// retention's incremental vacuum hands them back.
    pub free_bytes: u64,
}

/// The database's size: its pages, free pages and WAL.
pub async fn database_size(db: &Db) -> Result<DatabaseSize, DbError> {
    let wal = wal_path(db);
    db.call(move |c| {
        let page_size: i64 = c.pragma_query_value(None, "page_size", |r| r.get(0))?;
        let pages: i64 = c.pragma_query_value(None, "page_count", |r| r.get(0))?;
        let free: i64 = c.pragma_query_value(None, "freelist_count", |r| r.get(0))?;
        let wal_bytes = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        let file_bytes = (pages * page_size) as u64;
        Ok(DatabaseSize {
            total_bytes: file_bytes + wal_bytes,
            file_bytes,
            wal_bytes,
            free_bytes: (free * page_size) as u64,
        })
    })
    .await
}

fn wal_path(db: &Db) -> PathBuf {
    let mut name = db.path().as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// Where the last pass is remembered (`app_meta`), so a restart still shows it.
const LAST_PASS_KEY: &str = "retention_last_pass";

/// Rows one transaction looks at, and deletes at most (a conversation goes whole, so one
/// with more lines than this is deleted in a transaction of its own).
pub const BATCH: usize = 500;
/// How long a pass leaves the connection to others between two transactions.
pub const PAUSE: Duration = Duration::from_millis(10);
/// Pages one incremental-vacuum step hands back (4 MiB with 4 KiB pages).
pub const VACUUM_STEP: u32 = 1024;

/// The database's size on either backend (the Status page, `/metrics`).
pub async fn size_of(db: &Database) -> Result<DatabaseSize, DbError> {
    match db {
        Database::Sqlite(db) => database_size(db).await,
        Database::Postgres(db) => Ok(crate::pg::retention::database_size(db).await?),
    }
}

/// Retention on either backend: the same policy, PostgreSQL's passes safe beside other
/// relays' (`crate::pg::PgRetention`).
#[derive(Clone)]
pub enum RetentionOn {
    Sqlite(Retention),
    Postgres(crate::pg::PgRetention),
}

impl RetentionOn {
    pub fn on(db: &Database) -> Self {
        match db {
            Database::Sqlite(db) => RetentionOn::Sqlite(Retention::new(db.clone())),
            Database::Postgres(db) => {
                RetentionOn::Postgres(crate::pg::PgRetention::new(db.clone()))
            }
        }
    }

    pub async fn run(&self, now_ms: i64, policy: Policy) -> Result<RetentionPass, DbError> {
        match self {
            RetentionOn::Sqlite(r) => r.run(now_ms, policy).await,
            RetentionOn::Postgres(r) => Ok(r.run(now_ms, policy).await?),
        }
    }

    pub async fn last_pass(&self) -> Result<Option<RetentionPass>, DbError> {
        match self {
            RetentionOn::Sqlite(r) => r.last_pass().await,
            RetentionOn::Postgres(r) => Ok(r.last_pass().await?),
        }
    }
}

/// Runs retention passes over one SQLite database.
#[derive(Clone)]
pub struct Retention {
    db: Db,
    batch: usize,
    pause: Duration,
}

impl Retention {
    pub fn new(db: Db) -> Self {
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

    /// Deletes what `policy` no longer keeps at `now_ms`, shrinks the file and remembers
    /// the pass. Dropping the future between two batches is safe: each batch is its own
    /// transaction, and the next pass carries on.
    pub async fn run(&self, now_ms: i64, policy: Policy) -> Result<RetentionPass, DbError> {
        let started = std::time::Instant::now();
        let mut pass = RetentionPass {
            at_ms: now_ms,
            ..RetentionPass::default()
        };
        let batch = self.batch;

        // Conversations first: the transcript lines they take with them no longer hold
        // on to deliveries and outbox entries.
        let cutoff = Policy::cutoff(now_ms, policy.conversations_days);
        let mut after = (i64::MIN, String::new());
        loop {
            let from = after.clone();
            let step = self
                .db
                .call(move |c| conversations_batch(c, cutoff, from, batch))
                .await?;
            pass.conversations += step.conversations;
            pass.transcript_lines += step.lines;
            after = step.cursor;
            if step.done {
                break;
            }
            tokio::time::sleep(self.pause).await;
        }

        let cutoff = Policy::cutoff(now_ms, policy.deliveries_days);
        let mut after = 0;
        loop {
            let step = self
                .db
                .call(move |c| deliveries_batch(c, cutoff, after, batch))
                .await?;
            pass.deliveries += step.removed;
            after = step.cursor;
            if step.done {
                break;
            }
            tokio::time::sleep(self.pause).await;
        }

        let cutoff = Policy::cutoff(now_ms, policy.outbox_days);
        let mut after = 0;
        loop {
            let step = self
                .db
                .call(move |c| outbox_batch(c, cutoff, after, batch))
                .await?;
            pass.outbox += step.removed;
            after = step.cursor;
            if step.done {
                break;
            }
            tokio::time::sleep(self.pause).await;
        }

        pass.freed_bytes = self.vacuum().await?;
        pass.took_ms = started.elapsed().as_millis() as u64;
        let json = serde_json::to_string(&pass).unwrap_or_default();
        self.db
            .call(move |c| {
                c.execute(
                    "INSERT INTO app_meta (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![LAST_PASS_KEY, json],
                )
            })
            .await?;
        Ok(pass)
    }

    /// The last pass over this database, whichever run of the relay made it.
    pub async fn last_pass(&self) -> Result<Option<RetentionPass>, DbError> {
        let json: Option<String> = self
            .db
            .call(|c| {
                c.query_row(
                    "SELECT value FROM app_meta WHERE key = ?1",
                    [LAST_PASS_KEY],
                    |r| r.get(0),
                )
                .optional()
            })
            .await?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }

    /// Hands free pages back to the file system, [`VACUUM_STEP`] at a time, then empties
    /// the WAL. Returns the bytes the database file gave back. A file without incremental
    /// vacuum (one that could not be converted) frees nothing here.
    async fn vacuum(&self) -> Result<u64, DbError> {
        let mut freed = 0u64;
        loop {
            let (step, left) = self
                .db
                .call(|c| {
                    let page_size: i64 = c.pragma_query_value(None, "page_size", |r| r.get(0))?;
                    let before: i64 = c.pragma_query_value(None, "page_count", |r| r.get(0))?;
                    // Stepped to the end: the pragma frees one page per step.
                    let mut stmt =
                        c.prepare_cached(&format!("PRAGMA incremental_vacuum({VACUUM_STEP})"))?;
                    let mut rows = stmt.query([])?;
                    while rows.next()?.is_some() {}
                    drop(rows);
                    let after: i64 = c.pragma_query_value(None, "page_count", |r| r.get(0))?;
                    let left: i64 = c.pragma_query_value(None, "freelist_count", |r| r.get(0))?;
                    Ok((((before - after).max(0) * page_size) as u64, left))
                })
                .await?;
            freed += step;
            if step == 0 || left == 0 {
                break;
            }
            tokio::time::sleep(self.pause).await;
        }
        if freed > 0 {
            // The moved pages went through the WAL; the checkpointer copies them back
            // (and cuts the file), this also gives the WAL's space back.
            self.db
                .call(|c| c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())))
                .await?;
        }
        Ok(freed)
    }
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

fn top_id(c: &Connection, table: &str) -> rusqlite::Result<i64> {
    c.prepare_cached(&format!("SELECT COALESCE(MAX(id), 0) FROM {table}"))?
        .query_row([], |r| r.get(0))
}

/// Ended conversations untouched since `cutoff`, oldest first, read through the phase
/// index (`conversations_phase`: phase, created_at_ms, id) from `after` on. A
/// conversation created after the cutoff cannot have ended before it, so the scan stops
/// there.
fn conversations_batch(
    c: &mut Connection,
    cutoff: i64,
    after: (i64, String),
    batch: usize,
) -> rusqlite::Result<ConversationStep> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let top_line = top_id(&tx, "messages")?;
    let candidates: Vec<(String, i64, i64, Option<i64>)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT id, created_at_ms, updated_at_ms, ended_at_ms FROM conversations
             WHERE phase = 'ended' AND (created_at_ms, id) > (?1, ?2) AND created_at_ms < ?3
             ORDER BY created_at_ms, id LIMIT ?4",
        )?;
        let rows = stmt.query_map(params![after.0, after.1, cutoff, batch as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut step = ConversationStep {
        conversations: 0,
        lines: 0,
        cursor: after,
        done: candidates.len() < batch,
    };
    for (id, created_at_ms, updated_at_ms, ended_at_ms) in candidates {
        if step.lines >= batch as u64 {
            // Enough for one transaction; the rest in the next.
            step.done = false;
            break;
        }
        step.cursor = (created_at_ms, id.clone());
        if updated_at_ms >= cutoff || ended_at_ms.is_some_and(|at| at >= cutoff) {
            continue;
        }
        let holds_top_line: bool = tx
            .prepare_cached(
                "SELECT EXISTS(SELECT 1 FROM messages WHERE id = ?1 AND conversation_id = ?2)",
            )?
            .query_row(params![top_line, id], |r| r.get(0))?;
        if holds_top_line {
            continue;
        }
        let lines = tx
            .prepare_cached("DELETE FROM messages WHERE conversation_id = ?1")?
            .execute([&id])?;
        tx.prepare_cached("DELETE FROM conversations WHERE id = ?1")?
            .execute([&id])?;
        // The lines' search index rows went with them (triggers); this is its number.
        tx.prepare_cached("DELETE FROM transcript_keys WHERE conversation_id = ?1")?
            .execute([&id])?;
        step.conversations += 1;
        step.lines += lines as u64;
    }
    tx.commit()?;
    Ok(step)
}

/// Finished deliveries received before `cutoff`, in id order from `after` on. Ids follow
/// arrival, so the scan stops at the first delivery received after the cutoff: a pass
/// reads the old part of the table and no more.
fn deliveries_batch(
    c: &mut Connection,
    cutoff: i64,
    after: i64,
    batch: usize,
) -> rusqlite::Result<Step> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let top = top_id(&tx, "deliveries")?;
    let rows: Vec<(i64, i64, String)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT id, received_at_ms, status FROM deliveries
             WHERE id > ?1 AND id < ?2 ORDER BY id LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![after, top, batch as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut step = Step {
        removed: 0,
        cursor: after,
        done: rows.len() < batch,
    };
    for (id, received_at_ms, status) in rows {
        if received_at_ms >= cutoff {
            step.done = true;
            break;
        }
        step.cursor = id;
        if status == "pending" {
            continue;
        }
        // Retries of this event point at it: they go with it when they are old too (and
        // none is the newest row), otherwise it stays until they go.
        let young_retries: i64 = tx
            .prepare_cached(
                "SELECT COUNT(*) FROM deliveries
                 WHERE duplicate_of = ?1 AND (received_at_ms >= ?2 OR id >= ?3)",
            )?
            .query_row(params![id, cutoff, top], |r| r.get(0))?;
        if young_retries > 0 {
            continue;
        }
        tx.prepare_cached(
            "UPDATE messages SET delivery_id = NULL WHERE delivery_id IN
                (SELECT id FROM deliveries WHERE duplicate_of = ?1)",
        )?
        .execute([id])?;
        let retries = tx
            .prepare_cached("DELETE FROM deliveries WHERE duplicate_of = ?1")?
            .execute([id])?;
        tx.prepare_cached("UPDATE messages SET delivery_id = NULL WHERE delivery_id = ?1")?
            .execute([id])?;
        // Zero when it went already, as the retry of an original earlier in this batch.
        let gone = tx
            .prepare_cached("DELETE FROM deliveries WHERE id = ?1")?
            .execute([id])?;
        step.removed += (gone + retries) as u64;
    }
    tx.commit()?;
    Ok(step)
}

/// Outbox entries that finished before `cutoff`, in id order from `after` on. An entry
/// finishes after it is created, so the scan stops at the first one created after the
/// cutoff; entries still open, or finished later, are stepped over.
fn outbox_batch(
    c: &mut Connection,
    cutoff: i64,
    after: i64,
    batch: usize,
) -> rusqlite::Result<Step> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let top = top_id(&tx, "outbox")?;
    let rows: Vec<(i64, String, i64, i64)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT id, status, created_at_ms, COALESCE(finished_at_ms, updated_at_ms) FROM outbox
             WHERE id > ?1 AND id < ?2 ORDER BY id LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![after, top, batch as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut step = Step {
        removed: 0,
        cursor: after,
        done: rows.len() < batch,
    };
    for (id, status, created_at_ms, finished_at_ms) in rows {
        if created_at_ms >= cutoff {
            step.done = true;
            break;
        }
        step.cursor = id;
        if !OutboxStatus::parse(&status).is_final() || finished_at_ms >= cutoff {
            continue;
        }
        tx.prepare_cached("UPDATE messages SET outbox_id = NULL WHERE outbox_id = ?1")?
            .execute([id])?;
        tx.prepare_cached("DELETE FROM outbox WHERE id = ?1")?
            .execute([id])?;
        step.removed += 1;
    }
    tx.commit()?;
    Ok(step)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000 * DAY_MS;
    const POLICY: Policy = Policy {
        deliveries_days: 14,
        outbox_days: 30,
        conversations_days: 90,
    };

    fn days_ago(days: i64) -> i64 {
        NOW - days * DAY_MS
    }

    fn open() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        (dir, db)
    }

    fn delivery(
        c: &Connection,
        at: i64,
        status: &str,
        duplicate_of: Option<i64>,
        body: &[u8],
    ) -> i64 {
        c.execute(
            "INSERT INTO deliveries (received_at_ms, headers_json, body, event_id, signature,
                http_status, duplicate_of, status)
             VALUES (?1, '{}', ?2, NULL, 'valid', 204, ?3, ?4)",
            params![at, body, duplicate_of, status],
        )
        .unwrap();
        c.last_insert_rowid()
    }

    fn outbox(c: &Connection, created: i64, status: &str, finished: Option<i64>) -> i64 {
        c.execute(
            "INSERT INTO outbox (ordering_key, operation, request_json, status, next_attempt_at_ms,
                created_at_ms, updated_at_ms, finished_at_ms)
             VALUES ('k', 'sendMessage', '{}', ?1, ?2, ?2, ?2, ?3)",
            params![status, created, finished],
        )
        .unwrap();
        c.last_insert_rowid()
    }

    fn conversation(
        c: &Connection,
        id: &str,
        phase: &str,
        created: i64,
        updated: i64,
        ended: Option<i64>,
    ) {
        c.execute(
            "INSERT INTO conversations (id, role, phase, created_at_ms, updated_at_ms, ended_at_ms, search_text)
             VALUES (?1, 'endpoint', ?2, ?3, ?4, ?5, ?1)",
            params![id, phase, created, updated, ended],
        )
        .unwrap();
    }

    fn line(
        c: &Connection,
        conversation: &str,
        at: i64,
        delivery: Option<i64>,
        outbox: Option<i64>,
    ) -> i64 {
        c.execute(
            "INSERT INTO messages (conversation_id, direction, author_type, text, delivery_id, outbox_id, created_at_ms)
             VALUES (?1, 'in', 'user', 'hello', ?2, ?3, ?4)",
            params![conversation, delivery, outbox, at],
        )
        .unwrap();
        c.last_insert_rowid()
    }

    fn ids(db: &Db, sql: &'static str) -> Vec<String> {
        db.blocking(|c| {
            let mut stmt = c.prepare(sql).unwrap();
            let rows = stmt
                .query_map([], |r| r.get::<_, rusqlite::types::Value>(0))
                .unwrap()
                .map(|v| match v.unwrap() {
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    rusqlite::types::Value::Text(t) => t,
                    other => format!("{other:?}"),
                });
            rows.collect()
        })
    }

    /// What a pass at `NOW` keeps and removes: old finished rows go; new ones, unfinished
    /// ones and the newest row of each table stay; references to what went are cleared.
    #[tokio::test]
    async fn old_finished_rows_go_and_new_or_unfinished_ones_stay() {
        let (_dir, db) = open();
        let ids_of = db.blocking(|c| {
            let mut d = std::collections::BTreeMap::new();
            // Deliveries: 14 days.
            d.insert(
                "old processed",
                delivery(c, days_ago(20), "processed", None, b"{}"),
            );
            d.insert(
                "old pending",
                delivery(c, days_ago(20), "pending", None, b"{}"),
            );
            d.insert(
                "old rejected",
                delivery(c, days_ago(20), "rejected", None, b"{}"),
            );
            d.insert(
                "old failed",
                delivery(c, days_ago(15), "failed", None, b"{}"),
            );
            let original = delivery(c, days_ago(19), "processed", None, b"{}");
            d.insert("old original, old retry", original);
            d.insert(
                "its old retry",
                delivery(c, days_ago(19), "duplicate", Some(original), b"{}"),
            );
            let kept_original = delivery(c, days_ago(18), "processed", None, b"{}");
            d.insert("old original, new retry", kept_original);
            d.insert(
                "new processed",
                delivery(c, days_ago(13), "processed", None, b"{}"),
            );
            d.insert(
                "its new retry",
                delivery(c, days_ago(2), "duplicate", Some(kept_original), b"{}"),
            );
            // The newest row: kept whatever its age would say (none is newer here).
            d.insert("newest", delivery(c, days_ago(1), "processed", None, b"{}"));

            // Outbox: 30 days, final entries only.
            d.insert(
                "outbox old delivered",
                outbox(c, days_ago(40), "delivered", Some(days_ago(40))),
            );
            d.insert(
                "outbox old failed",
                outbox(c, days_ago(40), "failed", Some(days_ago(35))),
            );
            d.insert(
                "outbox old pending",
                outbox(c, days_ago(40), "pending", None),
            );
            d.insert(
                "outbox old sending",
                outbox(c, days_ago(40), "sending", None),
            );
            d.insert(
                "outbox finished late",
                outbox(c, days_ago(40), "failed", Some(days_ago(10))),
            );
            d.insert(
                "outbox new delivered",
                outbox(c, days_ago(5), "delivered", Some(days_ago(5))),
            );
            d.insert(
                "outbox newest",
                outbox(c, days_ago(50), "delivered", Some(days_ago(50))),
            );

            // Conversations: 90 days after they ended and stopped changing.
            conversation(
                c,
                "ended-long-ago",
                "ended",
                days_ago(200),
                days_ago(100),
                Some(days_ago(100)),
            );
            d.insert(
                "line 1",
                line(c, "ended-long-ago", days_ago(200), Some(original), None),
            );
            d.insert(
                "line 2",
                line(c, "ended-long-ago", days_ago(150), None, None),
            );
            conversation(
                c,
                "old-but-active",
                "bot",
                days_ago(200),
                days_ago(100),
                None,
            );
            conversation(
                c,
                "old-with-agent",
                "agent",
                days_ago(200),
                days_ago(100),
                None,
            );
            conversation(
                c,
                "ended-recently",
                "ended",
                days_ago(200),
                days_ago(30),
                Some(days_ago(30)),
            );
            conversation(
                c,
                "ended-touched-since",
                "ended",
                days_ago(200),
                days_ago(10),
                Some(days_ago(100)),
            );
            // A kept conversation's lines keep their text; links to what went are cleared.
            d.insert(
                "kept line, old delivery",
                line(
                    c,
                    "ended-recently",
                    days_ago(30),
                    Some(d["old processed"]),
                    Some(d["outbox old delivered"]),
                ),
            );
            d.insert(
                "newest line",
                line(c, "old-but-active", days_ago(100), None, None),
            );
            d
        });

        let retention = Retention::new(db.clone()).with_batches(3, Duration::ZERO);
        assert_eq!(retention.last_pass().await.unwrap(), None);
        let pass = retention.run(NOW, POLICY).await.unwrap();
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
        assert_eq!(retention.last_pass().await.unwrap(), Some(pass));

        let id = |name: &str| ids_of[name].to_string();
        assert_eq!(
            ids(&db, "SELECT id FROM deliveries ORDER BY id"),
            [
                "old pending",
                "old original, new retry",
                "new processed",
                "its new retry",
                "newest"
            ]
            .map(id)
        );
        assert_eq!(
            ids(&db, "SELECT id FROM outbox ORDER BY id"),
            [
                "outbox old pending",
                "outbox old sending",
                "outbox finished late",
                "outbox new delivered",
                "outbox newest"
            ]
            .map(id)
        );
        assert_eq!(
            ids(&db, "SELECT id FROM conversations ORDER BY id"),
            [
                "ended-recently",
                "ended-touched-since",
                "old-but-active",
                "old-with-agent"
            ]
        );
        assert_eq!(
            ids(&db, "SELECT id FROM messages ORDER BY id"),
            ["kept line, old delivery", "newest line"].map(id)
        );
        assert_eq!(
            ids(
                &db,
                "SELECT ifnull(delivery_id, 'none') || ' ' || ifnull(outbox_id, 'none') || ' ' || text
                 FROM messages ORDER BY id LIMIT 1"
            ),
            ["none none hello"]
        );
        let broken: i64 = db.blocking(|c| {
            c.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap()
        });
        assert_eq!(broken, 0, "no row points at a deleted one");

        // Nothing is left to remove at the same time; ids go on from the highest.
        let again = retention.run(NOW, POLICY).await.unwrap();
        assert!(!again.removed_anything(), "{again:?}");
        let next = db.blocking(|c| delivery(c, NOW, "processed", None, b"{}"));
        assert_eq!(next, ids_of["newest"] + 1);
    }

    /// Every old row goes when the newest ones are young: the passes' batches carry on
    /// from where the last stopped, including conversations with more lines than a batch.
    #[tokio::test]
    async fn batches_carry_on_until_everything_old_is_gone() {
        let (_dir, db) = open();
        db.blocking(|c| {
            let tx = c.transaction().unwrap();
            for i in 0..40 {
                let id = format!("c{i:02}");
                conversation(
                    &tx,
                    &id,
                    "ended",
                    days_ago(300) + i,
                    days_ago(200),
                    Some(days_ago(200)),
                );
                for _ in 0..(i % 7) {
                    line(&tx, &id, days_ago(200), None, None);
                }
                delivery(&tx, days_ago(100) + i, "processed", None, b"{}");
                outbox(&tx, days_ago(100), "delivered", Some(days_ago(100)));
            }
            conversation(&tx, "live", "bot", NOW, NOW, None);
            line(&tx, "live", NOW, None, None);
            delivery(&tx, NOW, "pending", None, b"{}");
            outbox(&tx, NOW, "pending", None);
            tx.commit().unwrap();
        });
        let pass = Retention::new(db.clone())
            .with_batches(4, Duration::ZERO)
            .run(NOW, POLICY)
            .await
            .unwrap();
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
        assert_eq!(ids(&db, "SELECT id FROM conversations"), ["live"]);
        assert_eq!(ids(&db, "SELECT COUNT(*) FROM messages"), ["1"]);
        assert_eq!(ids(&db, "SELECT status FROM deliveries"), ["pending"]);
        assert_eq!(ids(&db, "SELECT status FROM outbox"), ["pending"]);
    }

    /// The scans and the reference checks read indexes, never a whole table.
    #[tokio::test]
    async fn retention_reads_its_indexes() {
        let (_dir, db) = open();
        for (sql, index) in [
            (
                "SELECT id FROM conversations WHERE phase = 'ended' AND (created_at_ms, id) > (?1, ?2)
                 AND created_at_ms < ?3 ORDER BY created_at_ms, id LIMIT ?4",
                "conversations_phase",
            ),
            ("SELECT id FROM messages WHERE conversation_id = ?1", "messages_conversation"),
            // What a foreign-key check on deleting a delivery or an outbox entry asks.
            ("SELECT 1 FROM messages WHERE delivery_id = ?1", "messages_delivery"),
            ("SELECT 1 FROM messages WHERE outbox_id = ?1", "messages_outbox"),
            ("SELECT 1 FROM deliveries WHERE duplicate_of = ?1", "deliveries_duplicate"),
        ] {
            let plan: Vec<String> = db.blocking(|c| {
                let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
                let n = stmt.parameter_count();
                let rows = stmt
                    .query_map(rusqlite::params_from_iter(vec![0; n]), |r| r.get(3))
                    .unwrap();
                rows.collect::<Result<_, _>>().unwrap()
            });
            let plan = plan.join("; ");
            assert!(plan.contains(index), "{sql}: {plan}");
            assert!(!plan.contains("SCAN"), "{sql}: {plan}");
        }
    }

    fn on_disk(db: &Db) -> u64 {
        let len = |p: PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        len(db.path().to_path_buf()) + len(wal_path(db))
    }

    /// On a real file: a few MB of old deliveries deleted, the file gives the space back.
    #[tokio::test]
    async fn the_file_shrinks_on_disk_after_a_pass() {
        let (_dir, db) = open();
        let body = vec![b'x'; 16 * 1024];
        db.blocking(|c| {
            let tx = c.transaction().unwrap();
            for _ in 0..400 {
                delivery(&tx, days_ago(30), "processed", None, &body);
            }
            for _ in 0..10 {
                delivery(&tx, days_ago(1), "processed", None, &body);
            }
            tx.commit().unwrap();
            c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .unwrap();
        });
        let before = on_disk(&db);
        let size = database_size(&db).await.unwrap();
        assert!(before > 6_000_000, "{before}");
        assert!(
            size.total_bytes >= size.file_bytes && size.file_bytes > 6_000_000,
            "{size:?}"
        );

        let pass = Retention::new(db.clone()).run(NOW, POLICY).await.unwrap();
        assert_eq!(pass.deliveries, 400);
        let after = on_disk(&db);
        assert!(
            after < before - 5_000_000,
            "the file went from {before} to {after} bytes on disk ({pass:?})"
        );
        assert!(pass.freed_bytes > 5_000_000, "{pass:?}");
        let size = database_size(&db).await.unwrap();
        assert!(size.file_bytes < 1_000_000, "{size:?}");
        assert_eq!(size.free_bytes, 0, "{size:?}");
    }

    /// A pass over many rows takes the connection a batch at a time: deliveries recorded
    /// meanwhile are committed between its batches (they see the old rows part gone), not
    /// only before or after the deletions.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ingest_goes_on_while_a_pass_deletes() {
        let (_dir, db) = open();
        let body = vec![b'y'; 2048];
        db.blocking(|c| {
            let tx = c.transaction().unwrap();
            for _ in 0..6000 {
                delivery(&tx, days_ago(30), "processed", None, &body);
            }
            tx.commit().unwrap();
        });
        let handoff = std::sync::Arc::new(crate::inbox_queue::Handoff::new());
        let store = crate::deliveries::DeliveryStore::open(&db, handoff).unwrap();
        let retention = Retention::new(db.clone()).with_batches(100, Duration::from_millis(2));
        let pass = tokio::spawn(async move { retention.run(NOW, POLICY).await });
        let mut seen_midway = std::collections::BTreeSet::new();
        let mut slowest = Duration::ZERO;
        let mut n = 0;
        while !pass.is_finished() {
            n += 1;
            let started = std::time::Instant::now();
            store
                .record(crate::deliveries::NewDelivery {
                    received_at_ms: NOW,
                    headers_json: "{}".into(),
                    body: bytes::Bytes::from_static(b"{}"),
                    event_id: Some(format!("live-{n}")),
                    event_type: Some("MESSAGE".into()),
                    conversation_id: Some("c".into()),
                    signature: "valid",
                    signature_reason: None,
                    http_status: 204,
                    disposition: crate::deliveries::Disposition::Queue,
                    outcome: None,
                })
                .await
                .unwrap();
            slowest = slowest.max(started.elapsed());
            let old: i64 = db
                .call(move |c| {
                    c.query_row(
                        "SELECT COUNT(*) FROM deliveries WHERE received_at_ms < ?1",
                        [NOW],
                        |r| r.get(0),
                    )
                })
                .await
                .unwrap();
            if 0 < old && old < 6000 {
                seen_midway.insert(old);
            }
        }
        let pass = pass.await.unwrap().unwrap();
        assert_eq!(pass.deliveries, 6000);
        assert!(
            seen_midway.len() >= 3,
            "deliveries were recorded at only {} points within the deletions ({seen_midway:?}) in a {} ms pass",
            seen_midway.len(),
            pass.took_ms
        );
        assert!(
            slowest < Duration::from_secs(1),
            "a delivery waited {slowest:?}"
        );
        assert_eq!(
            ids(
                &db,
                "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'"
            ),
            [n.to_string()],
            "every delivery recorded during the pass is kept"
        );
    }
}
