//! `GET /metrics` on the admin listener: what an operator's Prometheus scrapes.
//!
//! Built on `prometheus-client`, the official Rust client: its counters and histograms
//! are atomics behind an `Arc` (no lock on the hot path, none held across an await),
//! it keeps no global state (two relays in one process — the tests — count apart), and
//! it writes the OpenMetrics text format, which Prometheus prefers when it scrapes.
//!
//! Events are counted where they happen (the receiver, the outbox worker through the
//! store's attempt observer, the engine through its lag callback and handover atomic —
//! so neither lower crate depends on a metrics library); levels (conversations by
//! phase, outbox depth, inbox backlog and its age, database size) are read from the store
//! at scrape time, one indexed query each.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};
use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::{Registry, Unit},
};
use switchboard_store::outbox::{AttemptObserver, AttemptSeen};
use switchboard_types::{now_ms, Phase};

use crate::relay::RelayState;

/// OpenMetrics 1.0, what `prometheus_client::encoding::text` writes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Seconds: from a fast local 8x8 emulator (milliseconds) to the 30 s request timeout.
const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    /// The HTTP status 8x8 answered, or `none` when no answer came.
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseLabel {
    phase: &'static str,
}

/// What a webhook delivery came to, as `switchboard_webhook_deliveries_total{outcome}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Stored and queued for the engine (2xx).
    Accepted,
    /// A redelivery of an event already stored (2xx, not processed again).
    Duplicate,
    /// 8x8's echo of a message the relay posted (2xx, nothing to do).
    Echo,
    /// Stored, not processed: the verify event, unknown or legacy event types (2xx).
    Ignored,
    /// The signature did not check out (401).
    Unverified,
    /// Not JSON, or no event type (400/415).
    Rejected,
    /// Ours: a signing key or the store was unavailable; 8x8 retries (503).
    RetryLater,
}

impl DeliveryOutcome {
    fn label(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Duplicate => "duplicate",
            Self::Echo => "echo",
            Self::Ignored => "ignored",
            Self::Unverified => "unverified",
            Self::Rejected => "rejected",
            Self::RetryLater => "retry_later",
        }
    }
}

/// The counters and histograms fed as things happen; one per relay.
#[derive(Debug)]
pub struct Metrics {
    deliveries: Family<OutcomeLabel, Counter>,
    signature_failures: Family<ReasonLabel, Counter>,
    outbox_failures: Family<StatusLabel, Counter>,
    request_duration: Family<OperationLabel, Histogram, fn() -> Histogram>,
    engine_lag: Histogram,
    /// Whether an outbox attempt was seen yet: until then the two outbox families are
    /// left out of the exposition, as Prometheus' reference client leaves out families
    /// without series (their label values — operations, statuses — are not known ahead).
    attempted: AtomicBool,
    failed: AtomicBool,
}

/// Every outcome and signature failure reason is exposed from the start, at 0, so that
/// `rate()` and alerts see the first one happen rather than a series appearing.
const OUTCOMES: [DeliveryOutcome; 7] = [
    DeliveryOutcome::Accepted,
    DeliveryOutcome::Duplicate,
    DeliveryOutcome::Echo,
    DeliveryOutcome::Ignored,
    DeliveryOutcome::Unverified,
    DeliveryOutcome::Rejected,
    DeliveryOutcome::RetryLater,
];

/// `SignatureError::code()`'s values.
const SIGNATURE_REASONS: [&str; 10] = [
    "missing_header",
    "bad_header",
    "malformed_signature",
    "unsupported_algorithm",
    "stale",
    "wrong_tenant",
    "unknown_kid",
    "key_unavailable",
    "bad_jwk",
    "bad_signature",
];

impl Default for Metrics {
    fn default() -> Self {
        let me = Self {
            deliveries: Family::default(),
            signature_failures: Family::default(),
            outbox_failures: Family::default(),
            request_duration: Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS)),
            engine_lag: Histogram::new(LATENCY_BUCKETS),
            attempted: AtomicBool::new(false),
            failed: AtomicBool::new(false),
        };
        for outcome in OUTCOMES {
            let _ = me.deliveries.get_or_create(&OutcomeLabel {
                outcome: outcome.label(),
            });
        }
        for reason in SIGNATURE_REASONS {
            let _ = me.signature_failures.get_or_create(&ReasonLabel { reason });
        }
        me
    }
}

impl Metrics {
    pub fn delivery(&self, outcome: DeliveryOutcome) {
        self.deliveries
            .get_or_create(&OutcomeLabel {
                outcome: outcome.label(),
            })
            .inc();
    }

    /// `reason` is the signature error's stable code (`bad_signature`, `stale` …).
    pub fn signature_failure(&self, reason: &'static str) {
        self.signature_failures
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    fn attempt(&self, seen: &AttemptSeen<'_>) {
        if let Some(duration) = seen.duration {
            self.request_duration
                .get_or_create(&OperationLabel {
                    operation: seen.operation.to_string(),
                })
                .observe(duration.as_secs_f64());
            self.attempted.store(true, Ordering::Relaxed);
        }
        if !seen.delivered {
            let status = seen
                .http_status
                .map_or_else(|| "none".to_string(), |s| s.to_string());
            self.outbox_failures
                .get_or_create(&StatusLabel { status })
                .inc();
            self.failed.store(true, Ordering::Relaxed);
        }
    }

    /// What the store's outbox calls after each attempt the worker makes.
    pub fn attempt_observer(self: &Arc<Self>) -> AttemptObserver {
        let me = self.clone();
        Arc::new(move |seen| me.attempt(seen))
    }

    /// What the engine calls for each event it takes up.
    pub fn lag_observer(self: &Arc<Self>) -> switchboard_engine::LagObserver {
        let me = self.clone();
        Arc::new(move |lag| me.engine_lag.observe(lag.as_secs_f64()))
    }

    /// The exposition: the live families plus the levels read now.
    fn encode(&self, levels: &Levels) -> Result<String, std::fmt::Error> {
        let mut r = Registry::default();
        r.register(
            "switchboard_webhook_deliveries",
            "Webhook deliveries received from 8x8, by what came of them",
            self.deliveries.clone(),
        );
        r.register(
            "switchboard_webhook_signature_failures",
            "Webhook deliveries whose signature did not verify, by reason",
            self.signature_failures.clone(),
        );
        if self.failed.load(Ordering::Relaxed) {
            r.register(
                "switchboard_outbox_failed_attempts",
                "Outbox calls to 8x8 that did not succeed, by HTTP status (none: no answer)",
                self.outbox_failures.clone(),
            );
        }
        if self.attempted.load(Ordering::Relaxed) {
            // The unit in the name only, without a `# UNIT` line (optional in OpenMetrics):
            // some OpenMetrics parsers refuse a unit on a histogram.
            r.register(
                "switchboard_8x8_request_duration_seconds",
                "Time 8x8 took to answer an outbox call, by operation",
                self.request_duration.clone(),
            );
        }
        r.register(
            "switchboard_engine_lag_seconds",
            "From a webhook delivery's arrival to the engine taking it up",
            self.engine_lag.clone(),
        );
        let handovers = Counter::<u64>::default();
        handovers.inc_by(levels.handovers);
        r.register(
            "switchboard_handovers",
            "Handovers to an agent started since the relay started",
            handovers,
        );
        let phases = Family::<PhaseLabel, Gauge>::default();
        for (phase, n) in &levels.phases {
            phases.get_or_create(&PhaseLabel { phase }).set(*n);
        }
        r.register(
            "switchboard_conversations",
            "Stored conversations, by phase",
            phases,
        );
        let gauge = |v: i64| {
            let g = Gauge::<i64>::default();
            g.set(v);
            g
        };
        r.register(
            "switchboard_outbox_pending_entries",
            "Outbox calls waiting to be sent or in flight",
            gauge(levels.outbox_pending),
        );
        r.register(
            "switchboard_inbox_pending_deliveries",
            "Stored webhook deliveries the engine has not processed yet",
            gauge(levels.inbox_pending),
        );
        let lag = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        lag.set(levels.inbox_oldest_age.as_secs_f64());
        r.register_with_unit(
            "switchboard_inbox_oldest_pending_age",
            "Age of the oldest stored delivery the engine has not processed (0 when none waits)",
            Unit::Seconds,
            lag,
        );
        if let Some(bytes) = levels.database_bytes {
            r.register_with_unit(
                "switchboard_database_size",
                "The database's size on disk, its write-ahead log included",
                Unit::Bytes,
                gauge(bytes as i64),
            );
        }
        let mut out = String::new();
        encode(&mut out, &r)?;
        Ok(out)
    }
}

/// What is read from the store at scrape time.
struct Levels {
    handovers: u64,
    phases: Vec<(&'static str, i64)>,
    outbox_pending: i64,
    inbox_pending: i64,
    inbox_oldest_age: Duration,
    database_bytes: Option<u64>,
}

const PHASES: [Phase; 6] = [
    Phase::Bot,
    Phase::Handover,
    Phase::Queued,
    Phase::Agent,
    Phase::Transferred,
    Phase::Ended,
];

async fn levels(state: &RelayState) -> Result<Levels, switchboard_store::DbError> {
    let switchboard_store::database::Levels {
        phases: counts,
        outbox_open: outbox_pending,
        inbox_pending,
        oldest_pending_ms: oldest,
    } = state.db.levels().await?;
    let phases = PHASES
        .iter()
        .map(|p| {
            let n = counts
                .iter()
                .find(|(name, _)| name == p.as_str())
                .map_or(0, |(_, n)| *n);
            (p.as_str(), n)
        })
        .collect();
    let database_bytes = switchboard_store::retention::size_of(&state.db)
        .await
        .map_err(|e| tracing::warn!(error = %e, "the database's size could not be read"))
        .ok()
        .map(|s| s.total_bytes);
    Ok(Levels {
        handovers: state.engine.handovers_started.load(Ordering::Relaxed),
        phases,
        outbox_pending,
        inbox_pending,
        inbox_oldest_age: oldest
            .map(|at| Duration::from_millis((now_ms() - at).max(0) as u64))
            .unwrap_or_default(),
        database_bytes,
    })
}

/// `GET /metrics` (behind the admin token).
pub async fn scrape(State(state): State<Arc<RelayState>>) -> Response {
    let body = match levels(&state).await {
        Ok(levels) => state.inbox.metrics.encode(&levels),
        Err(e) => {
            tracing::warn!(error = %e, "the metrics' levels could not be read");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "The relay's database cannot be read right now; try the scrape again.",
            )
                .into_response();
        }
    };
    match body {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels() -> Levels {
        Levels {
            handovers: 2,
            phases: vec![("bot", 3), ("agent", 1)],
            outbox_pending: 4,
            inbox_pending: 0,
            inbox_oldest_age: Duration::ZERO,
            database_bytes: Some(4096),
        }
    }

    #[test]
    fn outbox_attempts_are_timed_by_operation_and_failures_counted_by_status() {
        let m = Arc::new(Metrics::default());
        let before = m.encode(&levels()).unwrap();
        assert!(
            !before.contains("switchboard_8x8_request_duration_seconds"),
            "no empty family before the first call:\n{before}"
        );
        let observe = m.attempt_observer();
        let attempt = |ms: Option<u64>, status: Option<u16>, delivered: bool| AttemptSeen {
            operation: "sendMessage",
            duration: ms.map(Duration::from_millis),
            http_status: status,
            delivered,
        };
        observe(&attempt(Some(40), Some(201), true));
        observe(&attempt(Some(300), Some(503), false));
        observe(&attempt(None, None, false));
        let text = m.encode(&levels()).unwrap();
        for line in [
            "switchboard_8x8_request_duration_seconds_count{operation=\"sendMessage\"} 2",
            "switchboard_8x8_request_duration_seconds_bucket{le=\"0.05\",operation=\"sendMessage\"} 1",
            "switchboard_outbox_failed_attempts_total{status=\"503\"} 1",
            "switchboard_outbox_failed_attempts_total{status=\"none\"} 1",
            "switchboard_handovers_total 2",
            "switchboard_conversations{phase=\"bot\"} 3",
            "switchboard_outbox_pending_entries 4",
            "switchboard_database_size_bytes 4096",
            "# EOF",
        ] {
            assert!(text.contains(line), "lacks {line}:\n{text}");
        }
        assert!(!text.contains("status=\"201\""), "a success is no failure");
    }
}
