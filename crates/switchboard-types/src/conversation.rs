//! A conversation's vocabulary: how it reached the relay ([`Mode`]), where it is
//! ([`Phase`]), and the transcript's lanes and directions ([`Lane`], [`Direction`]).
//! Stored as their lower-case names (the `as_str` forms), sent to the UI the same way.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// How the conversation reached the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Mode {
    /// 8x8 routed a customer to the bot (the relay is the 8x8 Endpoint).
    Endpoint,
    /// A user talks to the bot here; an agent joins through 8x8 on handover.
    Handover,
}

impl Mode {
    /// `endpoint` or `handover`; `None` for anything else.
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "endpoint" => Some(Mode::Endpoint),
            "handover" => Some(Mode::Handover),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Endpoint => "endpoint",
            Mode::Handover => "handover",
        }
    }
    pub fn parse(s: &str) -> Self {
        if s == "handover" {
            Mode::Handover
        } else {
            Mode::Endpoint
        }
    }
}

/// Where the conversation is, as agents and testers see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Phase {
    Bot,
    /// The bot asked for an agent; 8x8 has not queued it yet.
    Handover,
    Queued,
    Agent,
    Transferred,
    Ended,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Bot => "bot",
            Phase::Handover => "handover",
            Phase::Queued => "queued",
            Phase::Agent => "agent",
            Phase::Transferred => "transferred",
            Phase::Ended => "ended",
        }
    }
    pub fn parse(s: &str) -> Self {
        match s {
            "handover" => Phase::Handover,
            "queued" => Phase::Queued,
            "agent" => Phase::Agent,
            "transferred" => Phase::Transferred,
            "ended" => Phase::Ended,
            _ => Phase::Bot,
        }
    }
    /// An agent side exists (or is being set up) in 8x8.
    pub fn with_8x8_agent_side(self) -> bool {
        matches!(
            self,
            Phase::Handover | Phase::Queued | Phase::Agent | Phase::Transferred
        )
    }
}

/// Who a transcript line is from (or, for `system`, what happened).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Lane {
    User,
    Bot,
    Agent,
    /// Lifecycle facts and relay notes: queued, agent joined, handover failed …
    System,
}

impl Lane {
    pub fn as_str(self) -> &'static str {
        match self {
            Lane::User => "user",
            Lane::Bot => "bot",
            Lane::Agent => "agent",
            Lane::System => "system",
        }
    }

    /// Stored values are this crate's own; anything else reads as a system line rather
    /// than failing the whole transcript.
    pub fn parse(s: &str) -> Self {
        match s {
            "user" => Lane::User,
            "bot" => Lane::Bot,
            "agent" => Lane::Agent,
            _ => Lane::System,
        }
    }

    /// A line the other side of the conversation said (not a system note).
    pub fn is_speech(self) -> bool {
        self != Lane::System
    }
}

/// Which way a transcript line travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Direction {
    /// Came from 8x8 (a webhook event).
    In,
    /// Went to 8x8 (through the outbox; the payload names the outbox entry).
    Out,
    /// Stayed in the relay: the tester's user and the bot before a handover, and the
    /// relay's own notes.
    Local,
    /// Typed by the tester's user while the handover's 8x8 conversation was still being
    /// created: held back, and sent (becoming `Out`) once 8x8 answers the create.
    Pending,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
            Direction::Local => "local",
            Direction::Pending => "pending",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "in" => Direction::In,
            "out" => Direction::Out,
            "pending" => Direction::Pending,
            _ => Direction::Local,
        }
    }
}
