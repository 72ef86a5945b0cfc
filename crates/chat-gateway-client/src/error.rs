//! One error type for every 8x8 failure. 8x8's error bodies come in many shapes
//! (chat-gateway.md §2, P17): `errors` as objects, strings or a single object, `validations`, the old
//! `{message, code}`, Apigee's `{fault: …}`, OAuth's `{ErrorCode, Error}`, a bare JSON
//! string, or nothing. [`ApiError::parse`] reads them all into message, codes, details
//! and referenceId, so callers and the UI never see the difference.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiError {
    pub status: u16,
    pub message: String,
    /// Machine codes such as `invalid_queue`, `access_denied`, `oauth.v2.InvalidAccessToken`.
    pub codes: Vec<String>,
    /// The human texts of `errors` / `validations` entries.
    pub details: Vec<String>,
    /// 8x8's id for the failure; quote it to 8x8 support.
    pub reference_id: Option<String>,
    #[serde(skip)]
    pub retry_after: Option<Duration>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "8x8 answered {}: {}", self.status, self.message)?;
        for d in &self.details {
            if d != &self.message {
                write!(f, "; {d}")?;
            }
        }
        if !self.codes.is_empty() {
            write!(f, " [{}]", self.codes.join(", "))?;
        }
        if let Some(r) = &self.reference_id {
            write!(f, " (referenceId {r})")?;
        }
        Ok(())
    }
}

/// Longest body text kept when the body is not JSON (an HTML error page, say).
const MAX_TEXT: usize = 300;

impl ApiError {
    pub fn parse(status: u16, body: &[u8], retry_after: Option<Duration>) -> Self {
        let mut e = ApiError {
            status,
            message: String::new(),
            codes: Vec::new(),
            details: Vec::new(),
            reference_id: None,
            retry_after,
        };
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => {
                let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
                e.message = text(map.get("message"))
                    .or_else(|| text(map.get("Error")))
                    .or_else(|| text(map.get("error_description")))
                    .or_else(|| text(map.get("error")))
                    .unwrap_or_default();
                e.reference_id = text(map.get("referenceId"));
                for key in ["code", "ErrorCode"] {
                    if let Some(c) = text(map.get(key)) {
                        e.codes.push(c);
                    }
                }
                for key in ["errors", "validations"] {
                    if let Some(v) = map.get(key) {
                        collect(v, &mut e.codes, &mut e.details);
                    }
                }
                if let Some(fault) = map.get("fault") {
                    if e.message.is_empty() {
                        e.message = text(fault.get("faultstring")).unwrap_or_default();
                    }
                    if let Some(c) = text(fault.get("detail").and_then(|d| d.get("errorcode"))) {
                        e.codes.push(c);
                    }
                }
            }
            Ok(Value::String(s)) => e.message = s,
            Ok(_) => {}
            Err(_) => {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                if !text.is_empty() && !text.starts_with('<') {
                    e.message = text.chars().take(MAX_TEXT).collect();
                }
            }
        }
        if e.message.is_empty() {
            e.message = e.details.first().cloned().unwrap_or_else(|| {
                http::StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("error")
                    .to_string()
            });
        }
        e
    }
}

/// `errors` / `validations`: an array of objects or strings, or one object.
fn collect(v: &Value, codes: &mut Vec<String>, details: &mut Vec<String>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| collect(i, codes, details)),
        Value::String(s) => details.push(s.clone()),
        Value::Object(o) => {
            if let Some(c) = o.get("code").and_then(Value::as_str) {
                codes.push(c.to_string());
            }
            let message = o.get("message").and_then(Value::as_str);
            match (o.get("field").and_then(Value::as_str), message) {
                (Some(field), Some(m)) => details.push(format!("{field}: {m}")),
                (None, Some(m)) => details.push(m.to_string()),
                _ => {}
            }
        }
        _ => {}
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Api(ApiError),
    #[error("8x8 did not answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot connect to 8x8 at the Base URL: {0}")]
    Connect(String),
    #[error("the request to 8x8 failed: {0}")]
    Transport(String),
    #[error("8x8's answer could not be read: {0}")]
    Decode(String),
    #[error("8x8 is not configured: {0}")]
    NotConfigured(String),
    #[error("the request cannot be made: {0}")]
    InvalidRequest(String),
}

impl ClientError {
    /// A stable code for the UI's `{code, message}`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Api(e) if e.status == 401 => "8x8_unauthorized",
            Self::Api(e) if e.status == 403 => "8x8_forbidden",
            Self::Api(e) if e.status == 404 => "8x8_not_found",
            Self::Api(e) if e.status == 429 => "8x8_rate_limited",
            Self::Api(e) if e.status >= 500 => "8x8_unavailable",
            Self::Api(_) => "8x8_rejected",
            Self::Timeout(_) => "8x8_timeout",
            Self::Connect(_) => "8x8_unreachable",
            Self::Transport(_) => "8x8_transport",
            Self::Decode(_) => "8x8_bad_response",
            Self::NotConfigured(_) => "8x8_not_configured",
            Self::InvalidRequest(_) => "invalid_request",
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api(e) => Some(e.status),
            _ => None,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api(e) => e.retry_after,
            _ => None,
        }
    }

    /// 8x8 refused the request itself: sending it again cannot help. 429 is the one 4xx
    /// that means "later", 408 is a timeout.
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::Api(e) => (400..500).contains(&e.status) && e.status != 429 && e.status != 408,
            Self::InvalidRequest(_) | Self::Decode(_) => true,
            _ => false,
        }
    }

    /// Whether 8x8 certainly did not act on the request, so even a non-idempotent call
    /// may be sent again: no connection was made, 8x8 said "too many" (429) or
    /// "unavailable" (503), or the call was never made for want of a key.
    pub fn certainly_not_processed(&self) -> bool {
        match self {
            Self::Connect(_) | Self::NotConfigured(_) => true,
            Self::Api(e) => e.status == 429 || e.status == 503,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(status: u16, body: &str) -> ApiError {
        ApiError::parse(status, body.as_bytes(), None)
    }

    #[test]
    fn generic_exception_payload() {
        let e = parse(
            400,
            r#"{"message":"Internal error.","errors":[{"code":"invalid_queue","message":"Queue ID 112 is invalid."}]}"#,
        );
        assert_eq!(e.message, "Internal error.");
        assert_eq!(e.codes, ["invalid_queue"]);
        assert_eq!(e.details, ["Queue ID 112 is invalid."]);
    }

    #[test]
    fn unauthorized_problem_keeps_the_reference_id() {
        let e = parse(
            401,
            r#"{"message":"Access Denied","errors":[{"message":"Access Denied","code":"access_denied"}],"referenceId":"dacd0dd252723a2"}"#,
        );
        assert_eq!(e.reference_id.as_deref(), Some("dacd0dd252723a2"));
        assert_eq!(e.codes, ["access_denied"]);
        assert!(e.to_string().contains("referenceId dacd0dd252723a2"));
        assert_eq!(ClientError::Api(e).code(), "8x8_unauthorized");
    }

    #[test]
    fn string_errors_object_errors_and_validations() {
        let e = parse(
            403,
            r#"{"message":"The tenant does not belong to customer.","errors":["Header X-8x8-Tenant doesn't match tenant information for customerId=aaaa"]}"#,
        );
        assert_eq!(e.details.len(), 1);
        assert!(e.codes.is_empty());
        let e = parse(
            400,
            r#"{"message":"Invalid authorType=ghfgh","errors":{"code":"invalid_json_object","message":"Invalid authorType=ghfgh"},"referenceId":"98e9"}"#,
        );
        assert_eq!(e.codes, ["invalid_json_object"]);
        assert_eq!(e.reference_id.as_deref(), Some("98e9"));
        let e = parse(
            400,
            r#"{"message":"Bad","errors":[],"validations":[{"field":"webHookId","value":"45","code":"invalid_queue","message":"no such webhook"}]}"#,
        );
        assert_eq!(e.codes, ["invalid_queue"]);
        assert_eq!(e.details, ["webHookId: no such webhook"]);
        let e = parse(
            400,
            r#"{"message":"Constraint Violation","errors":["name: May not be empty."],"validations":["name: May not be empty."]}"#,
        );
        assert_eq!(e.details.len(), 2);
    }

    #[test]
    fn gateway_oauth_legacy_and_plain_shapes() {
        let e = parse(
            401,
            r#"{"fault":{"faultstring":"Invalid access token","detail":{"errorcode":"oauth.v2.InvalidAccessToken"}}}"#,
        );
        assert_eq!(e.message, "Invalid access token");
        assert_eq!(e.codes, ["oauth.v2.InvalidAccessToken"]);
        let e = parse(
            400,
            r#"{"ErrorCode":"invalid_request","Error":"Unsupported grant type : something"}"#,
        );
        assert_eq!(
            (e.message.as_str(), e.codes[0].as_str()),
            ("Unsupported grant type : something", "invalid_request")
        );
        let e = parse(
            401,
            r#"{"message":"Invalid Credentials","code":"KA:1234567"}"#,
        );
        assert_eq!(e.codes, ["KA:1234567"]);
        assert_eq!(
            parse(500, r#""Internal server error.""#).message,
            "Internal server error."
        );
        assert_eq!(
            parse(502, "<html>bad gateway</html>").message,
            "Bad Gateway"
        );
        assert_eq!(parse(503, "").message, "Service Unavailable");
        assert_eq!(
            parse(500, "upstream timed out").message,
            "upstream timed out"
        );
    }

    #[test]
    fn permanence_and_safety() {
        let api = |s| ClientError::Api(parse(s, "{}"));
        assert!(api(400).is_permanent());
        assert!(api(404).is_permanent());
        assert!(!api(429).is_permanent());
        assert!(!api(500).is_permanent());
        assert!(api(429).certainly_not_processed());
        assert!(api(503).certainly_not_processed());
        assert!(!api(500).certainly_not_processed());
        assert!(!ClientError::Timeout(Duration::from_secs(1)).certainly_not_processed());
    }
}
