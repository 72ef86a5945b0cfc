//! The queue from the receiver to the conversation engine. It is the `deliveries` table
//! itself: a stored, accepted, non-duplicate event is `pending` until the engine marks it
//! `processed` or `failed`. Only a cursor and a hand-off of just-committed rows live in
//! memory, so after a restart every row still `pending` is handed out again, in arrival
//! order.

use std::{
    collections::VecDeque,
    sync::{
        atomic::{AtomicBool, AtomicI64, Ordering},
        Arc,
    },
};

use bytes::Bytes;
use rusqlite::params;
use tokio::sync::{Mutex, Notify};

use chat_gateway_client::webhook::WebhookEvent;

use switchboard_types::now_ms;

use crate::{
    database::Database,
    db::{Db, DbError},
    deliveries::Writer,
    delivery_store::DeliveryStore,
    pg::{inbox::Lease, PgClaims},
};

/// One event for the conversation engine.
#[derive(Debug, Clone)]
pub struct QueuedEvent {
    pub delivery_id: i64,
    pub received_at_ms: i64,
    pub event: WebhookEvent,
    /// On PostgreSQL, the lease on its conversation it was claimed under: its mark is
    /// refused once another relay has taken the conversation over.
    pub lease: Option<Lease>,
}

/// The queue from the receiver to the engine, on either backend.
pub enum InboxQueue {
    Sqlite(SqliteQueue),
    Postgres(Arc<PgClaims>),
}

/// The queue on SQLite: the `deliveries` table, a cursor and the writer's hand-off.
pub struct SqliteQueue {
    db: Db,
    writer: Writer,
    handoff: Arc<Handoff>,
    /// The last delivery handed out since start.
    cursor: AtomicI64,
    /// One consumer at a time takes the next row; rows read ahead wait here.
    taking: Mutex<VecDeque<Row>>,
}

type Row = (i64, i64, Bytes);

/// Rows read per query: under load one query serves many events.
const READ_AHEAD: i64 = 64;

/// Most rows the hand-off holds; beyond that the queue reads the table instead.
const HANDOFF_CAP: usize = 8192;

/// Newly committed rows, passed from the delivery writer straight to the queue so the
/// engine gets an event without reading it back from the database (one query and one
/// trip through the blocking pool less per event). The table stays the truth: rows
/// from before a restart, and rows that found the hand-off full, are read from it.
pub struct Handoff {
    rows: std::sync::Mutex<VecDeque<Row>>,
    cap: usize,
    /// Some pending rows may be in the table only: read it before trusting `rows`.
    missed: AtomicBool,
    notify: Notify,
}

impl Default for Handoff {
    fn default() -> Self {
        Self::new()
    }
}

impl Handoff {
    pub fn new() -> Self {
        Self::with_capacity(HANDOFF_CAP)
    }

    fn with_capacity(cap: usize) -> Self {
        Self {
            rows: std::sync::Mutex::new(VecDeque::new()),
            cap,
            // Rows left pending by an earlier run are only in the table.
            missed: AtomicBool::new(true),
            notify: Notify::new(),
        }
    }

    /// Wakes the consumer: a delivery was committed that it may take.
    pub fn wake(&self) {
        self.notify.notify_one();
    }

    pub(crate) fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }

    /// Called by the writer after the commit, in id order.
    pub fn push(&self, id: i64, received_at_ms: i64, body: Bytes) {
        {
            let mut rows = self.rows.lock().unwrap_or_else(|p| p.into_inner());
            if rows.len() < self.cap {
                rows.push_back((id, received_at_ms, body));
            } else {
                self.missed.store(true, Ordering::SeqCst);
            }
        }
        self.notify.notify_one();
    }

    fn take_all(&self) -> VecDeque<Row> {
        std::mem::take(&mut *self.rows.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl InboxQueue {
    /// On SQLite, fed by the delivery writer's hand-off.
    pub fn new(db: Db, writer: Writer, handoff: Arc<Handoff>) -> Self {
        InboxQueue::Sqlite(SqliteQueue::new(db, writer, handoff))
    }

    /// On the store's backend: SQLite's queue completes through the delivery writer;
    /// PostgreSQL's claims conversations under leases (this relay's receiver wakes it
    /// through `handoff`).
    pub fn on(store: &DeliveryStore, db: &Database, handoff: Arc<Handoff>) -> Self {
        match (db, store.writer()) {
            (Database::Sqlite(db), Some(writer)) => Self::new(db.clone(), writer, handoff),
            (Database::Postgres(db), _) => InboxQueue::Postgres(PgClaims::new(db.clone(), handoff)),
            (Database::Sqlite(_), None) => unreachable!("a SQLite delivery store has a writer"),
        }
    }

    /// Wakes the consumer (the writer does this itself after each commit).
    pub fn wake(&self) {
        match self {
            InboxQueue::Sqlite(q) => q.wake(),
            InboxQueue::Postgres(_) => {}
        }
    }

    /// The next pending event (SQLite only: on PostgreSQL events come a claimed
    /// conversation at a time, through [`InboxQueue::recv_ready`]).
    pub async fn recv(&self) -> Result<QueuedEvent, DbError> {
        match self {
            InboxQueue::Sqlite(q) => q.recv().await,
            InboxQueue::Postgres(_) => Err(DbError::Task(
                "one event at a time is not how PostgreSQL's inbox hands them out".into(),
            )),
        }
    }

    /// The next pending events, at most `max` (on PostgreSQL: of at most `max`
    /// conversations), waiting until there is one.
    pub async fn recv_ready(&self, max: usize) -> Result<Vec<QueuedEvent>, DbError> {
        match self {
            InboxQueue::Sqlite(q) => q.recv_ready(max).await,
            InboxQueue::Postgres(q) => Ok(q.recv_ready(max).await?),
        }
    }

    /// Marks an event done that needed no unit (an echo, no conversation).
    pub async fn complete(
        &self,
        event: &QueuedEvent,
        outcome: Result<String, String>,
    ) -> Result<(), DbError> {
        match self {
            InboxQueue::Sqlite(q) => q.complete(event.delivery_id, outcome).await,
            InboxQueue::Postgres(q) => Ok(q.complete(event, outcome).await?),
        }
    }

    /// The engine is done with `event` (its unit committed, or it was given up): on
    /// PostgreSQL its conversation is let go once all its claimed events are.
    pub async fn finished(&self, event: &QueuedEvent) {
        if let InboxQueue::Postgres(q) = self {
            q.finished(event).await
        }
    }

    /// Holds the 8x8 conversation `conversation_key` for work that is not one of its
    /// events, so that no other relay handles its events meanwhile (PostgreSQL; nothing
    /// to do on SQLite, where this relay is alone). Hand the result to
    /// [`InboxQueue::let_go`] when the work is done.
    pub async fn hold(&self, conversation_key: &str) -> Result<Option<Lease>, DbError> {
        match self {
            InboxQueue::Sqlite(_) => Ok(None),
            InboxQueue::Postgres(q) => Ok(q.hold(conversation_key).await?),
        }
    }

    pub async fn let_go(&self, held: Option<Lease>) {
        if let (InboxQueue::Postgres(q), Some(lease)) = (self, held) {
            q.let_go(&lease).await
        }
    }

    pub async fn pending_count(&self) -> Result<i64, DbError> {
        match self {
            InboxQueue::Sqlite(q) => q.pending_count().await,
            InboxQueue::Postgres(q) => Ok(q.pending_count().await?),
        }
    }
}

impl SqliteQueue {
    pub fn new(db: Db, writer: Writer, handoff: Arc<Handoff>) -> Self {
        Self {
            db,
            writer,
            handoff,
            cursor: AtomicI64::new(0),
            taking: Mutex::new(VecDeque::new()),
        }
    }

    /// Wakes the consumer (the writer does this itself after each commit).
    pub fn wake(&self) {
        self.handoff.notify.notify_one();
    }

    /// Waits for the next pending event. Call [`InboxQueue::complete`] when it is done;
    /// if the relay stops first, the event comes back after the restart.
    pub async fn recv(&self) -> Result<QueuedEvent, DbError> {
        let mut ahead = self.taking.lock().await;
        let next = self.next(&mut ahead, true).await?;
        Ok(next.expect("a waiting read returns an event"))
    }

    /// The next pending event and, without waiting, those already there after it (at
    /// most `max` in all): the engine looks up the conversations of a whole batch in one
    /// visit to the database.
    pub async fn recv_ready(&self, max: usize) -> Result<Vec<QueuedEvent>, DbError> {
        let mut ahead = self.taking.lock().await;
        let mut events = Vec::new();
        while events.len() < max.max(1) {
            match self.next(&mut ahead, events.is_empty()).await {
                Ok(Some(event)) => events.push(event),
                Ok(None) => break,
                // What was taken is handed out; the error shows on the next call.
                Err(_) if !events.is_empty() => break,
                Err(e) => return Err(e),
            }
        }
        Ok(events)
    }

    /// The next event; `None` when there is none now and `wait` is false.
    async fn next(
        &self,
        ahead: &mut VecDeque<Row>,
        wait: bool,
    ) -> Result<Option<QueuedEvent>, DbError> {
        loop {
            while let Some((id, received_at_ms, body)) = ahead.pop_front() {
                // A row can come both from the table and from the hand-off; ids only
                // grow, so one already handed out is skipped.
                if id <= self.cursor.load(Ordering::SeqCst) {
                    continue;
                }
                self.cursor.store(id, Ordering::SeqCst);
                match WebhookEvent::parse(&body) {
                    Ok(event) => {
                        return Ok(Some(QueuedEvent {
                            delivery_id: id,
                            received_at_ms,
                            event,
                            lease: None,
                        }))
                    }
                    // The receiver only queues parsed events; a row that no longer
                    // parses is marked rather than handed out forever.
                    Err(e) => self.complete(id, Err(e.to_string())).await?,
                }
            }
            if self.handoff.missed.swap(false, Ordering::SeqCst) {
                // The table has everything the hand-off holds now; what is pushed from
                // here on is either in this read or arrives in the hand-off.
                self.handoff.take_all();
                let rows = match self.read_table().await {
                    Ok(rows) => rows,
                    Err(e) => {
                        self.handoff.missed.store(true, Ordering::SeqCst);
                        return Err(e);
                    }
                };
                if rows.len() as i64 == READ_AHEAD {
                    self.handoff.missed.store(true, Ordering::SeqCst);
                }
                ahead.extend(rows);
                continue;
            }
            let handed = self.handoff.take_all();
            if handed.is_empty() {
                if !wait {
                    return Ok(None);
                }
                self.handoff.notify.notified().await;
            } else {
                ahead.extend(handed);
            }
        }
    }

    async fn read_table(&self) -> Result<Vec<Row>, DbError> {
        let after = self.cursor.load(Ordering::SeqCst);
        self.db
            .call(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT id, received_at_ms, body FROM deliveries
                     WHERE status = 'pending' AND id > ?1 ORDER BY id LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![after, READ_AHEAD], |r| {
                    Ok((r.get(0)?, r.get(1)?, Bytes::from(r.get::<_, Vec<u8>>(2)?)))
                })?;
                rows.collect::<Result<Vec<Row>, _>>()
            })
            .await
    }

    /// Records what the engine did with a delivery: `Ok(note)` → processed,
    /// `Err(reason)` → failed.
    pub async fn complete(
        &self,
        delivery_id: i64,
        outcome: Result<String, String>,
    ) -> Result<(), DbError> {
        let (status, text) = match outcome {
            Ok(t) => ("processed", t),
            Err(t) => ("failed", t),
        };
        self.writer
            .complete(delivery_id, status, text, now_ms())
            .await
            .map_err(|e| DbError::Task(e.to_string()))
    }

    pub async fn pending_count(&self) -> Result<i64, DbError> {
        self.db
            .call(|c| {
                c.query_row(
                    "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'",
                    [],
                    |r| r.get(0),
                )
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deliveries::{DeliveryStore, Disposition, NewDelivery};

    fn message(n: usize) -> NewDelivery {
        NewDelivery {
            received_at_ms: now_ms(),
            headers_json: "{}".into(),
            body: Bytes::from(format!(
                r#"{{"eventType":"MESSAGE","conversationId":"c","data":{{"text":"m{n}"}}}}"#
            )),
            event_id: Some(format!("e{n}")),
            event_type: Some("MESSAGE".into()),
            conversation_id: Some("c".into()),
            signature: "skipped",
            signature_reason: None,
            http_status: 204,
            disposition: Disposition::Queue,
            outcome: None,
        }
    }

    /// A hand-off too small for the burst: the rows that did not fit are read from the
    /// table, every event is handed out once and in order, and later ones still flow.
    #[tokio::test]
    async fn a_full_handoff_falls_back_to_the_table_without_losing_or_repeating() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("q.db")).unwrap();
        let handoff = Arc::new(Handoff::with_capacity(3));
        let store = DeliveryStore::open(&db, handoff.clone()).unwrap();
        let queue = InboxQueue::new(db.clone(), store.writer().unwrap(), handoff);
        let mut ids = Vec::new();
        for n in 0..150 {
            ids.push(store.record(message(n)).await.unwrap().id);
        }
        let mut got = Vec::new();
        for _ in 0..150 {
            let event = queue.recv().await.unwrap();
            queue.complete(&event, Ok("done".into())).await.unwrap();
            got.push(event.delivery_id);
        }
        assert_eq!(got, ids);
        let late = store.record(message(150)).await.unwrap().id;
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), queue.recv())
            .await
            .expect("a row committed later is handed out")
            .unwrap();
        assert_eq!(next.delivery_id, late);
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(200), queue.recv())
                .await
                .is_err(),
            "nothing is handed out twice"
        );
    }
}
