//! When a conversation *enters* the handover. The relay publishes `ConversationChanged`
//! on every save of a conversation (a message, a typing agent, a queue report …), so the
//! phase alone would notify again and again; what counts is the move from the bot (or
//! from the end) to the agent side, remembered per conversation.

use std::collections::HashMap;

use switchboard_engine::Conversation;

/// More conversations than this are remembered only while they are with an agent: the
/// others are forgotten, which costs at most one check of their stored row later.
const REMEMBER: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entered {
    /// No news: not a handover phase, or already on the agent side when last seen.
    No,
    /// From a phase seen here with the bot, or ended, to the handover.
    Yes,
    /// In a handover phase and never seen before: it may have entered it before the app
    /// started, which [`new_since`] tells from the stored conversation.
    Unseen,
}

#[derive(Default)]
pub struct Transitions {
    last: HashMap<String, &'static str>,
}

/// The bot asked for an agent, or 8x8 queued the conversation.
fn is_handover(phase: &str) -> bool {
    matches!(phase, "handover" | "queued")
}

/// An agent has the conversation or is being found: a move between these (queued, then an
/// agent, a transfer to another queue) is no new handover.
fn agent_side(phase: &str) -> bool {
    matches!(phase, "handover" | "queued" | "agent" | "transferred")
}

impl Transitions {
    /// Records the phase a conversation was saved with and says whether it just entered
    /// the handover.
    pub fn observe(&mut self, id: &str, phase: &'static str) -> Entered {
        let before = self.last.insert(id.to_string(), phase);
        if self.last.len() > REMEMBER {
            self.last.retain(|_, p| agent_side(p));
        }
        match before {
            _ if !is_handover(phase) => Entered::No,
            Some(before) if agent_side(before) => Entered::No,
            Some(_) => Entered::Yes,
            None => Entered::Unseen,
        }
    }
}

/// For a conversation first seen in a handover phase: whether that handover began in
/// this run (`started_ms` is when the app began watching). One that 8x8 had queued
/// before then was handed over before; one created since, or never queued yet, is new.
pub fn new_since(conv: &Conversation, started_ms: i64) -> bool {
    conv.created_at_ms >= started_ms || conv.queued_at_ms.is_none_or(|q| q >= started_ms)
}

#[cfg(test)]
mod tests {
    use switchboard_engine::{Conversation, Mode};

    use super::*;

    #[test]
    fn a_handover_is_reported_once_however_often_the_conversation_is_saved() {
        let mut t = Transitions::default();
        assert_eq!(t.observe("c1", "bot"), Entered::No);
        assert_eq!(t.observe("c1", "bot"), Entered::No);
        assert_eq!(t.observe("c1", "handover"), Entered::Yes);
        assert_eq!(t.observe("c1", "handover"), Entered::No);
        assert_eq!(t.observe("c1", "queued"), Entered::No);
        assert_eq!(t.observe("c1", "agent"), Entered::No);
        // A transfer goes to another queue: still the same handover.
        assert_eq!(t.observe("c1", "transferred"), Entered::No);
        assert_eq!(t.observe("c1", "queued"), Entered::No);
        // The agent leaves, the bot resumes, the user asks for a person again.
        assert_eq!(t.observe("c1", "bot"), Entered::No);
        assert_eq!(t.observe("c1", "handover"), Entered::Yes);
        // A closed conversation that 8x8 re-opens to the queue.
        assert_eq!(t.observe("c1", "ended"), Entered::No);
        assert_eq!(t.observe("c1", "queued"), Entered::Yes);
    }

    #[test]
    fn conversations_are_told_apart() {
        let mut t = Transitions::default();
        t.observe("a", "bot");
        t.observe("b", "bot");
        assert_eq!(t.observe("a", "handover"), Entered::Yes);
        assert_eq!(t.observe("b", "queued"), Entered::Yes);
        assert_eq!(t.observe("a", "queued"), Entered::No);
        assert_eq!(t.observe("c", "agent"), Entered::No);
        assert_eq!(t.observe("d", "queued"), Entered::Unseen);
        assert_eq!(t.observe("d", "queued"), Entered::No);
    }

    #[test]
    fn memory_is_bounded_but_keeps_conversations_with_an_agent() {
        let mut t = Transitions::default();
        t.observe("waiting", "queued");
        for i in 0..=REMEMBER {
            t.observe(&format!("c{i}"), "bot");
        }
        assert!(t.last.len() <= REMEMBER);
        assert_eq!(t.observe("waiting", "agent"), Entered::No);
        assert_eq!(t.observe("waiting", "queued"), Entered::No);
    }

    #[test]
    fn an_unseen_handover_is_new_unless_8x8_queued_it_before_the_start() {
        let started = 1_000;
        let mut c = Conversation::new("c".into(), Mode::Endpoint, 10);
        c.queued_at_ms = Some(500);
        assert!(!new_since(&c, started), "queued before the start");
        c.queued_at_ms = None;
        assert!(new_since(&c, started), "handed over, not queued yet");
        c.queued_at_ms = Some(1_500);
        assert!(new_since(&c, started), "queued since the start");
        let fresh = Conversation::new("f".into(), Mode::Handover, 2_000);
        assert!(new_since(&fresh, started));
    }
}
