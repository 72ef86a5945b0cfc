//! The customer's mood, message by message, with VADER (the `vader-parity` crate: the
//! reference lexicon and rules, English only). Labels use VADER's own cut-offs: a compound
//! score of 0.05 or more is positive, -0.05 or less negative. The trend compares the mean
//! compound of the last third of the customer's messages with the first third (at least
//! one message each): a rise of more than [`TREND_STEP`] is improving, a fall of more than
//! that worsening, anything in between steady. One message is steady.

use std::sync::OnceLock;

use vader_parity::SentimentIntensityAnalyzer;

use crate::types::{SentimentLabel, SentimentMessage, SentimentTrend, WorkspaceSentiment};

/// VADER's published thresholds for the compound score.
pub const POSITIVE_FROM: f64 = 0.05;
pub const NEGATIVE_FROM: f64 = -0.05;
/// How far the mean compound must move between the first and last third to be a trend.
pub const TREND_STEP: f64 = 0.15;

/// The language VADER's lexicon covers.
pub const LANGUAGE: &str = "en";

fn analyzer() -> &'static SentimentIntensityAnalyzer {
    // Parsing the lexicon (about 11,000 lines) once, not per workspace.
    static A: OnceLock<SentimentIntensityAnalyzer> = OnceLock::new();
    A.get_or_init(SentimentIntensityAnalyzer::new)
}

/// Whether the analysis applies to a conversation in `language` (none given: assumed
/// English, the only language it could speak of).
pub fn covers(language: Option<&str>) -> bool {
    language.is_none_or(|l| {
        let l = l.trim().to_ascii_lowercase();
        l.is_empty() || l == LANGUAGE || l.starts_with("en-") || l.starts_with("en_")
    })
}

pub fn label(compound: f64) -> SentimentLabel {
    if compound >= POSITIVE_FROM {
        SentimentLabel::Positive
    } else if compound <= NEGATIVE_FROM {
        SentimentLabel::Negative
    } else {
        SentimentLabel::Neutral
    }
}

/// The customer's messages `(at_ms, text)` scored; `None` without a message.
pub fn analyse<'a>(
    messages: impl IntoIterator<Item = (i64, &'a str)>,
) -> Option<WorkspaceSentiment> {
    let a = analyzer();
    let messages: Vec<SentimentMessage> = messages
        .into_iter()
        .filter(|(_, t)| !t.trim().is_empty())
        .map(|(at_ms, text)| {
            let compound = a.polarity_scores(text).compound;
            SentimentMessage {
                at_ms,
                text: text.to_string(),
                compound,
                label: label(compound),
            }
        })
        .collect();
    if messages.is_empty() {
        return None;
    }
    let compounds: Vec<f64> = messages.iter().map(|m| m.compound).collect();
    Some(WorkspaceSentiment {
        language: LANGUAGE.into(),
        trend: trend(&compounds),
        messages,
    })
}

pub fn trend(compounds: &[f64]) -> SentimentTrend {
    let n = compounds.len();
    if n < 2 {
        return SentimentTrend::Steady;
    }
    let third = (n / 3).max(1);
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    let change = mean(&compounds[n - third..]) - mean(&compounds[..third]);
    if change > TREND_STEP {
        SentimentTrend::Improving
    } else if change < -TREND_STEP {
        SentimentTrend::Worsening
    } else {
        SentimentTrend::Steady
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positive_and_negative_messages_are_told_apart() {
        let s = analyse([
            (1, "Thank you so much, that is great!"),
            (2, "My order 12345"),
            (3, "This is terrible, I am really angry and disappointed."),
        ])
        .unwrap();
        let labels: Vec<_> = s.messages.iter().map(|m| m.label).collect();
        assert_eq!(
            labels,
            [
                SentimentLabel::Positive,
                SentimentLabel::Neutral,
                SentimentLabel::Negative
            ]
        );
        assert!(
            s.messages[0].compound > 0.5 && s.messages[2].compound < -0.5,
            "{s:?}"
        );
        assert_eq!(s.trend, SentimentTrend::Worsening);
        assert_eq!(s.language, "en");
    }

    #[test]
    fn the_trend_compares_the_last_third_with_the_first() {
        use SentimentTrend::*;
        assert_eq!(trend(&[]), Steady);
        assert_eq!(trend(&[-0.9]), Steady);
        assert_eq!(trend(&[-0.6, 0.0, 0.1, 0.0, 0.2, 0.5]), Improving);
        assert_eq!(trend(&[0.3, 0.0, 0.0, 0.3]), Steady);
        assert_eq!(trend(&[0.3, 0.3, 0.0, -0.1]), Worsening);
        // The move must exceed the step.
        assert_eq!(trend(&[0.0, 0.15]), Steady);
        assert_eq!(trend(&[0.0, 0.16]), Improving);
    }

    #[test]
    fn only_english_is_covered() {
        assert!(
            covers(Some("en")) && covers(Some("en-GB")) && covers(Some("EN_us")) && covers(None)
        );
        assert!(!covers(Some("de")) && !covers(Some("fr-FR")) && !covers(Some("eng-x")));
        assert!(analyse([(1, "  ")]).is_none());
    }
}
