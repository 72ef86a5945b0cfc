//! The engine with its real parts around it — SQLite on disk in a tempdir or a fresh
//! PostgreSQL database (every case runs on both), the real
//! inbox queue fed the way the webhook endpoint feeds it, the real outbox table, the real
//! bus and a settings watch — and nothing else: no HTTP, no relay, no outbox worker, no
//! 8x8. A test plays 8x8 by recording deliveries and by writing the outcome of outbox
//! entries itself.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use serde_json::Value;
use switchboard_engine::{Connections, Conversation, Engine, EngineConfig, EngineContext};
use switchboard_settings::{Role, Settings};
use switchboard_store::{
    deliveries::{Disposition, NewDelivery},
    inbox_queue::Handoff,
    Database, DeliveryStore, InboxQueue, Outbox, Recorded,
};
use switchboard_testkit::postgres::{test_database, TestDatabase};

/// The database a case runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}
use switchboard_types::{
    contact_center::{QueueFigures, ScheduleState},
    now_ms, EventBus, OutboxStatus,
};
use tokio::sync::watch;

/// How long [`eventually`] waits by default. Everything here settles in milliseconds;
/// the margin is for a loaded 2-core machine.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// The one polling helper: runs `probe` until it returns `Some`, and panics naming
/// `what` when `timeout` passes first.
pub async fn eventually<T>(
    what: &str,
    timeout: Duration,
    probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    switchboard_testkit::eventually(what, timeout, Duration::from_millis(5), probe).await
}

/// The channel and queue every handover goes to.
pub const CHANNEL: &str = "ch-test";
pub const QUEUE: &str = "q-support";
/// The Copilot link the fake relay hands out for every conversation.
pub const COPILOT_LINK: &str = "https://relay.test/copilot/?userId=u&sessionId=s&URLToken=t";

/// A fixed 8x8: a handover route and maybe a registered handback webhook. Typing pulses
/// (best-effort, sent directly rather than through the outbox) go nowhere.
pub struct FakeConnections {
    pub handback: Mutex<Option<String>>,
    /// 8x8's queue statistics as a check reads them, or the error it gets.
    pub figures: Mutex<Result<QueueFigures, String>>,
    /// 8x8's schedule state, or the error.
    pub schedule: Mutex<Result<ScheduleState, String>>,
    /// The conversations a Copilot link was asked for, in order.
    pub copilot_asked: Mutex<Vec<String>>,
}

impl Connections for FakeConnections {
    fn copilot_link<'a>(&'a self, conversation: &'a Conversation) -> BoxFuture<'a, Option<String>> {
        self.copilot_asked
            .lock()
            .unwrap()
            .push(conversation.id.clone());
        Box::pin(async { Some(COPILOT_LINK.to_string()) })
    }

    fn handover_route(&self, _settings: &Settings) -> (Option<String>, Option<String>) {
        (Some(CHANNEL.into()), Some(QUEUE.into()))
    }

    fn handback_webhook(&self) -> BoxFuture<'_, Option<String>> {
        let id = self.handback.lock().unwrap().clone();
        Box::pin(async move { id })
    }

    fn typing<'a>(
        &'a self,
        _role: Role,
        _conversation_id: &'a str,
        _author: &'a str,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }

    fn queue_figures<'a>(
        &'a self,
        queue_id: &'a str,
    ) -> BoxFuture<'a, Result<QueueFigures, String>> {
        let answer = self.figures.lock().unwrap().clone().map(|mut f| {
            f.queue_id = queue_id.to_string();
            f
        });
        Box::pin(async move { answer })
    }

    fn schedule_state<'a>(
        &'a self,
        _schedule_id: &'a str,
    ) -> BoxFuture<'a, Result<ScheduleState, String>> {
        let answer = self.schedule.lock().unwrap().clone();
        Box::pin(async move { answer })
    }
}

pub struct Harness {
    pub engine: Arc<Engine>,
    pub outbox: Arc<Outbox>,
    pub deliveries: DeliveryStore,
    pub connections: Arc<FakeConnections>,
    settings: watch::Sender<Arc<Settings>>,
    stop: watch::Sender<bool>,
    event_ids: AtomicU64,
    db: Database,
    /// Engines of other relays on the same database ([`Harness::second_relay`]).
    others: Vec<Arc<Engine>>,
    config: EngineConfig,
    /// On PostgreSQL, the case's own database, dropped by [`Harness::finish`].
    pg: Option<TestDatabase>,
    // Last: the database files go after everything that uses them.
    _dir: tempfile::TempDir,
}

impl Harness {
    /// `None` when the case is for PostgreSQL and no test server is configured (the
    /// case is skipped, saying so; under CI it fails instead).
    pub async fn start(
        case: &str,
        backend: Backend,
        settings: Settings,
        config: EngineConfig,
    ) -> Option<Self> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (db, pg) = match backend {
            Backend::Sqlite => (
                Database::open(&dir.path().join("switchboard.db")).expect("the database opens"),
                None,
            ),
            Backend::Postgres => {
                let pg = test_database(case).await?;
                let db = Database::connect(&pg.url)
                    .await
                    .expect("the test PostgreSQL connects");
                (db, Some(pg))
            }
        };
        // As the relay's inbox builds them (switchboard-relay endpoint/inbox.rs).
        let handoff = Arc::new(Handoff::new());
        let deliveries = DeliveryStore::on(&db, handoff.clone()).expect("the inbox writer starts");
        let inbox = Arc::new(InboxQueue::on(&deliveries, &db, handoff));
        let outbox = Arc::new(Outbox::on(&db));
        let (settings_tx, settings_rx) = watch::channel(Arc::new(settings));
        let (stop, stopping) = watch::channel(false);
        let connections = Arc::new(FakeConnections {
            handback: Mutex::new(None),
            figures: Mutex::new(Ok(QueueFigures {
                agents_available: 1,
                ..QueueFigures::default()
            })),
            schedule: Mutex::new(Ok(ScheduleState::Open)),
            copilot_asked: Mutex::new(Vec::new()),
        });
        let engine = Engine::new(EngineContext {
            db: db.clone(),
            inbox,
            outbox: outbox.clone(),
            bus: Arc::new(EventBus::default()),
            settings: settings_rx,
            connections: connections.clone(),
            stopping,
        });
        engine.set_config(config.clone());
        switchboard_engine::spawn(engine.clone());
        Some(Self {
            engine,
            outbox,
            deliveries,
            connections,
            settings: settings_tx,
            stop,
            event_ids: AtomicU64::new(0),
            db,
            others: Vec::new(),
            config,
            pg,
            _dir: dir,
        })
    }

    /// Starts another relay's engine on this case's PostgreSQL database, as a second
    /// instance of the headless server would be: its own connections (instance id),
    /// inbox claims and outbox, the same settings and 8x8. On SQLite it does nothing.
    pub async fn second_relay(&mut self) {
        let Some(pg) = &self.pg else { return };
        let db = Database::connect(&pg.url)
            .await
            .expect("the second relay connects");
        let handoff = Arc::new(Handoff::new());
        let deliveries = DeliveryStore::on(&db, handoff.clone()).expect("a delivery store");
        let engine = Engine::new(EngineContext {
            db: db.clone(),
            inbox: Arc::new(InboxQueue::on(&deliveries, &db, handoff)),
            outbox: Arc::new(Outbox::on(&db)),
            bus: Arc::new(EventBus::default()),
            settings: self.settings.subscribe(),
            connections: self.connections.clone(),
            stopping: self.stop.subscribe(),
        });
        engine.set_config(self.config.clone());
        switchboard_engine::spawn(engine.clone());
        self.others.push(engine);
    }

    /// Stops the engine and, on PostgreSQL, drops the case's database (a case that
    /// panics leaves it to the test server's end).
    pub async fn finish(mut self) {
        let _ = self.stop.send(true);
        if let Some(pg) = self.pg.take() {
            pg.drop_database().await;
        }
    }

    /// Changes the settings as a save in the UI does; the engine sees them from its next
    /// job on.
    pub fn change_settings(&self, change: impl FnOnce(&mut Settings)) {
        self.settings.send_modify(|current| {
            let mut next = Settings::clone(current);
            change(&mut next);
            *current = Arc::new(next);
        });
    }

    pub fn new_event_id(&self) -> String {
        format!("evt-{}", self.event_ids.fetch_add(1, Ordering::Relaxed) + 1)
    }

    /// 8x8 posts `body` and the webhook endpoint accepts it: recorded exactly as the
    /// receiver records an authentic delivery for the engine (receive.rs), so the real
    /// inbox queue hands it to the engine. Echoes are queued too (the endpoint settles
    /// them itself; an inspector replay reaches the engine), to exercise the engine's drop.
    pub async fn deliver(&self, event_id: &str, body: &Value) -> Recorded {
        let field = |name: &str| body[name].as_str().map(str::to_string);
        let recorded = self
            .deliveries
            .record(NewDelivery {
                received_at_ms: now_ms(),
                headers_json: serde_json::json!({ "x-8x8-event-id": event_id }).to_string(),
                body: Bytes::from(body.to_string()),
                event_id: Some(event_id.to_string()),
                event_type: field("eventType"),
                conversation_id: field("conversationId"),
                signature: "skipped",
                signature_reason: None,
                http_status: 204,
                disposition: Disposition::Queue,
                outcome: None,
            })
            .await
            .expect("the delivery is stored");
        recorded
    }

    /// The delivery as the inspector shows it (JSON: its `status` is read as text).
    pub async fn delivery(&self, id: i64) -> Value {
        let record = self
            .deliveries
            .get(id)
            .await
            .expect("the deliveries table reads")
            .unwrap_or_else(|| panic!("no delivery {id}"));
        serde_json::to_value(record).unwrap()
    }

    /// Waits until the engine is done with a delivery (its status leaves `pending`); the
    /// event's writes commit together with that mark.
    pub async fn settled(&self, id: i64) -> Value {
        eventually(
            &format!("delivery {id} to leave pending"),
            PATIENCE,
            || async move {
                let d = self.delivery(id).await;
                (d["status"] != "pending").then_some(d)
            },
        )
        .await
    }

    pub async fn conversation(&self, id: &str) -> Option<Conversation> {
        self.engine.store.get(id).await.expect("conversations read")
    }

    pub async fn by_gateway_id(&self, gateway_id: &str) -> Option<Conversation> {
        self.engine
            .store
            .by_gateway_id(gateway_id)
            .await
            .expect("conversations read")
    }

    /// The transcript as JSON lines (`lane`, `direction`, `text`, `payload`, …).
    pub async fn transcript(&self, id: &str) -> Vec<Value> {
        self.engine
            .store
            .transcript(id, 0, 10_000)
            .await
            .expect("the transcript reads")
            .iter()
            .map(|e| serde_json::to_value(e).unwrap())
            .collect()
    }

    /// Every outbox entry, oldest first, as JSON (`operation`, `request`, `status`, …).
    pub async fn outbox_entries(&self) -> Vec<Value> {
        let mut entries = self
            .outbox
            .list(10_000, None)
            .await
            .expect("the outbox reads");
        entries.reverse();
        entries
            .iter()
            .map(|e| serde_json::to_value(e).unwrap())
            .collect()
    }

    /// 8x8 answers an outbox entry as the worker would record it, and the engine's
    /// waiters are told.
    pub async fn answer(&self, outbox_id: i64, delivered: Result<Value, &str>) {
        let now = now_ms();
        let (status, error, http, response) = match delivered {
            Ok(body) => (OutboxStatus::Delivered, None, 202, Some(body.to_string())),
            Err(why) => (OutboxStatus::Failed, Some(why.to_string()), 400, None),
        };
        match &self.db {
            Database::Sqlite(_) => self
                .outbox
                .record_attempt(outbox_id, status, now, error, Some(http), response, now)
                .await
                .expect("the outcome is written"),
            // The worker records only entries it took under its lease (`sending`); no
            // worker runs here, so the outcome is written as the worker would leave it.
            Database::Postgres(pg) => {
                let written = pg
                    .client()
                    .await
                    .expect("a PostgreSQL connection")
                    .execute(
                        "UPDATE outbox SET status = $1, attempts = attempts + 1,
                            next_attempt_at_ms = $2, last_error = $3, last_status = $4,
                            response_json = $5, updated_at_ms = $2, finished_at_ms = $2
                         WHERE id = $6",
                        &[
                            &status.as_str(),
                            &now,
                            &error,
                            &i32::from(http),
                            &response,
                            &outbox_id,
                        ],
                    )
                    .await
                    .expect("the outcome is written");
                assert_eq!(written, 1, "outbox entry {outbox_id} exists");
            }
        }
        self.outbox.notify_finished();
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
