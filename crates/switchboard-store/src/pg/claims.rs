//! The engine's queue on PostgreSQL: conversations claimed from the shared inbox
//! ([`super::PgInbox`]) under a lease, their events handed out in order, the lease
//! renewed while any of them is being handled and released once all are done, so that
//! the conversation's later events go to whichever relay claims next. A lease that
//! another relay took over is dropped here; the engine's commit of an event under it is
//! refused (`PgError::LeaseLost`) and the other relay handles the event from the start.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, Weak},
    time::Duration,
};

use crate::inbox_queue::{Handoff, QueuedEvent};

use super::{inbox::Lease, PgDb, PgError, PgInbox};

/// How long a claim holds a conversation without renewal (renewed every third of it):
/// far above one event's handling (the bot's calls are bounded by their own timeouts)
/// and above a short database outage; a dead relay's conversations wait this long
/// before another relay takes them, so not longer.
pub const LEASE: Duration = Duration::from_secs(15);

/// How often an idle engine looks for events other relays received (its own wake it up
/// at once).
const POLL: Duration = Duration::from_millis(100);

struct Held {
    lease: Lease,
    /// Events handed out and not yet finished.
    open: HashSet<i64>,
}

pub struct PgClaims {
    inbox: PgInbox,
    wake: Arc<Handoff>,
    /// By conversation key (the 8x8 conversation id).
    held: Mutex<HashMap<String, Held>>,
}

impl PgClaims {
    /// Starts the renewal of this relay's leases; it ends when the queue is dropped.
    pub fn new(db: PgDb, wake: Arc<Handoff>) -> Arc<Self> {
        let claims = Arc::new(Self {
            inbox: PgInbox::new(db, LEASE),
            wake,
            held: Mutex::new(HashMap::new()),
        });
        tokio::spawn(renew(Arc::downgrade(&claims)));
        claims
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<String, Held>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Claims conversations with pending events (at most `max`) and returns their events,
    /// each carrying its lease; waits until there are some.
    pub async fn recv_ready(&self, max: usize) -> Result<Vec<QueuedEvent>, PgError> {
        loop {
            // Registered before the claim, so a delivery committed meanwhile wakes it.
            let woken = self.wake.notified();
            let claimed = self.inbox.claim(max.max(1)).await?;
            let mut events = Vec::new();
            let mut empty = Vec::new();
            {
                let mut held = self.held();
                for c in claimed {
                    if c.events.is_empty() {
                        empty.push(c.lease);
                        continue;
                    }
                    let open = c.events.iter().map(|e| e.delivery_id).collect();
                    held.insert(
                        c.lease.conversation_key.clone(),
                        Held {
                            lease: c.lease.clone(),
                            open,
                        },
                    );
                    events.extend(c.events);
                }
            }
            for lease in empty {
                self.inbox.release(&lease).await?;
            }
            if !events.is_empty() {
                events.sort_by_key(|e| e.delivery_id);
                return Ok(events);
            }
            let _ = tokio::time::timeout(POLL, woken).await;
        }
    }

    /// Marks an event done without a unit (nothing to do for it) under its lease.
    pub async fn complete(
        &self,
        event: &QueuedEvent,
        outcome: Result<String, String>,
    ) -> Result<(), PgError> {
        let result = match &event.lease {
            Some(lease) => self.inbox.complete(lease, event.delivery_id, outcome).await,
            None => Err(PgError::LeaseLost {
                conversation: String::new(),
            }),
        };
        self.finished(event).await;
        result
    }

    /// The engine is done with `event` (committed, or given up because the lease was
    /// lost): once every event of its claim is, the conversation is let go.
    pub async fn finished(&self, event: &QueuedEvent) {
        let Some(lease) = &event.lease else { return };
        let release = {
            let mut held = self.held();
            match held.get_mut(&lease.conversation_key) {
                Some(h) if h.lease == *lease => {
                    h.open.remove(&event.delivery_id);
                    h.open.is_empty() && held.remove(&lease.conversation_key).is_some()
                }
                _ => false,
            }
        };
        if release {
            if let Err(e) = self.inbox.release(lease).await {
                // It expires by itself; until then the conversation's next events wait.
                tracing::warn!(conversation = %lease.conversation_key, error = %e, "a conversation's lease could not be released");
            }
            // Events that came while it was held can be claimed now.
            self.wake.wake();
        }
    }

    /// Holds a conversation for work that is not one of its events (see
    /// [`PgInbox::hold`]); `None` when this relay holds it already.
    pub async fn hold(&self, conversation_key: &str) -> Result<Option<Lease>, PgError> {
        self.inbox.hold(conversation_key, LEASE).await
    }

    /// Gives back what [`PgClaims::hold`] took; its conversation's events may be claimed.
    pub async fn let_go(&self, lease: &Lease) {
        if let Err(e) = self.inbox.release(lease).await {
            tracing::warn!(conversation = %lease.conversation_key, error = %e, "a conversation's lease could not be released");
        }
        self.wake.wake();
    }

    pub async fn pending_count(&self) -> Result<i64, PgError> {
        self.inbox.pending_count().await
    }
}

/// Renews every held lease at a third of its length. A lease taken over meanwhile is
/// forgotten: its events' commits are refused, and the engine gives them up.
async fn renew(claims: Weak<PgClaims>) {
    loop {
        tokio::time::sleep(LEASE / 3).await;
        let Some(claims) = claims.upgrade() else {
            return;
        };
        let leases: Vec<Lease> = claims.held().values().map(|h| h.lease.clone()).collect();
        for lease in leases {
            match claims.inbox.renew(&lease).await {
                Ok(()) => {}
                Err(PgError::LeaseLost { .. }) => {
                    tracing::warn!(conversation = %lease.conversation_key, "another relay took this conversation over");
                    let mut held = claims.held();
                    if held.get(&lease.conversation_key).map(|h| &h.lease) == Some(&lease) {
                        held.remove(&lease.conversation_key);
                    }
                }
                // PostgreSQL unreachable: tried again at the next round, within the lease.
                Err(e) => tracing::warn!(error = %e, "renewing a conversation's lease failed"),
            }
        }
    }
}
