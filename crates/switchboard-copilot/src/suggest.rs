//! Next best answer: the flow's answers ranked against what the customer said last. A
//! rule whose keywords or regex match the message comes first (in the flow's order, as
//! the bot would pick it), then answers sharing words with it (BM25 over the rule's name,
//! keywords and reply). A last message asking for a person is no question to answer:
//! the one before it is used.

use switchboard_store::Entry;
use switchboard_types::Lane;

use crate::flow_answers::FlowAnswers;
use crate::search::round3;
use crate::types::Suggestion;

/// How many answers the tile offers.
pub const MAX_SUGGESTIONS: usize = 3;
/// Where a matching rule's score starts, above every word-overlap-only answer.
const MATCH_BONUS: f64 = 100.0;

pub(crate) fn next_best_answers(
    flow: &FlowAnswers,
    transcript: &[Entry],
    language: Option<&str>,
) -> Vec<Suggestion> {
    let mut said = transcript
        .iter()
        .rev()
        .filter(|e| e.lane == Lane::User && !e.text.trim().is_empty());
    let Some(last) = said.next() else {
        return Vec::new();
    };
    let text = if flow.asks_for_agent(&last.text) {
        match said.find(|e| !flow.asks_for_agent(&e.text)) {
            Some(e) => e.text.as_str(),
            None => return Vec::new(),
        }
    } else {
        last.text.as_str()
    };
    rank(flow, text, language)
}

/// The flow's answers for one message in `language`, best first, at most
/// [`MAX_SUGGESTIONS`].
pub fn rank(flow: &FlowAnswers, text: &str, language: Option<&str>) -> Vec<Suggestion> {
    let words = flow.scores(text, language);
    let n = flow.answers().len().max(1) as f64;
    let mut ranked: Vec<(usize, f64)> = flow
        .answers()
        .iter()
        .zip(words)
        .enumerate()
        .map(|(i, (a, w))| {
            // Matching rules in the flow's order (the bot answers with the first), the
            // shared words only breaking no tie between them: one point per position,
            // the words adding less than one. Then the rest by their words alone.
            let score = if a.matches(text) {
                MATCH_BONUS + (n - i as f64) + w / (1.0 + w)
            } else {
                w.min(MATCH_BONUS - 1.0)
            };
            (i, score)
        })
        .filter(|(_, s)| *s > 0.0)
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(i, score)| {
            let a = &flow.answers()[i];
            Suggestion {
                title: a.title.clone(),
                text: a.reply.clone(),
                score: round3(score),
                source: a.source.clone(),
                model_written: false,
            }
        })
        .collect()
}
