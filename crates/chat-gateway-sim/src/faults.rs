//! Faults a test (or a person) can switch on at run time, to see how the relay copes
//! with a misbehaving 8x8: API errors and latency, and webhook deliveries that are
//! dropped, duplicated, reordered, unsigned or mis-signed.
//!
//! `…Next` counters fail the next N occurrences (deterministic, for tests); `…Rate`
//! fails a random share (for trying things by hand).

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::errors::ApiError;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Faults {
    /// Added before every API call is handled.
    pub api_latency_ms: u64,
    pub api_fail_next: u32,
    pub api_fail_rate: f64,
    /// 429 (with `Retry-After`) or a 5xx; 0 means 429.
    pub api_fail_status: u16,
    pub retry_after_secs: u64,
    /// Added before every webhook delivery attempt.
    pub webhook_latency_ms: u64,
    pub drop_next: u32,
    pub drop_rate: f64,
    pub duplicate_next: u32,
    pub duplicate_rate: f64,
    /// Holds the next event back and delivers it after the one that follows it.
    pub reorder_next: u32,
    pub unsigned_next: u32,
    pub unsigned_rate: f64,
    pub bad_signature_next: u32,
    pub bad_signature_rate: f64,
    /// Added before each contact-center statistics call (`/cc/v1/stats/rt/...`); longer
    /// than the client's timeout, it is a timeout.
    pub stats_latency_ms: u64,
    pub stats_fail_next: u32,
    pub stats_fail_rate: f64,
    /// The status of a failed statistics call; 0 means 500.
    pub stats_fail_status: u16,
    /// The same for the schedule calls (`/cc/v1/schedules...`).
    pub schedule_latency_ms: u64,
    pub schedule_fail_next: u32,
    pub schedule_fail_rate: f64,
    pub schedule_fail_status: u16,
}

/// Some fields of [`Faults`], for `PATCH /sim/faults`: the fields given replace the
/// current ones and the others stay (`None` fields are not sent).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct FaultsPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_latency_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_fail_next: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_fail_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_fail_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_latency_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drop_next: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drop_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_next: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reorder_next: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsigned_next: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsigned_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bad_signature_next: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bad_signature_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats_latency_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats_fail_next: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats_fail_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats_fail_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_latency_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_fail_next: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_fail_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_fail_status: Option<u16>,
}

/// A patch that sets every field. Destructuring `Faults` here keeps the two field lists
/// in step: a field added to one and not the other does not compile.
impl From<Faults> for FaultsPatch {
    fn from(f: Faults) -> Self {
        let Faults {
            api_latency_ms,
            api_fail_next,
            api_fail_rate,
            api_fail_status,
            retry_after_secs,
            webhook_latency_ms,
            drop_next,
            drop_rate,
            duplicate_next,
            duplicate_rate,
            reorder_next,
            unsigned_next,
            unsigned_rate,
            bad_signature_next,
            bad_signature_rate,
            stats_latency_ms,
            stats_fail_next,
            stats_fail_rate,
            stats_fail_status,
            schedule_latency_ms,
            schedule_fail_next,
            schedule_fail_rate,
            schedule_fail_status,
        } = f;
        Self {
            api_latency_ms: Some(api_latency_ms),
            api_fail_next: Some(api_fail_next),
            api_fail_rate: Some(api_fail_rate),
            api_fail_status: Some(api_fail_status),
            retry_after_secs: Some(retry_after_secs),
            webhook_latency_ms: Some(webhook_latency_ms),
            drop_next: Some(drop_next),
            drop_rate: Some(drop_rate),
            duplicate_next: Some(duplicate_next),
            duplicate_rate: Some(duplicate_rate),
            reorder_next: Some(reorder_next),
            unsigned_next: Some(unsigned_next),
            unsigned_rate: Some(unsigned_rate),
            bad_signature_next: Some(bad_signature_next),
            bad_signature_rate: Some(bad_signature_rate),
            stats_latency_ms: Some(stats_latency_ms),
            stats_fail_next: Some(stats_fail_next),
            stats_fail_rate: Some(stats_fail_rate),
            stats_fail_status: Some(stats_fail_status),
            schedule_latency_ms: Some(schedule_latency_ms),
            schedule_fail_next: Some(schedule_fail_next),
            schedule_fail_rate: Some(schedule_fail_rate),
            schedule_fail_status: Some(schedule_fail_status),
        }
    }
}

/// The webhook faults that can hit one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryFault {
    Drop,
    Duplicate,
    Reorder,
    Unsigned,
    BadSignature,
}

/// The two families of contact-center routes, each with its own faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CcRoute {
    /// `/cc/v1/stats/rt/...`
    Stats,
    /// `/cc/v1/schedules...`
    Schedules,
}

impl Faults {
    pub fn cc_latency_ms(&self, route: CcRoute) -> u64 {
        match route {
            CcRoute::Stats => self.stats_latency_ms,
            CcRoute::Schedules => self.schedule_latency_ms,
        }
    }

    /// Consumes a contact-center fault for `route`, if one is due.
    pub fn take_cc(&mut self, route: CcRoute) -> Option<ApiError> {
        let (next, rate, status) = match route {
            CcRoute::Stats => (
                &mut self.stats_fail_next,
                self.stats_fail_rate,
                self.stats_fail_status,
            ),
            CcRoute::Schedules => (
                &mut self.schedule_fail_next,
                self.schedule_fail_rate,
                self.schedule_fail_status,
            ),
        };
        if !take(next, rate) {
            return None;
        }
        Some(match status {
            0 => ApiError::Injected(500),
            429 => ApiError::TooManyRequests {
                retry_after_secs: self.retry_after_secs.max(1),
            },
            s => ApiError::Injected(s),
        })
    }

    /// Consumes an API fault, if one is due.
    pub fn take_api(&mut self) -> Option<ApiError> {
        if !take(&mut self.api_fail_next, self.api_fail_rate) {
            return None;
        }
        Some(match self.api_fail_status {
            0 | 429 => ApiError::TooManyRequests {
                retry_after_secs: self.retry_after_secs.max(1),
            },
            s => ApiError::Injected(s),
        })
    }

    /// Consumes a delivery fault of `kind`, if one is due.
    pub fn take(&mut self, kind: DeliveryFault) -> bool {
        match kind {
            DeliveryFault::Drop => take(&mut self.drop_next, self.drop_rate),
            DeliveryFault::Duplicate => take(&mut self.duplicate_next, self.duplicate_rate),
            DeliveryFault::Reorder => take(&mut self.reorder_next, 0.0),
            DeliveryFault::Unsigned => take(&mut self.unsigned_next, self.unsigned_rate),
            DeliveryFault::BadSignature => {
                take(&mut self.bad_signature_next, self.bad_signature_rate)
            }
        }
    }
}

fn take(next: &mut u32, rate: f64) -> bool {
    if *next > 0 {
        *next -= 1;
        return true;
    }
    rate > 0.0 && rand::thread_rng().gen_bool(rate.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_patch_names_the_same_fields_as_faults() {
        let full = serde_json::to_value(FaultsPatch::from(Faults::default())).unwrap();
        let faults = serde_json::to_value(Faults::default()).unwrap();
        assert_eq!(full, faults);
        assert_eq!(
            serde_json::to_value(FaultsPatch::default()).unwrap(),
            serde_json::json!({})
        );
    }
}
