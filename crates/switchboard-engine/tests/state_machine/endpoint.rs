//! Endpoint mode (chat-gateway.md §6.6): 8x8 routes a web-chat customer to the bot; the
//! bot answers through 8x8 and, asked for a person, re-assigns the conversation to the
//! queue.

use serde_json::json;
use switchboard_engine::{Mode, Phase};

use crate::script::{Step::*, *};

cases! {
    // §6.6 step 1: with "Accept Conversation Active Event" on, the bot speaks first.
    greeting_on_active_with_accept_conversation_active_event_on: [
        Event(active()),
        InPhase(Phase::Bot),
        Lines(&[("bot/out", GREETING)]),
        Calls(vec![("sendMessage", json!({ "conversationId": GW, "message": {
            "authorType": "bot", "text": GREETING,
            "cards": [{ "contentType": "application/8x8.quick.replies", "content": { "options": [
                { "title": "Talk to a person", "data": { "postback": "agent" } } ] } }] } }))]),
        Check("an endpoint conversation, greeted, its line naming its outbox call", |s| {
            let c = s.conv();
            assert_eq!((c.mode, c.greeted), (Mode::Endpoint, true));
            assert_eq!(c.gateway_id.as_deref(), Some(GW));
            assert_eq!(c.user["channel"], "WebChat");
            assert_eq!(s.transcript[0]["payload"]["outboxId"], s.outbox[0]["id"]);
        }),
        // A second "active" greets no more.
        Event(active()),
        InPhase(Phase::Bot),
        Lines(&[]),
        Calls(vec![]),
    ];

    // With it off the bot waits; the customer's first message gets the answer to it
    // (no greeting first).
    no_greeting_on_active_with_accept_conversation_active_event_off: [
        Settings(|s| s.endpoint.accept_conversation_active_event = false),
        Event(active()),
        InPhase(Phase::Bot),
        Lines(&[]),
        Calls(vec![]),
        Check("known, not greeted", |s| assert!(!s.conv().greeted)),
        Event(customer("what are your hours?")),
        InPhase(Phase::Bot),
        Lines(&[("user/in", "what are your hours?"), ("bot/out", HOURS)]),
        Calls(vec![send(GW, "bot", HOURS)]),
    ];

    // §6.6 step 2: a customer's message (here the first thing 8x8 sends) opens the
    // conversation and gets the bot's reply as a bot message.
    customer_message_gets_a_bot_reply: [
        Event(customer("hours please")),
        InPhase(Phase::Bot),
        Lines(&[("user/in", "hours please"), ("bot/out", HOURS)]),
        Calls(vec![send(GW, "bot", HOURS)]),
        Event(customer("blah")),
        Lines(&[("user/in", "blah"), ("bot/out", "Sorry, I did not get that.")]),
        Calls(vec![send(GW, "bot", "Sorry, I did not get that.")]),
        Check("the customer's last message is remembered", |s| {
            assert!(s.conv().last_user_at_ms.is_some());
        }),
    ];

    // P5: echoes are dropped whatever the conversation — no conversation opened, no
    // line, no call.
    echo_is_dropped_and_nothing_written: [
        Event(message("bot", "Hello from nowhere", true)),
        Outcome("echo ignored"),
        Check("nothing written", |s| {
            assert!(s.conversation.is_none());
            assert!(s.outbox.is_empty());
        }),
        Event(active()),
        Lines(&[("bot/out", GREETING)]),
        Calls(vec![send(GW, "bot", GREETING)]),
        Event(message("bot", GREETING, true)),
        Outcome("echo ignored"),
        Event(message("user", "hours", true)),
        Outcome("echo ignored"),
        InPhase(Phase::Bot),
        Lines(&[]),
        Calls(vec![]),
    ];

    // P6: a bot message without the echo flag can only be the relay's own post.
    own_bot_message_without_echo_flag_is_ignored: [
        Event(active()),
        Seen,
        Event(message("bot", GREETING, false)),
        Outcome("own message ignored"),
        Lines(&[]),
        Calls(vec![]),
    ];

    // 8x8 retries a delivery (same x-8x8-event-id): stored as a duplicate, processed once.
    same_event_id_delivered_twice_is_processed_once: [
        Twice(customer("hours?")),
        Lines(&[("user/in", "hours?"), ("bot/out", HOURS)]),
        Calls(vec![send(GW, "bot", HOURS)]),
        // The conversation's next event comes after it: nothing of the retry in between.
        Event(customer("thanks")),
        Lines(&[("user/in", "thanks"), ("bot/out", "Sorry, I did not get that.")]),
        Calls(vec![send(GW, "bot", "Sorry, I did not get that.")]),
    ];

    // §6.6 step 3: asked for a person, the bot says so and re-assigns the conversation
    // to the queue; no create (8x8 already has the conversation).
    endpoint_escalation_reassigns_to_the_queue: [
        Event(active()),
        Seen,
        Event(customer("I want an agent")),
        InPhase(Phase::Handover),
        Lines(&[("user/in", "I want an agent"), ("bot/out", CONNECTING), ("system/local", HANDOVER_NOTE)]),
        Calls(vec![send(GW, "bot", CONNECTING), to_queue(GW)]),
        // With the queue now, the customer's words are for the agent, not the bot.
        Event(customer("hello?")),
        InPhase(Phase::Handover),
        Lines(&[("user/in", "hello?")]),
        Calls(vec![]),
    ];

    // The greeting's "Talk to a person" button (§5.6 quick reply) escalates the same way.
    endpoint_escalation_by_quick_reply: [
        Event(active()),
        Seen,
        Event(json!({ "eventType": "ACTIVITY", "data": { "name": "quickReply/action",
            "value": { "type": "postback", "data": { "title": "Talk to a person", "payload": "agent" } } } })),
        Outcome("quick reply"),
        InPhase(Phase::Handover),
        Lines(&[("user/in", "Talk to a person"), ("bot/out", CONNECTING), ("system/local", HANDOVER_NOTE)]),
        Calls(vec![send(GW, "bot", CONNECTING), to_queue(GW)]),
    ];

    // §6.2 from the queue on: QUEUED, agent joined, the agent's messages.
    endpoint_queued_then_agent_joined_then_agent_message: [
        endpoint_handed_over(),
        Event(at(1_700_000_000_000, queued("Support"))),
        InPhase(Phase::Queued),
        Lines(&[("system/in", "Queued in Support.")]),
        Check("the queue is remembered", |s| {
            let c = s.conv();
            assert_eq!(c.queue_name.as_deref(), Some("Support"));
            assert_eq!(c.queue_id.as_deref(), Some("q-support"));
            assert_eq!(c.queued_at_ms, Some(1_700_000_000_000));
        }),
        Event(agent_joined("agent-7")),
        InPhase(Phase::Agent),
        Lines(&[("system/in", "Agent agent-7 joined.")]),
        Check("the agent is remembered", |s| {
            assert_eq!(s.conv().agent_id.as_deref(), Some("agent-7"));
            assert!(s.conv().agent_joined_at_ms.is_some());
            assert_eq!(s.conv().first_agent_reply_at_ms, None);
        }),
        Event(at(1_700_000_060_000, agent_says("Hi, I am Ann."))),
        InPhase(Phase::Agent),
        Lines(&[("agent/in", "Hi, I am Ann.")]),
        Check("the first agent reply time is the event's", |s| {
            assert_eq!(s.conv().first_agent_reply_at_ms, Some(1_700_000_060_000));
        }),
        Event(at(1_700_000_090_000, agent_says("How can I help?"))),
        Event(customer("my order is late")),
        Lines(&[("agent/in", "How can I help?"), ("user/in", "my order is late")]),
        Check("the first reply time stays the first", |s| {
            assert_eq!(s.conv().first_agent_reply_at_ms, Some(1_700_000_060_000));
        }),
        // 8x8 shows both sides to each other itself: nothing to relay.
        Calls(vec![]),
    ];
}
