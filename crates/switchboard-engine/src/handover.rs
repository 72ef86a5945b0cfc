//! Handing a conversation to a human agent in an 8x8 queue. In endpoint mode 8x8 already
//! has the conversation: it is re-assigned to the queue (chat-gateway.md §6.6). In handover mode the
//! relay creates the 8x8 conversation with the channel, the queue, what is known about
//! the user, the JSON properties and the bot transcript, then relays both ways.

use std::{sync::Arc, time::Duration};

use serde_json::{json, Value};

use chat_gateway_client::{
    json_properties,
    types::{
        Assignment, ConversationUser, CreateConversation, History, KeyValue, PostAgentAssignment,
        SendMessage,
    },
    OutboundCall,
};
use switchboard_settings::Settings;
use switchboard_store::{HandoverBookkeeping, HandoverRecord, OutboxError};
use switchboard_types::{Direction, Lane, OutboxStatus, RelayEvent};

use crate::{note, save, Conversation, Engine, EngineError, Job, Mode, Phase};

/// 8x8 takes at most this many history messages (chat-gateway.md §8).
const MAX_HISTORY: usize = 200;

pub(crate) async fn start(
    engine: &Arc<Engine>,
    conv: &mut Conversation,
    reason: &str,
) -> Result<(), EngineError> {
    let settings = engine.settings();
    let (channel, queue) = engine.connections.handover_route(&settings);
    let Some(queue) = queue else {
        note(
            engine,
            conv,
            Lane::System,
            Direction::Local,
            "The bot asked for an agent, but no Queue Id is set (Handover settings).",
            Value::Null,
        )
        .await?;
        return Ok(());
    };
    engine
        .handovers_started
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    note(
        engine,
        conv,
        Lane::System,
        Direction::Local,
        &format!("Handover to queue {queue}: {reason}."),
        Value::Null,
    )
    .await?;
    let copilot = copilot_entry(engine, conv, &settings).await;
    match (conv.mode, conv.gateway_id.clone()) {
        (Mode::Endpoint, Some(gateway_id)) => {
            // 8x8 already has the user: the link joins what it shows the agent, together
            // with the queue assignment.
            let user = copilot.map(|link| {
                let mut properties = existing_properties(&conv.user);
                properties.retain(|p| p.key != link.key);
                properties.truncate(json_properties::MAX_ENTRIES - 1);
                properties.push(link);
                ConversationUser {
                    additional_properties: properties,
                    ..ConversationUser::default()
                }
            });
            engine
                .outbox
                .enqueue_for_conversation(&OutboundCall::PatchAssignment {
                    conversation_id: gateway_id.clone(),
                    assignment: Assignment::queue(queue),
                    user,
                })
                .await?;
            // Without a handback 8x8 closes the chat when the agent ends it, and the bot
            // cannot take the customer back (P13); with one, 8x8 routes it back here.
            if settings.handover.handback {
                schedule_handback(engine, conv, &gateway_id).await?;
            }
            conv.phase = Phase::Handover;
        }
        _ => create(engine, conv, &settings, channel, queue, copilot).await?,
    }
    Ok(())
}

/// The Copilot link as the entry the agent sees, when the Copilot is on.
async fn copilot_entry(
    engine: &Arc<Engine>,
    conv: &Conversation,
    settings: &Settings,
) -> Option<KeyValue> {
    if !settings.handover.copilot.enabled {
        return None;
    }
    let link = engine.connections.copilot_link(conv).await?;
    Some(KeyValue {
        key: settings.handover.copilot.label.clone(),
        value: link,
    })
}

/// The `additionalProperties` 8x8 already holds for an endpoint-mode user (a PATCH
/// replaces the list, so they are sent again beside the link).
fn existing_properties(user: &Value) -> Vec<KeyValue> {
    user.get("additionalProperties")
        .and_then(|v| serde_json::from_value::<Vec<KeyValue>>(v.clone()).ok())
        .unwrap_or_default()
}

async fn create(
    engine: &Arc<Engine>,
    conv: &mut Conversation,
    settings: &Settings,
    channel: Option<String>,
    queue: String,
    copilot: Option<KeyValue>,
) -> Result<(), EngineError> {
    let Some(channel) = channel else {
        note(
            engine,
            conv,
            Lane::System,
            Direction::Local,
            "The bot asked for an agent, but no Channel Id is set (Handover settings).",
            Value::Null,
        )
        .await?;
        return Ok(());
    };
    let additional_properties = match json_properties::parse(&settings.handover.json_properties) {
        // The settings keep room for the link (29 properties at most with it on).
        Ok(mut p) => {
            if let Some(link) = copilot {
                if p.len() < json_properties::MAX_ENTRIES {
                    p.retain(|e| e.key != link.key);
                    p.push(link);
                }
            }
            p
        }
        Err(e) => {
            note(
                engine,
                conv,
                Lane::System,
                Direction::Local,
                &format!("Handover stopped: {e}"),
                Value::Null,
            )
            .await?;
            return Ok(());
        }
    };
    let field = |k: &str| {
        conv.user[k]
            .as_str()
            .map(str::to_string)
            .filter(|s| !s.is_empty())
    };
    let user = ConversationUser {
        name: field("name"),
        email: field("email"),
        phone: field("phone"),
        language: field("language"),
        additional_properties,
        ..ConversationUser::default()
    };
    let transcript = engine.store.transcript(&conv.id, 0, 100_000).await?;
    let mut messages: Vec<SendMessage> = transcript
        .iter()
        .filter(|e| matches!(e.lane, Lane::User | Lane::Bot) && !e.text.is_empty())
        .map(|e| SendMessage::text(e.lane.as_str(), &e.text))
        .collect();
    let total = messages.len();
    if total > MAX_HISTORY {
        messages.drain(..total - MAX_HISTORY);
        note(engine, conv, Lane::System, Direction::Local, &format!("The history sent to the agent was cut to the latest {MAX_HISTORY} of {total} messages."), Value::Null).await?;
    }
    conv.channel_id = Some(channel.clone());
    let request = CreateConversation {
        channel_id: channel,
        user,
        assignment: Some(Assignment::queue(queue)),
        history: Some(History { messages }),
    };
    let outbox_id = engine
        .outbox
        .enqueue(
            &conv.id,
            &OutboundCall::CreateConversation {
                request: request.clone(),
            },
        )
        .await?;
    // A conversation handed over again gets a new 8x8 conversation; the earlier ones are
    // remembered so their late events are recognised (and ignored).
    let mut earlier_gateway_ids = conv
        .handover
        .take()
        .map(|h| h.local.earlier_gateway_ids)
        .unwrap_or_default();
    earlier_gateway_ids.extend(conv.gateway_id.take());
    conv.handover = Some(HandoverRecord {
        request,
        local: HandoverBookkeeping {
            outbox_id: Some(outbox_id),
            handback: settings.handover.handback,
            earlier_gateway_ids,
        },
    });
    conv.phase = Phase::Handover;
    save(engine, conv).await?;
    wait_for_create(engine.clone(), conv.id.clone(), outbox_id);
    Ok(())
}

/// The create may wait for 8x8 for a long time (outage): its completion comes back to
/// the conversation's actor as a job.
fn wait_for_create(engine: Arc<Engine>, conv_id: String, outbox_id: i64) {
    tokio::spawn(async move {
        loop {
            match engine
                .outbox
                .wait(outbox_id, Duration::from_secs(3600))
                .await
            {
                Ok(_) => {
                    engine
                        .actors
                        .send(&engine, &conv_id, Job::HandoverCreated(outbox_id));
                    return;
                }
                Err(OutboxError::Timeout(_)) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "waiting for a handover create failed");
                    return;
                }
            }
        }
    });
}

/// After a restart: creates still in flight get their waiters back.
pub(crate) async fn resume_pending_creates(engine: &Arc<Engine>) {
    let convs = match engine.store.awaiting_create().await {
        Ok(convs) => convs,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the handovers still waiting for 8x8's answer to their create");
            return;
        }
    };
    for conv in convs {
        if let Some(id) = conv.handover.as_ref().and_then(|h| h.local.outbox_id) {
            wait_for_create(engine.clone(), conv.id.clone(), id);
        }
    }
}

/// The create finished: remember 8x8's id and send what the user said meanwhile, or tell
/// the user no agent could be reached.
pub(crate) async fn created(
    engine: &Arc<Engine>,
    key: &str,
    outbox_id: i64,
) -> Result<(), EngineError> {
    let Some(mut conv) = engine.store.get(key).await? else {
        return Ok(());
    };
    let Some(entry) = engine.outbox.get(outbox_id).await? else {
        return Ok(());
    };
    let gateway_id = entry
        .response
        .as_ref()
        .and_then(|r| r["conversationId"].as_str())
        .map(str::to_string);
    match (entry.status, gateway_id) {
        (OutboxStatus::Delivered, Some(gateway_id)) => {
            // A second handover in the same conversation gets a new 8x8 conversation.
            if conv.gateway_id.as_deref() != Some(&gateway_id) {
                conv.gateway_id = Some(gateway_id.clone());
                note(
                    engine,
                    &mut conv,
                    Lane::System,
                    Direction::Out,
                    &format!("8x8 conversation {gateway_id} created; waiting for an agent."),
                    Value::Null,
                )
                .await?;
            }
            let handback = conv.handover.as_ref().is_some_and(|h| h.local.handback);
            if handback {
                schedule_handback(engine, &mut conv, &gateway_id).await?;
            }
            flush_pending(engine, &mut conv, &gateway_id).await?;
        }
        _ => {
            let why = entry
                .last_error
                .clone()
                .unwrap_or_else(|| "8x8 did not accept it".into());
            note(
                engine,
                &mut conv,
                Lane::System,
                Direction::Local,
                &format!("The handover failed: {why}"),
                Value::Null,
            )
            .await?;
            conv.phase = Phase::Bot;
            super::bot_turn::say(
                engine,
                &mut conv,
                "Sorry, no agent can be reached right now. I'm still here to help.",
            )
            .await?;
        }
    }
    save(engine, &mut conv).await
}

/// Post-agent assignment: after the agent, 8x8 routes the conversation back to the
/// relay's webhook so the bot can continue.
async fn schedule_handback(
    engine: &Engine,
    conv: &mut Conversation,
    gateway_id: &str,
) -> Result<(), EngineError> {
    match engine.connections.handback_webhook().await {
        Some(id) => {
            engine
                .outbox
                .enqueue_for_conversation(&OutboundCall::PostAgentAssignment {
                    conversation_id: gateway_id.to_string(),
                    request: PostAgentAssignment {
                        kind: "webhook".into(),
                        id,
                        configuration: None,
                    },
                })
                .await?;
        }
        None => {
            note(engine, conv, Lane::System, Direction::Local, "Handback is on, but this relay's webhook is not registered in 8x8 (Endpoint settings → Register webhook).", Value::Null).await?;
        }
    }
    Ok(())
}

/// What the user typed while the create was on its way goes out now, in order.
async fn flush_pending(
    engine: &Engine,
    conv: &mut Conversation,
    gateway_id: &str,
) -> Result<(), EngineError> {
    let pending: Vec<_> = engine
        .store
        .transcript(&conv.id, 0, 100_000)
        .await?
        .into_iter()
        .filter(|e| e.direction == Direction::Pending)
        .collect();
    for entry in pending {
        let outbox_id = engine
            .outbox
            .enqueue_for_conversation(&OutboundCall::SendMessage {
                conversation_id: gateway_id.to_string(),
                message: SendMessage::text("user", &entry.text),
            })
            .await?;
        engine.store.mark_sent(entry.id, outbox_id).await?;
        // The live UI replaces the line it shows as held back.
        let mut sent = entry.clone();
        sent.direction = Direction::Out;
        sent.payload = json!({ "outboxId": outbox_id });
        engine.bus.publish(RelayEvent::TranscriptEntry {
            entry: serde_json::to_value(&sent).unwrap_or_default(),
        });
    }
    Ok(())
}

/// Ends the 8x8 side: the user leaves (P27), which frees the agent.
pub(crate) async fn leave_8x8(engine: &Engine, conv: &Conversation) -> Result<(), EngineError> {
    if let Some(gateway_id) = &conv.gateway_id {
        engine
            .outbox
            .enqueue_for_conversation(&OutboundCall::UserLeave {
                conversation_id: gateway_id.clone(),
            })
            .await?;
    }
    Ok(())
}
