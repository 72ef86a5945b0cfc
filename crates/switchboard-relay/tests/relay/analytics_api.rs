//! `GET /api/analytics` in a running relay: the figures of the conversations started in
//! the period, one mode or both, and bad parameters refused naming the parameter.

use crate::support::*;
use switchboard_store::{Conversation, ConversationStore, Mode, Phase};

async fn get(env: &Env, query: &str) -> (u16, serde_json::Value) {
    let r = env
        .http
        .get(format!(
            "http://{}/api/analytics?{query}",
            env.relay.admin_addr
        ))
        .bearer_auth(env.relay.admin_token())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn the_period_s_figures_and_bad_parameters_named() {
    let env = Env::start().await;
    let store = ConversationStore::on(&env.relay.state.db);
    let start = now_ms() - 3_600_000;
    // One the bot ended alone, one queued that an agent joined after 42 s.
    let mut alone = Conversation::new("alone".into(), Mode::Endpoint, start);
    alone.phase = Phase::Ended;
    alone.ended_at_ms = Some(start + 1_000);
    store.save(&alone).await.unwrap();
    let mut queued = Conversation::new("queued".into(), Mode::Handover, start + 10);
    queued.phase = Phase::Agent;
    queued.queued_at_ms = Some(start + 1_000);
    queued.agent_joined_at_ms = Some(start + 43_000);
    store.save(&queued).await.unwrap();

    let period = format!("from={}&to={}", start - 1, now_ms() + 1);
    let (status, a) = get(&env, &format!("{period}&mode=both&tz=60")).await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["conversations"], 2);
    assert_eq!(a["contained"], 1);
    assert_eq!(a["handedOver"], 1);
    assert_eq!(a["timeToAgent"]["p50Ms"], 42_000);
    assert_eq!(a["byHour"].as_array().unwrap().len(), 24);
    let (_, a) = get(&env, &format!("{period}&mode=endpoint")).await;
    assert_eq!(
        (a["conversations"].clone(), a["handedOver"].clone()),
        (1.into(), 0.into())
    );
    // No period: the last 30 days.
    let (status, a) = get(&env, "").await;
    assert_eq!((status, a["conversations"].clone()), (200, 2.into()));
    // Thirty days from now back: 31 calendar days unless now is midnight.
    let days = a["byDay"].as_array().unwrap().len();
    assert!((30..=31).contains(&days), "{a}");
    // Both fall on the day that holds `start` (an hour ago: yesterday, just after midnight).
    let day_of_start = a["byDay"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|d| d["dayMs"].as_i64().unwrap() <= start)
        .unwrap();
    assert_eq!(day_of_start["count"], 2, "{a}");

    for (query, names) in [
        ("mode=sometimes", "\"mode\""),
        ("from=yesterday", "\"from\""),
        ("to=1.5", "\"to\""),
        (
            "from=2000&to=1000",
            "\"from\" (2000) must be before \"to\" (1000)",
        ),
        ("from=0&to=100000000000", "longer than 400 days"),
        ("tz=9999", "\"tz\""),
    ] {
        let (status, body) = get(&env, query).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["code"], "bad_query", "{query}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(names), "{query}: {message}");
    }
}
