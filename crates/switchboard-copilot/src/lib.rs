//! The 8x8 agent's Copilot workspace for one conversation: what the agent sees, built
//! from the conversation, its transcript, the handover request sent to 8x8 and the bot's
//! flow. Pure logic — the relay serves it ([`Workspace`] is the page's JSON) and calls
//! [`build_workspace`] again whenever the transcript changes.

mod types;

pub use types::*;
