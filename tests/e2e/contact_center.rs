//! The contact center around a handover, end to end over real HTTP (docs/contact-center.md
//! §5): the relay reads the emulator's schedules and queue statistics, which follow the
//! states set through its control API, and the tester's user — or an 8x8 web-chat
//! customer — hears what each decision means.

use std::time::Duration;

use chat_gateway_sim::control_client::{AgentState, ScheduleState};
use serde_json::{json, Value};
use switchboard_e2e::{eventually, Seen};

use crate::engine::{bot_messages_in_8x8, greeted_webchat, lane, user_removed_in_8x8, Env, GUARD};

/// The sandbox's handover queue and schedule, and the queue's agents (the emulator's
/// default sandbox).
const QUEUE: &str = "101";
const SCHEDULE: &str = "101";
const AGENTS: [&str; 3] = [
    "sandbox-agent-alex",
    "sandbox-agent-jo",
    "sandbox-agent-kim",
];

async fn tester(env: &Env) -> String {
    let conv = env
        .api(
            "POST",
            "/api/tester/conversations",
            Some(json!({ "name": "Tess Tester", "email": "tess@example.com", "language": "en" })),
        )
        .await;
    conv["id"].as_str().unwrap().to_string()
}

async fn say(env: &Env, id: &str, body: Value) {
    env.api(
        "POST",
        &format!("/api/tester/conversations/{id}/messages"),
        Some(body),
    )
    .await;
}

async fn until(env: &Env, id: &str, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let seen = Seen::new(what);
    eventually(&seen, GUARD, async || {
        let v = env.transcript(id).await;
        seen.check(ok(&v), v)
    })
    .await
}

fn system_lines(view: &Value) -> Vec<String> {
    lane(view, "system")
}

fn updates(view: &Value) -> usize {
    view["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["payload"]["queueUpdate"].is_object())
        .count()
}

async fn nobody_in_queue(env: &Env) {
    for agent in AGENTS {
        env.sim
            .set_agent_state(QUEUE, agent, AgentState::LoggedOut)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_closed_schedule_keeps_the_bot_talking_until_it_opens() {
    let env = Env::start().await;
    env.settings(|s| {
        s["handover"]["contactCenter"]["openingHours"] = json!({
            "scheduleId": SCHEDULE, "closedChoices": ["Choice #3"], "message": "We are closed now.",
        })
    })
    .await;
    env.sim
        .set_schedule_state(SCHEDULE, ScheduleState::Closed)
        .await
        .unwrap();
    let id = tester(&env).await;
    say(&env, &id, json!({ "text": "agent please" })).await;
    let view = until(&env, &id, "the out-of-hours message", |v| {
        lane(v, "bot").last().map(String::as_str) == Some("We are closed now.")
    })
    .await;
    assert_eq!(view["conversation"]["phase"], "bot");
    assert!(
        view["conversation"]["gatewayId"].is_null(),
        "nothing created in 8x8"
    );
    assert!(
        system_lines(&view).contains(&"Opening hours: schedule 101 is Closed: no handover.".into()),
        "{view:#}"
    );
    // 8x8's answer is kept a few seconds (contact-center.md §4): once it is gone, the
    // open schedule lets the handover through.
    env.sim
        .set_schedule_state(SCHEDULE, ScheduleState::Choice(1))
        .await
        .unwrap();
    env.relay.handle.state.contact_center.forget();
    say(&env, &id, json!({ "text": "agent please" })).await;
    let view = until(&env, &id, "queued in 8x8", |v| {
        v["conversation"]["phase"] == "queued"
    })
    .await;
    assert!(system_lines(&view).contains(&"Opening hours: schedule 101 is Choice #1.".into()));
    env.relay.handle.shutdown().await;
}

#[tokio::test]
async fn nobody_available_offers_to_wait_and_waiting_queues_the_chat() {
    let env = Env::start().await;
    nobody_in_queue(&env).await;
    env.settings(|s| {
        s["handover"]["contactCenter"]["availability"] = json!({
            "states": "loggedIn", "message": "Nobody is here right now.", "offerWait": true,
        })
    })
    .await;
    let id = tester(&env).await;
    say(&env, &id, json!({ "text": "agent please" })).await;
    let view = until(&env, &id, "the offer", |v| {
        lane(v, "bot").last().map(String::as_str) == Some("Nobody is here right now.")
    })
    .await;
    let offer = view["transcript"].as_array().unwrap().last().unwrap();
    assert_eq!(
        offer["payload"]["quickReplies"],
        json!([
            { "title": "Wait for an agent", "payload": "switchboard:wait" },
            { "title": "Keep talking to the bot", "payload": "switchboard:bot" },
        ])
    );
    assert!(
        system_lines(&view).iter().any(|l| l
            .starts_with("Availability: no agent logged in in queue")
            && l.contains("0 available")
            && l.contains("3 logged out")),
        "{view:#}"
    );
    say(
        &env,
        &id,
        json!({ "quickReply": { "title": "Wait for an agent", "payload": "switchboard:wait" } }),
    )
    .await;
    let view = until(&env, &id, "queued after choosing to wait", |v| {
        v["conversation"]["phase"] == "queued"
    })
    .await;
    assert!(system_lines(&view).contains(&"The customer chose to wait for an agent.".into()));
    env.relay.handle.shutdown().await;
}

#[tokio::test]
async fn failing_statistics_hand_over_anyway_by_default() {
    let env = Env::start().await;
    let mut faults = env.sim.faults().await.unwrap();
    faults.stats_fail_rate = 1.0;
    faults.stats_fail_status = 503;
    env.sim.set_faults(&faults).await.unwrap();
    env.settings(|s| {
        s["handover"]["contactCenter"]["queueLimit"] =
            json!({ "maxWaiting": 2, "message": "Busy: {waiting} waiting." })
    })
    .await;
    let id = tester(&env).await;
    say(&env, &id, json!({ "text": "agent please" })).await;
    let view = until(&env, &id, "queued despite the failure", |v| {
        v["conversation"]["phase"] == "queued"
    })
    .await;
    let line = system_lines(&view)
        .into_iter()
        .find(|l| l.contains("could not be read"))
        .expect("the failure is in the transcript");
    assert!(
        line.contains("503") && line.ends_with("handing over anyway (fallback)."),
        "{line}"
    );
    env.relay.handle.shutdown().await;
}

/// Queue updates every 15 "seconds" (a minute is 2 s here: one every 500 ms).
async fn queued_with_updates(env: &Env) -> (String, String) {
    env.relay
        .handle
        .state
        .engine
        .set_config(switchboard_engine::EngineConfig {
            minute: Duration::from_secs(2),
        });
    env.settings(|s| {
        let cc = &mut s["handover"]["contactCenter"];
        cc["queueUpdateSeconds"] = json!(15);
        cc["cancelWord"] = json!("cancel");
        cc["status"]["queued"] = json!("You are in the queue for an agent.");
    })
    .await;
    let id = tester(env).await;
    say(env, &id, json!({ "text": "agent please" })).await;
    let view = until(env, &id, "two queue updates", |v| updates(v) >= 2).await;
    assert_eq!(view["conversation"]["phase"], "queued");
    let bot = lane(&view, "bot");
    assert!(
        bot.contains(&"You are in the queue for an agent.".into()),
        "{bot:?}"
    );
    let update = bot
        .iter()
        .find(|l| l.contains("waiting in this queue"))
        .unwrap();
    assert!(
        update.starts_with("1 waiting in this queue; its typical wait is "),
        "the queue's own figures: {update}"
    );
    let gid = view["conversation"]["gatewayId"]
        .as_str()
        .unwrap()
        .to_string();
    (id, gid)
}

#[tokio::test]
async fn cancel_while_queued_ends_the_8x8_side_and_the_updates() {
    let env = Env::start().await;
    let (id, gid) = queued_with_updates(&env).await;
    say(&env, &id, json!({ "text": "Cancel" })).await;
    let view = until(&env, &id, "back with the bot", |v| {
        v["conversation"]["phase"] == "bot"
    })
    .await;
    assert_eq!(
        lane(&view, "bot").last().map(String::as_str),
        Some("You left the queue. I'm here to help again.")
    );
    user_removed_in_8x8(&env, &gid).await;
    let before = updates(&env.transcript(&id).await);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let view = env.transcript(&id).await;
    assert_eq!(updates(&view), before, "no update after leaving the queue");
    assert_eq!(
        view["conversation"]["phase"], "bot",
        "8x8 closing its side changes nothing"
    );
    env.relay.handle.shutdown().await;
}

#[tokio::test]
async fn queue_updates_stop_when_the_agent_joins() {
    let env = Env::start().await;
    let (id, gid) = queued_with_updates(&env).await;
    env.sim.agent_accept(&gid, Some("agent-bo")).await.unwrap();
    until(&env, &id, "with the agent", |v| {
        v["conversation"]["phase"] == "agent"
    })
    .await;
    let before = updates(&env.transcript(&id).await);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(updates(&env.transcript(&id).await), before);
    env.relay.handle.shutdown().await;
}

#[tokio::test]
async fn endpoint_mode_says_queued_in_8x8_but_leaves_joins_to_its_channel() {
    let env = Env::start().await;
    env.settings(|s| {
        let st = &mut s["handover"]["contactCenter"]["status"];
        st["queued"] = json!("You are in the queue for an agent.");
        st["agentJoined"] = json!("{agent} joined the chat.");
    })
    .await;
    let id = greeted_webchat(&env).await;
    env.sim
        .customer_say(&id, "I want a human agent")
        .await
        .unwrap();
    let seen = Seen::new("the queued message in 8x8");
    eventually(&seen, GUARD, async || {
        let m = bot_messages_in_8x8(&env, &id).await;
        seen.check(
            m.contains(&"You are in the queue for an agent.".into()),
            json!(m),
        )
    })
    .await;
    env.sim.agent_accept(&id, Some("agent-ann")).await.unwrap();
    until(&env, &id, "with the agent", |v| {
        v["conversation"]["phase"] == "agent"
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let m = bot_messages_in_8x8(&env, &id).await;
    assert!(
        !m.iter().any(|t| t.contains("joined")),
        "8x8's channel shows the join itself: {m:?}"
    );
    env.relay.handle.shutdown().await;
}

/// Asks for an agent and says whether the handover went ahead (queued) or the bot kept
/// the conversation, with the transcript.
async fn handover_goes_ahead(env: &Env) -> (bool, Value) {
    env.relay.handle.state.contact_center.forget();
    let id = tester(env).await;
    say(env, &id, json!({ "text": "agent please" })).await;
    let view = until(env, &id, "a decision", |v| {
        v["conversation"]["phase"] == "queued"
            || lane(v, "bot").last().map(String::as_str) == Some("Nobody can take it.")
    })
    .await;
    (view["conversation"]["phase"] == "queued", view)
}

// Each setting of "which agents count" against agents in each state, as the emulator
// reports them: the state just outside the setting finds nobody, the state just inside
// lets the handover through (contact-center.md §2).
#[tokio::test]
async fn no_agents_in_each_state_set_keeps_the_bot_and_one_in_it_hands_over() {
    let env = Env::start().await;
    let steps = [
        ("available", AgentState::Busy, AgentState::Available),
        (
            "availableOrBusy",
            AgentState::WorkingOffline,
            AgentState::Busy,
        ),
        (
            "availableBusyOrOffline",
            AgentState::OnBreak,
            AgentState::WorkingOffline,
        ),
        (
            "availableBusyOfflineOrBreak",
            AgentState::WrapUp,
            AgentState::OnBreak,
        ),
        ("loggedIn", AgentState::LoggedOut, AgentState::WrapUp),
    ];
    for (setting, outside, inside) in steps {
        env.settings(|s| {
            s["handover"]["contactCenter"]["availability"] =
                json!({ "states": setting, "message": "Nobody can take it.", "offerWait": false })
        })
        .await;
        for agent in AGENTS {
            env.sim
                .set_agent_state(QUEUE, agent, outside)
                .await
                .unwrap();
        }
        let (went, view) = handover_goes_ahead(&env).await;
        assert!(!went, "{setting} with every agent {outside:?}: {view:#}");
        env.sim
            .set_agent_state(QUEUE, AGENTS[1], inside)
            .await
            .unwrap();
        let (went, view) = handover_goes_ahead(&env).await;
        assert!(went, "{setting} with one agent {inside:?}: {view:#}");
    }
    env.relay.handle.shutdown().await;
}

#[tokio::test]
async fn a_long_queue_is_offered_with_the_emulators_figures() {
    let env = Env::start().await;
    // Two customers already waiting (nobody takes them: the tests drive agents by hand).
    for _ in 0..2 {
        let id = tester(&env).await;
        say(&env, &id, json!({ "text": "agent please" })).await;
        until(&env, &id, "waiting", |v| {
            v["conversation"]["phase"] == "queued"
        })
        .await;
    }
    env.settings(|s| {
        s["handover"]["contactCenter"]["queueLimit"] =
            json!({ "maxWaiting": 1, "message": "{waiting} are waiting. Wait or keep talking?" })
    })
    .await;
    env.relay.handle.state.contact_center.forget();
    let id = tester(&env).await;
    say(&env, &id, json!({ "text": "agent please" })).await;
    let view = until(&env, &id, "the offer", |v| {
        lane(v, "bot").last().map(String::as_str) == Some("2 are waiting. Wait or keep talking?")
    })
    .await;
    assert_eq!(view["conversation"]["phase"], "bot");
    assert!(system_lines(&view).iter().any(|l| l
        .starts_with("Queue too long: too many waiting in queue")
        && l.contains("(2 waiting")));
    env.relay.handle.shutdown().await;
}

#[tokio::test]
async fn a_failing_schedule_treated_as_closed_keeps_the_bot() {
    let env = Env::start().await;
    let mut faults = env.sim.faults().await.unwrap();
    faults.schedule_fail_rate = 1.0;
    env.sim.set_faults(&faults).await.unwrap();
    env.settings(|s| {
        let cc = &mut s["handover"]["contactCenter"];
        cc["openingHours"] = json!({ "scheduleId": SCHEDULE, "message": "We are closed now." });
        cc["onError"] = json!("treatAsClosed");
    })
    .await;
    let id = tester(&env).await;
    say(&env, &id, json!({ "text": "agent please" })).await;
    let view = until(&env, &id, "the out-of-hours message", |v| {
        lane(v, "bot").last().map(String::as_str) == Some("We are closed now.")
    })
    .await;
    assert_eq!(view["conversation"]["phase"], "bot");
    let line = system_lines(&view)
        .into_iter()
        .find(|l| l.starts_with("Opening hours could not be checked"))
        .expect("the failure is in the transcript");
    assert!(
        line.ends_with("treated as closed (fallback): no handover."),
        "{line}"
    );
    env.relay.handle.shutdown().await;
}

#[tokio::test]
async fn handover_mode_tells_the_user_each_step_with_the_agents_name() {
    let env = Env::start().await;
    env.settings(|s| {
        let st = &mut s["handover"]["contactCenter"]["status"];
        st["queued"] = json!("You are in the queue.");
        st["agentJoined"] = json!("{agent} joined the chat.");
        st["agentLeft"] = json!("The agent has left the chat.");
    })
    .await;
    let id = tester(&env).await;
    say(&env, &id, json!({ "text": "agent please" })).await;
    let view = until(&env, &id, "queued", |v| {
        v["conversation"]["phase"] == "queued"
    })
    .await;
    assert!(lane(&view, "bot").contains(&"You are in the queue.".into()));
    let gid = view["conversation"]["gatewayId"]
        .as_str()
        .unwrap()
        .to_string();
    env.sim.agent_accept(&gid, Some("agent-bo")).await.unwrap();
    until(&env, &id, "told who joined", |v| {
        lane(v, "bot").contains(&"agent-bo joined the chat.".into())
    })
    .await;
    env.sim.agent_end(&gid).await.unwrap();
    let view = until(&env, &id, "told the agent left", |v| {
        v["conversation"]["phase"] == "bot"
    })
    .await;
    let bot = lane(&view, "bot");
    assert_eq!(
        bot[bot.len() - 2..],
        [
            "The agent has left the chat.".to_string(),
            "I'm back to help you; ask for an agent again at any time.".to_string()
        ]
    );
    env.relay.handle.shutdown().await;
}
