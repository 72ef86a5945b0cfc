//! The engine's memory in SQLite: one row per conversation (where it is, who has it, the
//! bot's state, what the agent was sent) and the transcript in lanes. Everything the live
//! UI shows is read from here, so a restart loses nothing.

use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

pub use switchboard_types::{Direction, Lane, Mode, Phase};

use chat_gateway_client::types::CreateConversation;

use crate::db::{Db, DbError};
use crate::transcript_search;
pub use crate::transcript_search::MatchedLine;

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    pub id: String,
    pub mode: Mode,
    pub phase: Phase,
    /// 8x8's conversation id, once there is one.
    pub gateway_id: Option<String>,
    /// 8x8's own state (`created`, `active`, `idle`), as last reported.
    pub state: Option<String>,
    pub channel_id: Option<String>,
    /// The user as the conversation knows them: the tester's form, or 8x8's user data
    /// with what later events add. Free-form JSON; these are the fields the UI reads.
    #[ts(
        type = "{ name?: string | null, email?: string | null, language?: string | null, phone?: string | null, channel?: string | null, [key: string]: unknown }"
    )]
    pub user: Value,
    #[serde(skip)]
    pub bot_session: Value,
    pub greeted: bool,
    pub queue_id: Option<String>,
    pub queue_name: Option<String>,
    pub agent_id: Option<String>,
    pub transfer_pending: bool,
    /// The handover's record (handover mode): what 8x8 was sent, and the bookkeeping.
    pub handover: Option<HandoverRecord>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub queued_at_ms: Option<i64>,
    pub agent_joined_at_ms: Option<i64>,
    pub first_agent_reply_at_ms: Option<i64>,
    pub ended_at_ms: Option<i64>,
    pub last_user_at_ms: Option<i64>,
    pub last_text: Option<String>,
    /// The handover the bot offered (a long queue, no agent available) and the customer
    /// has not answered yet: the reason it was asked for, to hand over with if they wait.
    pub handover_offer: Option<String>,
}

impl Conversation {
    /// What a search of the list looks through, folded (`crate::search_text`).
    pub fn search_text(&self) -> String {
        crate::search_text::conversation(
            self.user["name"].as_str(),
            self.user["email"].as_str(),
            self.last_text.as_deref(),
            &self.id,
            self.gateway_id.as_deref(),
            self.queue_name.as_deref(),
            self.agent_id.as_deref(),
        )
    }

    pub fn new(id: String, mode: Mode, now: i64) -> Self {
        Self {
            id,
            mode,
            phase: Phase::Bot,
            gateway_id: None,
            state: None,
            channel_id: None,
            user: Value::Object(Default::default()),
            bot_session: Value::Null,
            greeted: false,
            queue_id: None,
            queue_name: None,
            agent_id: None,
            transfer_pending: false,
            handover: None,
            created_at_ms: now,
            updated_at_ms: now,
            queued_at_ms: None,
            agent_joined_at_ms: None,
            first_agent_reply_at_ms: None,
            ended_at_ms: None,
            last_user_at_ms: None,
            last_text: None,
            handover_offer: None,
        }
    }

    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        let json = |s: String| serde_json::from_str(&s).unwrap_or(Value::Null);
        Ok(Self {
            id: r.get("id")?,
            mode: Mode::parse(&r.get::<_, String>("role")?),
            phase: Phase::parse(&r.get::<_, String>("phase")?),
            gateway_id: r.get("gateway_id")?,
            state: r.get("state")?,
            channel_id: r.get("channel_id")?,
            user: json(r.get("user_json")?),
            bot_session: json(r.get("bot_session_json")?),
            greeted: r.get("greeted")?,
            queue_id: r.get("queue_id")?,
            queue_name: r.get("queue_name")?,
            agent_id: r.get("agent_id")?,
            transfer_pending: r.get("transfer_pending")?,
            handover: r
                .get::<_, Option<String>>("handover_json")?
                .and_then(|s| HandoverRecord::read(&s)),
            created_at_ms: r.get("created_at_ms")?,
            updated_at_ms: r.get("updated_at_ms")?,
            queued_at_ms: r.get("queued_at_ms")?,
            agent_joined_at_ms: r.get("agent_joined_at_ms")?,
            first_agent_reply_at_ms: r.get("first_agent_reply_at_ms")?,
            ended_at_ms: r.get("ended_at_ms")?,
            last_user_at_ms: r.get("last_user_at_ms")?,
            last_text: r.get("last_text")?,
            handover_offer: r.get("handover_offer")?,
        })
    }
}

/// What a handover in handover mode leaves on its conversation. `request` is exactly
/// what 8x8 was sent (the agent's view: user, JSON properties, history); the rest is the
/// relay's own bookkeeping and never goes to 8x8. Stored as one JSON object with these
/// fields side by side (`request`, `outboxId`, `handback`, `earlierGatewayIds`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HandoverRecord {
    pub request: CreateConversation,
    #[serde(flatten)]
    pub local: HandoverBookkeeping,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct HandoverBookkeeping {
    /// The outbox entry of the create; its answer carries 8x8's conversation id.
    pub outbox_id: Option<i64>,
    /// Whether a handback (post-agent assignment) is to be scheduled once 8x8 answers.
    pub handback: bool,
    /// 8x8 conversations of earlier handovers of the same conversation: their late
    /// events are recognised and ignored.
    pub earlier_gateway_ids: Vec<String>,
}

impl HandoverRecord {
    /// A stored record; one that does not read (written by a build that stored another
    /// shape) is left out with a warning rather than failing the whole conversation.
    pub(crate) fn read(json: &str) -> Option<Self> {
        match serde_json::from_str(json) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!(error = %e, "a stored handover record does not read; shown without it");
                None
            }
        }
    }

    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Whether `gateway_id` is an 8x8 conversation of an earlier handover.
    pub fn is_earlier(&self, gateway_id: &str) -> bool {
        self.local
            .earlier_gateway_ids
            .iter()
            .any(|id| id == gateway_id)
    }
}

/// One line of the transcript.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: i64,
    pub conversation_id: String,
    pub lane: Lane,
    pub direction: Direction,
    pub text: String,
    /// Quick replies, cards, attachments.
    pub payload: Value,
    pub at_ms: i64,
}

/// A conversation as the list shows it: everything but the bot's memory and the handover
/// record (which holds up to 200 history messages, and is read when one conversation is
/// opened); `handed_over` says whether there is one.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ConversationSummary")]
pub struct Summary {
    pub id: String,
    pub mode: Mode,
    pub phase: Phase,
    pub gateway_id: Option<String>,
    pub state: Option<String>,
    pub channel_id: Option<String>,
    /// The user as the conversation knows them: the tester's form, or 8x8's user data
    /// with what later events add. Free-form JSON; these are the fields the UI reads.
    #[ts(
        type = "{ name?: string | null, email?: string | null, language?: string | null, phone?: string | null, channel?: string | null, [key: string]: unknown }"
    )]
    pub user: Value,
    pub greeted: bool,
    pub queue_id: Option<String>,
    pub queue_name: Option<String>,
    pub agent_id: Option<String>,
    pub transfer_pending: bool,
    pub handed_over: bool,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub queued_at_ms: Option<i64>,
    pub agent_joined_at_ms: Option<i64>,
    pub first_agent_reply_at_ms: Option<i64>,
    pub ended_at_ms: Option<i64>,
    pub last_user_at_ms: Option<i64>,
    pub last_text: Option<String>,
    /// In an answer to a search: the newest transcript line that matched, if a line did
    /// (a conversation can match by its user's name or ids alone).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub matched_line: Option<MatchedLine>,
}

impl Summary {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get("id")?,
            mode: Mode::parse(&r.get::<_, String>("role")?),
            phase: Phase::parse(&r.get::<_, String>("phase")?),
            gateway_id: r.get("gateway_id")?,
            state: r.get("state")?,
            channel_id: r.get("channel_id")?,
            user: serde_json::from_str(&r.get::<_, String>("user_json")?).unwrap_or(Value::Null),
            greeted: r.get("greeted")?,
            queue_id: r.get("queue_id")?,
            queue_name: r.get("queue_name")?,
            agent_id: r.get("agent_id")?,
            transfer_pending: r.get("transfer_pending")?,
            handed_over: r.get("handed_over")?,
            created_at_ms: r.get("created_at_ms")?,
            updated_at_ms: r.get("updated_at_ms")?,
            queued_at_ms: r.get("queued_at_ms")?,
            agent_joined_at_ms: r.get("agent_joined_at_ms")?,
            first_agent_reply_at_ms: r.get("first_agent_reply_at_ms")?,
            ended_at_ms: r.get("ended_at_ms")?,
            last_user_at_ms: r.get("last_user_at_ms")?,
            last_text: r.get("last_text")?,
            matched_line: None,
        })
    }
}

/// The list's filter on where conversations are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseFilter {
    Is(Phase),
    /// Handed to 8x8 at some point (a handover record), or with 8x8's queue or agent now.
    HandedOver,
}

impl PhaseFilter {
    /// `bot`, `handover`, … or `handedOver`; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        if s == "handedOver" {
            return Some(Self::HandedOver);
        }
        [
            Phase::Bot,
            Phase::Handover,
            Phase::Queued,
            Phase::Agent,
            Phase::Transferred,
            Phase::Ended,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
        .map(Self::Is)
    }
}

/// Where a page of the list starts: after this conversation in newest-first order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_at_ms: i64,
    /// With the id, conversations created in the same millisecond are neither skipped
    /// nor repeated; without it, the page starts strictly before `created_at_ms`.
    pub id: Option<String>,
}

/// One page of the list: newest first, optionally filtered and searched.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub limit: u32,
    pub after: Option<Cursor>,
    pub phase: Option<PhaseFilter>,
    pub mode: Option<Mode>,
    /// Matched, ignoring case and accents, against the user's name and email, the last
    /// line, the conversation's ids, the queue's name and the agent (as one piece of
    /// text), and against every transcript line (word by word: each word typed must start
    /// a word of one line; `crate::transcript_search`).
    pub search: Option<String>,
}

impl ListQuery {
    pub fn newest(limit: u32) -> Self {
        Self {
            limit,
            after: None,
            phase: None,
            mode: None,
            search: None,
        }
    }

    /// The statement and its parameters. Every shape is one of a few fixed strings, so
    /// the statement cache keeps them prepared.
    fn sql(&self) -> (String, Vec<rusqlite::types::Value>) {
        self.sql_with(None)
    }

    /// `matched`: which conversations the search's transcript lines are in
    /// ([`transcript_search::Matches::condition`]).
    fn sql_with(
        &self,
        matched: Option<&transcript_search::Matches>,
    ) -> (String, Vec<rusqlite::types::Value>) {
        use rusqlite::types::Value as P;
        let mut sql = format!("SELECT {SUMMARY_COLUMNS} FROM conversations WHERE 1");
        let mut args: Vec<P> = Vec::new();
        match &self.after {
            // A row value, so the (created_at_ms, id) index gives the page start.
            Some(Cursor {
                created_at_ms,
                id: Some(id),
            }) => {
                sql.push_str(" AND (created_at_ms, id) < (?, ?)");
                args.push(P::Integer(*created_at_ms));
                args.push(P::Text(id.clone()));
            }
            Some(Cursor {
                created_at_ms,
                id: None,
            }) => {
                sql.push_str(" AND created_at_ms < ?");
                args.push(P::Integer(*created_at_ms));
            }
            None => {}
        }
        match self.phase {
            Some(PhaseFilter::Is(phase)) => {
                sql.push_str(" AND phase = ?");
                args.push(P::Text(phase.as_str().into()));
            }
            Some(PhaseFilter::HandedOver) => sql.push_str(
                " AND (handover_json IS NOT NULL OR phase IN ('queued', 'agent', 'transferred'))",
            ),
            None => {}
        }
        if let Some(mode) = self.mode {
            sql.push_str(" AND role = ?");
            args.push(P::Text(mode.as_str().into()));
        }
        if let Some(words) = self.search.as_deref().filter(|w| !w.is_empty()) {
            args.push(P::Text(crate::search_text::fold(words)));
            match (transcript_search::fts_query(words), matched) {
                (Some(_), Some(matched)) => {
                    let (condition, arg) = matched.condition();
                    sql.push_str(condition);
                    args.push(arg);
                }
                // (the plan of a search without its lines: the fields alone)
                _ => sql.push_str(SEARCH),
            }
        }
        sql.push_str(" ORDER BY created_at_ms DESC, id DESC LIMIT ?");
        args.push(P::Integer(self.limit.into()));
        (sql, args)
    }
}

/// The list's columns: no JSON beyond the user's, and whether there is a handover record
/// (its NULL test needs no read of the record itself).
const SUMMARY_COLUMNS: &str = "id, role, phase, gateway_id, state, channel_id, user_json, \
    greeted, queue_id, queue_name, agent_id, transfer_pending, \
    handover_json IS NOT NULL AS handed_over, created_at_ms, updated_at_ms, queued_at_ms, \
    agent_joined_at_ms, first_agent_reply_at_ms, ended_at_ms, last_user_at_ms, last_text";

/// The search: the folded text of `Conversation::search_text`, which the
/// `conversations_list` index holds (db.rs), so a search reads it from the index rather
/// than each row.
const SEARCH: &str = " AND instr(search_text, ?) > 0";

const COLUMNS: &str =
    "id, role, phase, gateway_id, state, channel_id, user_json, bot_session_json, \
    greeted, queue_id, queue_name, agent_id, transfer_pending, handover_json, created_at_ms, \
    updated_at_ms, queued_at_ms, agent_joined_at_ms, first_agent_reply_at_ms, ended_at_ms, \
    last_user_at_ms, last_text, handover_offer";

/// What [`ConversationStore::route_of`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub local: Option<String>,
    pub creates_in_flight: bool,
    /// When `local` is `None`: whether a conversation row has the 8x8 id as its own id
    /// all the same (an endpoint conversation's id is its 8x8 id, so normally not).
    pub row_under_id: bool,
}

pub use crate::conversation_store::ConversationStore;

/// The conversations on SQLite; [`ConversationStore`] is what the rest of the relay uses.
#[derive(Clone)]
pub struct SqliteConversations {
    db: Db,
    entry_ids: crate::write_unit::IdSeq,
}

impl SqliteConversations {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            entry_ids: crate::write_unit::IdSeq::new("messages"),
        }
    }

    pub async fn get(&self, id: &str) -> Result<Option<Conversation>, DbError> {
        let id = id.to_string();
        self.db
            .call(move |c| {
                c.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM conversations WHERE id = ?1"
                ))?
                .query_row([id], Conversation::from_row)
                .optional()
            })
            .await
    }

    pub async fn by_gateway_id(&self, gateway_id: &str) -> Result<Option<Conversation>, DbError> {
        let id = gateway_id.to_string();
        self.db
            .call(move |c| {
                c.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM conversations WHERE gateway_id = ?1"
                ))?
                .query_row([id], Conversation::from_row)
                .optional()
            })
            .await
    }

    /// Which local conversation an 8x8 conversation id belongs to — its own row, or the
    /// handover whose create 8x8 answered with it — and, when neither, whether a create
    /// is still on its way (its answer may name this id).
    pub async fn route_of(&self, gateway_id: &str) -> Result<Route, DbError> {
        let mut routes = self.routes_of(vec![gateway_id.to_string()]).await?;
        Ok(routes.remove(gateway_id).unwrap_or(Route {
            local: None,
            creates_in_flight: false,
            row_under_id: false,
        }))
    }

    /// [`ConversationStore::route_of`] for many ids in one visit to the database: the
    /// engine asks it for each batch of new events, one batch at a time.
    pub async fn routes_of(
        &self,
        gateway_ids: Vec<String>,
    ) -> Result<std::collections::HashMap<String, Route>, DbError> {
        self.db
            .call(move |c| {
                let mut creates_in_flight = None;
                let mut routes = std::collections::HashMap::with_capacity(gateway_ids.len());
                for id in gateway_ids {
                    let own: Option<String> = c
                        .prepare_cached("SELECT id FROM conversations WHERE gateway_id = ?1")?
                        .query_row([&id], |r| r.get(0))
                        .optional()?;
                    let local = match own {
                        Some(local) => Some(local),
                        None => c
                            .prepare_cached(crate::outbox::KEY_OF_CREATED)?
                            .query_row([&id], |r| r.get(0))
                            .optional()?,
                    };
                    let in_flight = match (&local, creates_in_flight) {
                        (Some(_), _) => false,
                        (None, Some(known)) => known,
                        (None, None) => {
                            let known: bool = c
                                .prepare_cached(crate::outbox::CREATES_IN_FLIGHT)?
                                .query_row([], |r| r.get(0))?;
                            creates_in_flight = Some(known);
                            known
                        }
                    };
                    let row_under_id = local.is_none()
                        && c.prepare_cached(
                            "SELECT EXISTS(SELECT 1 FROM conversations WHERE id = ?1)",
                        )?
                        .query_row([&id], |r| r.get(0))?;
                    routes.insert(
                        id,
                        Route {
                            local,
                            creates_in_flight: in_flight,
                            row_under_id,
                        },
                    );
                }
                Ok(routes)
            })
            .await
    }

    /// Inserts or replaces the whole row: the engine owns a conversation while it works on it.
    pub async fn save(&self, conv: &Conversation) -> Result<(), DbError> {
        let c2 = conv.clone();
        // Inside an 8x8 event's unit this is collected and committed with the event; a
        // later save of the same conversation in the unit replaces it.
        let row = format!("conversations {}", conv.id);
        crate::write_unit::write_row(
            &self.db,
            Some(row),
            Box::new(move |c| {
                c.prepare_cached(
                    &format!(
                        "INSERT OR REPLACE INTO conversations ({COLUMNS}, search_text) VALUES \
                         (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)"
                    ),
                )?
                .execute(params![
                        c2.id,
                        c2.mode.as_str(),
                        c2.phase.as_str(),
                        c2.gateway_id,
                        c2.state,
                        c2.channel_id,
                        c2.user.to_string(),
                        c2.bot_session.to_string(),
                        c2.greeted,
                        c2.queue_id,
                        c2.queue_name,
                        c2.agent_id,
                        c2.transfer_pending,
                        c2.handover.as_ref().map(HandoverRecord::to_json),
                        c2.created_at_ms,
                        c2.updated_at_ms,
                        c2.queued_at_ms,
                        c2.agent_joined_at_ms,
                        c2.first_agent_reply_at_ms,
                        c2.ended_at_ms,
                        c2.last_user_at_ms,
                        c2.last_text,
                        c2.handover_offer,
                        c2.search_text(),
                    ])?;
                Ok(())
            }),
        )
        .await
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
        let entry = Entry {
            id: 0,
            conversation_id: conversation_id.to_string(),
            lane,
            direction,
            text: text.to_string(),
            payload,
            at_ms,
        };
        let id = self.entry_ids.next(&self.db).await?;
        let entry = Entry { id, ..entry };
        let e = entry.clone();
        crate::write_unit::write(
            &self.db,
            Box::new(move |c| {
                c.prepare_cached(
                    "INSERT INTO messages (id, conversation_id, direction, author_type, text, \
                     payload_json, delivery_id, outbox_id, created_at_ms) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )?
                .execute(params![
                    e.id,
                    e.conversation_id,
                    e.direction.as_str(),
                    e.lane.as_str(),
                    e.text,
                    e.payload.to_string(),
                    delivery_id,
                    outbox_id,
                    e.at_ms
                ])?;
                Ok(())
            }),
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
    ) -> Result<Vec<Entry>, DbError> {
        let id = conversation_id.to_string();
        let entries = self
            .db
            .call(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT id, conversation_id, author_type, direction, COALESCE(text, ''), payload_json, created_at_ms
                     FROM messages WHERE conversation_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
                )?;
                let rows = stmt.query_map(params![id, after, limit], |r| {
                    Ok(Entry {
                        id: r.get(0)?,
                        conversation_id: r.get(1)?,
                        lane: Lane::parse(&r.get::<_, String>(2)?),
                        direction: Direction::parse(&r.get::<_, String>(3)?),
                        text: r.get(4)?,
                        payload: serde_json::from_str(&r.get::<_, String>(5)?).unwrap_or(Value::Null),
                        at_ms: r.get(6)?,
                    })
                })?;
                rows.collect::<Result<Vec<_>, _>>()
            })
            .await?;
        Ok(crate::write_unit::with_uncommitted(
            entries,
            conversation_id,
            after,
            limit,
        ))
    }

    /// A message held back during the handover create has now been handed to the outbox.
    pub async fn mark_sent(&self, entry_id: i64, outbox_id: i64) -> Result<(), DbError> {
        crate::write_unit::write(
            &self.db,
            Box::new(move |c| {
                c.execute(
                    "UPDATE messages SET direction = 'out', outbox_id = ?2 WHERE id = ?1",
                    params![entry_id, outbox_id],
                )?;
                Ok(())
            }),
        )
        .await
    }

    /// Newest first; `before` pages on by creation time.
    pub async fn list(
        &self,
        limit: u32,
        before_ms: Option<i64>,
    ) -> Result<Vec<Conversation>, DbError> {
        let before = before_ms.unwrap_or(i64::MAX);
        self.db
            .call(move |c| {
                let mut stmt = c.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM conversations WHERE created_at_ms < ?1
                     ORDER BY created_at_ms DESC, id DESC LIMIT ?2"
                ))?;
                let rows = stmt.query_map(params![before, limit], Conversation::from_row)?;
                rows.collect()
            })
            .await
    }

    /// Conversations whose handover create was written but whose 8x8 id is not known
    /// yet: after a restart their waiters are started again. Read through the phase
    /// index, so the cost follows these few rows, not the whole history.
    pub async fn awaiting_create(&self) -> Result<Vec<Conversation>, DbError> {
        self.db
            .call(move |c| {
                let mut stmt = c.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM conversations
                     WHERE phase = 'handover' AND gateway_id IS NULL"
                ))?;
                let rows = stmt.query_map([], Conversation::from_row)?;
                rows.collect()
            })
            .await
    }

    /// One page of the list as the UI shows it: summaries, newest first, from a keyset
    /// cursor (the same cost at row 9,800 as at row 0), filtered and searched.
    /// With a search, each conversation a transcript line matched carries its newest
    /// matching line (`matched_line`).
    pub async fn page(&self, query: ListQuery) -> Result<Vec<Summary>, DbError> {
        self.page_with(query, transcript_search::COMMON_AFTER).await
    }

    /// [`ConversationStore::page`] with another bound for a common word (tests).
    pub async fn page_with(
        &self,
        query: ListQuery,
        common_after: usize,
    ) -> Result<Vec<Summary>, DbError> {
        let typed = query.search.clone().unwrap_or_default();
        let fts = transcript_search::fts_query(&typed);
        self.db
            .call(move |c| {
                let matches = match &fts {
                    Some(fts) => Some(transcript_search::Matches::find_with(
                        c,
                        fts,
                        &typed,
                        common_after,
                    )?),
                    None => None,
                };
                let (sql, args) = query.sql_with(matches.as_ref());
                let mut stmt = c.prepare_cached(&sql)?;
                let rows = stmt.query_map(rusqlite::params_from_iter(args), Summary::from_row)?;
                let mut page = rows.collect::<rusqlite::Result<Vec<_>>>()?;
                if let Some(matches) = matches {
                    for s in &mut page {
                        s.matched_line = matches.line(c, &s.id)?;
                    }
                }
                Ok(page)
            })
            .await
    }

    /// How SQLite runs a list query (`EXPLAIN QUERY PLAN`), one line per step: for the
    /// store benchmark and for diagnosing a slow list.
    pub async fn plan(&self, query: ListQuery) -> Result<Vec<String>, DbError> {
        let (sql, args) = query.sql();
        self.db
            .call(move |c| {
                let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                let rows =
                    stmt.query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))?;
                rows.collect()
            })
            .await
    }

    /// Handover-mode conversations still going (with the bot or handed over) whose user
    /// has been silent since `before_ms`. A chat left with the bot counts too: its user
    /// (a tester's simulated one, say) is gone, and it would stay "With bot" for good.
    pub async fn idle_handovers(&self, before_ms: i64) -> Result<Vec<Conversation>, DbError> {
        self.db
            .call(move |c| {
                let mut stmt = c.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM conversations WHERE role = 'handover'
                     AND phase IN ('bot', 'queued', 'agent', 'transferred')
                     AND COALESCE(last_user_at_ms, created_at_ms) < ?1"
                ))?;
                let rows = stmt.query_map([before_ms], Conversation::from_row)?;
                rows.collect()
            })
            .await
    }

    /// Conversations waiting in an 8x8 queue for an agent now (both modes), read through
    /// the phase index: the queue updates' timer asks every second.
    pub async fn queued(&self) -> Result<Vec<Conversation>, DbError> {
        self.db
            .call(move |c| {
                let mut stmt = c.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM conversations WHERE phase = 'queued'"
                ))?;
                let rows = stmt.query_map([], Conversation::from_row)?;
                rows.collect()
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store_with(convs: &[Conversation]) -> (tempfile::TempDir, SqliteConversations) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteConversations::new(Db::open(&dir.path().join("t.db")).unwrap());
        for c in convs {
            store.save(c).await.unwrap();
        }
        (dir, store)
    }

    fn conv(id: &str, mode: Mode, phase: Phase, at: i64, name: &str) -> Conversation {
        let mut c = Conversation::new(id.into(), mode, at);
        c.phase = phase;
        c.user = serde_json::json!({ "name": name, "email": format!("{id}@example.com") });
        c
    }

    async fn all_pages(store: &SqliteConversations, mut query: ListQuery) -> Vec<String> {
        let mut ids = Vec::new();
        loop {
            let page = store.page(query.clone()).await.unwrap();
            let Some(last) = page.last() else {
                return ids;
            };
            query.after = Some(Cursor {
                created_at_ms: last.created_at_ms,
                id: Some(last.id.clone()),
            });
            ids.extend(page.into_iter().map(|s| s.id));
        }
    }

    /// The engine starts a new customer's actor knowing there is no row (no read) only
    /// when the look-up says so: a row under the id itself counts, whatever its 8x8 id.
    #[tokio::test]
    async fn a_route_says_whether_a_row_has_the_id_itself() {
        let mut own = conv("gw-own", Mode::Endpoint, Phase::Bot, 1, "A");
        own.gateway_id = Some("gw-own".into());
        let mut moved = conv("gw-moved", Mode::Endpoint, Phase::Bot, 2, "B");
        moved.gateway_id = Some("gw-elsewhere".into());
        let (_dir, store) = store_with(&[own, moved]).await;
        let routes = store
            .routes_of(vec!["gw-own".into(), "gw-moved".into(), "gw-new".into()])
            .await
            .unwrap();
        assert_eq!(routes["gw-own"].local.as_deref(), Some("gw-own"));
        assert_eq!(routes["gw-moved"].local, None);
        assert!(routes["gw-moved"].row_under_id);
        assert_eq!(routes["gw-new"].local, None);
        assert!(!routes["gw-new"].row_under_id);
    }

    #[tokio::test]
    async fn finds_the_handovers_still_waiting_for_their_create_however_old() {
        let waiting = conv("old-waiting", Mode::Handover, Phase::Handover, 1, "W");
        let mut created = conv("created", Mode::Handover, Phase::Handover, 2, "C");
        created.gateway_id = Some("8x8-conv".into());
        let queued = conv("queued", Mode::Handover, Phase::Queued, 3, "Q");
        let mut convs = vec![waiting, created, queued];
        // Newer conversations in other phases: the old one is found all the same.
        convs.extend(
            (0..50).map(|i| conv(&format!("b{i}"), Mode::Endpoint, Phase::Bot, 10 + i, "B")),
        );
        let (_dir, store) = store_with(&convs).await;
        let found = store.awaiting_create().await.unwrap();
        assert_eq!(
            found.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            ["old-waiting"]
        );
    }

    #[tokio::test]
    async fn pages_by_keyset_without_skipping_conversations_of_the_same_millisecond() {
        // Five conversations in one millisecond straddle every page boundary of size 2.
        let convs: Vec<Conversation> = (0..9)
            .map(|i| {
                let at = if (2..7).contains(&i) { 500 } else { i * 100 };
                conv(&format!("c{i}"), Mode::Endpoint, Phase::Bot, at, "A")
            })
            .collect();
        let (_dir, store) = store_with(&convs).await;
        let ids = all_pages(&store, ListQuery::newest(2)).await;
        assert_eq!(
            ids,
            ["c8", "c7", "c6", "c5", "c4", "c3", "c2", "c1", "c0"],
            "newest first, ties by id, each once"
        );
        // The cursor without an id (created_at_ms alone) starts strictly before it.
        let mut q = ListQuery::newest(10);
        q.after = Some(Cursor {
            created_at_ms: 500,
            id: None,
        });
        let page = store.page(q).await.unwrap();
        assert_eq!(
            page.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            ["c1", "c0"]
        );
    }

    #[tokio::test]
    async fn filters_and_search_cover_every_conversation() {
        let mut handed = conv("h1", Mode::Handover, Phase::Ended, 100, "Åsa Lindqvist");
        handed.handover = Some(HandoverRecord::default());
        let mut queued = conv("e1", Mode::Endpoint, Phase::Queued, 200, "Ben Smith");
        queued.queue_name = Some("Billing".into());
        let mut talking = conv("e2", Mode::Endpoint, Phase::Bot, 300, "Carla Rossi");
        talking.last_text = Some("Where is my PARCEL?".into());
        let plain = conv("h2", Mode::Handover, Phase::Bot, 400, "Dan Lindqvist");
        let accented = conv("e3", Mode::Endpoint, Phase::Bot, 500, "ZOË MÜLLER");
        let (_dir, store) = store_with(&[handed, queued, talking, plain, accented]).await;
        let ids = |q: ListQuery| {
            let store = store.clone();
            async move {
                store
                    .page(q)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|s| s.id)
                    .collect::<Vec<_>>()
            }
        };
        let mut q = ListQuery::newest(50);
        q.phase = PhaseFilter::parse("queued");
        assert_eq!(ids(q).await, ["e1"]);
        let mut q = ListQuery::newest(50);
        q.phase = PhaseFilter::parse("handedOver");
        assert_eq!(
            ids(q).await,
            ["e1", "h1"],
            "queued now, or a handover record"
        );
        let mut q = ListQuery::newest(50);
        q.mode = Mode::from_name("handover");
        assert_eq!(ids(q).await, ["h2", "h1"]);
        // Any field, in any case, with or without accents; not across two fields.
        for (words, want) in [
            ("lindqvist", vec!["h2", "h1"]),
            ("parcel", vec!["e2"]),
            ("billing", vec!["e1"]),
            ("e2@EXAMPLE", vec!["e2"]),
            ("ÅSA LIND", vec!["h1"]),
            ("åsa", vec!["h1"]),
            ("asa lindqvist", vec!["h1"]),
            ("zoë müller", vec!["e3"]),
            ("Zoe Muller", vec!["e3"]),
            ("rossi e2", vec![]),
        ] {
            let mut q = ListQuery::newest(50);
            q.search = Some(words.into());
            assert_eq!(ids(q).await, want, "search {words:?}");
        }
        let mut q = ListQuery::newest(50);
        q.search = Some("lindqvist".into());
        q.mode = Mode::from_name("handover");
        q.phase = PhaseFilter::parse("ended");
        assert_eq!(ids(q).await, ["h1"]);
        let summary = store.page(ListQuery::newest(50)).await.unwrap();
        let h1 = summary.iter().find(|s| s.id == "h1").unwrap();
        assert!(h1.handed_over);
        assert!(!summary.iter().find(|s| s.id == "h2").unwrap().handed_over);
        assert_eq!(PhaseFilter::parse("lunch"), None);
        assert_eq!(Mode::from_name("both"), None);
    }

    #[tokio::test]
    async fn list_queries_read_their_indexes() {
        let (_dir, store) = store_with(&[]).await;
        let plan = |q: ListQuery| {
            let store = store.clone();
            async move { store.plan(q).await.unwrap().join("; ") }
        };
        let mut deep = ListQuery::newest(200);
        deep.after = Some(Cursor {
            created_at_ms: 5,
            id: Some("x".into()),
        });
        let mut search = ListQuery::newest(200);
        search.search = Some("words".into());
        let mut phase = ListQuery::newest(200);
        phase.phase = PhaseFilter::parse("queued");
        // The search text comes from the index: no function computes it per row.
        let (sql, args) = search.sql();
        let calls: Vec<String> = store
            .db
            .call(move |c| {
                let mut stmt = c.prepare(&format!("EXPLAIN {sql}"))?;
                // The p4 column names the function an opcode calls.
                let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
                    Ok(match r.get::<_, rusqlite::types::Value>(5)? {
                        rusqlite::types::Value::Text(t) => Some(t),
                        _ => None,
                    })
                })?;
                rows.collect::<Result<Vec<_>, _>>()
            })
            .await
            .unwrap()
            .into_iter()
            .flatten()
            .collect();
        assert!(
            calls.iter().any(|p| p.starts_with("instr")),
            "the search runs: {calls:?}"
        );
        assert!(
            !calls
                .iter()
                .any(|p| p.starts_with("lower") || p.contains("->>")),
            "the search text is computed per row: {calls:?}"
        );
        for (what, q, index) in [
            ("first page", ListQuery::newest(200), "conversations_list"),
            (
                "deep page",
                deep,
                "conversations_list ((created_at_ms,id)<(?,?))",
            ),
            ("search", search, "conversations_list"),
            ("phase", phase, "conversations_phase (phase=?)"),
        ] {
            let p = plan(q).await;
            assert!(p.contains(index), "{what}: {p}");
            assert!(!p.contains("TEMP B-TREE"), "{what} sorts rows: {p}");
        }
    }
}
