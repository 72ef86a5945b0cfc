//! The retention task: a pass over the database shortly after start, then every hour and
//! whenever the retention settings change (switchboard-store's `retention` does the
//! deleting, a few hundred rows per transaction, and shrinks the file). Each pass reads
//! the settings as they are then; what it removed is logged (counts only), remembered in
//! the database and shown on the Status page.

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use switchboard_settings::settings::RetentionSettings;
use switchboard_store::{
    retention::{Policy, RetentionOn},
    DbError, RetentionPass,
};
use switchboard_types::RelayEvent;
use tokio::{sync::watch, task::JoinHandle};

use crate::relay::RelayState;

/// The time the passes go by, in ms since the epoch: the real clock in the relay, one a
/// test moves on.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// When passes run.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// After the start: long enough that a restart under load is not slowed by it.
    pub first_after: Duration,
    pub every: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            first_after: Duration::from_secs(60),
            every: Duration::from_secs(60 * 60),
        }
    }
}

/// The store's policy from the settings.
pub fn policy(settings: &RetentionSettings) -> Policy {
    Policy {
        deliveries_days: settings.deliveries_days,
        outbox_days: settings.outbox_days,
        conversations_days: settings.conversations_days,
    }
}

/// One pass at `now_ms` with the settings as they are now; the Status page hears of it.
pub async fn run_pass(state: &RelayState, now_ms: i64) -> Result<RetentionPass, DbError> {
    let settings = state.settings().retention;
    let pass = RetentionOn::on(&state.db)
        .run(now_ms, policy(&settings))
        .await?;
    if pass.removed_anything() {
        tracing::info!(
            deliveries = pass.deliveries,
            outbox = pass.outbox,
            conversations = pass.conversations,
            transcript_lines = pass.transcript_lines,
            freed_bytes = pass.freed_bytes,
            took_ms = pass.took_ms,
            "retention removed old records"
        );
    } else {
        tracing::debug!(took_ms = pass.took_ms, "retention found nothing to remove");
    }
    state.bus.publish(RelayEvent::StatusChanged);
    Ok(pass)
}

/// The relay's task: the real clock, the standard timing.
pub fn spawn(state: &Arc<RelayState>, stopping: watch::Receiver<bool>) -> JoinHandle<()> {
    spawn_with(
        state,
        Arc::new(switchboard_types::now_ms),
        Timing::default(),
        stopping,
    )
}

/// The task with its clock and timing given (tests). It holds the relay's state weakly,
/// like the outbox worker, and ends when the relay stops, also in the middle of a pass
/// (between two of its transactions).
pub fn spawn_with(
    state: &Arc<RelayState>,
    clock: Clock,
    timing: Timing,
    mut stopping: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let weak: Weak<RelayState> = Arc::downgrade(state);
    let mut settings = state.settings.subscribe();
    let initial = settings.borrow_and_update().retention;
    tokio::spawn(async move {
        let mut next = tokio::time::Instant::now() + timing.first_after;
        // The retention settings the last pass ran with (at first, those at start).
        let mut applied: RetentionSettings = initial;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(next) => {}
                changed = settings.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    // Only a change of the retention settings runs a pass early.
                    if settings.borrow_and_update().retention == applied {
                        continue;
                    }
                }
                _ = stopping.wait_for(|s| *s) => return,
            }
            let Some(state) = weak.upgrade() else { return };
            applied = state.settings().retention;
            tokio::select! {
                result = run_pass(&state, clock()) => {
                    if let Err(e) = result {
                        tracing::warn!(error = %e, "retention pass failed; the next one carries on");
                    }
                }
                _ = stopping.wait_for(|s| *s) => return,
            }
            drop(state);
            next = tokio::time::Instant::now() + timing.every;
        }
    })
}
