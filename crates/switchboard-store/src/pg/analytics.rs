//! The analytics' figures on PostgreSQL: the same queries and answers as SQLite's
//! (`crate::analytics` documents what each figure counts), over the conversations
//! started in the period. The transcript figures read through the same partial indexes
//! (schema version 6): `messages_rule` over the generated column `rule` (the rule a bot
//! line's payload names) and `messages_handover` over the handover notes.

use tokio_postgres::{types::ToSql, Client};

use crate::analytics::{Analytics, AnalyticsQuery, Count, DayCount, Percentiles, TOP_RULES};

use super::{PgDb, PgError};

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// The conversations of the query, as a SQL condition over `c` with parameters
/// $1 (from), $2 (to), $3 (mode or NULL).
const IN_PERIOD: &str =
    "c.created_at_ms >= $1 AND c.created_at_ms < $2 AND ($3::TEXT IS NULL OR c.role = $3)";

/// The period's figures (see `crate::analytics` for what each counts).
pub async fn analytics(db: &PgDb, q: AnalyticsQuery) -> Result<Analytics, PgError> {
    let client = db.client().await?;
    compute(&client, &q).await
}

/// A count from PostgreSQL (`BIGINT`) as the figures' `u32`.
fn n(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

async fn compute(c: &Client, q: &AnalyticsQuery) -> Result<Analytics, PgError> {
    let mode = q.mode.map(|m| m.as_str());
    let offset_ms = i64::from(q.utc_offset_min) * 60_000;
    let idle_before = q.now_ms - crate::analytics::IDLE_MS;
    let period: [&(dyn ToSql + Sync); 3] = [&q.from_ms, &q.to_ms, &mode];
    let mut a = Analytics {
        from_ms: q.from_ms,
        to_ms: q.to_ms,
        ..Analytics::default()
    };
    let row = c
        .query_one(
            &format!(
                "SELECT count(*),
                    count(*) FILTER (WHERE c.queued_at_ms IS NULL
                        AND (c.ended_at_ms IS NOT NULL OR c.updated_at_ms <= $4)),
                    count(*) FILTER (WHERE c.queued_at_ms IS NOT NULL),
                    count(*) FILTER (WHERE c.queued_at_ms IS NOT NULL
                        AND c.ended_at_ms IS NOT NULL AND c.agent_joined_at_ms IS NULL)
                 FROM conversations c WHERE {IN_PERIOD}"
            ),
            &[&q.from_ms, &q.to_ms, &mode, &idle_before],
        )
        .await?;
    a.conversations = n(row.get(0));
    a.contained = n(row.get(1));
    a.handed_over = n(row.get(2));
    a.abandoned = n(row.get(3));
    a.time_to_agent = percentiles(c, &period, "c.agent_joined_at_ms").await?;
    a.time_to_first_reply = percentiles(c, &period, "c.first_agent_reply_at_ms").await?;
    // The reason is what follows the queue's name up to the closing full stop.
    a.handovers_by_reason = counts(
        c,
        &period,
        &format!(
            "SELECT rtrim(substr(m.text, strpos(m.text, ': ') + 2), '.') AS label,
                    count(*) AS n
             FROM conversations c JOIN messages m ON m.conversation_id = c.id
             WHERE {IN_PERIOD} AND m.author_type = 'system'
               AND substr(m.text, 1, 18) = 'Handover to queue '
             GROUP BY label ORDER BY n DESC, label"
        ),
    )
    .await?;
    let rules = counts(
        c,
        &period,
        &format!(
            "SELECT m.rule AS label, count(*) AS n
             FROM conversations c JOIN messages m ON m.conversation_id = c.id
             WHERE {IN_PERIOD} AND m.author_type = 'bot' AND m.rule IS NOT NULL
             GROUP BY label ORDER BY n DESC, label"
        ),
    )
    .await?;
    a.bot_turns = rules.iter().map(|r| r.count).sum();
    a.fallback_turns = rules
        .iter()
        .find(|r| r.label == "fallback")
        .map_or(0, |r| r.count);
    a.top_rules = rules.into_iter().take(TOP_RULES).collect();

    let with_offset: [&(dyn ToSql + Sync); 4] = [&q.from_ms, &q.to_ms, &mode, &offset_ms];
    a.by_hour = vec![0; 24];
    let hours = c
        .query(
            &format!(
                "SELECT ((c.created_at_ms + $4) % {DAY_MS} + {DAY_MS}) % {DAY_MS} / {HOUR_MS}
                        AS h, count(*)
                 FROM conversations c WHERE {IN_PERIOD} GROUP BY h"
            ),
            &with_offset,
        )
        .await?;
    for r in hours {
        let h: i64 = r.get(0);
        a.by_hour[h as usize] = n(r.get(1));
    }
    // Days as local midnights (in UTC milliseconds); every day of the period is listed.
    let day_of = |ms: i64| (ms + offset_ms).div_euclid(DAY_MS) * DAY_MS - offset_ms;
    let found: std::collections::HashMap<i64, u32> = c
        .query(
            &format!(
                "SELECT (c.created_at_ms + $4)
                        - ((c.created_at_ms + $4) % {DAY_MS} + {DAY_MS}) % {DAY_MS} - $4 AS d,
                        count(*)
                 FROM conversations c WHERE {IN_PERIOD} GROUP BY d"
            ),
            &with_offset,
        )
        .await?
        .iter()
        .map(|r| (r.get(0), n(r.get(1))))
        .collect();
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

/// Nearest-rank p50 and p90 of `column - queued_at_ms` over the conversations that have
/// both (sorted by SQL; at most one per conversation), as on SQLite.
async fn percentiles(
    c: &Client,
    period: &[&(dyn ToSql + Sync)],
    column: &str,
) -> Result<Percentiles, PgError> {
    let values: Vec<i64> = c
        .query(
            &format!(
                "SELECT {column} - c.queued_at_ms AS d FROM conversations c
                 WHERE {IN_PERIOD} AND c.queued_at_ms IS NOT NULL AND {column} IS NOT NULL
                 ORDER BY d"
            ),
            period,
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
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

async fn counts(
    c: &Client,
    period: &[&(dyn ToSql + Sync)],
    sql: &str,
) -> Result<Vec<Count>, PgError> {
    Ok(c.query(sql, period)
        .await?
        .iter()
        .map(|r| Count {
            label: r.get(0),
            count: n(r.get(1)),
        })
        .collect())
}
