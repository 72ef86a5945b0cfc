//! Conversations and their transcripts on PostgreSQL: the same rows, answers and list
//! semantics as SQLite's `ConversationStore` (`crate::conversations`), for several relays
//! on one database. Every write is also available as data ([`PgWrite`]: `save_write`,
//! `add_entry_write`, `mark_sent_write`) for the write unit to run in its transaction;
//! the methods here run the same writes on their own. A transcript line's id comes from
//! the table's sequence ([`PgConversations::next_entry_ids`]), never from memory: several
//! relays take ids from it at once.
//!
//! The list's search and the whole-transcript search are in [`super::transcripts`].

use std::collections::HashMap;

use serde_json::Value;
use tokio_postgres::{types::ToSql, Row};

use crate::conversations::{
    Conversation, Direction, Entry, HandoverRecord, Lane, ListQuery, Mode, Phase, Route, Summary,
};
use crate::pg_params;

use super::{transcripts, PgDb, PgError, PgWrite};

mod list;
use list::{list_sql, summary};

const COLUMNS: &str = "id, role, phase, gateway_id, state, channel_id, user_json, \
    bot_session_json, greeted, queue_id, queue_name, agent_id, transfer_pending, handover_json, \
    created_at_ms, updated_at_ms, queued_at_ms, agent_joined_at_ms, first_agent_reply_at_ms, \
    ended_at_ms, last_user_at_ms, last_text, handover_offer";

/// The whole row, inserted or replaced. As SQLite's `INSERT OR REPLACE`, a row of another
/// conversation holding the same 8x8 id is deleted first (the `displaced` CTE runs before
/// the insert because the insert reads it). Typed parameters: an `INSERT … SELECT` does
/// not take them from the columns.
const SAVE: &str = "WITH displaced AS (
        DELETE FROM conversations WHERE gateway_id = $4::TEXT AND id <> $1::TEXT RETURNING 1)
    INSERT INTO conversations (id, role, phase, gateway_id, state, channel_id, user_json,
        bot_session_json, greeted, queue_id, queue_name, agent_id, transfer_pending,
        handover_json, created_at_ms, updated_at_ms, queued_at_ms, agent_joined_at_ms,
        first_agent_reply_at_ms, ended_at_ms, last_user_at_ms, last_text, handover_offer,
        search_text)
    SELECT $1::TEXT, $2::TEXT, $3::TEXT, $4::TEXT, $5::TEXT, $6::TEXT, $7::TEXT, $8::TEXT,
        $9::BOOLEAN, $10::TEXT, $11::TEXT, $12::TEXT, $13::BOOLEAN, $14::TEXT, $15::BIGINT,
        $16::BIGINT, $17::BIGINT, $18::BIGINT, $19::BIGINT, $20::BIGINT, $21::BIGINT,
        $22::TEXT, $23::TEXT, $24::TEXT
    WHERE (SELECT COUNT(*) FROM displaced) >= 0
    ON CONFLICT (id) DO UPDATE SET role = EXCLUDED.role, phase = EXCLUDED.phase,
        gateway_id = EXCLUDED.gateway_id, state = EXCLUDED.state,
        channel_id = EXCLUDED.channel_id, user_json = EXCLUDED.user_json,
        bot_session_json = EXCLUDED.bot_session_json, greeted = EXCLUDED.greeted,
        queue_id = EXCLUDED.queue_id, queue_name = EXCLUDED.queue_name,
        agent_id = EXCLUDED.agent_id, transfer_pending = EXCLUDED.transfer_pending,
        handover_json = EXCLUDED.handover_json, created_at_ms = EXCLUDED.created_at_ms,
        updated_at_ms = EXCLUDED.updated_at_ms, queued_at_ms = EXCLUDED.queued_at_ms,
        agent_joined_at_ms = EXCLUDED.agent_joined_at_ms,
        first_agent_reply_at_ms = EXCLUDED.first_agent_reply_at_ms,
        ended_at_ms = EXCLUDED.ended_at_ms, last_user_at_ms = EXCLUDED.last_user_at_ms,
        last_text = EXCLUDED.last_text, handover_offer = EXCLUDED.handover_offer,
        search_text = EXCLUDED.search_text";

const ADD_ENTRY: &str = "INSERT INTO messages (id, conversation_id, direction, author_type, text,
        payload_json, delivery_id, outbox_id, created_at_ms, search_text)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// The outbox's answer to a handover's create names the 8x8 conversation (SQLite:
/// `crate::outbox::KEY_OF_CREATED`; the `outbox_created` index).
pub(super) const KEY_OF_CREATED: &str = "SELECT ordering_key FROM outbox
    WHERE operation = 'createConversation' AND status = 'delivered'
      AND (response_json::jsonb) ->> 'conversationId' = $1
    ORDER BY id DESC LIMIT 1";

pub(super) const CREATES_IN_FLIGHT: &str = "SELECT EXISTS(SELECT 1 FROM outbox
    WHERE operation = 'createConversation' AND status IN ('pending', 'sending'))";

/// The write that saves `conv` whole (insert or replace), for the write unit.
pub fn save_write(conv: &Conversation) -> PgWrite {
    let c = conv.clone();
    let search_text = c.search_text();
    PgWrite::new(
        SAVE,
        pg_params![
            c.id,
            c.mode.as_str().to_string(),
            c.phase.as_str().to_string(),
            c.gateway_id,
            c.state,
            c.channel_id,
            c.user.to_string(),
            c.bot_session.to_string(),
            c.greeted,
            c.queue_id,
            c.queue_name,
            c.agent_id,
            c.transfer_pending,
            c.handover.as_ref().map(HandoverRecord::to_json),
            c.created_at_ms,
            c.updated_at_ms,
            c.queued_at_ms,
            c.agent_joined_at_ms,
            c.first_agent_reply_at_ms,
            c.ended_at_ms,
            c.last_user_at_ms,
            c.last_text,
            c.handover_offer,
            search_text,
        ],
    )
}

/// The write that adds transcript line `entry` (its id taken from the sequence before,
/// [`PgConversations::next_entry_ids`]), with the delivery or outbox entry it came from.
pub fn add_entry_write(entry: &Entry, delivery_id: Option<i64>, outbox_id: Option<i64>) -> PgWrite {
    let e = entry.clone();
    let words = transcripts::line_words(&e.text);
    PgWrite::new(
        ADD_ENTRY,
        pg_params![
            e.id,
            e.conversation_id,
            e.direction.as_str().to_string(),
            e.lane.as_str().to_string(),
            e.text,
            e.payload.to_string(),
            delivery_id,
            outbox_id,
            e.at_ms,
            words,
        ],
    )
}

/// The write that marks a line held back during the handover create as sent.
pub fn mark_sent_write(entry_id: i64, outbox_id: i64) -> PgWrite {
    PgWrite::new(
        "UPDATE messages SET direction = 'out', outbox_id = $2 WHERE id = $1",
        pg_params![entry_id, outbox_id],
    )
}

/// One relay's view of the shared conversations; cheap to clone.
#[derive(Clone, Debug)]
pub struct PgConversations {
    db: PgDb,
}

impl PgConversations {
    pub fn new(db: PgDb) -> Self {
        Self { db }
    }

    pub fn db(&self) -> &PgDb {
        &self.db
    }

    async fn one(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Conversation>, PgError> {
        let c = self.db.client().await?;
        let row = c.query_opt(&c.prepare_cached(sql).await?, params).await?;
        Ok(row.as_ref().map(conversation))
    }

    async fn many(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Conversation>, PgError> {
        let c = self.db.client().await?;
        let rows = c.query(&c.prepare_cached(sql).await?, params).await?;
        Ok(rows.iter().map(conversation).collect())
    }

    pub async fn get(&self, id: &str) -> Result<Option<Conversation>, PgError> {
        self.one(
            &format!("SELECT {COLUMNS} FROM conversations WHERE id = $1"),
            &[&id],
        )
        .await
    }

    pub async fn by_gateway_id(&self, gateway_id: &str) -> Result<Option<Conversation>, PgError> {
        self.one(
            &format!("SELECT {COLUMNS} FROM conversations WHERE gateway_id = $1"),
            &[&gateway_id],
        )
        .await
    }

    /// Which local conversation an 8x8 conversation id belongs to (as SQLite's
    /// `ConversationStore::route_of`).
    pub async fn route_of(&self, gateway_id: &str) -> Result<Route, PgError> {
        let mut routes = self.routes_of(vec![gateway_id.to_string()]).await?;
        Ok(routes.remove(gateway_id).unwrap_or(Route {
            local: None,
            creates_in_flight: false,
            row_under_id: false,
        }))
    }

    /// [`PgConversations::route_of`] for many ids, on one connection.
    pub async fn routes_of(
        &self,
        gateway_ids: Vec<String>,
    ) -> Result<HashMap<String, Route>, PgError> {
        if gateway_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let c = self.db.client().await?;
        // The whole batch in one statement: per id its own row, else the handover whose
        // create 8x8 answered with it, and whether a row has it as its own id.
        let routes = c
            .prepare_cached(&format!(
                "SELECT k.id,
                    COALESCE((SELECT c.id FROM conversations c WHERE c.gateway_id = k.id LIMIT 1),
                             ({})),
                    EXISTS(SELECT 1 FROM conversations c WHERE c.id = k.id)
                 FROM unnest($1::TEXT[]) AS k(id)",
                KEY_OF_CREATED.replace("$1", "k.id")
            ))
            .await?;
        let rows = c.query(&routes, &[&gateway_ids]).await?;
        let creates_in_flight = if rows.iter().any(|r| r.get::<_, Option<String>>(1).is_none()) {
            c.query_one(CREATES_IN_FLIGHT, &[]).await?.get(0)
        } else {
            false
        };
        Ok(rows
            .iter()
            .map(|r| {
                let local: Option<String> = r.get(1);
                let route = Route {
                    creates_in_flight: local.is_none() && creates_in_flight,
                    row_under_id: local.is_none() && r.get::<_, bool>(2),
                    local,
                };
                (r.get(0), route)
            })
            .collect())
    }

    /// Inserts or replaces the whole row ([`save_write`]).
    /// Inserts or replaces the whole row; inside an event's unit it is collected, and a
    /// later save of the same conversation replaces it.
    pub async fn save(&self, conv: &Conversation) -> Result<(), PgError> {
        let row = format!("conversations {}", conv.id);
        crate::write_unit::pg_write_row(&self.db, Some(row), save_write(conv)).await
    }

    /// `n` new transcript line ids from the table's sequence, in one query
    /// ([`super::next_ids`]).
    pub async fn next_entry_ids(&self, n: usize) -> Result<Vec<i64>, PgError> {
        self.db.next_ids("messages", n).await
    }

    /// Adds a transcript line ([`add_entry_write`]) under an id from the sequence.
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
    ) -> Result<Entry, PgError> {
        let id = self.next_entry_ids(1).await?[0];
        let entry = Entry {
            id,
            conversation_id: conversation_id.to_string(),
            lane,
            direction,
            text: text.to_string(),
            payload,
            at_ms,
        };
        crate::write_unit::pg_write_row(
            &self.db,
            None,
            add_entry_write(&entry, delivery_id, outbox_id),
        )
        .await?;
        crate::write_unit::entry_written(&entry);
        Ok(entry)
    }

    /// The transcript in order; `after` continues from a known entry id.
    pub async fn transcript(
        &self,
        conversation_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Entry>, PgError> {
        let rows = self
            .db
            .client()
            .await?
            .query(
                "SELECT id, conversation_id, author_type, direction, COALESCE(text, ''),
                        payload_json, created_at_ms
                 FROM messages WHERE conversation_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                &[&conversation_id, &after, &i64::from(limit)],
            )
            .await?;
        let entries: Vec<Entry> = rows
            .iter()
            .map(|r| Entry {
                id: r.get(0),
                conversation_id: r.get(1),
                lane: Lane::parse(r.get(2)),
                direction: Direction::parse(r.get(3)),
                text: r.get(4),
                payload: serde_json::from_str(r.get(5)).unwrap_or(Value::Null),
                at_ms: r.get(6),
            })
            .collect();
        Ok(crate::write_unit::with_uncommitted(
            entries,
            conversation_id,
            after,
            limit,
        ))
    }

    /// A message held back during the handover create has now been handed to the outbox.
    pub async fn mark_sent(&self, entry_id: i64, outbox_id: i64) -> Result<(), PgError> {
        crate::write_unit::pg_write_row(&self.db, None, mark_sent_write(entry_id, outbox_id)).await
    }

    /// Newest first; `before` pages on by creation time.
    pub async fn list(
        &self,
        limit: u32,
        before_ms: Option<i64>,
    ) -> Result<Vec<Conversation>, PgError> {
        self.many(
            &format!(
                "SELECT {COLUMNS} FROM conversations WHERE created_at_ms < $1
                 ORDER BY created_at_ms DESC, id DESC LIMIT $2"
            ),
            &[&before_ms.unwrap_or(i64::MAX), &i64::from(limit)],
        )
        .await
    }

    /// Handovers whose create was written but whose 8x8 id is not known yet.
    pub async fn awaiting_create(&self) -> Result<Vec<Conversation>, PgError> {
        self.many(
            &format!(
                "SELECT {COLUMNS} FROM conversations
                 WHERE phase = 'handover' AND gateway_id IS NULL"
            ),
            &[],
        )
        .await
    }

    /// Handover-mode conversations still going whose user has been silent since
    /// `before_ms` (as SQLite's `ConversationStore::idle_handovers`).
    pub async fn idle_handovers(&self, before_ms: i64) -> Result<Vec<Conversation>, PgError> {
        self.many(
            &format!(
                "SELECT {COLUMNS} FROM conversations WHERE role = 'handover'
                 AND phase IN ('bot', 'queued', 'agent', 'transferred')
                 AND COALESCE(last_user_at_ms, created_at_ms) < $1"
            ),
            &[&before_ms],
        )
        .await
    }

    /// Conversations waiting in an 8x8 queue for an agent now.
    pub async fn queued(&self) -> Result<Vec<Conversation>, PgError> {
        self.many(
            &format!("SELECT {COLUMNS} FROM conversations WHERE phase = 'queued'"),
            &[],
        )
        .await
    }

    /// One page of the list as the UI shows it (as SQLite's `ConversationStore::page`):
    /// summaries newest first from a keyset cursor, filtered and searched, each
    /// conversation a transcript line matched with its newest matching line.
    pub async fn page(&self, query: ListQuery) -> Result<Vec<Summary>, PgError> {
        self.page_with(query, crate::transcript_search::COMMON_AFTER)
            .await
    }

    /// [`PgConversations::page`] with another bound for a common word (tests, benchmark).
    pub async fn page_with(
        &self,
        query: ListQuery,
        common_after: usize,
    ) -> Result<Vec<Summary>, PgError> {
        let c = self.db.client().await?;
        let typed = query.search.clone().unwrap_or_default();
        let words = transcripts::tsquery(&typed);
        let matches = match &words {
            Some(words) => Some(transcripts::Matches::find(&c, words, common_after).await?),
            None => None,
        };
        let (sql, params) = list_sql(&query, matches.as_ref());
        let params: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let rows = c.query(&sql, &params).await?;
        let mut page: Vec<Summary> = rows.iter().map(summary).collect();
        if let Some(matches) = matches {
            let ids: Vec<String> = page.iter().map(|s| s.id.clone()).collect();
            let mut lines = matches.lines(&c, &ids).await?;
            for s in &mut page {
                s.matched_line = lines.remove(&s.id);
            }
        }
        Ok(page)
    }

    /// How PostgreSQL runs a list query without its transcript part (`EXPLAIN`), one
    /// line per step: for the store benchmark.
    pub async fn plan(&self, query: ListQuery) -> Result<Vec<String>, PgError> {
        let (sql, params) = list_sql(&query, None);
        let params: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let rows = self
            .db
            .client()
            .await?
            .query(&format!("EXPLAIN {sql}"), &params)
            .await?;
        Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect())
    }
}

fn conversation(r: &Row) -> Conversation {
    let json = |s: String| serde_json::from_str(&s).unwrap_or(Value::Null);
    Conversation {
        id: r.get("id"),
        mode: Mode::parse(r.get("role")),
        phase: Phase::parse(r.get("phase")),
        gateway_id: r.get("gateway_id"),
        state: r.get("state"),
        channel_id: r.get("channel_id"),
        user: json(r.get("user_json")),
        bot_session: json(r.get("bot_session_json")),
        greeted: r.get("greeted"),
        queue_id: r.get("queue_id"),
        queue_name: r.get("queue_name"),
        agent_id: r.get("agent_id"),
        transfer_pending: r.get("transfer_pending"),
        handover: r
            .get::<_, Option<String>>("handover_json")
            .and_then(|s| HandoverRecord::read(&s)),
        created_at_ms: r.get("created_at_ms"),
        updated_at_ms: r.get("updated_at_ms"),
        queued_at_ms: r.get("queued_at_ms"),
        agent_joined_at_ms: r.get("agent_joined_at_ms"),
        first_agent_reply_at_ms: r.get("first_agent_reply_at_ms"),
        ended_at_ms: r.get("ended_at_ms"),
        last_user_at_ms: r.get("last_user_at_ms"),
        last_text: r.get("last_text"),
        handover_offer: r.get("handover_offer"),
    }
}
