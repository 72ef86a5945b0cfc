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

#[derive(Debug, Clone, Default)]
pub struct Index {
    docs: Vec<Doc>,
    /// How many documents hold each token.
    df: HashMap<String, u32>,
    avg_len: f64,
}

#[derive(Debug, Clone)]
struct Doc {
    tf: HashMap<String, u32>,
    len: usize,
}

impl Index {
    /// Indexes the texts; a document's number is its position.
    pub fn new<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut df: HashMap<String, u32> = HashMap::new();
        let docs: Vec<Doc> = texts
            .into_iter()
            .map(|text| {
                let words = tokens(text);
                let mut tf: HashMap<String, u32> = HashMap::new();
                for w in &words {
                    *tf.entry(w.clone()).or_default() += 1;
                }
                for w in tf.keys() {
                    *df.entry(w.clone()).or_default() += 1;
                }
                Doc {
                    tf,
                    len: words.len(),
                }
            })
            .collect();
        let total: usize = docs.iter().map(|d| d.len).sum();
        let avg_len = if docs.is_empty() {
            0.0
        } else {
            total as f64 / docs.len() as f64
        };
        Self { docs, df, avg_len }
    }

    /// Each document's score for the query (0 where nothing matches), by document number.
    /// The query's stop words are left out, unless it has nothing else.
    pub fn scores(&self, query: &str, stop: &StopWords) -> Vec<f64> {
        let mut query_tokens = tokens(query);
        if query_tokens.iter().any(|t| !stop.contains(t)) {
            query_tokens.retain(|t| !stop.contains(t));
        }
        query_tokens.sort();
        query_tokens.dedup();
        let n = self.docs.len() as f64;
        let idf = |term: &str| {
            let df = f64::from(self.df.get(term).copied().unwrap_or(0));
            // BM25+'s non-negative idf: a word in every document still counts a little.
            ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
        };
        self.docs
            .iter()
            .map(|doc| {
                let norm = K1 * (1.0 - B + B * doc.len as f64 / self.avg_len.max(1.0));
                let weigh = |tf: u32| {
                    let tf = f64::from(tf);
                    tf * (K1 + 1.0) / (tf + norm)
                };
                query_tokens
                    .iter()
                    .map(|q| {
                        if let Some(&tf) = doc.tf.get(q) {
                            return idf(q) * weigh(tf);
                        }
                        // No exact match: the best prefix match either way round.
                        doc.tf
                            .iter()
                            .filter(|(t, _)| prefix_match(q, t))
                            .map(|(t, &tf)| PREFIX_WEIGHT * idf(t) * weigh(tf))
                            .fold(0.0, f64::max)
                    })
                    .sum()
            })
            .collect()
    }
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
