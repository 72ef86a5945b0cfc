//! Retention in a running relay, on a clock the test moves: the task's first pass removes
//! the deliveries and the ended conversation past their age (the newest delivery and the
//! live conversation stay), the Status API (`GET /api/status`) reports the pass and the database's size, a
//! change of the retention settings runs a pass at once, and the task ends with the relay.

use std::{
    sync::{
        atomic::{AtomicI64, Ordering},
        Arc,
    },
    time::Duration,
};

use crate::support::*;
use switchboard_relay::retention_task::{self, Timing};
use switchboard_store::{Conversation, ConversationStore, Mode, Phase};
use switchboard_types::{Direction, Lane};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// `GET /api/status`, as the admin UI asks for it.
async fn status(env: &Env) -> serde_json::Value {
    env.http
        .get(format!("http://{}/api/status", env.relay.admin_addr))
        .bearer_auth(env.relay.admin_token())
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_task_removes_what_is_past_its_age_and_the_status_shows_it() {
    let env = Env::start().await;
    let state = env.relay.state.clone();

    // A conversation that ended 100 days ago, written before any traffic (the engine
    // hands out transcript ids above the highest one stored).
    let store = ConversationStore::on(&state.db);
    let long_ago = now_ms() - 100 * DAY_MS;
    let mut old = Conversation::new("ended-long-ago".into(), Mode::Endpoint, long_ago);
    old.phase = Phase::Ended;
    old.ended_at_ms = Some(long_ago);
    store.save(&old).await.unwrap();
    for text in ["hello", "bye"] {
        store
            .add_entry(
                &old.id,
                Lane::User,
                Direction::In,
                text,
                serde_json::Value::Null,
                None,
                None,
                long_ago,
            )
            .await
            .unwrap();
    }

    // Three genuine deliveries, all processed by the engine.
    let mut ids = Vec::new();
    for text in ["one", "two", "three"] {
        let body = message_body("conv-live", text);
        let eid = event_id();
        let response = env.post(&body, &env.sign(&body, &eid, 0, now_ms())).await;
        assert_eq!(response.status(), 204);
        ids.push(env.inbox().store.by_event_id(&eid).await.unwrap()[0].id);
    }
    eventually(
        "the engine is done with the deliveries",
        Duration::from_secs(10),
        async || (env.inbox().queue.pending_count().await.unwrap() == 0).then_some(()),
    )
    .await;
    let before = status(&env).await;
    assert_eq!(
        before["database"]["retention"]["lastPass"],
        serde_json::Value::Null
    );
    assert_eq!(before["database"]["retention"]["deliveriesDays"], 14);
    assert!(
        before["database"]["size"]["totalBytes"].as_u64().unwrap() > 0,
        "{before}"
    );

    // The relay's clock says three weeks from now: past the deliveries' 14 days, not the
    // outbox's 30; the conversation ended 121 days ago.
    let passes = Arc::new(AtomicI64::new(0));
    let clock = {
        let passes = passes.clone();
        let base = now_ms() + 21 * DAY_MS;
        Arc::new(move || base + passes.fetch_add(1, Ordering::SeqCst))
    };
    let task = retention_task::spawn_with(
        &state,
        clock,
        Timing {
            first_after: Duration::ZERO,
            every: Duration::from_secs(3600),
        },
        state.stopping.clone(),
    );
    let first = eventually(
        "the first pass is reported",
        Duration::from_secs(10),
        async || {
            let s = status(&env).await;
            let pass = s["database"]["retention"]["lastPass"].clone();
            (!pass.is_null()).then_some(pass)
        },
    )
    .await;
    assert_eq!(first["deliveries"], 2, "{first}");
    assert_eq!(first["outbox"], 0, "{first}");
    assert_eq!(first["conversations"], 1, "{first}");
    assert_eq!(first["transcriptLines"], 2, "{first}");
    let left: Vec<i64> = env
        .inbox()
        .store
        .list(10, None)
        .await
        .unwrap()
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(left, [ids[2]], "the newest delivery is kept");
    assert!(store.get(&old.id).await.unwrap().is_none());
    assert!(store.transcript(&old.id, 0, 10).await.unwrap().is_empty());

    // A change of the retention settings runs a pass without waiting for the hour.
    let mut settings = (*state.settings()).clone();
    settings.retention.deliveries_days = 1;
    state.settings.send_replace(Arc::new(settings));
    eventually(
        "a second pass follows the settings change",
        Duration::from_secs(10),
        async || {
            let s = status(&env).await;
            (s["database"]["retention"]["lastPass"]["atMs"] != first["atMs"]).then_some(())
        },
    )
    .await;
    assert_eq!(
        status(&env).await["database"]["retention"]["deliveriesDays"],
        1
    );

    env.shutdown().await;
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the task ends with the relay")
        .unwrap();
}
