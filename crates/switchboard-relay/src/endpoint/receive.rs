//! One delivery, from raw request to answer: content checks, signature verification,
//! the durable record, and the status 8x8 gets. The order matters: nothing is answered
//! 2xx before it is committed, and a failure on our side (store, key fetch) answers 5xx
//! so that 8x8 delivers again.

use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use chat_gateway_client::webhook::{
    event::{EventError, WebhookEvent},
    request::{headers_json, read_request, Request},
    signature::{self, ChecksumVariant, DeliveryHeaders, SignatureError},
};
use serde_json::Value;
use switchboard_store::deliveries::{Disposition, NewDelivery};
use switchboard_types::{now_ms, EventBus, RelayEvent};

use super::inbox::Inbox;
use crate::metrics::DeliveryOutcome;

/// What the receiver checks against, taken from the settings for each delivery.
#[derive(Debug, Clone)]
pub struct Checks {
    pub verify_signatures: bool,
    /// Where the signing keys come from: the effective Base URL.
    pub base_url: String,
    /// When set, `x-8x8-tenant-id` must equal it.
    pub tenant: Option<String>,
}

/// The answer to 8x8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: StatusCode,
    /// For non-2xx answers: a short reason (never a secret).
    pub message: Option<String>,
    pub delivery_id: Option<i64>,
}

/// 8x8 echoes every message the relay posts (P5). Feeding one back would make the bot
/// answer itself, so the engine drops them all; they are settled here instead of
/// queued, which spares the engine a read and a write per echo.
const ECHO_OUTCOME: &str = "echo of a message the relay posted (P5): nothing to do";

enum Verdict {
    Valid(ChecksumVariant),
    Invalid(SignatureError),
    Unsigned,
    Skipped,
}

impl Inbox {
    pub async fn receive(
        &self,
        checks: &Checks,
        headers: &HeaderMap,
        body: Bytes,
        bus: &EventBus,
    ) -> Reply {
        let received_at_ms = now_ms();
        let Request {
            is_json,
            parsed,
            event_type,
            conversation_id,
        } = read_request(headers, &body);
        let is_verify = event_type.as_deref() == Some("WEB_HOOK_VERIFY");

        let verdict = if parsed.is_err() || !checks.verify_signatures {
            Verdict::Skipped
        } else if is_verify && !headers.contains_key(signature::SIGNATURE) {
            // chat-gateway.md §5.8 / P4: whether 8x8 signs the verify event is unknown.
            Verdict::Unsigned
        } else {
            match self.verify(checks, headers, &body, received_at_ms).await {
                Ok(v) => Verdict::Valid(v),
                Err(e) => Verdict::Invalid(e),
            }
        };

        let mut outcome = None;
        let (status, disposition, message) = match (&parsed, &verdict) {
            (Err(reason), _) => (
                if is_json {
                    StatusCode::BAD_REQUEST
                } else {
                    StatusCode::UNSUPPORTED_MEDIA_TYPE
                },
                Disposition::Reject,
                Some(reason.clone()),
            ),
            // The verify event changes nothing, so it passes whatever its signature says;
            // the signature result is still recorded.
            (Ok(_), _) if is_verify => {
                outcome = Some("webhook verification answered".to_string());
                (StatusCode::NO_CONTENT, Disposition::Ignore, None)
            }
            (Ok(_), Verdict::Invalid(e)) => (
                if e.is_transient() {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::UNAUTHORIZED
                },
                Disposition::Reject,
                Some(format!("signature rejected ({}): {e}", e.code())),
            ),
            (Ok(value), _) => match event_type.as_deref() {
                Some("MESSAGE") if value["data"]["isEcho"] == Value::Bool(true) => {
                    outcome = Some(ECHO_OUTCOME.into());
                    (StatusCode::NO_CONTENT, Disposition::Settled, None)
                }
                Some(t) if WebhookEvent::is_processable_type(t, value) => {
                    (StatusCode::NO_CONTENT, Disposition::Queue, None)
                }
                Some(_) => {
                    outcome = Some("unknown or legacy event type: stored, not processed".into());
                    (StatusCode::NO_CONTENT, Disposition::Ignore, None)
                }
                None => (
                    StatusCode::BAD_REQUEST,
                    Disposition::Reject,
                    Some(EventError::NoEventType.to_string()),
                ),
            },
        };
        if disposition == Disposition::Reject && outcome.is_none() {
            outcome = message.clone();
        }
        if let Verdict::Invalid(e) = &verdict {
            self.metrics.signature_failure(e.code());
        }
        if let Verdict::Invalid(e) = &verdict {
            // Ours, not the sender's (the key could not be fetched): the admin needs to
            // know why 8x8 is being turned away. Forged or stale deliveries are the
            // sender's problem and are shown in the inspector only.
            if e.is_transient() {
                tracing::warn!(
                    event_id = clip(&signature::event_id(headers).unwrap_or_default(), 128),
                    "a webhook delivery could not be verified: {e}; answering 503 so 8x8 retries"
                );
            }
        }

        let (signature_label, signature_reason) = match &verdict {
            Verdict::Valid(ChecksumVariant::Unsigned) => ("valid", None),
            Verdict::Valid(ChecksumVariant::SignedInt) => (
                "valid",
                Some("signed with a signed-int CRC-32 (P14)".to_string()),
            ),
            Verdict::Invalid(e) => ("invalid", Some(format!("{}: {e}", e.code()))),
            Verdict::Unsigned => ("unsigned", None),
            Verdict::Skipped => ("skipped", None),
        };
        let delivery = NewDelivery {
            received_at_ms,
            headers_json: headers_json(headers),
            body,
            event_id: signature::event_id(headers),
            event_type: event_type.clone(),
            conversation_id,
            signature: signature_label,
            signature_reason: signature_reason.clone(),
            http_status: status.as_u16(),
            disposition,
            outcome,
        };
        let recorded = match self.store.record(delivery).await {
            Ok(r) => r,
            Err(e) => {
                self.metrics.delivery(DeliveryOutcome::RetryLater);
                tracing::error!(error = %e, "a webhook delivery could not be stored; answering 503 so 8x8 retries");
                bus.publish(RelayEvent::DeliveryReceived {
                    event_type: event_type.unwrap_or_default(),
                    accepted: false,
                });
                return Reply {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    message: Some(
                        "The relay cannot store events right now; 8x8 will retry.".into(),
                    ),
                    delivery_id: None,
                };
            }
        };
        self.after_commit(&recorded);
        if disposition == Disposition::Queue && recorded.duplicate_of.is_none() {
            self.queue.wake();
        }
        self.metrics.delivery(match disposition {
            _ if recorded.duplicate_of.is_some() => DeliveryOutcome::Duplicate,
            _ if status == StatusCode::SERVICE_UNAVAILABLE => DeliveryOutcome::RetryLater,
            _ if status == StatusCode::UNAUTHORIZED => DeliveryOutcome::Unverified,
            Disposition::Queue => DeliveryOutcome::Accepted,
            Disposition::Settled => DeliveryOutcome::Echo,
            Disposition::Ignore => DeliveryOutcome::Ignored,
            _ => DeliveryOutcome::Rejected,
        });
        let accepted = status.is_success();
        bus.publish(RelayEvent::DeliveryReceived {
            event_type: event_type.clone().unwrap_or_default(),
            accepted,
        });
        bus.publish(RelayEvent::DeliveryRecorded {
            id: recorded.id,
            event_type: event_type.unwrap_or_default(),
            http_status: status.as_u16(),
            signature: signature_label.into(),
            signature_reason,
            duplicate_of: recorded.duplicate_of,
        });
        Reply {
            status,
            message,
            delivery_id: Some(recorded.id),
        }
    }

    async fn verify(
        &self,
        checks: &Checks,
        headers: &HeaderMap,
        body: &Bytes,
        now_ms: i64,
    ) -> Result<ChecksumVariant, SignatureError> {
        let h = DeliveryHeaders::from_headers(headers)?;
        // Cheap checks first: a replayed or foreign delivery costs no RSA work.
        h.check_fresh(now_ms, self.freshness_window_ms())?;
        if let Some(tenant) = &checks.tenant {
            if &h.tenant_id != tenant {
                return Err(SignatureError::WrongTenant {
                    got: h.tenant_id.clone(),
                });
            }
        }
        let parsed = signature::parse_signature(&h.signature)?;
        // Only a new kid waits, on an async fetch with a timeout; the check itself is
        // ~30 µs of CPU (BENCHMARKS.md), less than a trip through the blocking pool costs,
        // so it runs here.
        let key = self.jwks.get(&checks.base_url, &parsed.kid).await?;
        signature::verify(&key, body, &h, &parsed)
    }
}

/// At most `max` bytes of a sender-chosen value, cut at a character boundary, for a log
/// line or an answer: a header of hundreds of kilobytes must not be repeated per request.
fn clip(value: &str, max: usize) -> &str {
    if value.len() <= max {
        return value;
    }
    let mut end = max;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}
