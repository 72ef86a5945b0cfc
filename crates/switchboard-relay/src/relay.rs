//! Starting and stopping the relay as a library call: `start(config)` binds both
//! listeners (port 0 in tests), opens the database, loads the settings, starts the
//! sandbox when there are no credentials, and returns a handle with the bound addresses
//! and a graceful shutdown. The desktop app, the headless server and the tests all use it.

use std::{
    net::{Ipv4Addr, SocketAddr},
    path::PathBuf,
    sync::{atomic::AtomicU64, Arc},
    time::Duration,
};

use switchboard_engine::{Engine, EngineContext};
use switchboard_settings::{FieldError, Secrets, Settings, SettingsError, SettingsStore};
use switchboard_store::{Database, DbError, Outbox};
use switchboard_types::{now_ms, token, EventBus};
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};

use crate::{admin, connections::RelayConnections, endpoint, endpoint::inbox::Inbox, listener};

/// The `--sandbox` choice for one run: `auto` follows the settings, `on` forces the
/// sandbox, `off` does not even start the emulator.
pub use switchboard_settings::SandboxChoice as SandboxMode;

pub struct RelayConfig {
    /// Where the endpoint listener binds (what a tunnel or reverse proxy forwards to).
    pub endpoint_bind: SocketAddr,
    /// The admin listener's port on 127.0.0.1; 0 picks a free one.
    pub admin_port: u16,
    /// Holds the database.
    pub data_dir: PathBuf,
    pub settings_store: Arc<dyn SettingsStore>,
    pub secrets: Arc<Secrets>,
    pub sandbox: SandboxMode,
    /// Applied to the settings at start when given (server flag / environment).
    pub public_base_url: Option<String>,
    /// "desktop" or "server", shown in the status.
    pub shell: String,
    /// PostgreSQL shared with other relays (`--database`); SQLite in `data_dir` when
    /// `None`. A secret: it may carry the password.
    pub database_url: Option<String>,
}

impl RelayConfig {
    /// Everything on loopback with free ports, in-memory settings and secrets: for tests.
    pub fn for_tests(data_dir: PathBuf) -> Self {
        Self {
            endpoint_bind: (Ipv4Addr::LOCALHOST, 0).into(),
            admin_port: 0,
            data_dir,
            settings_store: Arc::new(switchboard_settings::settings::MemorySettings::default()),
            secrets: Arc::new(Secrets::in_memory()),
            sandbox: SandboxMode::Auto,
            public_base_url: None,
            shell: "test".into(),
            database_url: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("the {listener} listener cannot bind {addr}: {source}{hint}")]
    Bind {
        listener: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
        hint: &'static str,
    },
    #[error(
        "cannot prepare the data directory {path} (created and private to this user): {source}"
    )]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("the stored settings are invalid: {}", describe(.0))]
    InvalidSettings(Vec<FieldError>),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the sandbox (8x8 emulator) did not start: {0}")]
    Sandbox(#[from] chat_gateway_sim::SimError),
    #[error("the sandbox (8x8 emulator) did not start: {0}")]
    SandboxKey(#[from] chat_gateway_sim::key_file::KeyFileError),
}

fn describe(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The embedded emulator the relay talks to in sandbox mode.
pub struct SandboxInfo {
    pub base_url: String,
    pub seed: chat_gateway_sim::Seed,
}

/// What both listeners share.
pub struct RelayState {
    pub admin_token: String,
    pub admin_port: u16,
    pub endpoint_addr: SocketAddr,
    pub shell: String,
    pub started_at_ms: i64,
    pub bus: Arc<EventBus>,
    pub db: Database,
    /// The settings, keys and (on SQLite) the database's file.
    pub data_dir: std::path::PathBuf,
    pub secrets: Arc<Secrets>,
    pub settings_store: Arc<dyn SettingsStore>,
    /// The settings as saved; the engine holds a receiver of the same channel, so a save
    /// reaches it without a lock either side could hold up.
    pub settings: watch::Sender<Arc<Settings>>,
    /// The embedded emulator, when it runs (whether a role uses it is decided per use,
    /// see roles.rs).
    pub sandbox: Option<SandboxInfo>,
    /// `Some(true)` when `--sandbox on` overrides the settings for this run.
    pub sandbox_forced: Option<bool>,
    pub keys: std::sync::RwLock<crate::roles::KeyPresence>,
    pub sandbox_setup: std::sync::RwLock<crate::roles::SandboxSetup>,
    /// One settings save at a time: keychain and file must change together.
    pub settings_save: tokio::sync::Mutex<()>,
    pub rejected_token_count: AtomicU64,
    /// Flips to true at shutdown, so endless streams (SSE) can end.
    pub stopping: watch::Receiver<bool>,
    /// The conversation engine: endpoint mode, handover mode, the bot.
    pub engine: Arc<Engine>,
    /// Webhook deliveries: verification, durable record, queue to the engine.
    pub inbox: Arc<Inbox>,
    /// Calls that change 8x8 state, stored before they are sent.
    pub outbox: Arc<Outbox>,
    /// 8x8's queue figures and schedule states, read for the handover checks and the UI.
    pub contact_center: crate::contact_center_cache::ContactCenterCache,
}

impl RelayState {
    /// The settings as they are now (a snapshot; never waits for a save).
    pub fn settings(&self) -> Arc<Settings> {
        self.settings.borrow().clone()
    }

    /// The Endpoint URL to give 8x8, and whether it is only reachable from this machine.
    pub fn endpoint_url(&self, settings: &Settings) -> (String, bool) {
        let path = format!("/endpoint/{}", settings.endpoint.token);
        match settings.endpoint.public_base_url.as_deref() {
            Some(public) => (format!("{}{path}", public.trim_end_matches('/')), false),
            None => {
                let mut addr = self.endpoint_addr;
                if addr.ip().is_unspecified() {
                    addr.set_ip(Ipv4Addr::LOCALHOST.into());
                }
                (format!("http://{addr}{path}"), true)
            }
        }
    }
}

pub struct RelayHandle {
    pub endpoint_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub state: Arc<RelayState>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    sandbox: Option<chat_gateway_sim::SimHandle>,
}

impl RelayHandle {
    /// The link that opens the UI; it carries this launch's admin token.
    pub fn admin_url(&self) -> String {
        format!(
            "http://{}/?token={}",
            self.admin_addr, self.state.admin_token
        )
    }

    pub fn admin_token(&self) -> &str {
        &self.state.admin_token
    }

    /// The relay's live events (what the admin UI's SSE stream carries), for a shell that
    /// reacts to them itself, e.g. the desktop app's notifications.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<switchboard_types::Envelope> {
        self.state.bus.subscribe()
    }

    pub async fn endpoint_url(&self) -> String {
        self.state.endpoint_url(&self.state.settings()).0
    }

    /// Stops accepting, lets requests in flight finish (live streams are closed), then
    /// stops the sandbox.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            // A connection that will not finish must not hold the app open.
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
        if let Some(sim) = self.sandbox {
            sim.shutdown().await;
        }
    }
}

/// The sandbox's signing key, kept in the data directory between starts
/// (`chat_gateway_sim::key_file`).
pub const SANDBOX_KEY_FILE: &str = "sandbox-signing-key.json";

pub async fn start(config: RelayConfig) -> Result<RelayHandle, RelayError> {
    crate::data_dir::make_private(&config.data_dir).map_err(|source| RelayError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;

    // The sandbox's signing key is read (or, on the first start, generated: up to a few
    // hundred ms) beside the rest of the start instead of before the emulator starts.
    let run_sandbox = config.sandbox != SandboxMode::Off;
    let sandbox_key = run_sandbox.then(|| {
        let path = config.data_dir.join(SANDBOX_KEY_FILE);
        tokio::task::spawn_blocking(move || chat_gateway_sim::key_file::load_or_create(&path))
    });

    // Bind first: a taken port is the most common start failure, and nothing else should
    // have happened (sandbox started, files written) when it is reported.
    let endpoint_listener = bind(
        "endpoint",
        config.endpoint_bind,
        " — choose another address with --endpoint-bind, or stop the program using it",
    )
    .await?;
    let admin_listener = bind(
        "admin",
        (Ipv4Addr::LOCALHOST, config.admin_port).into(),
        " — choose another port with --admin-port, or 0 for any free port",
    )
    .await?;
    let endpoint_addr = local_addr("endpoint", &endpoint_listener, config.endpoint_bind)?;
    let admin_addr = local_addr("admin", &admin_listener, config.endpoint_bind)?;

    let settings = load_settings(&*config.settings_store, config.public_base_url.as_deref())?;
    let db = match &config.database_url {
        Some(url) => Database::connect(url).await?,
        None => Database::open(&config.data_dir.join("switchboard.db"))?,
    };
    // SQLite creates its files with the umask's modes (its WAL and shared-memory files
    // then copy the database's): make the new ones private too.
    crate::data_dir::make_private(&config.data_dir).map_err(|source| RelayError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    // Several relays on one PostgreSQL share their settings: the stored ones win over
    // this relay's file (which is brought up to date), or this file seeds them.
    let settings = match db.postgres() {
        Some(pg) => {
            let shared = crate::cluster::shared_settings(pg, settings.clone())
                .await
                .map_err(DbError::from)?;
            if shared != settings {
                config.settings_store.save(&shared)?;
            }
            shared
        }
        None => settings,
    };
    let inbox = Arc::new(Inbox::open(&db)?);
    let outbox = Arc::new(Outbox::on(&db));
    outbox.set_attempt_observer(inbox.metrics.attempt_observer());

    let sim = match sandbox_key {
        Some(key) => {
            // Only a panic in the key's task ends it early; it goes on as the panic.
            let key = key
                .await
                .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?;
            let mut sim_config = chat_gateway_sim::SimConfig::new(
                (Ipv4Addr::LOCALHOST, 0).into(),
                chat_gateway_sim::Seed::sandbox(),
            );
            sim_config.keyring = Some(Arc::new(key));
            Some(chat_gateway_sim::start(sim_config).await?)
        }
        None => None,
    };

    let (stop, stopped) = watch::channel(false);
    let (settings, settings_rx) = watch::channel(Arc::new(settings));
    let bus = Arc::new(EventBus::default());
    // Cyclic: the engine asks the relay which 8x8 to talk to (`RelayConnections`), and
    // the relay's state holds the engine. The engine's side is a weak reference.
    let state = Arc::new_cyclic(|weak| RelayState {
        admin_token: token::generate(),
        admin_port: admin_addr.port(),
        endpoint_addr,
        shell: config.shell,
        started_at_ms: now_ms(),
        bus: bus.clone(),
        db: db.clone(),
        data_dir: config.data_dir.clone(),
        secrets: config.secrets,
        settings_store: config.settings_store,
        settings,
        sandbox: sim.as_ref().map(|s| SandboxInfo {
            base_url: s.base_url(),
            seed: chat_gateway_sim::Seed::sandbox(),
        }),
        sandbox_forced: (config.sandbox == SandboxMode::On).then_some(true),
        keys: std::sync::RwLock::new(crate::roles::KeyPresence::default()),
        sandbox_setup: std::sync::RwLock::new(crate::roles::SandboxSetup::default()),
        settings_save: tokio::sync::Mutex::new(()),
        rejected_token_count: AtomicU64::new(0),
        stopping: stopped.clone(),
        engine: Engine::new(EngineContext {
            db,
            inbox: inbox.queue.clone(),
            outbox: outbox.clone(),
            bus,
            settings: settings_rx,
            connections: Arc::new(RelayConnections::new(weak.clone())),
            stopping: stopped.clone(),
        }),
        inbox,
        outbox,
        contact_center: Default::default(),
    });
    state
        .engine
        .set_lag_observer(state.inbox.metrics.lag_observer());
    crate::cluster::start(&state).await.map_err(DbError::from)?;

    let outbox_worker = {
        // Weak: the worker must not keep the relay's state alive after shutdown.
        let weak = Arc::downgrade(&state);
        let resolve: switchboard_outbox_worker::Resolver = Arc::new(move || {
            let weak = weak.clone();
            Box::pin(async move {
                match weak.upgrade() {
                    Some(state) => crate::connections::resolve(&state).await,
                    None => Err(chat_gateway_client::ClientError::NotConfigured(
                        "the relay is stopping".into(),
                    )),
                }
            })
        });
        let weak = Arc::downgrade(&state);
        let publish: switchboard_outbox_worker::Publisher = Arc::new(move |event| {
            if let Some(state) = weak.upgrade() {
                state.bus.publish(event);
            }
        });
        switchboard_outbox_worker::spawn(state.outbox.clone(), resolve, publish, stopped.clone())
    };
    // Both listeners share the process's descriptors with SQLite and the outbound
    // calls; each gets a cap that leaves room for the rest (listener.rs).
    let limits = listener::Limits::standard(listener::connection_cap(
        listener::raise_open_files_limit(),
        2,
    ));
    let tasks = vec![
        switchboard_engine::spawn(state.engine.clone()),
        listener::serve(
            "endpoint",
            endpoint_listener,
            endpoint::router(state.clone()),
            limits,
            stopped.clone(),
        ),
        listener::serve(
            "admin",
            admin_listener,
            admin::router(state.clone()),
            limits,
            stopped.clone(),
        ),
        outbox_worker,
        crate::retention_task::spawn(&state, stopped.clone()),
    ];
    state.refresh_key_presence().await;
    if state.sandbox.is_some() {
        // The endpoint listener is serving now, so the emulator's WEB_HOOK_VERIFY reaches it.
        crate::admin::sandbox_setup::seed(&state).await;
    }
    tracing::info!(%endpoint_addr, %admin_addr, sandbox = run_sandbox, "relay started");
    Ok(RelayHandle {
        endpoint_addr,
        admin_addr,
        state,
        stop,
        tasks,
        sandbox: sim,
    })
}

async fn bind(
    listener: &'static str,
    addr: SocketAddr,
    hint: &'static str,
) -> Result<TcpListener, RelayError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| RelayError::Bind {
            listener,
            addr,
            source,
            hint,
        })
}

fn local_addr(
    listener: &'static str,
    l: &TcpListener,
    addr: SocketAddr,
) -> Result<SocketAddr, RelayError> {
    l.local_addr().map_err(|source| RelayError::Bind {
        listener,
        addr,
        source,
        hint: "",
    })
}

/// Loads the settings, creating them (with a fresh Endpoint URL token) on first start.
/// Invalid stored settings stop the start rather than being silently replaced.
fn load_settings(
    store: &dyn SettingsStore,
    public_base_url: Option<&str>,
) -> Result<Settings, RelayError> {
    let loaded = store.load()?;
    let mut settings = loaded.clone().unwrap_or_default();
    if settings.endpoint.token.is_empty() {
        settings.endpoint.token = token::generate();
    }
    if let Some(url) = public_base_url {
        settings.endpoint.public_base_url = Some(url.to_string());
    }
    let errors = settings.validate();
    if !errors.is_empty() {
        return Err(RelayError::InvalidSettings(errors));
    }
    if loaded.as_ref() != Some(&settings) {
        store.save(&settings)?;
    }
    Ok(settings)
}
