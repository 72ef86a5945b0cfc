//! The analytics' figures, one test body run on both backends: SQLite's
//! `analytics::analytics` and PostgreSQL's `pg::analytics::analytics` give the same
//! answers on a small fixture whose every number is counted by hand (the bodies of
//! src/analytics_tests.rs, made generic over the backend).

mod common;

use rusqlite::params;
use switchboard_store::{
    analytics::{analytics, Analytics, AnalyticsQuery, Count, DayCount, Percentiles},
    pg::{self, PgDb},
    Db, Mode,
};

/// 2026-01-05T00:00Z, the period's first day.
const D: i64 = 1_767_571_200_000;
const DAY_MS: i64 = 86_400_000;
const H: i64 = 3_600_000;
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

fn fixture() -> Vec<Conv> {
    vec![
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
    ]
}

/// A transcript line of the fixture: (lane, text, payload).
fn lines(v: &Conv) -> Vec<(&'static str, String, String)> {
    let mut lines = vec![("user", "hello".to_string(), "{}".to_string())];
    for rule in v.rules {
        lines.push(("bot", "an answer".into(), format!(r#"{{"rule":"{rule}"}}"#)));
        // The turn's second line names no rule: not a turn of its own.
        lines.push(("bot", "and more".into(), "{}".into()));
    }
    if let Some(note) = v.handover {
        lines.push(("system", note.into(), "null".into()));
    }
    lines.push((
        "system",
        "Handover to nobody: not a handover note.".into(),
        "null".into(),
    ));
    lines
}

/// What the tests ask of a backend.
trait Backend {
    async fn load(&self, convs: Vec<Conv>);
    async fn analytics(&self, q: AnalyticsQuery) -> Analytics;
}

struct Sqlite {
    db: Db,
    _dir: tempfile::TempDir,
}

impl Backend for Sqlite {
    async fn load(&self, convs: Vec<Conv>) {
        self.db
            .call(move |c| {
                for v in &convs {
                    c.execute(
                        "INSERT INTO conversations (id, role, phase, created_at_ms, updated_at_ms,
                            queued_at_ms, agent_joined_at_ms, first_agent_reply_at_ms, ended_at_ms)
                         VALUES (?1, ?2, 'bot', ?3, ?4, ?5, ?6, ?7, ?8)",
                        params![
                            v.id, v.role, v.created, v.updated, v.queued, v.joined, v.replied,
                            v.ended
                        ],
                    )?;
                    for (lane, text, payload) in lines(v) {
                        c.execute(
                            "INSERT INTO messages (conversation_id, direction, author_type, text,
                                payload_json, created_at_ms) VALUES (?1, 'out', ?2, ?3, ?4, ?5)",
                            params![v.id, lane, text, payload, v.created],
                        )?;
                    }
                }
                Ok(())
            })
            .await
            .unwrap();
    }
    async fn analytics(&self, q: AnalyticsQuery) -> Analytics {
        analytics(&self.db, q).await.unwrap()
    }
}

struct Postgres {
    db: PgDb,
}

impl Backend for Postgres {
    async fn load(&self, convs: Vec<Conv>) {
        let c = self.db.client().await.unwrap();
        for v in &convs {
            c.execute(
                "INSERT INTO conversations (id, role, phase, created_at_ms, updated_at_ms,
                    queued_at_ms, agent_joined_at_ms, first_agent_reply_at_ms, ended_at_ms)
                 VALUES ($1, $2, 'bot', $3, $4, $5, $6, $7, $8)",
                &[
                    &v.id, &v.role, &v.created, &v.updated, &v.queued, &v.joined, &v.replied,
                    &v.ended,
                ],
            )
            .await
            .unwrap();
            for (lane, text, payload) in lines(v) {
                c.execute(
                    "INSERT INTO messages (conversation_id, direction, author_type, text,
                        payload_json, created_at_ms) VALUES ($1, 'out', $2, $3, $4, $5)",
                    &[&v.id, &lane, &text, &payload, &v.created],
                )
                .await
                .unwrap();
            }
        }
    }
    async fn analytics(&self, q: AnalyticsQuery) -> Analytics {
        pg::analytics::analytics(&self.db, q).await.unwrap()
    }
}

fn query(mode: Option<Mode>, utc_offset_min: i32) -> AnalyticsQuery {
    AnalyticsQuery {
        from_ms: D,
        to_ms: D + 2 * DAY_MS,
        mode,
        utc_offset_min,
        now_ms: NOW,
    }
}

fn count(label: &str, count: u32) -> Count {
    Count {
        label: label.into(),
        count,
    }
}

async fn both_modes_count_what_was_contained_handed_over_and_abandoned(b: &impl Backend) {
    b.load(fixture()).await;
    let a = b.analytics(query(None, 0)).await;
    assert_eq!(a.conversations, 6);
    assert_eq!(a.contained, 2, "ended or idle, never queued");
    assert_eq!(a.handed_over, 3);
    assert_eq!(a.abandoned, 1);
    assert_eq!(
        a.handovers_by_reason,
        vec![
            count("asked for an agent", 2),
            count("the bot did not understand 2 messages in a row", 1)
        ]
    );
    let p = |count, p50, p90| Percentiles {
        count,
        p50_ms: Some(p50),
        p90_ms: Some(p90),
    };
    assert_eq!(a.time_to_agent, p(2, 20_000, 60_000));
    assert_eq!(a.time_to_first_reply, p(2, 90_000, 120_000));
    assert_eq!((a.bot_turns, a.fallback_turns), (6, 3));
    assert_eq!(
        a.top_rules,
        vec![
            count("fallback", 3),
            count("hours", 2),
            count("handover", 1)
        ]
    );
    let mut hours = vec![0; 24];
    hours[9] = 2;
    hours[10] = 2;
    hours[14] = 1;
    hours[15] = 1;
    assert_eq!(a.by_hour, hours);
    assert_eq!(
        a.by_day,
        vec![
            DayCount {
                day_ms: D,
                count: 3
            },
            DayCount {
                day_ms: D + DAY_MS,
                count: 3
            }
        ]
    );
}

async fn one_mode_counts_only_its_conversations(b: &impl Backend) {
    b.load(fixture()).await;
    let a = b.analytics(query(Some(Mode::Handover), 0)).await;
    assert_eq!(
        (a.conversations, a.contained, a.handed_over, a.abandoned),
        (1, 0, 1, 0)
    );
    assert_eq!(a.handovers_by_reason, vec![count("asked for an agent", 1)]);
    assert_eq!(a.top_rules, vec![count("handover", 1)]);
    assert_eq!(a.time_to_agent.p50_ms, Some(60_000));
    let a = b.analytics(query(Some(Mode::Endpoint), 0)).await;
    assert_eq!(a.conversations, 5);
    assert_eq!(
        a.time_to_agent,
        Percentiles {
            count: 1,
            p50_ms: Some(20_000),
            p90_ms: Some(20_000)
        }
    );
}

async fn hours_and_days_follow_the_callers_time_zone(b: &impl Backend) {
    b.load(fixture()).await;
    // UTC-10: 09:00Z is 23:00 the day before.
    let a = b.analytics(query(None, -600)).await;
    let mut hours = vec![0; 24];
    hours[23] = 2;
    hours[0] = 2;
    hours[4] = 1;
    hours[5] = 1;
    assert_eq!(a.by_hour, hours);
    let days: Vec<(i64, u32)> = a.by_day.iter().map(|d| (d.day_ms, d.count)).collect();
    assert_eq!(
        days,
        vec![(D - 14 * H, 2), (D + 10 * H, 1), (D + DAY_MS + 10 * H, 3)]
    );
}

async fn an_empty_period_has_no_percentiles_and_every_day_at_zero(b: &impl Backend) {
    b.load(fixture()).await;
    let q = AnalyticsQuery {
        from_ms: D + 3 * DAY_MS,
        to_ms: D + 5 * DAY_MS,
        ..query(None, 0)
    };
    let a = b.analytics(q).await;
    assert_eq!(a.conversations, 0);
    assert_eq!(a.time_to_agent, Percentiles::default());
    assert!(a.top_rules.is_empty() && a.handovers_by_reason.is_empty());
    assert_eq!(a.by_day.len(), 2);
    assert!(a.by_day.iter().all(|d| d.count == 0));
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let db = super::Db::open(&dir.path().join("t.db")).unwrap();
                    super::$name(&super::Sqlite { db, _dir: dir }).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(test_db) = super::common::test_database(stringify!($name)).await else {
                        return;
                    };
                    let db = super::PgDb::connect(&test_db.url).await.unwrap();
                    super::$name(&super::Postgres { db }).await;
                    test_db.drop_database().await;
                }
            )*
        }
    };
}

on_both_backends!(
    both_modes_count_what_was_contained_handed_over_and_abandoned,
    one_mode_counts_only_its_conversations,
    hours_and_days_follow_the_callers_time_zone,
    an_empty_period_has_no_percentiles_and_every_day_at_zero,
);

/// The transcript figures can be read through the partial indexes on PostgreSQL too: with
/// sequential scans off (the fixture is tiny), the planner uses them, so their
/// predicates match the queries'.
#[tokio::test]
async fn postgres_transcript_figures_read_through_the_partial_indexes() {
    let Some(test_db) = common::test_database("analytics_indexes").await else {
        return;
    };
    let db = PgDb::connect(&test_db.url).await.unwrap();
    Postgres { db: db.clone() }.load(fixture()).await;
    let c = db.client().await.unwrap();
    c.batch_execute("SET enable_seqscan = off; ANALYZE messages")
        .await
        .unwrap();
    let mut plan = String::new();
    for sql in [
        "SELECT m.rule, count(*) FROM conversations c JOIN messages m ON m.conversation_id = c.id
         WHERE c.created_at_ms >= 0 AND m.author_type = 'bot' AND m.rule IS NOT NULL
         GROUP BY m.rule",
        "SELECT count(*) FROM conversations c JOIN messages m ON m.conversation_id = c.id
         WHERE c.created_at_ms >= 0 AND m.author_type = 'system'
           AND substr(m.text, 1, 18) = 'Handover to queue '",
    ] {
        for r in c.query(&format!("EXPLAIN {sql}"), &[]).await.unwrap() {
            plan.push_str(r.get::<_, &str>(0));
            plan.push('\n');
        }
    }
    assert!(plan.contains("messages_rule"), "{plan}");
    assert!(plan.contains("messages_handover"), "{plan}");
    drop(c);
    drop(db);
    test_db.drop_database().await;
}
