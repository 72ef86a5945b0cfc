//! The conversation engine: what the relay exists for. Events from 8x8 (through the
//! durable inbox) and the tester's user actions drive one state machine per
//! conversation; the bot answers; everything bound for 8x8 goes through the durable
//! outbox; everything that happens is stored and published for the live UI.
//!
//! Each conversation has its own actor (a task with a queue), so its events are handled
//! one at a time and in order, while a slow bot in one conversation never holds up
//! another.
//!
//! Protocol citations: "chat-gateway.md §n" is docs/chat-gateway.md, "Pn" is a decision in
//! docs/decisions.md.

mod actors;
mod bot_turn;
mod connections;
mod contact_center;
mod handover;
mod on_event;
mod queue_updates;
mod tester;
mod typing;

use std::{sync::Arc, time::Duration};

use serde::Serialize;
use switchboard_settings::Settings;
use switchboard_store::{
    pg::PgError, write_unit::Completion, ConversationStore, Database, DbError, InboxQueue, Outbox,
    OutboxError, QueuedEvent,
};
use switchboard_types::{now_ms, token, Direction, EventBus, Lane, RelayEvent};
use tokio::sync::{oneshot, watch};

use actors::Known;
pub use connections::Connections;
pub use switchboard_store::{Conversation, Entry, Mode, Phase};
pub use tester::{NewUser, QuickReplyChoice, UserInput};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("no conversation {0}")]
    NotFound(String),
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the outbox refused the call: {0}")]
    Outbox(#[from] OutboxError),
    #[error("the relay is stopping")]
    Stopping,
}

/// Timing the tests shorten.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// How long a "minute" of the inactivity timeout is.
    pub minute: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            minute: Duration::from_secs(60),
        }
    }
}

/// What the engine works with, handed in by whoever runs it (the relay, or a test): the
/// database and the stores on it, the live-event bus, the settings as they are now, the
/// 8x8 connections, and the signal that the relay is stopping. The engine never sees the
/// relay's listeners, its admin state or the sandbox itself.
pub struct EngineContext {
    pub db: Database,
    pub inbox: Arc<InboxQueue>,
    pub outbox: Arc<Outbox>,
    pub bus: Arc<EventBus>,
    pub settings: watch::Receiver<Arc<Settings>>,
    pub connections: Arc<dyn Connections>,
    pub stopping: watch::Receiver<bool>,
}

pub struct Engine {
    pub store: ConversationStore,
    db: Database,
    inbox: Arc<InboxQueue>,
    outbox: Arc<Outbox>,
    bus: Arc<EventBus>,
    settings: watch::Receiver<Arc<Settings>>,
    connections: Arc<dyn Connections>,
    stopping: watch::Receiver<bool>,
    actors: actors::Actors,
    config: std::sync::RwLock<EngineConfig>,
    bot: bot_turn::BotCache,
    queue_updates: queue_updates::LastTold,
    /// Handovers started since the engine started, for the relay's `/metrics`: a plain
    /// atomic, so the engine needs no metrics library.
    pub handovers_started: std::sync::atomic::AtomicU64,
    /// Sees, for each event the engine takes up, how long ago its delivery arrived (the
    /// relay's `/metrics` engine lag).
    lag_observer: std::sync::RwLock<Option<LagObserver>>,
}

pub type LagObserver = Arc<dyn Fn(Duration) + Send + Sync>;

/// What an actor is asked to do.
pub(crate) enum Job {
    Event(Box<QueuedEvent>),
    Start(NewUser, oneshot::Sender<Result<Conversation, EngineError>>),
    Input(
        UserInput,
        oneshot::Sender<Result<Conversation, EngineError>>,
    ),
    Typing,
    Leave(String, oneshot::Sender<Result<Conversation, EngineError>>),
    HandoverCreated(i64),
    /// Time to tell a queued customer the queue's figures.
    QueueUpdate,
}

/// A conversation and its transcript, as the UI opens it.
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ConversationView {
    pub conversation: Conversation,
    pub transcript: Vec<Entry>,
}

impl Engine {
    pub fn new(ctx: EngineContext) -> Arc<Self> {
        Arc::new(Self {
            store: ConversationStore::on(&ctx.db),
            db: ctx.db,
            inbox: ctx.inbox,
            outbox: ctx.outbox,
            bus: ctx.bus,
            settings: ctx.settings,
            connections: ctx.connections,
            stopping: ctx.stopping,
            actors: actors::Actors::default(),
            config: std::sync::RwLock::new(EngineConfig::default()),
            bot: bot_turn::BotCache::default(),
            queue_updates: queue_updates::LastTold::default(),
            handovers_started: Default::default(),
            lag_observer: Default::default(),
        })
    }

    pub fn set_lag_observer(&self, observer: LagObserver) {
        *self.lag_observer.write().unwrap_or_else(|p| p.into_inner()) = Some(observer);
    }

    pub fn set_config(&self, config: EngineConfig) {
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = config;
    }

    pub fn config(&self) -> EngineConfig {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The settings as they are now. A snapshot: a save while a job runs applies from
    /// the next job on, and reading never waits for a save in progress.
    pub fn settings(&self) -> Arc<Settings> {
        self.settings.borrow().clone()
    }

    /// Starts a simulated user's conversation (handover mode): the bot greets.
    pub async fn start(self: &Arc<Self>, user: NewUser) -> Result<Conversation, EngineError> {
        let id = format!("hc-{}", &token::generate()[..16]);
        let (tx, rx) = oneshot::channel();
        self.actors.send(self, &id, Job::Start(user, tx));
        rx.await.map_err(|_| EngineError::Stopping)?
    }

    /// The simulated user says something (text or a quick reply).
    pub async fn input(
        self: &Arc<Self>,
        id: &str,
        input: UserInput,
    ) -> Result<Conversation, EngineError> {
        let (tx, rx) = oneshot::channel();
        self.actors.send(self, id, Job::Input(input, tx));
        rx.await.map_err(|_| EngineError::Stopping)?
    }

    /// The simulated user is typing (relayed to the agent while one has the chat).
    pub fn typing(self: &Arc<Self>, id: &str) {
        self.actors.send(self, id, Job::Typing);
    }

    /// The simulated user leaves; the 8x8 side is ended cleanly.
    pub async fn leave(self: &Arc<Self>, id: &str) -> Result<Conversation, EngineError> {
        let (tx, rx) = oneshot::channel();
        self.actors
            .send(self, id, Job::Leave("The user left the chat.".into(), tx));
        rx.await.map_err(|_| EngineError::Stopping)?
    }

    pub async fn view(&self, id: &str) -> Result<ConversationView, EngineError> {
        let conversation = self
            .store
            .get(id)
            .await?
            .ok_or_else(|| EngineError::NotFound(id.to_string()))?;
        let transcript = self.store.transcript(id, 0, 10_000).await?;
        Ok(ConversationView {
            conversation,
            transcript,
        })
    }
}

/// Takes events from the inbox queue and hands each to its conversation's actor; also
/// ends handed-over conversations whose user went quiet.
pub fn spawn(engine: Arc<Engine>) -> tokio::task::JoinHandle<()> {
    let mut stopped = engine.stopping.clone();
    tokio::spawn(async move {
        handover::resume_pending_creates(&engine).await;
        tokio::spawn(sweeper(engine.clone(), stopped.clone()));
        tokio::spawn(queue_updates::run(engine.clone(), stopped.clone()));
        loop {
            tokio::select! {
                // The guard `wait_for` returns is not Send: drop it inside.
                _ = async { let _ = stopped.wait_for(|s| *s).await; } => break,
                next = engine.inbox.recv_ready(DISPATCH_BATCH) => match next {
                    Ok(events) => dispatch(&engine, events).await,
                    Err(e) => {
                        tracing::error!(error = %e, "the inbox queue failed; retrying");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                },
            }
        }
    })
}

/// Events handed to their actors per look-up of their conversations.
const DISPATCH_BATCH: usize = 64;

/// Hands a batch of events to their conversations' actors, in order. The conversations
/// not remembered yet are looked up for the whole batch in one visit to the database:
/// one visit per event, one event after another, was what held a burst of new customers
/// back (bench-whole-path).
async fn dispatch(engine: &Arc<Engine>, events: Vec<QueuedEvent>) {
    let observer = engine
        .lag_observer
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    if let Some(observe) = observer {
        let now = now_ms();
        for event in &events {
            observe(Duration::from_millis(
                (now - event.received_at_ms).max(0) as u64
            ));
        }
    }
    let unrouted = actors::unrouted(engine, &events);
    let known = if unrouted.is_empty() {
        Default::default()
    } else {
        engine.store.routes_of(unrouted).await.unwrap_or_default()
    };
    for event in events {
        // 8x8 echoes every post the relay makes (P5); they are dropped whatever the
        // conversation, so they need no lookup and no actor.
        let echo = matches!(&event.event.kind, chat_gateway_client::webhook::EventKind::Message(m) if m.is_echo);
        if echo {
            let _ = engine
                .inbox
                .complete(&event, Ok("echo ignored".into()))
                .await;
            continue;
        }
        match actors::key_for_event(engine, &event.event, &known).await {
            Some((key, first_sight)) => {
                engine
                    .actors
                    .send_with(engine, &key, Job::Event(Box::new(event)), first_sight)
            }
            None => {
                let _ = engine
                    .inbox
                    .complete(&event, Ok("no conversation in the event".into()))
                    .await;
            }
        }
    }
}

/// Ends handed-over conversations whose user went quiet. The period follows the config
/// as it is now, so a changed timeout applies without a restart.
async fn sweeper(engine: Arc<Engine>, mut stopped: watch::Receiver<bool>) {
    loop {
        // At least once a second: a timeout changed at run time applies promptly, and the
        // query is one indexed scan.
        let period =
            (engine.config().minute / 4).clamp(Duration::from_millis(25), Duration::from_secs(1));
        tokio::select! {
            _ = async { let _ = stopped.wait_for(|s| *s).await; } => return,
            _ = tokio::time::sleep(period) => {
                if cluster_turn(&engine, "inactivity_sweep", period).await {
                    tester::sweep_inactive(&engine).await
                }
            }
        }
    }
}

/// Whether this relay runs the periodic job `name` this `period`: always on SQLite; on
/// PostgreSQL only the relay that moves the job's time forward first (`PgTimers`), so
/// the job runs once per period across the cluster and another relay takes it over when
/// one dies. A database it cannot reach skips the turn.
pub(crate) async fn cluster_turn(engine: &Engine, name: &str, period: Duration) -> bool {
    match &engine.db {
        Database::Sqlite(_) => true,
        Database::Postgres(db) => match switchboard_store::pg::PgTimers::new(db.clone())
            .due(name, period)
            .await
        {
            Ok(turn) => turn.is_some(),
            Err(e) => {
                tracing::warn!(job = name, error = %e, "a periodic job could not ask for its turn");
                false
            }
        },
    }
}

/// Saves a conversation and tells the UI.
pub(crate) async fn save(engine: &Engine, conv: &mut Conversation) -> Result<(), EngineError> {
    conv.updated_at_ms = now_ms();
    engine.store.save(conv).await?;
    switchboard_store::write_unit::publish(
        &engine.bus,
        RelayEvent::ConversationChanged {
            conversation_id: conv.id.clone(),
            phase: conv.phase.as_str(),
        },
    );
    Ok(())
}

/// Adds a transcript line and tells the UI.
pub(crate) async fn note(
    engine: &Engine,
    conv: &mut Conversation,
    lane: Lane,
    direction: Direction,
    text: &str,
    payload: serde_json::Value,
) -> Result<Entry, EngineError> {
    let now = now_ms();
    let entry = engine
        .store
        .add_entry(&conv.id, lane, direction, text, payload, None, None, now)
        .await?;
    if lane.is_speech() {
        conv.last_text = Some(text.to_string());
    }
    switchboard_store::write_unit::publish(
        &engine.bus,
        RelayEvent::TranscriptEntry {
            entry: serde_json::to_value(&entry).unwrap_or_default(),
        },
    );
    Ok(entry)
}

/// Runs one job inside its conversation's actor. `known` is the actor's copy of the
/// conversation's row: 8x8 events use and refresh it; every other job reads and writes
/// the row its own way, so it is forgotten before them.
pub(crate) async fn handle_job(engine: &Arc<Engine>, key: &str, job: Job, known: &mut Known) {
    if !matches!(job, Job::Event(_)) {
        *known = Known::Unread;
    }
    // Every job but an 8x8 event (which comes claimed) holds the conversation on a
    // shared database, so no other relay handles its events meanwhile.
    let held = match &job {
        Job::Event(_) => None,
        _ => match hold(engine, key).await {
            Ok(held) => held,
            Err(e) => match job {
                // A caller waits: it hears why, and may try again.
                Job::Start(_, reply) | Job::Input(_, reply) | Job::Leave(_, reply) => {
                    tracing::warn!(conversation = key, error = %e, "a tester's job was not run");
                    let _ = reply.send(Err(e));
                    return;
                }
                // Nobody would run it again: better run it unheld than lose it.
                job => {
                    tracing::warn!(conversation = key, error = %e, "a job runs without holding its conversation");
                    run_job(engine, key, job, known).await;
                    return;
                }
            },
        },
    };
    run_job(engine, key, job, known).await;
    engine.inbox.let_go(held).await;
}

/// On PostgreSQL, the lease on the conversation for a job that is not one of its
/// events: under its 8x8 id (its events' key), or its own id while 8x8 has not named it
/// yet (two relays resuming one handover's create after a restart take turns). `None`
/// on SQLite, for a conversation not stored yet, and when this relay holds it already.
async fn hold(
    engine: &Engine,
    key: &str,
) -> Result<Option<switchboard_store::pg::inbox::Lease>, EngineError> {
    if !engine.db.is_shared() {
        return Ok(None);
    }
    match engine.store.get(key).await? {
        Some(conv) => Ok(engine
            .inbox
            .hold(conv.gateway_id.as_deref().unwrap_or(&conv.id))
            .await?),
        None => Ok(None),
    }
}

async fn run_job(engine: &Arc<Engine>, key: &str, job: Job, known: &mut Known) {
    match job {
        Job::Event(queued) => handle_event(engine, key, &queued, known).await,
        Job::Start(user, reply) => {
            let _ = reply.send(tester::start(engine, key, user).await);
        }
        Job::Input(input, reply) => {
            let _ = reply.send(tester::input(engine, key, input).await);
        }
        Job::Typing => tester::typing(engine, key).await,
        Job::Leave(reason, reply) => {
            let _ = reply.send(tester::leave(engine, key, &reason).await);
        }
        Job::QueueUpdate => {
            if let Err(e) = queue_updates::tell(engine, key).await {
                tracing::warn!(conversation = key, error = %e, "queue update failed");
            }
        }
        Job::HandoverCreated(outbox_id) => {
            if let Err(e) = handover::created(engine, key, outbox_id).await {
                tracing::warn!(conversation = key, error = %e, "handover completion failed");
            }
        }
    }
}

/// Handles one 8x8 event as a unit: its writes and its "processed" mark commit together
/// (see `write_unit`). When the commit fails (disk full, database locked) nothing of it
/// was stored, so the event is handled again from the stored state after a pause, until
/// it commits or the relay stops; the live UI hears of it only after the commit.
///
/// The conversation's row is taken from `known` when the actor has it (no read), and
/// left there as the committed unit stored it; after a failure it is read again.
///
/// On PostgreSQL the row is always read: another relay may have handled the
/// conversation since this actor last saw it. A commit refused because the lease was
/// lost is not retried: the relay that took the conversation over handles the event.
async fn handle_event(engine: &Arc<Engine>, key: &str, queued: &QueuedEvent, known: &mut Known) {
    handle_event_until_stored(engine, key, queued, known).await;
    engine.inbox.finished(queued).await;
}

async fn handle_event_until_stored(
    engine: &Arc<Engine>,
    key: &str,
    queued: &QueuedEvent,
    known: &mut Known,
) {
    let mut pause = Duration::from_millis(100);
    loop {
        if engine.db.is_shared() {
            *known = Known::Unread;
        }
        let (outcome, unit) =
            switchboard_store::write_unit::collect(on_event::handle(engine, key, queued, known))
                .await;
        // A failed handler's writes up to the failure still commit: the row may not be
        // what it holds in memory.
        if outcome.is_err() {
            *known = Known::Unread;
        }
        let outcome = outcome.map_err(|e| e.to_string());
        if let Err(e) = &outcome {
            tracing::warn!(delivery = queued.delivery_id, error = %e, "event not processed");
        }
        let id = queued.delivery_id;
        let done = Completion {
            delivery_id: id,
            outcome,
            at_ms: now_ms(),
            lease: queued.lease.clone(),
        };
        match unit.commit_event(&engine.db, done).await {
            Ok(committed) => {
                for event in committed.events {
                    engine.bus.publish(event);
                }
                if committed.outbox_added {
                    engine.outbox.notify_added();
                }
                return;
            }
            Err(DbError::Postgres(PgError::LeaseLost { conversation })) => {
                *known = Known::Unread;
                tracing::warn!(
                    delivery = id,
                    conversation,
                    "another relay took this conversation over; it handles the event"
                );
                return;
            }
            Err(e) => {
                *known = Known::Unread;
                tracing::error!(delivery = id, error = %e, "an event's changes could not be stored; handling it again in {} ms", pause.as_millis());
            }
        }
        if *engine.stopping.borrow() {
            return;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}
