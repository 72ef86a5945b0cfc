//! The optional language model: an OpenAI-compatible chat-completions endpoint writes a
//! short summary and suggested answers from the transcript. Off unless the admin sets a
//! URL; the relay decides when to call it and marks the page with [`crate::apply_model`].
//! Errors are said in words and never contain the key.

use std::time::Duration;

use serde_json::{json, Value};
use switchboard_types::Lane;

use crate::search::cut;
use crate::types::Workspace;

/// How long one call may take: the page shows the rest of the workspace meanwhile, but a
/// summary that arrives after a minute is no help to an agent already typing.
pub const MODEL_TIMEOUT: Duration = Duration::from_secs(20);
/// The transcript's latest lines sent to the model, each cut to [`MODEL_LINE_CHARS`].
pub const MODEL_LINES: usize = 80;
pub const MODEL_LINE_CHARS: usize = 500;
/// Suggested answers kept from the model.
pub const MODEL_ANSWERS: usize = 3;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("The language model URL is not usable: {0}")]
    BadUrl(String),
    #[error("The language model did not answer within {0} seconds.")]
    Timeout(u64),
    #[error("The language model at {url} could not be reached: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("The language model at {url} answered {status}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    #[error("The language model's answer could not be read: {0}")]
    Garbage(String),
}

/// The model's summary of the conversation and up to [`MODEL_ANSWERS`] answers the agent
/// could send next. `url` is the chat-completions URL (a base ending in `/v1` gets
/// `/chat/completions` added); `api_key`, when given, goes in the `Authorization` header.
pub async fn model_summary(
    client: &reqwest::Client,
    url: &str,
    model: &str,
    api_key: Option<&str>,
    workspace: &Workspace,
) -> Result<(String, Vec<String>), ModelError> {
    model_summary_within(client, url, model, api_key, workspace, MODEL_TIMEOUT).await
}

/// [`model_summary`] with another time limit.
pub async fn model_summary_within(
    client: &reqwest::Client,
    url: &str,
    model: &str,
    api_key: Option<&str>,
    workspace: &Workspace,
    timeout: Duration,
) -> Result<(String, Vec<String>), ModelError> {
    let endpoint = endpoint(url)?;
    let shown = shown(&endpoint);
    let key = api_key.map(str::trim).filter(|k| !k.is_empty());
    let scrub = |text: String| match key {
        Some(k) => text.replace(k, "…"),
        None => text,
    };
    let body = json!({ "model": model, "messages": messages(workspace) });
    let mut request = client.post(endpoint.clone()).timeout(timeout).json(&body);
    if let Some(k) = key {
        request = request.bearer_auth(k);
    }
    let timed_out = || ModelError::Timeout(timeout.as_secs().max(1));
    let response = request.send().await.map_err(|e| {
        if e.is_timeout() {
            timed_out()
        } else {
            ModelError::Unreachable {
                url: shown.clone(),
                reason: scrub(reason(&e)),
            }
        }
    })?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| {
        if e.is_timeout() {
            timed_out()
        } else {
            ModelError::Unreachable {
                url: shown.clone(),
                reason: scrub(reason(&e)),
            }
        }
    })?;
    let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
    if !status.is_success() {
        // OpenAI-style servers explain in {"error": {"message": …}}.
        let message = parsed
            .as_ref()
            .and_then(|v| {
                v["error"]["message"]
                    .as_str()
                    .or(v["error"].as_str())
                    .or(v["message"].as_str())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).trim().to_string());
        let message = if message.is_empty() {
            status
                .canonical_reason()
                .unwrap_or("no explanation")
                .to_string()
        } else {
            cut(&message, 300)
        };
        return Err(ModelError::Status {
            url: shown,
            status: status.as_u16(),
            message: scrub(message),
        });
    }
    let value = parsed.ok_or_else(|| {
        ModelError::Garbage(
            "it is not JSON; is the URL an OpenAI-compatible chat-completions endpoint?".into(),
        )
    })?;
    let content = value["choices"][0]["message"]["content"]
        .as_str()
        .ok_or_else(|| ModelError::Garbage("it has no choices[0].message.content".into()))?;
    read_content(content)
}

/// The prompt: what the model is asked for, and the conversation as the agent sees it.
pub fn messages(workspace: &Workspace) -> Vec<Value> {
    let system = "You help a contact-center agent who takes over a chat from a bot. \
        Answer with JSON only, no other text: {\"summary\": \"one or two sentences: what the customer \
        wants and where things stand\", \"answers\": [\"up to three short replies the agent could send \
        next\"]}. Use only facts from the conversation; do not invent order numbers, amounts or promises. \
        Write in the customer's language.";
    let mut lines = Vec::new();
    if let Some(reason) = &workspace.summary.handover_reason {
        lines.push(format!("(The bot handed over: {reason}.)"));
    }
    let start = workspace.transcript.len().saturating_sub(MODEL_LINES);
    for line in &workspace.transcript[start..] {
        if line.text.trim().is_empty() {
            continue;
        }
        let who = match line.lane {
            Lane::User => "Customer",
            Lane::Bot => "Bot",
            Lane::Agent => "Agent",
            Lane::System => "Note",
        };
        lines.push(format!(
            "{who}: {}",
            cut(line.text.trim(), MODEL_LINE_CHARS)
        ));
    }
    vec![
        json!({ "role": "system", "content": system }),
        json!({ "role": "user", "content": lines.join("\n") }),
    ]
}

/// The model's content: the JSON asked for (also inside a ``` fence); plain text is
/// taken as the summary alone.
fn read_content(content: &str) -> Result<(String, Vec<String>), ModelError> {
    let trimmed = content.trim();
    let unfenced = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|s| s.strip_suffix("```"))
        .unwrap_or(trimmed)
        .trim();
    if unfenced.is_empty() {
        return Err(ModelError::Garbage("its message was empty".into()));
    }
    if let Ok(v) = serde_json::from_str::<Value>(unfenced) {
        if let Some(summary) = v["summary"].as_str() {
            let answers = v["answers"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(|s| cut(s.trim(), 1_000))
                        .filter(|s| !s.is_empty())
                        .take(MODEL_ANSWERS)
                        .collect()
                })
                .unwrap_or_default();
            return Ok((cut(summary.trim(), 1_000), answers));
        }
    }
    Ok((cut(unfenced, 1_000), Vec::new()))
}

fn endpoint(url: &str) -> Result<reqwest::Url, ModelError> {
    let mut u = reqwest::Url::parse(url.trim()).map_err(|e| {
        ModelError::BadUrl(format!(
            "{e}; enter the chat-completions URL, e.g. http://localhost:11434/v1/chat/completions"
        ))
    })?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none_or(str::is_empty) {
        return Err(ModelError::BadUrl(
            "it must start with http:// or https:// and name a host".into(),
        ));
    }
    let path = u.path().trim_end_matches('/').to_string();
    if path.ends_with("/v1") {
        u.set_path(&format!("{path}/chat/completions"));
    }
    Ok(u)
}

/// The URL as errors show it: no user, password or query (where keys hide).
fn shown(u: &reqwest::Url) -> String {
    format!(
        "{}://{}{}{}",
        u.scheme(),
        u.host_str().unwrap_or_default(),
        u.port().map(|p| format!(":{p}")).unwrap_or_default(),
        u.path()
    )
}

/// reqwest's error in words, without the URL (said once, by the caller).
fn reason(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut words = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        words.push(s.to_string());
        source = s.source();
    }
    if words.is_empty() {
        "the connection failed".into()
    } else {
        words.join(": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_content_is_read_as_json_fenced_json_or_plain_text() {
        let (s, a) = read_content(
            r#"{"summary": "Wants a refund.", "answers": ["Sure.", " ", "Done.", "x", "y"]}"#,
        )
        .unwrap();
        assert_eq!(
            (s.as_str(), a),
            (
                "Wants a refund.",
                vec!["Sure.".to_string(), "Done.".into(), "x".into()]
            )
        );
        let (s, _) = read_content("```json\n{\"summary\": \"S\"}\n```").unwrap();
        assert_eq!(s, "S");
        assert_eq!(
            read_content("Just text.").unwrap(),
            ("Just text.".into(), vec![])
        );
        assert!(matches!(read_content("  "), Err(ModelError::Garbage(_))));
    }

    #[test]
    fn a_v1_base_gets_the_chat_completions_path_and_errors_hide_the_query() {
        assert_eq!(
            endpoint("http://localhost:11434/v1/").unwrap().as_str(),
            "http://localhost:11434/v1/chat/completions"
        );
        assert_eq!(
            endpoint("https://x.example/openai/deploy?api-version=1")
                .unwrap()
                .path(),
            "/openai/deploy"
        );
        assert!(matches!(endpoint("ftp://x"), Err(ModelError::BadUrl(_))));
        assert!(matches!(endpoint("not a url"), Err(ModelError::BadUrl(_))));
        let u = endpoint("https://user:pw@x.example:8443/v1?key=secret").unwrap();
        assert_eq!(shown(&u), "https://x.example:8443/v1/chat/completions");
    }
}
