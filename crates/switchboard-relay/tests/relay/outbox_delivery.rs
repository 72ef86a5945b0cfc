//! The durable outbox against the emulator: an 8x8 that answers 503 and 429 for a while
//! gets every call afterwards, in order per conversation; a call 8x8 refuses for good is
//! marked failed without blocking the next; a relay restarted mid-way loses nothing.

use std::time::Duration;

use crate::support::*;
use chat_gateway_client::OutboundCall;
use chat_gateway_client::{types::*, ChatGatewayClient};
use chat_gateway_sim::{Faults, SimHandle};
use switchboard_store::outbox::{Backoff, Outbox};
use switchboard_types::OutboxStatus;

fn fast(outbox: &Outbox, contract: &ContractLog) {
    outbox.set_backoff(Backoff {
        base: Duration::from_millis(20),
        max: Duration::from_millis(200),
    });
    let c = contract.clone();
    outbox.set_observer(std::sync::Arc::new(move |r| c.check(r)));
}

async fn conversation(client: &ChatGatewayClient, channel_id: &str) -> String {
    client
        .create_conversation(&CreateConversation {
            channel_id: channel_id.into(),
            user: ConversationUser {
                name: Some("Customer".into()),
                ..ConversationUser::default()
            },
            assignment: None,
            history: None,
        })
        .await
        .unwrap()
        .conversation_id
}

/// A channel whose events go to a no-op receiver: the relay's conversation engine must
/// not act on them here (it would post to 8x8 itself and consume injected faults).
async fn setup(client: &ChatGatewayClient) -> String {
    let webhook = client
        .create_webhook(&WebhookRequest::new("elsewhere", &noop_receiver().await))
        .await
        .unwrap();
    client
        .create_channel(&ChannelRequest::chat_api("c", &webhook.id, "101"))
        .await
        .unwrap()
        .id
}

/// The texts 8x8 accepted for a conversation, in the order it accepted them, from the
/// emulator's Event Log (the 8x8 side's record, not ours).
fn accepted_texts(sim: &SimHandle, conversation: &str) -> Vec<String> {
    let post = format!("POST /chat-gateway/v1/conversations/{conversation}/messages");
    sim.log()
        .into_iter()
        .filter(|r| r.direction == "inbound" && r.record_type == post)
        .filter(|r| r.status_code.is_some_and(|s| (200..300).contains(&s)))
        .map(|r| {
            let body: serde_json::Value = serde_json::from_str(&r.request_body).unwrap();
            body["text"].as_str().unwrap_or_default().to_string()
        })
        .collect()
}

/// A relay and the emulator with `n` conversations on a channel whose events go
/// nowhere; the relay's outbox retries fast and checks every call against the contract.
struct Started {
    env: Env,
    contract: ContractLog,
    client: ChatGatewayClient,
    channel: String,
    conversations: Vec<String>,
}

async fn started(n: usize) -> Started {
    let env = Env::start().await;
    let contract = ContractLog::default();
    let client = contract.client(&env.sim.base_url(), fast_policy());
    let channel = setup(&client).await;
    let mut conversations = Vec::new();
    for _ in 0..n {
        conversations.push(conversation(&client, &channel).await);
    }
    fast(&env.relay.state.outbox, &contract);
    Started {
        env,
        contract,
        client,
        channel,
        conversations,
    }
}

fn send(conversation: &str, text: &str) -> OutboundCall {
    OutboundCall::SendMessage {
        conversation_id: conversation.into(),
        message: SendMessage::text("user", text),
    }
}

#[tokio::test]
async fn after_503s_and_429s_every_call_is_delivered_in_order_per_conversation() {
    let Started {
        env,
        contract,
        conversations,
        ..
    } = started(2).await;
    let [a, b]: [String; 2] = conversations.try_into().unwrap();
    let outbox = &env.relay.state.outbox;

    env.sim.set_faults(Faults {
        api_fail_next: 12,
        api_fail_status: 503,
        ..Faults::default()
    });
    let mut ids = Vec::new();
    for i in 0..8 {
        for conv in [&a, &b] {
            ids.push(
                outbox
                    .enqueue_for_conversation(&send(conv, &format!("{conv} #{i}")))
                    .await
                    .unwrap(),
            );
        }
    }
    // Once the 503s are spent, 8x8 says 429 with Retry-After for a while.
    let fault_log = env.sim.log().len();
    eventually("the 12 injected 503s spent", WAIT, async || {
        (env.sim.log().len() >= fault_log + 12).then_some(())
    })
    .await;
    env.sim.set_faults(Faults {
        api_fail_next: 3,
        api_fail_status: 429,
        retry_after_secs: 1,
        ..Faults::default()
    });

    for id in &ids {
        let entry = match outbox.wait(*id, Duration::from_secs(30)).await {
            Ok(e) => e,
            Err(e) => panic!("{e}: {:#?}", outbox.list(100, None).await.unwrap()),
        };
        assert_eq!(entry.status, OutboxStatus::Delivered, "{entry:?}");
    }
    let retried = outbox
        .list(100, None)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.attempts > 1)
        .count();
    assert!(retried > 0, "the faults were felt");
    for conv in [&a, &b] {
        let expected: Vec<_> = (0..8).map(|i| format!("{conv} #{i}")).collect();
        assert_eq!(accepted_texts(&env.sim, conv), expected);
    }
    assert_eq!(outbox.open_count().await.unwrap(), 0);
    contract.assert_clean();
    env.shutdown().await;
}

#[tokio::test]
async fn a_call_8x8_refuses_fails_for_good_without_blocking_the_next() {
    let Started {
        env,
        contract,
        client,
        channel,
        conversations,
    } = started(1).await;
    let conv = conversations[0].clone();
    let outbox = &env.relay.state.outbox;

    // Same ordering key, a conversation 8x8 does not know: 404, final.
    let refused = outbox
        .enqueue(&conv, &send("no-such-conversation", "lost"))
        .await
        .unwrap();
    let next = outbox
        .enqueue(&conv, &send(&conv, "after the refusal"))
        .await
        .unwrap();
    let entry = outbox.wait(refused, Duration::from_secs(10)).await.unwrap();
    assert_eq!(entry.status, OutboxStatus::Failed);
    assert_eq!(entry.attempts, 1, "a 4xx is not retried");
    assert_eq!(entry.last_status, Some(404));
    assert!(
        entry.last_error.as_deref().unwrap().contains("404"),
        "{entry:?}"
    );
    assert!(entry.finished_at_ms.is_some());
    let entry = outbox.wait(next, Duration::from_secs(10)).await.unwrap();
    assert_eq!(entry.status, OutboxStatus::Delivered);
    assert_eq!(accepted_texts(&env.sim, &conv), ["after the refusal"]);

    // A create keeps 8x8's answer, so the engine learns the new conversation's id.
    let create = outbox
        .enqueue(
            "handover-1",
            &OutboundCall::CreateConversation {
                request: CreateConversation {
                    channel_id: channel.clone(),
                    user: ConversationUser::default(),
                    assignment: Some(Assignment::queue("101")),
                    history: None,
                },
            },
        )
        .await
        .unwrap();
    let entry = outbox.wait(create, Duration::from_secs(10)).await.unwrap();
    let new_id = entry.response.unwrap()["conversationId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(client.get_conversation(&new_id).await.unwrap().id, new_id);
    contract.assert_clean();
    env.shutdown().await;
}

#[tokio::test]
async fn a_relay_restarted_mid_way_loses_nothing() {
    let sim = start_sim().await;
    let contract = ContractLog::default();
    let client = contract.client(&sim.base_url(), fast_policy());
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path(), &sim.base_url()).await;
    let channel = setup(&client).await;
    let (a, b) = (
        conversation(&client, &channel).await,
        conversation(&client, &channel).await,
    );
    fast(&relay.state.outbox, &contract);

    // 8x8 is down; entries pile up and are retried.
    sim.set_faults(Faults {
        api_fail_next: 1_000_000,
        api_fail_status: 503,
        ..Faults::default()
    });
    for i in 0..5 {
        for conv in [&a, &b] {
            relay
                .state
                .outbox
                .enqueue_for_conversation(&send(conv, &format!("{conv} #{i}")))
                .await
                .unwrap();
        }
    }
    let outbox = relay.state.outbox.clone();
    eventually("an entry retried", WAIT, async || {
        let entries = outbox.list(100, None).await.unwrap();
        entries.iter().any(|e| e.attempts >= 2).then_some(())
    })
    .await;
    drop(outbox);
    relay.shutdown().await;

    // 8x8 recovers while the relay is down; the new relay picks up where the old stopped.
    sim.set_faults(Faults::default());
    let relay = start_relay(dir.path(), &sim.base_url()).await;
    fast(&relay.state.outbox, &contract);
    let outbox = relay.state.outbox.clone();
    let entries = eventually("every entry final", Duration::from_secs(20), async || {
        let entries = outbox.list(100, None).await.unwrap();
        entries.iter().all(|e| e.is_final()).then_some(entries)
    })
    .await;
    assert_eq!(entries.len(), 10);
    assert!(
        entries.iter().all(|e| e.status == OutboxStatus::Delivered),
        "{entries:?}"
    );
    for conv in [&a, &b] {
        let expected: Vec<_> = (0..5).map(|i| format!("{conv} #{i}")).collect();
        // 503 means 8x8 did not take them, so each arrived exactly once, in order.
        assert_eq!(accepted_texts(&sim, conv), expected);
    }
    contract.assert_clean();
    relay.shutdown().await;
    sim.shutdown().await;
}

/// A slow 8x8 (every call answered after 300 ms) holds up only the conversation it is
/// answering: calls for different conversations are in flight together, while each
/// conversation's calls still go one at a time, in order.
#[tokio::test]
async fn a_slow_8x8_is_called_for_many_conversations_at_once_and_one_call_at_a_time_for_each() {
    const LATENCY_MS: u64 = 300;
    const CONVERSATIONS: usize = 40;
    let Started {
        env,
        contract,
        conversations,
        ..
    } = started(CONVERSATIONS).await;
    let outbox = &env.relay.state.outbox;
    env.sim.set_faults(Faults {
        api_latency_ms: LATENCY_MS,
        ..Faults::default()
    });
    let mut ids = Vec::new();
    for i in 0..3 {
        for conv in &conversations {
            let call = send(conv, &format!("{conv} #{i}"));
            ids.push(outbox.enqueue_for_conversation(&call).await.unwrap());
        }
    }
    for id in ids {
        let entry = outbox.wait(id, Duration::from_secs(60)).await.unwrap();
        assert_eq!(entry.status, OutboxStatus::Delivered, "{entry:?}");
    }

    // When each POST was inside the emulator, from its Event Log: the record is written
    // as the answer leaves, after the injected wait and the handling.
    let spans: Vec<(String, u64, u64)> = env
        .sim
        .log()
        .into_iter()
        .filter(|r| r.direction == "inbound" && r.record_type.ends_with("/messages"))
        .map(|r| {
            let conv = r.conversation_id.clone().unwrap_or_else(|| {
                r.record_type
                    .split('/')
                    .nth(4)
                    .unwrap_or_default()
                    .to_string()
            });
            (conv, r.timestamp - LATENCY_MS - r.duration_ms, r.timestamp)
        })
        .collect();
    assert_eq!(spans.len(), 3 * CONVERSATIONS);
    let most_at_once = spans
        .iter()
        .map(|(_, start, _)| {
            spans
                .iter()
                .filter(|(_, s, e)| s <= start && start < e)
                .count()
        })
        .max()
        .unwrap();
    assert!(
        most_at_once >= CONVERSATIONS / 2,
        "calls for different conversations overlap: at most {most_at_once} were in flight together"
    );
    for conv in &conversations {
        let mine: Vec<_> = spans.iter().filter(|(c, _, _)| c == conv).collect();
        assert_eq!(mine.len(), 3, "{conv}");
        for pair in mine.windows(2) {
            // Generous slack for the millisecond clock; two calls sent together would
            // overlap by the whole 300 ms.
            assert!(
                pair[1].1 + 50 >= pair[0].2,
                "{conv}: a call went out before the previous one was answered: {pair:?}"
            );
        }
        let expected: Vec<_> = (0..3).map(|i| format!("{conv} #{i}")).collect();
        assert_eq!(accepted_texts(&env.sim, conv), expected);
    }
    contract.assert_clean();
    env.shutdown().await;
}

/// 8x8's rate limit is per API key: after a 429 with `Retry-After`, no call starts for
/// any conversation before that time has passed.
#[tokio::test]
async fn after_a_429_no_conversation_is_called_before_retry_after() {
    let Started {
        env,
        contract,
        conversations,
        ..
    } = started(2).await;
    let [a, b]: [String; 2] = conversations.try_into().unwrap();
    let outbox = &env.relay.state.outbox;
    env.sim.set_faults(Faults {
        api_fail_next: 1,
        api_fail_status: 429,
        retry_after_secs: 1,
        ..Faults::default()
    });
    let first = outbox
        .enqueue_for_conversation(&send(&a, "to a"))
        .await
        .unwrap();
    // Once the 429 is recorded, a call for another conversation.
    eventually("the 429 recorded", WAIT, async || {
        let e = outbox.get(first).await.unwrap()?;
        (e.last_status == Some(429)).then_some(())
    })
    .await;
    let second = outbox
        .enqueue_for_conversation(&send(&b, "to b"))
        .await
        .unwrap();
    for id in [first, second] {
        let entry = outbox.wait(id, Duration::from_secs(20)).await.unwrap();
        assert_eq!(entry.status, OutboxStatus::Delivered, "{entry:?}");
    }

    let posts: Vec<_> = env
        .sim
        .log()
        .into_iter()
        .filter(|r| r.direction == "inbound" && r.record_type.ends_with("/messages"))
        .collect();
    let refused_at = posts
        .iter()
        .find(|r| r.status_code == Some(429))
        .expect("8x8 said 429")
        .timestamp;
    for r in posts.iter().filter(|r| r.status_code != Some(429)) {
        let started = r.timestamp - r.duration_ms;
        assert!(
            started >= refused_at + 1_000,
            "{} started {} ms after the 429 that asked for 1 s",
            r.record_type,
            started as i64 - refused_at as i64
        );
    }
    assert_eq!(accepted_texts(&env.sim, &b), ["to b"]);
    assert_eq!(accepted_texts(&env.sim, &a), ["to a"]);
    contract.assert_clean();
    env.shutdown().await;
}
