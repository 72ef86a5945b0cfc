//! Why the bot could not answer. The engine shows these in the conversation (system lane),
//! so each one reads as a plain sentence for the admin or tester watching it, and none
//! carries the external bot's URL query (it may hold a token) or a long body.

use super::flow::FlowError;

#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error("The bot flow cannot be used: {0}.")]
    Flow(#[from] FlowError),
    #[error("The external bot has no URL; set one in the bot settings.")]
    NoExternalUrl,
    /// A build without the `external` feature (the engine's own tests) cannot call out.
    #[error("This build of Switchboard has no external bot support; use the built-in flow.")]
    ExternalNotBuilt,
    /// Says why in a sentence of its own; the URL is not repeated, it may hold a token.
    #[error("{0}")]
    BadExternalUrl(String),
    #[error("The external bot at {host} did not answer within {limit_ms} ms; the message got no bot reply.")]
    Timeout { host: String, limit_ms: u32 },
    #[error("The external bot at {host} could not be reached: {reason}.")]
    Unreachable { host: String, reason: String },
    #[error("The external bot at {host} answered with HTTP {status}{}.", excerpt_suffix(.excerpt))]
    Status {
        host: String,
        status: u16,
        /// The start of the body, which usually says what went wrong.
        excerpt: String,
    },
    #[error("The external bot at {host} sent an answer that is not the Rasa REST shape (a JSON list of messages): {reason}.")]
    Unreadable { host: String, reason: String },
}

fn excerpt_suffix(excerpt: &str) -> String {
    if excerpt.is_empty() {
        String::new()
    } else {
        format!(": {excerpt}")
    }
}

/// At most this many characters of a body go into a message.
#[cfg(feature = "external")]
pub(crate) const EXCERPT_CHARS: usize = 200;

/// A single line of at most [`EXCERPT_CHARS`] characters, with "…" when cut.
#[cfg(feature = "external")]
pub(crate) fn excerpt(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= EXCERPT_CHARS {
        flat
    } else {
        let cut: String = flat.chars().take(EXCERPT_CHARS).collect();
        format!("{cut}…")
    }
}

#[cfg(all(test, feature = "external"))]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_one_short_line() {
        assert_eq!(excerpt("  a\n  b  "), "a b");
        let long = "x".repeat(500);
        let e = excerpt(&long);
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
        assert!(e.ends_with('…'));
    }

    #[test]
    fn messages_are_sentences() {
        let e = BotError::Status {
            host: "bot.example:5005".into(),
            status: 500,
            excerpt: String::new(),
        };
        assert_eq!(
            e.to_string(),
            "The external bot at bot.example:5005 answered with HTTP 500."
        );
        let e = BotError::Timeout {
            host: "127.0.0.1:5005".into(),
            limit_ms: 200,
        };
        assert!(e.to_string().contains("within 200 ms"), "{e}");
    }
}
