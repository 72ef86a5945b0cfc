//! The inbox shared by several relays: each conversation's pending events are processed
//! by one relay at a time, in event order, through a lease per conversation
//! (`inbox_leases`). A relay claims conversations whose lease is free or expired, gets
//! their pending events oldest first, completes each (the "processed" mark checks that
//! the lease is still its own), renews the lease while it works and releases it when
//! done. A relay that dies leaves its leases to expire; another then takes them and
//! handles the events that were not completed — the write unit commits an event's
//! effects together with its mark, so the dead relay's unfinished work left nothing.
//!
//! Expiry is measured on the database's clock, so relays whose clocks differ agree. Ids
//! of one conversation's events become visible in order (the ledger takes the
//! conversation's lock before it inserts, `super::deliveries`), so handing out events in
//! id order never skips one still committing.

use std::time::Duration;

use bytes::Bytes;
use tokio_postgres::GenericClient;

use chat_gateway_client::webhook::WebhookEvent;

use crate::inbox_queue::QueuedEvent;

use super::{PgDb, PgError};

/// Now in epoch milliseconds on the database's clock (fixed for one statement).
const NOW_MS: &str = "(extract(epoch FROM statement_timestamp()) * 1000)::BIGINT";

/// Pending events handed out per conversation and claim; the rest wait for the next.
const EVENTS_PER_CLAIM: i64 = 64;

/// A conversation this relay holds: `generation` tells this take from a later one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub conversation_key: String,
    pub generation: i64,
}

/// A conversation claimed, with its pending events in order.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub lease: Lease,
    pub events: Vec<QueuedEvent>,
}

/// One relay's view of the shared inbox; cheap to clone.
#[derive(Clone, Debug)]
pub struct PgInbox {
    db: PgDb,
    lease_ms: i64,
}

impl PgInbox {
    /// `lease`: how long a claim holds a conversation without a renewal. Longer than the
    /// slowest event's handling; a dead relay's conversations wait that long.
    pub fn new(db: PgDb, lease: Duration) -> Self {
        Self {
            db,
            lease_ms: lease.as_millis().min(i64::MAX as u128) as i64,
        }
    }

    /// Leases up to `max` conversations that have pending events and no live lease,
    /// those waiting longest first, and returns them with their pending events (up to
    /// 64 each, oldest first). Two relays claiming at once never get
    /// the same conversation: the lease row's insert or takeover decides.
    pub async fn claim(&self, max: usize) -> Result<Vec<Claimed>, PgError> {
        let client = self.db.client().await?;
        let leased = client
            .query(
                &format!(
                    "WITH heads AS (
                        SELECT conversation_key, min(id) AS head FROM deliveries
                        WHERE status = 'pending' GROUP BY conversation_key
                    ), free AS (
                        SELECT h.conversation_key, h.head FROM heads h
                        LEFT JOIN inbox_leases l USING (conversation_key)
                        WHERE l.conversation_key IS NULL OR l.expires_at_ms < {NOW_MS}
                        ORDER BY h.head LIMIT $2
                    )
                    INSERT INTO inbox_leases AS l (conversation_key, holder, expires_at_ms)
                    SELECT conversation_key, $1, {NOW_MS} + $3 FROM free
                    ON CONFLICT (conversation_key) DO UPDATE
                        SET holder = EXCLUDED.holder, generation = l.generation + 1,
                            expires_at_ms = EXCLUDED.expires_at_ms
                        WHERE l.expires_at_ms < {NOW_MS}
                    RETURNING conversation_key, generation"
                ),
                &[&self.db.instance(), &(max as i64), &self.lease_ms],
            )
            .await?;
        if leased.is_empty() {
            return Ok(Vec::new());
        }
        let mut claimed: Vec<Claimed> = leased
            .iter()
            .map(|r| Claimed {
                lease: Lease {
                    conversation_key: r.get(0),
                    generation: r.get(1),
                },
                events: Vec::new(),
            })
            .collect();
        let keys: Vec<&str> = claimed
            .iter()
            .map(|c| c.lease.conversation_key.as_str())
            .collect();
        let rows = client
            .query(
                "SELECT k.key, d.id, d.received_at_ms, d.body FROM unnest($1::TEXT[]) AS k(key)
                 CROSS JOIN LATERAL (
                    SELECT id, received_at_ms, body FROM deliveries
                    WHERE status = 'pending' AND conversation_key = k.key ORDER BY id LIMIT $2
                 ) d ORDER BY d.id",
                &[&keys, &EVENTS_PER_CLAIM],
            )
            .await?;
        drop(client);
        for row in rows {
            let key: &str = row.get(0);
            let Some(at) = claimed.iter().position(|c| c.lease.conversation_key == key) else {
                continue;
            };
            let (id, received_at_ms, body): (i64, i64, Vec<u8>) =
                (row.get(1), row.get(2), row.get(3));
            match WebhookEvent::parse(&Bytes::from(body)) {
                Ok(event) => {
                    let lease = Some(claimed[at].lease.clone());
                    claimed[at].events.push(QueuedEvent {
                        delivery_id: id,
                        received_at_ms,
                        event,
                        lease,
                    })
                }
                // The receiver only queues parsed events; a row that no longer parses is
                // marked rather than handed out forever.
                Err(e) => {
                    let lease = claimed[at].lease.clone();
                    self.complete(&lease, id, Err(e.to_string())).await?
                }
            }
        }
        Ok(claimed)
    }

    /// Records what the engine did with an event: `Ok(note)` → processed, `Err(reason)` →
    /// failed. [`PgError::LeaseLost`] when the lease is no longer this one (taken over
    /// after it expired) or the event is no longer pending.
    pub async fn complete(
        &self,
        lease: &Lease,
        delivery_id: i64,
        outcome: Result<String, String>,
    ) -> Result<(), PgError> {
        let client = self.db.client().await?;
        complete_in(&**client, self.db.instance(), lease, delivery_id, outcome).await
    }

    /// Holds the conversation for another lease period; [`PgError::LeaseLost`] when it
    /// was taken over meanwhile.
    pub async fn renew(&self, lease: &Lease) -> Result<(), PgError> {
        let renewed = self
            .db
            .client()
            .await?
            .execute(
                &format!(
                    "UPDATE inbox_leases SET expires_at_ms = {NOW_MS} + $4
                     WHERE conversation_key = $1 AND holder = $2 AND generation = $3"
                ),
                &[
                    &lease.conversation_key,
                    &self.db.instance(),
                    &lease.generation,
                    &self.lease_ms,
                ],
            )
            .await?;
        if renewed == 0 {
            return Err(lost(lease));
        }
        Ok(())
    }

    /// Lets the conversation go (its later events go to whichever relay claims next).
    /// Releasing a lease already taken over does nothing.
    pub async fn release(&self, lease: &Lease) -> Result<(), PgError> {
        self.db
            .client()
            .await?
            .execute(
                "DELETE FROM inbox_leases
                 WHERE conversation_key = $1 AND holder = $2 AND generation = $3",
                &[
                    &lease.conversation_key,
                    &self.db.instance(),
                    &lease.generation,
                ],
            )
            .await?;
        Ok(())
    }

    /// Holds `conversation_key` for work on it that is not one of its events (a
    /// tester's message, a timer's job), so that no other relay handles its events
    /// meanwhile. `Ok(None)` when this relay holds it already (its engine serialises
    /// that work with the events it claimed); otherwise waits while another relay holds
    /// it, at most `patience`. Give the lease back with [`PgInbox::release`].
    pub async fn hold(
        &self,
        conversation_key: &str,
        patience: Duration,
    ) -> Result<Option<Lease>, PgError> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let client = self.db.client().await?;
            let taken = client
                .query_opt(
                    &format!(
                        "INSERT INTO inbox_leases AS l (conversation_key, holder, expires_at_ms)
                         VALUES ($1, $2, {NOW_MS} + $3)
                         ON CONFLICT (conversation_key) DO UPDATE
                            SET holder = EXCLUDED.holder, generation = l.generation + 1,
                                expires_at_ms = EXCLUDED.expires_at_ms
                            WHERE l.expires_at_ms < {NOW_MS}
                         RETURNING generation"
                    ),
                    &[&conversation_key, &self.db.instance(), &self.lease_ms],
                )
                .await?;
            if let Some(row) = taken {
                return Ok(Some(Lease {
                    conversation_key: conversation_key.to_string(),
                    generation: row.get(0),
                }));
            }
            let holder: Option<String> = client
                .query_opt(
                    "SELECT holder FROM inbox_leases WHERE conversation_key = $1",
                    &[&conversation_key],
                )
                .await?
                .map(|r| r.get(0));
            drop(client);
            if holder.as_deref() == Some(self.db.instance()) {
                return Ok(None);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(PgError::Busy {
                    conversation: conversation_key.to_string(),
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn pending_count(&self) -> Result<i64, PgError> {
        Ok(self
            .db
            .client()
            .await?
            .query_one(
                "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'",
                &[],
            )
            .await?
            .get(0))
    }
}

/// The "processed" (or "failed") mark of an event under `lease`, on `c` — a transaction
/// that also holds the event's effects (the write unit), so that a mark refused because
/// the lease was lost takes the effects down with it.
pub async fn complete_in(
    c: &impl GenericClient,
    holder: &str,
    lease: &Lease,
    delivery_id: i64,
    outcome: Result<String, String>,
) -> Result<(), PgError> {
    let (status, text) = match outcome {
        Ok(t) => ("processed", t),
        Err(t) => ("failed", t),
    };
    let marked = c
        .execute(
            &format!(
                "UPDATE deliveries d SET status = $1, outcome = $2, processed_at_ms = {NOW_MS}
                 WHERE d.id = $3 AND d.status = 'pending' AND EXISTS (
                    SELECT 1 FROM inbox_leases l WHERE l.conversation_key = d.conversation_key
                    AND l.conversation_key = $6 AND l.holder = $4 AND l.generation = $5)"
            ),
            &[
                &status,
                &text,
                &delivery_id,
                &holder,
                &lease.generation,
                &lease.conversation_key,
            ],
        )
        .await?;
    if marked == 0 {
        return Err(lost(lease));
    }
    Ok(())
}

fn lost(lease: &Lease) -> PgError {
    PgError::LeaseLost {
        conversation: lease.conversation_key.clone(),
    }
}
