//! The delivery ledger on PostgreSQL: the same rows, statuses and answers as SQLite's
//! [`crate::deliveries`], correct with several relays writing at once. A delivery is
//! committed before the receiver answers 2xx (with PostgreSQL's default
//! `synchronous_commit`, on disk at the server). Whichever relay receives an event, the
//! partial unique index on `event_id` lets one accepted row exist: the insert is
//! `ON CONFLICT DO NOTHING`, and a delivery that meets an accepted row of its event id is
//! stored as that row's `duplicate`, never queued again. A conflicting insert still in
//! flight on another relay is waited for by PostgreSQL, so a retry arriving while the
//! original commits is recognised too.
//!
//! No group commit and no in-memory hand-off here: each delivery is one statement (or a
//! short transaction), and the inbox reads pending rows from the table (`super::inbox`),
//! as any relay may have stored them.

use tokio_postgres::Row;

use crate::deliveries::{
    DeliveryRecord, Disposition, NewDelivery, Recorded, MAX_REJECTED, REJECTED_BODY_KEPT,
};

use super::{PgDb, PgError};

/// The accepted statuses: a row in one of them holds its event id.
const HOLDS_EVENT_ID: &str =
    "event_id IS NOT NULL AND status NOT IN ('duplicate', 'rejected', 'unverified')";

/// The lock a relay takes, in the transaction that stores a queued event, on that
/// event's conversation (`$1`, the conversation id): the two-key advisory space, class 1.
pub const CONVERSATION_LOCK: &str = "SELECT pg_advisory_xact_lock(1, hashtext($1))";

const COLUMNS: &str =
    "id, received_at_ms, headers_json, body, event_id, event_type, conversation_id, \
     signature, signature_reason, http_status, duplicate_of, status, outcome, processed_at_ms";

/// The delivery ledger of one relay on the shared database; cheap to clone.
#[derive(Clone, Debug)]
pub struct PgDeliveries {
    db: PgDb,
}

/// How a new delivery is stored when it repeats no accepted event (`Disposition` and the
/// signature decide, exactly as in SQLite's ledger).
struct Plan<'a> {
    status: &'static str,
    outcome: Option<String>,
    body: &'a [u8],
    /// May this row hold its event id (and so be a retry of an earlier one)?
    vouched_event: bool,
}

fn plan(d: &NewDelivery) -> Plan<'_> {
    // A delivery whose signature did not check out proves nothing about its event id: it
    // never marks the id as seen (see `crate::deliveries`).
    let vouched =
        d.disposition != Disposition::Ignore || matches!(d.signature, "valid" | "skipped");
    let status = match d.disposition {
        Disposition::Queue => "pending",
        Disposition::Ignore if !vouched => "unverified",
        Disposition::Ignore => "ignored",
        Disposition::Settled => "processed",
        Disposition::Reject => "rejected",
    };
    let (body, outcome) = match d.disposition {
        Disposition::Reject if d.body.len() > REJECTED_BODY_KEPT => (
            &d.body[..REJECTED_BODY_KEPT],
            Some(format!(
                "{}(body cut: the first {REJECTED_BODY_KEPT} of {} bytes kept)",
                d.outcome
                    .as_ref()
                    .map(|o| format!("{o} "))
                    .unwrap_or_default(),
                d.body.len()
            )),
        ),
        _ => (&d.body[..], d.outcome.clone()),
    };
    Plan {
        status,
        outcome,
        body,
        vouched_event: d.event_id.is_some() && vouched && d.disposition != Disposition::Reject,
    }
}

impl PgDeliveries {
    pub fn new(db: PgDb) -> Self {
        Self { db }
    }

    /// Commits one delivery; returns once PostgreSQL has committed it.
    pub async fn record(&self, d: NewDelivery) -> Result<Recorded, PgError> {
        let plan = plan(&d);
        let mut client = self.db.client().await?;
        if !plan.vouched_event {
            let id = insert(&**client, &d, &plan, None, false).await?;
            if plan.status == "rejected" {
                // A failure here costs only the pruning, never the delivery.
                if let Err(e) = self.prune_rejected(MAX_REJECTED).await {
                    tracing::warn!(error = %e, "old rejected deliveries could not be pruned");
                }
            }
            return Ok(Recorded {
                id,
                duplicate_of: None,
            });
        }
        // The original may be deleted (retention) between the conflict and the look-up;
        // then this delivery is new after all and the insert is tried again.
        for _ in 0..3 {
            let inserted = if d.disposition == Disposition::Queue {
                // Per conversation, ids are handed out in commit order: an event queued
                // takes its conversation's lock first, so a later id never becomes
                // visible before an earlier one and the inbox never skips ahead.
                let tx = client.transaction().await?;
                tx.execute(
                    CONVERSATION_LOCK,
                    &[&d.conversation_id.clone().unwrap_or_default()],
                )
                .await?;
                let id = insert(&*tx, &d, &plan, None, true).await?;
                tx.commit().await?;
                id
            } else {
                insert(&**client, &d, &plan, None, true).await?
            };
            // 0: an accepted row of this event id exists (ids start at 1).
            if inserted != 0 {
                return Ok(Recorded {
                    id: inserted,
                    duplicate_of: None,
                });
            }
            let original = client
                .query_opt(
                    &format!("SELECT id FROM deliveries WHERE event_id = $1 AND {HOLDS_EVENT_ID}"),
                    &[&d.event_id],
                )
                .await?;
            if let Some(row) = original {
                let first: i64 = row.get(0);
                let duplicate = Plan {
                    status: "duplicate",
                    outcome: Some(format!("retry of delivery {first}; not processed again")),
                    body: plan.body,
                    vouched_event: false,
                };
                let id = insert(&**client, &d, &duplicate, Some(first), false).await?;
                return Ok(Recorded {
                    id,
                    duplicate_of: Some(first),
                });
            }
        }
        Err(PgError::Unmatched {
            event_id: d.event_id.unwrap_or_default(),
        })
    }

    /// Marks a queued delivery `processed` or `failed`; one no longer `pending` is left
    /// as it is (as in SQLite's ledger). The inbox shared by several relays completes
    /// through [`super::PgInbox::complete`] instead, which also checks the lease.
    pub async fn complete(
        &self,
        delivery_id: i64,
        status: &str,
        outcome: &str,
        at_ms: i64,
    ) -> Result<(), PgError> {
        self.db
            .client()
            .await?
            .execute(
                "UPDATE deliveries SET status = $1, outcome = $2, processed_at_ms = $3
                 WHERE id = $4 AND status = 'pending'",
                &[&status, &outcome, &at_ms, &delivery_id],
            )
            .await?;
        Ok(())
    }

    /// Deletes the rejected deliveries older than the newest `keep` (run after each
    /// rejected one, with [`MAX_REJECTED`]) and counts them in `app_meta`.
    pub async fn prune_rejected(&self, keep: i64) -> Result<u64, PgError> {
        let mut client = self.db.client().await?;
        let tx = client.transaction().await?;
        let pruned = tx
            .execute(
                "DELETE FROM deliveries WHERE status = 'rejected' AND id <= (
                    SELECT id FROM deliveries WHERE status = 'rejected'
                    ORDER BY id DESC LIMIT 1 OFFSET $1)",
                &[&keep],
            )
            .await?;
        if pruned > 0 {
            tx.execute(
                "INSERT INTO app_meta (key, value) VALUES ('rejected_pruned', $1::BIGINT::TEXT)
                 ON CONFLICT (key) DO UPDATE
                 SET value = (app_meta.value::BIGINT + $1::BIGINT)::TEXT",
                &[&(pruned as i64)],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(pruned)
    }

    /// The newest deliveries first, `before` an id for paging.
    pub async fn list(
        &self,
        limit: u32,
        before: Option<i64>,
    ) -> Result<Vec<DeliveryRecord>, PgError> {
        let rows = self
            .db
            .client()
            .await?
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM deliveries WHERE id < $1 ORDER BY id DESC LIMIT $2"
                ),
                &[&before.unwrap_or(i64::MAX), &(limit as i64)],
            )
            .await?;
        Ok(rows.iter().map(record).collect())
    }

    pub async fn get(&self, id: i64) -> Result<Option<DeliveryRecord>, PgError> {
        let row = self
            .db
            .client()
            .await?
            .query_opt(
                &format!("SELECT {COLUMNS} FROM deliveries WHERE id = $1"),
                &[&id],
            )
            .await?;
        Ok(row.as_ref().map(record))
    }

    /// Every delivery of one event id (the original and its duplicates), oldest first.
    pub async fn by_event_id(&self, event_id: &str) -> Result<Vec<DeliveryRecord>, PgError> {
        self.by_event_ids(vec![event_id.to_string()]).await
    }

    /// Every delivery of any of these event ids, oldest first: one query for a page.
    pub async fn by_event_ids(
        &self,
        event_ids: Vec<String>,
    ) -> Result<Vec<DeliveryRecord>, PgError> {
        if event_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self
            .db
            .client()
            .await?
            .query(
                &format!("SELECT {COLUMNS} FROM deliveries WHERE event_id = ANY($1) ORDER BY id"),
                &[&event_ids],
            )
            .await?;
        Ok(rows.iter().map(record).collect())
    }
}

/// Inserts one row. With `yield_to_original`, the insert yields to an accepted row of the
/// same event id (returns 0 then) instead of failing on the unique index.
async fn insert(
    c: &impl tokio_postgres::GenericClient,
    d: &NewDelivery,
    plan: &Plan<'_>,
    duplicate_of: Option<i64>,
    yield_to_original: bool,
) -> Result<i64, PgError> {
    let on_conflict = if yield_to_original {
        format!("ON CONFLICT (event_id) WHERE {HOLDS_EVENT_ID} DO NOTHING")
    } else {
        String::new()
    };
    let processed_at = (plan.status == "processed").then_some(d.received_at_ms);
    let row = c
        .query_opt(
            &format!(
                "INSERT INTO deliveries (received_at_ms, headers_json, body, event_id, event_type,
                    conversation_id, signature, signature_reason, http_status, duplicate_of,
                    status, outcome, processed_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                 {on_conflict} RETURNING id"
            ),
            &[
                &d.received_at_ms,
                &d.headers_json,
                &plan.body,
                &d.event_id,
                &d.event_type,
                &d.conversation_id,
                &d.signature,
                &d.signature_reason,
                &(d.http_status as i32),
                &duplicate_of,
                &plan.status,
                &plan.outcome,
                &processed_at,
            ],
        )
        .await?;
    Ok(row.map(|r| r.get(0)).unwrap_or(0))
}

fn record(r: &Row) -> DeliveryRecord {
    let headers: String = r.get(2);
    let body: Vec<u8> = r.get(3);
    DeliveryRecord {
        id: r.get(0),
        received_at_ms: r.get(1),
        headers: serde_json::from_str(&headers).unwrap_or(serde_json::Value::Null),
        body: String::from_utf8_lossy(&body).into_owned(),
        event_id: r.get(4),
        event_type: r.get(5),
        conversation_id: r.get(6),
        signature: r.get(7),
        signature_reason: r.get(8),
        http_status: r.get::<_, i32>(9) as u16,
        duplicate_of: r.get(10),
        status: r.get(11),
        outcome: r.get(12),
        processed_at_ms: r.get(13),
    }
}
