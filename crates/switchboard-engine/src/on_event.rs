//! 8x8's events applied to a conversation (chat-gateway.md §5–6). Order is not guaranteed (P12):
//! each handler looks at where the conversation is rather than assuming what came
//! before, and duplicates never reach here (the inbox deduplicates by event id).

use std::sync::Arc;

use serde_json::{json, Value};

use chat_gateway_client::webhook::{
    event::{
        Activity, ConversationUpdate, MemberChange, MembersChanged, Message, Participant, Queued,
    },
    EventKind,
};
use switchboard_bot::BotInput;
use switchboard_settings::AgentLeaves;
use switchboard_settings::Settings;
use switchboard_store::QueuedEvent;
use switchboard_types::{now_ms, Direction, Lane, RelayEvent};

use crate::{
    actors::Known, bot_turn, contact_center, handover, note, save, Conversation, Engine,
    EngineError, Mode, Phase,
};

/// Applies one event to conversation `key`. `known` is what the actor knows of the
/// stored row (read from the database when `Unread`); it is left holding the row as this
/// event leaves it when that is certain (the last save, or no row), `Unread` otherwise.
/// The actor keeps it only if the event's unit commits.
pub(crate) async fn handle(
    engine: &Arc<Engine>,
    key: &str,
    queued: &QueuedEvent,
    known: &mut Known,
) -> Result<String, EngineError> {
    let event = &queued.event;
    let Some(gateway_id) = event.conversation_id.clone() else {
        return Ok("no conversation in the event".into());
    };
    let stored = match std::mem::replace(known, Known::Unread) {
        Known::Row(c) => Some(*c),
        Known::Absent => None,
        Known::Unread => engine.store.get(key).await?,
    };
    let mut conv = match stored {
        Some(c) => c,
        // An echo or a bare indicator is no reason to open a conversation.
        None if !opens_a_conversation(&event.kind) => {
            *known = Known::Absent;
            return Ok("nothing to do for an unknown conversation".into());
        }
        None => {
            // 8x8 routed a customer to the bot: a new endpoint conversation.
            let mut c = Conversation::new(gateway_id.clone(), Mode::Endpoint, now_ms());
            c.gateway_id = Some(gateway_id.clone());
            c
        }
    };
    let earlier = conv
        .handover
        .as_ref()
        .is_some_and(|h| h.is_earlier(&gateway_id));
    if earlier {
        return Ok(format!(
            "event of an earlier 8x8 conversation {gateway_id} ignored"
        ));
    }
    match &conv.gateway_id {
        None => conv.gateway_id = Some(gateway_id),
        // A late event of an earlier handover's 8x8 conversation: history, not news.
        Some(current) if *current != gateway_id => {
            return Ok(format!(
                "event of an earlier 8x8 conversation {gateway_id} ignored"
            ));
        }
        Some(_) => {}
    }
    let settings = engine.settings();
    let outcome = match &event.kind {
        EventKind::ConversationUpdate(u) => {
            conversation_update(engine, &mut conv, u, &settings).await?
        }
        EventKind::Queued(q) => queued_in(engine, &mut conv, q, event.timestamp).await?,
        EventKind::MembersChanged(m) => members_changed(engine, &mut conv, m, &settings).await?,
        EventKind::Transfer => transferred(engine, &mut conv).await?,
        EventKind::Message(m) => message(engine, &mut conv, m, event.timestamp).await?,
        EventKind::Activity(a) => activity(engine, &mut conv, a).await?,
        EventKind::WebhookVerify | EventKind::Unknown => "ignored",
    };
    save(engine, &mut conv).await?;
    // Exactly the row the unit stores: the last save wins (write_unit::write_row).
    *known = Known::Row(Box::new(conv));
    Ok(outcome.to_string())
}

/// 8x8's view of the conversation changed: its state, who it is assigned to, the user.
async fn conversation_update(
    engine: &Arc<Engine>,
    conv: &mut Conversation,
    u: &ConversationUpdate,
    settings: &Settings,
) -> Result<&'static str, EngineError> {
    if let Some(Value::Object(user)) = &u.user {
        if let Value::Object(existing) = &mut conv.user {
            existing.extend(user.clone());
        }
    }
    if let Some(channel) = &u.channel {
        conv.user["channel"] = json!(channel);
    }
    let new_state = u.state.as_deref().map(str::to_ascii_lowercase);
    if new_state.is_some() {
        conv.state = new_state.clone();
    }
    let assignment = u.assignment.as_ref();
    let closing = new_state.as_deref() == Some("idle");
    match assignment.and_then(|a| a.kind.as_deref()) {
        // An idle update still names the last agent; it does not bring them back.
        Some("agent") if !closing => {
            enter_agent(engine, conv, assignment.and_then(|a| a.id.clone())).await?
        }
        Some("webhook") if conv.phase != Phase::Bot => {
            // Handback after the agent (post-agent assignment, P28).
            if conv.phase == Phase::Ended {
                reopen(engine, conv).await?;
            }
            conv.phase = Phase::Bot;
            note(
                engine,
                conv,
                Lane::System,
                Direction::In,
                "Handed back to the bot after the agent.",
                Value::Null,
            )
            .await?;
            // In endpoint mode this is the moment the bot has the customer again (P13);
            // in handover mode the relay already told its own user when the agent left.
            if conv.mode == Mode::Endpoint {
                bot_turn::say(engine, conv, BOT_IS_BACK).await?;
            }
        }
        _ => {}
    }
    match new_state.as_deref() {
        Some("active") if conv.phase == Phase::Ended => {
            // Re-opened (a new interaction).
            reopen(engine, conv).await?;
            conv.phase = if conv.mode == Mode::Endpoint {
                endpoint_reopened(conv, assignment.and_then(|a| a.kind.as_deref()))
            } else {
                Phase::Handover
            };
        }
        Some("active")
            if conv.mode == Mode::Endpoint
                && conv.phase == Phase::Bot
                && !conv.greeted
                && settings.endpoint.accept_conversation_active_event =>
        {
            save(engine, conv).await?;
            bot_turn::run(engine, conv, BotInput::Start).await?;
        }
        Some("idle") if conv.phase != Phase::Ended && conv.phase != Phase::Bot => {
            end(engine, conv, "8x8 closed the conversation.").await?;
            tell(engine, conv, Step::Ended, None).await?;
        }
        _ => {}
    }
    Ok("conversation updated")
}

/// The conversation waits in a queue for an agent.
async fn queued_in(
    engine: &Arc<Engine>,
    conv: &mut Conversation,
    q: &Queued,
    timestamp: Option<i64>,
) -> Result<&'static str, EngineError> {
    if conv.queued_at_ms.is_none() {
        conv.queued_at_ms = Some(timestamp.unwrap_or_else(now_ms));
    }
    conv.queue_id = q.queue_id.clone().or(conv.queue_id.take());
    conv.queue_name = q.queue_name.clone().or(conv.queue_name.take());
    // A re-open's QUEUED may come before its "active" update (P12).
    if conv.phase == Phase::Ended {
        reopen(engine, conv).await?;
    }
    // The step the customer is told of: the first queue of a handover, or the queue a
    // transfer moved it to. A repeated QUEUED (P12) says nothing again.
    let step = match conv.phase {
        Phase::Handover | Phase::Bot => Some(Step::Queued),
        Phase::Transferred => Some(Step::Transferred),
        _ => None,
    };
    // An agent may already have joined (events can come out of order).
    if conv.phase != Phase::Agent {
        conv.phase = Phase::Queued;
    }
    let name = conv
        .queue_name
        .clone()
        .or(conv.queue_id.clone())
        .unwrap_or_default();
    note(
        engine,
        conv,
        Lane::System,
        Direction::In,
        &format!("Queued in {name}."),
        json!({ "queueId": q.queue_id, "queueName": q.queue_name }),
    )
    .await?;
    if let Some(step) = step {
        tell(engine, conv, step, None).await?;
    }
    Ok("queued")
}

/// An agent or the customer joined or left.
async fn members_changed(
    engine: &Arc<Engine>,
    conv: &mut Conversation,
    m: &MembersChanged,
    settings: &Settings,
) -> Result<&'static str, EngineError> {
    let who = m.id.clone();
    let outcome = match (m.member_type, m.change) {
        (Some(Participant::Agent), Some(MemberChange::Joined)) => {
            enter_agent(engine, conv, who).await?;
            "agent joined"
        }
        (Some(Participant::Agent), Some(MemberChange::Left)) if conv.transfer_pending => {
            conv.phase = Phase::Transferred;
            note(
                engine,
                conv,
                Lane::System,
                Direction::In,
                &format!("Agent {} left for the transfer.", who.unwrap_or_default()),
                Value::Null,
            )
            .await?;
            "agent left (transfer)"
        }
        (Some(Participant::Agent), Some(MemberChange::Left)) => {
            agent_ended(engine, conv, settings).await?;
            "agent left"
        }
        (Some(Participant::User), Some(MemberChange::Left)) => {
            end(engine, conv, "The customer left.").await?;
            "user left"
        }
        _ => "members changed",
    };
    Ok(outcome)
}

/// The agent transferred the conversation to another queue or agent.
async fn transferred(
    engine: &Arc<Engine>,
    conv: &mut Conversation,
) -> Result<&'static str, EngineError> {
    conv.transfer_pending = true;
    conv.phase = Phase::Transferred;
    note(
        engine,
        conv,
        Lane::System,
        Direction::In,
        "The agent transferred the conversation.",
        Value::Null,
    )
    .await?;
    Ok("transfer")
}

/// A message: the agent's (relayed), the customer's (the bot answers in endpoint mode),
/// a system line, or one of our own coming back.
async fn message(
    engine: &Arc<Engine>,
    conv: &mut Conversation,
    m: &Message,
    timestamp: Option<i64>,
) -> Result<&'static str, EngineError> {
    let sender = m.sender.as_ref().and_then(|s| s.kind).unwrap_or_default();
    let text = m.text.clone().unwrap_or_default();
    let payload = json!({ "attachments": m.attachments, "cards": m.cards });
    let outcome = if m.is_echo {
        // Our own post coming back (P5): never fed back, or the bot would loop.
        "echo ignored"
    } else if sender == Participant::Agent {
        if conv.first_agent_reply_at_ms.is_none() {
            conv.first_agent_reply_at_ms = Some(timestamp.unwrap_or_else(now_ms));
        }
        if matches!(
            conv.phase,
            Phase::Queued | Phase::Handover | Phase::Transferred
        ) {
            conv.phase = Phase::Agent;
        }
        note(engine, conv, Lane::Agent, Direction::In, &text, payload).await?;
        "agent message"
    } else if sender == Participant::User && conv.mode == Mode::Endpoint {
        conv.last_user_at_ms = Some(now_ms());
        note(engine, conv, Lane::User, Direction::In, &text, payload).await?;
        if conv.phase == Phase::Ended {
            conv.phase = endpoint_reopened(conv, None);
        }
        if conv.phase == Phase::Bot {
            save(engine, conv).await?;
            bot_turn::run(engine, conv, BotInput::Text(text)).await?;
        }
        "customer message"
    } else if sender == Participant::System {
        note(engine, conv, Lane::System, Direction::In, &text, payload).await?;
        "system message"
    } else {
        // A user or bot message we sent ourselves, without the echo flag (P6).
        "own message ignored"
    };
    Ok(outcome)
}

/// Typing, and the customer's taps on quick replies and card buttons.
async fn activity(
    engine: &Arc<Engine>,
    conv: &mut Conversation,
    a: &Activity,
) -> Result<&'static str, EngineError> {
    let outcome = match a.name.as_str() {
        "typing" => {
            // The list is everyone typing now: each lane is told whether it is in it.
            let now = crate::typing::typists(&a.value);
            for (who, typing) in [("agent", now.agent), ("user", now.user)] {
                engine.bus.publish(RelayEvent::Typing {
                    conversation_id: conv.id.clone(),
                    who,
                    typing,
                });
            }
            "typing"
        }
        "quickReply/action" if conv.mode == Mode::Endpoint && conv.phase == Phase::Bot => {
            let d = &a.value["data"];
            let title = d["title"].as_str().unwrap_or_default().to_string();
            let payload = d["payload"].as_str().unwrap_or_default().to_string();
            note(
                engine,
                conv,
                Lane::User,
                Direction::In,
                &title,
                json!({ "quickReply": payload }),
            )
            .await?;
            save(engine, conv).await?;
            bot_turn::run(engine, conv, BotInput::QuickReply { title, payload }).await?;
            "quick reply"
        }
        "adaptiveCard/action" if conv.mode == Mode::Endpoint && conv.phase == Phase::Bot => {
            let data = a.value["data"].clone();
            note(
                engine,
                conv,
                Lane::User,
                Direction::In,
                "Submitted a card.",
                json!({ "card": data }),
            )
            .await?;
            save(engine, conv).await?;
            bot_turn::run(engine, conv, BotInput::CardSubmit(data)).await?;
            "card submitted"
        }
        _ => "activity ignored",
    };
    Ok(outcome)
}

async fn enter_agent(
    engine: &Arc<Engine>,
    conv: &mut Conversation,
    agent: Option<String>,
) -> Result<(), EngineError> {
    if conv.phase == Phase::Ended {
        reopen(engine, conv).await?;
    }
    let same = conv.phase == Phase::Agent && conv.agent_id == agent;
    conv.transfer_pending = false;
    conv.phase = Phase::Agent;
    if conv.agent_joined_at_ms.is_none() {
        conv.agent_joined_at_ms = Some(now_ms());
    }
    if !same {
        conv.agent_id = agent.clone();
        note(
            engine,
            conv,
            Lane::System,
            Direction::In,
            &format!("Agent {} joined.", agent.clone().unwrap_or_default()),
            Value::Null,
        )
        .await?;
        tell(engine, conv, Step::AgentJoined, agent.as_deref()).await?;
    }
    Ok(())
}

/// What the bot says when it has the conversation back after an agent.
const BOT_IS_BACK: &str =
    "The agent has left. I'm back to help you; ask for an agent again at any time.";
/// The same after a configured "agent left" message.
const BOT_IS_BACK_AFTER: &str = "I'm back to help you; ask for an agent again at any time.";

/// The agent left without a transfer (P13). What follows depends on who owns the
/// customer's side. In handover mode the relay does: its user is told, then the bot takes
/// over again or the conversation ends (setting). In endpoint mode 8x8 does: the bot gets
/// the conversation back only when 8x8 hands it back (a post-agent assignment, then an
/// update naming the relay's webhook); without one 8x8 closes the chat, and anything the
/// bot posted would re-open it in the queue — so the bot says nothing.
async fn agent_ended(
    engine: &Arc<Engine>,
    conv: &mut Conversation,
    settings: &Settings,
) -> Result<(), EngineError> {
    note(
        engine,
        conv,
        Lane::System,
        Direction::In,
        "The agent left the conversation.",
        Value::Null,
    )
    .await?;
    // The user left first (8x8 then frees the agent), or in endpoint mode 8x8's handback
    // came before this event (P12): nothing to change.
    if conv.phase == Phase::Ended || (conv.mode == Mode::Endpoint && conv.phase == Phase::Bot) {
        return Ok(());
    }
    if conv.mode == Mode::Endpoint {
        if settings.handover.handback {
            note(
                engine,
                conv,
                Lane::System,
                Direction::Local,
                "Waiting for 8x8 to hand the conversation back to the bot (handback).",
                Value::Null,
            )
            .await?;
        } else {
            end(engine, conv, "Ended by the agent. Without a handback 8x8 closes the chat and the bot stays silent; a new customer message re-opens it in the queue.").await?;
        }
        return Ok(());
    }
    // A configured "agent left" message replaces the relay's own first words.
    let left = contact_center::checks(engine, &engine.settings())
        .status
        .agent_left;
    let left = left.trim();
    if !left.is_empty() {
        bot_turn::say(engine, conv, left).await?;
    }
    match settings.handover.when_agent_leaves {
        AgentLeaves::ResumeBot => {
            conv.phase = Phase::Bot;
            let back = if left.is_empty() {
                BOT_IS_BACK
            } else {
                BOT_IS_BACK_AFTER
            };
            bot_turn::say(engine, conv, back).await?;
        }
        AgentLeaves::Close => {
            if left.is_empty() {
                bot_turn::say(
                    engine,
                    conv,
                    "The agent has ended the chat. Thank you for contacting us.",
                )
                .await?;
            }
            handover::leave_8x8(engine, conv).await?;
            end(engine, conv, "Closed after the agent left.").await?;
        }
    }
    Ok(())
}

/// Where 8x8 takes an ended endpoint conversation that comes back to life: where its
/// update says, or else to the queue it was last in (chat-gateway.md §6.5) — the bot
/// only has it if it was never queued.
fn endpoint_reopened(conv: &Conversation, assignment: Option<&str>) -> Phase {
    match assignment {
        Some("queue") => Phase::Queued,
        Some("webhook" | "script") => Phase::Bot,
        _ if conv.queue_id.is_some() || conv.queued_at_ms.is_some() => Phase::Queued,
        _ => Phase::Bot,
    }
}

/// An ended conversation lives again (a new interaction in 8x8, chat-gateway.md §6.5):
/// whichever of its events comes first says so, and it has no end time any more.
async fn reopen(engine: &Engine, conv: &mut Conversation) -> Result<(), EngineError> {
    conv.ended_at_ms = None;
    note(
        engine,
        conv,
        Lane::System,
        Direction::In,
        "The conversation was re-opened.",
        Value::Null,
    )
    .await?;
    Ok(())
}

pub(crate) async fn end(
    engine: &Engine,
    conv: &mut Conversation,
    why: &str,
) -> Result<(), EngineError> {
    if conv.phase != Phase::Ended {
        conv.phase = Phase::Ended;
        conv.ended_at_ms = Some(now_ms());
        note(
            engine,
            conv,
            Lane::System,
            Direction::Local,
            why,
            Value::Null,
        )
        .await?;
    }
    Ok(())
}

/// Whether an event for a conversation the relay does not know yet starts one: 8x8
/// routing a customer to the bot, or the customer speaking. Echoes, typing and the like
/// do not.
fn opens_a_conversation(kind: &EventKind) -> bool {
    match kind {
        EventKind::ConversationUpdate(_) | EventKind::Queued(_) | EventKind::MembersChanged(_) => {
            true
        }
        EventKind::Message(m) => !m.is_echo,
        EventKind::Activity(a) => a.name != "typing",
        EventKind::Transfer | EventKind::WebhookVerify | EventKind::Unknown => false,
    }
}

/// A step of the handover the customer may be told of (the status messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Queued,
    AgentJoined,
    Transferred,
    Ended,
}

/// Tells the customer of a step when its status message is set. In handover mode the
/// relay's user sees only what the relay says, so every step is told. In endpoint mode
/// 8x8's own channel already shows an agent joining, a transfer and the end; only being
/// queued (with the cancel offer) is sent there as a bot message (P33).
async fn tell(
    engine: &Arc<Engine>,
    conv: &mut Conversation,
    step: Step,
    agent: Option<&str>,
) -> Result<(), EngineError> {
    if conv.mode == Mode::Endpoint && step != Step::Queued {
        return Ok(());
    }
    let checks = contact_center::checks(engine, &engine.settings());
    let reply = match step {
        Step::Queued => contact_center::queued_reply(&checks, conv.mode),
        Step::AgentJoined => plain(&checks.status.agent_joined, agent),
        Step::Transferred => plain(&checks.status.transferred, agent),
        Step::Ended => plain(&checks.status.ended, agent),
    };
    if let Some(reply) = reply {
        bot_turn::send_reply(engine, conv, &reply).await?;
    }
    Ok(())
}

fn plain(text: &str, agent: Option<&str>) -> Option<switchboard_bot::BotReply> {
    let text = text.trim();
    (!text.is_empty()).then(|| switchboard_bot::BotReply {
        text: text.replace(
            "{agent}",
            agent.filter(|a| !a.is_empty()).unwrap_or("An agent"),
        ),
        quick_replies: Vec::new(),
    })
}
