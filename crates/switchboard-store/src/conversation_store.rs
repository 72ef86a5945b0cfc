//! The conversations and their transcripts as the engine and the relay see them, on
//! either backend: [`crate::conversations::SqliteConversations`] or
//! [`crate::pg::PgConversations`]. Both collect their writes into the open write unit
//! (`crate::write_unit`), so an 8x8 event's effects commit with its mark on either.

use std::collections::HashMap;

use serde_json::Value;

use switchboard_types::{Direction, Lane};

use crate::{
    conversations::{ListQuery, Route, SqliteConversations, Summary},
    database::Database,
    db::{Db, DbError},
    pg::PgConversations,
    Conversation, Entry,
};

#[derive(Clone)]
pub enum ConversationStore {
    Sqlite(SqliteConversations),
    Postgres(PgConversations),
}

/// Runs the same call on whichever backend the store is, with PostgreSQL's errors as
/// [`DbError::Postgres`].
macro_rules! on_backend {
    ($store:expr, $s:ident => $call:expr) => {
        match $store {
            ConversationStore::Sqlite($s) => $call.await,
            ConversationStore::Postgres($s) => Ok($call.await?),
        }
    };
}

impl ConversationStore {
    /// On SQLite (tests and tools that open the file themselves).
    pub fn new(db: Db) -> Self {
        ConversationStore::Sqlite(SqliteConversations::new(db))
    }

    pub fn on(db: &Database) -> Self {
        match db {
            Database::Sqlite(db) => Self::new(db.clone()),
            Database::Postgres(db) => ConversationStore::Postgres(PgConversations::new(db.clone())),
        }
    }

    pub async fn get(&self, id: &str) -> Result<Option<Conversation>, DbError> {
        on_backend!(self, s => s.get(id))
    }

    pub async fn by_gateway_id(&self, gateway_id: &str) -> Result<Option<Conversation>, DbError> {
        on_backend!(self, s => s.by_gateway_id(gateway_id))
    }

    /// Which local conversation an 8x8 conversation id belongs to (see [`Route`]).
    pub async fn route_of(&self, gateway_id: &str) -> Result<Route, DbError> {
        on_backend!(self, s => s.route_of(gateway_id))
    }

    /// [`ConversationStore::route_of`] for a batch of ids in one visit.
    pub async fn routes_of(
        &self,
        gateway_ids: Vec<String>,
    ) -> Result<HashMap<String, Route>, DbError> {
        on_backend!(self, s => s.routes_of(gateway_ids))
    }

    /// Inserts or replaces the whole row (collected when a unit is open).
    pub async fn save(&self, conv: &Conversation) -> Result<(), DbError> {
        on_backend!(self, s => s.save(conv))
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn add_entry(
        &self,
        conversation_id: &str,
        lane: Lane,
        direction: Direction,
        text: &str,
        payload: Value,
        delivery_id: Option<i64>,
        outbox_id: Option<i64>,
        at_ms: i64,
    ) -> Result<Entry, DbError> {
        on_backend!(self, s => s.add_entry(
            conversation_id,
            lane,
            direction,
            text,
            payload,
            delivery_id,
            outbox_id,
            at_ms
        ))
    }

    /// The transcript in order, with the lines the open unit wrote; `after` continues
    /// from a known entry id.
    pub async fn transcript(
        &self,
        conversation_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Entry>, DbError> {
        on_backend!(self, s => s.transcript(conversation_id, after, limit))
    }

    pub async fn mark_sent(&self, entry_id: i64, outbox_id: i64) -> Result<(), DbError> {
        on_backend!(self, s => s.mark_sent(entry_id, outbox_id))
    }

    pub async fn list(
        &self,
        limit: u32,
        before_ms: Option<i64>,
    ) -> Result<Vec<Conversation>, DbError> {
        on_backend!(self, s => s.list(limit, before_ms))
    }

    pub async fn awaiting_create(&self) -> Result<Vec<Conversation>, DbError> {
        on_backend!(self, s => s.awaiting_create())
    }

    pub async fn page(&self, query: ListQuery) -> Result<Vec<Summary>, DbError> {
        on_backend!(self, s => s.page(query))
    }

    /// [`ConversationStore::page`] with another bound for a common word (tests).
    pub async fn page_with(
        &self,
        query: ListQuery,
        common_after: usize,
    ) -> Result<Vec<Summary>, DbError> {
        on_backend!(self, s => s.page_with(query, common_after))
    }

    /// The query plan of a page's query (tests check that it uses its index).
    pub async fn plan(&self, query: ListQuery) -> Result<Vec<String>, DbError> {
        on_backend!(self, s => s.plan(query))
    }

    pub async fn idle_handovers(&self, before_ms: i64) -> Result<Vec<Conversation>, DbError> {
        on_backend!(self, s => s.idle_handovers(before_ms))
    }

    pub async fn queued(&self) -> Result<Vec<Conversation>, DbError> {
        on_backend!(self, s => s.queued())
    }
}
