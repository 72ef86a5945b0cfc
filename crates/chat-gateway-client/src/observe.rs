//! What a request looked like on the wire, for whoever watches the client's calls: the
//! tests check every request against 8x8's OpenAPI document through this. Outside the
//! HTTP feature, so the store can carry an observer for the worker without an HTTP client.

use std::sync::Arc;

use serde_json::Value;

/// What a request looked like on the wire (without headers): for tests that check
/// every request against 8x8's OpenAPI document.
#[derive(Debug, Clone, PartialEq)]
pub struct SentRequest {
    pub method: String,
    /// Path and query, starting at `/chat-gateway/v1` (or `/cc/v1` for the contact
    /// center's statistics and schedules, which 8x8's OpenAPI document does not describe).
    pub path: String,
    /// `None` without a body; multipart bodies are `Some(Null)`.
    pub body: Option<Value>,
}

pub type RequestObserver = Arc<dyn Fn(&SentRequest) + Send + Sync>;

/// One HTTP exchange with 8x8 as the inspector shows it: what was asked, what came back
/// and how long it took. Never the headers, so never the API key.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct HttpExchange {
    pub method: String,
    /// The full URL asked (Base URL, path and query); no credentials are ever in it.
    pub url: String,
    /// The HTTP status; `None` when no answer came (refused, timed out, TLS).
    pub status: Option<u16>,
    /// From sending the request to the end of the answer's body.
    pub duration_ms: u64,
    /// The answer's body as text, cut to [`HttpExchange::BODY_LIMIT`] bytes.
    pub response_body: Option<String>,
    /// The whole body's size, to say how much was cut.
    pub response_bytes: u64,
}

impl HttpExchange {
    /// Bodies are kept to a few kB: enough to read an error, not a copy of 8x8's data.
    pub const BODY_LIMIT: usize = 4096;

    /// The body as text, cut at a character boundary within the limit.
    pub fn cut_body(bytes: &[u8]) -> String {
        let text = String::from_utf8_lossy(bytes);
        if text.len() <= Self::BODY_LIMIT {
            return text.into_owned();
        }
        let mut end = Self::BODY_LIMIT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text[..end].to_string()
    }
}

/// Sees every attempt's exchange once it is over (the outbox stores the last one).
pub type ExchangeObserver = Arc<dyn Fn(&HttpExchange) + Send + Sync>;

#[cfg(test)]
mod tests {
    use super::HttpExchange;

    #[test]
    fn a_long_body_is_cut_within_the_limit_at_a_character() {
        assert_eq!(HttpExchange::cut_body(b"{\"ok\":true}"), "{\"ok\":true}");
        let long = "é".repeat(HttpExchange::BODY_LIMIT);
        let cut = HttpExchange::cut_body(long.as_bytes());
        assert!(cut.len() <= HttpExchange::BODY_LIMIT && cut.len() > HttpExchange::BODY_LIMIT - 2);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
