//! Where an outbox entry (a call bound for 8x8, stored before it is sent) stands.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum OutboxStatus {
    /// Waiting to be sent, or to be sent again after a failed attempt.
    Pending,
    /// Handed to 8x8, answer not yet recorded (after a crash: sent again).
    Sending,
    /// 8x8 accepted it.
    Delivered,
    /// 8x8 refused it for good (a permanent error); never sent again.
    Failed,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Delivered => "delivered",
            OutboxStatus::Failed => "failed",
        }
    }

    /// Stored values are this crate's own; an unknown one reads as pending, so the entry
    /// is looked at again rather than lost.
    pub fn parse(s: &str) -> Self {
        match s {
            "sending" => OutboxStatus::Sending,
            "delivered" => OutboxStatus::Delivered,
            "failed" => OutboxStatus::Failed,
            _ => OutboxStatus::Pending,
        }
    }

    /// Nothing more will happen to the entry.
    pub fn is_final(self) -> bool {
        matches!(self, OutboxStatus::Delivered | OutboxStatus::Failed)
    }
}
