//! The durable outbox: every call that changes 8x8 state is written to SQLite before it
//! is sent, then delivered by [`worker`] in order per ordering key (normally the
//! conversation), retried with backoff until 8x8 accepts it or refuses it for good (a 4xx
//! other than 408/429), and its final state stays visible. Entries survive a restart; one
//! that was in flight when the relay stopped is sent again.
//!
//! Delivery is **at least once**: 8x8 has no idempotency key (P10), so an attempt that
//! timed out or got a 500 may have been applied, and sending it again may duplicate it.
//! The entry's `last_error` says so. Losing a customer's message is the worse outcome.
//!
//! A permanently failed entry does not block the entries after it in the same
//! conversation: the conversation engine sees the failure (status and event) and decides.

use std::{sync::Mutex, time::Duration};

use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use tokio::sync::Notify;

use chat_gateway_client::{HttpExchange, OutboundCall, RequestObserver};
use switchboard_types::{now_ms, OutboxStatus};

use crate::{
    database::Database,
    db::{Db, DbError},
    pg::PgOutbox,
};

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the outbox entry cannot be stored: {0}")]
    Encode(String),
    #[error("outbox entry {0} did not finish in time")]
    Timeout(i64),
}

/// How long to wait between attempts; tests shorten it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
        }
    }
}

/// One entry as the inspector shows it.
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    pub id: i64,
    pub ordering_key: String,
    pub operation: String,
    pub request: serde_json::Value,
    pub status: OutboxStatus,
    pub attempts: i64,
    pub next_attempt_at_ms: i64,
    pub last_error: Option<String>,
    pub last_status: Option<u16>,
    pub response: Option<serde_json::Value>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    /// The last attempt on the wire: method, URL, status, duration, the answer's body
    /// (cut to a few kB). Absent before the first answer and for entries from before
    /// schema version 12.
    pub exchange: Option<HttpExchange>,
}

impl OutboxEntry {
    pub fn is_final(&self) -> bool {
        self.status.is_final()
    }

    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        let json = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        Ok(Self {
            id: r.get(0)?,
            ordering_key: r.get(1)?,
            operation: r.get(2)?,
            request: json(r.get(3)?).unwrap_or(serde_json::Value::Null),
            status: OutboxStatus::parse(&r.get::<_, String>(4)?),
            attempts: r.get(5)?,
            next_attempt_at_ms: r.get(6)?,
            last_error: r.get(7)?,
            last_status: r.get(8)?,
            response: json(r.get(9)?),
            created_at_ms: r.get(10)?,
            updated_at_ms: r.get(11)?,
            finished_at_ms: r.get(12)?,
            exchange: r
                .get::<_, Option<String>>(13)?
                .and_then(|s| serde_json::from_str(&s).ok()),
        })
    }
}

/// An attempt's outcome: status, when to try next, error, HTTP status, 8x8's answer (JSON).
pub type AttemptOutcome = (
    OutboxStatus,
    i64,
    Option<String>,
    Option<u16>,
    Option<String>,
);

/// Written exactly as the `outbox_created` index (schema version 10) is, so the lookup
/// reads that index instead of the whole outbox history.
pub(crate) const KEY_OF_CREATED: &str =
    "SELECT ordering_key FROM outbox WHERE operation = 'createConversation'
     AND status = 'delivered'
     AND json_extract(response_json, '$.conversationId') = ?1
     ORDER BY id DESC LIMIT 1";

/// Written as the `outbox_creating` index is (schema version 10).
pub(crate) const CREATES_IN_FLIGHT: &str = "SELECT EXISTS(SELECT 1 FROM outbox
     WHERE operation = 'createConversation' AND status IN ('pending', 'sending'))";

pub const COLUMNS: &str = "id, ordering_key, operation, request_json, status, attempts, \
     next_attempt_at_ms, last_error, last_status, response_json, created_at_ms, updated_at_ms, finished_at_ms, \
     exchange_json";

pub struct Outbox {
    backend: Backend,
    /// Wakes the worker when an entry is added.
    added: Notify,
    /// Wakes [`Outbox::wait`] callers when an entry reaches a final state.
    finished: Notify,
    backoff: Mutex<Backoff>,
    observer: Mutex<Option<RequestObserver>>,
    attempts: Mutex<Option<AttemptObserver>>,
}

/// Where the entries are: SQLite (ids from memory) or PostgreSQL shared with other
/// relays (ids from the sequence, entries taken under a lease).
enum Backend {
    Sqlite {
        db: Db,
        ids: crate::write_unit::IdSeq,
    },
    Postgres(PgOutbox),
}

/// How long a relay holds an entry it is sending on PostgreSQL before another relay may
/// send it again: three times the client's whole attempt (10 s: connect, send, 8x8's
/// answer), so the outcome is written well within it; a dead relay's call waits this
/// long before another relay sends it again.
const PG_SEND_LEASE: Duration = Duration::from_secs(30);

/// How soon a worker on PostgreSQL looks again for due entries when it knows of none:
/// other relays add and finish entries without waking it.
const PG_POLL: Duration = Duration::from_millis(100);

/// One attempt the worker made at an entry, as operators' metrics count it.
#[derive(Debug, Clone)]
pub struct AttemptSeen<'a> {
    pub operation: &'a str,
    /// How long 8x8 took, when a request was sent.
    pub duration: Option<std::time::Duration>,
    /// 8x8's HTTP status; `None` when no answer came.
    pub http_status: Option<u16>,
    pub delivered: bool,
}

pub type AttemptObserver = std::sync::Arc<dyn Fn(&AttemptSeen<'_>) + Send + Sync>;

impl Outbox {
    /// Entries in flight when the relay stopped (or when the worker restarted after a
    /// database error): 8x8 may or may not have them, so they go again (at least once).
    ///
    /// Not on PostgreSQL: another relay may be sending them right now; an entry whose
    /// relay died goes again when its lease runs out.
    pub async fn requeue_interrupted(&self, now: i64) -> Result<(), OutboxError> {
        let Backend::Sqlite { db, .. } = &self.backend else {
            return Ok(());
        };
        db.call(move |c| {
            c.execute(
                "UPDATE outbox SET status = 'pending', updated_at_ms = ?1,
                        last_error = COALESCE(last_error, 'interrupted by a restart; sent again')
                     WHERE status = 'sending'",
                [now],
            )
        })
        .await?;
        Ok(())
    }

    /// Marks up to `limit` due heads `sending` and returns them, with the time the next
    /// head not yet due falls due (see [`take_due_in`]).
    ///
    /// A write like the others: it shares the database thread's transaction with the
    /// writes waiting beside it (the units that add entries, the outcomes of the last
    /// wave) instead of committing on its own, and its entries are handed out only once
    /// that transaction has committed.
    pub async fn take_due(
        &self,
        now: i64,
        limit: usize,
    ) -> Result<(Vec<OutboxEntry>, Option<i64>), OutboxError> {
        let db = match &self.backend {
            Backend::Sqlite { db, .. } => db,
            Backend::Postgres(pg) => {
                let due = pg.take_due(now, limit).await.map_err(DbError::from)?;
                return Ok((due, Some(now + PG_POLL.as_millis() as i64)));
            }
        };
        let slot = std::sync::Arc::new(Mutex::new(None));
        let out = slot.clone();
        db.write(Box::new(move |c| {
            let taken = take_due_in(c, now, limit)?;
            *out.lock().unwrap_or_else(|e| e.into_inner()) = Some(taken);
            Ok(())
        }))
        .await?;
        let taken = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        taken.ok_or_else(|| OutboxError::Db(DbError::Task("the outbox take gave nothing".into())))
    }

    /// Writes one attempt's outcome to its entry.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_attempt(
        &self,
        id: i64,
        status: OutboxStatus,
        next_at: i64,
        error: Option<String>,
        http_status: Option<u16>,
        response: Option<String>,
        now: i64,
    ) -> Result<(), OutboxError> {
        let outcome = (status, next_at, error, http_status, response);
        self.record_attempt_on_wire(id, outcome, None, now).await
    }

    /// [`Outbox::record_attempt`] with what the attempt looked like on the wire (kept
    /// from the last attempt that had one: a refused connection keeps the one before).
    pub async fn record_attempt_on_wire(
        &self,
        id: i64,
        (status, next_at, error, http_status, response): AttemptOutcome,
        exchange: Option<&HttpExchange>,
        now: i64,
    ) -> Result<(), OutboxError> {
        let exchange = exchange
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| OutboxError::Encode(e.to_string()))?;
        let outcome = (status, next_at, error, http_status, response);
        let db = match &self.backend {
            Backend::Sqlite { db, .. } => db,
            Backend::Postgres(pg) => {
                return Ok(pg
                    .record_attempt_on_wire(id, outcome, exchange, now)
                    .await
                    .map_err(DbError::from)?)
            }
        };
        let (status, next_at, error, http_status, response) = outcome;
        db.write(Box::new(move |c| {
                c.prepare_cached(
                    "UPDATE outbox SET status = ?1, next_attempt_at_ms = ?2,
                        last_error = COALESCE(?3, last_error), last_status = COALESCE(?4, last_status),
                        response_json = ?5, updated_at_ms = ?6,
                        finished_at_ms = CASE WHEN ?1 IN ('delivered', 'failed') THEN ?6 END,
                        exchange_json = COALESCE(?8, exchange_json)
                     WHERE id = ?7",
                )?
                .execute(rusqlite::params![status.as_str(), next_at, error, http_status, response, now, id, exchange])?;
                Ok(())
            }))
            .await?;
        Ok(())
    }

    /// Resolves when an entry was added since the last time (the worker's wake-up).
    pub async fn added(&self) {
        self.added.notified().await
    }

    /// Wakes everyone waiting for an entry to finish ([`Outbox::wait`]).
    pub fn notify_finished(&self) {
        self.finished.notify_waiters();
    }

    pub fn new(db: Db) -> Self {
        Self::with_backend(Backend::Sqlite {
            db,
            ids: crate::write_unit::IdSeq::new("outbox"),
        })
    }

    pub fn on(db: &Database) -> Self {
        match db {
            Database::Sqlite(db) => Self::new(db.clone()),
            Database::Postgres(db) => {
                Self::with_backend(Backend::Postgres(PgOutbox::new(db.clone(), PG_SEND_LEASE)))
            }
        }
    }

    fn with_backend(backend: Backend) -> Self {
        Self {
            backend,
            added: Notify::new(),
            finished: Notify::new(),
            backoff: Mutex::new(Backoff::default()),
            observer: Mutex::new(None),
            attempts: Mutex::new(None),
        }
    }

    pub fn set_backoff(&self, backoff: Backoff) {
        *self.backoff.lock().unwrap_or_else(|e| e.into_inner()) = backoff;
    }

    pub fn backoff(&self) -> Backoff {
        self.backoff
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Sees every request the worker sends (tests check them against the contract).
    pub fn set_observer(&self, observer: RequestObserver) {
        *self.observer.lock().unwrap_or_else(|e| e.into_inner()) = Some(observer);
    }

    /// Sees every attempt's outcome (the relay's `/metrics` counts them).
    pub fn set_attempt_observer(&self, observer: AttemptObserver) {
        *self.attempts.lock().unwrap_or_else(|e| e.into_inner()) = Some(observer);
    }

    pub fn attempt_observer(&self) -> Option<AttemptObserver> {
        self.attempts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn observer(&self) -> Option<RequestObserver> {
        self.observer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Stores a call for delivery after every earlier entry with the same key. Returns
    /// once it is committed: from then on it will be delivered, restart or not. While an
    /// 8x8 event is handled it is committed together with the event instead.
    pub async fn enqueue(
        &self,
        ordering_key: &str,
        call: &OutboundCall,
    ) -> Result<i64, OutboxError> {
        let request =
            serde_json::to_string(call).map_err(|e| OutboxError::Encode(e.to_string()))?;
        let key = ordering_key.to_string();
        let operation = call.operation();
        let now = now_ms();
        let (db, ids) = match &self.backend {
            Backend::Sqlite { db, ids } => (db, ids),
            Backend::Postgres(pg) => {
                let id = pg.db().next_ids("outbox", 1).await.map_err(DbError::from)?[0];
                let write = PgOutbox::add_write(id, &key, operation, request, now);
                crate::write_unit::pg_write_row(pg.db(), None, write)
                    .await
                    .map_err(DbError::from)?;
                if !crate::write_unit::outbox_added() {
                    self.added.notify_one();
                }
                return Ok(id);
            }
        };
        let id = ids.next(db).await?;
        crate::write_unit::write(
            db,
            Box::new(move |c| {
                c.prepare_cached(
                    "INSERT INTO outbox (id, ordering_key, operation, request_json, status,
                        next_attempt_at_ms, created_at_ms, updated_at_ms)
                     VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5, ?5)",
                )?
                .execute(params![id, key, operation, request, now])?;
                Ok(())
            }),
        )
        .await?;
        // Inside an 8x8 event's unit the worker is woken after the commit instead.
        if !crate::write_unit::outbox_added() {
            self.added.notify_one();
        }
        Ok(id)
    }

    /// Wakes the worker: entries were committed outside [`Outbox::enqueue`].
    pub fn notify_added(&self) {
        self.added.notify_one();
    }

    /// Enqueues under the call's own conversation id (a create needs an explicit key).
    pub async fn enqueue_for_conversation(&self, call: &OutboundCall) -> Result<i64, OutboxError> {
        let key = call.conversation_id().unwrap_or("").to_string();
        self.enqueue(&key, call).await
    }

    pub async fn get(&self, id: i64) -> Result<Option<OutboxEntry>, OutboxError> {
        let db = match &self.backend {
            Backend::Sqlite { db, .. } => db,
            Backend::Postgres(pg) => return Ok(pg.get(id).await.map_err(DbError::from)?),
        };
        Ok(db
            .call(move |c| {
                c.query_row(
                    &format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"),
                    [id],
                    OutboxEntry::from_row,
                )
                .optional()
            })
            .await?)
    }

    /// Newest first; `before` an id for paging.
    pub async fn list(
        &self,
        limit: u32,
        before: Option<i64>,
    ) -> Result<Vec<OutboxEntry>, OutboxError> {
        let db = match &self.backend {
            Backend::Sqlite { db, .. } => db,
            Backend::Postgres(pg) => {
                return Ok(pg.list(limit, before).await.map_err(DbError::from)?)
            }
        };
        let before = before.unwrap_or(i64::MAX);
        Ok(db
            .call(move |c| {
                let mut stmt = c.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM outbox WHERE id < ?1 ORDER BY id DESC LIMIT ?2"
                ))?;
                let rows = stmt.query_map(params![before, limit], OutboxEntry::from_row)?;
                rows.collect()
            })
            .await?)
    }

    /// Entries not yet delivered or failed.
    pub async fn open_count(&self) -> Result<i64, OutboxError> {
        let db = match &self.backend {
            Backend::Sqlite { db, .. } => db,
            Backend::Postgres(pg) => return Ok(pg.open_count().await.map_err(DbError::from)?),
        };
        Ok(db
            .call(|c| {
                c.query_row(
                    "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')",
                    [],
                    |r| r.get(0),
                )
            })
            .await?)
    }

    /// The ordering key (the local conversation) of the delivered create that 8x8
    /// answered with `conversation_id`: how a handover's first events find their way.
    pub async fn key_of_created(
        &self,
        conversation_id: &str,
    ) -> Result<Option<String>, OutboxError> {
        let db = match &self.backend {
            Backend::Sqlite { db, .. } => db,
            Backend::Postgres(pg) => {
                return Ok(pg
                    .key_of_created(conversation_id)
                    .await
                    .map_err(DbError::from)?)
            }
        };
        let id = conversation_id.to_string();
        Ok(db
            .call(move |c| {
                c.prepare_cached(KEY_OF_CREATED)?
                    .query_row([id], |r| r.get(0))
                    .optional()
            })
            .await?)
    }

    /// Whether a create is still on its way (its 8x8 id not known yet).
    pub async fn creates_in_flight(&self) -> Result<bool, OutboxError> {
        let db = match &self.backend {
            Backend::Sqlite { db, .. } => db,
            Backend::Postgres(pg) => {
                return Ok(pg.creates_in_flight().await.map_err(DbError::from)?)
            }
        };
        Ok(db
            .call(|c| {
                c.prepare_cached(CREATES_IN_FLIGHT)?
                    .query_row([], |r| r.get(0))
            })
            .await?)
    }

    /// Waits until entry `id` is delivered or failed.
    pub async fn wait(&self, id: i64, timeout: Duration) -> Result<OutboxEntry, OutboxError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let woken = self.finished.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if let Some(entry) = self.get(id).await? {
                if entry.is_final() {
                    return Ok(entry);
                }
            }
            // On PostgreSQL another relay may finish it without waking this one.
            let until = match self.backend {
                Backend::Sqlite { .. } => deadline,
                Backend::Postgres(_) => deadline.min(tokio::time::Instant::now() + PG_POLL),
            };
            if tokio::time::timeout_at(until, woken).await.is_err()
                && tokio::time::Instant::now() >= deadline
            {
                return Err(OutboxError::Timeout(id));
            }
        }
    }

    /// The SQLite database, when the outbox is on one (tests write outcomes with it).
    pub fn sqlite(&self) -> Option<&Db> {
        match &self.backend {
            Backend::Sqlite { db, .. } => Some(db),
            Backend::Postgres(_) => None,
        }
    }
}

/// Due pending entries that are the heads of their ordering keys (nothing earlier of the
/// same key is pending or being sent), oldest first. Walks the pending entries in id
/// order and stops at the limit: it used to group every open entry by key for each
/// take, which a burst of thousands of conversations made cost milliseconds.
fn due_heads_sql() -> String {
    let columns = COLUMNS
        .split(", ")
        .map(|c| format!("o.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT {columns} FROM outbox o INDEXED BY outbox_pending
         WHERE o.status = 'pending' AND o.next_attempt_at_ms <= ?1
           AND NOT EXISTS (SELECT 1 FROM outbox p INDEXED BY outbox_open
               WHERE p.ordering_key = o.ordering_key AND p.id < o.id
                 AND p.status IN ('pending', 'sending'))
         ORDER BY o.id LIMIT ?2"
    )
}

/// Marks up to `limit` due heads `sending` and returns them, with the time the next
/// head not yet due falls due.
///
/// A head is the oldest open (`pending` or `sending`) entry of its ordering key: a key
/// whose head is in flight has nothing to send. The heads come from the partial index of
/// open entries alone (one row per key from its first entry), so the cost follows the
/// open entries, never the delivered history, which stays in the table for the inspector.
fn take_due_in(
    tx: &rusqlite::Connection,
    now: i64,
    limit: usize,
) -> rusqlite::Result<(Vec<OutboxEntry>, Option<i64>)> {
    // Inside the caller's transaction (the database thread's, see `Outbox::take_due`).
    let due: Vec<OutboxEntry> = {
        let mut stmt = tx.prepare_cached(&due_heads_sql())?;
        let rows = stmt.query_map(rusqlite::params![now, limit as i64], OutboxEntry::from_row)?;
        rows.collect::<Result<_, _>>()?
    };
    // Only a head can wait for a later time (the entries behind it were never tried),
    // so the earliest such time among pending entries is the earliest among heads.
    let next_at: Option<i64> = tx
        .prepare_cached(
            "SELECT MIN(next_attempt_at_ms) FROM outbox INDEXED BY outbox_pending_next
             WHERE status = 'pending' AND next_attempt_at_ms > ?1",
        )?
        .query_row([now], |r| r.get(0))?;
    let mut taken = Vec::with_capacity(due.len());
    for mut entry in due {
        tx.prepare_cached(
            "UPDATE outbox SET status = 'sending', attempts = attempts + 1, updated_at_ms = ?1
             WHERE id = ?2",
        )?
        .execute(rusqlite::params![now, entry.id])?;
        entry.status = OutboxStatus::Sending;
        entry.attempts += 1;
        taken.push(entry);
    }
    Ok((taken, next_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every new customer conversation asks this; on a relay with a long history a scan
    /// cost milliseconds per event (bench-whole-path).
    #[tokio::test]
    async fn a_created_conversation_is_found_through_its_index() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        let outbox = Outbox::new(db.clone());
        db.call(|c| {
            for (id, gateway) in [(1, "gw-old"), (2, "gw-new")] {
                c.execute(
                    "INSERT INTO outbox (id, ordering_key, operation, request_json, status,
                        next_attempt_at_ms, created_at_ms, updated_at_ms, response_json)
                     VALUES (?1, ?2, 'createConversation', '{}', 'delivered', 0, 0, 0, ?3)",
                    params![
                        id,
                        format!("hc-{id}"),
                        format!("{{\"conversationId\":\"{gateway}\"}}")
                    ],
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(
            outbox.key_of_created("gw-new").await.unwrap().as_deref(),
            Some("hc-2")
        );
        assert_eq!(outbox.key_of_created("gw-none").await.unwrap(), None);
        let plan: Vec<String> = db
            .call(|c| {
                let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {KEY_OF_CREATED}"))?;
                let rows = stmt.query_map(["gw-new"], |r| r.get::<_, String>(3))?;
                rows.collect()
            })
            .await
            .unwrap();
        assert!(
            plan.iter().any(|p| p.contains("outbox_created")),
            "the lookup must use the outbox_created index: {plan:?}"
        );
        assert!(!outbox.creates_in_flight().await.unwrap());
        let plan: Vec<String> = db
            .call(|c| {
                let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {CREATES_IN_FLIGHT}"))?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(3))?;
                rows.collect()
            })
            .await
            .unwrap();
        assert!(
            plan.iter().any(|p| p.contains("outbox_creating")),
            "creates in flight must be found through the outbox_creating index: {plan:?}"
        );
    }

    /// The inspector shows how the last attempt went on the wire; an attempt that never
    /// reached 8x8 (no exchange) keeps the one before.
    #[tokio::test]
    async fn the_last_exchange_is_kept_with_the_entry() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        let outbox = Outbox::new(db.clone());
        db.call(|c| {
            c.execute(
                "INSERT INTO outbox (id, ordering_key, operation, request_json, status,
                    next_attempt_at_ms, created_at_ms, updated_at_ms)
                 VALUES (1, 'k', 'sendMessage', '{}', 'sending', 0, 0, 0)",
                [],
            )
        })
        .await
        .unwrap();
        let exchange = HttpExchange {
            method: "POST".into(),
            url: "https://api.8x8.com/chat-gateway/v1/conversations/c/messages".into(),
            status: Some(503),
            duration_ms: 12,
            response_body: Some("{\"message\":\"busy\"}".into()),
            response_bytes: 18,
        };
        let retry = (
            OutboxStatus::Pending,
            5,
            Some("busy".into()),
            Some(503),
            None,
        );
        outbox
            .record_attempt_on_wire(1, retry.clone(), Some(&exchange), 1)
            .await
            .unwrap();
        outbox
            .record_attempt(1, retry.0, 9, retry.2, None, None, 2)
            .await
            .unwrap();
        let entry = outbox.get(1).await.unwrap().unwrap();
        assert_eq!(entry.exchange, Some(exchange));
        assert_eq!(entry.last_status, Some(503));
    }

    /// Only heads go: an entry waits while an earlier one of its key is pending or being
    /// sent, whatever the other keys do.
    #[tokio::test]
    async fn only_the_head_of_each_key_is_taken_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        let outbox = Outbox::new(db.clone());
        db.call(|c| {
            for (id, key, status, next) in [
                (1, "a", "sending", 0),
                (2, "a", "pending", 0),
                (3, "b", "pending", 0),
                (4, "b", "pending", 0),
                (5, "c", "pending", 5_000),
                (6, "d", "delivered", 0),
                (7, "d", "pending", 0),
            ] {
                c.execute(
                    "INSERT INTO outbox (id, ordering_key, operation, request_json, status,
                        next_attempt_at_ms, created_at_ms, updated_at_ms)
                     VALUES (?1, ?2, 'sendMessage', '{}', ?3, ?4, 0, 0)",
                    params![id, key, status, next],
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
        let (taken, next_at) = outbox.take_due(1_000, 10).await.unwrap();
        let ids: Vec<i64> = taken.iter().map(|e| e.id).collect();
        assert_eq!(ids, vec![3, 7]);
        assert_eq!(next_at, Some(5_000));
        let (taken, _) = outbox.take_due(6_000, 10).await.unwrap();
        let ids: Vec<i64> = taken.iter().map(|e| e.id).collect();
        assert_eq!(ids, vec![5], "b's second waits for its first, now sending");
    }
}
