//! The PostgreSQL backend, for several headless relays sharing one database
//! (docs/postgres.md has the whole design and what is still to do). This is its
//! foundation: the connection pool and the migrations run under a lock ([`PgDb`],
//! [`migrate`]), the delivery ledger ([`deliveries`]) and the inbox shared by several
//! relays through per-conversation leases ([`inbox`]), and the outbox taken by one relay
//! at a time per entry, in order per key ([`outbox`]), and periodic jobs that run once
//! per period across the cluster ([`timers`]), and `LISTEN/NOTIFY` between relays
//! ([`notify`]), and the conversations and transcripts with their searches
//! ([`conversations`], [`transcripts`]), the Copilot sessions ([`copilot`]), the
//! analytics' figures ([`analytics`]), retention ([`retention`]), and the write unit: an event's writes committed
//! in one transaction with its lease-fenced mark ([`unit`]). Nothing above this crate uses it
//! yet: the relay still opens SQLite only, and no flag selects PostgreSQL until the
//! whole store runs on it.
//!
//! Driver: `tokio-postgres` (the rust-postgres project: plain async client, no macros
//! and no database needed at build time, few dependencies — a short build on two cores)
//! with `deadpool-postgres`, its widely used pool. TLS with rustls, set by the URL's
//! `sslmode` and `sslrootcert` as libpq's are ([`tls`]), on every connection: the pool's,
//! the migration's and the listener's.

pub mod analytics;
pub mod claims;
pub mod conversations;
pub mod copilot;
pub mod deliveries;
pub mod inbox;
pub mod migrate;
pub mod notify;
pub mod outbox;
pub mod retention;
mod schema;
pub mod settings;
pub mod timers;
pub mod tls;
pub mod transcripts;
pub mod unit;
pub mod url;
pub mod write;

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres_rustls::MakeRustlsConnect;

pub use claims::PgClaims;
pub use conversations::PgConversations;
pub use copilot::PgCopilotSessions;
pub use deliveries::PgDeliveries;
pub use inbox::{Claimed, PgInbox};
pub use notify::{Notice, PgListener};
pub use outbox::PgOutbox;
pub use retention::PgRetention;
pub use timers::PgTimers;
pub use tls::{SslMode, TlsSettings};
pub use unit::{next_ids, PgUnit};
pub use url::DatabaseUrl;
pub use write::PgWrite;

/// Connections one relay keeps open at most.
const POOL_SIZE: usize = 16;
/// How long a caller waits for a connection (new or from the pool) before the request
/// fails: with PostgreSQL down the receiver answers 5xx and 8x8 retries.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("the PostgreSQL URL {url} is not valid: {reason}")]
    BadUrl { url: DatabaseUrl, reason: String },
    #[error("cannot connect to PostgreSQL at {url}: {reason}")]
    Connect { url: DatabaseUrl, reason: String },
    #[error("PostgreSQL schema migration {version} failed: {}", describe(.source))]
    Migrate {
        version: usize,
        source: tokio_postgres::Error,
    },
    #[error(
        "the PostgreSQL database is at schema version {found}, newer than this build knows \
         ({known}): it was upgraded by a newer Switchboard; run that version or newer"
    )]
    TooNew { found: usize, known: usize },
    #[error("PostgreSQL query failed: {}", describe(.0))]
    Query(#[from] tokio_postgres::Error),
    #[error("no PostgreSQL connection: {0}")]
    Pool(String),
    /// An outbox entry's lease ran out and another relay took it over (or it was
    /// finished already): this relay's attempt is not recorded; the other's counts.
    #[error(
        "outbox entry {id} is no longer this relay's: its lease ran out and another relay \
         took it over, or it was finished already"
    )]
    OutboxLeaseLost { id: i64 },
    /// An event's delivery met an accepted row of its event id, and that row was gone
    /// (deleted by retention) each time it was looked up: three times in a row.
    #[error(
        "the delivery of event {event_id:?} could be neither stored nor matched to its original"
    )]
    Unmatched { event_id: String },
    /// The conversation's lease was taken over by another relay (this one was too slow
    /// or lost the database for longer than the lease), or the event was completed
    /// already: this relay's work on it is void.
    #[error(
        "the event is no longer this relay's to complete: the lease on conversation \
         {conversation:?} was taken over, or the event was completed already"
    )]
    LeaseLost { conversation: String },
    /// Another relay kept the conversation for longer than this relay could wait to
    /// act on it (a tester's message): try again.
    #[error(
        "another relay is handling conversation {conversation:?} and did not let it go in \
         time; try again"
    )]
    Busy { conversation: String },
    /// Ids were asked of a table that has no `id` sequence.
    #[error("the PostgreSQL table {table:?} has no id sequence to take ids from")]
    NoSequence { table: String },
}

/// A pool of connections to one PostgreSQL database whose schema is up to date; cheap to
/// clone. Each value is one relay instance (its `instance` id names it in leases and in
/// the migrations table).
#[derive(Clone)]
pub struct PgDb {
    pool: Pool,
    /// For connections of their own (the listener's), outside the pool.
    config: Arc<tokio_postgres::Config>,
    tls: MakeRustlsConnect,
    tls_settings: Arc<TlsSettings>,
    url: Arc<DatabaseUrl>,
    instance: Arc<str>,
}

impl std::fmt::Debug for PgDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgDb")
            .field("url", &self.url)
            .field("instance", &self.instance)
            .finish()
    }
}

impl PgDb {
    /// Connects and migrates (under the schema lock, see [`migrate`]). Fails with the
    /// reason, and the URL without its password, when the server cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, PgError> {
        let url = DatabaseUrl::new(url);
        let bad_url = |reason: String| PgError::BadUrl {
            url: url.clone(),
            reason,
        };
        let (tls_settings, driver_url) = TlsSettings::split(url.secret()).map_err(bad_url)?;
        let mut config: tokio_postgres::Config = driver_url
            .parse()
            .map_err(|e: tokio_postgres::Error| bad_url(e.to_string()))?;
        tls_settings.apply(&mut config);
        let tls = tls_settings.connector().map_err(bad_url)?;
        config.connect_timeout(CONNECT_TIMEOUT);
        if config.get_application_name().is_none() {
            config.application_name("switchboard");
        }
        let instance: Arc<str> = instance_id().into();

        // Migrations run on a connection of their own, which holds the session lock.
        let (mut client, connection) = config
            .connect(tls.clone())
            .await
            .map_err(|e| connect_error(&url, &tls_settings, &e))?;
        let driver = tokio::spawn(connection);
        let migrated = migrate::run(&mut client, &instance).await;
        drop(client);
        let _ = driver.await;
        migrated?;

        let manager = Manager::from_config(
            config.clone(),
            tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(CONNECT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| PgError::Pool(e.to_string()))?;
        Ok(Self {
            pool,
            config: Arc::new(config),
            tls,
            tls_settings: Arc::new(tls_settings),
            url: Arc::new(url),
            instance,
        })
    }

    /// The URL, printable (password hidden).
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// This relay instance's id: host name, process id and a counter.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The schema version the database is at.
    pub async fn schema_version(&self) -> Result<usize, PgError> {
        migrate::current_version(&*self.client().await?).await
    }

    /// A connection from the pool.
    pub async fn client(&self) -> Result<deadpool_postgres::Object, PgError> {
        self.pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(e) => self.connect_error(&e),
            other => PgError::Pool(other.to_string()),
        })
    }

    /// The sslmode in force (from the URL, `prefer` if it names none).
    pub fn ssl_mode(&self) -> SslMode {
        self.tls_settings.mode
    }

    /// A connection failure, its reason plain and the URL without its password.
    fn connect_error(&self, e: &tokio_postgres::Error) -> PgError {
        connect_error(&self.url, &self.tls_settings, e)
    }
}

fn connect_error(url: &DatabaseUrl, tls: &TlsSettings, e: &tokio_postgres::Error) -> PgError {
    // What the server said (a refused login) is its own; the TLS cases get plain words.
    let reason = match e.as_db_error() {
        Some(_) => describe(e),
        None => tls::explain(describe(e), tls),
    };
    PgError::Connect {
        url: url.clone(),
        reason,
    }
}

/// The driver's error with what the server said (its `Display` alone is "db error") or
/// the underlying cause (e.g. "Connection refused").
pub fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut text = format!("{}: {}", db.severity(), db.message());
        if let Some(detail) = db.detail() {
            text.push_str(&format!(" ({detail})"));
        }
        return text;
    }
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(&format!(": {more}"));
        }
        cause = c.source();
    }
    text
}

/// Unique per [`PgDb::connect`] across the cluster: the host name tells an operator which
/// machine holds a lease, the process id and counter which relay on it.
fn instance_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "host".into());
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{host}/{}/{:x}{}",
        std::process::id(),
        started,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
