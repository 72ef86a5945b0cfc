//! The conversation engine end to end over real HTTP: the emulator plays 8x8 (signed
//! webhooks, agents, web-chat customers), the relay runs with its built-in bot, a temp
//! SQLite database, and the tester API plays the end user of handover mode.

use std::time::Duration;

use chat_gateway_sim::control_client::{
    ConversationView, FaultsPatch, LogFilter, MessageView, SayBody, SimControl, WebchatBody,
};
use reqwest::header;
use serde_json::{json, Value};
use switchboard_e2e::{client, eventually, Seen, TestRelay};

/// Hang guard for each wait (never a speed bound).
pub(crate) const GUARD: Duration = Duration::from_secs(20);

pub(crate) struct Env {
    pub(crate) relay: TestRelay,
    /// The relay's embedded emulator, playing 8x8.
    pub(crate) sim: SimControl,
}

impl Env {
    pub(crate) async fn start() -> Self {
        let relay = TestRelay::start().await;
        relay
            .handle
            .state
            .engine
            .set_config(switchboard_engine::EngineConfig {
                minute: Duration::from_millis(200),
            });
        relay
            .handle
            .state
            .outbox
            .set_backoff(switchboard_store::outbox::Backoff {
                base: Duration::from_millis(50),
                max: Duration::from_millis(200),
            });
        let sim = relay.sim();
        // Tests drive the agent by hand; the seeded mock agent would race them.
        sim.set_queue_agent("101", None).await.unwrap();
        Self { relay, sim }
    }

    pub(crate) async fn api(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let mut req = client()
            .request(method.parse().unwrap(), self.relay.admin(path))
            .header(header::AUTHORIZATION, self.relay.bearer());
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v
    }

    pub(crate) async fn transcript(&self, id: &str) -> Value {
        self.api("GET", &format!("/api/conversations/{id}"), None)
            .await
    }

    /// The conversation, or null while the relay does not know it yet.
    pub(crate) async fn maybe_transcript(&self, id: &str) -> Value {
        let res = client()
            .get(self.relay.admin(&format!("/api/conversations/{id}")))
            .header(header::AUTHORIZATION, self.relay.bearer())
            .send()
            .await
            .unwrap();
        if res.status().is_success() {
            res.json().await.unwrap()
        } else {
            json!({ "transcript": [] })
        }
    }

    pub(crate) async fn settings(&self, change: impl FnOnce(&mut Value)) {
        let view = self.api("GET", "/api/settings", None).await;
        let mut settings = view["settings"].clone();
        change(&mut settings);
        self.api(
            "PUT",
            "/api/settings",
            Some(json!({ "settings": settings })),
        )
        .await;
    }

    pub(crate) async fn webchat(&self) -> String {
        let view = self.api("GET", "/api/settings", None).await;
        let hooks = client()
            .get(format!("{}/chat-gateway/v1/webhooks", self.sim.base_url()))
            .header("x-api-key", "sandbox-key")
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        let hook = hooks["_embedded"]["webhooks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["uri"] == view["endpointUrl"])
            .expect("the relay's webhook")["id"]
            .as_str()
            .expect("a webhook id")
            .to_string();
        let user = json!({ "name": "Wendy Web", "email": "wendy@example.com" });
        let webchat = WebchatBody::webhook(hook).with_user(user.as_object().unwrap().clone());
        self.sim
            .start_webchat(&webchat)
            .await
            .unwrap()
            .conversation_id
    }

    /// The agent's view of a conversation in 8x8 (the emulator).
    pub(crate) async fn in_8x8(&self, id: &str) -> ConversationView {
        self.sim.conversation(id).await.unwrap()
    }
}

pub(crate) fn lane(view: &Value, lane: &str) -> Vec<String> {
    view["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["lane"] == lane)
        .map(|e| e["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Waits until 8x8 (the emulator) shows the user as removed: the relay ended its side.
pub(crate) async fn user_removed_in_8x8(env: &Env, gid: &str) {
    let seen = Seen::new("the user removed in 8x8");
    eventually(&seen, GUARD, async || {
        let v = env.in_8x8(gid).await;
        let removed = v.participants.iter().any(|p| p.kind == "user" && p.removed);
        seen.check(removed, json!(v))
    })
    .await;
}

async fn sim_messages(env: &Env, id: &str) -> Vec<MessageView> {
    env.in_8x8(id).await.messages
}

#[tokio::test]
async fn endpoint_mode_greets_on_active_answers_and_never_relays_echoes() {
    let env = Env::start().await;
    let id = env.webchat().await;
    // Accept Conversation Active Event is on by default: the bot greets first.
    let seen = Seen::new("the greeting");
    let view = eventually(&seen, GUARD, async || {
        let v = env.maybe_transcript(&id).await;
        seen.check(!lane(&v, "bot").is_empty(), v)
    })
    .await;
    assert_eq!(view["conversation"]["mode"], "endpoint");
    assert_eq!(view["conversation"]["user"]["name"], "Wendy Web");
    let greeting = lane(&view, "bot")[0].clone();
    let seen = Seen::new("the greeting in 8x8");
    eventually(&seen, GUARD, async || {
        let m = sim_messages(&env, &id).await;
        let ok = m
            .iter()
            .any(|m| m.author.kind == "bot" && m.text == greeting);
        seen.check(ok, json!(m))
    })
    .await;

    env.sim
        .customer_say(&id, "what are your opening hours?")
        .await
        .unwrap();
    let seen = Seen::new("the answer");
    let view = eventually(&seen, GUARD, async || {
        let v = env.transcript(&id).await;
        seen.check(lane(&v, "bot").len() >= 2, v)
    })
    .await;
    assert_eq!(lane(&view, "user"), ["what are your opening hours?"]);
    // 8x8 echoes every bot post back; none may come back as a new turn or message.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let view = env.transcript(&id).await;
    let bot_in_8x8 = sim_messages(&env, &id)
        .await
        .iter()
        .filter(|m| m.author.kind == "bot")
        .count();
    assert_eq!(lane(&view, "bot").len(), bot_in_8x8, "{view:#}");
    assert_eq!(
        lane(&view, "user").len(),
        1,
        "echoes were not taken as customer messages"
    );
    env.relay.handle.shutdown().await;
}

#[tokio::test]
async fn with_the_active_event_off_the_bot_waits_for_the_customer() {
    let env = Env::start().await;
    env.settings(|s| s["endpoint"]["acceptConversationActiveEvent"] = json!(false))
        .await;
    let id = env.webchat().await;
    let seen = Seen::new("the conversation known to the relay");
    eventually(&seen, GUARD, async || {
        let res = client()
            .get(env.relay.admin(&format!("/api/conversations/{id}")))
            .header(header::AUTHORIZATION, env.relay.bearer())
            .send()
            .await
            .unwrap();
        seen.check(res.status().is_success(), Value::Null)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        lane(&env.transcript(&id).await, "bot").is_empty(),
        "no greeting"
    );
    env.sim.customer_say(&id, "hello").await.unwrap();
    let seen = Seen::new("the bot's first answer");
    eventually(&seen, GUARD, async || {
        let v = env.transcript(&id).await;
        seen.check(!lane(&v, "bot").is_empty(), v)
    })
    .await;
    env.relay.handle.shutdown().await;
}

#[tokio::test]
async fn endpoint_escalation_reassigns_to_the_queue_and_the_bot_steps_back() {
    let env = Env::start().await;
    let id = endpoint_with_agent(&env).await;
    env.sim
        .agent_say(&id, &SayBody::text("Hi, Ann here."))
        .await
        .unwrap();
    let seen = Seen::new("the agent's message");
    let view = eventually(&seen, GUARD, async || {
        let v = env.transcript(&id).await;
        seen.check(lane(&v, "agent") == ["Hi, Ann here."], v)
    })
    .await;
    assert_eq!(view["conversation"]["phase"], "agent");
    assert_eq!(view["conversation"]["agentId"], "agent-ann");
    let bots = lane(&view, "bot").len();
    env.sim.customer_say(&id, "thanks Ann").await.unwrap();
    let seen = Seen::new("the customer's message recorded");
    eventually(&seen, GUARD, async || {
        let v = env.transcript(&id).await;
        seen.check(lane(&v, "user").contains(&"thanks Ann".to_string()), v)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        lane(&env.transcript(&id).await, "bot").len(),
        bots,
        "the bot stays quiet while the agent has it"
    );
    env.relay.handle.shutdown().await;
}

/// An 8x8 web-chat customer the bot has greeted.
pub(crate) async fn greeted_webchat(env: &Env) -> String {
    let id = env.webchat().await;
    let seen = Seen::new("greeting");
    eventually(&seen, GUARD, async || {
        let v = env.maybe_transcript(&id).await;
        seen.check(!lane(&v, "bot").is_empty(), v)
    })
    .await;
    id
}

/// An 8x8 web-chat customer talking to the bot, escalated and accepted by agent-ann.
async fn endpoint_with_agent(env: &Env) -> String {
    let id = greeted_webchat(env).await;
    env.sim
        .customer_say(&id, "I want a human agent")
        .await
        .unwrap();
    let seen = Seen::new("queued in 8x8");
    eventually(&seen, GUARD, async || {
        let v = env.transcript(&id).await;
        seen.check(v["conversation"]["phase"] == "queued", v)
    })
    .await;
    env.sim.agent_accept(&id, Some("agent-ann")).await.unwrap();
    let seen = Seen::new("with the agent");
    eventually(&seen, GUARD, async || {
        let v = env.transcript(&id).await;
        seen.check(v["conversation"]["phase"] == "agent", v)
    })
    .await;
    id
}

/// The bot's messages in 8x8 (what the customer saw from it).
pub(crate) async fn bot_messages_in_8x8(env: &Env, id: &str) -> Vec<String> {
    sim_messages(env, id)
        .await
        .into_iter()
        .filter(|m| m.author.kind == "bot")
        .map(|m| m.text)
        .collect()
}

// Endpoint mode, no handback: when the agent ends the chat 8x8 closes it. The bot must
// not claim to be back — a post would re-open the chat in the queue and offer it to an
// agent again — and the customer's next message goes where 8x8 sends it: the last queue.
#[tokio::test]
async fn endpoint_agent_end_without_handback_leaves_the_customer_to_8x8() {
    let env = Env::start().await;
    let id = endpoint_with_agent(&env).await;
    let bot_before = bot_messages_in_8x8(&env, &id).await;
    env.sim.agent_end(&id).await.unwrap();
    let seen = Seen::new("ended in the relay");
    eventually(&seen, GUARD, async || {
        let v = env.transcript(&id).await;
        seen.check(v["conversation"]["phase"] == "ended", v)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        bot_messages_in_8x8(&env, &id).await,
        bot_before,
        "the bot said nothing after the agent"
    );
    let in_8x8 = env.in_8x8(&id).await;
    assert_eq!(
        in_8x8.state, "idle",
        "8x8 closed it and nothing re-opened it: {in_8x8:#?}"
    );
    assert!(in_8x8.offer.is_none(), "no agent is offered the chat again");

    env.sim
        .customer_say(&id, "hello? one more thing")
        .await
        .unwrap();
    let seen = Seen::new("re-opened in the queue");
    let view = eventually(&seen, GUARD, async || {
        let v = env.transcript(&id).await;
        let said = lane(&v, "user").contains(&"hello? one more thing".to_string());
        seen.check(said && v["conversation"]["phase"] == "queued", v)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        bot_messages_in_8x8(&env, &id).await,
        bot_before,
        "the bot leaves the re-opened chat to the queue: {view:#}"
    );
    env.relay.handle.shutdown().await;
}

// Endpoint mode with handback on: the escalation schedules a post-agent assignment, 8x8
// routes the conversation back after the agent, and only then does the bot say it is back
// and answer again.
#[tokio::test]
async fn endpoint_agent_end_with_handback_gives_the_customer_back_to_the_bot() {
    let env = Env::start().await;
    env.settings(|s| s["handover"]["handback"] = json!(true))
        .await;
    let id = endpoint_with_agent(&env).await;
    assert!(
        env.in_8x8(&id).await.post_agent_assignment.is_some(),
        "a post-agent assignment was made with the escalation"
    );
    env.sim.agent_end(&id).await.unwrap();
    let seen = Seen::new("back with the bot");
    let view = eventually(&seen, GUARD, async || {
        let v = env.transcript(&id).await;
        let back = lane(&v, "bot")
            .last()
            .is_some_and(|t| t.contains("I'm back"));
        seen.check(back && v["conversation"]["phase"] == "bot", v)
    })
    .await;
    assert!(
        lane(&view, "system")
            .iter()
            .any(|t| t == "Handed back to the bot after the agent."),
        "{view:#}"
    );
    let seen = Seen::new("the customer saw it in 8x8");
    eventually(&seen, GUARD, async || {
        let m = bot_messages_in_8x8(&env, &id).await;
        seen.check(m.last().is_some_and(|t| t.contains("I'm back")), json!(m))
    })
    .await;
    let in_8x8 = env.in_8x8(&id).await;
    assert!(
        in_8x8.handback_webhook.is_some() && in_8x8.offer.is_none(),
        "{in_8x8:#?}"
    );

    let before = bot_messages_in_8x8(&env, &id).await.len();
    env.sim
        .customer_say(&id, "what are your opening hours")
        .await
        .unwrap();
    let seen = Seen::new("the bot answers again");
    eventually(&seen, GUARD, async || {
        let m = bot_messages_in_8x8(&env, &id).await;
        seen.check(m.len() > before, json!(m))
    })
    .await;
    env.relay.handle.shutdown().await;
}

pub(crate) async fn handed_over(env: &Env) -> (String, String) {
    let conv = env
        .api(
            "POST",
            "/api/tester/conversations",
            Some(json!({ "name": "Tess Tester", "email": "tess@example.com", "language": "en" })),
        )
        .await;
    let id = conv["id"].as_str().unwrap().to_string();
    let view = env.transcript(&id).await;
    assert!(!lane(&view, "bot").is_empty(), "the bot greets the tester");
    env.api(
        "POST",
        &format!("/api/tester/conversations/{id}/messages"),
        Some(json!({ "text": "agent please" })),
    )
    .await;
    let seen = Seen::new("the 8x8 conversation");
    let view = eventually(&seen, GUARD, async || {
        let v = env.transcript(&id).await;
        seen.check(
            v["conversation"]["gatewayId"].is_string() && v["conversation"]["phase"] == "queued",
            v,
        )
    })
    .await;
    (
        id,
        view["conversation"]["gatewayId"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

#[tokio::test]
async fn handover_mode_creates_the_8x8_conversation_and_relays_both_ways() {
    let env = Env::start().await;
    env.settings(|s| {
        s["handover"]["jsonProperties"] = json!("{\"intent\": \"billing\", \"vip\": true}")
    })
    .await;
    let (id, gid) = handed_over(&env).await;

    // What the agent got: user data, the JSON properties, the bot transcript.
    let view = env.transcript(&id).await;
    let sent = &view["conversation"]["handover"]["request"];
    assert_eq!(view["conversation"]["channelId"], sent["channelId"]);
    assert_eq!(sent["user"]["name"], "Tess Tester");
    assert_eq!(sent["user"]["email"], "tess@example.com");
    // The JSON properties, then the agent's Copilot link (tests/e2e/copilot.rs).
    let properties = sent["user"]["additionalProperties"].as_array().unwrap();
    assert_eq!(
        properties[..2],
        [
            json!({"key": "intent", "value": "billing"}),
            json!({"key": "vip", "value": "true"})
        ]
    );
    assert_eq!(properties[2]["key"], "Copilot");
    let history = sent["history"]["messages"].as_array().unwrap();
    assert_eq!(history.last().unwrap()["authorType"], "bot");
    assert!(history
        .iter()
        .any(|m| m["authorType"] == "user" && m["text"] == "agent please"));
    let in_8x8 = env.in_8x8(&gid).await;
    assert_eq!(in_8x8.user["name"], "Tess Tester", "{in_8x8:#?}");

    env.sim.agent_accept(&gid, Some("agent-bo")).await.unwrap();
    env.sim
        .agent_say(&gid, &SayBody::text("Bo here, how can I help?"))
        .await
        .unwrap();
    let seen = Seen::new("the agent's message reaches the tester");
    eventually(&seen, GUARD, async || {
        let v = env.transcript(&id).await;
        seen.check(
            lane(&v, "agent") == ["Bo here, how can I help?"]
                && v["conversation"]["phase"] == "agent",
            v,
        )
    })
    .await;
    env.api(
        "POST",
        &format!("/api/tester/conversations/{id}/messages"),
        Some(json!({ "text": "my bill is wrong" })),
    )
    .await;
    let seen = Seen::new("the user's message reaches the agent");
    eventually(&seen, GUARD, async || {
        let m = sim_messages(&env, &gid).await;
        let ok = m
            .iter()
            .any(|m| m.author.kind == "user" && m.text == "my bill is wrong");
        seen.check(ok, json!(m))
    })
    .await;
    let view = env.transcript(&id).await;
    assert!(
        view["conversation"]["firstAgentReplyAtMs"]
            .as_i64()
            .unwrap()
            >= view["conversation"]["queuedAtMs"].as_i64().unwrap()
    );

    // The agent ends: the user is told and the bot takes over again (default).
    env.sim.agent_end(&gid).await.unwrap();
    let seen = Seen::new("back with the bot");
    let view = eventually(&seen, GUARD, async || {
        let v = env.transcript(&id).await;
        seen.check(v["conversation"]["phase"] == "bot", v)
    })
    .await;
    assert!(lane(&view, "bot")
        .last()
        .unwrap()
        .contains("agent has left"));
    env.relay.handle.shutdown().await;
}

#[tokio::test]
async fn transfer_is_not_the_end_and_leaving_ends_the_8x8_side() {
    let env = Env::start().await;
    let (id, gid) = handed_over(&env).await;
    env.sim.agent_accept(&gid, Some("agent-a")).await.unwrap();
    let seen = Seen::new("agent a");
    eventually(&seen, GUARD, async || {
        let v = env.transcript(&id).await;
        seen.check(v["conversation"]["agentId"] == "agent-a", v)
    })
    .await;
    env.sim.agent_transfer(&gid, "102").await.unwrap();
    let seen = Seen::new("transferred");
    let view = eventually(&seen, GUARD, async || {
        let v = env.transcript(&id).await;
        let queued_again = v["conversation"]["queueId"] == "102";
        seen.check(queued_again && v["conversation"]["phase"] != "ended", v)
    })
    .await;
    assert_ne!(
        view["conversation"]["phase"], "bot",
        "an agent left for a transfer is not the end"
    );
    env.sim.agent_accept(&gid, Some("agent-b")).await.unwrap();
    let seen = Seen::new("agent b");
    eventually(&seen, GUARD, async || {
        let v = env.transcript(&id).await;
        seen.check(
            v["conversation"]["agentId"] == "agent-b" && v["conversation"]["phase"] == "agent",
            v,
        )
    })
    .await;

    env.api(
        "POST",
        &format!("/api/tester/conversations/{id}/leave"),
        None,
    )
    .await;
    user_removed_in_8x8(&env, &gid).await;
    assert_eq!(env.transcript(&id).await["conversation"]["phase"], "ended");
    env.relay.handle.shutdown().await;
}

#[tokio::test]
async fn an_idle_user_is_timed_out_and_the_8x8_side_ended() {
    let env = Env::start().await;
    let (id, gid) = handed_over(&env).await;
    // Only now: a short timeout set earlier could end the chat before it is seen queued.
    env.settings(|s| s["handover"]["inactivityTimeoutMinutes"] = json!(1))
        .await;
    let seen = Seen::new("the inactivity timeout");
    let view = eventually(&seen, GUARD, async || {
        let v = env.transcript(&id).await;
        seen.check(v["conversation"]["phase"] == "ended", v)
    })
    .await;
    assert!(lane(&view, "system")
        .iter()
        .any(|t| t.contains("without a message")));
    user_removed_in_8x8(&env, &gid).await;
    env.relay.handle.shutdown().await;
}

#[tokio::test]
async fn after_the_agent_closes_a_new_message_reopens_the_8x8_conversation() {
    let env = Env::start().await;
    env.settings(|s| s["handover"]["whenAgentLeaves"] = json!("close"))
        .await;
    let (id, gid) = handed_over(&env).await;
    env.sim.agent_accept(&gid, None).await.unwrap();
    env.sim.agent_end(&gid).await.unwrap();
    let seen = Seen::new("closed");
    eventually(&seen, GUARD, async || {
        let v = env.transcript(&id).await;
        seen.check(v["conversation"]["phase"] == "ended", v)
    })
    .await;
    env.api(
        "POST",
        &format!("/api/tester/conversations/{id}/messages"),
        Some(json!({ "text": "one more thing" })),
    )
    .await;
    let seen = Seen::new("queued again in 8x8");
    eventually(&seen, GUARD, async || {
        let v = env.transcript(&id).await;
        seen.check(v["conversation"]["phase"] == "queued", v)
    })
    .await;
    let interactions: Value = client()
        .get(format!(
            "{}/chat-gateway/v1/conversations/{gid}/interactions",
            env.sim.base_url()
        ))
        .header("x-api-key", "sandbox-key")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        interactions["_embedded"]["interactions"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "a new interaction"
    );
    env.relay.handle.shutdown().await;
}

/// Every call the relay made to 8x8 (the emulator's log of inbound API calls) must be an
/// operation of 8x8's OpenAPI document with a body its schema accepts.
async fn assert_calls_follow_the_contract(env: &Env) {
    let records = env
        .sim
        .log(&LogFilter::default().direction("inbound"))
        .await
        .unwrap();
    assert!(!records.is_empty(), "the relay called 8x8");
    let contract = openapi_contract::Contract::get();
    let mut violations = Vec::new();
    for r in &records {
        let call = r.record_type.as_str();
        let (method, path) = call.split_once(' ').unwrap_or((call, ""));
        let path = path.split('?').next().unwrap_or_default();
        let body = Some(r.request_body.as_str())
            .filter(|b| !b.is_empty())
            .map(|b| serde_json::from_str::<Value>(b).unwrap_or(Value::Null));
        if let Err(e) = contract.validate_request(method, path, body.as_ref()) {
            violations.push(format!("{call}: {e:?}"));
        }
    }
    assert!(
        violations.is_empty(),
        "calls outside the contract: {violations:#?}"
    );
}

#[tokio::test]
async fn every_call_the_engine_makes_speaks_the_contract() {
    let env = Env::start().await;
    // Endpoint mode with quick replies, typing and an escalation.
    let id = env.webchat().await;
    let seen = Seen::new("greeting");
    eventually(&seen, GUARD, async || {
        let v = env.maybe_transcript(&id).await;
        seen.check(!lane(&v, "bot").is_empty(), v)
    })
    .await;
    env.sim.customer_say(&id, "agent").await.unwrap();
    let seen = Seen::new("queued");
    eventually(&seen, GUARD, async || {
        let v = env.transcript(&id).await;
        seen.check(v["conversation"]["phase"] == "queued", v)
    })
    .await;
    // Handover mode with history, properties, relay both ways, typing and the end.
    env.settings(|s| {
        s["handover"]["jsonProperties"] = json!("{\"intent\": \"billing\"}");
        s["handover"]["handback"] = json!(true);
    })
    .await;
    let (hid, gid) = handed_over(&env).await;
    env.sim.agent_accept(&gid, None).await.unwrap();
    env.api(
        "POST",
        &format!("/api/tester/conversations/{hid}/typing"),
        None,
    )
    .await;
    env.api(
        "POST",
        &format!("/api/tester/conversations/{hid}/messages"),
        Some(json!({ "text": "hello" })),
    )
    .await;
    env.api(
        "POST",
        &format!("/api/tester/conversations/{hid}/leave"),
        None,
    )
    .await;
    user_removed_in_8x8(&env, &gid).await;
    assert_calls_follow_the_contract(&env).await;
    env.relay.handle.shutdown().await;
}

#[tokio::test]
async fn duplicated_and_reordered_deliveries_change_nothing() {
    let env = Env::start().await;
    let (id, gid) = handed_over(&env).await;
    // From now on 8x8 delivers some events twice and swaps others.
    env.sim
        .patch_faults(&FaultsPatch {
            duplicate_rate: Some(1.0),
            reorder_next: Some(2),
            ..FaultsPatch::default()
        })
        .await
        .unwrap();
    env.sim.agent_accept(&gid, Some("agent-d")).await.unwrap();
    for text in ["one", "two", "three"] {
        env.sim.agent_say(&gid, &SayBody::text(text)).await.unwrap();
    }
    let seen = Seen::new("three agent messages");
    eventually(&seen, GUARD, async || {
        let v = env.transcript(&id).await;
        seen.check(
            lane(&v, "agent").len() >= 3 && v["conversation"]["phase"] == "agent",
            v,
        )
    })
    .await;
    // Give any duplicate time to arrive (and be dropped) before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let view = env.transcript(&id).await;
    let mut agent = lane(&view, "agent");
    agent.sort();
    assert_eq!(
        agent,
        ["one", "three", "two"],
        "each message once, whatever the order"
    );
    let joined = lane(&view, "system")
        .iter()
        .filter(|t| t.contains("agent-d joined"))
        .count();
    assert_eq!(joined, 1, "a duplicated join is one join");
    env.relay.handle.shutdown().await;
}

/// A stand-in for a Rasa bot's REST channel: echoes, offers a button, hands over when
/// asked, and fails on "boom".
async fn rasa_stand_in() -> String {
    use axum::{http::StatusCode, response::IntoResponse, routing::post, Json, Router};
    let app = Router::new().route(
        "/webhooks/rest/webhook",
        post(|Json(b): Json<Value>| async move {
            let message = b["message"].as_str().unwrap_or_default().to_string();
            let sender = b["sender"].clone();
            if message == "boom" {
                return (StatusCode::INTERNAL_SERVER_ERROR, "model crashed").into_response();
            }
            if message.contains("agent") {
                return Json(json!([{ "recipient_id": sender, "custom": { "handover": true } }]))
                    .into_response();
            }
            Json(json!([{
                "recipient_id": sender,
                "text": format!("echo: {message}"),
                "buttons": [{ "title": "Yes", "payload": "/affirm" }]
            }]))
            .into_response()
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/webhooks/rest/webhook")
}

#[tokio::test]
async fn an_external_bot_answers_hands_over_and_its_failures_show() {
    let env = Env::start().await;
    let url = rasa_stand_in().await;
    env.settings(|s| {
        s["bot"]["kind"] = json!("external");
        s["bot"]["externalUrl"] = json!(url);
        s["bot"]["externalTimeoutMs"] = json!(2000);
    })
    .await;
    let conv = env
        .api(
            "POST",
            "/api/tester/conversations",
            Some(json!({ "name": "Rae" })),
        )
        .await;
    let id = conv["id"].as_str().unwrap().to_string();
    let view = env.transcript(&id).await;
    assert_eq!(
        lane(&view, "bot"),
        ["echo: /greet"],
        "the start goes to the bot as /greet"
    );

    env.api(
        "POST",
        &format!("/api/tester/conversations/{id}/messages"),
        Some(json!({ "text": "hi" })),
    )
    .await;
    let view = env.transcript(&id).await;
    let last = view["transcript"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["text"], "echo: hi");
    assert_eq!(last["payload"]["quickReplies"][0]["payload"], "/affirm");

    env.api(
        "POST",
        &format!("/api/tester/conversations/{id}/messages"),
        Some(json!({ "text": "boom" })),
    )
    .await;
    let view = env.transcript(&id).await;
    let shown = lane(&view, "system").join("\n");
    assert!(
        shown.contains("500"),
        "the failure is in the conversation: {shown}"
    );
    assert_eq!(view["conversation"]["phase"], "bot");

    env.api(
        "POST",
        &format!("/api/tester/conversations/{id}/messages"),
        Some(json!({ "text": "agent" })),
    )
    .await;
    let seen = Seen::new("handed over");
    let view = eventually(&seen, GUARD, async || {
        let v = env.transcript(&id).await;
        seen.check(v["conversation"]["phase"] == "queued", v)
    })
    .await;
    let handover_message = env.api("GET", "/api/settings", None).await["settings"]["handover"]
        ["handoverMessage"]
        .clone();
    assert!(lane(&view, "bot").contains(&handover_message.as_str().unwrap().to_string()));
    env.relay.handle.shutdown().await;
}
