//! One task per active conversation, fed through a queue: a conversation's events and
//! user actions are handled strictly one after another, different conversations side by
//! side. An actor that has been idle for a while ends; the next job starts a new one.

use std::{collections::HashMap, sync::Arc, time::Duration};

use tokio::sync::mpsc;

use super::Job;
use chat_gateway_client::webhook::WebhookEvent;

use crate::Engine;
use switchboard_store::{conversations::Route, Conversation, QueuedEvent};

const IDLE: Duration = Duration::from_secs(120);

/// How long an actor keeps its conversation's row after its last job: a conversation's
/// events come seconds apart while it is live.
const KEEP_ROW: Duration = Duration::from_secs(10);

/// Most 8x8 conversation ids remembered; past that the memory starts over.
const ROUTES_CAP: usize = 100_000;

#[derive(Default)]
pub(crate) struct Actors {
    map: std::sync::Mutex<HashMap<String, mpsc::UnboundedSender<Job>>>,
    /// 8x8 conversation id → local conversation id, for ids already looked up. A
    /// mapping never changes once made (a handover's earlier 8x8 ids still belong to
    /// the same conversation), so remembering it spares a query per event.
    routes: std::sync::Mutex<HashMap<String, String>>,
}

/// What an actor knows of its conversation's stored row between jobs. Only the actor
/// writes the row (every job for a conversation runs in it), so the row an event's
/// committed unit stored is still the row at the next event: keeping it spares a read
/// per event, one of the database thread's round trips per conversation
/// (bench-whole-path).
pub(crate) enum Known {
    /// Not known: read it.
    Unread,
    /// There is no row.
    Absent,
    /// The row as stored.
    Row(Box<Conversation>),
}

impl Actors {
    pub fn send(&self, engine: &Arc<Engine>, key: &str, job: Job) {
        self.send_with(engine, key, job, false)
    }

    /// [`Actors::send`]; `absent`: the caller has just seen that no row for `key`
    /// exists, so an actor started for this job starts knowing that (an actor already
    /// running may have created it meanwhile, and reads for itself).
    pub fn send_with(&self, engine: &Arc<Engine>, key: &str, job: Job, absent: bool) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let job = match map.get(key) {
            Some(tx) => match tx.send(job) {
                Ok(()) => return,
                // The actor ended (idle) between lookup and send: start a new one.
                Err(mpsc::error::SendError(job)) => job,
            },
            None => job,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(job);
        map.insert(key.to_string(), tx);
        let known = if absent { Known::Absent } else { Known::Unread };
        tokio::spawn(run(engine.clone(), key.to_string(), rx, known));
    }

    fn route(&self, gateway_id: &str) -> Option<String> {
        let routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        routes.get(gateway_id).cloned()
    }

    fn remember(&self, gateway_id: &str, local: &str) {
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        if routes.len() >= ROUTES_CAP {
            routes.clear();
        }
        routes.insert(gateway_id.to_string(), local.to_string());
    }

    fn forget_if_idle(&self, key: &str, rx: &mpsc::UnboundedReceiver<Job>) -> bool {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        // Only when nothing arrived meanwhile: the map lock orders us against `send`.
        if rx.is_empty() {
            map.remove(key);
            true
        } else {
            false
        }
    }
}

async fn run(
    engine: Arc<Engine>,
    key: String,
    mut rx: mpsc::UnboundedReceiver<Job>,
    mut known: Known,
) {
    let mut stopping = engine.stopping.clone();
    loop {
        let holding = matches!(known, Known::Row(_));
        let wait = if holding { KEEP_ROW } else { IDLE };
        let next = tokio::select! {
            _ = async { let _ = stopping.wait_for(|s| *s).await; } => return,
            next = tokio::time::timeout(wait, rx.recv()) => next,
        };
        let job = match next {
            Ok(Some(job)) => job,
            Ok(None) => return,
            // A quiet conversation's row is let go, so thousands of idle actors after
            // a burst do not hold thousands of rows.
            Err(_) if holding => {
                known = Known::Unread;
                continue;
            }
            Err(_) => {
                if engine.actors.forget_if_idle(&key, &rx) {
                    return;
                }
                continue;
            }
        };
        // Boxed: the job's future is the largest type in the crate (≈ 13.6 kB, the
        // engine's whole state machine). Held inline it would sit in every idle actor;
        // boxed it exists only while a job runs (BENCHMARKS.md, "Footprint").
        Box::pin(super::handle_job(&engine, &key, job, &mut known)).await;
    }
}

/// The actor key for an 8x8 event: the local conversation it belongs to, and whether
/// the batch's look-up saw no conversation row under that key at all. `known` holds
/// routes looked up for the event's batch. An unknown id may be a handover whose create
/// answer is still on its way; wait for that briefly so its first events are not
/// mistaken for a new customer.
pub(crate) async fn key_for_event(
    engine: &Arc<Engine>,
    event: &WebhookEvent,
    known: &HashMap<String, Route>,
) -> Option<(String, bool)> {
    let gateway_id = event.conversation_id.clone()?;
    let actors = &engine.actors;
    if let Some(local) = actors.route(&gateway_id) {
        return Some((local, false));
    }
    match known.get(&gateway_id) {
        Some(Route {
            local: Some(local), ..
        }) => {
            actors.remember(&gateway_id, local);
            return Some((local.clone(), false));
        }
        // A new customer: nothing of ours can turn out to own the id.
        Some(Route {
            creates_in_flight: false,
            row_under_id,
            ..
        }) => return Some((gateway_id, !row_under_id)),
        _ => {}
    }
    for attempt in 0..20 {
        match engine.store.route_of(&gateway_id).await {
            Ok(Route {
                local: Some(local), ..
            }) => {
                actors.remember(&gateway_id, &local);
                return Some((local, false));
            }
            Ok(Route {
                creates_in_flight: true,
                ..
            }) if attempt < 19 => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            _ => break,
        }
    }
    Some((gateway_id, false))
}

/// The 8x8 ids of `events` whose conversation is not remembered yet.
pub(crate) fn unrouted(engine: &Engine, events: &[QueuedEvent]) -> Vec<String> {
    let mut ids: Vec<String> = events
        .iter()
        .filter_map(|e| e.event.conversation_id.clone())
        .filter(|id| engine.actors.route(id).is_none())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}
