//! The engine's memory in SQLite: one row per conversation (where it is, who has it, the
//! bot's state, what the agent was sent) and the transcript in lanes. Everything the live
//! UI shows is read from here, so a restart loses nothing.

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;
use serde_json::Value;

use crate::db::{Db, DbError};

/// How the conversation reached the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Mode {
    /// 8x8 routed a customer to the bot (the relay is the 8x8 Endpoint).
    Endpoint,
    /// A user talks to the bot here; an agent joins through 8x8 on handover.
    Handover,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::Endpoint => "endpoint",
            Mode::Handover => "handover",
        }
    }
    fn parse(s: &str) -> Self {
        if s == "handover" {
            Mode::Handover
        } else {
            Mode::Endpoint
        }
    }
}

/// Where the conversation is, as agents and testers see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Phase {
    Bot,
    /// The bot asked for an agent; 8x8 has not queued it yet.
    Handover,
    Queued,
    Agent,
    Transferred,
    Ended,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Bot => "bot",
            Phase::Handover => "handover",
            Phase::Queued => "queued",
            Phase::Agent => "agent",
            Phase::Transferred => "transferred",
            Phase::Ended => "ended",
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            "handover" => Phase::Handover,
            "queued" => Phase::Queued,
            "agent" => Phase::Agent,
            "transferred" => Phase::Transferred,
            "ended" => Phase::Ended,
            _ => Phase::Bot,
        }
    }
    /// An agent side exists (or is being set up) in 8x8.
    pub fn with_8x8_agent_side(self) -> bool {
        matches!(
            self,
            Phase::Handover | Phase::Queued | Phase::Agent | Phase::Transferred
        )
    }
}

#[derive(Debug, Clone, Serialize)]
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
    pub user: Value,
    #[serde(skip)]
    pub bot_session: Value,
    pub greeted: bool,
    pub queue_id: Option<String>,
    pub queue_name: Option<String>,
    pub agent_id: Option<String>,
    pub transfer_pending: bool,
    /// Exactly what was sent to 8x8 to create the handover (the agent's view).
    pub handover: Option<Value>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub queued_at_ms: Option<i64>,
    pub agent_joined_at_ms: Option<i64>,
    pub first_agent_reply_at_ms: Option<i64>,
    pub ended_at_ms: Option<i64>,
    pub last_user_at_ms: Option<i64>,
    pub last_text: Option<String>,
}

impl Conversation {
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
            handover: r.get::<_, Option<String>>("handover_json")?.map(json),
            created_at_ms: r.get("created_at_ms")?,
            updated_at_ms: r.get("updated_at_ms")?,
            queued_at_ms: r.get("queued_at_ms")?,
            agent_joined_at_ms: r.get("agent_joined_at_ms")?,
            first_agent_reply_at_ms: r.get("first_agent_reply_at_ms")?,
            ended_at_ms: r.get("ended_at_ms")?,
            last_user_at_ms: r.get("last_user_at_ms")?,
            last_text: r.get("last_text")?,
        })
    }
}

/// One line of the transcript.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: i64,
    pub conversation_id: String,
    /// `user`, `bot`, `agent` or `system`.
    pub lane: String,
    /// `in` (from 8x8), `out` (to 8x8) or `local`.
    pub direction: String,
    pub text: String,
    /// Quick replies, cards, attachments.
    pub payload: Value,
    pub at_ms: i64,
}

const COLUMNS: &str =
    "id, role, phase, gateway_id, state, channel_id, user_json, bot_session_json, \
    greeted, queue_id, queue_name, agent_id, transfer_pending, handover_json, created_at_ms, \
    updated_at_ms, queued_at_ms, agent_joined_at_ms, first_agent_reply_at_ms, ended_at_ms, \
    last_user_at_ms, last_text";

#[derive(Clone)]
pub struct Store {
    db: Db,
    entry_ids: crate::write_unit::IdSeq,
}

impl Store {
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
                c.query_row(
                    &format!("SELECT {COLUMNS} FROM conversations WHERE id = ?1"),
                    [id],
                    Conversation::from_row,
                )
                .optional()
            })
            .await
    }

    pub async fn by_gateway_id(&self, gateway_id: &str) -> Result<Option<Conversation>, DbError> {
        let id = gateway_id.to_string();
        self.db
            .call(move |c| {
                c.query_row(
                    &format!("SELECT {COLUMNS} FROM conversations WHERE gateway_id = ?1"),
                    [id],
                    Conversation::from_row,
                )
                .optional()
            })
            .await
    }

    /// Inserts or replaces the whole row: the engine owns a conversation while it works on it.
    pub async fn save(&self, conv: &Conversation) -> Result<(), DbError> {
        let c2 = conv.clone();
        // Inside an 8x8 event's unit this is collected and committed with the event.
        crate::write_unit::write(
            &self.db,
            Box::new(move |c| {
                c.prepare_cached(
                    &format!(
                        "INSERT OR REPLACE INTO conversations ({COLUMNS}) VALUES \
                         (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)"
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
                        c2.handover.as_ref().map(Value::to_string),
                        c2.created_at_ms,
                        c2.updated_at_ms,
                        c2.queued_at_ms,
                        c2.agent_joined_at_ms,
                        c2.first_agent_reply_at_ms,
                        c2.ended_at_ms,
                        c2.last_user_at_ms,
                        c2.last_text,
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
        lane: &str,
        direction: &str,
        text: &str,
        payload: Value,
        delivery_id: Option<i64>,
        outbox_id: Option<i64>,
        at_ms: i64,
    ) -> Result<Entry, DbError> {
        let entry = Entry {
            id: 0,
            conversation_id: conversation_id.to_string(),
            lane: lane.to_string(),
            direction: direction.to_string(),
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
                    e.direction,
                    e.lane,
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
        let mut entries = self
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
                        lane: r.get(2)?,
                        direction: r.get(3)?,
                        text: r.get(4)?,
                        payload: serde_json::from_str(&r.get::<_, String>(5)?).unwrap_or(Value::Null),
                        at_ms: r.get(6)?,
                    })
                })?;
                rows.collect::<Result<Vec<_>, _>>()
            })
            .await?;
        // Lines the 8x8 event being handled has written but not yet committed.
        entries.extend(
            crate::write_unit::uncommitted_entries(conversation_id)
                .into_iter()
                .filter(|e| e.id > after),
        );
        entries.truncate(limit as usize);
        Ok(entries)
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

    /// Handed-over conversations whose user has been silent since `before_ms`.
    pub async fn idle_handovers(&self, before_ms: i64) -> Result<Vec<Conversation>, DbError> {
        self.db
            .call(move |c| {
                let mut stmt = c.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM conversations WHERE role = 'handover'
                     AND phase IN ('queued', 'agent', 'transferred')
                     AND COALESCE(last_user_at_ms, created_at_ms) < ?1"
                ))?;
                let rows = stmt.query_map([before_ms], Conversation::from_row)?;
                rows.collect()
            })
            .await
    }
}
