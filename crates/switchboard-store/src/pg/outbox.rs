//! The outbox shared by several relays: each entry is sent by one relay at a time, the
//! entries of one ordering key (normally the conversation) in id order and one at a time,
//! and an entry a relay was sending when it died goes out again once that relay's lease
//! on it has run out — the documented at-least-once (`crate::outbox`, P10), never more
//! than that: a relay whose lease was taken over cannot record its attempt.
//!
//! A relay takes due heads with `FOR UPDATE SKIP LOCKED`: two relays never take the same
//! entry, and neither waits for the other. A head in flight keeps its key closed, as on
//! SQLite. Lease expiry is on the database's clock; when an entry is due (its backoff)
//! stays on the caller's, as in SQLite's outbox.

use std::time::Duration;

use tokio_postgres::Row;

use switchboard_types::OutboxStatus;

use crate::outbox::{AttemptOutcome, OutboxEntry};

use super::{
    conversations::{CREATES_IN_FLIGHT, KEY_OF_CREATED},
    PgDb, PgError, PgWrite,
};

const NOW_MS: &str = "(extract(epoch FROM statement_timestamp()) * 1000)::BIGINT";

const COLUMNS: &str = "id, ordering_key, operation, request_json, status, attempts, \
     next_attempt_at_ms, last_error, last_status, response_json, created_at_ms, updated_at_ms, \
     finished_at_ms, exchange_json";

/// One relay's view of the shared outbox; cheap to clone.
#[derive(Clone, Debug)]
pub struct PgOutbox {
    db: PgDb,
    lease_ms: i64,
}

impl PgOutbox {
    /// `lease`: how long a taken entry is this relay's without a renewal; longer than
    /// the slowest call to 8x8 (its timeout) plus recording the outcome.
    pub fn new(db: PgDb, lease: Duration) -> Self {
        Self {
            db,
            lease_ms: lease.as_millis().min(i64::MAX as u128) as i64,
        }
    }

    /// Adds an entry, `pending` and due at once; returns its id. (The engine adds
    /// entries inside its write unit; this is the same insert on its own.)
    pub async fn add(
        &self,
        ordering_key: &str,
        operation: &str,
        request_json: &str,
        now: i64,
    ) -> Result<i64, PgError> {
        Ok(self
            .db
            .client()
            .await?
            .query_one(
                "INSERT INTO outbox (ordering_key, operation, request_json, status,
                    next_attempt_at_ms, created_at_ms, updated_at_ms)
                 VALUES ($1, $2, $3, 'pending', $4, $4, $4) RETURNING id",
                &[&ordering_key, &operation, &request_json, &now],
            )
            .await?
            .get(0))
    }

    /// The insert of a new entry with its id (taken from the sequence beforehand), as a
    /// write the engine's unit collects.
    pub fn add_write(
        id: i64,
        ordering_key: &str,
        operation: &str,
        request_json: String,
        now: i64,
    ) -> PgWrite {
        PgWrite::new(
            "INSERT INTO outbox (id, ordering_key, operation, request_json, status,
                next_attempt_at_ms, created_at_ms, updated_at_ms)
             VALUES ($1, $2, $3, $4, 'pending', $5, $5, $5)",
            crate::pg_params![
                id,
                ordering_key.to_string(),
                operation.to_string(),
                request_json,
                now
            ],
        )
    }

    pub fn db(&self) -> &PgDb {
        &self.db
    }

    /// Marks up to `limit` due heads `sending` for this relay and returns them, oldest
    /// first. A head is due when it is `pending` and its time has come, or `sending`
    /// under a lease that ran out (its relay died: it is sent again, and its
    /// `last_error` says so).
    pub async fn take_due(&self, now: i64, limit: usize) -> Result<Vec<OutboxEntry>, PgError> {
        let rows = self
            .db
            .client()
            .await?
            .query(
                &format!(
                    // The conditions on `o` are checked again on the newest version of a
                    // row another relay changed meanwhile, so an entry just taken or
                    // finished by another relay is never taken here.
                    "WITH due AS (
                        SELECT o.id FROM outbox o
                        WHERE ((o.status = 'pending' AND o.next_attempt_at_ms <= $1)
                            OR (o.status = 'sending' AND o.lease_expires_at_ms < {NOW_MS}))
                          AND NOT EXISTS (SELECT 1 FROM outbox p
                              WHERE p.ordering_key = o.ordering_key AND p.id < o.id
                                AND p.status IN ('pending', 'sending'))
                        ORDER BY o.id LIMIT $2
                        FOR UPDATE OF o SKIP LOCKED
                    )
                    UPDATE outbox o SET status = 'sending', attempts = o.attempts + 1,
                        updated_at_ms = $1, sent_by = $3, lease_expires_at_ms = {NOW_MS} + $4,
                        last_error = CASE WHEN o.status = 'sending' THEN COALESCE(o.last_error,
                            'interrupted: the relay sending it stopped; sent again')
                            ELSE o.last_error END
                    FROM due WHERE o.id = due.id
                    RETURNING {}",
                    COLUMNS
                        .split(", ")
                        .map(|c| format!("o.{c}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                &[&now, &(limit as i64), &self.db.instance(), &self.lease_ms],
            )
            .await?;
        let mut entries: Vec<OutboxEntry> = rows.iter().map(entry).collect();
        entries.sort_by_key(|e| e.id);
        Ok(entries)
    }

    /// Keeps an entry this relay is sending for another lease period.
    pub async fn renew(&self, id: i64) -> Result<(), PgError> {
        let renewed = self
            .db
            .client()
            .await?
            .execute(
                &format!(
                    "UPDATE outbox SET lease_expires_at_ms = {NOW_MS} + $3
                     WHERE id = $1 AND status = 'sending' AND sent_by = $2"
                ),
                &[&id, &self.db.instance(), &self.lease_ms],
            )
            .await?;
        if renewed == 0 {
            return Err(lost(id));
        }
        Ok(())
    }

    /// Writes one attempt's outcome to an entry this relay is sending.
    /// [`PgError::OutboxLeaseLost`] when another relay took it over meanwhile (its attempt is
    /// the one that counts).
    pub async fn record_attempt(
        &self,
        id: i64,
        outcome: AttemptOutcome,
        now: i64,
    ) -> Result<(), PgError> {
        self.record_attempt_on_wire(id, outcome, None, now).await
    }

    /// [`PgOutbox::record_attempt`] with the attempt as it looked on the wire (JSON),
    /// kept from the last attempt that had one.
    pub async fn record_attempt_on_wire(
        &self,
        id: i64,
        (status, next_at, error, http_status, response): AttemptOutcome,
        exchange: Option<String>,
        now: i64,
    ) -> Result<(), PgError> {
        let recorded = self
            .db
            .client()
            .await?
            .execute(
                "UPDATE outbox SET status = $1::TEXT, next_attempt_at_ms = $2,
                    last_error = COALESCE($3, last_error), last_status = COALESCE($4, last_status),
                    response_json = $5, updated_at_ms = $6::BIGINT,
                    finished_at_ms = CASE WHEN $1::TEXT IN ('delivered', 'failed')
                        THEN $6::BIGINT END,
                    sent_by = NULL, lease_expires_at_ms = NULL,
                    exchange_json = COALESCE($9, exchange_json)
                 WHERE id = $7 AND status = 'sending' AND sent_by = $8",
                &[
                    &status.as_str(),
                    &next_at,
                    &error,
                    &http_status.map(i32::from),
                    &response,
                    &now,
                    &id,
                    &self.db.instance(),
                    &exchange,
                ],
            )
            .await?;
        if recorded == 0 {
            return Err(lost(id));
        }
        Ok(())
    }

    pub async fn get(&self, id: i64) -> Result<Option<OutboxEntry>, PgError> {
        let row = self
            .db
            .client()
            .await?
            .query_opt(
                &format!("SELECT {COLUMNS} FROM outbox WHERE id = $1"),
                &[&id],
            )
            .await?;
        Ok(row.as_ref().map(entry))
    }

    /// Newest first; `before` an id for paging (as SQLite's `Outbox::list`, the
    /// inspector's page).
    pub async fn list(&self, limit: u32, before: Option<i64>) -> Result<Vec<OutboxEntry>, PgError> {
        let before = before.unwrap_or(i64::MAX);
        let rows = self
            .db
            .client()
            .await?
            .query(
                &format!("SELECT {COLUMNS} FROM outbox WHERE id < $1 ORDER BY id DESC LIMIT $2"),
                &[&before, &i64::from(limit)],
            )
            .await?;
        Ok(rows.iter().map(entry).collect())
    }

    /// Entries not yet delivered or failed (`pending` or `sending`, whichever relay).
    pub async fn open_count(&self) -> Result<i64, PgError> {
        Ok(self
            .db
            .client()
            .await?
            .query_one(
                "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')",
                &[],
            )
            .await?
            .get(0))
    }

    /// The ordering key (the local conversation) of the delivered create that 8x8
    /// answered with `conversation_id` (the `outbox_created` index).
    pub async fn key_of_created(&self, conversation_id: &str) -> Result<Option<String>, PgError> {
        let row = self
            .db
            .client()
            .await?
            .query_opt(KEY_OF_CREATED, &[&conversation_id])
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Whether a create is still on its way on any relay (its 8x8 id not known yet).
    pub async fn creates_in_flight(&self) -> Result<bool, PgError> {
        Ok(self
            .db
            .client()
            .await?
            .query_one(CREATES_IN_FLIGHT, &[])
            .await?
            .get(0))
    }
}

fn lost(id: i64) -> PgError {
    PgError::OutboxLeaseLost { id }
}

fn entry(r: &Row) -> OutboxEntry {
    let json = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    OutboxEntry {
        id: r.get(0),
        ordering_key: r.get(1),
        operation: r.get(2),
        request: json(r.get(3)).unwrap_or(serde_json::Value::Null),
        status: OutboxStatus::parse(r.get(4)),
        attempts: r.get::<_, i32>(5) as i64,
        next_attempt_at_ms: r.get(6),
        last_error: r.get(7),
        last_status: r.get::<_, Option<i32>>(8).map(|s| s as u16),
        response: json(r.get(9)),
        created_at_ms: r.get(10),
        updated_at_ms: r.get(11),
        finished_at_ms: r.get(12),
        exchange: r
            .get::<_, Option<String>>(13)
            .and_then(|s| serde_json::from_str(&s).ok()),
    }
}
