//! The agent side as a person drives it through the control API (the app's agent
//! console): an agent who transferred or ended a chat can no longer act in it, the view
//! says who handled it and how each part ended, and a queue taken over from its
//! scripted agent keeps its offers for the person.

use std::time::Duration;

use chat_gateway_sim::control_client::{AgentScript, SayBody};
use chat_gateway_sim::SessionEnd;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

/// `POST /sim/conversations/{id}/agent/{action}` with a JSON body; the status.
async fn agent_action(env: &Env, conv: &str, action: &str, body: serde_json::Value) -> u16 {
    env.http
        .post(format!(
            "{}/sim/conversations/{conv}/agent/{action}",
            env.sim.base_url()
        ))
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn an_agent_who_transferred_can_no_longer_speak_type_or_end() {
    let env = Env::start().await;
    env.manual_agents().await;
    let (_, cid) = env.webhook_and_channel().await;
    let conv = env.create_conversation(&cid).await;
    env.rx.wait_event(&conv, "QUEUED", |_| true).await;
    env.ctl.agent_accept(&conv, Some("ann")).await.unwrap();
    env.ctl
        .agent_say(&conv, &SayBody::text("Ann here").as_agent("ann"))
        .await
        .unwrap();
    let to_102 = json!({"queueId": "102", "agentId": "ann"});
    assert_eq!(
        agent_action(&env, &conv, "transfer", to_102.clone()).await,
        200
    );
    env.rx
        .wait_event(&conv, "QUEUED", |j| j["data"]["queueId"] == "102")
        .await;

    // In the queue, and then with Sam: Ann is refused every action (8x8 closed her chat).
    let late = SayBody::text("still here?").as_agent("ann");
    let refused = env.ctl.agent_say(&conv, &late).await.unwrap_err();
    assert_eq!(refused.status(), Some(StatusCode::CONFLICT), "{refused}");
    env.ctl.agent_accept(&conv, Some("sam")).await.unwrap();
    let refused = env.ctl.agent_say(&conv, &late).await.unwrap_err();
    assert_eq!(refused.status(), Some(StatusCode::CONFLICT), "{refused}");
    assert!(
        refused.to_string().contains("no longer handles"),
        "{refused}"
    );
    for (action, body) in [
        ("typing", json!({"typing": true, "agentId": "ann"})),
        ("transfer", to_102),
        ("end", json!({"agentId": "ann"})),
    ] {
        assert_eq!(
            agent_action(&env, &conv, action, body).await,
            409,
            "{action}"
        );
    }
    // Sam, the agent now, speaks; naming no agent still means "the conversation's agent".
    env.ctl
        .agent_say(&conv, &SayBody::text("Sam here").as_agent("sam"))
        .await
        .unwrap();
    env.ctl
        .agent_say(&conv, &SayBody::text("and again"))
        .await
        .unwrap();
    env.rx
        .wait_event(&conv, "MESSAGE", |j| j["data"]["text"] == "and again")
        .await;
    let texts: Vec<String> = env
        .rx
        .for_conversation(&conv)
        .iter()
        .filter(|d| d.event_type() == "MESSAGE")
        .map(|d| d.json["data"]["text"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        !texts.iter().any(|t| t == "still here?"),
        "the refused message never reached the bot side: {texts:?}"
    );

    let view = env.ctl.conversation(&conv).await.unwrap();
    assert_eq!(
        view.history_count, 2,
        "the two history messages of the create"
    );
    let ann = &view.agent_sessions[0];
    assert_eq!(ann.agent_id, "ann");
    assert!(!ann.scripted);
    assert_eq!(ann.ended_by, Some(SessionEnd::Transfer));
    assert_eq!(ann.to_queue_id.as_deref(), Some("102"));
    assert_eq!(ann.to_queue_name.as_deref(), Some("Sandbox escalations"));
    assert!(ann.left_at_ms.is_some_and(|t| t >= ann.joined_at_ms));
    assert_eq!(view.agent_sessions[1].agent_id, "sam");
    assert_eq!(view.agent_sessions[1].left_at_ms, None);

    // Ending: Sam's part closes as an end, and Sam is refused from then on.
    assert_eq!(
        agent_action(&env, &conv, "end", json!({"agentId": "sam"})).await,
        200
    );
    let refused = env
        .ctl
        .agent_say(&conv, &SayBody::text("one more").as_agent("sam"))
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(StatusCode::CONFLICT));
    let view = env.ctl.conversation(&conv).await.unwrap();
    assert_eq!(view.agent_sessions[1].ended_by, Some(SessionEnd::End));
}

#[tokio::test]
async fn the_view_tells_a_scripted_agent_from_a_person() {
    let env = Env::start().await;
    env.fast_agents().await;
    let (_, cid) = env.webhook_and_channel().await;
    let conv = env.create_conversation(&cid).await;
    env.rx
        .wait_event(&conv, "MESSAGE", |j| {
            j["data"]["text"] == "Hello from queue 101"
        })
        .await;
    env.ctl.set_queue_agent("102", None).await.unwrap();
    env.ctl
        .agent_transfer(&conv, "102")
        .await
        .expect("the scripted agent's chat, transferred");
    env.rx
        .wait_event(&conv, "QUEUED", |j| j["data"]["queueId"] == "102")
        .await;
    env.ctl.agent_accept(&conv, Some("pat")).await.unwrap();
    env.ctl
        .agent_say(&conv, &SayBody::text("Pat here").as_agent("pat"))
        .await
        .unwrap();
    let view = env.ctl.conversation(&conv).await.unwrap();
    let by = |text: &str| {
        view.messages
            .iter()
            .find(|m| m.text == text)
            .unwrap_or_else(|| panic!("{text} in {:?}", view.messages))
    };
    assert!(by("Hello from queue 101").scripted);
    assert_eq!(by("Hello from queue 101").author.id, "agent-101");
    assert!(!by("Pat here").scripted);
    assert!(!by("Can I get my balance?").scripted);
    assert!(view.agent_sessions[0].scripted);
    assert!(!view.agent_sessions[1].scripted);
}

#[tokio::test]
async fn a_queue_taken_over_keeps_its_offers_from_the_scripted_agent() {
    let env = Env::start().await;
    let slow = AgentScript {
        agent_id: "slow-script".into(),
        accept_after_ms: 300,
        typing_ms: 10,
        greeting: None,
        replies: Vec::new(),
        transfer_keyword: None,
        transfer_to: None,
        end_keyword: None,
    };
    env.ctl.set_queue_agent("101", Some(&slow)).await.unwrap();
    let (_, cid) = env.webhook_and_channel().await;
    let conv = env.create_conversation(&cid).await;
    env.rx.wait_event(&conv, "QUEUED", |_| true).await;
    // Taken over before the script's accept is due: the offer waits for the person.
    env.ctl.set_queue_agent("101", None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let view = env.ctl.conversation(&conv).await.unwrap();
    assert_eq!(
        view.agent, None,
        "the scripted agent took a queue run by a person"
    );
    assert!(view.offer.is_some());

    // Given back: the waiting offer goes to the scripted agent, as a new one would.
    env.ctl.set_queue_agent("101", Some(&slow)).await.unwrap();
    let agent = eventually(
        "the scripted agent to accept",
        Duration::from_secs(5),
        async || env.ctl.conversation(&conv).await.unwrap().agent,
    )
    .await;
    assert_eq!(agent, "slow-script");
}
