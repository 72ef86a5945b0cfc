//! The simulated end user of handover mode (the tester, and later any other channel):
//! the user talks to the bot here; after a handover their messages go to the agent
//! through 8x8, and leaving ends the 8x8 side cleanly.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    bot_turn, handover, note, on_event::end, save, store::Mode, Conversation, EngineError, Phase,
};
use crate::{
    bot::BotInput,
    client::types::SendMessage,
    events::{now_ms, RelayEvent},
    outbox::OutboundCall,
    relay::RelayState,
    roles::Role,
};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NewUser {
    pub name: Option<String>,
    pub email: Option<String>,
    pub language: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
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

#[derive(Debug, Clone, Deserialize)]
pub struct QuickReplyChoice {
    pub title: String,
    pub payload: String,
}

pub(crate) async fn start(
    state: &Arc<RelayState>,
    id: &str,
    user: NewUser,
) -> Result<Conversation, EngineError> {
    let mut conv = Conversation::new(id.to_string(), Mode::Handover, now_ms());
    conv.user = json!({
        "name": user.name, "email": user.email, "language": user.language.unwrap_or_else(|| "en".into()),
        "phone": user.phone,
    });
    save(state, &mut conv).await?;
    bot_turn::run(state, &mut conv, BotInput::Start).await?;
    save(state, &mut conv).await?;
    Ok(conv)
}

async fn load(state: &RelayState, id: &str) -> Result<Conversation, EngineError> {
    match state.engine.store.get(id).await? {
        Some(c) if c.mode == Mode::Handover => Ok(c),
        Some(_) => Err(EngineError::Refused(
            "This conversation belongs to an 8x8 customer; only 8x8 can speak for them.".into(),
        )),
        None => Err(EngineError::NotFound(id.to_string())),
    }
}

pub(crate) async fn input(
    state: &Arc<RelayState>,
    id: &str,
    input: UserInput,
) -> Result<Conversation, EngineError> {
    let mut conv = load(state, id).await?;
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
    match conv.phase {
        Phase::Bot => {
            note(state, &mut conv, "user", "local", &text, Value::Null).await?;
            save(state, &mut conv).await?;
            bot_turn::run(state, &mut conv, bot_input).await?;
        }
        // The 8x8 conversation is being created: keep the message, send it right after.
        Phase::Handover if conv.gateway_id.is_none() => {
            note(state, &mut conv, "user", "pending", &text, Value::Null).await?;
        }
        Phase::Ended if conv.gateway_id.is_none() => {
            // Nothing in 8x8 to re-open: a fresh start with the bot.
            conv.phase = Phase::Bot;
            conv.ended_at_ms = None;
            note(state, &mut conv, "user", "local", &text, Value::Null).await?;
            save(state, &mut conv).await?;
            bot_turn::run(state, &mut conv, bot_input).await?;
        }
        _ => {
            // With an agent (or after one, which re-opens the 8x8 conversation, brief 6.5).
            let gateway_id = conv.gateway_id.clone().unwrap_or_default();
            if conv.phase == Phase::Ended {
                conv.phase = Phase::Handover;
                conv.ended_at_ms = None;
                note(
                    state,
                    &mut conv,
                    "system",
                    "out",
                    "Re-opening the 8x8 conversation with a new message.",
                    Value::Null,
                )
                .await?;
            }
            let outbox_id = state
                .outbox
                .enqueue_for_conversation(&OutboundCall::SendMessage {
                    conversation_id: gateway_id,
                    message: SendMessage::text("user", &text),
                })
                .await?;
            note(
                state,
                &mut conv,
                "user",
                "out",
                &text,
                json!({ "outboxId": outbox_id }),
            )
            .await?;
        }
    }
    save(state, &mut conv).await?;
    Ok(conv)
}

/// Typing reaches the agent only while 8x8 has the conversation; a transient hint, sent
/// directly rather than through the outbox.
pub(crate) async fn typing(state: &Arc<RelayState>, id: &str) {
    let Ok(conv) = load(state, id).await else {
        return;
    };
    state.bus.publish(RelayEvent::Typing {
        conversation_id: conv.id.clone(),
        who: "user",
        typing: true,
    });
    let (Some(gateway_id), true) = (conv.gateway_id.clone(), conv.phase.with_8x8_agent_side())
    else {
        return;
    };
    if let Ok(connection) = crate::client::resolve_for(state, Role::Handover).await {
        let client = crate::client::ChatGatewayClient::with_policy(
            connection,
            crate::client::RetryPolicy::once(),
        );
        if let Err(e) = client.typing(&gateway_id, "user").await {
            tracing::debug!(error = %e, "typing indicator not sent");
        }
    }
}

pub(crate) async fn leave(
    state: &Arc<RelayState>,
    id: &str,
    why: &str,
) -> Result<Conversation, EngineError> {
    let mut conv = load(state, id).await?;
    if conv.phase != Phase::Ended {
        if conv.phase.with_8x8_agent_side() {
            handover::leave_8x8(state, &conv).await?;
        }
        end(state, &mut conv, why).await?;
        save(state, &mut conv).await?;
    }
    Ok(conv)
}

/// Ends handed-over conversations whose user has said nothing for the inactivity timeout.
pub(crate) async fn sweep_inactive(state: &Arc<RelayState>) {
    let minutes = state
        .settings
        .read()
        .await
        .handover
        .inactivity_timeout_minutes;
    let timeout = state.engine.config().minute * minutes;
    let cutoff = now_ms() - timeout.as_millis() as i64;
    let idle = match state.engine.store.idle_handovers(cutoff).await {
        Ok(idle) => idle,
        Err(e) => {
            tracing::warn!(error = %e, "the inactivity sweep failed");
            return;
        }
    };
    for conv in idle {
        let (tx, _rx) = tokio::sync::oneshot::channel();
        let why = format!("Ended after {minutes} minute(s) without a message from the user.");
        state
            .engine
            .actors
            .send(state, &conv.id, super::Job::Leave(why, tx));
    }
}
