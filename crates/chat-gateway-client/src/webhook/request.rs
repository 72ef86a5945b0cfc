//! A delivery as the receiver first reads it, before any check: whether the body is JSON,
//! its event type and conversation, and the headers as they may be stored (never those
//! that can carry a proxy's credentials). Pure functions over headers and bytes, so the
//! receiver and the fuzz targets run the same code.

use http::{header, HeaderMap};
use serde_json::{Map, Value};

/// Headers that may carry credentials of a proxy in front of us: never stored.
const NOT_STORED: [&str; 4] = [
    "authorization",
    "cookie",
    "proxy-authorization",
    "x-api-key",
];

/// What the receiver reads from a request before any check.
#[derive(Debug)]
pub struct Request {
    pub is_json: bool,
    /// The body as JSON, or why it is refused.
    pub parsed: Result<Value, String>,
    pub event_type: Option<String>,
    pub conversation_id: Option<String>,
}

/// The content type and body of one delivery as the receiver reads them.
pub fn read_request(headers: &HeaderMap, body: &[u8]) -> Request {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let media = v.split(';').next().unwrap_or("").trim();
            media.eq_ignore_ascii_case("application/json")
        });
    let parsed: Result<Value, String> = if is_json {
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))
    } else {
        Err("8x8 events are sent as application/json".into())
    };
    let field = |name: &str| {
        parsed
            .as_ref()
            .ok()
            .and_then(|v| v.get(name))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let event_type = field("eventType");
    let conversation_id = field("conversationId");
    Request {
        is_json,
        parsed,
        event_type,
        conversation_id,
    }
}

/// The headers as the inspector stores them, without those that may carry credentials.
pub fn headers_json(headers: &HeaderMap) -> String {
    let mut map = Map::new();
    for (name, value) in headers {
        let name = name.as_str();
        if NOT_STORED.contains(&name) {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match map.get_mut(name) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ => {
                map.insert(name.to_string(), Value::String(value));
            }
        }
    }
    Value::Object(map).to_string()
}
