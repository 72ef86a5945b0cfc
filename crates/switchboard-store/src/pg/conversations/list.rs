//! The list's statement (filters, keyset cursor, search) and its rows, for
//! [`super::PgConversations::page`].

use serde_json::Value;
use tokio_postgres::Row;

use crate::conversations::{Cursor, ListQuery, Mode, Phase, PhaseFilter, Summary};
use crate::pg::{transcripts, write::Param};

/// The list's columns: everything but the bot's memory and the handover record, and
/// whether there is one.
const SUMMARY_COLUMNS: &str = "id, role, phase, gateway_id, state, channel_id, user_json, \
    greeted, queue_id, queue_name, agent_id, transfer_pending, \
    handover_json IS NOT NULL AS handed_over, created_at_ms, updated_at_ms, queued_at_ms, \
    agent_joined_at_ms, first_agent_reply_at_ms, ended_at_ms, last_user_at_ms, last_text";

/// The list statement and its parameters (as SQLite's `ListQuery::sql_with`).
pub(super) fn list_sql(
    query: &ListQuery,
    matches: Option<&transcripts::Matches>,
) -> (String, Vec<Param>) {
    let mut sql = format!("SELECT {SUMMARY_COLUMNS} FROM conversations WHERE true");
    let mut params: Vec<Param> = Vec::new();
    let arg = |p: Param, params: &mut Vec<Param>| {
        params.push(p);
        format!("${}", params.len())
    };
    match &query.after {
        Some(Cursor {
            created_at_ms,
            id: Some(id),
        }) => {
            let (a, b) = (
                arg(Box::new(*created_at_ms), &mut params),
                arg(Box::new(id.clone()), &mut params),
            );
            sql.push_str(&format!(" AND (created_at_ms, id) < ({a}, {b})"));
        }
        Some(Cursor {
            created_at_ms,
            id: None,
        }) => {
            let a = arg(Box::new(*created_at_ms), &mut params);
            sql.push_str(&format!(" AND created_at_ms < {a}"));
        }
        None => {}
    }
    match query.phase {
        Some(PhaseFilter::Is(phase)) => {
            let a = arg(Box::new(phase.as_str().to_string()), &mut params);
            sql.push_str(&format!(" AND phase = {a}"));
        }
        Some(PhaseFilter::HandedOver) => sql.push_str(
            " AND (handover_json IS NOT NULL OR phase IN ('queued', 'agent', 'transferred'))",
        ),
        None => {}
    }
    if let Some(mode) = query.mode {
        let a = arg(Box::new(mode.as_str().to_string()), &mut params);
        sql.push_str(&format!(" AND role = {a}"));
    }
    if let Some(typed) = query.search.as_deref().filter(|w| !w.is_empty()) {
        let like = arg(Box::new(transcripts::like_pattern(typed)), &mut params);
        match matches {
            Some(matches) => {
                let (condition, p) = matches.condition();
                let a = arg(p, &mut params);
                sql.push_str(&format!(
                    " AND (search_text LIKE {like} OR {})",
                    condition.replace("$?", &a)
                ));
            }
            None => sql.push_str(&format!(" AND search_text LIKE {like}")),
        }
    }
    let limit = arg(Box::new(i64::from(query.limit)), &mut params);
    sql.push_str(&format!(
        " ORDER BY created_at_ms DESC, id DESC LIMIT {limit}"
    ));
    (sql, params)
}

pub(super) fn summary(r: &Row) -> Summary {
    Summary {
        id: r.get("id"),
        mode: Mode::parse(r.get("role")),
        phase: Phase::parse(r.get("phase")),
        gateway_id: r.get("gateway_id"),
        state: r.get("state"),
        channel_id: r.get("channel_id"),
        user: serde_json::from_str(r.get("user_json")).unwrap_or(Value::Null),
        greeted: r.get("greeted"),
        queue_id: r.get("queue_id"),
        queue_name: r.get("queue_name"),
        agent_id: r.get("agent_id"),
        transfer_pending: r.get("transfer_pending"),
        handed_over: r.get("handed_over"),
        created_at_ms: r.get("created_at_ms"),
        updated_at_ms: r.get("updated_at_ms"),
        queued_at_ms: r.get("queued_at_ms"),
        agent_joined_at_ms: r.get("agent_joined_at_ms"),
        first_agent_reply_at_ms: r.get("first_agent_reply_at_ms"),
        ended_at_ms: r.get("ended_at_ms"),
        last_user_at_ms: r.get("last_user_at_ms"),
        last_text: r.get("last_text"),
        matched_line: None,
    }
}
