//! Request validation with 8x8's rules (chat-gateway.md §3, §8, P18–P22): required fields, limits
//! the OpenAPI document states in keywords validators ignore, and rules it states in
//! prose. Everything is checked before anything is stored, so a rejected request
//! changes nothing.

use serde_json::{Map, Value};

use crate::errors::ApiError;
use crate::store::Assignment;

pub const LANGUAGES: [&str; 21] = [
    "en", "ru", "de", "ja", "es", "fr", "pt", "it", "pl", "hr", "nl", "ar", "da", "ko", "no", "sv",
    "vi", "cy", "th", "zh-CN", "zh-TW",
];

pub const CARD_TYPES: [&str; 8] = [
    "application/vnd.microsoft.card.adaptive",
    "application/8x8.quick.replies",
    "Interactive",
    "Location",
    "Template",
    "Suggestions",
    "Buttons",
    "Carousel",
];

pub fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, ApiError> {
    v.as_object().ok_or_else(|| {
        ApiError::invalid(
            "invalid_json_object",
            format!("{what} must be a JSON object"),
        )
    })
}

/// A required, non-empty string of at most `max` characters.
pub fn required_str(
    m: &Map<String, Value>,
    field: &str,
    max: Option<usize>,
) -> Result<String, ApiError> {
    match m.get(field) {
        None | Some(Value::Null) => Err(ApiError::invalid(
            "constraint_violation",
            format!("{field}: May not be empty."),
        )),
        Some(Value::String(s)) if s.trim().is_empty() => Err(ApiError::invalid(
            "constraint_violation",
            format!("{field}: May not be empty."),
        )),
        Some(Value::String(s)) => {
            if let Some(max) = max {
                if s.chars().count() > max {
                    return Err(ApiError::invalid(
                        "constraint_violation",
                        format!("{field}: size must be between 1 and {max}."),
                    ));
                }
            }
            Ok(s.clone())
        }
        Some(_) => Err(ApiError::invalid(
            "invalid_json_object",
            format!("{field} must be a string"),
        )),
    }
}

pub fn optional_str(m: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::invalid(
            "invalid_json_object",
            format!("{field} must be a string"),
        )),
    }
}

/// An absolute http(s) URL.
pub fn uri(s: &str, field: &str) -> Result<String, ApiError> {
    match url::Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(s.to_string()),
        _ => Err(ApiError::invalid(
            "invalid_uri",
            format!("{field}: {s} is not an absolute http(s) URL"),
        )),
    }
}

/// The `user` object (§4.1): known fields typed, ≤ 30 additionalProperties each with key
/// and value, unknown fields kept (P20).
pub fn user(v: &Value, strict_language: bool) -> Result<Map<String, Value>, ApiError> {
    let m = object(v, "user")?;
    for field in [
        "name", "userId", "phone", "company", "caseId", "email", "language",
    ] {
        optional_str(m, field).map_err(|_| {
            ApiError::invalid(
                "invalid_json_object",
                format!("user.{field} must be a string"),
            )
        })?;
    }
    if let Some(email) = m.get("email").and_then(Value::as_str) {
        let ok = email.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
        }) && !email.contains(char::is_whitespace);
        if !ok {
            return Err(ApiError::invalid(
                "invalid_email",
                format!("user.email: {email} is not a valid e-mail address"),
            ));
        }
    }
    if let Some(lang) = m.get("language").and_then(Value::as_str) {
        if strict_language && !LANGUAGES.contains(&lang) {
            return Err(ApiError::invalid(
                "invalid_language",
                format!("user.language: {lang} is not supported"),
            ));
        }
    }
    if let Some(props) = m.get("additionalProperties") {
        let items = props.as_array().ok_or_else(|| {
            ApiError::invalid(
                "invalid_json_object",
                "user.additionalProperties must be an array",
            )
        })?;
        if items.len() > 30 {
            return Err(ApiError::invalid(
                "constraint_violation",
                format!(
                    "user.additionalProperties: at most 30 entries are allowed, got {}",
                    items.len()
                ),
            ));
        }
        for (i, item) in items.iter().enumerate() {
            for k in ["key", "value"] {
                let present = item
                    .get(k)
                    .is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty()));
                if !present {
                    return Err(ApiError::invalid(
                        "constraint_violation",
                        format!("user.additionalProperties[{i}].{k}: May not be empty."),
                    ));
                }
            }
        }
    }
    Ok(m.clone())
}

/// `{type: queue|script, id}`; `type` defaults to `queue`.
pub fn assignment(v: &Value) -> Result<Assignment, ApiError> {
    let m = object(v, "assignment")?;
    let kind = optional_str(m, "type")?.unwrap_or_else(|| "queue".into());
    if kind != "queue" && kind != "script" {
        return Err(ApiError::invalid(
            "invalid_assignment",
            format!("Invalid assignment type={kind}, has to be one of queue, script"),
        ));
    }
    let id = required_str(m, "id", None).map_err(|_| {
        ApiError::invalid("constraint_violation", "assignment.id: May not be empty.")
    })?;
    Ok(Assignment { kind, id })
}

/// A send-message payload (§4.3): authorType user|bot, `text` xor `externalProvider`,
/// optional attachments and cards.
pub struct MessageInput {
    pub author_type: String,
    pub text: Option<String>,
    pub external_provider: Option<Value>,
    pub attachments: Vec<String>,
    pub cards: Vec<(String, Value)>,
}

pub fn message(v: &Value, at: &str) -> Result<MessageInput, ApiError> {
    let bad = |msg: String| ApiError::invalid("invalid_json_object", msg);
    let m = v
        .as_object()
        .ok_or_else(|| bad(format!("{at} must be a JSON object")))?;
    let author_type = match m.get("authorType") {
        Some(Value::String(s)) if s == "user" || s == "bot" => s.clone(),
        Some(Value::String(s)) => {
            return Err(bad(format!(
                "Invalid authorType={s}, has to be one of user, bot"
            )))
        }
        _ => return Err(bad(format!("{at}authorType: May not be empty."))),
    };
    let text = match m.get("text") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(bad(format!("{at}text must be a string"))),
    };
    let external_provider = match m.get("externalProvider") {
        None | Some(Value::Null) => None,
        Some(p) => {
            let pm = p
                .as_object()
                .ok_or_else(|| bad(format!("{at}externalProvider must be an object")))?;
            if pm.get("name").and_then(Value::as_str) != Some("X") {
                return Err(bad(format!("{at}externalProvider.name has to be X")));
            }
            let has_id = pm
                .get("externalMessageId")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty());
            if !has_id {
                return Err(bad(format!(
                    "{at}externalProvider.externalMessageId: May not be empty."
                )));
            }
            Some(p.clone())
        }
    };
    if text.is_some() == external_provider.is_some() {
        return Err(bad(format!(
            "{at}exactly one of text and externalProvider is required"
        )));
    }
    let mut attachments = Vec::new();
    if let Some(a) = m.get("attachments").filter(|a| !a.is_null()) {
        let items = a
            .as_array()
            .ok_or_else(|| bad(format!("{at}attachments must be an array")))?;
        for item in items {
            let id = item
                .get("id")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| bad(format!("{at}attachments[].id: May not be empty.")))?;
            attachments.push(id.to_string());
        }
    }
    let mut cards = Vec::new();
    if let Some(c) = m.get("cards").filter(|c| !c.is_null()) {
        let items = c
            .as_array()
            .ok_or_else(|| bad(format!("{at}cards must be an array")))?;
        for item in items {
            let ct = item
                .get("contentType")
                .and_then(Value::as_str)
                .unwrap_or(CARD_TYPES[0]);
            if !CARD_TYPES.contains(&ct) {
                return Err(bad(format!(
                    "{at}cards[].contentType {ct} is not supported"
                )));
            }
            let content = item
                .get("content")
                .filter(|c| c.is_object())
                .ok_or_else(|| bad(format!("{at}cards[].content must be an object")))?;
            cards.push((ct.to_string(), content.clone()));
        }
    }
    Ok(MessageInput {
        author_type,
        text,
        external_provider,
        attachments,
        cards,
    })
}

/// An integer, or a numeric string (P22: clients send `"300"`), within `min..=max`.
pub fn int_in_range(v: &Value, field: &str, min: i64, max: i64) -> Result<i64, ApiError> {
    let n = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
    .ok_or_else(|| ApiError::invalid("invalid_parameter", format!("{field} must be an integer")))?;
    if n < min || n > max {
        return Err(ApiError::invalid(
            "invalid_parameter",
            format!("{field} must be between {min} and {max}, got {n}"),
        ));
    }
    Ok(n)
}
