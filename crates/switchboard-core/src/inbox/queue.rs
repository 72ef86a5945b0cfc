//! The queue from the receiver to the conversation engine. It is the `deliveries` table
//! itself: a stored, accepted, non-duplicate event is `pending` until the engine marks it
//! `processed` or `failed`. Only a cursor lives in memory, so after a restart every row
//! still `pending` is handed out again, in arrival order.

use std::sync::atomic::{AtomicI64, Ordering};

use rusqlite::{params, OptionalExtension};
use tokio::sync::{Mutex, Notify};

use super::event::WebhookEvent;
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
    notify: Notify,
    /// The last delivery handed out since start.
    cursor: AtomicI64,
    /// One consumer at a time takes the next row.
    taking: Mutex<()>,
}

impl InboxQueue {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            notify: Notify::new(),
            cursor: AtomicI64::new(0),
            taking: Mutex::new(()),
        }
    }

    /// The receiver calls this after a commit.
    pub(crate) fn wake(&self) {
        self.notify.notify_waiters();
    }

    /// Waits for the next pending event. Call [`InboxQueue::complete`] when it is done;
    /// if the relay stops first, the event comes back after the restart.
    pub async fn recv(&self) -> Result<QueuedEvent, DbError> {
        let _one = self.taking.lock().await;
        loop {
            let woken = self.notify.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let after = self.cursor.load(Ordering::SeqCst);
            let row = self
                .db
                .call(move |c| {
                    c.prepare_cached(
                        "SELECT id, received_at_ms, body FROM deliveries
                         WHERE status = 'pending' AND id > ?1 ORDER BY id LIMIT 1",
                    )?
                    .query_row([after], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, Vec<u8>>(2)?,
                        ))
                    })
                    .optional()
                })
                .await?;
            let Some((id, received_at_ms, body)) = row else {
                woken.await;
                continue;
            };
            self.cursor.store(id, Ordering::SeqCst);
            match WebhookEvent::parse(&body) {
                Ok(event) => {
                    return Ok(QueuedEvent {
                        delivery_id: id,
                        received_at_ms,
                        event,
                    })
                }
                // The receiver only queues parsed events; a row that no longer parses
                // is marked rather than handed out forever.
                Err(e) => self.complete(id, Err(e.to_string())).await?,
            }
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
        let at = now_ms();
        self.db
            .call(move |c| {
                c.execute(
                    "UPDATE deliveries SET status = ?1, outcome = ?2, processed_at_ms = ?3
                     WHERE id = ?4 AND status = 'pending'",
                    params![status, text, at, delivery_id],
                )
            })
            .await?;
        Ok(())
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
