//! The simulated end user of handover mode (the tester, and later any other channel):
//! the user talks to the bot here; after a handover their messages go to the agent
//! through 8x8, and leaving ends the 8x8 side cleanly.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Value};

use chat_gateway_client::{types::SendMessage, OutboundCall};
use switchboard_bot::BotInput;
use switchboard_settings::Role;
use switchboard_types::{now_ms, Direction, Lane, RelayEvent};

use crate::{
    bot_turn, contact_center, handover, note, on_event::end, save, Conversation, Engine,
    EngineError, Mode, Phase,
};

#[derive(Debug, Clone, Default, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(optional_fields = nullable)]
pub struct NewUser {
    pub name: Option<String>,
    pub email: Option<String>,
    pub language: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", untagged)]
pub enum UserInput {
    QuickReply {
        #[serde(rename = "quickReply")]
        quick_reply: QuickReplyChoice,
    },
    Text {
        text: String,
    },
}

#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct QuickReplyChoice {
    pub title: String,
    pub payload: String,
}

pub(crate) async fn start(
    engine: &Arc<Engine>,
    id: &str,
    user: NewUser,
) -> Result<Conversation, EngineError> {
    let mut conv = Conversation::new(id.to_string(), Mode::Handover, now_ms());
    conv.user = json!({
        "name": user.name, "email": user.email, "language": user.language.unwrap_or_else(|| "en".into()),
        "phone": user.phone,
    });
    save(engine, &mut conv).await?;
    bot_turn::run(engine, &mut conv, BotInput::Start).await?;
    save(engine, &mut conv).await?;
    Ok(conv)
}

async fn load(engine: &Engine, id: &str) -> Result<Conversation, EngineError> {
    match engine.store.get(id).await? {
        Some(c) if c.mode == Mode::Handover => Ok(c),
        Some(_) => Err(EngineError::Refused(
            "This conversation belongs to an 8x8 customer; only 8x8 can speak for them.".into(),
        )),
        None => Err(EngineError::NotFound(id.to_string())),
    }
}

pub(crate) async fn input(
    engine: &Arc<Engine>,
    id: &str,
    input: UserInput,
) -> Result<Conversation, EngineError> {
    let mut conv = load(engine, id).await?;
    let (text, bot_input) = match input {
        UserInput::Text { text } => {
            let text = text.trim().to_string();
            if text.is_empty() {
                return Err(EngineError::Refused("Type a message first.".into()));
            }
            (text.clone(), BotInput::Text(text))
        }
        UserInput::QuickReply { quick_reply } => (
            quick_reply.title.clone(),
            BotInput::QuickReply {
                title: quick_reply.title,
                payload: quick_reply.payload,
            },
        ),
    };
    conv.last_user_at_ms = Some(now_ms());
    let payload = match &bot_input {
        BotInput::QuickReply { payload, .. } => Some(payload.as_str()),
        _ => None,
    };
    let checks = contact_center::checks(engine, &engine.settings());
    let waiting = matches!(conv.phase, Phase::Queued | Phase::Handover);
    if waiting && conv.gateway_id.is_some() && contact_center::is_cancel(&checks, payload, &text) {
        cancel_wait(engine, &mut conv, &text).await?;
        save(engine, &mut conv).await?;
        return Ok(conv);
    }
    match conv.phase {
        Phase::Bot => {
            note(
                engine,
                &mut conv,
                Lane::User,
                Direction::Local,
                &text,
                Value::Null,
            )
            .await?;
            save(engine, &mut conv).await?;
            bot_turn::run(engine, &mut conv, bot_input).await?;
        }
        // The 8x8 conversation is being created: keep the message, send it right after.
        Phase::Handover if conv.gateway_id.is_none() => {
            note(
                engine,
                &mut conv,
                Lane::User,
                Direction::Pending,
                &text,
                Value::Null,
            )
            .await?;
        }
        Phase::Ended if conv.gateway_id.is_none() => {
            // Nothing in 8x8 to re-open: a fresh start with the bot.
            conv.phase = Phase::Bot;
            conv.ended_at_ms = None;
            note(
                engine,
                &mut conv,
                Lane::User,
                Direction::Local,
                &text,
                Value::Null,
            )
            .await?;
            save(engine, &mut conv).await?;
            bot_turn::run(engine, &mut conv, bot_input).await?;
        }
        _ => {
            // With an agent (or after one, which re-opens the 8x8 conversation, chat-gateway.md §6.5).
            let gateway_id = conv.gateway_id.clone().unwrap_or_default();
            if conv.phase == Phase::Ended {
                conv.phase = Phase::Handover;
                conv.ended_at_ms = None;
                note(
                    engine,
                    &mut conv,
                    Lane::System,
                    Direction::Out,
                    "Re-opening the 8x8 conversation with a new message.",
                    Value::Null,
                )
                .await?;
            }
            let outbox_id = engine
                .outbox
                .enqueue_for_conversation(&OutboundCall::SendMessage {
                    conversation_id: gateway_id,
                    message: SendMessage::text("user", &text),
                })
                .await?;
            note(
                engine,
                &mut conv,
                Lane::User,
                Direction::Out,
                &text,
                json!({ "outboxId": outbox_id }),
            )
            .await?;
        }
    }
    save(engine, &mut conv).await?;
    Ok(conv)
}

/// The user left the queue before an agent joined (the cancel word or its quick reply):
/// the 8x8 side ends the way a user leaving ends it (P27), and the bot has the
/// conversation again. The 8x8 conversation is remembered as an earlier one, so its
/// closing events are history rather than news.
async fn cancel_wait(
    engine: &Arc<Engine>,
    conv: &mut Conversation,
    text: &str,
) -> Result<(), EngineError> {
    note(
        engine,
        conv,
        Lane::User,
        Direction::Local,
        text,
        Value::Null,
    )
    .await?;
    handover::leave_8x8(engine, conv).await?;
    if let (Some(h), Some(id)) = (conv.handover.as_mut(), conv.gateway_id.take()) {
        h.local.earlier_gateway_ids.push(id);
    }
    conv.phase = Phase::Bot;
    conv.transfer_pending = false;
    note(
        engine,
        conv,
        Lane::System,
        Direction::Local,
        "The user left the queue before an agent joined; the 8x8 conversation is ended and the bot has the conversation again.",
        Value::Null,
    )
    .await?;
    let checks = contact_center::checks(engine, &engine.settings());
    let cancelled = checks.status.cancelled.trim();
    if !cancelled.is_empty() {
        bot_turn::say(engine, conv, cancelled).await?;
    }
    Ok(())
}

/// Typing reaches the agent only while 8x8 has the conversation; a transient hint, sent
/// directly rather than through the outbox.
pub(crate) async fn typing(engine: &Arc<Engine>, id: &str) {
    let Ok(conv) = load(engine, id).await else {
        return;
    };
    engine.bus.publish(RelayEvent::Typing {
        conversation_id: conv.id.clone(),
        who: "user",
        typing: true,
    });
    let (Some(gateway_id), true) = (conv.gateway_id.clone(), conv.phase.with_8x8_agent_side())
    else {
        return;
    };
    engine
        .connections
        .typing(Role::Handover, &gateway_id, "user")
        .await;
}

pub(crate) async fn leave(
    engine: &Arc<Engine>,
    id: &str,
    why: &str,
) -> Result<Conversation, EngineError> {
    let mut conv = load(engine, id).await?;
    if conv.phase != Phase::Ended {
        if conv.phase.with_8x8_agent_side() {
            handover::leave_8x8(engine, &conv).await?;
        }
        end(engine, &mut conv, why).await?;
        save(engine, &mut conv).await?;
    }
    Ok(conv)
}

/// Ends handover-mode conversations (with the bot or handed over) whose user has said
/// nothing for the inactivity timeout.
pub(crate) async fn sweep_inactive(engine: &Arc<Engine>) {
    let minutes = engine.settings().handover.inactivity_timeout_minutes;
    let timeout = engine.config().minute * minutes;
    let cutoff = now_ms() - timeout.as_millis() as i64;
    let idle = match engine.store.idle_handovers(cutoff).await {
        Ok(idle) => idle,
        Err(e) => {
            tracing::warn!(error = %e, "the inactivity sweep failed");
            return;
        }
    };
    for conv in idle {
        let (tx, _rx) = tokio::sync::oneshot::channel();
        let why = format!("Ended after {minutes} minute(s) without a message from the user.");
        engine
            .actors
            .send(engine, &conv.id, super::Job::Leave(why, tx));
    }
}
