//! The delivery ledger as the receiver and the inspector see it, on either backend:
//! [`crate::deliveries::SqliteDeliveries`] (a writer thread that commits deliveries in
//! groups and hands them to the engine in memory) or [`crate::pg::PgDeliveries`] (each
//! delivery committed on its own; the engine claims them from the table).

use std::sync::Arc;

use crate::{
    database::Database,
    db::{Db, DbError},
    deliveries::{DeliveryRecord, NewDelivery, Recorded, SqliteDeliveries, StoreError, Writer},
    inbox_queue::Handoff,
    pg::PgDeliveries,
};

pub enum DeliveryStore {
    Sqlite(SqliteDeliveries),
    /// `wake`: this relay's engine, told at once of a delivery it may claim.
    Postgres {
        store: PgDeliveries,
        wake: Arc<Handoff>,
    },
}

macro_rules! on_backend {
    ($store:expr, $s:ident => $call:expr) => {
        match $store {
            DeliveryStore::Sqlite($s) => $call.await,
            DeliveryStore::Postgres { store: $s, .. } => Ok($call.await.map_err(DbError::from)?),
        }
    };
}

impl DeliveryStore {
    /// On SQLite: starts the writer thread.
    pub fn open(db: &Db, handoff: Arc<Handoff>) -> Result<Self, DbError> {
        Ok(DeliveryStore::Sqlite(SqliteDeliveries::open(db, handoff)?))
    }

    pub fn on(db: &Database, handoff: Arc<Handoff>) -> Result<Self, DbError> {
        match db {
            Database::Sqlite(db) => Self::open(db, handoff),
            Database::Postgres(db) => Ok(DeliveryStore::Postgres {
                store: PgDeliveries::new(db.clone()),
                wake: handoff,
            }),
        }
    }

    /// The SQLite writer, for the queue that completes deliveries through it.
    pub fn writer(&self) -> Option<Writer> {
        match self {
            DeliveryStore::Sqlite(s) => Some(s.writer()),
            DeliveryStore::Postgres { .. } => None,
        }
    }

    /// Commits one delivery; returns once it is durable.
    pub async fn record(&self, delivery: NewDelivery) -> Result<Recorded, StoreError> {
        match self {
            DeliveryStore::Sqlite(s) => s.record(delivery).await,
            DeliveryStore::Postgres { store, wake } => {
                let recorded = store.record(delivery).await.map_err(DbError::from)?;
                wake.wake();
                Ok(recorded)
            }
        }
    }

    /// The newest deliveries first, `before` an id for paging.
    pub async fn list(
        &self,
        limit: u32,
        before: Option<i64>,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        on_backend!(self, s => s.list(limit, before))
    }

    pub async fn get(&self, id: i64) -> Result<Option<DeliveryRecord>, StoreError> {
        on_backend!(self, s => s.get(id))
    }

    /// Every delivery of one event id (the original and its duplicates), oldest first.
    pub async fn by_event_id(&self, event_id: &str) -> Result<Vec<DeliveryRecord>, StoreError> {
        on_backend!(self, s => s.by_event_id(event_id))
    }

    /// Every delivery of any of these event ids, oldest first: one query for a page.
    pub async fn by_event_ids(
        &self,
        event_ids: Vec<String>,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        on_backend!(self, s => s.by_event_ids(event_ids))
    }
}
