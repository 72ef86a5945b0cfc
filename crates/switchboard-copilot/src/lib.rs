//! The 8x8 agent's Copilot workspace for one conversation: what the agent sees, built
//! from the conversation, its transcript, the handover request sent to 8x8 and the bot's
//! flow. Pure logic — the relay serves it ([`Workspace`] is the page's JSON) and calls
//! [`build_workspace`] again whenever the transcript changes.

mod bm25;
pub mod entities;
mod flow_answers;
mod knowledge;
mod model;
mod search;
pub mod sentiment;
mod suggest;
mod summary;
mod types;
mod workspace;

pub use flow_answers::{FlowAnswer, FlowAnswers};
pub use knowledge::{Knowledge, KnowledgeDoc, MAX_KNOWLEDGE_BYTES};
pub use model::{
    messages as model_messages, model_summary, model_summary_within, ModelError, MODEL_TIMEOUT,
};
pub use search::{search_knowledge, MAX_HITS};
pub use suggest::{rank as rank_answers, MAX_SUGGESTIONS};
pub use summary::MAX_WANTED_CHARS;
pub use types::*;
pub use workspace::{apply_model, build_workspace, warm_up, WorkspaceInput};
