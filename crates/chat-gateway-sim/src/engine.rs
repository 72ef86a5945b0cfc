//! The 8x8 side of a conversation: states (created → active → idle), routing to queues,
//! agents joining and leaving, transfers, the user leaving, re-opening by a new message,
//! post-agent handback, and the web-chat flow where 8x8 hands a customer to the bot
//! first (chat-gateway.md §6). Every change emits its webhook events while the store is locked,
//! so the events leave in the order the changes happened.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::agent_sessions::SessionEnd;
use crate::clock::{now_ms, random_id};
use crate::delivery::{new_event_id, Outgoing};
use crate::events::{self, MessageEvent};
use crate::seed::AgentScript;
use crate::state::Sim;
use crate::store::{
    Assignment, Attachment, Card, ConvState, Conversation, Interaction, Message, Offer, Store,
};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // "No…" reads as what is missing.
pub enum EngineError {
    #[error("conversation {0} not found")]
    NoConversation(String),
    #[error("conversation {0} has no pending offer")]
    NoOffer(String),
    #[error("no agent is handling conversation {0}")]
    NoAgent(String),
    /// An agent acted in a conversation it no longer handles (it transferred or ended it,
    /// or the customer left): 8x8 has closed the chat on that agent's screen.
    #[error("agent {agent} no longer handles conversation {conversation}")]
    NotTheAgent { conversation: String, agent: String },
    #[error("queue {0} does not exist")]
    NoQueue(String),
    #[error("card {0} not found")]
    NoCard(String),
    #[error("channel {0} not found")]
    NoChannel(String),
    #[error("webhook {0} not found")]
    NoWebhook(String),
}

/// A message as the engine stores it, whoever wrote it.
#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    pub text: Option<String>,
    pub external_provider: Option<Value>,
    pub attachments: Vec<String>,
    pub cards: Vec<(String, Value)>,
}

/// How long an agent's typing lasts without a stop.
const TYPING_TTL_MS: u64 = 5_000;

/// What to do after a scripted agent has said something.
#[derive(Debug, Clone)]
enum Then {
    Nothing,
    Transfer(String),
    End,
}

impl Sim {
    // ----- event plumbing -------------------------------------------------------------

    /// Sends `evs` for conversation `conv_id` to the webhook(s) it currently reports to.
    pub(crate) fn dispatch(self: &Arc<Self>, store: &Store, conv_id: &str, evs: Vec<Value>) {
        let Some(conv) = store.conversations.get(conv_id) else {
            return;
        };
        let channel_webhook = store
            .channels
            .get(&conv.channel_id)
            .map(|c| c.webhook_id.clone());
        let mut targets = Vec::new();
        match &conv.handback {
            Some(wh) => {
                targets.push(wh.clone());
                let notify = conv
                    .post_agent
                    .as_ref()
                    .is_some_and(|p| p.notify_channel_webhook);
                if let Some(cw) = channel_webhook.filter(|cw| notify && cw != wh) {
                    targets.push(cw);
                }
            }
            None => targets.extend(channel_webhook),
        }
        let interaction_id = conv.current_interaction().map(|i| i.id.clone());
        for ev in evs {
            let body = bytes::Bytes::from(serde_json::to_vec(&ev).unwrap_or_default());
            let record_type = ev["eventType"].as_str().unwrap_or("UNKNOWN").to_string();
            let event_id = new_event_id();
            if targets.is_empty() {
                let out = Outgoing {
                    record_type,
                    event_id,
                    tenant: conv.tenant.clone(),
                    url: String::new(),
                    webhook_id: None,
                    channel_id: Some(conv.channel_id.clone()),
                    conversation_id: Some(conv.id.clone()),
                    interaction_id: interaction_id.clone(),
                    body,
                };
                self.delivery
                    .undeliverable(&out, "the channel no longer exists");
                continue;
            }
            for wh in &targets {
                let out = Outgoing {
                    record_type: record_type.clone(),
                    event_id: event_id.clone(),
                    tenant: conv.tenant.clone(),
                    url: String::new(),
                    webhook_id: Some(wh.clone()),
                    channel_id: Some(conv.channel_id.clone()),
                    conversation_id: Some(conv.id.clone()),
                    interaction_id: interaction_id.clone(),
                    body: body.clone(),
                };
                match store.webhook(&conv.tenant, wh) {
                    Some(w) => self.delivery.enqueue(
                        &conv.id,
                        Outgoing {
                            url: w.uri.clone(),
                            ..out
                        },
                    ),
                    None => self
                        .delivery
                        .undeliverable(&out, &format!("webhook {wh} does not exist")),
                }
            }
        }
    }

    fn channel_display(store: &Store, conv: &Conversation) -> String {
        conv.digital_channel.clone().unwrap_or_else(|| {
            store
                .channels
                .get(&conv.channel_id)
                .map(|c| c.kind.clone())
                .unwrap_or_else(|| "ChatAPI".into())
        })
    }

    fn update_event(store: &Store, conv_id: &str) -> Value {
        let conv = &store.conversations[conv_id];
        events::conversation_update(conv, now_ms(), &Self::channel_display(store, conv))
    }

    // ----- creation and routing --------------------------------------------------------

    /// Creates a conversation in state `created`; the interaction follows asynchronously.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn create_conversation(
        self: &Arc<Self>,
        tenant: &str,
        channel_id: &str,
        assignment: Assignment,
        user: Map<String, Value>,
        history: Vec<(String, NewMessage)>,
        digital_channel: Option<String>,
    ) -> (String, u64) {
        let now = now_ms();
        let id = random_id(16);
        let mut store = self.lock();
        let seq = store.next_seq();
        let mut conv = Conversation {
            id: id.clone(),
            tenant: tenant.into(),
            channel_id: channel_id.into(),
            state: ConvState::Created,
            last_queue: (assignment.kind == "queue").then(|| assignment.id.clone()),
            assignment,
            user,
            created_ms: now,
            seq,
            interactions: Vec::new(),
            participants: Vec::new(),
            messages: Vec::new(),
            attachments: Vec::new(),
            agent: None,
            script: None,
            reply_index: 0,
            post_agent: None,
            handback: None,
            digital_channel,
            epoch: 0,
            handback_epoch: 0,
            typing_seq: 0,
            agent_typing: false,
            indicators: Vec::new(),
            history_len: history.len(),
            agent_sessions: Vec::new(),
        };
        conv.participant_mut("user", "user");
        for (author, m) in history {
            let seq = store.next_seq();
            push_message(&mut conv, seq, &author, &author, m, now);
        }
        store.conversations.insert(id.clone(), conv);
        let ev = Self::update_event(&store, &id);
        self.dispatch(&store, &id, vec![ev]);
        drop(store);
        let delay = self.settings().activation_delay_ms;
        let conv_id = id.clone();
        self.after(delay, move |sim| sim.activate(&conv_id, 0));
        (id, now)
    }

    fn activate(self: &Arc<Self>, conv_id: &str, epoch: u64) {
        let mut store = self.lock();
        let Some(conv) = store.conversations.get(conv_id) else {
            return;
        };
        if conv.epoch != epoch || conv.state != ConvState::Created {
            return;
        }
        let mut evs = Vec::new();
        self.start_interaction(&mut store, conv_id, &mut evs);
        self.dispatch(&store, conv_id, evs);
    }

    /// A new interaction (one per routing cycle), state `active`, then routing.
    fn start_interaction(self: &Arc<Self>, store: &mut Store, conv_id: &str, evs: &mut Vec<Value>) {
        let conv = store
            .conversations
            .get_mut(conv_id)
            .expect("caller checked");
        let now = now_ms();
        conv.interactions.push(Interaction {
            id: format!("int-{:x}-{}-chat-00-{}", now, random_id(18), conv.tenant),
            start_ms: now,
            end_ms: None,
        });
        conv.state = ConvState::Active;
        evs.push(Self::update_event(store, conv_id));
        self.route(store, conv_id, evs);
    }

    /// Puts the conversation where its assignment says: a queue gets an offer (and a
    /// mock agent, if scripted); a script or webhook assignment belongs to the bot.
    fn route(self: &Arc<Self>, store: &mut Store, conv_id: &str, evs: &mut Vec<Value>) {
        let conv = &store.conversations[conv_id];
        if conv.assignment.kind != "queue" {
            return;
        }
        let queue_id = conv.assignment.id.clone();
        let tenant = conv.tenant.clone();
        let epoch = conv.epoch;
        let interaction_id = conv
            .current_interaction()
            .map(|i| i.id.clone())
            .unwrap_or_default();
        let (queue_name, script) = match store.queue(&tenant, &queue_id) {
            Some(q) => (q.name.clone(), q.agent.clone()),
            None => (format!("Queue {queue_id}"), None),
        };
        store
            .conversations
            .get_mut(conv_id)
            .expect("exists")
            .last_queue = Some(queue_id.clone());
        evs.push(events::queued(conv_id, now_ms(), &queue_id, &queue_name));
        store.offers.retain(|o| o.conversation_id != conv_id);
        let now = now_ms();
        store.cc.queued(&queue_id, now);
        store.offers.push(Offer {
            conversation_id: conv_id.into(),
            tenant,
            queue_id,
            queue_name,
            interaction_id,
            offered_at_ms: now,
        });
        // The timer fires even if the scripted agent is not available then: `accept`
        // checks its state, and setting it available hands it the waiting offers.
        if let Some(script) = script {
            let conv_id = conv_id.to_string();
            self.after(script.accept_after_ms, move |sim| {
                let _ = sim.accept(&conv_id, None, Some((epoch, script)));
            });
        }
    }

    // ----- the agent side --------------------------------------------------------------

    /// An agent accepts the pending offer. `scripted` carries the routing epoch the
    /// timer was set for, so a stale timer does nothing.
    pub(crate) fn accept(
        self: &Arc<Self>,
        conv_id: &str,
        agent_id: Option<String>,
        scripted: Option<(u64, AgentScript)>,
    ) -> Result<String, EngineError> {
        let mut store = self.lock();
        let conv = store
            .conversations
            .get(conv_id)
            .ok_or_else(|| EngineError::NoConversation(conv_id.into()))?;
        let Some(offer) = store.offers.iter().find(|o| o.conversation_id == conv_id) else {
            return Err(EngineError::NoOffer(conv_id.into()));
        };
        if let Some((epoch, script)) = &scripted {
            // A timer set at routing time: the routing must be the same, and the queue
            // still run by this scripted agent (a person may have taken it over since).
            let runs = store
                .queue(&conv.tenant, &offer.queue_id)
                .and_then(|q| q.agent.as_ref())
                .is_some_and(|a| a.agent_id == script.agent_id);
            // Routing follows the agent's state: only an available agent is offered a
            // chat (contact_center.rs).
            let available = store.cc.agent_state(&offer.queue_id, &script.agent_id)
                == crate::contact_center::AgentState::Available;
            if *epoch != conv.epoch || !runs || !available {
                return Err(EngineError::NoOffer(conv_id.into()));
            }
        }
        let (queue_id, offered_at) = (offer.queue_id.clone(), offer.offered_at_ms);
        store.cc.accepted(&queue_id, offered_at, now_ms());
        store.offers.retain(|o| o.conversation_id != conv_id);
        let script = scripted.map(|(_, s)| s);
        let agent = agent_id
            .or_else(|| script.as_ref().map(|s| s.agent_id.clone()))
            .unwrap_or_else(|| "agent-1".into());
        let conv = store.conversations.get_mut(conv_id).expect("exists");
        conv.agent = Some(agent.clone());
        conv.assignment = Assignment {
            kind: "agent".into(),
            id: agent.clone(),
        };
        conv.participant_mut(&agent, "agent").removed = false;
        conv.script = script.clone();
        conv.open_session(&agent, script.is_some(), now_ms());
        let epoch = conv.epoch;
        let mut evs = vec![events::members_changed(
            conv_id,
            now_ms(),
            "agent",
            "joined",
            &agent,
        )];
        evs.push(Self::update_event(&store, conv_id));
        self.dispatch(&store, conv_id, evs);
        drop(store);
        if let Some(greeting) = script.and_then(|s| s.greeting) {
            self.script_say(conv_id, epoch, greeting, Then::Nothing);
        }
        Ok(agent)
    }

    /// The agent starts or stops typing. A start with no stop expires after
    /// `TYPING_TTL_MS` with an empty list, as a typing pulse does (P23).
    /// `as_agent`, when given, must be the conversation's agent (see agent_sessions.rs).
    pub(crate) fn agent_typing(
        self: &Arc<Self>,
        conv_id: &str,
        on: bool,
        as_agent: Option<&str>,
    ) -> Result<(), EngineError> {
        let mut store = self.lock();
        let conv = store
            .conversations
            .get_mut(conv_id)
            .ok_or_else(|| EngineError::NoConversation(conv_id.into()))?;
        let agent = conv.acting_agent(as_agent)?;
        conv.typing_seq += 1;
        conv.agent_typing = on;
        let seq = conv.typing_seq;
        let users = if on {
            vec![("agent", agent.as_str())]
        } else {
            vec![]
        };
        let ev = events::typing(conv_id, now_ms(), users);
        self.dispatch(&store, conv_id, vec![ev]);
        drop(store);
        if on {
            let id = conv_id.to_string();
            self.after(TYPING_TTL_MS, move |sim| {
                let still = sim
                    .lock()
                    .conversations
                    .get(&id)
                    .is_some_and(|c| c.agent_typing && c.typing_seq == seq);
                if still {
                    let _ = sim.agent_typing(&id, false, None);
                }
            });
        }
        Ok(())
    }

    /// The agent says something. Attachments are `(filename, content type, bytes)`;
    /// `as_agent`, when given, must be the conversation's agent.
    pub(crate) fn agent_say(
        self: &Arc<Self>,
        conv_id: &str,
        text: Option<String>,
        cards: Vec<(String, Value)>,
        files: Vec<(String, String, bytes::Bytes)>,
        as_agent: Option<&str>,
    ) -> Result<String, EngineError> {
        let mut store = self.lock();
        let seq = store.next_seq();
        let base = self.base_url.clone();
        let conv = store
            .conversations
            .get_mut(conv_id)
            .ok_or_else(|| EngineError::NoConversation(conv_id.into()))?;
        let agent = conv.acting_agent(as_agent)?;
        let now = now_ms();
        let mut att_ids = Vec::new();
        let mut att_events = Vec::new();
        for (filename, content_type, bytes) in files {
            let a = Attachment {
                id: random_id(48),
                seq,
                filename,
                content_type,
                bytes,
                created_ms: now,
                author_type: "agent".into(),
            };
            att_events.push(json!({
                "id": a.id,
                "type": a.kind(),
                "preSignedUrl": format!("{base}/sim/files/{conv_id}/{}", a.id),
                "fileName": a.filename,
            }));
            att_ids.push(a.id.clone());
            conv.attachments.push(a);
        }
        let msg = NewMessage {
            text: text.clone(),
            external_provider: None,
            attachments: att_ids,
            cards,
        };
        let id = push_message(conv, seq, "agent", &agent, msg, now);
        let scripted = conv.script.is_some();
        if let Some(m) = conv.messages.last_mut() {
            m.scripted = scripted;
        }
        let cards_ev: Vec<Value> = conv
            .messages
            .last()
            .map(|m| {
                m.cards
                    .iter()
                    .map(|c| json!({"contentType": c.content_type, "content": c.content}))
                    .collect()
            })
            .unwrap_or_default();
        let ev = events::message(
            conv_id,
            now,
            MessageEvent {
                is_echo: false,
                sender_type: "agent",
                sender_id: &agent,
                text: text.as_deref(),
                attachments: att_events,
                cards: cards_ev,
            },
        );
        self.dispatch(&store, conv_id, vec![ev]);
        Ok(id)
    }

    /// The agent moves the conversation to another queue: TRANSFER, agent left, QUEUED.
    pub(crate) fn transfer(
        self: &Arc<Self>,
        conv_id: &str,
        queue_id: &str,
        as_agent: Option<&str>,
    ) -> Result<(), EngineError> {
        let mut store = self.lock();
        let conv = store
            .conversations
            .get(conv_id)
            .ok_or_else(|| EngineError::NoConversation(conv_id.into()))?;
        let agent = conv.acting_agent(as_agent)?;
        let queue_name = store
            .queue(&conv.tenant, queue_id)
            .ok_or_else(|| EngineError::NoQueue(queue_id.into()))?
            .name
            .clone();
        let now = now_ms();
        let conv = store.conversations.get_mut(conv_id).expect("exists");
        conv.close_session(
            &agent,
            SessionEnd::Transfer,
            Some((queue_id, &queue_name)),
            now,
        );
        conv.participant_mut(&agent, "agent").removed = true;
        conv.agent = None;
        conv.script = None;
        conv.epoch += 1;
        conv.assignment = Assignment {
            kind: "queue".into(),
            id: queue_id.into(),
        };
        let mut evs = vec![
            events::transfer(conv_id, now),
            events::members_changed(conv_id, now, "agent", "left", &agent),
        ];
        evs.push(Self::update_event(&store, conv_id));
        self.route(&mut store, conv_id, &mut evs);
        self.dispatch(&store, conv_id, evs);
        Ok(())
    }

    /// The agent ends: agent left, then either the post-agent handback or `idle`.
    pub(crate) fn agent_end(
        self: &Arc<Self>,
        conv_id: &str,
        as_agent: Option<&str>,
    ) -> Result<(), EngineError> {
        let mut store = self.lock();
        let conv = store
            .conversations
            .get_mut(conv_id)
            .ok_or_else(|| EngineError::NoConversation(conv_id.into()))?;
        let agent = conv.acting_agent(as_agent)?;
        let now = now_ms();
        conv.close_session(&agent, SessionEnd::End, None, now);
        conv.participant_mut(&agent, "agent").removed = true;
        conv.agent = None;
        conv.script = None;
        conv.epoch += 1;
        if let Some(i) = conv.interactions.last_mut() {
            i.end_ms.get_or_insert(now);
        }
        let mut evs = vec![events::members_changed(
            conv_id, now, "agent", "left", &agent,
        )];
        // The agent-left event still goes to the channel's webhook; the handback
        // events go to the handback webhook.
        self.dispatch(&store, conv_id, std::mem::take(&mut evs));
        let conv = store.conversations.get_mut(conv_id).expect("exists");
        if let Some(pa) = conv.post_agent.clone() {
            conv.handback = Some(pa.webhook_id.clone());
            conv.handback_epoch += 1;
            conv.assignment = Assignment {
                kind: "webhook".into(),
                id: pa.webhook_id.clone(),
            };
            conv.state = ConvState::Active;
            let hb_epoch = conv.handback_epoch;
            evs.push(Self::update_event(&store, conv_id));
            self.dispatch(&store, conv_id, evs);
            drop(store);
            let minute = self.settings().minute_ms;
            if let Some(max) = pa.max_total_minutes {
                let id = conv_id.to_string();
                self.after(max * minute, move |sim| sim.end_handback(&id, None));
            }
            if let Some(t) = pa.user_timeout_minutes {
                let id = conv_id.to_string();
                self.after(t * minute, move |sim| sim.end_handback(&id, Some(hb_epoch)));
            }
        } else {
            conv.state = ConvState::Idle;
            evs.push(Self::update_event(&store, conv_id));
            self.dispatch(&store, conv_id, evs);
        }
        Ok(())
    }

    /// Ends a handback; `epoch` (user timeout) must still be current, `None` (total time)
    /// always ends it.
    fn end_handback(self: &Arc<Self>, conv_id: &str, epoch: Option<u64>) {
        let mut store = self.lock();
        let Some(conv) = store.conversations.get_mut(conv_id) else {
            return;
        };
        if conv.handback.is_none() || epoch.is_some_and(|e| e != conv.handback_epoch) {
            return;
        }
        conv.state = ConvState::Idle;
        let evs = vec![Self::update_event(&store, conv_id)];
        // Sent while the handback webhook is still the target, then the handback ends.
        self.dispatch(&store, conv_id, evs);
        let conv = store.conversations.get_mut(conv_id).expect("exists");
        conv.handback = None;
        conv.post_agent = None;
    }

    // ----- the user side ---------------------------------------------------------------

    /// `PATCH …/participants/user {removed:true}` or the web-chat customer leaving.
    pub(crate) fn user_leave(self: &Arc<Self>, conv_id: &str) -> Result<(), EngineError> {
        let mut store = self.lock();
        let conv = store
            .conversations
            .get_mut(conv_id)
            .ok_or_else(|| EngineError::NoConversation(conv_id.into()))?;
        let already_left = conv.user_removed();
        if already_left && conv.state == ConvState::Idle {
            return Ok(()); // P27: a second leave is a no-op.
        }
        let now = now_ms();
        conv.participant_mut("user", "user").removed = true;
        conv.epoch += 1;
        conv.handback_epoch += 1;
        let mut evs = vec![events::members_changed(
            conv_id, now, "user", "left", "user",
        )];
        if let Some(agent) = conv.agent.take() {
            conv.close_session(&agent, SessionEnd::UserLeft, None, now);
            conv.participant_mut(&agent, "agent").removed = true;
            conv.script = None;
            evs.push(events::members_changed(
                conv_id, now, "agent", "left", &agent,
            ));
        }
        if let Some(i) = conv.interactions.last_mut() {
            i.end_ms.get_or_insert(now);
        }
        let was_idle = conv.state == ConvState::Idle;
        conv.state = ConvState::Idle;
        // Leaving while waiting for an agent is what 8x8 counts as abandoned.
        if let Some(q) = store
            .offers
            .iter()
            .find(|o| o.conversation_id == conv_id)
            .map(|o| o.queue_id.clone())
        {
            store.cc.abandoned(&q, now);
        }
        store.offers.retain(|o| o.conversation_id != conv_id);
        if !was_idle {
            evs.push(Self::update_event(&store, conv_id));
        }
        self.dispatch(&store, conv_id, evs);
        let conv = store.conversations.get_mut(conv_id).expect("exists");
        conv.handback = None;
        conv.post_agent = None;
        Ok(())
    }

    /// A message from the bot or the user through `POST …/messages`: stored, echoed
    /// (P5/P6), re-opens an idle conversation (P26), and reaches a scripted agent.
    pub(crate) fn post_message(
        self: &Arc<Self>,
        conv_id: &str,
        author_type: &str,
        msg: NewMessage,
    ) -> Result<(), EngineError> {
        let echo = self.settings().echo_messages;
        self.add_message(conv_id, author_type, msg, echo)
    }

    /// A web-chat customer's message: reaches the bot's webhook as a non-echo MESSAGE.
    pub(crate) fn customer_say(
        self: &Arc<Self>,
        conv_id: &str,
        text: String,
    ) -> Result<(), EngineError> {
        let msg = NewMessage {
            text: Some(text),
            ..NewMessage::default()
        };
        self.add_message(conv_id, "customer", msg, true)
    }

    fn add_message(
        self: &Arc<Self>,
        conv_id: &str,
        author_type: &str,
        msg: NewMessage,
        send_event: bool,
    ) -> Result<(), EngineError> {
        let customer = author_type == "customer";
        let author_type = if customer { "user" } else { author_type };
        let mut store = self.lock();
        let seq = store.next_seq();
        let base = self.base_url.clone();
        let conv = store
            .conversations
            .get_mut(conv_id)
            .ok_or_else(|| EngineError::NoConversation(conv_id.into()))?;
        let now = now_ms();
        let mut evs = Vec::new();
        let reopen = conv.state == ConvState::Idle && conv.handback.is_none();
        if reopen {
            conv.epoch += 1;
            if conv.user_removed() {
                conv.participant_mut("user", "user").removed = false;
                evs.push(events::members_changed(
                    conv_id, now, "user", "joined", "user",
                ));
            }
            if let Some(q) = conv.last_queue.clone() {
                conv.assignment = Assignment {
                    kind: "queue".into(),
                    id: q,
                };
            }
        }
        let text = msg.text.clone();
        let attachments: Vec<Value> = msg
            .attachments
            .iter()
            .filter_map(|id| conv.attachments.iter().find(|a| &a.id == id))
            .map(|a| {
                json!({
                    "id": a.id,
                    "type": a.kind(),
                    "preSignedUrl": format!("{base}/sim/files/{conv_id}/{}", a.id),
                    "fileName": a.filename,
                })
            })
            .collect();
        push_message(conv, seq, author_type, author_type, msg, now);
        let cards: Vec<Value> = conv
            .messages
            .last()
            .map(|m| {
                m.cards
                    .iter()
                    .map(|c| json!({"contentType": c.content_type, "content": c.content}))
                    .collect()
            })
            .unwrap_or_default();
        let message_ev = events::message(
            conv_id,
            now,
            MessageEvent {
                is_echo: !customer,
                sender_type: author_type,
                sender_id: author_type,
                text: text.as_deref(),
                attachments,
                cards,
            },
        );
        if reopen {
            self.dispatch(&store, conv_id, std::mem::take(&mut evs));
            self.start_interaction(&mut store, conv_id, &mut evs);
        }
        if send_event {
            evs.push(message_ev);
        }
        let conv = store.conversations.get_mut(conv_id).expect("exists");
        let mut react = None;
        if author_type == "user" {
            conv.handback_epoch += 1;
            if let (Some(script), Some(text)) = (conv.script.clone(), text.clone()) {
                react = Some((conv.epoch, script, text, conv.reply_index));
                conv.reply_index += 1;
            }
        }
        // The user timeout counts from the bot's last message: each bot message
        // restarts it (and a user message cancels it, above).
        let mut handback_timeout = None;
        if author_type == "bot" && conv.handback.is_some() {
            if let Some(t) = conv
                .post_agent
                .as_ref()
                .and_then(|p| p.user_timeout_minutes)
            {
                conv.handback_epoch += 1;
                handback_timeout = Some((t, conv.handback_epoch));
            }
        }
        self.dispatch(&store, conv_id, evs);
        drop(store);
        if let Some((minutes, epoch)) = handback_timeout {
            let id = conv_id.to_string();
            let ms = minutes * self.settings().minute_ms;
            self.after(ms, move |sim| sim.end_handback(&id, Some(epoch)));
        }
        if let Some((epoch, script, text, index)) = react {
            let lower = text.to_lowercase();
            let has = |k: &Option<String>| {
                k.as_ref()
                    .is_some_and(|k| !k.is_empty() && lower.contains(&k.to_lowercase()))
            };
            if has(&script.end_keyword) {
                self.script_say(
                    conv_id,
                    epoch,
                    "Thanks for chatting. Goodbye!".into(),
                    Then::End,
                );
            } else if has(&script.transfer_keyword) && script.transfer_to.is_some() {
                let to = script.transfer_to.clone().unwrap_or_default();
                self.script_say(
                    conv_id,
                    epoch,
                    "Let me transfer you to a colleague.".into(),
                    Then::Transfer(to),
                );
            } else {
                let reply = if script.replies.is_empty() {
                    format!("You said: {text}")
                } else {
                    script.replies[index % script.replies.len()].clone()
                };
                self.script_say(conv_id, epoch, reply, Then::Nothing);
            }
        }
        Ok(())
    }

    /// A scripted agent types for a while, says `text`, then maybe transfers or ends.
    fn script_say(self: &Arc<Self>, conv_id: &str, epoch: u64, text: String, then: Then) {
        let current = move |sim: &Arc<Sim>, id: &str| {
            sim.lock()
                .conversations
                .get(id)
                .is_some_and(|c| c.epoch == epoch && c.agent.is_some())
        };
        if !current(self, conv_id) {
            return;
        }
        let typing_ms = self
            .lock()
            .conversations
            .get(conv_id)
            .and_then(|c| c.script.as_ref().map(|s| s.typing_ms))
            .unwrap_or(0);
        let _ = self.agent_typing(conv_id, true, None);
        let id = conv_id.to_string();
        self.after(typing_ms, move |sim| {
            if !current(sim, &id) {
                return;
            }
            let _ = sim.agent_typing(&id, false, None);
            let _ = sim.agent_say(&id, Some(text), Vec::new(), Vec::new(), None);
            match then {
                Then::Nothing => {}
                Then::Transfer(q) => {
                    let _ = sim.transfer(&id, &q, None);
                }
                Then::End => {
                    let _ = sim.agent_end(&id, None);
                }
            }
        });
    }

    /// A change of assignment or user data through PUT/PATCH.
    pub(crate) fn reassign(
        self: &Arc<Self>,
        store: &mut Store,
        conv_id: &str,
        assignment: Option<Assignment>,
        user_changed: bool,
    ) {
        let mut evs = Vec::new();
        let conv = store
            .conversations
            .get_mut(conv_id)
            .expect("caller checked");
        // Re-sending the current assignment (a PUT carries the whole resource) does not
        // re-route.
        let assignment = assignment.filter(|a| *a != conv.assignment);
        let Some(assignment) = assignment else {
            if user_changed {
                evs.push(Self::update_event(store, conv_id));
            }
            self.dispatch(store, conv_id, evs);
            return;
        };
        if assignment.kind == "queue" {
            conv.last_queue = Some(assignment.id.clone());
        }
        conv.assignment = assignment;
        if conv.state != ConvState::Active {
            // Created: activation routes it; idle: a re-open does.
            if user_changed {
                evs.push(Self::update_event(store, conv_id));
            }
            self.dispatch(store, conv_id, evs);
            return;
        }
        conv.epoch += 1;
        conv.handback = None;
        if let Some(agent) = conv.agent.take() {
            conv.close_session(&agent, SessionEnd::Reassigned, None, now_ms());
            conv.participant_mut(&agent, "agent").removed = true;
            conv.script = None;
            evs.push(events::members_changed(
                conv_id,
                now_ms(),
                "agent",
                "left",
                &agent,
            ));
        }
        store.offers.retain(|o| o.conversation_id != conv_id);
        evs.push(Self::update_event(store, conv_id));
        self.route(store, conv_id, &mut evs);
        self.dispatch(store, conv_id, evs);
    }

    // ----- activities ----------------------------------------------------------------

    /// An ACTIVITY event (card action, quick reply, customer typing).
    pub(crate) fn activity(
        self: &Arc<Self>,
        conv_id: &str,
        name: &str,
        value: Value,
    ) -> Result<(), EngineError> {
        let store = self.lock();
        if !store.conversations.contains_key(conv_id) {
            return Err(EngineError::NoConversation(conv_id.into()));
        }
        let ev = events::activity(conv_id, now_ms(), name, value);
        self.dispatch(&store, conv_id, vec![ev]);
        Ok(())
    }

    /// Flips a card's flag and reports it as `adaptiveCard/action`.
    pub(crate) fn card_action(
        self: &Arc<Self>,
        conv_id: &str,
        card_id: &str,
        execute: bool,
        data: Value,
    ) -> Result<(), EngineError> {
        let mut store = self.lock();
        let conv = store
            .conversations
            .get_mut(conv_id)
            .ok_or_else(|| EngineError::NoConversation(conv_id.into()))?;
        let card = conv
            .messages
            .iter_mut()
            .flat_map(|m| m.cards.iter_mut())
            .find(|c| c.id == card_id)
            .ok_or_else(|| EngineError::NoCard(card_id.into()))?;
        if execute {
            card.action_executed = true;
        } else {
            card.action_submitted = true;
        }
        let kind = if execute {
            "Action.Execute"
        } else {
            "Action.Submit"
        };
        let ev = events::activity(
            conv_id,
            now_ms(),
            "adaptiveCard/action",
            json!({"type": kind, "data": data}),
        );
        self.dispatch(&store, conv_id, vec![ev]);
        Ok(())
    }
}

/// Appends a message (and its author as a participant); returns its id.
fn push_message(
    conv: &mut Conversation,
    seq: u64,
    author_type: &str,
    author_id: &str,
    m: NewMessage,
    now: u64,
) -> String {
    let id = random_id(16);
    let language = conv.language();
    if author_type != "system" {
        conv.participant_mut(author_id, author_type);
    }
    conv.messages.push(Message {
        id: id.clone(),
        seq,
        text: m.text,
        created_ms: now,
        author_id: author_id.into(),
        author_type: author_type.into(),
        language,
        external_provider: m.external_provider,
        attachments: m.attachments,
        scripted: false,
        cards: m
            .cards
            .into_iter()
            .map(|(content_type, content)| Card {
                id: random_id(8),
                content_type,
                content,
                action_submitted: false,
                action_executed: false,
            })
            .collect(),
    });
    id
}
