//! SQLite's own check that the transcript figures read through the partial indexes. The
//! figures themselves are tested on both backends in `tests/analytics.rs`.

use super::*;

/// 2026-01-05T00:00Z, the period's first day.
const D: i64 = 1_767_571_200_000;
const H: i64 = HOUR_MS;
const NOW: i64 = D + 2 * DAY_MS + 10 * 60_000;

struct Conv {
    id: &'static str,
    role: &'static str,
    created: i64,
    updated: i64,
    queued: Option<i64>,
    joined: Option<i64>,
    replied: Option<i64>,
    ended: Option<i64>,
    rules: &'static [&'static str],
    handover: Option<&'static str>,
}

fn conv(id: &'static str, role: &'static str, created: i64) -> Conv {
    Conv {
        id,
        role,
        created,
        updated: created + 60_000,
        queued: None,
        joined: None,
        replied: None,
        ended: None,
        rules: &[],
        handover: None,
    }
}

async fn fixture() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("t.db")).unwrap();
    let convs = vec![
        // Contained: ended without a queue.
        Conv {
            ended: Some(D + 9 * H + 60_000),
            rules: &["hours", "fallback"],
            ..conv("a", "endpoint", D + 9 * H)
        },
        // Contained: left open, idle for long.
        Conv {
            rules: &["hours"],
            ..conv("b", "endpoint", D + 9 * H + 30 * 60_000)
        },
        // Handed over: an agent after 60 s, a first reply after 90 s.
        Conv {
            queued: Some(D + 10 * H + 1_000),
            joined: Some(D + 10 * H + 61_000),
            replied: Some(D + 10 * H + 91_000),
            ended: Some(D + 11 * H),
            rules: &["handover"],
            handover: Some("Handover to queue q-support: asked for an agent."),
            ..conv("c", "handover", D + 10 * H)
        },
        // Handed over after fallbacks: an agent after 20 s, a first reply after 120 s.
        Conv {
            queued: Some(D + DAY_MS + 10 * H),
            joined: Some(D + DAY_MS + 10 * H + 20_000),
            replied: Some(D + DAY_MS + 10 * H + 120_000),
            ended: Some(D + DAY_MS + 11 * H),
            rules: &["fallback", "fallback"],
            handover: Some("Handover to queue q: the bot did not understand 2 messages in a row."),
            ..conv("d", "endpoint", D + DAY_MS + 10 * H)
        },
        // Abandoned: queued, ended, no agent.
        Conv {
            queued: Some(D + DAY_MS + 14 * H + 5_000),
            ended: Some(D + DAY_MS + 14 * H + 600_000),
            handover: Some("Handover to queue q: asked for an agent."),
            ..conv("e", "endpoint", D + DAY_MS + 14 * H)
        },
        // Still with the bot, active a minute ago: neither contained nor handed over.
        Conv {
            updated: NOW - 60_000,
            ..conv("f", "endpoint", D + DAY_MS + 15 * H)
        },
        // Outside the period, before and at its end.
        Conv {
            queued: Some(D - H + 1_000),
            joined: Some(D - H + 2_000),
            rules: &["fallback"],
            handover: Some("Handover to queue q: asked for an agent."),
            ..conv("before", "endpoint", D - H)
        },
        Conv {
            rules: &["hours"],
            ended: Some(D + 2 * DAY_MS + 1),
            ..conv("at-end", "endpoint", D + 2 * DAY_MS)
        },
    ];
    db.call(move |c| {
        for v in &convs {
            c.execute(
                "INSERT INTO conversations (id, role, phase, created_at_ms, updated_at_ms,
                    queued_at_ms, agent_joined_at_ms, first_agent_reply_at_ms, ended_at_ms)
                 VALUES (?1, ?2, 'bot', ?3, ?4, ?5, ?6, ?7, ?8)",
                params![v.id, v.role, v.created, v.updated, v.queued, v.joined, v.replied, v.ended],
            )?;
            let line = |lane: &str, text: &str, payload: &str| {
                c.execute(
                    "INSERT INTO messages (conversation_id, direction, author_type, text,
                        payload_json, created_at_ms) VALUES (?1, 'out', ?2, ?3, ?4, ?5)",
                    params![v.id, lane, text, payload, v.created],
                )
            };
            line("user", "hello", "{}")?;
            for rule in v.rules {
                line("bot", "an answer", &format!(r#"{{"rule":"{rule}"}}"#))?;
                // The turn's second line names no rule: not a turn of its own.
                line("bot", "and more", "{}")?;
            }
            if let Some(note) = v.handover {
                line("system", note, "null")?;
            }
            line("system", "Handover to nobody: not a handover note.", "null")?;
        }
        Ok(())
    })
    .await
    .unwrap();
    (dir, db)
}

#[tokio::test]
async fn transcript_figures_read_through_the_partial_indexes() {
    let (_dir, db) = fixture().await;
    let plan = db
        .call(|c| {
            let mut all = String::new();
            for sql in [
                "SELECT count(*) FROM conversations c JOIN messages m ON m.conversation_id = c.id
                 WHERE c.created_at_ms >= 0 AND m.author_type = 'bot' AND m.rule IS NOT NULL",
                "SELECT count(*) FROM conversations c JOIN messages m ON m.conversation_id = c.id
                 WHERE c.created_at_ms >= 0 AND m.author_type = 'system'
                   AND substr(m.text, 1, 18) = 'Handover to queue '",
            ] {
                let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(3))?;
                for r in rows {
                    all.push_str(&r?);
                    all.push('\n');
                }
            }
            Ok(all)
        })
        .await
        .unwrap();
    assert!(plan.contains("COVERING INDEX messages_rule"), "{plan}");
    assert!(plan.contains("messages_handover"), "{plan}");
}
