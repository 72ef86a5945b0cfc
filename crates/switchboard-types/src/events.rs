//! The event bus: everything the live UI shows is published here once, and each admin
//! client (SSE) subscribes. A slow client loses old events rather than slowing the relay.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Deserializer, Serialize};
use tokio::sync::broadcast;
use ts_rs::TS;

/// A live event as the admin UI receives it (inside an [`Envelope`]). Read back from JSON
/// too: on PostgreSQL the relays pass their events to each other as `NOTIFY` payloads.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum RelayEvent {
    /// The relay's status changed (settings saved, sandbox switched, key set …).
    StatusChanged,
    /// The settings were saved, imported or the Endpoint URL token regenerated.
    SettingsChanged,
    /// A conversation was created or changed phase, queue, agent …
    #[serde(rename_all = "camelCase")]
    ConversationChanged {
        conversation_id: String,
        #[ts(as = "crate::Phase")]
        #[serde(deserialize_with = "phase_name")]
        phase: StaticName,
    },
    /// A line was added to a transcript (user, bot, agent or system lane).
    TranscriptEntry {
        /// A transcript `Entry` (switchboard-store), as JSON.
        #[ts(type = "Entry")]
        entry: serde_json::Value,
    },
    /// Someone is typing (`agent` from 8x8, `user` from the tester).
    #[serde(rename_all = "camelCase")]
    Typing {
        conversation_id: String,
        #[ts(type = "\"agent\" | \"user\"")]
        #[serde(deserialize_with = "who_name")]
        who: StaticName,
        typing: bool,
    },
    /// A webhook delivery reached the endpoint listener.
    DeliveryReceived {
        #[serde(rename = "eventType")]
        event_type: String,
        accepted: bool,
    },
    /// A delivery was committed to the store (the inspector's live feed).
    DeliveryRecorded {
        id: i64,
        #[serde(rename = "eventType")]
        event_type: String,
        #[serde(rename = "httpStatus")]
        http_status: u16,
        signature: String,
        #[serde(rename = "signatureReason")]
        signature_reason: Option<String>,
        #[serde(rename = "duplicateOf")]
        duplicate_of: Option<i64>,
    },
    /// An outbox entry changed state (queued, sent, retrying, failed).
    OutboxUpdated {
        id: i64,
        operation: String,
        status: crate::OutboxStatus,
        attempts: i64,
        #[serde(rename = "lastError")]
        last_error: Option<String>,
    },
    /// Another relay's event was too large to pass on (PostgreSQL's notifications carry
    /// 8,000 bytes): the UI is told it missed one, as when it falls behind, and fetches
    /// again.
    #[ts(skip)]
    Lagged,
}

/// A name from a fixed set. Spelled as an alias so that serde's derive does not borrow
/// it from the input (it would for a `&str`): these are read into one of the set's own
/// `'static` names, so an event parses from a payload that goes away.
type StaticName = &'static str;

fn phase_name<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    Ok(crate::Phase::parse(&String::deserialize(d)?).as_str())
}

fn who_name<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    Ok(match String::deserialize(d)?.as_str() {
        "agent" => "agent",
        _ => "user",
    })
}

/// What the admin API's live stream (`GET /api/events`, SSE event `relay`) carries.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Envelope {
    pub seq: u64,
    #[serde(rename = "atMs")]
    pub at_ms: i64,
    #[serde(flatten)]
    pub event: RelayEvent,
    /// Published here from another relay's notification (PostgreSQL): not sent on again.
    #[serde(skip)]
    #[ts(skip)]
    pub remote: bool,
}

pub struct EventBus {
    tx: broadcast::Sender<Envelope>,
    seq: AtomicU64,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new(1024)
    }
}

impl EventBus {
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity);
        Self {
            tx,
            seq: AtomicU64::new(0),
        }
    }

    pub fn publish(&self, event: RelayEvent) {
        self.send(event, false)
    }

    /// Publishes an event another relay sent (its UIs see it; it is not sent back out).
    pub fn publish_remote(&self, event: RelayEvent) {
        self.send(event, true)
    }

    fn send(&self, event: RelayEvent, remote: bool) {
        let envelope = Envelope {
            seq: self.seq.fetch_add(1, Ordering::Relaxed) + 1,
            at_ms: now_ms(),
            event,
            remote,
        };
        // No subscribers is normal (no UI open); nothing to do then.
        let _ = self.tx.send(envelope);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Envelope> {
        self.tx.subscribe()
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_see_events_in_order_with_sequence_numbers() {
        let bus = EventBus::new(8);
        let mut rx = bus.subscribe();
        bus.publish(RelayEvent::StatusChanged);
        bus.publish(RelayEvent::DeliveryReceived {
            event_type: "MESSAGE".into(),
            accepted: true,
        });
        let a = rx.recv().await.unwrap();
        let b = rx.recv().await.unwrap();
        assert_eq!((a.seq, b.seq), (1, 2));
        let json = serde_json::to_value(&b).unwrap();
        assert_eq!(json["type"], "deliveryReceived");
        assert_eq!(json["eventType"], "MESSAGE");
    }
}
