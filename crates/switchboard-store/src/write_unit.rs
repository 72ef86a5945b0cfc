//! Everything one 8x8 event causes, committed in one transaction together with the
//! event's "processed" mark. Without it, a relay killed between the engine's writes and
//! that mark would handle the event again after the restart: a second transcript line,
//! a second bot reply to 8x8. With it, after any crash an event has either had all its
//! effects or none, and the inbox hands the "none" case out again.
//!
//! While a unit is open (in the task handling the event), the engine's writes —
//! transcript lines, the conversation row, outbox calls — are collected instead of run,
//! and its live-UI events are held back until the commit (the UI never shows what a
//! crash could undo). Row ids are handed out from memory ([`IdSeq`]) so a collected
//! write can return its id at once, as the immediate one does.

use std::{cell::RefCell, future::Future, sync::Arc};

use rusqlite::Connection;
use tokio::sync::Mutex;

use switchboard_types::{EventBus, RelayEvent};

use crate::{
    conversations::Entry,
    database::Database,
    db::{Db, DbError},
    pg::{inbox::Lease, PgDb, PgError, PgUnit, PgWrite},
};

/// A write to run inside the unit's transaction (SQLite).
pub type Write = Box<dyn FnOnce(&Connection) -> rusqlite::Result<()> + Send>;

/// A collected write of either backend; one unit only ever holds one kind, the kind of
/// the store that collected it.
enum UnitWrite {
    Sqlite(Write),
    Postgres(PgWrite),
}

/// How the event that opened the unit ends: its mark, written last in the unit's
/// transaction. On PostgreSQL the mark is fenced by the conversation's lease.
pub struct Completion {
    pub delivery_id: i64,
    /// `Ok(note)`: processed; `Err(reason)`: failed.
    pub outcome: Result<String, String>,
    pub at_ms: i64,
    pub lease: Option<Lease>,
}

#[derive(Default)]
pub struct Unit {
    /// Each with the key of what it replaces, if it writes a whole row.
    writes: Vec<(Option<String>, UnitWrite)>,
    events: Vec<RelayEvent>,
    /// Transcript lines written in this unit, for reads that must see them.
    entries: Vec<Entry>,
    outbox_added: bool,
}

tokio::task_local! {
    static UNIT: RefCell<Unit>;
}

/// Runs `f` with a unit open and returns what it collected.
pub async fn collect<F: Future>(f: F) -> (F::Output, Unit) {
    UNIT.scope(RefCell::new(Unit::default()), async move {
        let out = f.await;
        let unit = UNIT.with(|u| std::mem::take(&mut *u.borrow_mut()));
        (out, unit)
    })
    .await
}

fn with_unit<R>(f: impl FnOnce(&mut Unit) -> R) -> Option<R> {
    UNIT.try_with(|u| f(&mut u.borrow_mut())).ok()
}

/// Runs `write` on `db` now, or collects it when a unit is open.
pub async fn write(db: &Db, write: Write) -> Result<(), DbError> {
    write_row(db, None, write).await
}

/// Like [`write`], for a write that stores a whole row (`key` names it): in an open unit
/// it replaces an earlier write of the same row instead of adding to it. The engine saves
/// a conversation more than once while it handles an event; only the last state counts.
pub async fn write_row(db: &Db, key: Option<String>, write: Write) -> Result<(), DbError> {
    match collect_write(key, UnitWrite::Sqlite(write)) {
        None => Ok(()),
        Some(UnitWrite::Sqlite(write)) => db.write(write).await,
        Some(UnitWrite::Postgres(_)) => unreachable!("given a SQLite write"),
    }
}

/// [`write_row`] on PostgreSQL: collected when a unit is open, else run now on its own.
pub async fn pg_write_row(db: &PgDb, key: Option<String>, write: PgWrite) -> Result<(), PgError> {
    match collect_write(key, UnitWrite::Postgres(write)) {
        None => Ok(()),
        Some(UnitWrite::Postgres(write)) => write.run(&db.client().await?).await.map(|_| ()),
        Some(UnitWrite::Sqlite(_)) => unreachable!("given a PostgreSQL write"),
    }
}

/// Adds `write` to the open unit (replacing an earlier write of the same row); gives it
/// back when no unit is open.
fn collect_write(key: Option<String>, write: UnitWrite) -> Option<UnitWrite> {
    let mut write = Some(write);
    with_unit(|u| {
        if let Some(k) = &key {
            u.writes.retain(|(earlier, _)| earlier.as_ref() != Some(k));
        }
        u.writes.extend(write.take().map(|w| (key.clone(), w)));
    });
    write
}

/// Publishes `event` now, or at the unit's commit.
pub fn publish(bus: &EventBus, event: RelayEvent) {
    let mut event = Some(event);
    if with_unit(|u| u.events.extend(event.take())).is_none() {
        bus.publish(event.expect("not taken without a unit"));
    }
}

/// Remembers a transcript line written in the open unit (if any).
pub fn entry_written(entry: &Entry) {
    with_unit(|u| u.entries.push(entry.clone()));
}

/// Transcript lines of `conversation_id` written in the open unit, not yet committed.
pub fn uncommitted_entries(conversation_id: &str) -> Vec<Entry> {
    with_unit(|u| {
        u.entries
            .iter()
            .filter(|e| e.conversation_id == conversation_id)
            .cloned()
            .collect()
    })
    .unwrap_or_default()
}

/// A transcript page read from the database, with the lines the event being handled has
/// written but not yet committed (its reads must see them), cut to `limit`.
pub fn with_uncommitted(
    mut entries: Vec<Entry>,
    conversation_id: &str,
    after: i64,
    limit: u32,
) -> Vec<Entry> {
    entries.extend(
        uncommitted_entries(conversation_id)
            .into_iter()
            .filter(|e| e.id > after),
    );
    entries.truncate(limit as usize);
    entries
}

/// Notes that the open unit added outbox calls (the worker is woken after the commit).
pub fn outbox_added() -> bool {
    with_unit(|u| u.outbox_added = true).is_some()
}

impl Unit {
    /// Commits the collected writes and `last` in one transaction; the held-back events
    /// are returned for publishing only if it committed. On an error nothing was
    /// written: the caller runs the event again from the stored state.
    pub async fn commit(self, db: &Db, last: Write) -> Result<Committed, DbError> {
        let Unit {
            writes,
            events,
            outbox_added,
            ..
        } = self;
        db.write(Box::new(move |c| {
            for (_, w) in writes {
                match w {
                    UnitWrite::Sqlite(w) => w(c)?,
                    UnitWrite::Postgres(w) => {
                        tracing::error!(sql = %w.sql, "a PostgreSQL write in a SQLite unit");
                        return Err(rusqlite::Error::InvalidQuery);
                    }
                }
            }
            last(c)
        }))
        .await?;
        Ok(Committed {
            events,
            outbox_added,
        })
    }

    /// Commits the unit with the event's mark last, on whichever backend `db` is. On
    /// PostgreSQL a mark whose lease is no longer this relay's is refused and the whole
    /// unit with it ([`PgError::LeaseLost`], as `DbError::Postgres`): another relay has
    /// the conversation now and handles the event from the start.
    pub async fn commit_event(self, db: &Database, done: Completion) -> Result<Committed, DbError> {
        let Completion {
            delivery_id,
            outcome,
            at_ms,
            lease,
        } = done;
        match db {
            Database::Sqlite(db) => {
                let (status, text) = match outcome {
                    Ok(t) => ("processed", t),
                    Err(t) => ("failed", t),
                };
                let last = crate::deliveries::completion(delivery_id, status, text, at_ms);
                self.commit(db, last).await
            }
            Database::Postgres(db) => {
                let Some(lease) = lease else {
                    return Err(DbError::Task(format!(
                        "event {delivery_id} was handed out without its conversation's lease"
                    )));
                };
                let mut unit = PgUnit::new();
                for (key, w) in self.writes {
                    match (w, key) {
                        (UnitWrite::Postgres(w), Some(key)) => unit.write_row(key, w),
                        (UnitWrite::Postgres(w), None) => unit.write(w),
                        (UnitWrite::Sqlite(_), _) => {
                            return Err(DbError::Task("a SQLite write in a PostgreSQL unit".into()))
                        }
                    }
                }
                // The events go to this relay's bus after the commit, and from there to
                // the other relays (`switchboard-relay`'s cluster module), as every other
                // event does. No wake-up for the other relays' outbox workers either: this
                // relay's worker is woken after the commit, and a NOTIFY would make every
                // unit's commit queue on PostgreSQL's one notification lock
                // (bench-cluster: 13–25 % of busy connections waited there).
                unit.commit_event(db, &lease, delivery_id, outcome).await?;
                Ok(Committed {
                    events: self.events,
                    outbox_added: self.outbox_added,
                })
            }
        }
    }
}

/// What a committed unit leaves to do.
pub struct Committed {
    pub events: Vec<RelayEvent>,
    pub outbox_added: bool,
}

/// Ids for one table, handed out from memory so they are known before the row is
/// written. Every insert into the table takes its id from here; the first one reads the
/// highest id already stored.
/// Clones share the sequence.
#[derive(Clone)]
pub struct IdSeq {
    table: &'static str,
    last: Arc<Mutex<Option<i64>>>,
}

impl IdSeq {
    pub fn new(table: &'static str) -> Self {
        Self {
            table,
            last: Arc::new(Mutex::new(None)),
        }
    }

    pub async fn next(&self, db: &Db) -> Result<i64, DbError> {
        // On PostgreSQL ids come from the table's sequence instead (`pg::next_ids`).
        let mut last = self.last.lock().await;
        let current = match *last {
            Some(id) => id,
            None => {
                let sql = format!("SELECT COALESCE(MAX(id), 0) FROM {}", self.table);
                db.call(move |c| c.query_row(&sql, [], |r| r.get(0)))
                    .await?
            }
        };
        *last = Some(current + 1);
        Ok(current + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Conversation, ConversationStore, Mode, Phase};

    /// A conversation saved twice while one event is handled is written once, in its
    /// last state; other writes of the unit stay.
    #[tokio::test]
    async fn a_row_saved_twice_in_a_unit_is_written_once_in_its_last_state() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        let store = ConversationStore::new(db.clone());
        let mut conv = Conversation::new("c1".into(), Mode::Endpoint, 1);
        let ((), unit) = collect(async {
            store.save(&conv).await.unwrap();
            write(
                &db,
                Box::new(|c| {
                    c.execute("INSERT INTO app_meta (key, value) VALUES ('k', 'v')", [])?;
                    Ok(())
                }),
            )
            .await
            .unwrap();
            conv.phase = Phase::Ended;
            store.save(&conv).await.unwrap();
        })
        .await;
        assert_eq!(unit.writes.len(), 2, "one save and the other write");
        unit.commit(&db, Box::new(|_| Ok(()))).await.unwrap();
        let saved = store.get("c1").await.unwrap().unwrap();
        assert_eq!(saved.phase, Phase::Ended);
        let k: String = db
            .call(|c| {
                c.query_row("SELECT value FROM app_meta WHERE key = 'k'", [], |r| {
                    r.get(0)
                })
            })
            .await
            .unwrap();
        assert_eq!(k, "v");
    }
}
