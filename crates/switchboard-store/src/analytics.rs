//! The figures a bot owner asks for every week, over the conversations **started** in a
//! period `[from, to)` (so a conversation counts once, in the period it began), computed
//! in SQL over indexed columns:
//!
//! - **contained**: the bot alone to the end — never queued for an agent
//!   (`queued_at_ms IS NULL`) and either ended, or idle (no change) for [`IDLE_MS`] before
//!   the query: a web chat is often left open rather than closed, and still was answered
//!   by the bot alone. A conversation still active with the bot counts in neither
//!   contained nor handed over.
//! - **handed over**: queued for an agent at least once (`queued_at_ms IS NOT NULL`);
//!   the rate counts conversations. Handovers **by reason** count the engine's system
//!   lines "Handover to queue Q: reason." (one per handover, so a conversation handed over
//!   twice counts twice there), read through the partial index `messages_handover`.
//! - **abandoned**: queued, ended, and no agent ever joined.
//! - **time to agent** (queued → agent joined) and **time to first agent reply**
//!   (queued → the agent's first line), nearest-rank p50 and p90 over the conversations
//!   that have both times.
//! - **fallback rate**: bot turns answered by the fallback over bot turns; the engine
//!   names what answered on the first bot line of each turn (`payload.rule`, copied to
//!   the column `rule`), read through the partial index `messages_rule`. **Top rules** count the same lines.
//! - **volume** by hour of day and by day, in the caller's time zone (a fixed offset
//!   from UTC: a daylight-saving change inside the period shifts an hour by one).

use rusqlite::{params, Connection};
use serde::Serialize;
use ts_rs::TS;

use crate::{
    database::Database,
    db::{Db, DbError},
};
use switchboard_types::Mode;

/// A conversation unchanged this long without being queued counts as contained.
pub const IDLE_MS: i64 = 30 * 60 * 1000;
/// How many rules the top list keeps.
pub const TOP_RULES: usize = 10;
const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// What the figures read transcript lines through (a migration in crate::db): the rule a
/// bot line names, copied by a trigger into a plain column of its own as the line is
/// written (and filled in for the lines already stored), with a partial index of the
/// lines that have one; and a partial index of the handover notes. A plain column rather
/// than an index on `json_extract(payload_json, '$.rule')`: SQLite reads the row for
/// an expression, and counting 350,000 bot turns that way took 0.5 s; from the index
/// alone it is a count over index entries.
pub const MIGRATION: &str = "\
ALTER TABLE messages ADD COLUMN rule TEXT;
UPDATE messages SET rule = json_extract(payload_json, '$.rule')
    WHERE author_type = 'bot' AND json_valid(payload_json);
CREATE TRIGGER messages_rule_insert AFTER INSERT ON messages
    WHEN NEW.author_type = 'bot' AND json_valid(NEW.payload_json)
        AND json_extract(NEW.payload_json, '$.rule') IS NOT NULL
BEGIN
    UPDATE messages SET rule = json_extract(NEW.payload_json, '$.rule') WHERE id = NEW.id;
END;
CREATE INDEX messages_rule ON messages(conversation_id, rule)
    WHERE author_type = 'bot' AND rule IS NOT NULL;
CREATE INDEX messages_handover ON messages(conversation_id, text)
    WHERE author_type = 'system' AND substr(text, 1, 18) = 'Handover to queue ';";

/// The period and the conversations asked about.
#[derive(Debug, Clone, Copy)]
pub struct AnalyticsQuery {
    pub from_ms: i64,
    pub to_ms: i64,
    /// None: both modes.
    pub mode: Option<Mode>,
    /// The caller's offset from UTC in minutes (east positive), for hours and days.
    pub utc_offset_min: i32,
    /// "Now", for the idle rule.
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Percentiles {
    /// How many conversations the figures are over.
    pub count: u32,
    pub p50_ms: Option<i64>,
    pub p90_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Count {
    pub label: String,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DayCount {
    /// The day's first instant (UTC milliseconds) in the caller's time zone.
    pub day_ms: i64,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Analytics {
    pub from_ms: i64,
    pub to_ms: i64,
    pub conversations: u32,
    pub contained: u32,
    pub handed_over: u32,
    pub abandoned: u32,
    pub handovers_by_reason: Vec<Count>,
    pub time_to_agent: Percentiles,
    pub time_to_first_reply: Percentiles,
    pub bot_turns: u32,
    pub fallback_turns: u32,
    pub top_rules: Vec<Count>,
    /// 24 counts, hour 0 first, in the caller's time zone.
    pub by_hour: Vec<u32>,
    /// Every day of the period, in order, including days without conversations.
    pub by_day: Vec<DayCount>,
}

/// The period's figures (see the module's notes for what each counts).
/// [`analytics`] on either backend.
pub async fn analytics_of(db: &Database, q: AnalyticsQuery) -> Result<Analytics, DbError> {
    match db {
        Database::Sqlite(db) => analytics(db, q).await,
        Database::Postgres(db) => Ok(crate::pg::analytics::analytics(db, q).await?),
    }
}

pub async fn analytics(db: &Db, q: AnalyticsQuery) -> Result<Analytics, DbError> {
    db.call(move |c| compute(c, &q)).await
}

/// The conversations of the query, as a SQL condition over `c` with parameters
/// ?1 (from), ?2 (to), ?3 (mode or NULL).
const IN_PERIOD: &str =
    "c.created_at_ms >= ?1 AND c.created_at_ms < ?2 AND (?3 IS NULL OR c.role = ?3)";

fn compute(c: &Connection, q: &AnalyticsQuery) -> rusqlite::Result<Analytics> {
    let mode = q.mode.map(|m| m.as_str());
    let offset_ms = i64::from(q.utc_offset_min) * 60_000;
    let idle_before = q.now_ms - IDLE_MS;
    let mut a = Analytics {
        from_ms: q.from_ms,
        to_ms: q.to_ms,
        ..Analytics::default()
    };
    c.prepare_cached(&format!(
        "SELECT count(*),
            coalesce(sum(c.queued_at_ms IS NULL
                AND (c.ended_at_ms IS NOT NULL OR c.updated_at_ms <= ?4)), 0),
            coalesce(sum(c.queued_at_ms IS NOT NULL), 0),
            coalesce(sum(c.queued_at_ms IS NOT NULL AND c.ended_at_ms IS NOT NULL
                AND c.agent_joined_at_ms IS NULL), 0)
         FROM conversations c WHERE {IN_PERIOD}"
    ))?
    .query_row(params![q.from_ms, q.to_ms, mode, idle_before], |r| {
        a.conversations = r.get(0)?;
        a.contained = r.get(1)?;
        a.handed_over = r.get(2)?;
        a.abandoned = r.get(3)?;
        Ok(())
    })?;
    a.time_to_agent = percentiles(c, q, mode, "c.agent_joined_at_ms")?;
    a.time_to_first_reply = percentiles(c, q, mode, "c.first_agent_reply_at_ms")?;
    // The reason is what follows the queue's name up to the closing full stop.
    a.handovers_by_reason = counts(
        c,
        q,
        mode,
        &format!(
            "SELECT rtrim(substr(m.text, instr(m.text, ': ') + 2), '.') AS label, count(*) AS n
             FROM conversations c JOIN messages m ON m.conversation_id = c.id
             WHERE {IN_PERIOD} AND m.author_type = 'system'
               AND substr(m.text, 1, 18) = 'Handover to queue '
             GROUP BY label ORDER BY n DESC, label"
        ),
    )?;
    let rules = counts(
        c,
        q,
        mode,
        &format!(
            "SELECT m.rule AS label, count(*) AS n
             FROM conversations c JOIN messages m ON m.conversation_id = c.id
             WHERE {IN_PERIOD} AND m.author_type = 'bot' AND m.rule IS NOT NULL
             GROUP BY label ORDER BY n DESC, label"
        ),
    )?;
    a.bot_turns = rules.iter().map(|r| r.count).sum();
    a.fallback_turns = rules
        .iter()
        .find(|r| r.label == "fallback")
        .map_or(0, |r| r.count);
    a.top_rules = rules.into_iter().take(TOP_RULES).collect();
    a.by_hour = vec![0; 24];
    let mut stmt = c.prepare_cached(&format!(
        "SELECT ((c.created_at_ms + ?4) % {DAY_MS} + {DAY_MS}) % {DAY_MS} / {HOUR_MS} AS h,
                count(*)
         FROM conversations c WHERE {IN_PERIOD} GROUP BY h"
    ))?;
    for row in stmt.query_map(params![q.from_ms, q.to_ms, mode, offset_ms], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, u32>(1)?))
    })? {
        let (h, n) = row?;
        a.by_hour[h as usize] = n;
    }
    // Days as local midnights (in UTC milliseconds); every day of the period is listed.
    let day_of = |ms: i64| (ms + offset_ms).div_euclid(DAY_MS) * DAY_MS - offset_ms;
    let mut stmt = c.prepare_cached(&format!(
        "SELECT (c.created_at_ms + ?4) - ((c.created_at_ms + ?4) % {DAY_MS} + {DAY_MS}) % {DAY_MS}
                - ?4 AS d, count(*)
         FROM conversations c WHERE {IN_PERIOD} GROUP BY d"
    ))?;
    let found: std::collections::HashMap<i64, u32> = stmt
        .query_map(params![q.from_ms, q.to_ms, mode, offset_ms], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    if q.to_ms > q.from_ms {
        let mut day = day_of(q.from_ms);
        while day < q.to_ms {
            a.by_day.push(DayCount {
                day_ms: day,
                count: found.get(&day).copied().unwrap_or(0),
            });
            day += DAY_MS;
        }
    }
    Ok(a)
}

/// Nearest-rank p50 and p90 of `column - queued_at_ms` over the conversations that
/// have both (the values come sorted from SQL; at most one per conversation).
fn percentiles(
    c: &Connection,
    q: &AnalyticsQuery,
    mode: Option<&str>,
    column: &str,
) -> rusqlite::Result<Percentiles> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {column} - c.queued_at_ms AS d FROM conversations c
         WHERE {IN_PERIOD} AND c.queued_at_ms IS NOT NULL AND {column} IS NOT NULL
         ORDER BY d"
    ))?;
    let values: Vec<i64> = stmt
        .query_map(params![q.from_ms, q.to_ms, mode], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let rank = |p: usize| -> Option<i64> {
        if values.is_empty() {
            return None;
        }
        let k = (p * values.len()).div_ceil(100).max(1);
        Some(values[k - 1])
    };
    Ok(Percentiles {
        count: values.len() as u32,
        p50_ms: rank(50),
        p90_ms: rank(90),
    })
}

fn counts(
    c: &Connection,
    q: &AnalyticsQuery,
    mode: Option<&str>,
    sql: &str,
) -> rusqlite::Result<Vec<Count>> {
    let mut stmt = c.prepare_cached(sql)?;
    let rows = stmt.query_map(params![q.from_ms, q.to_ms, mode], |r| {
        Ok(Count {
            label: r.get(0)?,
            count: r.get(1)?,
        })
    })?;
    rows.collect()
}

#[cfg(test)]
#[path = "analytics_tests.rs"]
mod tests;
