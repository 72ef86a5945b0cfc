//! Who handled a conversation on the agent side, and how each agent's part ended.
//!
//! 8x8 closes the chat on an agent's screen when that agent transfers or ends it, or when
//! the customer leaves: "agent left" means the agent stopped handling it (chat-gateway.md
//! §5.4, §6.3, §6.4). An agent who is no longer the conversation's agent therefore cannot
//! post into it, type in it, transfer or end it; the emulator refuses such an action when
//! the caller says which agent it acts as. The sessions are kept so that the agent side
//! of the control API can say what happened and when (the agent console's notes).

use serde::{Deserialize, Serialize};

use crate::engine::EngineError;
use crate::store::Conversation;

/// How an agent's part in a conversation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SessionEnd {
    /// The agent transferred it to another queue.
    Transfer,
    /// The agent ended it.
    End,
    /// The customer (or the relay for them) left.
    UserLeft,
    /// The bot side re-assigned it through the API while the agent had it.
    Reassigned,
}

/// One agent's part in a conversation, from joining to leaving.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentSession {
    pub agent_id: String,
    /// A scripted mock agent (a queue's script) rather than a person.
    pub scripted: bool,
    pub joined_at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_by: Option<SessionEnd>,
    /// The queue a transfer sent the conversation to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_queue_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_queue_name: Option<String>,
}

impl Conversation {
    /// The agent who just accepted starts a session.
    pub(crate) fn open_session(&mut self, agent_id: &str, scripted: bool, now: u64) {
        self.agent_sessions.push(AgentSession {
            agent_id: agent_id.into(),
            scripted,
            joined_at_ms: now,
            left_at_ms: None,
            ended_by: None,
            to_queue_id: None,
            to_queue_name: None,
        });
    }

    /// Closes the open session of `agent_id`, saying how it ended.
    pub(crate) fn close_session(
        &mut self,
        agent_id: &str,
        how: SessionEnd,
        to_queue: Option<(&str, &str)>,
        now: u64,
    ) {
        if let Some(s) = self
            .agent_sessions
            .iter_mut()
            .rev()
            .find(|s| s.agent_id == agent_id && s.left_at_ms.is_none())
        {
            s.left_at_ms = Some(now);
            s.ended_by = Some(how);
            s.to_queue_id = to_queue.map(|(id, _)| id.to_string());
            s.to_queue_name = to_queue.map(|(_, name)| name.to_string());
        }
    }

    /// The agent an agent-side action acts as: the conversation's agent, who must be
    /// `claimed` when the caller names one.
    pub(crate) fn acting_agent(&self, claimed: Option<&str>) -> Result<String, EngineError> {
        let Some(agent) = self.agent.clone() else {
            return Err(match claimed {
                Some(a) => EngineError::NotTheAgent {
                    conversation: self.id.clone(),
                    agent: a.into(),
                },
                None => EngineError::NoAgent(self.id.clone()),
            });
        };
        match claimed {
            Some(a) if a != agent => Err(EngineError::NotTheAgent {
                conversation: self.id.clone(),
                agent: a.into(),
            }),
            _ => Ok(agent),
        }
    }
}
