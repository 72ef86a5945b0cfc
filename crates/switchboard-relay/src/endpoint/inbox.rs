//! The relay's inbox: what happens to a webhook delivery between the endpoint route and
//! the conversation engine. Signature check ([`signature`], [`jwk`]), durable record with
//! idempotency ([`store`]), and the restart-surviving queue to the engine ([`queue`]).

use std::sync::{
    atomic::{AtomicI64, Ordering},
    Arc, RwLock,
};

use chat_gateway_client::webhook::jwk;
use switchboard_store::{Database, DbError, DeliveryStore, InboxQueue, Recorded};

pub use super::receive::{Checks, Reply};

pub use chat_gateway_client::webhook::signature::DEFAULT_FRESHNESS_WINDOW_MS;

/// Shown when the "verify signatures" setting is off.
pub const VERIFY_OFF_WARNING: &str = "Signature verification is off: anyone who knows the Endpoint URL can inject events. Turn it on for anything but local experiments.";

type CommitHook = Arc<dyn Fn(&Recorded) + Send + Sync>;

pub struct Inbox {
    pub store: DeliveryStore,
    pub queue: Arc<InboxQueue>,
    pub jwks: jwk::JwkCache,
    freshness_window_ms: AtomicI64,
    after_commit: RwLock<Option<CommitHook>>,
    /// The relay's operator metrics (`GET /metrics`): kept here, where most of them are
    /// counted, and shared with the outbox through its attempt observer.
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl Inbox {
    pub fn open(db: &Database) -> Result<Self, DbError> {
        let handoff = Arc::new(switchboard_store::inbox_queue::Handoff::new());
        let store = DeliveryStore::on(db, handoff.clone())?;
        Ok(Self {
            queue: Arc::new(InboxQueue::on(&store, db, handoff)),
            store,
            jwks: jwk::JwkCache::new(),
            freshness_window_ms: AtomicI64::new(DEFAULT_FRESHNESS_WINDOW_MS),
            after_commit: RwLock::new(None),
            metrics: Default::default(),
        })
    }

    pub fn freshness_window_ms(&self) -> i64 {
        self.freshness_window_ms.load(Ordering::Relaxed)
    }

    pub fn set_freshness_window_ms(&self, ms: i64) {
        self.freshness_window_ms.store(ms, Ordering::Relaxed);
    }

    /// Runs between the commit and the answer to 8x8 — for tests that kill the process
    /// exactly there.
    #[doc(hidden)]
    pub fn set_after_commit_hook(&self, hook: impl Fn(&Recorded) + Send + Sync + 'static) {
        *self.after_commit.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(hook));
    }

    pub(crate) fn after_commit(&self, recorded: &Recorded) {
        let hook = self
            .after_commit
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(hook) = hook {
            hook(recorded);
        }
    }
}

/// The warning to show for the current settings, if any.
pub fn signature_warning(verify_signatures: bool) -> Option<&'static str> {
    (!verify_signatures).then_some(VERIFY_OFF_WARNING)
}
