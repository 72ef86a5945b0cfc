//! The contact center before and during a handover (contact-center.md §5): the checks
//! that may keep the bot talking (opening hours, agents, queue length), 8x8 failing to
//! answer them, the offer to wait anyway, queue updates while queued, the status
//! messages in both modes, and leaving the queue.

use std::time::Duration;

use serde_json::json;
use switchboard_engine::Phase;
use switchboard_types::contact_center::{
    Availability, OnCheckError, OpeningHours, QueueFigures, QueueLimit, ScheduleState,
};

use crate::harness::{CHANNEL, QUEUE};
use crate::script::{Step::*, *};

const CLOSED: &str = "We are closed. Our hours are 9 to 5.";
const NOBODY: &str = "No agent is available right now.";
const WAIT: (&str, &str) = ("Wait for an agent", "switchboard:wait");
const KEEP_BOT: (&str, &str) = ("Keep talking to the bot", "switchboard:bot");
const CHOSE_TO_WAIT: &str = "The customer chose to wait for an agent.";
const QUEUED_TEXT: &str = "You are in the queue. Type cancel to leave it.";

fn opening_hours(s: &mut switchboard_settings::Settings) {
    s.handover.contact_center.opening_hours = Some(OpeningHours {
        schedule_id: "7".into(),
        closed_choices: vec!["Choice #2".into()],
        message: CLOSED.into(),
    });
}

fn availability(s: &mut switchboard_settings::Settings) {
    s.handover.contact_center.availability = Some(Availability {
        message: NOBODY.into(),
        ..Availability::default()
    });
}

fn nobody_available() -> QueueFigures {
    QueueFigures {
        agents_busy: 2,
        agents_logged_out: 3,
        ..QueueFigures::default()
    }
}

fn create_call() -> (&'static str, serde_json::Value) {
    (
        "createConversation",
        json!({ "request": { "channelId": CHANNEL, "assignment": { "type": "queue", "id": QUEUE } } }),
    )
}

cases! {
    // Closed: the customer hears the out-of-hours message instead of "connecting you",
    // nothing goes to 8x8, and the bot carries on.
    closed_schedule_keeps_the_bot_talking: [
        Settings(opening_hours),
        Schedule(Ok(ScheduleState::Closed)),
        Start,
        Seen,
        Say("agent"),
        InPhase(Phase::Bot),
        Lines(&[
            ("user/local", "agent"),
            ("system/local", "Opening hours: schedule 7 is Closed: no handover."),
            ("bot/local", CLOSED),
        ]),
        Calls(vec![]),
        Say("hours"),
        Lines(&[("user/local", "hours"), ("bot/local", HOURS)]),
    ];

    // A custom choice counts as closed only when the admin said so.
    a_chosen_choice_is_closed_another_hands_over: [
        Settings(opening_hours),
        Schedule(Ok(ScheduleState::Choice("Choice #2".into()))),
        Start,
        Seen,
        Say("agent"),
        InPhase(Phase::Bot),
        Lines(&[
            ("user/local", "agent"),
            ("system/local", "Opening hours: schedule 7 is Choice #2: no handover."),
            ("bot/local", CLOSED),
        ]),
        Schedule(Ok(ScheduleState::Choice("Choice #1".into()))),
        Say("agent"),
        InPhase(Phase::Handover),
        Lines(&[
            ("user/local", "agent"),
            ("system/local", "Opening hours: schedule 7 is Choice #1."),
            ("bot/local", CONNECTING),
            ("system/local", HANDOVER_NOTE),
        ]),
        Calls(vec![create_call()]),
    ];

    // The schedule cannot be read: by default the handover goes ahead and says why.
    schedule_failing_hands_over_by_default: [
        Settings(opening_hours),
        Schedule(Err("8x8 answered 500")),
        Start,
        Seen,
        Say("agent"),
        InPhase(Phase::Handover),
        Lines(&[
            ("user/local", "agent"),
            ("system/local", "Opening hours could not be checked (8x8 answered 500); handing over anyway (fallback)."),
            ("bot/local", CONNECTING),
            ("system/local", HANDOVER_NOTE),
        ]),
        Calls(vec![create_call()]),
    ];

    // … or, configured so, it counts as closed.
    schedule_failing_treated_as_closed: [
        Settings(opening_hours),
        Settings(|s| s.handover.contact_center.on_error = OnCheckError::TreatAsClosed),
        Schedule(Err("8x8 answered 500")),
        Start,
        Seen,
        Say("agent"),
        InPhase(Phase::Bot),
        Lines(&[
            ("user/local", "agent"),
            ("system/local", "Opening hours could not be checked (8x8 answered 500); treated as closed (fallback): no handover."),
            ("bot/local", CLOSED),
        ]),
        Calls(vec![]),
    ];

    // Nobody available: the customer is told and asked; waiting hands over (the queue
    // is not asked again), with the handover message said then.
    nobody_available_offers_to_wait_and_waiting_hands_over: [
        Settings(availability),
        Figures(Ok(nobody_available())),
        Start,
        Seen,
        Say("agent"),
        InPhase(Phase::Bot),
        Lines(&[
            ("user/local", "agent"),
            ("system/local", "Availability: no agent available in queue q-support (0 waiting, longest under a minute, no recent waits; agents: 0 available, 2 busy, 0 working offline, 0 on break, 0 wrap-up, 3 logged out)."),
            ("bot/local", NOBODY),
        ]),
        Calls(vec![]),
        Check("the offer's buttons, and the offer remembered", |s| {
            let last = s.transcript.last().unwrap();
            assert_eq!(last["payload"]["quickReplies"][0]["payload"], WAIT.1);
            assert_eq!(last["payload"]["quickReplies"][1]["payload"], KEEP_BOT.1);
            assert_eq!(s.conv().handover_offer.as_deref(), Some("asked for an agent"));
        }),
        Tap(WAIT.0, WAIT.1),
        InPhase(Phase::Handover),
        Lines(&[
            ("user/local", WAIT.0),
            ("system/local", CHOSE_TO_WAIT),
            ("bot/local", CONNECTING),
            ("system/local", HANDOVER_NOTE),
        ]),
        Calls(vec![create_call()]),
        Check("the offer is answered", |s| assert_eq!(s.conv().handover_offer, None)),
    ];

    // … keeping the bot says so and the bot answers the next message as usual.
    nobody_available_keep_talking_to_the_bot: [
        Settings(availability),
        Figures(Ok(nobody_available())),
        Start,
        Say("agent"),
        Seen,
        Tap(KEEP_BOT.0, KEEP_BOT.1),
        InPhase(Phase::Bot),
        Lines(&[("user/local", KEEP_BOT.0), ("bot/local", "Alright. What else can I help you with?")]),
        Calls(vec![]),
        Say("hours"),
        Lines(&[("user/local", "hours"), ("bot/local", HOURS)]),
        Check("no offer left", |s| assert_eq!(s.conv().handover_offer, None)),
    ];

    // Without the offer the bot only says there is nobody; someone logged in counts when
    // the admin chose "logged in".
    nobody_available_without_an_offer_and_logged_in_agents: [
        Settings(availability),
        Settings(|s| s.handover.contact_center.availability.as_mut().unwrap().offer_wait = false),
        Figures(Ok(nobody_available())),
        Start,
        Seen,
        Say("agent"),
        InPhase(Phase::Bot),
        Check("no buttons, no offer", |s| {
            let last = s.transcript.last().unwrap();
            assert_eq!(last["text"], NOBODY);
            assert!(last["payload"]["quickReplies"].is_null());
            assert_eq!(s.conv().handover_offer, None);
        }),
        Seen,
        Settings(|s| s.handover.contact_center.availability.as_mut().unwrap().states =
            switchboard_types::contact_center::AgentStates::LoggedIn),
        Say("agent"),
        InPhase(Phase::Handover),
        Calls(vec![create_call()]),
    ];

    // A long queue: the figures are in the message, and the customer chooses.
    queue_too_long_offers_the_choice_with_its_figures: [
        Settings(|s| s.handover.contact_center.queue_limit = Some(QueueLimit {
            max_waiting: Some(3),
            max_longest_wait_seconds: None,
            ..QueueLimit::default()
        })),
        Figures(Ok(QueueFigures { waiting: 5, longest_wait_seconds: 130, agents_available: 1, ..QueueFigures::default() })),
        Start,
        Seen,
        Say("agent"),
        InPhase(Phase::Bot),
        Lines(&[
            ("user/local", "agent"),
            ("system/local", "Queue too long: too many waiting in queue q-support (5 waiting, longest 2 min, no recent waits; agents: 1 available, 0 busy, 0 working offline, 0 on break, 0 wrap-up, 0 logged out)."),
            ("bot/local", "Our agents are busy: 5 waiting, the longest for 2 min. Would you like to wait, or keep talking to me?"),
        ]),
        Calls(vec![]),
        // A short enough queue hands over at once, saying what it checked.
        Figures(Ok(QueueFigures { waiting: 3, agents_available: 1, ..QueueFigures::default() })),
        Say("agent"),
        InPhase(Phase::Handover),
        Lines(&[
            ("user/local", "agent"),
            ("system/local", "Queue q-support checked before the handover (3 waiting, longest under a minute, no recent waits; agents: 1 available, 0 busy, 0 working offline, 0 on break, 0 wrap-up, 0 logged out)."),
            ("bot/local", CONNECTING),
            ("system/local", HANDOVER_NOTE),
        ]),
    ];

    // The statistics cannot be read: hand over anyway (default) or treat as closed.
    statistics_failing_falls_back_as_configured: [
        Settings(availability),
        Figures(Err("8x8 answered 503")),
        Start,
        Seen,
        Say("agent"),
        InPhase(Phase::Handover),
        Lines(&[
            ("user/local", "agent"),
            ("system/local", "Queue q-support's figures could not be read (8x8 answered 503); handing over anyway (fallback)."),
            ("bot/local", CONNECTING),
            ("system/local", HANDOVER_NOTE),
        ]),
        Calls(vec![create_call()]),
    ];
    statistics_failing_treated_as_closed: [
        Settings(availability),
        Settings(|s| s.handover.contact_center.on_error = OnCheckError::TreatAsClosed),
        Figures(Err("8x8 answered 503")),
        Start,
        Seen,
        Say("agent"),
        InPhase(Phase::Bot),
        Lines(&[
            ("user/local", "agent"),
            ("system/local", "Queue q-support's figures could not be read (8x8 answered 503); treated as closed (fallback)."),
            ("bot/local", NOBODY),
        ]),
        Calls(vec![]),
    ];

    // Endpoint mode: closed keeps the customer with the bot — no re-assignment to the
    // queue, the message goes out through 8x8.
    endpoint_closed_schedule_sends_no_reassignment: [
        Settings(opening_hours),
        Schedule(Ok(ScheduleState::Closed)),
        Event(active()),
        Seen,
        Event(customer("I want an agent")),
        InPhase(Phase::Bot),
        Lines(&[
            ("user/in", "I want an agent"),
            ("system/local", "Opening hours: schedule 7 is Closed: no handover."),
            ("bot/out", CLOSED),
        ]),
        Calls(vec![send(GW, "bot", CLOSED)]),
    ];

    // Queue updates every 15 "seconds" while queued (a minute is 600 ms here), with the
    // queue's figures; none once the agent has joined.
    queue_updates_while_queued_stop_when_the_agent_joins: [
        Minute(Duration::from_millis(600)),
        Settings(|s| {
            s.handover.contact_center.queue_update_seconds = 15;
            s.handover.contact_center.cancel_word = "cancel".into();
        }),
        Figures(Ok(QueueFigures { waiting: 4, average_wait_seconds: 200, agents_busy: 1, ..QueueFigures::default() })),
        handover_created(),
        Event(queued("Support")),
        Seen,
        Sleep(Duration::from_millis(700)),
        Check("updates came, worded as the queue's figures", |s| {
            let updates: Vec<_> = s.transcript.iter()
                .filter(|l| l["payload"]["queueUpdate"].is_object())
                .collect();
            assert!(updates.len() >= 2, "{} updates in 700 ms at one per 150 ms", updates.len());
            assert_eq!(updates[0]["text"], "4 waiting in this queue; its typical wait is 3 min. Thank you for your patience.");
            assert_eq!(updates[0]["lane"], "bot");
            // Only the newest line's buttons can be tapped: each update offers the cancel.
            assert_eq!(updates[0]["payload"]["quickReplies"][0]["payload"], "switchboard:cancel");
        }),
        Event(agent_joined("agent-7")),
        InPhase(Phase::Agent),
        Seen,
        Sleep(Duration::from_millis(500)),
        Lines(&[]),
    ];

    // The same with a second relay on the database (PostgreSQL): the updates' job runs
    // on whichever relay's tick comes first, yet a customer is told once a period, not
    // each time the job changes relay.
    queue_updates_once_a_period_across_two_relays: [
        Minute(Duration::from_millis(600)),
        Settings(|s| {
            s.handover.contact_center.queue_update_seconds = 15;
        }),
        Figures(Ok(QueueFigures { waiting: 4, average_wait_seconds: 200, agents_busy: 1, ..QueueFigures::default() })),
        SecondRelay,
        handover_created(),
        Event(queued("Support")),
        Seen,
        Sleep(Duration::from_millis(1_500)),
        Check("one update a period (150 ms) at most", |s| {
            let updates = s.transcript.iter()
                .filter(|l| l["payload"]["queueUpdate"].is_object())
                .count();
            // 1.5 s at one per 150 ms: 9 or 10, the first 150 ms after the queueing.
            assert!((3..=11).contains(&updates), "{updates} updates in 1.5 s at one per 150 ms");
        }),
    ];

    // Leaving the queue with the cancel word: the 8x8 side ends as a user leaving ends
    // it, the bot has the conversation again, and 8x8's closing events are history.
    cancel_while_queued_gives_the_conversation_back_to_the_bot: [
        Settings(|s| {
            s.handover.contact_center.cancel_word = "cancel".into();
            s.handover.contact_center.status.queued = QUEUED_TEXT.into();
        }),
        handover_created(),
        Event(queued("Support")),
        InPhase(Phase::Queued),
        Lines(&[("system/in", "Queued in Support."), ("bot/local", QUEUED_TEXT)]),
        Check("the cancel word offered as a quick reply", |s| {
            let last = s.transcript.last().unwrap();
            assert_eq!(last["payload"]["quickReplies"][0]["title"], "cancel");
            assert_eq!(last["payload"]["quickReplies"][0]["payload"], "switchboard:cancel");
        }),
        Say("Cancel"),
        InPhase(Phase::Bot),
        Lines(&[
            ("user/local", "Cancel"),
            ("system/local", "The user left the queue before an agent joined; the 8x8 conversation is ended and the bot has the conversation again."),
            ("bot/local", "You left the queue. I'm here to help again."),
        ]),
        Calls(vec![user_leave("gw-h1")]),
        Event(user_left()),
        InPhase(Phase::Bot),
        Lines(&[]),
        Say("hours"),
        Lines(&[("user/local", "hours"), ("bot/local", HOURS)]),
        // Asked again, a new 8x8 conversation is created.
        Say("agent"),
        InPhase(Phase::Handover),
        Calls(vec![create_call()]),
    ];

    // The cancel word means nothing once an agent has the chat: it goes to the agent.
    the_cancel_word_with_an_agent_is_for_the_agent: [
        Settings(|s| s.handover.contact_center.cancel_word = "cancel".into()),
        handover_with_agent(),
        Say("cancel"),
        InPhase(Phase::Agent),
        Lines(&[("user/out", "cancel")]),
        Calls(vec![send("gw-h1", "user", "cancel")]),
    ];

    // Handover mode: every step the customer is told of, with the agent's name.
    status_messages_in_handover_mode: [
        Settings(|s| {
            let st = &mut s.handover.contact_center.status;
            st.queued = "You are in the queue.".into();
            st.agent_joined = "{agent} joined the chat.".into();
            st.transferred = "You are being transferred.".into();
            st.agent_left = "The agent has left the chat.".into();
            st.ended = "The chat has ended.".into();
        }),
        handover_created(),
        Event(queued("Support")),
        Lines(&[("system/in", "Queued in Support."), ("bot/local", "You are in the queue.")]),
        Event(queued("Support")),
        Lines(&[("system/in", "Queued in Support.")]),
        Event(agent_joined("agent-7")),
        Lines(&[("system/in", "Agent agent-7 joined."), ("bot/local", "agent-7 joined the chat.")]),
        Event(transfer()),
        Event(agent_left("agent-7")),
        Event(queued("Billing")),
        Lines(&[
            ("system/in", "The agent transferred the conversation."),
            ("system/in", "Agent agent-7 left for the transfer."),
            ("system/in", "Queued in Billing."),
            ("bot/local", "You are being transferred."),
        ]),
        Event(agent_joined("agent-8")),
        Event(agent_left("agent-8")),
        InPhase(Phase::Bot),
        Lines(&[
            ("system/in", "Agent agent-8 joined."),
            ("bot/local", "agent-8 joined the chat."),
            ("system/in", "The agent left the conversation."),
            ("bot/local", "The agent has left the chat."),
            ("bot/local", "I'm back to help you; ask for an agent again at any time."),
        ]),
        Calls(vec![]),
    ];

    // Endpoint mode: 8x8's channel shows joins, transfers and the end itself; only being
    // queued is sent, as a bot message, and without the cancel offer (8x8 has no way to
    // give a queued conversation back to the bot).
    status_messages_in_endpoint_mode: [
        Settings(|s| {
            s.handover.contact_center.cancel_word = "cancel".into();
            let st = &mut s.handover.contact_center.status;
            st.queued = "You are in the queue.".into();
            st.agent_joined = "{agent} joined the chat.".into();
            st.ended = "The chat has ended.".into();
        }),
        Event(active()),
        endpoint_handed_over(),
        Event(queued("Support")),
        Lines(&[("system/in", "Queued in Support."), ("bot/out", "You are in the queue.")]),
        Calls(vec![send(GW, "bot", "You are in the queue.")]),
        Check("no cancel offer", |s| {
            assert!(s.transcript.last().unwrap()["payload"]["quickReplies"].is_null());
        }),
        Event(agent_joined("agent-7")),
        Lines(&[("system/in", "Agent agent-7 joined.")]),
        Event(customer("cancel")),
        InPhase(Phase::Agent),
        Lines(&[("user/in", "cancel")]),
        Calls(vec![]),
    ];
}

/// A flow with its own contact-center block: it replaces the settings' block whole.
const FLOW_WITH_CHECKS: &str = r#"
greeting: Hello, I am the test bot.
fallback: Sorry, I did not get that.
handover:
  keywords: [agent]
  reply: Connecting you to an agent.
  contact_center:
    opening_hours:
      schedule_id: "9"
      message: The flow says we are closed.
"#;

cases! {
    // The flow's block wins over the form's: its schedule and message are used, and the
    // form's availability check (not in the flow's block) is not.
    the_flows_own_block_replaces_the_settings_block: [
        Settings(availability),
        Settings(|s| s.bot.flow = FLOW_WITH_CHECKS.into()),
        Figures(Ok(nobody_available())),
        Schedule(Ok(ScheduleState::Closed)),
        Start,
        Seen,
        Say("agent"),
        InPhase(Phase::Bot),
        Lines(&[
            ("user/local", "agent"),
            ("system/local", "Opening hours: schedule 9 is Closed: no handover."),
            ("bot/local", "The flow says we are closed."),
        ]),
        Schedule(Ok(ScheduleState::Open)),
        Say("agent"),
        InPhase(Phase::Handover),
        Calls(vec![create_call()]),
    ];
}
