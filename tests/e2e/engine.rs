//! The conversation engine end to end over real HTTP: the emulator plays 8x8 (signed
//! webhooks, agents, web-chat customers), the relay runs with its built-in bot, a temp
//! SQLite database, and the tester API plays the end user of handover mode.

use std::{future::Future, time::Duration};

use reqwest::header;
use serde_json::{json, Value};
use switchboard_e2e::{client, TestRelay};

struct Env {
    relay: TestRelay,
    sim: String,
}

impl Env {
    async fn start() -> Self {
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
        let sim = relay
            .handle
            .state
            .sandbox
            .as_ref()
            .unwrap()
            .base_url
            .clone();
        // Tests drive the agent by hand; the seeded mock agent would race them.
        let res = client()
            .put(format!("{sim}/sim/queues/101/agent"))
            .json(&Value::Null)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{}", res.status());
        Self { relay, sim }
    }

    async fn api(&self, method: &str, path: &str, body: Option<Value>) -> Value {
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

    async fn sim(&self, method: &str, path: &str, body: Value) -> Value {
        let res = client()
            .request(method.parse().unwrap(), format!("{}{path}", self.sim))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v
    }

    async fn transcript(&self, id: &str) -> Value {
        self.api("GET", &format!("/api/conversations/{id}"), None)
            .await
    }

    /// The conversation, or null while the relay does not know it yet.
    async fn maybe_transcript(&self, id: &str) -> Value {
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

    async fn settings(&self, change: impl FnOnce(&mut Value)) {
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

    async fn webchat(&self) -> String {
        let view = self.api("GET", "/api/settings", None).await;
        let hooks = client()
            .get(format!("{}/chat-gateway/v1/webhooks", self.sim))
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
            .clone();
        let started = self
            .sim(
                "POST",
                "/sim/webchat/conversations",
                json!({ "webhookId": hook, "user": { "name": "Wendy Web", "email": "wendy@example.com" } }),
            )
            .await;
        started["conversationId"].as_str().unwrap().to_string()
    }
}

fn lane(view: &Value, lane: &str) -> Vec<String> {
    view["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["lane"] == lane)
        .map(|e| e["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Polls until `check` holds; fails with what was last seen after a generous bound.
async fn eventually<F, Fut>(what: &str, mut check: F) -> Value
where
    F: FnMut() -> Fut,
    Fut: Future<Output = (bool, Value)>,
{
    let mut last = Value::Null;
    for _ in 0..200 {
        let (ok, seen) = check().await;
        if ok {
            return seen;
        }
        last = seen;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen; last seen: {last:#}");
}

/// Waits until 8x8 (the emulator) shows the user as removed: the relay ended its side.
async fn user_removed_in_8x8(env: &Env, gid: &str) {
    eventually("the user removed in 8x8", || async {
        let v = client()
            .get(format!("{}/sim/conversations/{gid}", env.sim))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        let removed = v["participants"].as_array().is_some_and(|p| {
            p.iter()
                .any(|p| p["type"] == "user" && p["removed"] == true)
        });
        (removed, v)
    })
    .await;
}

async fn sim_messages(env: &Env, id: &str) -> Vec<Value> {
    let v = client()
        .get(format!("{}/sim/conversations/{id}", env.sim))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    v["messages"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn endpoint_mode_greets_on_active_answers_and_never_relays_echoes() {
    let env = Env::start().await;
    let id = env.webchat().await;
    // Accept Conversation Active Event is on by default: the bot greets first.
    let view = eventually("the greeting", || async {
        let v = env.maybe_transcript(&id).await;
        (!lane(&v, "bot").is_empty(), v)
    })
    .await;
    assert_eq!(view["conversation"]["mode"], "endpoint");
    assert_eq!(view["conversation"]["user"]["name"], "Wendy Web");
    let greeting = lane(&view, "bot")[0].clone();
    eventually("the greeting in 8x8", || async {
        let m = sim_messages(&env, &id).await;
        let ok = m
            .iter()
            .any(|m| m["author"]["type"] == "bot" && m["text"] == greeting.as_str());
        (ok, json!(m))
    })
    .await;

    env.sim(
        "POST",
        &format!("/sim/conversations/{id}/customer/say"),
        json!({ "text": "what are your opening hours?" }),
    )
    .await;
    let view = eventually("the answer", || async {
        let v = env.transcript(&id).await;
        (lane(&v, "bot").len() >= 2, v)
    })
    .await;
    assert_eq!(lane(&view, "user"), ["what are your opening hours?"]);
    // 8x8 echoes every bot post back; none may come back as a new turn or message.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let view = env.transcript(&id).await;
    let bot_in_8x8 = sim_messages(&env, &id)
        .await
        .iter()
        .filter(|m| m["author"]["type"] == "bot")
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
    eventually("the conversation known to the relay", || async {
        let res = client()
            .get(env.relay.admin(&format!("/api/conversations/{id}")))
            .header(header::AUTHORIZATION, env.relay.bearer())
            .send()
            .await
            .unwrap();
        (res.status().is_success(), Value::Null)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        lane(&env.transcript(&id).await, "bot").is_empty(),
        "no greeting"
    );
    env.sim(
        "POST",
        &format!("/sim/conversations/{id}/customer/say"),
        json!({ "text": "hello" }),
    )
    .await;
    eventually("the bot's first answer", || async {
        let v = env.transcript(&id).await;
        (!lane(&v, "bot").is_empty(), v)
    })
    .await;
    env.relay.handle.shutdown().await;
}

#[tokio::test]
async fn endpoint_escalation_reassigns_to_the_queue_and_the_bot_steps_back() {
    let env = Env::start().await;
    let id = env.webchat().await;
    eventually("greeting", || async {
        let v = env.maybe_transcript(&id).await;
        (!lane(&v, "bot").is_empty(), v)
    })
    .await;
    env.sim(
        "POST",
        &format!("/sim/conversations/{id}/customer/say"),
        json!({ "text": "I want a human agent" }),
    )
    .await;
    eventually("queued in 8x8", || async {
        let v = env.transcript(&id).await;
        (v["conversation"]["phase"] == "queued", v)
    })
    .await;
    env.sim(
        "POST",
        &format!("/sim/conversations/{id}/agent/accept"),
        json!({ "agentId": "agent-ann" }),
    )
    .await;
    env.sim(
        "POST",
        &format!("/sim/conversations/{id}/agent/say"),
        json!({ "text": "Hi, Ann here." }),
    )
    .await;
    let view = eventually("the agent's message", || async {
        let v = env.transcript(&id).await;
        (lane(&v, "agent") == ["Hi, Ann here."], v)
    })
    .await;
    assert_eq!(view["conversation"]["phase"], "agent");
    assert_eq!(view["conversation"]["agentId"], "agent-ann");
    let bots = lane(&view, "bot").len();
    env.sim(
        "POST",
        &format!("/sim/conversations/{id}/customer/say"),
        json!({ "text": "thanks Ann" }),
    )
    .await;
    eventually("the customer's message recorded", || async {
        let v = env.transcript(&id).await;
        (lane(&v, "user").contains(&"thanks Ann".to_string()), v)
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

async fn handed_over(env: &Env) -> (String, String) {
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
    let view = eventually("the 8x8 conversation", || async {
        let v = env.transcript(&id).await;
        (
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
    assert_eq!(
        sent["user"]["additionalProperties"],
        json!([{"key": "intent", "value": "billing"}, {"key": "vip", "value": "true"}])
    );
    let history = sent["history"]["messages"].as_array().unwrap();
    assert_eq!(history.last().unwrap()["authorType"], "bot");
    assert!(history
        .iter()
        .any(|m| m["authorType"] == "user" && m["text"] == "agent please"));
    let in_8x8 = client()
        .get(format!("{}/sim/conversations/{gid}", env.sim))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(in_8x8["user"]["name"], "Tess Tester", "{in_8x8:#}");

    env.sim(
        "POST",
        &format!("/sim/conversations/{gid}/agent/accept"),
        json!({ "agentId": "agent-bo" }),
    )
    .await;
    env.sim(
        "POST",
        &format!("/sim/conversations/{gid}/agent/say"),
        json!({ "text": "Bo here, how can I help?" }),
    )
    .await;
    eventually("the agent's message reaches the tester", || async {
        let v = env.transcript(&id).await;
        (
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
    eventually("the user's message reaches the agent", || async {
        let m = sim_messages(&env, &gid).await;
        let ok = m
            .iter()
            .any(|m| m["author"]["type"] == "user" && m["text"] == "my bill is wrong");
        (ok, json!(m))
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
    env.sim(
        "POST",
        &format!("/sim/conversations/{gid}/agent/end"),
        json!({}),
    )
    .await;
    let view = eventually("back with the bot", || async {
        let v = env.transcript(&id).await;
        (v["conversation"]["phase"] == "bot", v)
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
    env.sim(
        "POST",
        &format!("/sim/conversations/{gid}/agent/accept"),
        json!({ "agentId": "agent-a" }),
    )
    .await;
    eventually("agent a", || async {
        let v = env.transcript(&id).await;
        (v["conversation"]["agentId"] == "agent-a", v)
    })
    .await;
    env.sim(
        "POST",
        &format!("/sim/conversations/{gid}/agent/transfer"),
        json!({ "queueId": "102" }),
    )
    .await;
    let view = eventually("transferred", || async {
        let v = env.transcript(&id).await;
        let queued_again = v["conversation"]["queueId"] == "102";
        (queued_again && v["conversation"]["phase"] != "ended", v)
    })
    .await;
    assert_ne!(
        view["conversation"]["phase"], "bot",
        "an agent left for a transfer is not the end"
    );
    env.sim(
        "POST",
        &format!("/sim/conversations/{gid}/agent/accept"),
        json!({ "agentId": "agent-b" }),
    )
    .await;
    eventually("agent b", || async {
        let v = env.transcript(&id).await;
        (
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
    let view = eventually("the inactivity timeout", || async {
        let v = env.transcript(&id).await;
        (v["conversation"]["phase"] == "ended", v)
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
    env.sim(
        "POST",
        &format!("/sim/conversations/{gid}/agent/accept"),
        json!({}),
    )
    .await;
    env.sim(
        "POST",
        &format!("/sim/conversations/{gid}/agent/end"),
        json!({}),
    )
    .await;
    eventually("closed", || async {
        let v = env.transcript(&id).await;
        (v["conversation"]["phase"] == "ended", v)
    })
    .await;
    env.api(
        "POST",
        &format!("/api/tester/conversations/{id}/messages"),
        Some(json!({ "text": "one more thing" })),
    )
    .await;
    eventually("queued again in 8x8", || async {
        let v = env.transcript(&id).await;
        (v["conversation"]["phase"] == "queued", v)
    })
    .await;
    let interactions: Value = client()
        .get(format!(
            "{}/chat-gateway/v1/conversations/{gid}/interactions",
            env.sim
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
    let log: Value = client()
        .get(format!("{}/sim/log?direction=inbound", env.sim))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let records = log["records"].as_array().expect("log records");
    assert!(!records.is_empty(), "the relay called 8x8");
    let contract = openapi_contract::Contract::get();
    let mut violations = Vec::new();
    for r in records {
        let call = r["recordType"].as_str().unwrap_or_default();
        let (method, path) = call.split_once(' ').unwrap_or((call, ""));
        let path = path.split('?').next().unwrap_or_default();
        let body = r["requestBody"]
            .as_str()
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
    eventually("greeting", || async {
        let v = env.maybe_transcript(&id).await;
        (!lane(&v, "bot").is_empty(), v)
    })
    .await;
    env.sim(
        "POST",
        &format!("/sim/conversations/{id}/customer/say"),
        json!({ "text": "agent" }),
    )
    .await;
    eventually("queued", || async {
        let v = env.transcript(&id).await;
        (v["conversation"]["phase"] == "queued", v)
    })
    .await;
    // Handover mode with history, properties, relay both ways, typing and the end.
    env.settings(|s| {
        s["handover"]["jsonProperties"] = json!("{\"intent\": \"billing\"}");
        s["handover"]["handback"] = json!(true);
    })
    .await;
    let (hid, gid) = handed_over(&env).await;
    env.sim(
        "POST",
        &format!("/sim/conversations/{gid}/agent/accept"),
        json!({}),
    )
    .await;
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
    env.sim(
        "PATCH",
        "/sim/faults",
        json!({ "duplicateRate": 1.0, "reorderNext": 2 }),
    )
    .await;
    env.sim(
        "POST",
        &format!("/sim/conversations/{gid}/agent/accept"),
        json!({ "agentId": "agent-d" }),
    )
    .await;
    for text in ["one", "two", "three"] {
        env.sim(
            "POST",
            &format!("/sim/conversations/{gid}/agent/say"),
            json!({ "text": text }),
        )
        .await;
    }
    eventually("three agent messages", || async {
        let v = env.transcript(&id).await;
        (
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
    let view = eventually("handed over", || async {
        let v = env.transcript(&id).await;
        (v["conversation"]["phase"] == "queued", v)
    })
    .await;
    let handover_message = env.api("GET", "/api/settings", None).await["settings"]["handover"]
        ["handoverMessage"]
        .clone();
    assert!(lane(&view, "bot").contains(&handover_message.as_str().unwrap().to_string()));
    env.relay.handle.shutdown().await;
}
