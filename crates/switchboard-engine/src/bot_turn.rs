//! One bot turn: the bot gets the user's input, its replies go to the user (through 8x8
//! in endpoint mode, straight to the tester in handover mode), and a handover request
//! starts the handover. A bot that fails is shown in the conversation, never lost.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use chat_gateway_client::{types::SendMessage, OutboundCall};
use switchboard_bot::{Bot, BotInput, BotKind, BotReply, BotSession};
use switchboard_settings::{Role, Settings};

use crate::{contact_center, handover, note, Conversation, Engine, EngineError, Mode};
use switchboard_types::{Direction, Lane};

pub(crate) async fn run(
    engine: &Arc<Engine>,
    conv: &mut Conversation,
    input: BotInput,
) -> Result<(), EngineError> {
    let settings = engine.settings();
    let bot = match engine.bot.get(&settings) {
        Ok(b) => b,
        Err(e) => {
            note(
                engine,
                conv,
                Lane::System,
                Direction::Local,
                &format!("The bot cannot run: {e}"),
                Value::Null,
            )
            .await?;
            return Ok(());
        }
    };
    // An offer to wait for an agent anyway is the engine's question, not the bot's.
    if let Some(reason) = conv.handover_offer.take() {
        let (payload, text) = match &input {
            BotInput::QuickReply { title, payload } => (Some(payload.as_str()), title.as_str()),
            BotInput::Text(t) => (None, t.as_str()),
            _ => (None, ""),
        };
        match contact_center::answer_to_offer(payload, text) {
            Some(true) => return hand_over(engine, conv, &bot, &settings, &reason, true).await,
            Some(false) => {
                return say(engine, conv, "Alright. What else can I help you with?").await;
            }
            None => {}
        }
    }
    let mut session: BotSession = serde_json::from_value(conv.bot_session.clone())
        .unwrap_or_else(|_| BotSession::new(conv.id.clone()));
    // Only a bot that may take seconds shows it is typing: the built-in flow answers at
    // once, and a pulse before its reply is one more call to 8x8 per turn and an
    // indicator the customer sees after the answer is already there.
    if conv.mode == Mode::Endpoint && bot.kind() == BotKind::External {
        typing_pulse(engine, conv);
    }
    conv.greeted = true;
    let turn = bot.respond(&mut session, input).await;
    conv.bot_session = serde_json::to_value(&session).unwrap_or(Value::Null);
    match turn {
        Ok(mut turn) => {
            // The built-in flow's handover message is its last reply: it is said only
            // once the contact center's checks let the handover go ahead.
            let handover_message = match (&turn.handover, bot.kind()) {
                (Some(_), BotKind::Builtin) => turn.replies.pop(),
                _ => None,
            };
            // The first line the turn says names what answered (payload.rule), for the
            // agent's workspace: one name per turn, so the rules hit read in order.
            let mut rule = turn.rule.take();
            let mut named = || {
                rule.take()
                    .map_or(Value::Null, |r| serde_json::json!({ "rule": r }))
            };
            for reply in &turn.replies {
                send_reply_with(engine, conv, reply, named()).await?;
            }
            if let Some(reason) = turn.handover {
                let verdict = contact_center::before_handover(engine, conv, &reason, false).await?;
                if verdict == contact_center::Verdict::HandOver {
                    match handover_message {
                        Some(m) => send_reply_with(engine, conv, &m, named()).await?,
                        // An external bot may not say it, and the user must know.
                        None => say(engine, conv, &settings.handover.handover_message).await?,
                    }
                    handover::start(engine, conv, &reason).await?;
                }
            }
        }
        Err(e) => {
            note(
                engine,
                conv,
                Lane::System,
                Direction::Local,
                &format!("The bot did not answer: {e}"),
                Value::Null,
            )
            .await?;
        }
    }
    Ok(())
}

/// The customer chose to wait after an offer: the schedule is checked again (time has
/// passed), the queue is not, and the handover goes ahead.
async fn hand_over(
    engine: &Arc<Engine>,
    conv: &mut Conversation,
    bot: &Bot,
    settings: &Settings,
    reason: &str,
    waited: bool,
) -> Result<(), EngineError> {
    note(
        engine,
        conv,
        Lane::System,
        Direction::Local,
        "The customer chose to wait for an agent.",
        Value::Null,
    )
    .await?;
    let verdict = contact_center::before_handover(engine, conv, reason, waited).await?;
    if verdict == contact_center::Verdict::HandOver {
        let message = match bot.handover_message() {
            Some(m) => m.to_string(),
            None => settings.handover.handover_message.clone(),
        };
        say(engine, conv, &message).await?;
        handover::start(engine, conv, reason).await?;
    }
    Ok(())
}

/// The bot for the settings as they are, built once per settings snapshot: parsing the
/// flow (or building the external bot's HTTP client) for every turn cost more than the
/// rest of the turn together (bench-whole-path).
#[derive(Default)]
pub(crate) struct BotCache(Mutex<Option<BuiltBot>>);

/// The settings snapshot a bot was built for, and the bot (or why it could not be).
type BuiltBot = (Arc<Settings>, Result<Arc<Bot>, String>);

impl BotCache {
    /// The built-in flow's own contact-center checks, if it has them.
    pub(crate) fn contact_center(
        &self,
        settings: &Arc<Settings>,
    ) -> Option<switchboard_types::contact_center::ContactCenterChecks> {
        self.get(settings)
            .ok()
            .and_then(|bot| bot.contact_center().cloned())
    }

    fn get(&self, settings: &Arc<Settings>) -> Result<Arc<Bot>, String> {
        let mut cached = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match &*cached {
            Some((built_for, bot)) if Arc::ptr_eq(built_for, settings) => bot.clone(),
            _ => {
                let bot = Bot::from_settings(&settings.bot)
                    .map(Arc::new)
                    .map_err(|e| e.to_string());
                *cached = Some((settings.clone(), bot.clone()));
                bot
            }
        }
    }
}

/// A plain bot message from the relay itself (e.g. "the agent has left").
pub(crate) async fn say(
    engine: &Engine,
    conv: &mut Conversation,
    text: &str,
) -> Result<(), EngineError> {
    send_reply(
        engine,
        conv,
        &BotReply {
            text: text.to_string(),
            quick_replies: Vec::new(),
        },
    )
    .await
}

pub(crate) async fn send_reply(
    engine: &Engine,
    conv: &mut Conversation,
    reply: &BotReply,
) -> Result<(), EngineError> {
    send_reply_with(engine, conv, reply, Value::Null).await
}

/// [`send_reply`] with more facts on the transcript line (e.g. the figures a queue
/// update said).
pub(crate) async fn send_reply_with(
    engine: &Engine,
    conv: &mut Conversation,
    reply: &BotReply,
    extra: Value,
) -> Result<(), EngineError> {
    let mut payload = if reply.quick_replies.is_empty() {
        Value::Null
    } else {
        json!({ "quickReplies": reply.quick_replies })
    };
    if let Value::Object(extra) = extra {
        if payload.is_null() {
            payload = json!({});
        }
        for (k, v) in extra {
            payload[k] = v;
        }
    }
    match (conv.mode, conv.gateway_id.clone()) {
        (Mode::Endpoint, Some(gateway_id)) => {
            let mut message = SendMessage::text("bot", &reply.text);
            if !reply.quick_replies.is_empty() {
                // 8x8's quick replies card (chat-gateway.md §4.4): the customer taps, 8x8 sends an
                // ACTIVITY quickReply/action with the payload.
                message.cards.push(json!({
                    "contentType": "application/8x8.quick.replies",
                    "content": { "options": reply.quick_replies.iter().map(|q| json!({
                        "title": q.title, "data": { "postback": q.payload }
                    })).collect::<Vec<_>>() }
                }));
            }
            let call = OutboundCall::SendMessage {
                conversation_id: gateway_id,
                message,
            };
            let outbox_id = engine.outbox.enqueue_for_conversation(&call).await?;
            let mut payload = payload;
            if payload.is_null() {
                payload = json!({});
            }
            payload["outboxId"] = json!(outbox_id);
            note(
                engine,
                conv,
                Lane::Bot,
                Direction::Out,
                &reply.text,
                payload,
            )
            .await?;
        }
        _ => {
            note(
                engine,
                conv,
                Lane::Bot,
                Direction::Local,
                &reply.text,
                payload,
            )
            .await?;
        }
    }
    Ok(())
}

/// "The bot is typing" while it works. A transient hint: sent directly, not through the
/// outbox, and a failure only costs the hint.
fn typing_pulse(engine: &Arc<Engine>, conv: &Conversation) {
    let Some(gateway_id) = conv.gateway_id.clone() else {
        return;
    };
    let engine = engine.clone();
    tokio::spawn(async move {
        engine
            .connections
            .typing(Role::Endpoint, &gateway_id, "bot")
            .await;
    });
}
