//! Queue updates (docs/contact-center.md §5): while a conversation waits in an 8x8
//! queue the customer is told, every so often, how many are waiting and the queue's
//! typical wait — the queue's figures, worded as such, since 8x8 gives no position for
//! one conversation. They stop as soon as the conversation leaves the queue (an agent
//! joins, the customer leaves, a transfer's agent takes it).

use std::{collections::HashMap, sync::Arc, sync::Mutex, time::Duration};

use serde_json::json;
use switchboard_bot::BotReply;
use switchboard_types::now_ms;
use tokio::sync::watch;

use crate::{bot_turn, contact_center, save, Engine, EngineError, Job, Phase};

/// When each queued conversation was last told (or queued): kept in memory, so after a
/// restart the next update comes one period after the restart.
#[derive(Default)]
pub(crate) struct LastTold(Mutex<HashMap<String, i64>>);

/// Looks for queued conversations due an update, once a "second" (the engine's minute
/// divided by 60, which the tests shorten).
pub(crate) async fn run(engine: Arc<Engine>, mut stopped: watch::Receiver<bool>) {
    loop {
        let second = engine.config().minute / 60;
        let period = second.clamp(Duration::from_millis(10), Duration::from_secs(1));
        tokio::select! {
            _ = async { let _ = stopped.wait_for(|s| *s).await; } => return,
            _ = tokio::time::sleep(period) => {
                if crate::cluster_turn(&engine, "queue_updates", period).await {
                    due(&engine, second).await
                }
            }
        }
    }
}

async fn due(engine: &Arc<Engine>, second: Duration) {
    let every = contact_center::checks(engine, &engine.settings()).queue_update_seconds;
    if every == 0 {
        engine.queue_updates.lock().clear();
        return;
    }
    let queued = match engine.store.queued().await {
        Ok(q) => q,
        Err(e) => {
            tracing::warn!(error = %e, "the queue updates could not read the queued conversations");
            return;
        }
    };
    let period_ms = (second * every).as_millis() as i64;
    let now = now_ms();
    let mut due = Vec::new();
    {
        let mut last = engine.queue_updates.lock();
        last.retain(|id, _| queued.iter().any(|c| &c.id == id));
        for conv in queued {
            let since = *last
                .entry(conv.id.clone())
                .or_insert_with(|| conv.queued_at_ms.unwrap_or(now).max(now - period_ms));
            if now - since >= period_ms {
                due.push(conv.id);
            }
        }
    }
    let period = Duration::from_millis(period_ms.max(0) as u64);
    for id in due {
        // On a shared database the job runs on whichever relay's tick comes first, and
        // that relay's memory may not hold the last update another relay sent: the
        // cluster's clock for this conversation decides (a row of its own).
        if !crate::cluster_turn(engine, &format!("{TOLD}{id}"), period).await {
            continue;
        }
        engine.queue_updates.lock().insert(id.clone(), now);
        engine.actors.send(engine, &id, Job::QueueUpdate);
    }
    if let Some(db) = engine.db.postgres() {
        let forgotten = switchboard_store::pg::PgTimers::new(db.clone())
            .forget(TOLD, period.max(FORGET_AFTER))
            .await;
        if let Err(e) = forgotten {
            tracing::debug!(error = %e, "old queue update timers could not be forgotten");
        }
    }
}

/// The name of a conversation's queue-update timer on a shared database.
const TOLD: &str = "queue_update:";
/// A conversation's timer is forgotten once it has not run for this long (or a period).
const FORGET_AFTER: Duration = Duration::from_secs(3600);

impl LastTold {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, i64>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Inside the conversation's actor: still queued? Then the queue's figures now.
pub(crate) async fn tell(engine: &Arc<Engine>, key: &str) -> Result<(), EngineError> {
    let Some(mut conv) = engine.store.get(key).await? else {
        return Ok(());
    };
    if conv.phase != Phase::Queued {
        return Ok(());
    }
    let settings = engine.settings();
    let checks = contact_center::checks(engine, &settings);
    let queue = conv
        .queue_id
        .clone()
        .or_else(|| engine.connections.handover_route(&settings).1);
    let Some(queue) = queue else {
        return Ok(());
    };
    match engine.connections.queue_figures(&queue).await {
        Ok(figures) => {
            let reply = BotReply {
                text: contact_center::update_text(&checks, &figures),
                quick_replies: contact_center::cancel_offer(&checks, conv.mode),
            };
            bot_turn::send_reply_with(engine, &mut conv, &reply, json!({ "queueUpdate": figures }))
                .await?;
            save(engine, &mut conv).await?;
        }
        // No figures, no update: a made-up or stale number would mislead the customer.
        Err(e) => tracing::debug!(conversation = key, error = %e, "queue update skipped"),
    }
    Ok(())
}
