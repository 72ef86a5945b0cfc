//! The emulator's Event Log, like Configuration Manager's (chat-gateway.md §7.6): one record per
//! outbound delivery attempt (8x8 → webhook) and per inbound API call (client → 8x8),
//! with status, record type, retry counter and duration. Tests read it through the
//! control API to assert on retries, headers and what the client sent.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LogRecord {
    pub seq: u64,
    /// `outbound` (a webhook delivery) or `inbound` (an API call).
    pub direction: String,
    /// `delivered`, `failed` (non-2xx), `error` (timeout/connection), `dropped`
    /// (fault injection), `undeliverable` (no webhook) for outbound; `ok`/`error` inbound.
    pub status: String,
    pub status_code: Option<u16>,
    /// The event type (outbound) or `METHOD path` (inbound).
    pub record_type: String,
    pub event_id: Option<String>,
    pub retry: u32,
    pub duration_ms: u64,
    pub timestamp: u64,
    pub tenant_id: Option<String>,
    pub webhook_id: Option<String>,
    pub channel_id: Option<String>,
    pub conversation_id: Option<String>,
    pub interaction_id: Option<String>,
    pub url: String,
    pub request_headers: BTreeMap<String, String>,
    pub request_body: String,
    pub response_body: Option<String>,
    pub error: Option<String>,
    /// The injected fault that shaped this record, if any.
    pub fault: Option<String>,
}

#[derive(Debug, Default)]
pub struct EventLog {
    inner: Mutex<(u64, Vec<LogRecord>)>,
}

/// Old records are dropped beyond this many, so a long-running sandbox stays small.
const MAX_RECORDS: usize = 10_000;

impl EventLog {
    pub fn push(&self, mut record: LogRecord) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.0 += 1;
        record.seq = g.0;
        g.1.push(record);
        if g.1.len() > MAX_RECORDS {
            let excess = g.1.len() - MAX_RECORDS;
            g.1.drain(..excess);
        }
    }

    pub fn records(&self) -> Vec<LogRecord> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clone()
    }

    pub fn clear(&self) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clear();
    }
}
