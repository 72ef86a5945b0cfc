//! The agent's Copilot: a page served by the endpoint listener for each handed-over
//! conversation, linked from the handover as an entry of `user.additionalProperties`.
//! Its secrets (the JWT shared secret, the model's API key) live in the keychain
//! ([`crate::secrets::SecretName`]), never here.

use serde::{Deserialize, Serialize};

/// The Copilot's settings, under `handover.copilot`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", default)]
pub struct CopilotSettings {
    /// Put a Copilot link in every handover.
    pub enabled: bool,
    /// The key of the link's entry in `user.additionalProperties` (what the agent reads).
    pub label: String,
    /// How long after the conversation ends the link keeps working.
    pub expiry_hours: u32,
    /// Add `&auth=<JWT>` (HS256, signed with the keychain's shared secret) so an agent
    /// desktop can verify the link before embedding it in an iframe.
    pub signed_links: bool,
    /// An optional knowledge file's text (Markdown, or FAQ-style YAML) searched beside
    /// the flow's answers.
    pub knowledge: String,
    /// An optional OpenAI-compatible language model for the summary and suggestions.
    pub model: CopilotModel,
}

/// An OpenAI-compatible chat-completions service; its API key is in the keychain.
/// Off by default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", default)]
pub struct CopilotModel {
    pub enabled: bool,
    /// The chat-completions URL, e.g. `https://api.example.com/v1/chat/completions`.
    pub url: String,
    /// The model's name as the service knows it.
    pub model: String,
}

impl Default for CopilotSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            label: "Copilot".into(),
            expiry_hours: 24,
            signed_links: false,
            knowledge: String::new(),
            model: CopilotModel::default(),
        }
    }
}

/// The longest link label, in characters.
pub const MAX_LABEL: usize = 60;
/// How long a link may outlive its conversation, in hours (1 hour to 30 days).
pub const EXPIRY_HOURS: std::ops::RangeInclusive<u32> = 1..=720;
/// The largest knowledge file, in bytes.
pub const MAX_KNOWLEDGE_BYTES: usize = 512 * 1024;
/// The longest model name.
pub const MAX_MODEL_NAME: usize = 200;

impl CopilotSettings {
    /// Trims what was typed.
    pub fn normalized(mut self) -> Self {
        self.label = self.label.trim().to_string();
        self.model.url = self.model.url.trim().to_string();
        self.model.model = self.model.model.trim().to_string();
        self
    }

    /// Every problem, as (path under `handover.copilot.`, message).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let label = self.label.chars().count();
        if self.label.trim().is_empty() {
            out.push((
                "label",
                "Name the link as the agent will see it in 8x8, e.g. \"Copilot\".".into(),
            ));
        } else if label > MAX_LABEL {
            out.push((
                "label",
                format!("The link's label takes at most {MAX_LABEL} characters; it has {label}."),
            ));
        }
        if !EXPIRY_HOURS.contains(&self.expiry_hours) {
            out.push((
                "expiryHours",
                format!(
                    "The link keeps working between {} and {} hours (30 days) after the conversation ends; {} is outside that.",
                    EXPIRY_HOURS.start(),
                    EXPIRY_HOURS.end(),
                    self.expiry_hours
                ),
            ));
        }
        if self.knowledge.len() > MAX_KNOWLEDGE_BYTES {
            out.push((
                "knowledge",
                format!(
                    "The knowledge file takes at most 512 KiB; this one has {} KiB. Split it or keep the answers agents need most.",
                    self.knowledge.len().div_ceil(1024)
                ),
            ));
        }
        let url = self.model.url.trim();
        if self.model.enabled || !url.is_empty() {
            if url.is_empty() {
                out.push((
                    "model.url",
                    "Give the model's chat-completions URL, e.g. https://api.example.com/v1/chat/completions, or turn the model off.".into(),
                ));
            } else if let Err(m) = check_model_url(url) {
                out.push(("model.url", m));
            }
        }
        if self.model.enabled && self.model.model.trim().is_empty() {
            out.push((
                "model.model",
                "Name the model as the service knows it, e.g. gpt-4o-mini.".into(),
            ));
        }
        if self.model.model.chars().count() > MAX_MODEL_NAME {
            out.push((
                "model.model",
                format!("A model name takes at most {MAX_MODEL_NAME} characters."),
            ));
        }
        if self.model.url.chars().count() > crate::settings::MAX_URL {
            out.push((
                "model.url",
                format!(
                    "This field takes at most {} characters.",
                    crate::settings::MAX_URL
                ),
            ));
        }
        out
    }
}

/// https, or plain http only on this machine (a local model or a test stand-in): the
/// conversation's text and the API key go to it.
fn check_model_url(raw: &str) -> Result<(), String> {
    let url = url::Url::parse(raw).map_err(|e| {
        format!("The model URL is not a valid URL ({e}); use for example https://api.example.com/v1/chat/completions.")
    })?;
    match url.scheme() {
        "https" => Ok(()),
        "http" if crate::settings::is_loopback_host(&url) => Ok(()),
        "http" => Err("The model URL must use https (plain http only for localhost): the conversation and the API key travel to it.".into()),
        other => Err(format!("The model URL must start with https://, not {other}://.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_old_files_load() {
        assert!(CopilotSettings::default().problems().is_empty());
        let s: CopilotSettings = serde_json::from_str(r#"{"label":"Assist"}"#).unwrap();
        assert_eq!(s.label, "Assist");
        assert_eq!(s.expiry_hours, 24);
        assert!(s.enabled);
    }

    #[test]
    fn bounds_are_named_by_field() {
        let mut s = CopilotSettings {
            label: "x".repeat(61),
            expiry_hours: 0,
            knowledge: "a".repeat(MAX_KNOWLEDGE_BYTES + 1),
            ..Default::default()
        };
        s.model.enabled = true;
        s.model.url = "http://example.com/v1/chat/completions".into();
        let fields: Vec<_> = s.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "label",
                "expiryHours",
                "knowledge",
                "model.url",
                "model.model"
            ]
        );
        s.expiry_hours = 721;
        assert!(s.problems().iter().any(|(f, _)| *f == "expiryHours"));
        s = CopilotSettings::default();
        s.model.url = "http://127.0.0.1:9/v1/chat/completions".into();
        assert!(s.problems().is_empty());
    }

    #[test]
    fn the_link_counts_against_8x8s_30_properties() {
        let props = |n: usize| {
            let map: serde_json::Map<_, _> = (0..n)
                .map(|i| (format!("k{i}"), serde_json::Value::String("v".into())))
                .collect();
            serde_json::Value::Object(map).to_string()
        };
        let mut s = crate::Settings::default();
        s.endpoint.token = "abcdefghijklmnopqrstuvwxyz012345".into();
        s.handover.json_properties = props(29);
        assert!(s.validate().is_empty(), "{:?}", s.validate());
        s.handover.json_properties = props(30);
        let fields: Vec<_> = s.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            ["handover.jsonProperties", "handover.copilot.enabled"]
        );
        s.handover.copilot.enabled = false;
        assert!(s.validate().is_empty());
    }
}
