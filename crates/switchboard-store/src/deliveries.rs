//! The durable record of every webhook delivery. A delivery is committed here before the
//! receiver answers 2xx, so an acknowledged event is never lost; the same insert decides
//! whether it is a retry of an event already accepted (idempotency on `x-8x8-event-id`).
//!
//! Writes go through one thread that commits whatever has queued up in one transaction
//! (group commit): under load a commit carries many deliveries, alone it carries one.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        mpsc, Arc,
    },
    thread,
};

use bytes::Bytes;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use tokio::sync::oneshot;

use crate::db::{Db, DbError};
use crate::inbox_queue::Handoff;

/// Most deliveries one transaction carries; keeps each commit short.
const MAX_BATCH: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the delivery could not be stored: {0}")]
    Write(String),
    #[error("the delivery store has stopped")]
    Stopped,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// What the receiver decided before storing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Authentic (or checks off) and for the conversation engine: queued as `pending`.
    Queue,
    /// Nothing to process (verify, unknown or legacy type): `ignored`. A verify event
    /// passes whatever its signature; when that is not `valid` (or `skipped`, checks
    /// off) it is stored as `unverified` instead and, like a rejected delivery, never
    /// deduplicated against.
    Ignore,
    /// Authentic and already fully handled at the edge, so it never waits in the queue:
    /// `processed` at once. 8x8's echo of a post the relay made itself (P5) is the case:
    /// the engine drops every echo whatever the conversation.
    Settled,
    /// Refused: stored for the inspector only, never deduplicated against.
    Reject,
}

#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub received_at_ms: i64,
    pub headers_json: String,
    pub body: Bytes,
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    pub conversation_id: Option<String>,
    /// `valid`, `invalid`, `unsigned` or `skipped`.
    pub signature: &'static str,
    pub signature_reason: Option<String>,
    pub http_status: u16,
    pub disposition: Disposition,
    pub outcome: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    pub id: i64,
    /// Set when this delivery repeats an event already accepted: it is not queued again.
    pub duplicate_of: Option<i64>,
}

/// What the writer thread does: store a new delivery, or record what the conversation
/// engine did with one. Both kinds share its transactions, so under load the engine's
/// bookkeeping costs no commit of its own.
enum Job {
    Record {
        delivery: NewDelivery,
        reply: oneshot::Sender<Result<Recorded, String>>,
    },
    Complete {
        delivery_id: i64,
        status: &'static str,
        outcome: String,
        at_ms: i64,
        reply: oneshot::Sender<Result<Recorded, String>>,
    },
}

impl Job {
    fn reply(self, result: Result<Recorded, String>) {
        let (Job::Record { reply, .. } | Job::Complete { reply, .. }) = self;
        let _ = reply.send(result);
    }
}

/// A handle on the writer thread; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
    /// Jobs sent to the writer and not yet answered.
    queued: Arc<AtomicUsize>,
}

impl Writer {
    fn send(&self, job: Job) -> Result<(), StoreError> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        self.tx.send(job).map_err(|_| {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            StoreError::Stopped
        })
    }
}

impl Writer {
    /// Marks a queued delivery `processed` or `failed` once the engine is done with it;
    /// resolves after the commit. A delivery no longer `pending` is left as it is.
    pub async fn complete(
        &self,
        delivery_id: i64,
        status: &'static str,
        outcome: String,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Complete {
            delivery_id,
            status,
            outcome,
            at_ms,
            reply,
        })?;
        answer
            .await
            .map_err(|_| StoreError::Stopped)?
            .map(|_| ())
            .map_err(StoreError::Write)
    }
}

pub use crate::delivery_store::DeliveryStore;

/// The delivery ledger on SQLite ([`DeliveryStore`] is what the relay uses). Hands
/// deliveries to the writer thread; the thread ends when the store and every [`Writer`]
/// are dropped.
pub struct SqliteDeliveries {
    writer: Writer,
    db: Db,
    handoff: Arc<Handoff>,
}

impl SqliteDeliveries {
    pub fn open(db: &Db, handoff: Arc<Handoff>) -> Result<Self, DbError> {
        let (tx, rx) = mpsc::channel();
        let writer_db = db.clone();
        let queued = Arc::new(AtomicUsize::new(0));
        let (thread_handoff, thread_queued) = (handoff.clone(), queued.clone());
        thread::Builder::new()
            .name("inbox-writer".into())
            .spawn(move || write_loop(writer_db, rx, &thread_handoff, &thread_queued))
            .map_err(|e| DbError::Task(format!("cannot start the inbox writer: {e}")))?;
        Ok(Self {
            writer: Writer { tx, queued },
            db: db.clone(),
            handoff,
        })
    }

    pub fn writer(&self) -> Writer {
        self.writer.clone()
    }

    /// Commits one delivery; returns once it is on disk (see `db` for what that means).
    pub async fn record(&self, delivery: NewDelivery) -> Result<Recorded, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job::Record { delivery, reply };
        // Nothing waiting for the writer and the connection free: commit here. Handing a
        // lone delivery to the writer thread costs two thread wake-ups, which at a steady
        // trickle cost more than the commit itself (BENCHMARKS.md, "bench-ingest"); under
        // load deliveries queue for the writer, which commits them together.
        let job = match self.commit_here(job) {
            Ok(result) => return result.map_err(StoreError::Write),
            Err(job) => *job,
        };
        self.writer.send(job)?;
        answer
            .await
            .map_err(|_| StoreError::Stopped)?
            .map_err(StoreError::Write)
    }

    /// Commits `job` on this thread if no job waits for the writer and the connection is
    /// free at once; gives the job back otherwise. The commit is short (no fsync, see
    /// `db`), so a runtime thread may make it.
    fn commit_here(&self, job: Job) -> Result<Result<Recorded, String>, Box<Job>> {
        if self.writer.queued.load(Ordering::SeqCst) > 0 {
            return Err(Box::new(job));
        }
        let batch = [job];
        let done = self
            .db
            .try_blocking(|conn| commit_and_hand_off(conn, &batch, &self.handoff));
        let [job] = batch;
        match done {
            Some(mut results) => {
                let result = results
                    .pop()
                    .unwrap_or_else(|| Err("nothing written".into()));
                Ok(result)
            }
            None => Err(Box::new(job)),
        }
    }

    /// The newest deliveries first, `before` an id for paging.
    pub async fn list(
        &self,
        limit: u32,
        before: Option<i64>,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let before = before.unwrap_or(i64::MAX);
        Ok(self
            .db
            .call(move |c| {
                let mut stmt = c.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM deliveries WHERE id < ?1 ORDER BY id DESC LIMIT ?2"
                ))?;
                let rows = stmt.query_map(params![before, limit], DeliveryRecord::from_row)?;
                rows.collect()
            })
            .await?)
    }

    pub async fn get(&self, id: i64) -> Result<Option<DeliveryRecord>, StoreError> {
        Ok(self
            .db
            .call(move |c| {
                c.query_row(
                    &format!("SELECT {COLUMNS} FROM deliveries WHERE id = ?1"),
                    [id],
                    DeliveryRecord::from_row,
                )
                .optional()
            })
            .await?)
    }

    /// Every delivery of one event id (the original and its duplicates), oldest first.
    pub async fn by_event_id(&self, event_id: &str) -> Result<Vec<DeliveryRecord>, StoreError> {
        let event_id = event_id.to_string();
        Ok(self
            .db
            .call(move |c| {
                let mut stmt = c.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM deliveries WHERE event_id = ?1 ORDER BY id"
                ))?;
                let rows = stmt.query_map([event_id], DeliveryRecord::from_row)?;
                rows.collect()
            })
            .await?)
    }
    /// Every delivery of any of these event ids, oldest first: one query for a page.
    pub async fn by_event_ids(
        &self,
        event_ids: Vec<String>,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        if event_ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self
            .db
            .call(move |c| {
                let marks = vec!["?"; event_ids.len()].join(", ");
                let mut stmt = c.prepare(&format!(
                    "SELECT {COLUMNS} FROM deliveries WHERE event_id IN ({marks}) ORDER BY id"
                ))?;
                let rows = stmt.query_map(
                    rusqlite::params_from_iter(event_ids.iter()),
                    DeliveryRecord::from_row,
                )?;
                rows.collect()
            })
            .await?)
    }
}

const COLUMNS: &str =
    "id, received_at_ms, headers_json, body, event_id, event_type, conversation_id, \
     signature, signature_reason, http_status, duplicate_of, status, outcome, processed_at_ms";

/// One delivery as the inspector shows it.
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryRecord {
    pub id: i64,
    pub received_at_ms: i64,
    /// The request headers as received, by lower-case name.
    #[ts(type = "Record<string, string>")]
    pub headers: serde_json::Value,
    /// The raw body as text (lossy only if it was not UTF-8).
    pub body: String,
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    pub conversation_id: Option<String>,
    pub signature: String,
    pub signature_reason: Option<String>,
    pub http_status: u16,
    pub duplicate_of: Option<i64>,
    pub status: String,
    pub outcome: Option<String>,
    pub processed_at_ms: Option<i64>,
}

impl DeliveryRecord {
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        let headers: String = r.get(2)?;
        let body: Vec<u8> = r.get(3)?;
        Ok(Self {
            id: r.get(0)?,
            received_at_ms: r.get(1)?,
            headers: serde_json::from_str(&headers).unwrap_or(serde_json::Value::Null),
            body: String::from_utf8_lossy(&body).into_owned(),
            event_id: r.get(4)?,
            event_type: r.get(5)?,
            conversation_id: r.get(6)?,
            signature: r.get(7)?,
            signature_reason: r.get(8)?,
            http_status: r.get(9)?,
            duplicate_of: r.get(10)?,
            status: r.get(11)?,
            outcome: r.get(12)?,
            processed_at_ms: r.get(13)?,
        })
    }
}

fn write_loop(db: Db, rx: mpsc::Receiver<Job>, handoff: &Handoff, queued: &AtomicUsize) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let results = db.blocking(|conn| commit_and_hand_off(conn, &batch, handoff));
        queued.fetch_sub(batch.len(), Ordering::SeqCst);
        for (job, result) in batch.into_iter().zip(results) {
            job.reply(result);
        }
    }
}

/// Commits `batch` and hands the new queued events to the engine, before the connection
/// is let go: the engine skips ids lower than one it has seen, so the hand-off must see
/// them in commit (that is, id) order, whichever thread commits.
fn commit_and_hand_off(
    conn: &mut Connection,
    batch: &[Job],
    handoff: &Handoff,
) -> Vec<Result<Recorded, String>> {
    let results = write_batch(conn, batch);
    for (job, result) in batch.iter().zip(&results) {
        if let (Job::Record { delivery, .. }, Ok(recorded)) = (job, result) {
            if delivery.disposition == Disposition::Queue && recorded.duplicate_of.is_none() {
                handoff.push(recorded.id, delivery.received_at_ms, delivery.body.clone());
            }
        }
    }
    results
}

/// Each job in its own savepoint, so one bad row fails alone; the replies are sent only
/// after the commit.
fn write_batch(conn: &mut Connection, batch: &[Job]) -> Vec<Result<Recorded, String>> {
    let write = |c: &Connection, job: &Job| match job {
        Job::Record { delivery, .. } => insert(c, delivery),
        Job::Complete {
            delivery_id,
            status,
            outcome,
            at_ms,
            ..
        } => complete(c, *delivery_id, status, outcome, *at_ms),
    };
    let rejected = batch.iter().any(
        |j| matches!(j, Job::Record { delivery, .. } if delivery.disposition == Disposition::Reject),
    );
    let prune = |c: &Connection| {
        // A failure here costs only the pruning, never the batch.
        if rejected {
            if let Err(e) = prune_rejected(c, MAX_REJECTED) {
                tracing::warn!(error = %e, "old rejected deliveries could not be pruned");
            }
        }
    };
    match crate::db::in_one_transaction(conn, batch, write, prune) {
        Ok(results) => results
            .into_iter()
            .map(|r| r.map_err(|e| e.to_string()))
            .collect(),
        Err(e) => {
            tracing::error!(error = %e, "committing webhook deliveries failed");
            batch.iter().map(|_| Err(e.to_string())).collect()
        }
    }
}

/// The "processed" (or "failed") mark of a delivery as a write, for the unit that
/// commits it together with everything the event caused.
pub fn completion(
    delivery_id: i64,
    status: &'static str,
    outcome: String,
    at_ms: i64,
) -> crate::write_unit::Write {
    Box::new(move |c| complete(c, delivery_id, status, &outcome, at_ms).map(|_| ()))
}

/// Marks a queued delivery done; also run inside the engine's unit for an event.
pub fn complete(
    c: &Connection,
    delivery_id: i64,
    status: &str,
    outcome: &str,
    at_ms: i64,
) -> rusqlite::Result<Recorded> {
    c.prepare_cached(
        "UPDATE deliveries SET status = ?1, outcome = ?2, processed_at_ms = ?3
         WHERE id = ?4 AND status = 'pending'",
    )?
    .execute(params![status, outcome, at_ms, delivery_id])?;
    Ok(Recorded {
        id: delivery_id,
        duplicate_of: None,
    })
}

/// Of a rejected delivery's body, what the inspector keeps: enough to see what was sent.
/// Anyone who knows the Endpoint URL can post refused bodies of up to 1 MiB; kept whole
/// they would fill the disk.
pub const REJECTED_BODY_KEPT: usize = 4 * 1024;
/// Rejected deliveries kept at most; older ones are deleted as new ones come (and
/// counted in `app_meta` under `rejected_pruned`).
pub const MAX_REJECTED: i64 = 5_000;

/// Deletes the rejected deliveries older than the newest `keep`.
fn prune_rejected(c: &Connection, keep: i64) -> rusqlite::Result<usize> {
    let pruned = c
        .prepare_cached(
            "DELETE FROM deliveries WHERE status = 'rejected' AND id <= (
                SELECT id FROM deliveries INDEXED BY deliveries_rejected
                WHERE status = 'rejected' ORDER BY id DESC LIMIT 1 OFFSET ?1)",
        )?
        .execute([keep])?;
    if pruned > 0 {
        c.prepare_cached(
            "INSERT INTO app_meta (key, value) VALUES ('rejected_pruned', ?1)
             ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + ?1",
        )?
        .execute([pruned as i64])?;
    }
    Ok(pruned)
}

fn insert(c: &Connection, d: &NewDelivery) -> rusqlite::Result<Recorded> {
    // A delivery whose signature did not check out (a verify event passes whatever its
    // signature) proves nothing about its event id: it never marks the id as seen, or
    // anyone could make 8x8's genuine delivery of that id look like a retry.
    // Queued and settled deliveries passed the checks (or were injected by the admin).
    let vouched =
        d.disposition != Disposition::Ignore || matches!(d.signature, "valid" | "skipped");
    let duplicate_of: Option<i64> = match (&d.event_id, d.disposition) {
        (Some(eid), Disposition::Queue | Disposition::Ignore | Disposition::Settled) if vouched => {
            c.prepare_cached(
                "SELECT id FROM deliveries WHERE event_id = ?1
                 AND status NOT IN ('duplicate', 'rejected', 'unverified')",
            )?
            .query_row([eid], |r| r.get(0))
            .optional()?
        }
        _ => None,
    };
    let (status, outcome) = match (duplicate_of, d.disposition) {
        (Some(first), _) => (
            "duplicate",
            Some(format!("retry of delivery {first}; not processed again")),
        ),
        (None, Disposition::Queue) => ("pending", d.outcome.clone()),
        (None, Disposition::Ignore) if !vouched => ("unverified", d.outcome.clone()),
        (None, Disposition::Ignore) => ("ignored", d.outcome.clone()),
        (None, Disposition::Settled) => ("processed", d.outcome.clone()),
        (None, Disposition::Reject) => ("rejected", d.outcome.clone()),
    };
    let (body, outcome) = match d.disposition {
        Disposition::Reject if d.body.len() > REJECTED_BODY_KEPT => (
            &d.body[..REJECTED_BODY_KEPT],
            Some(format!(
                "{}(body cut: the first {REJECTED_BODY_KEPT} of {} bytes kept)",
                outcome.map(|o| format!("{o} ")).unwrap_or_default(),
                d.body.len()
            )),
        ),
        _ => (&d.body[..], outcome),
    };
    c.prepare_cached(
        "INSERT INTO deliveries (received_at_ms, headers_json, body, event_id, event_type,
            conversation_id, signature, signature_reason, http_status, duplicate_of, status, outcome,
            processed_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        d.received_at_ms,
        d.headers_json,
        body,
        d.event_id,
        d.event_type,
        d.conversation_id,
        d.signature,
        d.signature_reason,
        d.http_status,
        duplicate_of,
        status,
        outcome,
        (status == "processed").then_some(d.received_at_ms),
    ])?;
    Ok(Recorded {
        id: c.last_insert_rowid(),
        duplicate_of,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(event_id: &str, signature: &'static str, disposition: Disposition) -> NewDelivery {
        NewDelivery {
            received_at_ms: 1,
            headers_json: "{}".into(),
            body: Bytes::from_static(b"{}"),
            event_id: Some(event_id.into()),
            event_type: Some("MESSAGE".into()),
            conversation_id: Some("c1".into()),
            signature,
            signature_reason: None,
            http_status: 204,
            disposition,
            outcome: None,
        }
    }

    async fn store() -> (tempfile::TempDir, SqliteDeliveries) {
        let (dir, store, _) = store_and_db().await;
        (dir, store)
    }

    async fn store_and_db() -> (tempfile::TempDir, SqliteDeliveries, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        let handoff = Arc::new(crate::inbox_queue::Handoff::new());
        let store = SqliteDeliveries::open(&db, handoff).unwrap();
        (dir, store, db)
    }

    #[tokio::test]
    async fn a_rejected_body_is_kept_only_in_part() {
        let (_dir, store) = store().await;
        let mut big = delivery("e-big", "unsigned", Disposition::Reject);
        big.body = Bytes::from(vec![b'x'; 1024 * 1024]);
        big.outcome = Some("no signature".into());
        let recorded = store.record(big).await.unwrap();
        let row = store.get(recorded.id).await.unwrap().unwrap();
        assert_eq!(row.body.len(), REJECTED_BODY_KEPT);
        assert_eq!(
            row.outcome.as_deref(),
            Some("no signature (body cut: the first 4096 of 1048576 bytes kept)")
        );
        let mut small = delivery("e-small", "valid", Disposition::Queue);
        small.body = Bytes::from(vec![b'y'; 10_000]);
        let recorded = store.record(small).await.unwrap();
        let row = store.get(recorded.id).await.unwrap().unwrap();
        assert_eq!(row.body.len(), 10_000, "an accepted body is kept whole");
    }

    #[tokio::test]
    async fn rejected_deliveries_are_capped_oldest_first_and_counted() {
        let (_dir, store, db) = store_and_db().await;
        let mut ids = Vec::new();
        for i in 0..10 {
            let r = store
                .record(delivery(&format!("r{i}"), "invalid", Disposition::Reject))
                .await
                .unwrap();
            ids.push(r.id);
        }
        let kept_genuine = store
            .record(delivery("g1", "valid", Disposition::Queue))
            .await
            .unwrap();
        let pruned = db.call(|c| prune_rejected(c, 3)).await.unwrap();
        assert_eq!(pruned, 7);
        let left: Vec<i64> = store
            .list(100, None)
            .await
            .unwrap()
            .iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(left, [kept_genuine.id, ids[9], ids[8], ids[7]]);
        let counted: String = db
            .call(|c| {
                c.query_row(
                    "SELECT value FROM app_meta WHERE key = 'rejected_pruned'",
                    [],
                    |r| r.get(0),
                )
            })
            .await
            .unwrap();
        assert_eq!(counted, "7");
    }

    #[tokio::test]
    async fn an_unverified_delivery_never_makes_a_genuine_one_a_duplicate() {
        let (_dir, store) = store().await;
        for signature in ["unsigned", "invalid"] {
            let id = format!("e-{signature}");
            let shadow = store
                .record(delivery(&id, signature, Disposition::Ignore))
                .await
                .unwrap();
            assert_eq!(shadow.duplicate_of, None);
            let genuine = store
                .record(delivery(&id, "valid", Disposition::Queue))
                .await
                .unwrap();
            assert_eq!(genuine.duplicate_of, None, "{signature} shadowed the event");
            let rows = store.by_event_id(&id).await.unwrap();
            let statuses: Vec<_> = rows.iter().map(|r| r.status.as_str()).collect();
            assert_eq!(statuses, ["unverified", "pending"]);
        }
    }

    #[tokio::test]
    async fn a_genuine_retry_is_still_a_duplicate() {
        let (_dir, store) = store().await;
        let first = store
            .record(delivery("e1", "valid", Disposition::Queue))
            .await
            .unwrap();
        let retry = store
            .record(delivery("e1", "valid", Disposition::Queue))
            .await
            .unwrap();
        assert_eq!(retry.duplicate_of, Some(first.id));
    }
}
