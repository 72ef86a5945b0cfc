//! The outbound calls that change 8x8 state and therefore go through the outbox, as
//! data: stored as JSON in the `outbox` row, executed by the worker.
//!
//! Not in the outbox, on purpose: typing and thinking pulses (a late indicator is wrong,
//! a lost one harmless), attachment uploads (the caller needs the id at once to send the
//! message that refers to it), and the setup helpers' webhook/channel calls (an admin
//! waits for their answer on screen).

use serde::{Deserialize, Serialize};
#[cfg(feature = "http")]
use serde_json::Value;

use crate::types::{
    Assignment, ConversationUser, CreateConversation, PostAgentAssignment, SendMessage,
};
#[cfg(feature = "http")]
use crate::{ChatGatewayClient, ClientError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "operation", rename_all = "camelCase")]
pub enum OutboundCall {
    #[serde(rename_all = "camelCase")]
    SendMessage {
        conversation_id: String,
        message: SendMessage,
    },
    #[serde(rename_all = "camelCase")]
    CreateConversation { request: CreateConversation },
    #[serde(rename_all = "camelCase")]
    PatchAssignment {
        conversation_id: String,
        assignment: Assignment,
        /// User fields changed together with the assignment (8x8 merges them into the
        /// conversation's user), e.g. the agent's Copilot link in `additionalProperties`.
        /// Rows stored before the field existed load without it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<ConversationUser>,
    },
    #[serde(rename_all = "camelCase")]
    UserLeave { conversation_id: String },
    #[serde(rename_all = "camelCase")]
    PostAgentAssignment {
        conversation_id: String,
        request: PostAgentAssignment,
    },
}

impl OutboundCall {
    pub fn operation(&self) -> &'static str {
        match self {
            Self::SendMessage { .. } => "sendMessage",
            Self::CreateConversation { .. } => "createConversation",
            Self::PatchAssignment { .. } => "patchAssignment",
            Self::UserLeave { .. } => "userLeave",
            Self::PostAgentAssignment { .. } => "postAgentAssignment",
        }
    }

    /// The conversation the call belongs to: its natural ordering key. A create has
    /// none yet; its caller picks a key (e.g. the local handover id).
    pub fn conversation_id(&self) -> Option<&str> {
        match self {
            Self::SendMessage {
                conversation_id, ..
            }
            | Self::PatchAssignment {
                conversation_id, ..
            }
            | Self::UserLeave { conversation_id }
            | Self::PostAgentAssignment {
                conversation_id, ..
            } => Some(conversation_id),
            Self::CreateConversation { .. } => None,
        }
    }

    #[cfg(feature = "http")]
    /// Makes the call once; the answer worth keeping (a create's `conversationId`) is
    /// returned as JSON.
    pub async fn execute(&self, client: &ChatGatewayClient) -> Result<Option<Value>, ClientError> {
        match self {
            Self::SendMessage {
                conversation_id,
                message,
            } => client
                .send_message(conversation_id, message)
                .await
                .map(|_| None),
            Self::CreateConversation { request } => {
                let created = client.create_conversation(request).await?;
                Ok(Some(serde_json::to_value(created).unwrap_or(Value::Null)))
            }
            Self::PatchAssignment {
                conversation_id,
                assignment,
                user,
            } => client
                .patch_conversation(conversation_id, assignment, user.as_ref())
                .await
                .map(|c| Some(serde_json::to_value(c).unwrap_or(Value::Null))),
            Self::UserLeave { conversation_id } => {
                client.user_leave(conversation_id).await.map(|_| None)
            }
            Self::PostAgentAssignment {
                conversation_id,
                request,
            } => client
                .post_agent_assignment(conversation_id, request)
                .await
                .map(|_| None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_round_trips() {
        let call = OutboundCall::SendMessage {
            conversation_id: "c1".into(),
            message: SendMessage::text("bot", "hi"),
        };
        let json = serde_json::to_value(&call).unwrap();
        assert_eq!(json["operation"], "sendMessage");
        assert_eq!(json["conversationId"], "c1");
        assert_eq!(json["message"]["authorType"], "bot");
        assert_eq!(serde_json::from_value::<OutboundCall>(json).unwrap(), call);
    }
}
