//! An emulator of 8x8's Chat Gateway v1, so that the relay can be tried and tested
//! without an 8x8 tenant. It is the sandbox of the app and the 8x8 side of every test.
//!
//! [`start`] runs it on a port (0 in tests); the API lives under
//! `{base_url}/chat-gateway/v1/...` exactly as at `https://api.8x8.com`, and the control
//! API (mock agent, web-chat customer, faults, Event Log) under `{base_url}/sim/...`,
//! which [`control_client::SimControl`] calls with typed requests and responses.

mod agent_sessions;
mod api;
mod attachments;
mod auth;
mod cards;
mod channels;
pub mod clock;
pub mod contact_center;
mod contact_center_api;
mod control;
pub mod control_client;
mod control_contact_center;
mod conversations;
mod delivery;
mod engine;
mod errors;
pub mod eventlog;
mod events;
pub mod faults;
mod indicators;
pub mod key_file;
mod messages;
mod paging;
mod routes;
pub mod seed;
pub mod settings;
pub mod signing;
mod state;
mod store;
mod tasks;
mod validate;
mod webhooks;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

pub use agent_sessions::{AgentSession, SessionEnd};
pub use control::WebchatTarget;
pub use engine::EngineError;
pub use eventlog::LogRecord;
pub use faults::Faults;
pub use seed::{AgentScript, ApiKeySeed, ChannelSeed, QueueSeed, Seed, SeedError, WebhookSeed};
pub use settings::Settings;
pub use signing::Keyring;

use delivery::Delivery;
use eventlog::EventLog;
use state::Sim;
use store::{Channel, Store, Webhook};
use tasks::Tasks;

/// How to start the emulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub listen: SocketAddr,
    pub seed: Seed,
    pub settings: Settings,
    pub faults: Faults,
    /// Reuse a keyring (e.g. one key for many emulators in a test run); `None` makes a
    /// fresh 2048-bit key.
    pub keyring: Option<Arc<Keyring>>,
}

impl SimConfig {
    pub fn new(listen: SocketAddr, seed: Seed) -> Self {
        Self {
            listen,
            seed,
            settings: Settings::default(),
            faults: Faults::default(),
            keyring: None,
        }
    }
}

impl Default for SimConfig {
    /// The sandbox on `127.0.0.1:0`.
    fn default() -> Self {
        Self::new(SocketAddr::from(([127, 0, 0, 1], 0)), Seed::sandbox())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Seed(#[from] SeedError),
    #[error(transparent)]
    Signing(#[from] signing::SigningError),
}

/// A running emulator. Dropping it does not stop it; call [`SimHandle::shutdown`].
pub struct SimHandle {
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
    sim: Arc<Sim>,
}

impl SimHandle {
    /// The base URL a client uses in place of `https://api.8x8.com`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A typed client for this emulator's control API (`/sim/...`) over HTTP, as a test
    /// or another process would drive it.
    pub fn control(&self) -> control_client::SimControl {
        control_client::SimControl::new(self.base_url())
    }

    /// The signing keys (public JWKs, signing deliveries for other tests).
    pub fn keyring(&self) -> Arc<Keyring> {
        self.sim.keyring.clone()
    }

    /// Rotates the webhook signing key; returns the new `kid`.
    pub fn rotate_key(&self) -> Result<String, signing::SigningError> {
        self.sim.keyring.rotate()
    }

    pub fn customer_id(&self) -> &str {
        &self.sim.seed.customer_id
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.sim.faults.lock().unwrap_or_else(|e| e.into_inner()) = faults;
    }

    pub fn set_settings(&self, settings: Settings) {
        *self.sim.settings.write().unwrap_or_else(|e| e.into_inner()) = settings;
    }

    /// The Event Log so far.
    pub fn log(&self) -> Vec<LogRecord> {
        self.sim.log.records()
    }

    // The agent and web-chat customer side, as the control API offers it over HTTP.

    /// The agent accepts the pending offer; returns the agent id.
    pub fn agent_accept(
        &self,
        conversation_id: &str,
        agent_id: Option<&str>,
    ) -> Result<String, EngineError> {
        self.sim
            .accept(conversation_id, agent_id.map(str::to_string), None)
    }

    pub fn agent_typing(&self, conversation_id: &str, typing: bool) -> Result<(), EngineError> {
        self.sim.agent_typing(conversation_id, typing, None)
    }

    /// The agent says `text`; returns the message id.
    pub fn agent_say(&self, conversation_id: &str, text: &str) -> Result<String, EngineError> {
        self.sim.agent_say(
            conversation_id,
            Some(text.to_string()),
            Vec::new(),
            Vec::new(),
            None,
        )
    }

    pub fn agent_transfer(&self, conversation_id: &str, queue_id: &str) -> Result<(), EngineError> {
        self.sim.transfer(conversation_id, queue_id, None)
    }

    pub fn agent_end(&self, conversation_id: &str) -> Result<(), EngineError> {
        self.sim.agent_end(conversation_id, None)
    }

    /// An 8x8 web-chat customer starts a chat that 8x8 routes to the bot first (chat-gateway.md
    /// §6.6); returns `(conversation id, channel id)`. `tenant` defaults to the first.
    pub fn start_webchat(
        &self,
        tenant: Option<&str>,
        target: WebchatTarget,
        user: Option<serde_json::Map<String, serde_json::Value>>,
    ) -> Result<(String, String), EngineError> {
        control::start_webchat(&self.sim, tenant.map(str::to_string), target, user, None)
    }

    pub fn customer_say(&self, conversation_id: &str, text: &str) -> Result<(), EngineError> {
        self.sim.customer_say(conversation_id, text.to_string())
    }

    pub fn customer_leave(&self, conversation_id: &str) -> Result<(), EngineError> {
        self.sim.user_leave(conversation_id)
    }

    pub async fn shutdown(self) {
        self.sim.tasks.abort_all();
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

pub async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
    config.seed.check()?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| SimError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SimError::Bind {
        addr: config.listen,
        source,
    })?;
    let keyring = match config.keyring {
        Some(k) => k,
        None => Arc::new(
            tokio::task::spawn_blocking(Keyring::generate)
                .await
                .map_err(|e| SimError::Bind {
                    addr,
                    source: std::io::Error::other(e),
                })??,
        ),
    };
    let settings = Arc::new(RwLock::new(config.settings));
    let faults = Arc::new(Mutex::new(config.faults));
    let log = Arc::new(EventLog::default());
    let tasks = Arc::new(Tasks::default());
    let delivery = Arc::new(Delivery::new(
        keyring.clone(),
        config.seed.customer_id.clone(),
        settings.clone(),
        faults.clone(),
        log.clone(),
        tasks.clone(),
    ));
    let store = seeded_store(&config.seed);
    let sim = Arc::new(Sim {
        seed: config.seed,
        store: Mutex::new(store),
        delivery,
        keyring,
        faults,
        settings,
        log,
        tasks,
        base_url: format!("http://{addr}"),
    });
    let app = routes::router(sim.clone());
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok(SimHandle {
        addr,
        stop,
        task,
        sim,
    })
}

fn seeded_store(seed: &Seed) -> Store {
    let mut store = Store {
        queues: seed.queues.clone(),
        cc: contact_center::ContactCenter::from_seed(&seed.contact_center),
        ..Store::default()
    };
    for w in &seed.webhooks {
        let seq = store.next_seq();
        store.webhooks.insert(
            w.id.clone(),
            Webhook {
                id: w.id.clone(),
                tenant: w.tenant.clone(),
                name: w.name.clone(),
                uri: w.uri.clone(),
                version: "Chat Gateway v1.0".into(),
                seq,
            },
        );
    }
    for c in &seed.channels {
        let seq = store.next_seq();
        store.channels.insert(
            c.id.clone(),
            Channel {
                id: c.id.clone(),
                tenant: c.tenant.clone(),
                name: c.name.clone(),
                kind: c.kind.clone(),
                webhook_id: c.web_hook_id.clone(),
                queue_id: c.queue_id.clone(),
                seq,
            },
        );
    }
    // Numeric ids continue after the seeded ones.
    store.next_numeric_id = store
        .webhooks
        .keys()
        .chain(store.channels.keys())
        .filter_map(|k| k.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    store
}
