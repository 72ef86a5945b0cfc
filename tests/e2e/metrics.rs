//! `GET /metrics` as an operator's Prometheus scrapes it: behind the admin token, in the
//! OpenMetrics text format (checked by an independent parser), named by Prometheus'
//! conventions, and moving with what the relay did — good, duplicated and forged
//! deliveries, a handover, its 8x8 calls, conversations by phase.

use chat_gateway_sim::control_client::{FaultsPatch, SayBody};
use openmetrics_parser::{
    openmetrics::parse_openmetrics, MetricsExposition, OpenMetricsType, OpenMetricsValue,
};
use reqwest::header;
use switchboard_e2e::{client, eventually, Seen};

use crate::engine::{handed_over, lane, Env, GUARD};

type Exposition = MetricsExposition<OpenMetricsType, OpenMetricsValue>;

async fn scrape(env: &Env) -> (Exposition, String) {
    let res = client()
        .get(env.relay.admin("/metrics"))
        .header(header::AUTHORIZATION, env.relay.bearer())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let content_type = res.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("application/openmetrics-text; version=1.0.0"),
        "{content_type}"
    );
    let text = res.text().await.unwrap();
    let parsed = parse_openmetrics(&text)
        .unwrap_or_else(|e| panic!("not valid OpenMetrics ({e:?}):\n{text}"));
    (parsed, text)
}

/// The value of one series (a histogram's: its count), 0 when the series is absent.
fn value(m: &Exposition, family: &str, labels: &[(&str, &str)]) -> f64 {
    let Some(f) = m.families.get(family) else {
        panic!(
            "no family {family}; there are {:?}",
            m.families.keys().collect::<Vec<_>>()
        )
    };
    let values: Vec<String> = f
        .get_label_names()
        .iter()
        .map(|n| {
            labels
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.to_string())
                .unwrap_or_else(|| panic!("{family} has label {n}, not given"))
        })
        .collect();
    match f.get_sample_by_label_values(&values).map(|s| &s.value) {
        None => 0.0,
        Some(OpenMetricsValue::Counter(c)) => c.value.as_f64(),
        Some(OpenMetricsValue::Gauge(g)) => g.as_f64(),
        Some(OpenMetricsValue::Histogram(h)) => h.count.unwrap_or(0) as f64,
        Some(other) => panic!("{family}: unexpected {other:?}"),
    }
}

#[tokio::test]
async fn metrics_need_the_token_parse_as_openmetrics_and_follow_what_happened() {
    let env = Env::start().await;

    let anonymous = client()
        .get(env.relay.admin("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401, "the admin token is required");
    let wrong = client()
        .get(env.relay.admin("/metrics"))
        .header(header::AUTHORIZATION, "Bearer not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let (before, _) = scrape(&env).await;
    assert_eq!(value(&before, "switchboard_handovers", &[]), 0.0);

    // A handover: the relay creates the 8x8 conversation (outbox calls, timed) and 8x8's
    // signed deliveries come back.
    let (id, gid) = handed_over(&env).await;
    // From now on 8x8 delivers every event twice.
    env.sim
        .patch_faults(&FaultsPatch {
            duplicate_rate: Some(1.0),
            ..FaultsPatch::default()
        })
        .await
        .unwrap();
    env.sim.agent_accept(&gid, Some("agent-m")).await.unwrap();
    env.sim
        .agent_say(&gid, &SayBody::text("hello"))
        .await
        .unwrap();
    let seen = Seen::new("the agent's message");
    eventually(&seen, GUARD, async || {
        let v = env.transcript(&id).await;
        seen.check(
            lane(&v, "agent").contains(&"hello".to_string())
                && v["conversation"]["phase"] == "agent",
            v,
        )
    })
    .await;

    // A forged delivery: no signature at all.
    let forged = client()
        .post(env.relay.handle.endpoint_url().await)
        .header(header::CONTENT_TYPE, "application/json")
        .body(r#"{"eventType":"MESSAGE","conversationId":"x","data":{"text":"hi"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);

    let seen = Seen::new("the duplicates counted");
    let (after, text) = eventually(&seen, GUARD, async || {
        let (m, text) = scrape(&env).await;
        let dups = value(
            &m,
            "switchboard_webhook_deliveries",
            &[("outcome", "duplicate")],
        );
        seen.check(dups >= 1.0, text.clone()).map(|_| (m, text))
    })
    .await;

    let accepted = value(
        &after,
        "switchboard_webhook_deliveries",
        &[("outcome", "accepted")],
    );
    assert!(
        accepted >= 2.0,
        "the agent's join and message at least:\n{text}"
    );
    assert_eq!(
        value(
            &after,
            "switchboard_webhook_deliveries",
            &[("outcome", "unverified")]
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        value(
            &after,
            "switchboard_webhook_signature_failures",
            &[("reason", "missing_header")]
        ),
        1.0,
        "{text}"
    );
    assert_eq!(value(&after, "switchboard_handovers", &[]), 1.0, "{text}");
    assert!(
        value(
            &after,
            "switchboard_8x8_request_duration_seconds",
            &[("operation", "createConversation")]
        ) >= 1.0,
        "the create call was timed:\n{text}"
    );
    assert_eq!(
        value(&after, "switchboard_conversations", &[("phase", "agent")]),
        1.0,
        "{text}"
    );
    assert_eq!(
        value(&after, "switchboard_conversations", &[("phase", "bot")]),
        0.0,
        "{text}"
    );
    assert!(
        value(&after, "switchboard_database_size_bytes", &[]) > 0.0,
        "{text}"
    );
    assert!(
        value(&after, "switchboard_engine_lag_seconds", &[]) >= accepted,
        "every accepted delivery's lag was observed:\n{text}"
    );
    for level in [
        "switchboard_outbox_pending_entries",
        "switchboard_inbox_pending_deliveries",
        "switchboard_inbox_oldest_pending_age_seconds",
    ] {
        assert!(value(&after, level, &[]) >= 0.0, "{level}:\n{text}");
    }

    // Prometheus' naming conventions, for every family.
    for (name, family) in &after.families {
        assert!(name.starts_with("switchboard_"), "{name}: no prefix");
        assert!(!family.help.trim().is_empty(), "{name}: no HELP");
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "{name}: no HELP line"
        );
        assert!(
            text.contains(&format!("# TYPE {name} ")),
            "{name}: no TYPE line"
        );
        match family.family_type {
            OpenMetricsType::Counter => assert!(
                text.contains(&format!("\n{name}_total")),
                "{name}: a counter's samples end in _total"
            ),
            OpenMetricsType::Histogram => {
                assert!(name.ends_with("_seconds"), "{name}: durations in seconds")
            }
            _ => {}
        }
        if !family.unit.is_empty() {
            assert!(
                name.ends_with(&format!("_{}", family.unit)),
                "{name}: unit suffix"
            );
        }
    }
    env.relay.handle.shutdown().await;
}
