//! An external bot reached over the Rasa REST channel: `POST {sender, message, metadata}`
//! answered by a JSON list of `{recipient_id, text?, buttons?, image?, custom?}`. Any bot
//! that speaks this shape works, Rasa or not. A handover is a `custom` payload
//! `{"handover": true}` (or `{"action": "handover"}`, optionally with a `reason`).
//! Every failure becomes a [`BotError`] the engine shows in the conversation, so a slow
//! or broken bot is visible, never a silently unanswered message.

use std::time::Duration;

use rand::Rng;
use serde_json::{json, Map, Value};

use super::error::{excerpt, BotError};
use super::{
    card_text, check_external_url, BotInput, BotReply, BotSession, BotTurn, QuickReply,
    EXTERNAL_START_MESSAGE,
};

/// A bot answer larger than this is not a chat turn; it is refused rather than buffered.
const MAX_ANSWER_BYTES: usize = 1 << 20;

#[derive(Debug, Clone)]
pub(crate) struct Rasa {
    client: reqwest::Client,
    url: url::Url,
    /// Host and port only: the URL's path or query may hold a token, and messages are
    /// shown in the conversation.
    host: String,
    limit_ms: u32,
}

impl Rasa {
    pub(crate) fn new(url: &str, limit_ms: u32) -> Result<Self, BotError> {
        let url = check_external_url(url).map_err(BotError::BadExternalUrl)?;
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => String::new(),
        };
        let client = reqwest::Client::builder()
            .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| BotError::Unreachable {
                host: host.clone(),
                reason: format!("the HTTP client could not start ({e})"),
            })?;
        Ok(Self {
            client,
            url,
            host,
            limit_ms,
        })
    }

    pub(crate) async fn respond(
        &self,
        session: &mut BotSession,
        input: BotInput,
    ) -> Result<BotTurn, BotError> {
        if session.sender_id.is_empty() {
            // Rasa keys its conversation memory on the sender: one per conversation.
            session.sender_id = format!("sb-{:016x}", rand::thread_rng().gen::<u64>());
        }
        let mut metadata = Map::new();
        for (key, value) in [
            ("name", &session.name),
            ("email", &session.email),
            ("language", &session.language),
        ] {
            if let Some(v) = value {
                metadata.insert(key.into(), json!(v));
            }
        }
        for (key, value) in &session.metadata {
            metadata.insert(key.clone(), value.clone());
        }
        let message = match input {
            BotInput::Start => EXTERNAL_START_MESSAGE.to_string(),
            BotInput::Text(text) => text,
            // Rasa buttons carry the intent (e.g. "/affirm") in the payload.
            BotInput::QuickReply { payload, .. } => payload,
            BotInput::CardSubmit(value) => {
                let text = card_text(&value);
                metadata.insert("card".into(), value);
                text
            }
        };
        let body = json!({
            "sender": session.sender_id,
            "message": message,
            "metadata": metadata,
        });
        let limit = Duration::from_millis(self.limit_ms.into());
        let answer = tokio::time::timeout(limit, self.post(&body))
            .await
            .map_err(|_| BotError::Timeout {
                host: self.host.clone(),
                limit_ms: self.limit_ms,
            })??;
        parse_answer(&answer).map_err(|reason| BotError::Unreadable {
            host: self.host.clone(),
            reason,
        })
    }

    async fn post(&self, body: &Value) -> Result<Vec<u8>, BotError> {
        let unreachable = |e: reqwest::Error| BotError::Unreachable {
            host: self.host.clone(),
            reason: cause(&e),
        };
        let mut response = self
            .client
            .post(self.url.clone())
            .json(body)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(BotError::Unreadable {
                    host: self.host.clone(),
                    reason: format!("the answer is larger than {MAX_ANSWER_BYTES} bytes"),
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            return Err(BotError::Status {
                host: self.host.clone(),
                status: status.as_u16(),
                excerpt: excerpt(&String::from_utf8_lossy(&bytes)),
            });
        }
        Ok(bytes)
    }
}

/// The innermost cause says what happened ("Connection refused"); reqwest's own text
/// ("error sending request for url …") would repeat the URL, which may hold a token.
fn cause(e: &reqwest::Error) -> String {
    let mut last: &dyn std::error::Error = e;
    while let Some(next) = last.source() {
        last = next;
    }
    let text = last.to_string();
    if e.is_connect() && !text.to_lowercase().contains("connect") {
        format!("cannot connect ({text})")
    } else {
        text
    }
}

/// Rasa's answer as replies and maybe a handover. Buttons without a text of their own
/// belong to the message before them (Rasa sends them so when a response has several
/// parts); an image becomes its URL, since 8x8 takes text.
fn parse_answer(bytes: &[u8]) -> Result<BotTurn, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        let start = excerpt(&String::from_utf8_lossy(&bytes[..bytes.len().min(80)]));
        if start.is_empty() {
            "the answer is empty".to_string()
        } else {
            format!("it is not JSON ({e}), it starts with \"{start}\"")
        }
    })?;
    let Value::Array(messages) = value else {
        return Err(format!("the answer is {}, not a list", kind(&value)));
    };
    let mut turn = BotTurn::default();
    for (i, message) in messages.iter().enumerate() {
        let Value::Object(m) = message else {
            return Err(format!(
                "message {} is {}, not an object",
                i + 1,
                kind(message)
            ));
        };
        let text = match m.get("text") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(format!(
                    "the text of message {} is {}, not a string",
                    i + 1,
                    kind(other)
                ))
            }
        };
        let buttons = buttons(m.get("buttons")).map_err(|e| format!("message {}: {e}", i + 1))?;
        let image = m.get("image").and_then(Value::as_str).map(String::from);
        for text in [text, image].into_iter().flatten() {
            turn.replies.push(BotReply {
                text,
                quick_replies: Vec::new(),
            });
        }
        if !buttons.is_empty() {
            match turn.replies.last_mut() {
                Some(last) => last.quick_replies.extend(buttons),
                None => turn.replies.push(BotReply {
                    text: "Please choose:".into(),
                    quick_replies: buttons,
                }),
            }
        }
        if let Some(Value::Object(custom)) = m.get("custom") {
            let asks = custom.get("handover") == Some(&Value::Bool(true))
                || custom.get("action").and_then(Value::as_str) == Some("handover");
            if asks {
                let reason = custom
                    .get("reason")
                    .and_then(Value::as_str)
                    .filter(|r| !r.trim().is_empty())
                    .unwrap_or("the external bot asked for a handover");
                turn.handover.get_or_insert_with(|| reason.to_string());
            }
        }
    }
    Ok(turn)
}

fn buttons(value: Option<&Value>) -> Result<Vec<QuickReply>, String> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => return Err(format!("buttons is {}, not a list", kind(other))),
    };
    items
        .iter()
        .map(|b| {
            let title = b
                .get("title")
                .and_then(Value::as_str)
                .filter(|t| !t.trim().is_empty())
                .ok_or("a button has no title")?;
            let payload = b.get("payload").and_then(Value::as_str).unwrap_or(title);
            Ok(QuickReply {
                title: title.to_string(),
                payload: payload.to_string(),
            })
        })
        .collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a true/false value",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(text: &str) -> Result<BotTurn, String> {
        parse_answer(text.as_bytes())
    }

    #[test]
    fn texts_buttons_and_images_become_replies() {
        let t = turn(
            r#"[{"recipient_id":"a","text":"Hi"},
                {"recipient_id":"a","text":"Pick","buttons":[{"title":"Yes","payload":"/affirm"},{"title":"No"}]},
                {"recipient_id":"a","buttons":[{"title":"Maybe","payload":"/maybe"}]},
                {"recipient_id":"a","image":"https://x/cat.png"}]"#,
        )
        .unwrap();
        let texts: Vec<_> = t.replies.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts, ["Hi", "Pick", "https://x/cat.png"]);
        let payloads: Vec<_> = t.replies[1]
            .quick_replies
            .iter()
            .map(|q| q.payload.as_str())
            .collect();
        assert_eq!(payloads, ["/affirm", "No", "/maybe"]);
        assert_eq!(t.handover, None);
    }

    #[test]
    fn handover_custom_payloads_in_both_spellings() {
        let t = turn(r#"[{"text":"Bye"},{"custom":{"handover":true}}]"#).unwrap();
        assert_eq!(
            t.handover.as_deref(),
            Some("the external bot asked for a handover")
        );
        assert_eq!(t.replies.len(), 1);
        let t = turn(r#"[{"custom":{"action":"handover","reason":"billing dispute"}}]"#).unwrap();
        assert_eq!(t.handover.as_deref(), Some("billing dispute"));
        let t = turn(r#"[{"custom":{"handover":false,"action":"other"}}]"#).unwrap();
        assert_eq!(t.handover, None);
    }

    #[test]
    fn an_empty_list_is_a_quiet_turn() {
        assert_eq!(turn("[]").unwrap(), BotTurn::default());
    }

    #[test]
    fn other_shapes_are_refused_with_a_reason() {
        assert!(turn("").unwrap_err().contains("empty"));
        assert!(turn("<html>oops</html>")
            .unwrap_err()
            .contains("<html>oops"));
        assert!(turn(r#"{"text":"hi"}"#)
            .unwrap_err()
            .contains("an object, not a list"));
        assert!(turn(r#"["hi"]"#)
            .unwrap_err()
            .contains("message 1 is a string"));
        assert!(turn(r#"[{"text":1}]"#)
            .unwrap_err()
            .contains("not a string"));
        assert!(turn(r#"[{"text":"a","buttons":[{"payload":"p"}]}]"#)
            .unwrap_err()
            .contains("no title"));
    }
}
