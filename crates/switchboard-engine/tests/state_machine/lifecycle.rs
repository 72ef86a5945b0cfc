//! After the agent joined (chat-gateway.md §6.3–6.5, P12, P13): the agent leaving with
//! and without a transfer, the endings, re-opening, the inactivity timeout, and events
//! out of order.

use std::time::Duration;

use serde_json::json;
use switchboard_engine::Phase;
use switchboard_settings::AgentLeaves;

use crate::script::{Step::*, *};

const AGENT_LEFT: &str = "The agent left the conversation.";
const CLOSED: &str = "Closed after the agent left.";
const ENDED_BY_AGENT: &str = "Ended by the agent. Without a handback 8x8 closes the chat and the bot stays silent; a new customer message re-opens it in the queue.";
const WAITING_FOR_HANDBACK: &str =
    "Waiting for 8x8 to hand the conversation back to the bot (handback).";

cases! {
    // ---- the agent leaves (P13) ----

    // Endpoint mode, no handback: 8x8 closes the chat when the agent ends it, so the bot
    // says nothing (a post would re-open it in the queue) and the conversation ends —
    // whatever the "when the agent leaves" setting, which is the relay's own user's.
    endpoint_agent_left_without_handback_ends_silently: [
        endpoint_with_agent(),
        Event(agent_left("agent-7")),
        InPhase(Phase::Ended),
        Lines(&[("system/in", AGENT_LEFT), ("system/local", ENDED_BY_AGENT)]),
        Calls(vec![]),
        Check("an end time", |s| assert!(s.conv().ended_at_ms.is_some())),
        // 8x8's idle update that follows changes nothing more.
        Event(idle()),
        Lines(&[]),
        Calls(vec![]),
    ];

    endpoint_agent_left_with_close_set_also_ends_silently: [
        Settings(|s| s.handover.when_agent_leaves = AgentLeaves::Close),
        endpoint_with_agent(),
        Event(agent_left("agent-7")),
        InPhase(Phase::Ended),
        Lines(&[("system/in", AGENT_LEFT), ("system/local", ENDED_BY_AGENT)]),
        Calls(vec![]),
    ];

    // The customer writes after that: 8x8 re-opens the chat in the last queue (§6.5);
    // the bot stays quiet even when the message comes before 8x8's updates (P12).
    endpoint_customer_after_the_agent_ended_is_queued_again: [
        endpoint_with_agent(),
        Event(agent_left("agent-7")),
        InPhase(Phase::Ended),
        Seen,
        Event(customer("hello?")),
        InPhase(Phase::Queued),
        Lines(&[("user/in", "hello?")]),
        Calls(vec![]),
    ];

    endpoint_reopen_update_naming_the_queue_is_queued: [
        endpoint_with_agent(),
        Event(agent_left("agent-7")),
        Seen,
        Event(update(json!({ "state": "active", "assignment": { "type": "queue", "id": "q-support" } }))),
        InPhase(Phase::Queued),
        Lines(&[("system/in", "The conversation was re-opened.")]),
        Event(queued("Support")),
        Event(agent_joined("agent-8")),
        InPhase(Phase::Agent),
        Calls(vec![]),
    ];

    // Endpoint mode with handback on: the re-assignment to the queue is followed by a
    // post-agent assignment to the relay's webhook; when the agent leaves the bot waits
    // for 8x8's hand-back, and only then says it is back.
    endpoint_with_handback_is_given_back_by_8x8: [
        Settings(|s| s.handover.handback = true),
        HandbackWebhook(Some("wh-relay")),
        Event(customer("I need an agent")),
        Calls(vec![send(GW, "bot", CONNECTING), to_queue(GW), post_agent(GW, "wh-relay")]),
        Event(queued("Support")),
        Event(agent_joined("agent-7")),
        Seen,
        Event(agent_left("agent-7")),
        InPhase(Phase::Agent),
        Lines(&[("system/in", AGENT_LEFT), ("system/local", WAITING_FOR_HANDBACK)]),
        Calls(vec![]),
        Event(update(json!({ "state": "active", "assignment": { "type": "webhook", "id": "wh-relay" } }))),
        InPhase(Phase::Bot),
        Lines(&[("system/in", "Handed back to the bot after the agent."), ("bot/out", BOT_IS_BACK)]),
        Calls(vec![send(GW, "bot", BOT_IS_BACK)]),
        Event(customer("hours")),
        Lines(&[("user/in", "hours"), ("bot/out", HOURS)]),
        Calls(vec![send(GW, "bot", HOURS)]),
    ];

    // The hand-back update may come before the agent-left event (P12).
    endpoint_handback_before_agent_left: [
        Settings(|s| s.handover.handback = true),
        HandbackWebhook(Some("wh-relay")),
        endpoint_with_agent(),
        Event(update(json!({ "state": "active", "assignment": { "type": "webhook", "id": "wh-relay" } }))),
        InPhase(Phase::Bot),
        Seen,
        Event(agent_left("agent-7")),
        InPhase(Phase::Bot),
        Lines(&[("system/in", AGENT_LEFT)]),
        Calls(vec![]),
    ];

    // Handback on, but 8x8 closed the chat instead (the post-agent assignment failed):
    // the idle update ends it, the bot says nothing.
    endpoint_with_handback_but_8x8_closes: [
        Settings(|s| s.handover.handback = true),
        HandbackWebhook(Some("wh-relay")),
        endpoint_with_agent(),
        Event(agent_left("agent-7")),
        Seen,
        Event(idle()),
        InPhase(Phase::Ended),
        Lines(&[("system/local", "8x8 closed the conversation.")]),
        Calls(vec![]),
    ];

    handover_agent_left_resumes_the_bot: [
        handover_with_agent(),
        Event(agent_left("agent-7")),
        InPhase(Phase::Bot),
        Lines(&[("system/in", AGENT_LEFT), ("bot/local", BOT_IS_BACK)]),
        Calls(vec![]),
        Say("hours"),
        Lines(&[("user/local", "hours"), ("bot/local", HOURS)]),
        Calls(vec![]),
    ];

    handover_agent_left_closes: [
        Settings(|s| s.handover.when_agent_leaves = AgentLeaves::Close),
        handover_with_agent(),
        Event(agent_left("agent-7")),
        InPhase(Phase::Ended),
        Lines(&[("system/in", AGENT_LEFT), ("bot/local", GOODBYE), ("system/local", CLOSED)]),
        Calls(vec![user_leave("gw-h1")]),
    ];

    // ---- transfer (§6.3) ----

    // TRANSFER, then the agent leaving for it, is not the end — even with "close" on;
    // the next agent clears the flag, and their leaving is the end.
    transfer_then_agent_left_is_transferred: [
        Settings(|s| s.handover.when_agent_leaves = AgentLeaves::Close),
        endpoint_with_agent(),
        Event(transfer()),
        InPhase(Phase::Transferred),
        Lines(&[("system/in", "The agent transferred the conversation.")]),
        Check("a transfer is pending", |s| assert!(s.conv().transfer_pending)),
        Event(agent_left("agent-7")),
        InPhase(Phase::Transferred),
        Lines(&[("system/in", "Agent agent-7 left for the transfer.")]),
        Calls(vec![]),
        Event(queued("Billing")),
        InPhase(Phase::Queued),
        Event(agent_joined("agent-9")),
        InPhase(Phase::Agent),
        Lines(&[("system/in", "Queued in Billing."), ("system/in", "Agent agent-9 joined.")]),
        Check("the new agent, no transfer pending", |s| {
            assert!(!s.conv().transfer_pending);
            assert_eq!(s.conv().agent_id.as_deref(), Some("agent-9"));
            assert_eq!(s.conv().queue_name.as_deref(), Some("Billing"));
        }),
        // Endpoint mode: the second agent ending it is 8x8's close, not the relay's.
        Event(agent_left("agent-9")),
        InPhase(Phase::Ended),
        Calls(vec![]),
    ];

    // ---- endings (§6.4) ----

    // The customer left: ended, nothing to send; 8x8 then frees the agent, which
    // changes nothing (even with "close" on: no leave of our own).
    customer_left_ends: [
        Settings(|s| s.handover.when_agent_leaves = AgentLeaves::Close),
        endpoint_with_agent(),
        Event(user_left()),
        InPhase(Phase::Ended),
        Lines(&[("system/local", "The customer left.")]),
        Calls(vec![]),
        Check("an end time", |s| assert!(s.conv().ended_at_ms.is_some())),
        Event(agent_left("agent-7")),
        InPhase(Phase::Ended),
        Lines(&[("system/in", AGENT_LEFT)]),
        Calls(vec![]),
    ];

    idle_update_ends_a_handed_over_conversation: [
        endpoint_with_agent(),
        Event(idle()),
        InPhase(Phase::Ended),
        Lines(&[("system/local", "8x8 closed the conversation.")]),
        Calls(vec![]),
    ];

    idle_update_leaves_a_conversation_with_the_bot_alone: [
        Event(active()),
        Seen,
        Event(idle()),
        InPhase(Phase::Bot),
        Lines(&[]),
        Calls(vec![]),
    ];

    // ---- re-opening (§6.5) ----

    // 8x8 re-opens a conversation that was queued in its last queue (§6.5): the bot
    // leaves the customer to the agent who will take it.
    reopen_of_an_ended_endpoint_conversation: [
        endpoint_with_agent(),
        Event(user_left()),
        InPhase(Phase::Ended),
        Seen,
        Event(update(json!({ "state": "active" }))),
        InPhase(Phase::Queued),
        Lines(&[("system/in", "The conversation was re-opened.")]),
        Calls(vec![]),
        Check("no end time", |s| assert_eq!(s.conv().ended_at_ms, None)),
        Event(customer("hours")),
        Lines(&[("user/in", "hours")]),
        Calls(vec![]),
    ];

    // Never queued: the re-opened conversation is the bot's again.
    reopen_of_an_ended_bot_conversation: [
        Event(active()),
        Event(user_left()),
        InPhase(Phase::Ended),
        Seen,
        Event(update(json!({ "state": "active" }))),
        InPhase(Phase::Bot),
        Lines(&[("system/in", "The conversation was re-opened.")]),
        Event(customer("hours")),
        Lines(&[("user/in", "hours"), ("bot/out", HOURS)]),
        Calls(vec![send(GW, "bot", HOURS)]),
    ];

    reopen_of_an_ended_handover_conversation: [
        handover_with_agent(),
        Leave,
        InPhase(Phase::Ended),
        Seen,
        Event(update(json!({ "state": "active" }))),
        InPhase(Phase::Handover),
        Lines(&[("system/in", "The conversation was re-opened.")]),
        Calls(vec![]),
        Check("no end time", |s| assert_eq!(s.conv().ended_at_ms, None)),
        Event(queued("Support")),
        Event(agent_joined("agent-8")),
        InPhase(Phase::Agent),
    ];

    // A customer writing to an ended endpoint conversation talks to the bot again.
    customer_message_after_the_end_goes_to_the_bot: [
        Event(active()),
        Event(user_left()),
        InPhase(Phase::Ended),
        Seen,
        Event(customer("hours")),
        InPhase(Phase::Bot),
        Lines(&[("user/in", "hours"), ("bot/out", HOURS)]),
        Calls(vec![send(GW, "bot", HOURS)]),
    ];

    // ---- the inactivity timeout ----

    // A handed-over conversation whose user said nothing for the timeout is ended and
    // the 8x8 side left; an endpoint conversation (8x8's customer) is never timed out.
    inactivity_timeout_ends_a_quiet_handover: [
        Minute(Duration::from_millis(40)),
        // 1000 "minutes" (40 s) while the conversations are set up …
        Settings(|s| s.handover.inactivity_timeout_minutes = 1000),
        Focus("gw-e"),
        Event(customer("I need an agent")),
        Event(agent_joined("agent-1")),
        InPhase(Phase::Agent),
        handover_with_agent(),
        // … then one (40 ms): the user's last word is older than that.
        Settings(|s| s.handover.inactivity_timeout_minutes = 1),
        ReachesPhase(Phase::Ended),
        Lines(&[("system/local", "Ended after 1 minute(s) without a message from the user.")]),
        Calls(vec![user_leave("gw-h1")]),
        Focus("gw-e"),
        InPhase(Phase::Agent),
    ];

    // The same with a second relay on the database (PostgreSQL): the sweep runs on one
    // relay per period and the conversation is ended once, with one leave to 8x8.
    inactivity_timeout_ends_a_quiet_handover_once_across_two_relays: [
        Minute(Duration::from_millis(40)),
        Settings(|s| s.handover.inactivity_timeout_minutes = 1000),
        SecondRelay,
        Focus("gw-e"),
        Event(customer("I need an agent")),
        Event(agent_joined("agent-1")),
        InPhase(Phase::Agent),
        handover_with_agent(),
        Settings(|s| s.handover.inactivity_timeout_minutes = 1),
        ReachesPhase(Phase::Ended),
        Sleep(Duration::from_millis(300)),
        Lines(&[("system/local", "Ended after 1 minute(s) without a message from the user.")]),
        Calls(vec![user_leave("gw-h1")]),
    ];

    // ---- out of order (P12) ----

    // A late QUEUED does not demote a conversation an agent already has.
    agent_joined_before_queued_keeps_agent: [
        endpoint_handed_over(),
        Event(agent_joined("agent-7")),
        Event(queued("Support")),
        InPhase(Phase::Agent),
        Lines(&[("system/in", "Agent agent-7 joined."), ("system/in", "Queued in Support.")]),
        Check("the queue is still recorded", |s| {
            assert_eq!(s.conv().queue_name.as_deref(), Some("Support"));
            assert!(s.conv().queued_at_ms.is_some());
        }),
    ];

    // The agent's first message before their "joined": the agent has it.
    agent_message_before_agent_joined: [
        endpoint_handed_over(),
        Event(queued("Support")),
        Event(agent_says("Hello, Ann here.")),
        InPhase(Phase::Agent),
        Check("the first reply time", |s| assert!(s.conv().first_agent_reply_at_ms.is_some())),
        Event(agent_joined("agent-7")),
        InPhase(Phase::Agent),
        Lines(&[
            ("system/in", "Queued in Support."),
            ("agent/in", "Hello, Ann here."),
            ("system/in", "Agent agent-7 joined."),
        ]),
    ];

    // 8x8's assignment update and MEMBERS_CHANGED both say the agent joined: one line.
    agent_assignment_update_then_members_changed_joined_once: [
        endpoint_handed_over(),
        Event(update(json!({ "state": "active", "assignment": { "type": "agent", "id": "agent-7" } }))),
        InPhase(Phase::Agent),
        Event(agent_joined("agent-7")),
        InPhase(Phase::Agent),
        Lines(&[("system/in", "Agent agent-7 joined.")]),
    ];

    // An idle update still naming the last agent does not bring the agent back.
    idle_update_naming_the_last_agent_does_not_bring_it_back: [
        endpoint_with_agent(),
        Event(agent_left("agent-7")),
        InPhase(Phase::Ended),
        Seen,
        Event(update(json!({ "state": "idle", "assignment": { "type": "agent", "id": "agent-7" } }))),
        InPhase(Phase::Ended),
        Lines(&[]),
        Calls(vec![]),
    ];

    // A re-open whose QUEUED overtakes its "active" update (§6.2: their order is not
    // specified): the conversation is queued again, so it has no end time any more.
    reopen_seen_through_queued_first_clears_the_end: [
        endpoint_with_agent(),
        Event(user_left()),
        InPhase(Phase::Ended),
        Event(queued("Support")),
        InPhase(Phase::Queued),
        Event(update(json!({ "state": "active" }))),
        InPhase(Phase::Queued),
        Check("a queued conversation has no end time", |s| {
            assert_eq!(s.conv().ended_at_ms, None);
        }),
    ];
}
