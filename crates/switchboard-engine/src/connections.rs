//! What the engine needs from the 8x8 side besides the outbox, answered by whoever runs
//! it. Which 8x8 that is (the embedded sandbox or the configured tenant, with the key
//! from the keychain) is the relay's business, decided per use; the engine never learns
//! about listeners, keychains or the sandbox, and a test hands it a fixed answer.

use futures_util::future::BoxFuture;
use switchboard_settings::{Role, Settings};
use switchboard_store::Conversation;
use switchboard_types::contact_center::{QueueFigures, ScheduleState};

pub trait Connections: Send + Sync {
    /// The channel and queue a handover goes to: the settings', or the sandbox's while
    /// the handover role is on the sandbox and the settings name none.
    fn handover_route(&self, settings: &Settings) -> (Option<String>, Option<String>);

    /// The id of this relay's webhook in the 8x8 the handover role talks to, when it is
    /// registered and points here: what a handback (post-agent assignment) names.
    fn handback_webhook(&self) -> BoxFuture<'_, Option<String>>;

    /// Shows `author` (`bot` or `user`) typing in 8x8's conversation, once, through the
    /// role's connection. A transient hint: sent directly rather than through the outbox
    /// (a late indicator is wrong, a lost one harmless), so it reports nothing back.
    fn typing<'a>(
        &'a self,
        role: Role,
        conversation_id: &'a str,
        author: &'a str,
    ) -> BoxFuture<'a, ()>;

    /// The queue's real-time figures from the handover role's 8x8 (cached a few
    /// seconds), or why they cannot be read, in words for the transcript.
    fn queue_figures<'a>(
        &'a self,
        queue_id: &'a str,
    ) -> BoxFuture<'a, Result<QueueFigures, String>>;

    /// The schedule's state now from the handover role's 8x8 (cached a few seconds), or
    /// why it cannot be read.
    fn schedule_state<'a>(
        &'a self,
        schedule_id: &'a str,
    ) -> BoxFuture<'a, Result<ScheduleState, String>>;

    /// The agent's Copilot link for this conversation (opening its session, or reusing
    /// the one it has), or none when the Copilot is off or the session cannot be stored.
    /// The handover puts it in `user.additionalProperties` under the settings' label.
    fn copilot_link<'a>(&'a self, conversation: &'a Conversation) -> BoxFuture<'a, Option<String>>;
}
