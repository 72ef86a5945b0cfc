//! What the handover checks in the contact center before it hands a conversation over,
//! and what it tells the customer while they wait (docs/contact-center.md). One shape for
//! the Handover settings form (JSON, camelCase) and for the flow's `handover.contact_center`
//! block (YAML, snake_case), which replaces the form's block when the flow has one.
//!
//! Every part is optional: `None` (or an empty message, or 0 seconds) is off, so a
//! settings file from before these existed hands over exactly as it did.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct ContactCenterChecks {
    /// Hand over only while 8x8's schedule is open.
    pub opening_hours: Option<OpeningHours>,
    /// Hand over only when the queue has agents in the chosen states.
    pub availability: Option<Availability>,
    /// Ask before handing over into a long queue.
    pub queue_limit: Option<QueueLimit>,
    /// What a check does when 8x8 cannot answer it.
    pub on_error: OnCheckError,
    /// Tell the waiting customer the queue's figures every this many seconds; 0 is off.
    pub queue_update_seconds: u32,
    /// The queue update; `{waiting}` and `{typical_wait}` are filled in.
    pub queue_update_message: String,
    /// Typed while queued (whole message, any letter case), ends the wait and gives the
    /// conversation back to the bot; empty is off. The queued message also offers it as a
    /// quick reply.
    pub cancel_word: String,
    /// What the customer is told at each step; an empty text is silent.
    pub status: StatusMessages,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct OpeningHours {
    /// 8x8's schedule id (`GET /cc/v1/schedules`).
    pub schedule_id: String,
    /// Custom choices that count as closed too, e.g. `Choice #2`.
    pub closed_choices: Vec<String>,
    /// Said instead of handing over while closed; the bot carries on.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct Availability {
    /// No agent in these states means nobody can take the chat.
    pub states: AgentStates,
    /// Said when nobody can.
    pub message: String,
    /// Offer to wait anyway (quick replies: wait / keep talking to the bot).
    pub offer_wait: bool,
}

/// Which agents count as able to take a chat, in the same steps as Cognigy's "test
/// condition of queue" node (docs/contact-center.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum AgentStates {
    /// Available (waiting for an interaction).
    #[default]
    Available,
    /// Available or busy.
    AvailableOrBusy,
    /// Available, busy or working offline.
    AvailableBusyOrOffline,
    /// Available, busy, working offline or on break.
    AvailableBusyOfflineOrBreak,
    /// Logged in at all.
    LoggedIn,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct QueueLimit {
    /// More than this many waiting is too long; `None` does not look at it.
    pub max_waiting: Option<u32>,
    /// Someone waiting longer than this many seconds is too long; `None` does not look.
    pub max_longest_wait_seconds: Option<u32>,
    /// Said with the choice to wait or keep talking to the bot; `{waiting}` and
    /// `{longest_wait}` are filled in.
    pub message: String,
}

/// When 8x8's statistics or schedule cannot be read: never a stuck conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum OnCheckError {
    /// Hand over as if the check had passed.
    #[default]
    HandOver,
    /// Treat it as closed: say the out-of-hours message (or the availability message)
    /// and carry on with the bot.
    TreatAsClosed,
}

/// What the customer is told; `{agent}` is the agent's display name (or "An agent").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct StatusMessages {
    pub queued: String,
    pub agent_joined: String,
    pub transferred: String,
    pub agent_left: String,
    pub ended: String,
    pub cancelled: String,
}

impl Default for ContactCenterChecks {
    fn default() -> Self {
        Self {
            opening_hours: None,
            availability: None,
            queue_limit: None,
            on_error: OnCheckError::HandOver,
            queue_update_seconds: 0,
            queue_update_message: "{waiting} waiting in this queue; its typical wait is {typical_wait}. Thank you for your patience.".into(),
            cancel_word: String::new(),
            status: StatusMessages::default(),
        }
    }
}

impl Default for OpeningHours {
    fn default() -> Self {
        Self {
            schedule_id: String::new(),
            closed_choices: Vec::new(),
            message: "We are closed right now. I can still help with many questions.".into(),
        }
    }
}

impl Default for Availability {
    fn default() -> Self {
        Self {
            states: AgentStates::Available,
            message: "No agent is available right now.".into(),
            offer_wait: true,
        }
    }
}

impl Default for QueueLimit {
    fn default() -> Self {
        Self {
            max_waiting: None,
            max_longest_wait_seconds: None,
            message: "Our agents are busy: {waiting} waiting, the longest for {longest_wait}. Would you like to wait, or keep talking to me?".into(),
        }
    }
}

/// Silent by default where the channel already shows the step, so a settings file from
/// before these existed says nothing new.
impl Default for StatusMessages {
    fn default() -> Self {
        Self {
            queued: String::new(),
            agent_joined: String::new(),
            transferred: String::new(),
            agent_left: String::new(),
            ended: String::new(),
            cancelled: "You left the queue. I'm here to help again.".into(),
        }
    }
}

/// A queue's figures as a check reads them: 8x8's real-time statistics, reduced to what a
/// handover decides on (docs/contact-center.md §1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QueueFigures {
    pub queue_id: String,
    pub queue_name: Option<String>,
    /// Interactions waiting now (the whole queue; 8x8 gives no per-conversation position).
    pub waiting: u32,
    /// Seconds the longest-waiting interaction has waited.
    pub longest_wait_seconds: u32,
    /// The 30-minute average wait, seconds: the queue's typical wait.
    pub average_wait_seconds: u32,
    pub agents_available: u32,
    pub agents_busy: u32,
    pub agents_working_offline: u32,
    pub agents_on_break: u32,
    pub agents_logged_out: u32,
    pub agents_wrap_up: u32,
}

impl QueueFigures {
    /// Agents counted by `states`, summed the way Cognigy's node does.
    pub fn agents_in(&self, states: AgentStates) -> u32 {
        let mut n = self.agents_available;
        if states == AgentStates::Available {
            return n;
        }
        n += self.agents_busy;
        if states == AgentStates::AvailableOrBusy {
            return n;
        }
        n += self.agents_working_offline;
        if states == AgentStates::AvailableBusyOrOffline {
            return n;
        }
        n += self.agents_on_break;
        if states == AgentStates::AvailableBusyOfflineOrBreak {
            return n;
        }
        n + self.agents_wrap_up
    }
}

/// A schedule's state now (`GET /cc/v1/schedules/{id}/status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", tag = "kind", content = "choice")]
pub enum ScheduleState {
    Open,
    Closed,
    /// A custom choice, as 8x8 names it (`Choice #1` … `Choice #6`).
    Choice(String),
}

impl ScheduleState {
    pub fn label(&self) -> &str {
        match self {
            ScheduleState::Open => "Open",
            ScheduleState::Closed => "Closed",
            ScheduleState::Choice(c) => c,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_are_summed_in_the_nodes_steps() {
        let f = QueueFigures {
            agents_available: 1,
            agents_busy: 2,
            agents_working_offline: 4,
            agents_on_break: 8,
            agents_wrap_up: 16,
            agents_logged_out: 32,
            ..QueueFigures::default()
        };
        assert_eq!(f.agents_in(AgentStates::Available), 1);
        assert_eq!(f.agents_in(AgentStates::AvailableOrBusy), 3);
        assert_eq!(f.agents_in(AgentStates::AvailableBusyOrOffline), 7);
        assert_eq!(f.agents_in(AgentStates::AvailableBusyOfflineOrBreak), 15);
        // Logged in: everyone but the logged-out ones.
        assert_eq!(f.agents_in(AgentStates::LoggedIn), 31);
    }

    #[test]
    fn a_settings_file_without_the_block_hands_over_as_before() {
        let c: ContactCenterChecks = serde_json::from_str("{}").unwrap();
        assert_eq!(c.opening_hours, None);
        assert_eq!(c.availability, None);
        assert_eq!(c.queue_limit, None);
        assert_eq!(c.queue_update_seconds, 0);
        assert!(c.status.queued.is_empty());
    }
}
