//! The summary tile: what the customer wanted, the rules that answered, why the bot
//! handed over, what the customer wrote that an agent looks up, and the time with the bot
//! and in the queue. Everything is taken from the transcript and the conversation;
//! nothing is made up.

use std::collections::HashSet;

use phonenumber::country;
use switchboard_store::{Conversation, Entry};
use switchboard_types::Lane;

use crate::entities;
use crate::flow_answers::FlowAnswers;
use crate::search::cut;
use crate::types::{WorkspaceEntity, WorkspaceSummary};

/// The note the engine writes when it hands over (crates/switchboard-engine/src/handover.rs).
const HANDOVER_NOTE: &str = "Handover to queue ";
/// "What the customer wanted" is cut here, at a word.
pub const MAX_WANTED_CHARS: usize = 300;

pub(crate) fn summarise(
    transcript: &[Entry],
    conv: &Conversation,
    flow: Option<&FlowAnswers>,
    region: Option<country::Id>,
    now_ms: i64,
) -> WorkspaceSummary {
    let handover_at = transcript
        .iter()
        .rposition(|e| e.lane == Lane::System && e.text.starts_with(HANDOVER_NOTE));
    let handover_reason = handover_at.and_then(|i| {
        let text = &transcript[i].text;
        let (_, reason) = text.split_once(": ")?;
        let reason = reason.trim().trim_end_matches('.').trim();
        (!reason.is_empty()).then(|| reason.to_string())
    });
    let rules_hit = transcript
        .iter()
        .filter(|e| e.lane == Lane::Bot)
        .filter_map(|e| e.payload["rule"].as_str().map(str::to_string))
        .collect();
    let mut seen = HashSet::new();
    let entities = transcript
        .iter()
        .filter(|e| e.lane == Lane::User)
        .flat_map(|e| {
            entities::find(&e.text, region)
                .into_iter()
                .map(move |f| WorkspaceEntity {
                    kind: f.kind,
                    value: f.value,
                    line_at_ms: e.at_ms,
                })
        })
        .filter(|f| seen.insert((f.kind, f.value.to_lowercase())))
        .collect();
    let first_at = transcript.first().map(|e| e.at_ms);
    // With the bot until the handover; while still with it, until now (or its end).
    let bot_until = handover_at
        .map(|i| transcript[i].at_ms)
        .or(conv.queued_at_ms)
        .or(conv.ended_at_ms)
        .unwrap_or(now_ms);
    let bot_seconds = first_at.map(|from| seconds(from, bot_until));
    let queue_seconds = conv.queued_at_ms.map(|from| {
        let until = conv
            .agent_joined_at_ms
            .or(conv.ended_at_ms)
            .unwrap_or(now_ms);
        seconds(from, until)
    });
    WorkspaceSummary {
        wanted: wanted(transcript, handover_at, flow, region),
        rules_hit,
        handover_reason,
        entities,
        bot_seconds,
        queue_seconds,
        model_written: false,
    }
}

fn seconds(from_ms: i64, until_ms: i64) -> u64 {
    u64::try_from(until_ms.saturating_sub(from_ms)).unwrap_or(0) / 1000
}

/// The customer's first substantive message: three words or more, or one naming an
/// order, an invoice, an amount…; not a tapped quick reply, not a request for a person.
/// Failing that, the first such message after the handover; then the last thing they
/// wrote before the handover; then the first.
fn wanted(
    transcript: &[Entry],
    handover_at: Option<usize>,
    flow: Option<&FlowAnswers>,
    region: Option<country::Id>,
) -> Option<String> {
    let before = &transcript[..handover_at.unwrap_or(transcript.len())];
    let said: Vec<&Entry> = before
        .iter()
        .filter(|e| e.lane == Lane::User && !e.text.trim().is_empty())
        .collect();
    let substantive = |e: &&&Entry| {
        let text = e.text.trim();
        e.payload.get("quickReply").is_none()
            && !flow.is_some_and(|f| f.asks_for_agent(text))
            && (text.split_whitespace().count() >= 3 || !entities::find(text, region).is_empty())
    };
    // What they wrote after the handover (to the agent) says it better than a tapped
    // "Talk to a person" when nothing before it did.
    let after: Vec<&Entry> = transcript[before.len()..]
        .iter()
        .filter(|e| e.lane == Lane::User && !e.text.trim().is_empty())
        .collect();
    let pick = said
        .iter()
        .find(substantive)
        .or_else(|| after.iter().find(substantive))
        .or(said.last())
        .copied()
        .or_else(|| {
            transcript
                .iter()
                .find(|e| e.lane == Lane::User && !e.text.trim().is_empty())
        })?;
    let text = pick.text.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(cut(&text, MAX_WANTED_CHARS))
}
