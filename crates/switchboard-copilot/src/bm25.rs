//! Okapi BM25 over a handful to a few thousand short documents (the flow's answers, the
//! knowledge file's sections). Written here rather than taken from a crate: the ones on
//! crates.io bring stemmers, stop-word lists and language detection for one language at
//! a time, while this needs the project's own folding (accents and case, as the
//! conversation search does) and works the same for every language. Tokens of four
//! letters or more also match by prefix at half weight ("refund" finds "refunds",
//! "Rechnung" finds "Rechnungen") — a language-neutral stand-in for stemming.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};

use switchboard_store::search_text::fold;

/// The usual BM25 constants: term-frequency saturation and length normalisation.
const K1: f64 = 1.2;
const B: f64 = 0.75;
/// A prefix match counts this much of an exact one.
const PREFIX_WEIGHT: f64 = 0.5;
/// Shorter tokens match exactly only ("in" must not find "invoice").
const PREFIX_MIN: usize = 4;

/// A language's stop words, folded: left out of queries, so that "is" or "that" does not
/// make a document look relevant. NLTK's lists (the `stop-words` crate); a language it
/// has no list for, or none given, uses English's.
pub struct StopWords(HashSet<String>);

impl StopWords {
    pub fn for_language(language: Option<&str>) -> &'static StopWords {
        static CACHE: OnceLock<Mutex<HashMap<String, &'static StopWords>>> = OnceLock::new();
        let code = language
            .and_then(|l| l.split(['-', '_']).next())
            .map(|l| l.trim().to_ascii_lowercase())
            .filter(|l| stop_words::lookup(l).is_some())
            .unwrap_or_else(|| "en".into());
        let mut cache = CACHE
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        cache.entry(code.clone()).or_insert_with(|| {
            let words = stop_words::lookup(&code).unwrap_or_default();
            // A handful of lists, each built once and kept for the process's life.
            Box::leak(Box::new(StopWords(
                words.iter().map(|w| fold(w.trim())).collect(),
            )))
        })
    }

    pub fn contains(&self, token: &str) -> bool {
        self.0.contains(token)
    }
}

/// Lower-case, accent-free words and numbers, in order.
pub fn tokens(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// One collection's inverted index: for each token, the documents holding it and how
/// often. Built once (the flow when the settings change, the knowledge file when it is
/// uploaded); a query touches only the documents that share a token with it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Index {
    postings: HashMap<String, Vec<(u32, u32)>>, // token → (document, count)
    doc_len: Vec<u32>,
    total_len: u64,
}

impl Index {
    /// Indexes the texts; a document's number is its position.
    pub fn new<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut index = Index::default();
        for (doc, text) in texts.into_iter().enumerate() {
            let words = tokens(text);
            let mut tf: HashMap<String, u32> = HashMap::new();
            for w in &words {
                *tf.entry(w.clone()).or_default() += 1;
            }
            for (w, n) in tf {
                index.postings.entry(w).or_default().push((doc as u32, n));
            }
            index.doc_len.push(words.len() as u32);
            index.total_len += words.len() as u64;
        }
        index
    }

    /// Each document's score for the query (0 where nothing matches), by document number.
    /// The query's stop words are left out, unless it has nothing else.
    pub fn scores(&self, query: &str, stop: &StopWords) -> Vec<f64> {
        scores_across(&[self], query, stop)
            .pop()
            .unwrap_or_default()
    }
}

/// The scores of every document of several indexes for one query, ranked as one
/// collection (document counts and lengths taken together), so that they compare.
pub fn scores_across(indexes: &[&Index], query: &str, stop: &StopWords) -> Vec<Vec<f64>> {
    let mut query_tokens = tokens(query);
    if query_tokens.iter().any(|t| !stop.contains(t)) {
        query_tokens.retain(|t| !stop.contains(t));
    }
    query_tokens.sort();
    query_tokens.dedup();
    let n: f64 = indexes.iter().map(|i| i.doc_len.len() as f64).sum();
    let total: f64 = indexes.iter().map(|i| i.total_len as f64).sum();
    let avg_len = if n > 0.0 { total / n } else { 0.0 };
    let df = |term: &str| -> f64 {
        indexes
            .iter()
            .map(|i| i.postings.get(term).map_or(0, Vec::len) as f64)
            .sum()
    };
    // BM25+'s non-negative idf: a word in every document still counts a little.
    let idf = |term: &str| {
        let df = df(term);
        ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
    };
    // Each query token's terms: itself, and the prefix matches at half weight.
    let expansions: Vec<Vec<(String, f64)>> = query_tokens
        .iter()
        .map(|q| {
            let mut terms: Vec<(String, f64)> = vec![(q.clone(), 1.0)];
            for index in indexes {
                for t in index.postings.keys() {
                    if t != q && prefix_match(q, t) && !terms.iter().any(|(x, _)| x == t) {
                        terms.push((t.clone(), PREFIX_WEIGHT));
                    }
                }
            }
            terms
                .into_iter()
                .map(|(t, w)| {
                    let weight = w * idf(&t);
                    (t, weight)
                })
                .collect()
        })
        .collect();
    indexes
        .iter()
        .map(|index| {
            let mut total = vec![0.0; index.doc_len.len()];
            let mut best = vec![0.0_f64; index.doc_len.len()];
            for terms in &expansions {
                best.iter_mut().for_each(|b| *b = 0.0);
                // The best of the exact match (in full) and the prefix matches (half).
                for (term, weight) in terms {
                    for &(doc, tf) in index.postings.get(term).map_or(&[][..], Vec::as_slice) {
                        let len = f64::from(index.doc_len[doc as usize]);
                        let norm = K1 * (1.0 - B + B * len / avg_len.max(1.0));
                        let tf = f64::from(tf);
                        let score = weight * tf * (K1 + 1.0) / (tf + norm);
                        let b = &mut best[doc as usize];
                        *b = b.max(score);
                    }
                }
                total.iter_mut().zip(&best).for_each(|(t, b)| *t += b);
            }
            total
        })
        .collect()
}

fn prefix_match(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short.chars().count() >= PREFIX_MIN && long.starts_with(short)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn en() -> &'static StopWords {
        StopWords::for_language(Some("en-GB"))
    }

    #[test]
    fn tokens_fold_case_and_accents_and_split_on_punctuation() {
        assert_eq!(
            tokens("Où est ma COMMANDE #A-1234?"),
            ["ou", "est", "ma", "commande", "a", "1234"]
        );
    }

    #[test]
    fn the_document_with_the_rarer_word_ranks_first_and_unrelated_ones_score_zero() {
        let index = Index::new([
            "We are open 9 to 5 on weekdays.",
            "Refunds take 5 days to reach your card.",
            "Delivery takes 2 to 3 days.",
            "Nothing in common here at all.",
        ]);
        let s = index.scores("how many days for my refund", en());
        assert!(s[1] > s[2], "{s:?}");
        assert!(s[2] > 0.0, "{s:?}");
        assert_eq!(s[0], 0.0, "{s:?}");
        assert_eq!(s[3], 0.0, "{s:?}");
    }

    #[test]
    fn prefixes_of_four_letters_match_at_half_weight_but_short_words_do_not() {
        let index = Index::new(["Refunds are quick.", "Invoices are monthly."]);
        let s = index.scores("refund", en());
        assert!(s[0] > 0.0 && s[1] == 0.0, "{s:?}");
        let exact = Index::new(["refund", "other"]).scores("refund", en())[0];
        assert!(s[0] < exact, "{} < {exact}", s[0]);
        assert_eq!(Index::new(["invoice"]).scores("in", en()), [0.0]);
        // Accents do not matter, either way round.
        assert!(Index::new(["Rückerstattung"]).scores("ruckerstattung", en())[0] > 0.0);
    }

    #[test]
    fn an_empty_index_or_query_scores_nothing() {
        assert!(Index::new([]).scores("x", en()).is_empty());
        assert_eq!(Index::new(["a b c"]).scores("  !! ", en()), [0.0]);
    }

    #[test]
    fn stop_words_do_not_count_unless_the_query_has_nothing_else() {
        let index = Index::new(["That is all.", "The refund is due."]);
        let s = index.scores("is that my refund", en());
        assert!(s[0] == 0.0 && s[1] > 0.0, "{s:?}");
        assert!(index.scores("that", en())[0] > 0.0);
        // The conversation's language picks the list; German's has "und", English's not.
        let de = StopWords::for_language(Some("de-AT"));
        assert!(de.contains("und") && !en().contains("und"));
        assert!(std::ptr::eq(
            StopWords::for_language(Some("xx")),
            StopWords::for_language(None)
        ));
    }
}
