//! The Copilot's optional language model, called off the request path: a workspace
//! request never waits for it. The first request after the transcript changed starts one
//! call (per conversation at a time); when it answers, the result is kept for that state
//! of the transcript and the conversation's change is published, so open pages refetch
//! and show the model's part (marked as model-written). Until then, and when it fails, the
//! page shows what the relay computed itself; a failure is logged in words without the
//! key (switchboard-copilot scrubs it).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use crate::relay::RelayState;
use switchboard_copilot::Workspace;
use switchboard_settings::secrets::SecretName;
use switchboard_types::{now_ms, RelayEvent};

/// Conversations whose model answer is remembered; past it the memory starts afresh.
const MAX_REMEMBERED: usize = 1_000;

/// The model's answer for a conversation at a given transcript state (its last line id).
#[derive(Default)]
pub struct ModelAnswers {
    by_conversation: Mutex<HashMap<String, Slot>>,
    http: std::sync::OnceLock<reqwest::Client>,
}

#[derive(Default)]
struct Slot {
    /// The transcript state the last answer was written for.
    answered: Option<(i64, String, Vec<String>)>,
    /// The state a call is running for.
    running: Option<i64>,
    /// The state the last call failed for (not tried again until the transcript moves).
    failed: Option<i64>,
}

impl ModelAnswers {
    /// Adds the latest model answer to `workspace` and starts a new call when the
    /// transcript moved on since. Nothing when the model is off.
    pub fn apply(
        self: &Arc<Self>,
        state: &Arc<RelayState>,
        conversation_id: &str,
        mark: i64,
        workspace: &mut Workspace,
    ) {
        let settings = state.settings();
        let model = &settings.handover.copilot.model;
        if !model.enabled || model.url.trim().is_empty() {
            return;
        }
        let start = {
            let mut all = self
                .by_conversation
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if all.len() > MAX_REMEMBERED && !all.contains_key(conversation_id) {
                all.clear();
            }
            let slot = all.entry(conversation_id.to_string()).or_default();
            if let Some((_, summary, answers)) = &slot.answered {
                switchboard_copilot::apply_model(
                    workspace,
                    &model.model,
                    summary.clone(),
                    answers.clone(),
                    now_ms(),
                );
            }
            let fresh = slot.answered.as_ref().is_some_and(|(m, _, _)| *m == mark);
            let start = !fresh && slot.running.is_none() && slot.failed != Some(mark);
            if start {
                slot.running = Some(mark);
            }
            start
        };
        if start {
            self.spawn_call(
                state.clone(),
                conversation_id.to_string(),
                mark,
                workspace.clone(),
            );
        }
    }

    fn spawn_call(
        self: &Arc<Self>,
        state: Arc<RelayState>,
        conversation_id: String,
        mark: i64,
        workspace: Workspace,
    ) {
        let me = self.clone();
        tokio::spawn(async move {
            let settings = state.settings();
            let model = settings.handover.copilot.model.clone();
            let key = state
                .secrets
                .get(SecretName::CopilotModelApiKey)
                .await
                .ok()
                .flatten();
            let http = me.http.get_or_init(reqwest::Client::new).clone();
            let answer = switchboard_copilot::model_summary(
                &http,
                &model.url,
                &model.model,
                key.as_ref().map(|k| k.expose()),
                &workspace,
            )
            .await;
            let changed = {
                let mut all = me.by_conversation.lock().unwrap_or_else(|p| p.into_inner());
                let slot = all.entry(conversation_id.clone()).or_default();
                slot.running = None;
                match answer {
                    Ok((summary, answers)) => {
                        slot.answered = Some((mark, summary, answers));
                        true
                    }
                    Err(e) => {
                        slot.failed = Some(mark);
                        tracing::warn!(error = %e, "the Copilot's language model failed");
                        false
                    }
                }
            };
            if changed {
                let phase = workspace.conversation.phase.as_str();
                state.bus.publish(RelayEvent::ConversationChanged {
                    conversation_id,
                    phase,
                });
            }
        });
    }
}
