//! [`build_workspace`]: the page for one conversation, from what the relay stores.

use serde_json::Value;
use switchboard_store::{Conversation, Entry};
use switchboard_types::Lane;

use crate::entities;
use crate::flow_answers::FlowAnswers;
use crate::sentiment;
use crate::suggest;
use crate::summary;
use crate::types::*;

/// What the workspace is built from. `flow` is the built-in flow's answers (`None` for an
/// external bot: no rules to name, no answers to suggest).
#[derive(Debug, Clone, Copy)]
pub struct WorkspaceInput<'a> {
    pub conversation: &'a Conversation,
    /// The whole transcript, oldest first, as the store returns it.
    pub transcript: &'a [Entry],
    pub flow: Option<&'a FlowAnswers>,
    pub now_ms: i64,
}

/// Everything the agent's page shows. Cheap enough to call on every transcript change
/// (a 2,000-line transcript takes milliseconds; see the crate's tests).
pub fn build_workspace(input: WorkspaceInput<'_>) -> Workspace {
    let conv = input.conversation;
    let request_user = conv.handover.as_ref().map(|h| &h.request.user);
    let field = |k: &str| {
        conv.user[k]
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let language = field("language").or_else(|| request_user.and_then(|u| u.language.clone()));
    let identity = identity(conv);
    let region = entities::region(language.as_deref(), identity.phone.as_deref());
    let transcript = lines(input.transcript, conv);
    let summary = summary::summarise(input.transcript, conv, input.flow, region, input.now_ms);
    let (sentiment, sentiment_note) = if !sentiment::covers(language.as_deref()) {
        (
            None,
            Some(format!(
                "Sentiment covers English only; this conversation is in {}.",
                language.as_deref().unwrap_or("another language")
            )),
        )
    } else {
        let customer = input
            .transcript
            .iter()
            .filter(|e| e.lane == Lane::User)
            .map(|e| (e.at_ms, e.text.as_str()));
        match sentiment::analyse(customer) {
            Some(s) => (Some(s), None),
            None => (None, Some("No customer message yet.".into())),
        }
    };
    let suggestions = input
        .flow
        .map(|f| suggest::next_best_answers(f, input.transcript, language.as_deref()))
        .unwrap_or_default();
    Workspace {
        conversation: WorkspaceConversation {
            id: conv.id.clone(),
            mode: conv.mode,
            phase: conv.phase,
            channel: field("channel").or_else(|| conv.channel_id.clone()),
            language,
            queue_id: conv.queue_id.clone(),
            queue_name: conv.queue_name.clone(),
            agent_id: conv.agent_id.clone(),
            created_at_ms: conv.created_at_ms,
            queued_at_ms: conv.queued_at_ms,
            agent_joined_at_ms: conv.agent_joined_at_ms,
            ended_at_ms: conv.ended_at_ms,
        },
        identity,
        transcript,
        summary,
        sentiment,
        sentiment_note,
        suggestions,
        model: None,
        generated_at_ms: input.now_ms,
    }
}

/// Loads what the first workspace would otherwise load while an agent waits: VADER's
/// lexicon, the phone-number metadata and the patterns (about 0.1 s in a release build).
/// Call it once at start-up, off the async threads (`spawn_blocking`); calling it again
/// costs nothing.
pub fn warm_up() {
    let _ = sentiment::analyse([(0, "warm")]);
    let _ = entities::find("order 12345, +44 20 7946 0958", None);
}

/// Marks the page as partly written by a language model: its summary beside the one
/// taken from the transcript, and its suggested answers after the flow's.
pub fn apply_model(
    workspace: &mut Workspace,
    model: &str,
    summary: String,
    answers: Vec<String>,
    now_ms: i64,
) {
    let mut parts = Vec::new();
    if !summary.trim().is_empty() {
        parts.push("summary".to_string());
        workspace.summary.model_written = true;
    }
    let answers: Vec<String> = answers
        .into_iter()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect();
    if !answers.is_empty() {
        parts.push("suggestions".to_string());
    }
    for (i, text) in answers.into_iter().enumerate() {
        workspace.suggestions.push(Suggestion {
            title: format!("Suggested answer {}", i + 1),
            text,
            score: 0.0,
            source: format!("language model {model}"),
            model_written: true,
        });
    }
    workspace.model = Some(ModelNote {
        model: model.to_string(),
        summary: summary.trim().to_string(),
        parts,
        written_at_ms: now_ms,
    });
}

/// The customer as 8x8's agent was told: the handover request's user when there is one
/// (handover mode), else what the conversation knows (endpoint mode: 8x8's own data).
fn identity(conv: &Conversation) -> WorkspaceIdentity {
    let field = |k: &str| {
        conv.user[k]
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    match conv.handover.as_ref().map(|h| &h.request.user) {
        Some(u) => WorkspaceIdentity {
            name: u.name.clone(),
            email: u.email.clone(),
            phone: u.phone.clone(),
            user_id: u.user_id.clone(),
            company: u.company.clone(),
            case_id: u.case_id.clone(),
            properties: u.additional_properties.clone(),
        },
        None => WorkspaceIdentity {
            name: field("name"),
            email: field("email"),
            phone: field("phone"),
            user_id: field("userId").or_else(|| field("id")),
            company: field("company"),
            case_id: field("caseId"),
            properties: properties(&conv.user["additionalProperties"]),
        },
    }
}

fn properties(v: &Value) -> Vec<KeyValue> {
    v.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|p| {
                    let key = p["key"].as_str()?.to_string();
                    let value = match &p["value"] {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    Some(KeyValue { key, value })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The transcript as the agent reads it, with the lines sent to 8x8 as the handover's
/// history marked.
fn lines(transcript: &[Entry], conv: &Conversation) -> Vec<WorkspaceLine> {
    let mut out: Vec<WorkspaceLine> = transcript
        .iter()
        .map(|e| WorkspaceLine {
            lane: e.lane,
            text: e.text.clone(),
            at_ms: e.at_ms,
            history: false,
        })
        .collect();
    let history = conv
        .handover
        .as_ref()
        .and_then(|h| h.request.history.as_ref())
        .map(|h| h.messages.as_slice())
        .unwrap_or_default();
    for i in history_lines(transcript, history) {
        out[i].history = true;
    }
    out
}

/// Which transcript lines the history sent to 8x8 was made of. The history is the user
/// and bot lines with text up to the handover (the latest 200); the latest run of such
/// lines that reads the same is it.
fn history_lines(
    transcript: &[Entry],
    history: &[chat_gateway_client::types::SendMessage],
) -> Vec<usize> {
    if history.is_empty() {
        return Vec::new();
    }
    let candidates: Vec<usize> = transcript
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e.lane, Lane::User | Lane::Bot) && !e.text.is_empty())
        .map(|(i, _)| i)
        .collect();
    let n = history.len();
    if candidates.len() < n {
        return Vec::new();
    }
    let same = |i: usize, m: &chat_gateway_client::types::SendMessage| {
        let e = &transcript[i];
        e.lane.as_str() == m.author_type && m.text.as_deref() == Some(e.text.as_str())
    };
    (0..=candidates.len() - n)
        .rev()
        .find(|&start| {
            candidates[start..start + n]
                .iter()
                .zip(history)
                .all(|(&i, m)| same(i, m))
        })
        .map(|start| candidates[start..start + n].to_vec())
        .unwrap_or_default()
}
