//! The write unit on PostgreSQL: everything one event causes, committed in one
//! transaction together with the event's fenced "processed" mark
//! ([`super::inbox::complete_in`]). It is SQLite's unit (`crate::write_unit`) with the
//! two things several relays change:
//!
//! - The mark is fenced by the conversation's lease. A relay that lost its lease (paused
//!   past it, cut off from the database) finds the mark refused at the end of its unit,
//!   and the transaction takes every write and notification of the unit down with it:
//!   [`PgError::LeaseLost`], nothing committed, the relay that took over handles the
//!   event from the start.
//! - Ids come from the table's sequence ([`next_ids`]), not from a counter in one
//!   process's memory, so two relays never hand out the same id. They are unique, not in
//!   commit order.
//!
//! The unit's live events go out as `NOTIFY` inside the same transaction
//! ([`super::notify::notify_in`]), so the other relays hear of them only if it commits,
//! and are returned for this relay's own bus after the commit, as SQLite's unit does.

use switchboard_types::RelayEvent;
use tokio_postgres::GenericClient;

use crate::write_unit::Committed;

use super::{inbox::Lease, notify::notify_in, PgDb, PgError, PgWrite};

/// The channel committed live events are sent on (each payload the event's JSON).
pub const EVENTS_CHANNEL: &str = "switchboard_events";
/// The channel a committed unit that added outbox calls is announced on (no payload): an
/// idle relay's worker wakes at once instead of at its next poll.
pub const OUTBOX_CHANNEL: &str = "switchboard_outbox";
/// What goes out on [`EVENTS_CHANNEL`] instead of an event too large for a notification
/// (PostgreSQL's limit is 8,000 bytes): the other relays tell their UIs they fell
/// behind, and the UIs fetch again, as after a lost listener.
pub const EVENT_TOO_LARGE: &str = r#"{"type":"lagged"}"#;
/// Room left in a payload for the sender's instance id and the separator.
const MAX_EVENT_PAYLOAD: usize = 7_500;

/// The writes, events and wake-ups one event (or job) causes, collected while it is
/// handled and committed at the end in one transaction.
#[derive(Default)]
pub struct PgUnit {
    /// Each with the key of the row it stores whole, if it does.
    writes: Vec<(Option<String>, PgWrite)>,
    events: Vec<RelayEvent>,
    outbox_added: bool,
}

impl std::fmt::Debug for PgUnit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgUnit")
            .field("writes", &self.writes.len())
            .field("events", &self.events.len())
            .field("outbox_added", &self.outbox_added)
            .finish()
    }
}

impl PgUnit {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a write, run after those added before it.
    pub fn write(&mut self, write: PgWrite) {
        self.writes.push((None, write));
    }

    /// Adds a write that stores a whole row (`key` names it), replacing an earlier write
    /// of the same row: the engine saves a conversation more than once while it handles
    /// an event, and only the last state counts (SQLite's `write_unit::write_row`).
    pub fn write_row(&mut self, key: impl Into<String>, write: PgWrite) {
        let key = key.into();
        self.writes
            .retain(|(earlier, _)| earlier.as_deref() != Some(key.as_str()));
        self.writes.push((Some(key), write));
    }

    /// Holds `event` back until the commit: sent to the other relays in the transaction,
    /// returned for this relay's bus once it committed.
    pub fn publish(&mut self, event: RelayEvent) {
        self.events.push(event);
    }

    /// Notes that the unit added outbox calls (announced on [`OUTBOX_CHANNEL`]).
    pub fn outbox_added(&mut self) {
        self.outbox_added = true;
    }

    /// The writes collected so far.
    pub fn len(&self) -> usize {
        self.writes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.events.is_empty() && !self.outbox_added
    }

    /// Commits the unit with the event's mark last: `Ok(note)` marks the event
    /// processed, `Err(reason)` failed. On any error nothing was committed and the
    /// event is still pending: [`PgError::LeaseLost`] when the lease is no longer this
    /// relay's (drop the conversation), another error when a write failed or the
    /// database went away (run the event again while the lease holds).
    pub async fn commit_event(
        self,
        db: &PgDb,
        lease: &Lease,
        delivery_id: i64,
        outcome: Result<String, String>,
    ) -> Result<Committed, PgError> {
        self.run(db, Some((lease, delivery_id, outcome))).await
    }

    /// Commits a unit that no event caused (a tester's message, a timer's job): the
    /// writes and notifications only.
    pub async fn commit(self, db: &PgDb) -> Result<Committed, PgError> {
        self.run(db, None).await
    }

    async fn run(
        self,
        db: &PgDb,
        mark: Option<(&Lease, i64, Result<String, String>)>,
    ) -> Result<Committed, PgError> {
        let PgUnit {
            writes,
            events,
            outbox_added,
        } = self;
        let mut client = db.client().await?;
        // Dropped without a commit (any `?` below), the transaction rolls back.
        let tx = client.transaction().await?;
        // Prepared first (from the connection's cache, after the first time), then sent
        // together: one round trip for the unit's writes instead of two each.
        let statements = futures_util::future::try_join_all(
            writes.iter().map(|(_, w)| tx.prepare_cached(&w.sql)),
        )
        .await?;
        futures_util::future::try_join_all(
            writes
                .iter()
                .zip(&statements)
                .map(|((_, w), s)| w.run_prepared(&tx, s)),
        )
        .await?;
        for event in &events {
            notify_in(&*tx, db.instance(), EVENTS_CHANNEL, &event_payload(event)).await?;
        }
        if outbox_added {
            notify_in(&*tx, db.instance(), OUTBOX_CHANNEL, "").await?;
        }
        if let Some((lease, delivery_id, outcome)) = mark {
            super::inbox::complete_in(&*tx, db.instance(), lease, delivery_id, outcome).await?;
        }
        tx.commit().await?;
        Ok(Committed {
            events,
            outbox_added,
        })
    }
}

fn event_payload(event: &RelayEvent) -> String {
    match serde_json::to_string(event) {
        Ok(json) if json.len() <= MAX_EVENT_PAYLOAD => json,
        _ => EVENT_TOO_LARGE.to_string(),
    }
}

/// `n` new ids of `table`'s `id` column from its sequence, in one round trip. For rows a
/// unit writes later, whose ids the engine needs before the commit (a transcript line's
/// id in the event it publishes). Taken outside the unit's transaction on purpose:
/// sequences are not transactional, so ids of a unit that rolls back are simply never
/// used. Unique across relays; not in commit order. The table's ids must be
/// `GENERATED BY DEFAULT` for an insert to give its own.
pub async fn next_ids(
    client: &impl GenericClient,
    table: &str,
    n: usize,
) -> Result<Vec<i64>, PgError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let rows = client
        .query(
            "SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2::BIGINT)",
            &[&table, &(n as i64)],
        )
        .await?;
    rows.iter()
        .map(|r| {
            r.get::<_, Option<i64>>(0)
                .ok_or_else(|| PgError::NoSequence {
                    table: table.to_string(),
                })
        })
        .collect()
}

impl PgDb {
    /// [`next_ids`] on a pooled connection.
    pub async fn next_ids(&self, table: &str, n: usize) -> Result<Vec<i64>, PgError> {
        next_ids(&**self.client().await?, table, n).await
    }
}
