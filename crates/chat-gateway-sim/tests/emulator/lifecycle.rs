//! The conversation lifecycles of chat-gateway.md §6, end to end over real HTTP: the emulator on
//! port 0, a webhook receiver on 127.0.0.1 port 0, every API response validated against
//! the OpenAPI document.

use std::time::Duration;

use chat_gateway_sim::control_client::{
    FileBody, LogFilter, QuickReplyBody, SayBody, SettingsPatch, SubmitCardBody, WebchatBody,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

/// `expected` occurs in `labels` in this order (other events may sit in between).
fn assert_subsequence(labels: &[String], expected: &[&str]) {
    let mut it = labels.iter();
    for e in expected {
        assert!(
            it.any(|l| l == e),
            "expected {expected:?} in order within {labels:?} (missing {e})"
        );
    }
}

async fn jwk_for(env: &Env, d: &Delivered) -> Value {
    let kid =
        chat_gateway_sim::signing::signature_kid(&d.header("x-8x8-signature").unwrap()).unwrap();
    let r = env
        .api
        .with_key(None)
        .get(&format!("{V1}/jwk/{kid}/public"))
        .await;
    assert_eq!(r.status, 200);
    r.json().clone()
}

async fn assert_signed(env: &Env, d: &Delivered) {
    let jwk = jwk_for(env, d).await;
    chat_gateway_sim::signing::verify_delivery(&jwk, &d.body, |n| d.header(n)).unwrap_or_else(
        |e| {
            panic!(
                "delivery {} does not verify: {e}",
                String::from_utf8_lossy(&d.body)
            )
        },
    );
    assert_eq!(d.header("x-8x8-tenant-id").as_deref(), Some(TENANT));
    assert_eq!(
        d.header("x-8x8-customer-id").as_deref(),
        Some("sandbox-customer")
    );
    assert_eq!(
        d.header("content-type").as_deref(),
        Some("application/json")
    );
}

#[tokio::test]
async fn handover_happy_path() {
    let env = Env::start().await;
    env.fast_agents().await;
    let (_wid, cid) = env.webhook_and_channel().await;
    // Registering the webhook sent WEB_HOOK_VERIFY first.
    let first = env.rx.all();
    assert_eq!(
        first[0].json,
        json!({"notificationVersion":"Chat Gateway v1.0","eventType":"WEB_HOOK_VERIFY"})
    );
    assert_signed(&env, &first[0]).await;

    let conv = env.create_conversation(&cid).await;
    // Right after the 202 the resource exists in state created or already active.
    let r = env.api.get(&format!("{V1}/conversations/{conv}")).await;
    assert_eq!(r.json()["channelId"], cid);
    env.rx
        .wait_event(&conv, "MESSAGE", |j| j["data"]["sender"]["type"] == "agent")
        .await;
    assert_eq!(
        env.rx.labels(&conv),
        vec![
            "CONVERSATION_UPDATE:created:queue",
            "CONVERSATION_UPDATE:active:queue",
            "QUEUED:101",
            "MEMBERS_CHANGED:agent:joined",
            "CONVERSATION_UPDATE:active:agent",
            "ACTIVITY:typing:1",
            "ACTIVITY:typing:0",
            "MESSAGE:agent",
        ]
    );
    let greeting = env
        .rx
        .wait_event(&conv, "MESSAGE", |j| j["data"]["sender"]["type"] == "agent")
        .await;
    assert_eq!(greeting.json["data"]["text"], "Hello from queue 101");
    assert_eq!(greeting.json["data"]["isEcho"], false);

    let r = env
        .api
        .post(
            &format!("{V1}/conversations/{conv}/typing"),
            json!({"authorType": "user"}),
        )
        .await;
    assert_eq!(r.status, 204);
    let r = env
        .api
        .post(
            &format!("{V1}/conversations/{conv}/messages"),
            json!({"authorType": "user", "text": "my order is late"}),
        )
        .await;
    assert_eq!(r.status, 202);
    assert!(r.bytes.is_empty(), "202 carries no body (P5)");
    env.rx
        .wait_event(&conv, "MESSAGE", |j| {
            j["data"]["text"] == "You said: my order is late"
        })
        .await;
    let echo = env
        .rx
        .wait_event(&conv, "MESSAGE", |j| j["data"]["isEcho"] == true)
        .await;
    assert_eq!(echo.json["data"]["sender"]["type"], "user");

    // Every delivery is signed; timestamps never go backwards; event ids are unique.
    let all = env.rx.for_conversation(&conv);
    let mut eids = std::collections::HashSet::new();
    let mut last_ts = 0;
    for d in &all {
        assert_signed(&env, d).await;
        assert_eq!(d.header("x-8x8-retry").as_deref(), Some("0"));
        assert!(eids.insert(d.header("x-8x8-event-id").unwrap()));
        let ts = d.json["timestamp"].as_u64().unwrap();
        assert!(ts >= last_ts);
        last_ts = ts;
    }

    let c = env.api.get(&format!("{V1}/conversations/{conv}")).await;
    assert_eq!(c.json()["state"], "active");
    assert_eq!(
        c.json()["assignment"],
        json!({"type": "agent", "id": "agent-101"})
    );
    assert_eq!(c.json()["user"]["additionalProperties"][0]["key"], "Intent");
    let m = env
        .api
        .get(&format!(
            "{V1}/conversations/{conv}/messages?sort=createdAt:asc"
        ))
        .await;
    let authors: Vec<_> = m.json()["_embedded"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["author"]["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(authors, vec!["user", "bot", "agent", "user", "agent"]);
    // Default order is newest first (P32).
    let newest = env
        .api
        .get(&format!("{V1}/conversations/{conv}/messages?size=1"))
        .await;
    assert_eq!(
        newest.json()["_embedded"]["messages"][0]["text"],
        "You said: my order is late"
    );
    assert_eq!(newest.json()["page"]["totalElements"], 5);
    let p = env
        .api
        .get(&format!("{V1}/conversations/{conv}/participants"))
        .await;
    let ids: Vec<_> = p.json()["_embedded"]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    // Default sort is id:asc.
    assert_eq!(ids, vec!["agent-101", "bot", "user"]);
    // The message the user typed ends their typing pulse in the agent's view; a new
    // pulse shows (for 5 s), and the bot's own pulses are not the user typing.
    let view = env.ctl.conversation(&conv).await.unwrap();
    assert!(!view.user_typing, "the message ended the typing");
    for author in ["bot", "user"] {
        let r = env
            .api
            .post(
                &format!("{V1}/conversations/{conv}/typing"),
                json!({ "authorType": author }),
            )
            .await;
        assert_eq!(r.status, 204);
        let view = env.ctl.conversation(&conv).await.unwrap();
        assert_eq!(view.user_typing, author == "user", "after a {author} pulse");
    }
    env.sim.shutdown().await;
}

#[tokio::test]
async fn transfer_to_another_queue() {
    let env = Env::start().await;
    env.fast_agents().await;
    let (_, cid) = env.webhook_and_channel().await;
    let conv = env.create_conversation(&cid).await;
    env.rx
        .wait_event(&conv, "MEMBERS_CHANGED", |j| {
            j["data"]["change"] == "joined"
        })
        .await;
    env.api
        .post(
            &format!("{V1}/conversations/{conv}/messages"),
            json!({"authorType": "user", "text": "please transfer me"}),
        )
        .await;
    env.rx
        .wait_event(&conv, "MEMBERS_CHANGED", |j| j["data"]["id"] == "agent-102")
        .await;
    let labels = env.rx.labels(&conv);
    assert_subsequence(
        &labels,
        &[
            "MEMBERS_CHANGED:agent:joined",
            "MESSAGE:echo:user",
            "MESSAGE:agent",
            "TRANSFER",
            "MEMBERS_CHANGED:agent:left",
            "CONVERSATION_UPDATE:active:queue",
            "QUEUED:102",
            "MEMBERS_CHANGED:agent:joined",
        ],
    );
    let transfer = env.rx.wait_event(&conv, "TRANSFER", |_| true).await;
    assert!(
        transfer.json.get("data").is_none(),
        "TRANSFER carries no data"
    );
    let c = env.api.get(&format!("{V1}/conversations/{conv}")).await;
    env.rx
        .wait_event(&conv, "CONVERSATION_UPDATE", |j| {
            j["data"]["assignment"]["id"] == "agent-102"
        })
        .await;
    let c2 = env.api.get(&format!("{V1}/conversations/{conv}")).await;
    assert!(
        c.json()["assignment"]["id"] == "agent-102" || c2.json()["assignment"]["id"] == "agent-102"
    );
    let p = env
        .api
        .get(&format!("{V1}/conversations/{conv}/participants"))
        .await;
    let first_agent = p.json()["_embedded"]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "agent-101")
        .cloned()
        .unwrap();
    assert_eq!(first_agent["removed"], true);
    env.sim.shutdown().await;
}

#[tokio::test]
async fn agent_ends_then_user_reopens_on_the_last_queue() {
    let env = Env::start().await;
    env.manual_agents().await;
    let (_, cid) = env.webhook_and_channel().await;
    let conv = env.create_conversation(&cid).await;
    env.rx.wait_event(&conv, "QUEUED", |_| true).await;
    let offers = env.ctl.offers().await.unwrap();
    assert_eq!(offers[0].conversation_id, conv);
    // Ending before anyone accepted is a conflict, not a silent success.
    let refused = env.ctl.agent_end(&conv).await.unwrap_err();
    assert_eq!(refused.status(), Some(StatusCode::CONFLICT), "{refused}");
    env.ctl
        .agent_accept(&conv, Some("agent-jane"))
        .await
        .unwrap();
    env.ctl.agent_typing(&conv, true).await.unwrap();
    let say = SayBody::text("Here is your statement").with_attachment(FileBody::text(
        "statement.txt",
        "text/plain",
        "balance: 42",
    ));
    env.ctl.agent_say(&conv, &say).await.unwrap();
    let msg = env
        .rx
        .wait_event(&conv, "MESSAGE", |j| {
            j["data"]["sender"]["id"] == "agent-jane"
        })
        .await;
    let att = &msg.json["data"]["attachments"][0];
    assert_eq!(att["type"], "file");
    assert_eq!(att["fileName"], "statement.txt");
    let file = env
        .http
        .get(att["preSignedUrl"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(file.text().await.unwrap(), "balance: 42");
    // Transfer by hand to 102, so the re-open below must use 102, not the channel's 101.
    env.ctl.agent_transfer(&conv, "102").await.unwrap();
    env.rx
        .wait_event(&conv, "QUEUED", |j| j["data"]["queueId"] == "102")
        .await;
    env.ctl
        .agent_accept(&conv, Some("agent-sam"))
        .await
        .unwrap();
    env.ctl.agent_end(&conv).await.unwrap();
    env.rx
        .wait_event(&conv, "CONVERSATION_UPDATE", |j| {
            j["data"]["state"] == "idle"
        })
        .await;
    assert_subsequence(
        &env.rx.labels(&conv),
        &[
            "MEMBERS_CHANGED:agent:joined",
            "MEMBERS_CHANGED:agent:left",
            "CONVERSATION_UPDATE:idle:agent",
        ],
    );
    let c = env.api.get(&format!("{V1}/conversations/{conv}")).await;
    assert_eq!(c.json()["state"], "idle");
    let i = env
        .api
        .get(&format!("{V1}/conversations/{conv}/interactions"))
        .await;
    assert!(i.json()["_embedded"]["interactions"][0]["endTime"].is_string());

    // A new message re-opens it: a new interaction, queued on the last queue (P26).
    env.rx.clear();
    env.api
        .post(
            &format!("{V1}/conversations/{conv}/messages"),
            json!({"authorType": "user", "text": "one more thing"}),
        )
        .await;
    env.rx.wait_event(&conv, "QUEUED", |_| true).await;
    env.rx.wait_event(&conv, "MESSAGE", |_| true).await;
    assert_eq!(
        env.rx.labels(&conv),
        vec![
            "CONVERSATION_UPDATE:active:queue",
            "QUEUED:102",
            "MESSAGE:echo:user"
        ]
    );
    let i = env
        .api
        .get(&format!("{V1}/conversations/{conv}/interactions"))
        .await;
    let list = i.json()["_embedded"]["interactions"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(list.len(), 2);
    assert_ne!(list[0]["id"], list[1]["id"]);
    assert!(list[1].get("endTime").is_none());
    env.sim.shutdown().await;
}

#[tokio::test]
async fn user_leaves_and_comes_back() {
    let env = Env::start().await;
    env.manual_agents().await;
    let (_, cid) = env.webhook_and_channel().await;
    let conv = env.create_conversation(&cid).await;
    env.rx.wait_event(&conv, "QUEUED", |_| true).await;
    env.ctl.agent_accept(&conv, None).await.unwrap();
    let r = env
        .api
        .patch(
            &format!("{V1}/conversations/{conv}/participants/user"),
            json!({"removed": true}),
        )
        .await;
    assert_eq!(r.status, 204);
    env.rx
        .wait_event(&conv, "CONVERSATION_UPDATE", |j| {
            j["data"]["state"] == "idle"
        })
        .await;
    assert_subsequence(
        &env.rx.labels(&conv),
        &[
            "MEMBERS_CHANGED:user:left",
            "MEMBERS_CHANGED:agent:left",
            "CONVERSATION_UPDATE:idle:agent",
        ],
    );
    let p = env
        .api
        .get(&format!("{V1}/conversations/{conv}/participants"))
        .await;
    let user = p.json()["_embedded"]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "user")
        .cloned()
        .unwrap();
    assert_eq!(user["removed"], true);
    // A second leave is idempotent and sends nothing (P27).
    let before = env.rx.all().len();
    let r = env
        .api
        .patch(
            &format!("{V1}/conversations/{conv}/participants/user"),
            json!({"removed": true}),
        )
        .await;
    assert_eq!(r.status, 204);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(env.rx.all().len(), before);
    // The agent is free again: no offer is left for this conversation.
    let offers = env.ctl.offers().await.unwrap();
    assert!(offers.is_empty(), "{offers:?}");

    env.rx.clear();
    env.api
        .post(
            &format!("{V1}/conversations/{conv}/messages"),
            json!({"authorType": "user", "text": "I'm back"}),
        )
        .await;
    env.rx.wait_event(&conv, "MESSAGE", |_| true).await;
    assert_eq!(
        env.rx.labels(&conv),
        vec![
            "MEMBERS_CHANGED:user:joined",
            "CONVERSATION_UPDATE:active:queue",
            "QUEUED:101",
            "MESSAGE:echo:user"
        ]
    );
    env.sim.shutdown().await;
}

#[tokio::test]
async fn post_agent_handback_to_the_bot_webhook() {
    let env = Env::start().await;
    env.manual_agents().await;
    let (_, cid) = env.webhook_and_channel().await;
    let bot = Receiver::start().await;
    let w2 = env
        .api
        .post(
            &format!("{V1}/webhooks"),
            json!({"name": "survey bot", "uri": bot.url, "version": "Chat Gateway v1.0"}),
        )
        .await;
    let bot_wid = w2.json()["id"].as_str().unwrap().to_string();
    let conv = env.create_conversation(&cid).await;
    // P22: numeric strings are accepted for the integers.
    let r = env
        .api
        .post(
            &format!("{V1}/conversations/{conv}/post-agent-assignment"),
            json!({"type": "webhook", "id": bot_wid, "configuration": {"notifyChannelWebhookIfExists": "false", "maxTotalMinutes": "600", "userTimeoutInMinutes": 10}}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert!(r.bytes.is_empty());
    env.rx.wait_event(&conv, "QUEUED", |_| true).await;
    env.ctl.agent_accept(&conv, None).await.unwrap();
    env.ctl.agent_end(&conv).await.unwrap();
    // The relay's webhook sees the agent leave; the bot's webhook gets the handback.
    env.rx
        .wait_event(&conv, "MEMBERS_CHANGED", |j| j["data"]["change"] == "left")
        .await;
    let hb = bot.wait_event(&conv, "CONVERSATION_UPDATE", |_| true).await;
    assert_eq!(hb.json["data"]["state"], "active");
    assert_eq!(
        hb.json["data"]["assignment"],
        json!({"type": "webhook", "id": bot_wid})
    );
    let c = env.api.get(&format!("{V1}/conversations/{conv}")).await;
    assert_eq!(c.json()["assignment"]["type"], "webhook");
    // The bot talks through the API after a pause; its echo goes to the handback webhook.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let bot_said = std::time::Instant::now();
    env.api
        .post(
            &format!("{V1}/conversations/{conv}/messages"),
            json!({"authorType": "bot", "text": "How did we do? 1-5"}),
        )
        .await;
    bot.wait_event(&conv, "MESSAGE", |j| j["data"]["isEcho"] == true)
        .await;
    assert!(!env
        .rx
        .for_conversation(&conv)
        .iter()
        .any(|d| d.json["data"]["text"] == "How did we do? 1-5"));
    // userTimeoutInMinutes=10 with a 100 ms test minute: ~1 s.
    let idle = bot
        .wait_event(&conv, "CONVERSATION_UPDATE", |j| {
            j["data"]["state"] == "idle"
        })
        .await;
    // userTimeoutInMinutes counts from the bot's last message, not from the handback.
    assert!(idle.at.duration_since(bot_said).as_millis() >= 950);
    let c = env.api.get(&format!("{V1}/conversations/{conv}")).await;
    assert_eq!(c.json()["state"], "idle");
    env.sim.shutdown().await;
}

#[tokio::test]
async fn web_chat_customer_reaches_the_bot_first_then_an_agent() {
    let env = Env::start().await;
    env.fast_agents().await;
    let (wid, _) = env.webhook_and_channel().await;
    let user = json!({"name": "Visitor"}).as_object().cloned().unwrap();
    let started = env
        .ctl
        .start_webchat(&WebchatBody::webhook(wid).with_user(user))
        .await
        .unwrap();
    let conv = started.conversation_id;
    let active = env
        .rx
        .wait_event(&conv, "CONVERSATION_UPDATE", |j| {
            j["data"]["state"] == "active"
        })
        .await;
    assert_eq!(active.json["data"]["channel"], "WebChat");
    assert_eq!(active.json["data"]["assignment"]["type"], "script");
    // The web-chat channel shows up in the channel list with its own type.
    let chans = env.api.get(&format!("{V1}/channels")).await;
    assert!(chans.json()["_embedded"]["channels"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["type"] == "WebChat"));

    env.ctl.customer_say(&conv, "hello").await.unwrap();
    let m = env
        .rx
        .wait_event(&conv, "MESSAGE", |j| j["data"]["text"] == "hello")
        .await;
    assert_eq!(m.json["data"]["isEcho"], false);
    assert_eq!(m.json["data"]["sender"]["type"], "user");

    // The bot answers with quick replies and an adaptive card.
    let r = env.api.post(&format!("{V1}/conversations/{conv}/messages"), json!({
        "authorType": "bot", "text": "What would you like to do next?",
        "cards": [
            {"contentType": "application/8x8.quick.replies", "content": {"options": [{"title": "Order status", "data": {"postback": "order_status"}}]}},
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": {"type": "AdaptiveCard", "version": "1.3", "body": []}}
        ]
    })).await;
    assert_eq!(r.status, 202);
    let echo = env
        .rx
        .wait_event(&conv, "MESSAGE", |j| j["data"]["sender"]["type"] == "bot")
        .await;
    assert_eq!(echo.json["data"]["isEcho"], true);
    assert_eq!(echo.json["data"]["cards"].as_array().unwrap().len(), 2);
    let msgs = env
        .api
        .get(&format!("{V1}/conversations/{conv}/messages"))
        .await;
    let mid = msgs.json()["_embedded"]["messages"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cards = env
        .api
        .get(&format!("{V1}/conversations/{conv}/messages/{mid}/cards"))
        .await;
    let card_ids: Vec<String> = cards.json()["_embedded"]["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(card_ids.len(), 2);

    let reply = QuickReplyBody {
        title: "Order status".into(),
        payload: "order_status".into(),
        card_id: Some(card_ids[0].clone()),
    };
    env.ctl.customer_quick_reply(&conv, &reply).await.unwrap();
    let qr = env
        .rx
        .wait_event(&conv, "ACTIVITY", |j| {
            j["data"]["name"] == "quickReply/action"
        })
        .await;
    assert_eq!(
        qr.json["data"]["value"],
        json!({"type": "postback", "data": {"title": "Order status", "payload": "order_status"}})
    );
    let submit = SubmitCardBody {
        card_id: Some(card_ids[1].clone()),
        data: json!({"rating": 5}),
        execute: false,
    };
    env.ctl.customer_submit_card(&conv, &submit).await.unwrap();
    let ac = env
        .rx
        .wait_event(&conv, "ACTIVITY", |j| {
            j["data"]["name"] == "adaptiveCard/action"
        })
        .await;
    assert_eq!(
        ac.json["data"]["value"],
        json!({"type": "Action.Submit", "data": {"rating": 5}})
    );
    let cards = env
        .api
        .get(&format!("{V1}/conversations/{conv}/messages/{mid}/cards"))
        .await;
    assert!(cards.json()["_embedded"]["cards"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["actionSubmitted"] == true));
    env.ctl.customer_typing(&conv, true).await.unwrap();
    env.rx
        .wait_event(&conv, "ACTIVITY", |j| {
            j["data"]["value"]["users"][0]["type"] == "user"
        })
        .await;
    // The agent sees the web-chat customer typing too.
    assert!(env.ctl.conversation(&conv).await.unwrap().user_typing);

    // P24: a user read receipt is refused on a non-ChatAPI channel.
    let rr = env
        .api
        .post(
            &format!("{V1}/conversations/{conv}/read-receipt"),
            json!({"authorType": "user", "readAt": 1770200431963u64}),
        )
        .await;
    assert_eq!(rr.status, 400);
    let rr = env
        .api
        .post(
            &format!("{V1}/conversations/{conv}/read-receipt"),
            json!({"authorType": "bot", "readAt": 1770200431963u64}),
        )
        .await;
    assert_eq!(rr.status, 204);

    // The bot escalates by re-assigning to a queue.
    let r = env
        .api
        .patch(
            &format!("{V1}/conversations/{conv}"),
            json!({"assignment": {"type": "queue", "id": "101"}}),
        )
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(
        r.json()["assignment"],
        json!({"type": "queue", "id": "101"})
    );
    env.rx
        .wait_event(&conv, "MESSAGE", |j| j["data"]["sender"]["type"] == "agent")
        .await;
    assert_subsequence(
        &env.rx.labels(&conv),
        &[
            "CONVERSATION_UPDATE:active:queue",
            "QUEUED:101",
            "MEMBERS_CHANGED:agent:joined",
            "MESSAGE:agent",
        ],
    );
    env.ctl
        .customer_say(&conv, "where is my parcel")
        .await
        .unwrap();
    env.rx
        .wait_event(&conv, "MESSAGE", |j| {
            j["data"]["text"] == "You said: where is my parcel"
        })
        .await;
    env.ctl.customer_leave(&conv).await.unwrap();
    env.rx
        .wait_event(&conv, "MEMBERS_CHANGED", |j| {
            j["data"]["memberType"] == "user" && j["data"]["change"] == "left"
        })
        .await;
    env.sim.shutdown().await;
}

#[tokio::test]
async fn retries_after_a_500_with_a_new_signature_each_time() {
    let env = Env::start().await;
    env.manual_agents().await;
    let (_, cid) = env.webhook_and_channel().await;
    env.rx.answer_next(&[500, 503]);
    let conv = env.create_conversation(&cid).await;
    env.rx.wait_event(&conv, "QUEUED", |_| true).await;
    let all = env.rx.for_conversation(&conv);
    let created: Vec<_> = all
        .iter()
        .filter(|d| d.json["data"]["state"] == "created")
        .collect();
    assert_eq!(
        created.iter().map(|d| d.answered).collect::<Vec<_>>(),
        vec![500, 503, 200]
    );
    let retries: Vec<_> = created
        .iter()
        .map(|d| d.header("x-8x8-retry").unwrap())
        .collect();
    assert_eq!(retries, vec!["0", "1", "2"]);
    let eids: std::collections::HashSet<_> = created
        .iter()
        .map(|d| d.header("x-8x8-event-id").unwrap())
        .collect();
    assert_eq!(eids.len(), 1, "one event id across retries");
    let tts: std::collections::HashSet<_> = created
        .iter()
        .map(|d| d.header("x-8x8-transmission-time").unwrap())
        .collect();
    assert_eq!(tts.len(), 3, "a new transmission time per attempt");
    let sigs: std::collections::HashSet<_> = created
        .iter()
        .map(|d| d.header("x-8x8-signature").unwrap())
        .collect();
    assert_eq!(sigs.len(), 3);
    assert!(
        created.iter().all(|d| d.body == created[0].body),
        "same body bytes"
    );
    for d in &created {
        assert_signed(&env, d).await;
    }
    // Order is kept: nothing else for this conversation arrived before the retried event succeeded.
    let first_ok = all.iter().position(|d| d.answered == 200).unwrap();
    assert_eq!(all[first_ok].json["data"]["state"], "created");
    assert!(all[..first_ok]
        .iter()
        .all(|d| d.json["data"]["state"] == "created"));
    // The Event Log has one record per attempt.
    let log = env
        .log(
            LogFilter::default()
                .conversation_id(&conv)
                .record_type("CONVERSATION_UPDATE"),
        )
        .await;
    let statuses: Vec<_> = log
        .iter()
        .take(3)
        .map(|r| (r.status.as_str(), r.retry, r.status_code))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("failed", 0, Some(500)),
            ("failed", 1, Some(503)),
            ("delivered", 2, Some(200))
        ]
    );
    // durationMs is there and a u64: the typed record would not deserialize otherwise.
    let _duration_ms: u64 = log[0].duration_ms;
    assert_eq!(log[0].direction, "outbound");
    env.sim.shutdown().await;
}

#[tokio::test]
async fn a_timeout_is_retried() {
    let env = Env::start().await;
    env.manual_agents().await;
    let (_, cid) = env.webhook_and_channel().await;
    let slow = SettingsPatch {
        delivery_timeout_ms: Some(150),
        retry_schedule_ms: Some(vec![500, 500, 500]),
        ..SettingsPatch::default()
    };
    env.ctl.patch_settings(&slow).await.unwrap();
    env.rx.set_delay_ms(400);
    let conv = env.create_conversation(&cid).await;
    let errors = LogFilter::default().conversation_id(&conv).status("error");
    let r = eventually(
        "a timeout in the Event Log",
        Duration::from_secs(5),
        async || env.log(errors.clone()).await.into_iter().next(),
    )
    .await;
    assert!(r.error.as_deref().unwrap().contains("timeout"), "{r:?}");
    env.rx.set_delay_ms(0);
    let fast = SettingsPatch {
        delivery_timeout_ms: Some(1000),
        ..SettingsPatch::default()
    };
    env.ctl.patch_settings(&fast).await.unwrap();
    env.rx.wait_event(&conv, "QUEUED", |_| true).await;
    let delivered = env
        .log(
            LogFilter::default()
                .conversation_id(&conv)
                .status("delivered")
                .record_type("CONVERSATION_UPDATE"),
        )
        .await;
    assert!(delivered[0].retry >= 1);
    env.sim.shutdown().await;
}

#[tokio::test]
async fn the_handle_drives_agent_and_customer_without_http() {
    let env = Env::start().await;
    env.manual_agents().await;
    let (wid, _) = env.webhook_and_channel().await;
    let (conv, _channel) = env
        .sim
        .start_webchat(None, chat_gateway_sim::WebchatTarget::Webhook(wid), None)
        .unwrap();
    env.rx
        .wait_event(&conv, "CONVERSATION_UPDATE", |j| {
            j["data"]["state"] == "active"
        })
        .await;
    env.sim.customer_say(&conv, "hi bot").unwrap();
    env.rx
        .wait_event(&conv, "MESSAGE", |j| j["data"]["text"] == "hi bot")
        .await;
    // No offer yet: accepting is refused.
    assert_eq!(
        env.sim.agent_accept(&conv, None),
        Err(chat_gateway_sim::EngineError::NoOffer(conv.clone()))
    );
    env.api
        .patch(
            &format!("{V1}/conversations/{conv}"),
            json!({"assignment": {"id": "102"}}),
        )
        .await;
    env.rx.wait_event(&conv, "QUEUED", |_| true).await;
    assert_eq!(env.sim.agent_accept(&conv, Some("ann")).unwrap(), "ann");
    env.sim.agent_typing(&conv, true).unwrap();
    env.sim.agent_say(&conv, "Ann here").unwrap();
    env.sim.agent_transfer(&conv, "101").unwrap();
    assert!(
        env.sim.agent_transfer(&conv, "101").is_err(),
        "no agent after a transfer"
    );
    env.sim.agent_accept(&conv, Some("bob")).unwrap();
    env.sim.agent_end(&conv).unwrap();
    env.sim.customer_leave(&conv).unwrap();
    env.rx
        .wait_event(&conv, "MEMBERS_CHANGED", |j| {
            j["data"]["memberType"] == "user"
        })
        .await;
    assert_subsequence(
        &env.rx.labels(&conv),
        &[
            "CONVERSATION_UPDATE:active:script",
            "MESSAGE:user",
            "QUEUED:102",
            "MEMBERS_CHANGED:agent:joined",
            "ACTIVITY:typing:1",
            "MESSAGE:agent",
            "TRANSFER",
            "QUEUED:101",
            "MEMBERS_CHANGED:agent:joined",
            "MEMBERS_CHANGED:agent:left",
            "CONVERSATION_UPDATE:idle:agent",
            "MEMBERS_CHANGED:user:left",
        ],
    );
    env.sim.shutdown().await;
}

#[tokio::test]
async fn agent_typing_without_a_stop_expires_after_five_seconds() {
    let env = Env::start().await;
    env.manual_agents().await;
    let (_, cid) = env.webhook_and_channel().await;
    let conv = env.create_conversation(&cid).await;
    env.rx.wait_event(&conv, "QUEUED", |_| true).await;
    env.sim.agent_accept(&conv, Some("ann")).unwrap();
    env.sim.agent_typing(&conv, true).unwrap();
    let started = env
        .rx
        .wait_event(&conv, "ACTIVITY", |j| {
            j["data"]["value"]["users"][0]["id"] == "ann"
        })
        .await;
    env.rx
        .wait_until(8_000, "typing to expire", |_| {
            env.rx
                .labels(&conv)
                .contains(&"ACTIVITY:typing:0".to_string())
        })
        .await;
    let stopped = env
        .rx
        .for_conversation(&conv)
        .into_iter()
        .find(|d| label(d) == "ACTIVITY:typing:0")
        .unwrap();
    let waited = stopped.at.duration_since(started.at).as_millis();
    assert!(
        (4_500..7_000).contains(&waited),
        "expired after {waited} ms"
    );
    env.sim.shutdown().await;
}
