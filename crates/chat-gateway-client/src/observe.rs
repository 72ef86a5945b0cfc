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
    /// Path and query, starting at `/chat-gateway/v1`.
    pub path: String,
    /// `None` without a body; multipart bodies are `Some(Null)`.
    pub body: Option<Value>,
}

pub type RequestObserver = Arc<dyn Fn(&SentRequest) + Send + Sync>;
