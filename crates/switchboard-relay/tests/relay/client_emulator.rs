//! The 8x8 client against the emulator over real HTTP, with every request it sends
//! checked against 8x8's OpenAPI document, and the emulator's own signed deliveries
//! arriving at the relay's receiver (including deliveries it mis-signs on purpose).

use std::time::Duration;

use crate::support::*;
use bytes::Bytes;
use chat_gateway_client::{types::*, ClientError, RetryPolicy};
use chat_gateway_sim::Faults;

#[tokio::test]
async fn setup_handover_and_teardown_calls_speak_the_contract() {
    let env = Env::start().await;
    let contract = ContractLog::default();
    let client = contract.client(&env.sim.base_url(), fast_policy());

    // Creating the webhook makes 8x8 send WEB_HOOK_VERIFY to the relay, signed.
    let webhook = client
        .create_webhook(&WebhookRequest::new("relay", &env.endpoint))
        .await
        .unwrap();
    assert_eq!(webhook.uri, env.endpoint);
    let verify = env.inbox().store.list(1, None).await.unwrap().remove(0);
    assert_eq!(verify.event_type.as_deref(), Some("WEB_HOOK_VERIFY"));
    assert_eq!(
        (verify.signature.as_str(), verify.status.as_str()),
        ("valid", "ignored")
    );
    let listed = client.list_webhooks(&PageQuery::default()).await.unwrap();
    assert!(listed.items.iter().any(|w| w.id == webhook.id));
    let renamed = client
        .update_webhook(
            &webhook.id,
            &WebhookRequest::new("relay (renamed)", &env.endpoint),
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "relay (renamed)");
    client.verify_webhook(&env.endpoint).await.unwrap();

    let channel = client
        .create_channel(&ChannelRequest::chat_api(
            "bot handover",
            &webhook.id,
            "101",
        ))
        .await
        .unwrap();
    let got = client.get_channel(&channel.id).await.unwrap();
    assert_eq!(got.web_hook_id.as_deref(), Some(webhook.id.as_str()));
    let channels = client
        .list_channels(&PageQuery {
            size: Some(50),
            ..PageQuery::default()
        })
        .await
        .unwrap();
    assert!(channels.items.iter().any(|c| c.id == channel.id));

    let created = client
        .create_conversation(&CreateConversation {
            channel_id: channel.id.clone(),
            user: ConversationUser {
                name: Some("Jane Doe".into()),
                email: Some("jane@example.com".into()),
                language: Some("en".into()),
                additional_properties: vec![KeyValue {
                    key: "Intent".into(),
                    value: "billing".into(),
                }],
                ..ConversationUser::default()
            },
            assignment: Some(Assignment::queue("101")),
            history: Some(History {
                messages: vec![
                    SendMessage::text("user", "Can I see my bill?"),
                    SendMessage::text("bot", "Connecting you to an agent."),
                ],
            }),
        })
        .await
        .unwrap();
    let id = created.conversation_id.clone();
    assert!(!id.is_empty());

    // 8x8's events for the new conversation reach the relay, verified and queued.
    let inbox = env.inbox();
    eventually(
        "the conversation's events verified and queued",
        WAIT,
        async || {
            let rows = inbox.store.list(100, None).await.unwrap();
            rows.iter()
                .any(|r| {
                    r.conversation_id.as_deref() == Some(id.as_str())
                    && r.event_type.as_deref() == Some("CONVERSATION_UPDATE")
                    && r.signature == "valid"
                    // The engine may already have processed it.
                    && queued(&r.status)
                })
                .then_some(())
        },
    )
    .await;

    let conversation = client.get_conversation(&id).await.unwrap();
    assert_eq!(conversation.id, id);
    client.typing(&id, "user").await.unwrap();
    client.thinking(&id, Some(30)).await.unwrap();
    client
        .send_message(&id, &SendMessage::text("user", "Hello agent"))
        .await
        .unwrap();
    // The echo of our own message arrives as a MESSAGE with isEcho (P5).
    eventually("the echo of our own message", WAIT, async || {
        let rows = inbox.store.list(100, None).await.unwrap();
        rows.iter()
            .any(|r| r.event_type.as_deref() == Some("MESSAGE") && r.body.contains("Hello agent"))
            .then_some(())
    })
    .await;
    let messages = client
        .list_messages(
            &id,
            &PageQuery {
                sort: Some("createdAt:asc".into()),
                ..PageQuery::default()
            },
        )
        .await
        .unwrap();
    assert!(messages
        .items
        .iter()
        .any(|m| m.text.as_deref() == Some("Hello agent")));

    let attachment = client
        .upload_attachment(
            &id,
            "note.txt",
            "text/plain",
            Bytes::from_static(b"hello file"),
            "user",
        )
        .await
        .unwrap();
    assert_eq!(attachment.size_in_bytes, Some(10));
    let content = client
        .download_attachment(&id, &attachment.id)
        .await
        .unwrap();
    assert_eq!(&content.bytes[..], b"hello file");
    client
        .send_message(
            &id,
            &SendMessage {
                author_type: "user".into(),
                text: Some("see the file".into()),
                attachments: vec![AttachmentRef {
                    id: attachment.id.clone(),
                }],
                cards: Vec::new(),
            },
        )
        .await
        .unwrap();

    // The interaction is created asynchronously, after `created` (chat-gateway.md §3.4).
    eventually("the conversation's interaction", WAIT, async || {
        let page = client
            .list_interactions(&id, &PageQuery::default())
            .await
            .unwrap();
        (!page.items.is_empty()).then_some(())
    })
    .await;
    client
        .patch_assignment(&id, &Assignment::queue("102"))
        .await
        .unwrap();
    client
        .post_agent_assignment(
            &id,
            &PostAgentAssignment {
                kind: "webhook".into(),
                id: webhook.id.clone(),
                configuration: Some(PostAgentConfiguration {
                    notify_channel_webhook_if_exists: Some("false".into()),
                    max_total_minutes: Some(30),
                    user_timeout_in_minutes: Some(10),
                }),
            },
        )
        .await
        .unwrap();
    client.user_leave(&id).await.unwrap();
    let jwk = client
        .get_jwk(&env.sim.keyring().current_kid())
        .await
        .unwrap();
    assert_eq!(jwk["kty"], "RSA");

    contract.assert_clean();
    let sent = contract.sent.lock().unwrap().len();
    assert!(sent >= 20, "{sent}");
    env.shutdown().await;
}

#[tokio::test]
async fn errors_keep_message_codes_and_reference_id() {
    let env = Env::start().await;
    let contract = ContractLog::default();
    let client = contract.client(&env.sim.base_url(), fast_policy());
    let err = client
        .get_conversation("no-such-conversation")
        .await
        .unwrap_err();
    let ClientError::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.status, 404);
    assert!(api.message.contains("no-such-conversation"), "{api:?}");
    assert_eq!(err.code(), "8x8_not_found");
    assert!(err.is_permanent());

    // A bad request on send-message uses the object-shaped `errors` (BadRequestProblem).
    let err = client
        .send_message("no-such-conversation", &SendMessage::text("robot", "hi"))
        .await
        .unwrap_err();
    assert!(matches!(err.status(), Some(400 | 404)), "{err:?}");

    // A wrong key: 401 with access_denied, and the key appears nowhere in the error.
    let bad = chat_gateway_client::ChatGatewayClient::with_policy(
        chat_gateway_client::Connection {
            base_url: env.sim.base_url(),
            tenant: Some(TENANT.into()),
            api_key: switchboard_settings::secrets::Secret::new("wrong-key-123"),
        },
        fast_policy(),
    );
    let err = bad.list_webhooks(&PageQuery::default()).await.unwrap_err();
    let ClientError::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.status, 401);
    assert!(!api.codes.is_empty() || !api.message.is_empty());
    assert!(!format!("{err} {err:?}").contains("wrong-key-123"));
    env.shutdown().await;
}

#[tokio::test]
async fn idempotent_calls_ride_out_429_and_5xx_and_sends_only_when_safe() {
    let env = Env::start().await;
    let contract = ContractLog::default();
    let client = contract.client(&env.sim.base_url(), fast_policy());
    let webhook = client
        .create_webhook(&WebhookRequest::new("elsewhere", &noop_receiver().await))
        .await
        .unwrap();

    env.sim.set_faults(Faults {
        api_fail_next: 2,
        api_fail_status: 429,
        retry_after_secs: 1,
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    let listed = client.list_webhooks(&PageQuery::default()).await.unwrap();
    assert!(listed.items.iter().any(|w| w.id == webhook.id));
    // Retry-After was honoured (1 s, twice), not the 20 ms backoff.
    assert!(started.elapsed() >= Duration::from_millis(1900));

    env.sim.set_faults(Faults {
        api_fail_next: 2,
        api_fail_status: 500,
        ..Faults::default()
    });
    client
        .get_jwk(&env.sim.keyring().current_kid())
        .await
        .unwrap();

    let channel = client
        .create_channel(&ChannelRequest::chat_api("c", &webhook.id, "101"))
        .await
        .unwrap();
    let created = client
        .create_conversation(&CreateConversation {
            channel_id: channel.id,
            user: ConversationUser {
                name: Some("A".into()),
                ..ConversationUser::default()
            },
            assignment: None,
            history: None,
        })
        .await
        .unwrap();
    let id = created.conversation_id;

    // 503: 8x8 did not take the message, so even a send is retried inline.
    env.sim.set_faults(Faults {
        api_fail_next: 1,
        api_fail_status: 503,
        ..Faults::default()
    });
    client
        .send_message(&id, &SendMessage::text("user", "after a 503"))
        .await
        .unwrap();
    // 500: 8x8 may have taken it; the client does not send it twice (P10).
    env.sim.set_faults(Faults {
        api_fail_next: 1,
        api_fail_status: 500,
        ..Faults::default()
    });
    let err = client
        .send_message(&id, &SendMessage::text("user", "after a 500"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(500));

    // With retries off, the first 429 comes back as is, with its Retry-After.
    let once = contract.client(&env.sim.base_url(), RetryPolicy::once());
    env.sim.set_faults(Faults {
        api_fail_next: 1,
        api_fail_status: 429,
        retry_after_secs: 7,
        ..Faults::default()
    });
    let err = once.get_conversation(&id).await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    contract.assert_clean();
    env.shutdown().await;
}

#[tokio::test]
async fn mis_signed_and_unsigned_deliveries_from_8x8_are_refused_on_every_attempt() {
    let env = Env::start().await;
    let contract = ContractLog::default();
    let client = contract.client(&env.sim.base_url(), fast_policy());
    let webhook = client
        .create_webhook(&WebhookRequest::new("relay", &env.endpoint))
        .await
        .unwrap();
    let channel = client
        .create_channel(&ChannelRequest::chat_api("c", &webhook.id, "101"))
        .await
        .unwrap();
    env.sim.set_faults(Faults {
        unsigned_next: 1,
        bad_signature_next: 1,
        ..Faults::default()
    });
    let created = client
        .create_conversation(&CreateConversation {
            channel_id: channel.id,
            user: ConversationUser {
                name: Some("B".into()),
                ..ConversationUser::default()
            },
            assignment: None,
            history: None,
        })
        .await
        .unwrap();
    let id = created.conversation_id;
    let inbox = env.inbox();
    // The emulator's fault spoils one event for all of its attempts: each attempt is
    // refused (8x8 sees 401 and retries), none reaches the engine, the other events pass.
    let rows = eventually("4 refused attempts and 2 queued events", WAIT, async || {
        let rows: Vec<_> = inbox
            .store
            .list(200, None)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.conversation_id.as_deref() == Some(id.as_str()))
            .collect();
        let rejected = rows.iter().filter(|r| r.status == "rejected").count();
        // Queued for the engine, or already taken by it.
        let originals = rows.iter().filter(|r| queued(&r.status)).count();
        (rejected >= 4 && originals >= 2).then_some(rows)
    })
    .await;
    let refused: Vec<_> = rows.iter().filter(|r| r.status == "rejected").collect();
    assert!(refused.iter().all(|r| r.http_status == 401));
    let reasons: Vec<_> = refused
        .iter()
        .map(|r| r.signature_reason.clone().unwrap_or_default())
        .collect();
    assert!(
        reasons.iter().any(|r| r.starts_with("missing_header")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.starts_with("bad_signature")),
        "{reasons:?}"
    );
    for r in &refused {
        assert!(
            !rows
                .iter()
                .any(|q| q.event_id == r.event_id && q.status != "rejected"),
            "a refused event was processed: {r:?}"
        );
    }
    let mut originals: Vec<_> = rows
        .iter()
        .filter(|r| queued(&r.status))
        .filter_map(|r| r.event_id.clone())
        .collect();
    let n = originals.len();
    originals.sort();
    originals.dedup();
    assert_eq!(originals.len(), n, "each event is queued once");
    // The emulator saw the refusals (its Event Log is 8x8's view).
    assert!(env
        .sim
        .log()
        .iter()
        .any(|l| l.direction == "outbound" && l.status_code == Some(401)));
    contract.assert_clean();
    env.shutdown().await;
}
