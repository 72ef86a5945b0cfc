//! The contact-center routes beside the Chat Gateway: queue statistics computed from the
//! emulator's own conversations, agents' states that routing follows, schedules, their
//! faults and their auth.

use std::time::{Duration, Instant};

use chat_gateway_sim::control_client::{AgentScript, AgentState, FaultsPatch, ScheduleState};
use serde_json::Value;

use crate::support::*;

/// A GET on the contact-center API (no OpenAPI contract covers it): status and JSON.
async fn cc_get(env: &Env, path: &str, key: Option<&str>, tenant: Option<&str>) -> (u16, Value) {
    let mut req = env.http.get(format!("{}{path}", env.sim.base_url()));
    if let Some(k) = key {
        req = req.header("x-api-key", k);
    }
    if let Some(t) = tenant {
        req = req.header("X-8x8-Tenant", t);
    }
    let r = req.send().await.expect("the emulator answers");
    let status = r.status().as_u16();
    let body = r.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

async fn queue(env: &Env, id: &str) -> Value {
    let (status, body) = cc_get(
        env,
        &format!("/cc/v1/stats/rt/queue/{id}"),
        Some(KEY),
        Some(TENANT),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["queue"].clone()
}

async fn schedule_status(env: &Env, id: &str) -> Value {
    let (status, body) = cc_get(
        env,
        &format!("/cc/v1/schedules/{id}/status"),
        Some(KEY),
        Some(TENANT),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["schedule-status"]["status"].clone()
}

async fn queue_where(env: &Env, id: &str, what: &str, f: impl Fn(&Value) -> bool) -> Value {
    eventually(what.to_string(), Duration::from_secs(5), async || {
        let q = queue(env, id).await;
        f(&q).then_some(q)
    })
    .await
}

#[tokio::test]
async fn queue_figures_follow_waiting_accepted_and_abandoned_chats() {
    let env = Env::start().await;
    env.manual_agents().await;
    let (_, channel) = env.webhook_and_channel().await;

    let q = queue(&env, "101").await;
    assert_eq!(q["queue-id"], 101, "a numeric id is a number: {q}");
    assert_eq!(q["queue-name"], "Sandbox support");
    assert_eq!(q["media-type"], "chat");
    assert_eq!(q["queue-size"], 0);
    assert_eq!(q["longest-wait-time"], 0);
    assert_eq!(q["thirty-min-avg-wait-time"], 0);
    // The sandbox's queue 101: Alex available, Jo on break, Kim logged out.
    assert_eq!(q["agent-count-waitTransact"], 1);
    assert_eq!(q["agent-count-onBreak"], 1);
    assert_eq!(q["agent-count-loggedOut"], 1);
    assert_eq!(q["agent-count-busy"], 0);
    assert_eq!(q["assigned-agent-count"], 3);
    assert_eq!(q["enabled-agent-count"], 2);

    let first = env.create_conversation(&channel).await;
    let second = env.create_conversation(&channel).await;
    queue_where(&env, "101", "two chats waiting", |q| q["queue-size"] == 2).await;
    // The oldest has waited a whole second or more.
    let q = queue_where(&env, "101", "the longest wait reaches 1 s", |q| {
        q["longest-wait-time"].as_u64().unwrap_or(0) >= 1
    })
    .await;
    assert_eq!(q["day-queued"], 2);
    assert_eq!(q["thirty-min-avg-wait-time"], 0, "nothing accepted yet");

    env.ctl.agent_accept(&first, Some("ann")).await.unwrap();
    let q = queue(&env, "101").await;
    assert_eq!(q["queue-size"], 1);
    assert_eq!(q["day-accepted"], 1);
    assert_eq!(q["thirty-min-accepted"], 1);
    assert!(
        q["thirty-min-avg-wait-time"].as_u64().unwrap() >= 1,
        "the accepted chat waited over a second: {q}"
    );
    assert_eq!(q["number-in-progress"], 1);

    env.ctl.customer_leave(&second).await.unwrap();
    let q = queue(&env, "101").await;
    assert_eq!(q["queue-size"], 0);
    assert_eq!(q["longest-wait-time"], 0);
    assert_eq!(q["day-abandoned"], 1);
    assert_eq!(q["thirty-min-abandoned"], 1);

    // The list carries the same figures for each queue.
    let (status, list) = cc_get(&env, "/cc/v1/stats/rt/queues", Some(KEY), Some(TENANT)).await;
    assert_eq!(status, 200);
    let items = list["queue"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["day-accepted"], 1);
    assert_eq!(items[1]["queue-id"], 102);
    env.sim.shutdown().await;
}

#[tokio::test]
async fn a_scripted_agent_on_break_takes_no_offer_until_available() {
    let env = Env::start().await;
    // The sandbox's own agent of queue 101, made fast.
    let alex = AgentScript {
        agent_id: "sandbox-agent-alex".into(),
        accept_after_ms: 30,
        typing_ms: 20,
        ..AgentScript::default()
    };
    env.ctl.set_queue_agent("101", Some(&alex)).await.unwrap();
    let (_, channel) = env.webhook_and_channel().await;
    let on_break = env
        .ctl
        .set_agent_state("101", "sandbox-agent-alex", AgentState::OnBreak)
        .await
        .unwrap();
    assert_eq!(on_break.counted_as, "onBreak");
    assert!(on_break.scripted);

    let conv = env.create_conversation(&channel).await;
    env.rx.wait_event(&conv, "QUEUED", |_| true).await;
    // Its accept timer (30 ms) has long passed: the chat still waits.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        !env.rx.labels(&conv).iter().any(|l| l.contains("joined")),
        "{:?}",
        env.rx.labels(&conv)
    );
    let q = queue(&env, "101").await;
    assert_eq!(q["queue-size"], 1);
    assert_eq!(q["agent-count-waitTransact"], 0, "{q}");
    assert_eq!(
        q["agent-count-onBreak"], 2,
        "Jo and the scripted agent: {q}"
    );

    let back = env
        .ctl
        .set_agent_state("101", "sandbox-agent-alex", AgentState::Available)
        .await
        .unwrap();
    assert_eq!(back.state, AgentState::Available);
    env.rx
        .wait_event(&conv, "MEMBERS_CHANGED", |j| {
            j["data"]["id"] == "sandbox-agent-alex"
        })
        .await;
    let q = queue_where(&env, "101", "the agent counts as busy", |q| {
        q["agent-count-busy"] == 1
    })
    .await;
    assert_eq!(q["queue-size"], 0);
    assert_eq!(q["agent-count-waitTransact"], 0);
    let agents = env.ctl.queue_agents("101").await.unwrap();
    let agent = agents
        .agents
        .iter()
        .find(|a| a.agent_id == "sandbox-agent-alex")
        .unwrap();
    assert_eq!((agent.handling, agent.counted_as.as_str()), (1, "busy"));
    env.sim.shutdown().await;
}

#[tokio::test]
async fn schedule_states_round_trip_through_the_status_route() {
    let env = Env::start().await;
    let (status, list) = cc_get(&env, "/cc/v1/schedules", Some(KEY), Some(TENANT)).await;
    assert_eq!(status, 200);
    let first = &list["schedules"]["schedule"][0];
    assert_eq!(first["id"], 101);
    assert_eq!(first["name"], "Sandbox hours");
    assert_eq!(first["time-zone"], "UTC");
    assert_eq!(first["week-days"]["week-day"].as_array().unwrap().len(), 7);
    assert_eq!(schedule_status(&env, "101").await, 0, "open by default");

    for (state, value) in [
        (ScheduleState::Closed, serde_json::json!(-1)),
        (ScheduleState::Choice(3), serde_json::json!("Choice #3")),
        (ScheduleState::Choice(6), serde_json::json!("Choice #6")),
        (ScheduleState::Open, serde_json::json!(0)),
    ] {
        let view = env.ctl.set_schedule_state("101", state).await.unwrap();
        assert_eq!(view.state, state);
        assert_eq!(schedule_status(&env, "101").await, value);
        assert_eq!(env.ctl.schedule("101").await.unwrap().state, state);
    }

    // Unknown schedule: 404 in the usual shape; the control API says how to add one.
    let (status, body) = cc_get(&env, "/cc/v1/schedules/999/status", Some(KEY), Some(TENANT)).await;
    assert_eq!(status, 404);
    assert_eq!(
        body["message"],
        "Resource of type Schedule with id 999 was not found."
    );
    let err = env
        .ctl
        .set_schedule_state("999", ScheduleState::Closed)
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert!(err.message().unwrap().contains("send a name"), "{err}");

    // A state 8x8 does not have is refused with the ones it has.
    let r = env
        .http
        .put(format!(
            "{}/sim/contact-center/schedules/101",
            env.sim.base_url()
        ))
        .json(&serde_json::json!({"state": "Choice #7"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let text = r.text().await.unwrap();
    assert!(text.contains("Choice #1 … Choice #6"), "{text}");
    env.sim.shutdown().await;
}

#[tokio::test]
async fn faults_make_the_stats_and_schedule_routes_fail_or_slow() {
    let env = Env::start().await;
    env.ctl
        .patch_faults(&FaultsPatch {
            stats_fail_next: Some(1),
            schedule_fail_next: Some(1),
            schedule_fail_status: Some(503),
            ..FaultsPatch::default()
        })
        .await
        .unwrap();
    let (status, body) = cc_get(&env, "/cc/v1/stats/rt/queue/101", Some(KEY), Some(TENANT)).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["errors"][0]["code"], "injected_fault");
    let (status, _) = cc_get(&env, "/cc/v1/schedules/101/status", Some(KEY), Some(TENANT)).await;
    assert_eq!(status, 503);
    // Only the next one each.
    assert_eq!(queue(&env, "101").await["queue-size"], 0);
    assert_eq!(schedule_status(&env, "101").await, 0);

    env.ctl
        .patch_faults(&FaultsPatch {
            schedule_latency_ms: Some(500),
            ..FaultsPatch::default()
        })
        .await
        .unwrap();
    let t = Instant::now();
    schedule_status(&env, "101").await;
    assert!(t.elapsed() >= Duration::from_millis(500));
    let t = Instant::now();
    queue(&env, "101").await;
    assert!(
        t.elapsed() < Duration::from_millis(400),
        "the statistics are not slowed by the schedule's latency"
    );
    env.sim.shutdown().await;
}

#[tokio::test]
async fn the_contact_center_routes_check_key_and_tenant() {
    let env = Env::start().await;
    for path in [
        "/cc/v1/stats/rt/queues",
        "/cc/v1/stats/rt/queue/101",
        "/cc/v1/schedules",
        "/cc/v1/schedules/101/status",
    ] {
        let (status, body) = cc_get(&env, path, None, Some(TENANT)).await;
        assert_eq!(status, 401, "{path}");
        assert_eq!(body["message"], "Access Denied");
        let (status, _) = cc_get(&env, path, Some("wrong-key"), Some(TENANT)).await;
        assert_eq!(status, 401, "{path}");
        let (status, body) = cc_get(&env, path, Some(KEY), Some("other-tenant")).await;
        assert_eq!(status, 403, "{path}");
        assert_eq!(body["message"], "The tenant does not belong to customer.");
    }
    let (status, body) = cc_get(&env, "/cc/v1/stats/rt/queue/999", Some(KEY), Some(TENANT)).await;
    assert_eq!(status, 404);
    assert_eq!(
        body["message"],
        "Resource of type Queue with id 999 was not found."
    );
    // One tenant per key: the header may be left out, as on the Chat Gateway routes.
    let (status, _) = cc_get(&env, "/cc/v1/stats/rt/queue/101", Some(KEY), None).await;
    assert_eq!(status, 200);
    env.sim.shutdown().await;
}

#[tokio::test]
async fn a_seed_file_sets_agents_and_schedules_and_names_a_wrong_queue() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.yml");
    std::fs::write(
        &path,
        r#"
apiKeys: [{key: k1, tenants: [t1]}]
queues: [{id: "7", name: Billing}]
contactCenter:
  agents: [{queueId: "7", agentId: bill, name: Bill, state: wrapUp}]
  schedules: [{id: "300", name: Office hours, state: "Choice #4"}]
"#,
    )
    .unwrap();
    let seed = chat_gateway_sim::Seed::from_file(&path).unwrap();
    let env = Env::with_seed(seed).await;
    let (status, body) = cc_get(&env, "/cc/v1/stats/rt/queue/7", Some("k1"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["queue"]["agent-count-postProcess"], 1);
    assert_eq!(body["queue"]["enabled-agent-count"], 1);
    let (_, status_body) = cc_get(&env, "/cc/v1/schedules/300/status", Some("k1"), None).await;
    assert_eq!(status_body["schedule-status"]["status"], "Choice #4");
    env.sim.shutdown().await;

    std::fs::write(
        &path,
        "apiKeys: [{key: k1, tenants: [t1]}]\nqueues: [{id: \"7\", name: Billing}]\ncontactCenter: {agents: [{queueId: \"8\", agentId: bill}]}\n",
    )
    .unwrap();
    let err = chat_gateway_sim::Seed::from_file(&path).unwrap_err();
    assert!(
        err.to_string().contains("agent bill is in unknown queue 8"),
        "{err}"
    );
}
