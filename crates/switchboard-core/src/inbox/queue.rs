//! The queue from the receiver to the conversation engine. It is the `deliveries` table
//! itself: a stored, accepted, non-duplicate event is `pending` until the engine marks it
//! `processed` or `failed`. Only a cursor lives in memory, so after a restart every row
//! still `pending` is handed out again, in arrival order.

use std::{
    collections::VecDeque,
    sync::atomic::{AtomicI64, Ordering},
};

use rusqlite::params;
use tokio::sync::{Mutex, Notify};

use super::{event::WebhookEvent, store::Writer};
use crate::{
    db::{Db, DbError},
    events::now_ms,
};

/// One event for the conversation engine.
#[derive(Debug, Clone)]
pub struct QueuedEvent {
    pub delivery_id: i64,
    pub received_at_ms: i64,
    pub event: WebhookEvent,
}

pub struct InboxQueue {
    db: Db,
    writer: Writer,
    notify: Notify,
    /// The last delivery handed out since start.
    cursor: AtomicI64,
    /// One consumer at a time takes the next row; rows read ahead wait here.
    taking: Mutex<VecDeque<Row>>,
}

type Row = (i64, i64, Vec<u8>);

/// Rows read per query: under load one query serves many events.
const READ_AHEAD: i64 = 64;

impl InboxQueue {
    pub(crate) fn new(db: Db, writer: Writer) -> Self {
        Self {
            db,
            writer,
            notify: Notify::new(),
            cursor: AtomicI64::new(0),
            taking: Mutex::new(VecDeque::new()),
        }
    }

    /// The receiver calls this after a commit.
    pub(crate) fn wake(&self) {
        self.notify.notify_waiters();
    }

    /// Waits for the next pending event. Call [`InboxQueue::complete`] when it is done;
    /// if the relay stops first, the event comes back after the restart.
    pub async fn recv(&self) -> Result<QueuedEvent, DbError> {
        let mut ahead = self.taking.lock().await;
        loop {
            if let Some((id, received_at_ms, body)) = ahead.pop_front() {
                match WebhookEvent::parse(&body) {
                    Ok(event) => {
                        return Ok(QueuedEvent {
                            delivery_id: id,
                            received_at_ms,
                            event,
                        })
                    }
                    // The receiver only queues parsed events; a row that no longer
                    // parses is marked rather than handed out forever.
                    Err(e) => {
                        self.complete(id, Err(e.to_string())).await?;
                        continue;
                    }
                }
            }
            let woken = self.notify.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let after = self.cursor.load(Ordering::SeqCst);
            let rows = self
                .db
                .call(move |c| {
                    let mut stmt = c.prepare_cached(
                        "SELECT id, received_at_ms, body FROM deliveries
                         WHERE status = 'pending' AND id > ?1 ORDER BY id LIMIT ?2",
                    )?;
                    let rows = stmt.query_map(params![after, READ_AHEAD], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })?;
                    rows.collect::<Result<Vec<Row>, _>>()
                })
                .await?;
            match rows.last() {
                Some(last) => self.cursor.store(last.0, Ordering::SeqCst),
                None => woken.await,
            }
            ahead.extend(rows);
        }
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
