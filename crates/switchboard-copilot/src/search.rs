//! Knowledge search: the agent's query over the flow's answers and the knowledge file,
//! one BM25 ranking over both so that their scores compare.

use crate::bm25::{scores_across, Index, StopWords};
use crate::flow_answers::FlowAnswers;
use crate::knowledge::Knowledge;
use crate::types::KnowledgeHit;

/// The most hits one search returns.
pub const MAX_HITS: usize = 50;
/// A hit's text is cut here (at a word) so that one long section does not fill the page.
pub const MAX_HIT_CHARS: usize = 2_000;

/// The best `limit` hits (at most [`MAX_HITS`]) with a score above zero, best first; a
/// tie keeps the flow's answers first, then the file's order. `language` (the
/// conversation's, e.g. "de-DE") picks the stop words left out of the query; English
/// when none is given or it has no list.
pub fn search_knowledge(
    knowledge: &Knowledge,
    flow: Option<&FlowAnswers>,
    query: &str,
    language: Option<&str>,
    limit: usize,
) -> Vec<KnowledgeHit> {
    let limit = limit.min(MAX_HITS);
    if limit == 0 || query.trim().is_empty() {
        return Vec::new();
    }
    let answers = flow.map(FlowAnswers::answers).unwrap_or_default();
    let empty = Index::default();
    let scores = scores_across(
        &[flow.map_or(&empty, FlowAnswers::index), knowledge.index()],
        query,
        StopWords::for_language(language),
    );
    // (collection, document, score): the flow's answers first on a tie, then the file's order.
    let mut ranked: Vec<(usize, usize, f64)> = scores
        .iter()
        .enumerate()
        .flat_map(|(c, s)| s.iter().enumerate().map(move |(d, &x)| (c, d, x)))
        .filter(|(_, _, s)| *s > 0.0)
        .collect();
    ranked.sort_by(|a, b| b.2.total_cmp(&a.2).then((a.0, a.1).cmp(&(b.0, b.1))));
    ranked
        .into_iter()
        .take(limit)
        .map(|(c, d, score)| {
            let (title, text, source) = if c == 0 {
                let a = &answers[d];
                (&a.title, &a.reply, &a.source)
            } else {
                let k = &knowledge.docs()[d];
                (&k.title, &k.text, &k.source)
            };
            KnowledgeHit {
                title: title.clone(),
                text: cut(text, MAX_HIT_CHARS),
                source: source.clone(),
                score: round3(score),
            }
        })
        .collect()
}

/// `text` cut to at most `max` characters at a word boundary, with "…" when cut.
pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut end = text.char_indices().nth(max).map_or(text.len(), |(i, _)| i);
    if let Some(space) = text[..end].rfind(char::is_whitespace) {
        if space > end / 2 {
            end = space;
        }
    }
    format!("{}…", text[..end].trim_end())
}

pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
