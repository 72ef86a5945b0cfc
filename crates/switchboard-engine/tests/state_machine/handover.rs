//! Handover mode (chat-gateway.md §6.2): the tester's user talks to the bot here; asked
//! for a person, the relay creates the 8x8 conversation with what it knows and relays
//! both ways.

use serde_json::json;
use switchboard_engine::{Mode, Phase};

use crate::harness::{CHANNEL, COPILOT_LINK, QUEUE};
use crate::script::{Step::*, *};

const CREATED: &str = "8x8 conversation gw-h1 created; waiting for an agent.";

cases! {
    // The create carries the channel, the queue, the user, the JSON properties as
    // additionalProperties (the agent's Copilot link last) and the bot transcript (user + bot lines) as history. What the
    // user types while it is on its way is held back, then sent in order once 8x8
    // answers with its conversation id.
    handover_create_with_history_and_properties_then_held_back_messages_flushed: [
        Settings(|s| s.handover.json_properties = r#"{"intent": "billing", "vip": true}"#.into()),
        Start,
        InPhase(Phase::Bot),
        Lines(&[("bot/local", GREETING)]),
        Say("what are your hours?"),
        Lines(&[("user/local", "what are your hours?"), ("bot/local", HOURS)]),
        Calls(vec![]),
        Say("an agent please"),
        InPhase(Phase::Handover),
        Lines(&[("user/local", "an agent please"), ("bot/local", CONNECTING), ("system/local", HANDOVER_NOTE)]),
        Calls(vec![("createConversation", json!({ "request": {
            "channelId": CHANNEL,
            "user": {
                "name": "Ada Lovelace", "email": "ada@example.com", "language": "en",
                "additionalProperties": [
                    { "key": "intent", "value": "billing" },
                    { "key": "vip", "value": "true" },
                    { "key": "Copilot", "value": COPILOT_LINK },
                ],
            },
            "assignment": { "type": "queue", "id": QUEUE },
            "history": { "messages": [
                { "authorType": "bot", "text": GREETING },
                { "authorType": "user", "text": "what are your hours?" },
                { "authorType": "bot", "text": HOURS },
                { "authorType": "user", "text": "an agent please" },
                { "authorType": "bot", "text": CONNECTING },
            ] },
        } }))]),
        Check("a handover conversation, keyed by its own id, no 8x8 id yet", |s| {
            let c = s.conv();
            assert_eq!(c.mode, Mode::Handover);
            assert_eq!(c.gateway_id, None);
            assert_eq!(s.outbox[0]["orderingKey"], c.id.as_str());
            assert_eq!(s.outbox[0]["request"]["request"]["user"].get("phone"), None);
        }),
        Say("are you there?"),
        Say("hello?"),
        Lines(&[("user/pending", "are you there?"), ("user/pending", "hello?")]),
        Calls(vec![]),
        CreateAnswered("gw-h1"),
        InPhase(Phase::Handover),
        Lines(&[("system/out", CREATED)]),
        Calls(vec![send("gw-h1", "user", "are you there?"), send("gw-h1", "user", "hello?")]),
        Check("8x8's id remembered; the held-back lines are now sent", |s| {
            assert_eq!(s.conv().gateway_id.as_deref(), Some("gw-h1"));
            let held: Vec<_> = s.transcript.iter()
                .filter(|l| l["text"] == "are you there?" || l["text"] == "hello?")
                .map(|l| l["direction"].clone())
                .collect();
            assert_eq!(held, [json!("out"), json!("out")]);
        }),
        // From now on the user's words go to 8x8 at once.
        Say("still there?"),
        Lines(&[("user/out", "still there?")]),
        Calls(vec![send("gw-h1", "user", "still there?")]),
    ];

    // 8x8 refuses the create: the user is told, and the bot has the conversation again.
    handover_create_refused_returns_to_the_bot: [
        Start,
        Say("agent"),
        Seen,
        Say("anyone?"),
        CreateRefused("8x8 answered 400: invalid queue"),
        InPhase(Phase::Bot),
        Lines(&[
            ("user/pending", "anyone?"),
            ("system/local", "The handover failed: 8x8 answered 400: invalid queue"),
            ("bot/local", "Sorry, no agent can be reached right now. I'm still here to help."),
        ]),
        Calls(vec![]),
        Check("no 8x8 conversation", |s| assert_eq!(s.conv().gateway_id, None)),
    ];

    // QUEUED → queued with the queue's name; agent joined → agent; the agent's message is
    // shown in the agent lane; the user's answer goes to 8x8.
    handover_queued_agent_joined_and_messages_relayed: [
        handover_created(),
        Event(queued("Support")),
        InPhase(Phase::Queued),
        Lines(&[("system/in", "Queued in Support.")]),
        Check("the queue's name", |s| assert_eq!(s.conv().queue_name.as_deref(), Some("Support"))),
        Event(agent_joined("agent-7")),
        InPhase(Phase::Agent),
        Lines(&[("system/in", "Agent agent-7 joined.")]),
        Event(at(1_700_000_000_000, agent_says("Hi, I am Ann."))),
        Lines(&[("agent/in", "Hi, I am Ann.")]),
        Calls(vec![]),
        Check("the first agent reply time", |s| {
            assert_eq!(s.conv().first_agent_reply_at_ms, Some(1_700_000_000_000));
        }),
        Say("I have a question"),
        Lines(&[("user/out", "I have a question")]),
        Calls(vec![send("gw-h1", "user", "I have a question")]),
        // P6: the user's post coming back without the echo flag is the relay's own.
        Event(message("user", "I have a question", false)),
        Outcome("own message ignored"),
        Lines(&[]),
        InPhase(Phase::Agent),
    ];

    // P28: handback on and this relay's webhook registered → a post-agent assignment to
    // it right after the create; 8x8's update naming the webhook gives the bot the
    // conversation back.
    handover_with_handback_schedules_the_post_agent_assignment: [
        Settings(|s| s.handover.handback = true),
        HandbackWebhook(Some("wh-relay")),
        handover_created(),
        // (the setup's CreateAnswered already ran: check what it queued)
        Check("one post-agent assignment to the relay's webhook", |s| {
            let calls: Vec<_> = s.outbox.iter().map(|e| e["operation"].clone()).collect();
            assert_eq!(calls, [json!("createConversation"), json!("postAgentAssignment")]);
            assert_eq!(s.outbox[1]["request"], json!({ "operation": "postAgentAssignment",
                "conversationId": "gw-h1", "request": { "type": "webhook", "id": "wh-relay" } }));
        }),
        Event(agent_joined("agent-7")),
        Event(update(json!({ "state": "active", "assignment": { "type": "webhook", "id": "wh-relay" } }))),
        InPhase(Phase::Bot),
        Lines(&[("system/in", "Agent agent-7 joined."), ("system/in", "Handed back to the bot after the agent.")]),
        Calls(vec![]),
        Say("hours"),
        Lines(&[("user/local", "hours"), ("bot/local", HOURS)]),
        Calls(vec![]),
    ];

    // Handback on but the webhook is not registered: nothing to name, the admin is told.
    handover_with_handback_but_no_registered_webhook: [
        Settings(|s| s.handover.handback = true),
        Start,
        Say("agent"),
        Seen,
        CreateAnswered("gw-h1"),
        Lines(&[
            ("system/out", CREATED),
            ("system/local", "Handback is on, but this relay's webhook is not registered in 8x8 (Endpoint settings → Register webhook)."),
        ]),
        Calls(vec![]),
    ];

    // Handback off (the default): no post-agent assignment.
    handover_without_handback_schedules_nothing: [
        HandbackWebhook(Some("wh-relay")),
        Start,
        Say("agent"),
        Seen,
        CreateAnswered("gw-h1"),
        Lines(&[("system/out", CREATED)]),
        Calls(vec![]),
    ];

    // The tester's user leaves while the agent has the chat: the 8x8 side is ended
    // cleanly (P27), the conversation ends.
    tester_leaves_during_the_handover: [
        handover_with_agent(),
        Leave,
        InPhase(Phase::Ended),
        Lines(&[("system/local", "The user left the chat.")]),
        Calls(vec![user_leave("gw-h1")]),
    ];

    // Before any handover there is no 8x8 side to end.
    tester_leaves_the_bot: [
        Start,
        Seen,
        Leave,
        InPhase(Phase::Ended),
        Lines(&[("system/local", "The user left the chat.")]),
        Calls(vec![]),
    ];

    // After the end, a new message re-opens the 8x8 conversation (§6.5).
    tester_writes_after_the_end_reopens_the_8x8_conversation: [
        handover_with_agent(),
        Leave,
        Seen,
        Say("one more thing"),
        InPhase(Phase::Handover),
        Lines(&[
            ("system/out", "Re-opening the 8x8 conversation with a new message."),
            ("user/out", "one more thing"),
        ]),
        Calls(vec![send("gw-h1", "user", "one more thing")]),
        Check("no end time", |s| assert_eq!(s.conv().ended_at_ms, None)),
    ];

    // Asked for an agent again after the bot took over: a new 8x8 conversation; late
    // events of the first one are history, not news.
    second_handover_creates_anew_and_ignores_the_first_8x8_conversation: [
        handover_with_agent(),
        Event(agent_left("agent-7")),
        InPhase(Phase::Bot),
        Seen,
        Say("agent again"),
        InPhase(Phase::Handover),
        Calls(vec![("createConversation", json!({ "request": { "channelId": CHANNEL } }))]),
        CreateAnswered("gw-h2"),
        Seen,
        Event(on("gw-h1", agent_says("a late word"))),
        Outcome("event of an earlier 8x8 conversation gw-h1 ignored"),
        Event(on("gw-h1", idle())),
        Outcome("event of an earlier 8x8 conversation gw-h1 ignored"),
        InPhase(Phase::Handover),
        Lines(&[]),
        Event(queued("Support")),
        InPhase(Phase::Queued),
        Check("the new 8x8 conversation", |s| {
            assert_eq!(s.conv().gateway_id.as_deref(), Some("gw-h2"));
        }),
    ];

    // The agent's workspace lists the rules that answered: the first bot line of each
    // turn carries the rule in its payload; the handover message, said only once the
    // handover goes ahead, carries "handover" when nothing else was said that turn.
    bot_lines_name_the_rule_that_answered: [
        Start,
        Say("what are your hours?"),
        Say("hm"),
        Say("an agent please"),
        InPhase(Phase::Handover),
        Check("greeting, hours, fallback, handover in order", |s| {
            let rules: Vec<_> = s.transcript.iter()
                .filter(|l| l["lane"] == "bot")
                .map(|l| (l["text"].as_str().unwrap_or_default(), l["payload"]["rule"].clone()))
                .collect();
            assert_eq!(rules, [
                (GREETING, json!("greeting")),
                (HOURS, json!("hours")),
                ("Sorry, I did not get that.", json!("fallback")),
                (CONNECTING, json!("handover")),
            ]);
            // Quick replies stay beside the rule.
            assert_eq!(s.transcript.iter().find(|l| l["text"] == GREETING).unwrap()["payload"]["quickReplies"][0]["payload"], "agent");
        }),
    ];
}
