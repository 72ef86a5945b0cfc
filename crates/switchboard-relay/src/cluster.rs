//! What the relays on one PostgreSQL share while they run (`docs/postgres.md`): each
//! relay's live events reach the admin UIs of all the others, and a settings save on
//! one is applied by all. (An outbox call is sent by the worker of the relay that added
//! it, woken in memory; the others find what a dead relay left by their own polling.)
//! None of this runs on SQLite, where one relay holds the database alone.
//!
//! Events go out after this relay has committed and published them (its bus), one
//! statement for whatever the bus holds at that moment, and come in on a listening
//! connection that reconnects by itself; while it was away the UIs are told they fell
//! behind, and the settings are read again.

use std::sync::Arc;

use tokio::sync::broadcast::error::RecvError;

use switchboard_settings::Settings;
use switchboard_store::pg::{
    self,
    notify::{notify_all, Notice, PgListener},
    unit::{EVENTS_CHANNEL, EVENT_TOO_LARGE},
    PgDb, PgError,
};
use switchboard_types::{now_ms, RelayEvent};

use crate::relay::RelayState;

/// Room in a notification (PostgreSQL allows 8,000 bytes) for the event's JSON, after
/// the sender's instance id.
const MAX_EVENT_PAYLOAD: usize = 7_500;

/// Events sent on per statement at most.
const EVENTS_PER_NOTIFY: usize = 256;

/// The settings the relays share: the stored ones when a relay saved any before, else
/// `ours` (this relay's file), which then become the shared ones.
pub async fn shared_settings(db: &PgDb, ours: Settings) -> Result<Settings, PgError> {
    let json = serde_json::to_string(&ours).expect("settings serialize");
    let stored = pg::settings::seed(db, &json, now_ms()).await?;
    if stored == json {
        return Ok(ours);
    }
    match read(&stored) {
        Some(theirs) => Ok(theirs),
        None => Ok(ours),
    }
}

/// Stores a settings save for every relay (after this relay saved it to its file).
pub async fn share_settings(state: &RelayState, settings: &Settings) -> Result<(), PgError> {
    let Some(db) = state.db.postgres() else {
        return Ok(());
    };
    let json = serde_json::to_string(settings).expect("settings serialize");
    pg::settings::save(db, &json, now_ms()).await
}

/// The shared settings as stored, if they read as valid settings (a newer relay's may
/// not: this one keeps its own then, and says why).
fn read(json: &str) -> Option<Settings> {
    match serde_json::from_str::<Settings>(json) {
        Ok(settings) => {
            let settings = settings.normalized();
            let errors = settings.validate();
            if errors.is_empty() {
                Some(settings)
            } else {
                tracing::warn!(
                    ?errors,
                    "the shared settings are not valid here; keeping this relay's"
                );
                None
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "the shared settings cannot be read by this relay; keeping its own");
            None
        }
    }
}

/// Starts passing events out and in; both tasks end with the relay.
pub async fn start(state: &Arc<RelayState>) -> Result<(), PgError> {
    let Some(db) = state.db.postgres().cloned() else {
        return Ok(());
    };
    let listener =
        PgListener::start(&db, &[EVENTS_CHANNEL, pg::settings::SETTINGS_CHANNEL]).await?;
    tokio::spawn(send_events(Arc::downgrade(state), db));
    tokio::spawn(receive(Arc::downgrade(state), listener));
    Ok(())
}

/// This relay's events, as its bus publishes them, to the other relays.
async fn send_events(state: std::sync::Weak<RelayState>, db: PgDb) {
    let (mut events, mut stopping) = match state.upgrade() {
        Some(s) => (s.bus.subscribe(), s.stopping.clone()),
        None => return,
    };
    loop {
        let first = tokio::select! {
            first = events.recv() => first,
            _ = stopping.wait_for(|s| *s) => return,
        };
        let mut payloads = Vec::new();
        if !take(first, &mut payloads) {
            return;
        }
        while payloads.len() < EVENTS_PER_NOTIFY {
            match events.try_recv() {
                Ok(envelope) => {
                    take(Ok(envelope), &mut payloads);
                }
                Err(tokio::sync::broadcast::error::TryRecvError::Lagged(n)) => {
                    take(Err(RecvError::Lagged(n)), &mut payloads);
                }
                Err(_) => break,
            }
        }
        if let Err(e) = notify_all(&db, EVENTS_CHANNEL, &payloads).await {
            // The other relays' UIs miss these; they see the next ones.
            tracing::warn!(error = %e, events = payloads.len(), "live events could not be passed to the other relays");
        }
    }
}

/// Adds what goes out for `next` (nothing for an event another relay sent); false once
/// the bus is gone.
fn take(next: Result<switchboard_types::Envelope, RecvError>, payloads: &mut Vec<String>) -> bool {
    match next {
        Ok(envelope) if envelope.remote => true,
        Ok(envelope) => {
            payloads.push(payload(&envelope.event));
            true
        }
        // Some went by unseen: the other relays' UIs are told they missed events.
        Err(RecvError::Lagged(_)) => {
            payloads.push(EVENT_TOO_LARGE.to_string());
            true
        }
        Err(RecvError::Closed) => false,
    }
}

fn payload(event: &RelayEvent) -> String {
    match serde_json::to_string(event) {
        Ok(json) if json.len() <= MAX_EVENT_PAYLOAD => json,
        _ => EVENT_TOO_LARGE.to_string(),
    }
}

/// The other relays' events and settings saves.
async fn receive(state: std::sync::Weak<RelayState>, mut listener: PgListener) {
    while let Some(notice) = listener.recv().await {
        let Some(state) = state.upgrade() else { return };
        if *state.stopping.borrow() {
            return;
        }
        match notice {
            Notice::Message {
                from_self: true, ..
            } => {}
            Notice::Message {
                channel, payload, ..
            } => match channel.as_str() {
                EVENTS_CHANNEL => match serde_json::from_str::<RelayEvent>(&payload) {
                    Ok(event) => state.bus.publish_remote(event),
                    Err(e) => {
                        tracing::debug!(error = %e, "another relay's event is not known here");
                        state.bus.publish_remote(RelayEvent::Lagged);
                    }
                },
                pg::settings::SETTINGS_CHANNEL => apply_shared_settings(&state).await,
                _ => {}
            },
            Notice::Lost => {
                state.bus.publish_remote(RelayEvent::Lagged);
                apply_shared_settings(&state).await;
                state.outbox.notify_added();
            }
        }
    }
}

/// Reads the shared settings and applies them here if they changed: saved to this
/// relay's file, then taken into use as a save here would be.
async fn apply_shared_settings(state: &Arc<RelayState>) {
    let Some(db) = state.db.postgres() else {
        return;
    };
    let stored = match pg::settings::load(db).await {
        Ok(Some(json)) => json,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "the shared settings could not be read");
            return;
        }
    };
    let Some(next) = read(&stored) else { return };
    if let Err(e) = crate::admin::settings_update::take_shared(state, next).await {
        tracing::warn!(error = %e, "the settings another relay saved could not be applied here");
    }
}
