//! The bot the relay talks for: either the built-in flow the admin edits in the settings
//! (see [`flow`] for its YAML format) or an external bot reached by URL over the Rasa REST
//! channel. The conversation engine sees one interface for both: it feeds a [`BotInput`]
//! and a per-conversation [`BotSession`] to [`Bot::respond`] and gets replies back, plus
//! a handover reason when the user should go to a human agent.

mod error;
#[cfg(feature = "external")]
mod external;
pub mod flow;
mod runner;
/// YAML with positions; the Copilot's FAQ files and flow reader use it too, so that their
/// errors name lines the way the flow's do.
pub mod yaml;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use error::BotError;
pub use flow::{Flow, FlowError};

use switchboard_types::FieldError;

/// The flow a new installation starts with: friendly, short, and a model to edit.
pub const DEFAULT_FLOW: &str = include_str!("default_flow.yaml");

pub const DEFAULT_EXTERNAL_TIMEOUT_MS: u32 = 10_000;
/// The external bot's time limit per message may be set within these bounds.
pub const EXTERNAL_TIMEOUT_MS_RANGE: std::ops::RangeInclusive<u32> = 100..=60_000;

/// What an external bot receives when a conversation starts, so that it greets first.
/// Rasa reads a leading slash as an intent given directly (no NLU), and `greet` is the
/// intent that Rasa's starter project and most bots built from it answer with a greeting.
pub const EXTERNAL_START_MESSAGE: &str = "/greet";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", default)]
pub struct BotSettings {
    pub kind: BotKind,
    /// The built-in flow as YAML, kept as the admin typed it (comments and all).
    pub flow: String,
    /// The Rasa REST channel's webhook, e.g. `http://localhost:5005/webhooks/rest/webhook`.
    pub external_url: Option<String>,
    /// How long the external bot may take to answer one message.
    pub external_timeout_ms: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum BotKind {
    #[default]
    Builtin,
    External,
}

impl Default for BotSettings {
    fn default() -> Self {
        Self {
            kind: BotKind::Builtin,
            flow: DEFAULT_FLOW.into(),
            external_url: None,
            external_timeout_ms: DEFAULT_EXTERNAL_TIMEOUT_MS,
        }
    }
}

impl BotSettings {
    /// Form fields arrive as typed: a blank URL means "none". The flow is left as typed,
    /// so that line numbers in errors match what the admin sees.
    pub fn normalized(mut self) -> Self {
        self.external_url = self
            .external_url
            .take()
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty());
        self
    }
}

/// Every problem with the bot settings, named by form field. Only the bot in use is
/// checked: an admin trying an external bot is not held up by a half-edited flow, which
/// is checked again when they switch back.
pub fn validate(settings: &BotSettings) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut bad = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.into(),
            message,
        })
    };
    match settings.kind {
        BotKind::Builtin => {
            if let Err(e) = flow::parse(&settings.flow) {
                bad("bot.flow", e.to_string());
            }
        }
        BotKind::External => {
            match settings.external_url.as_deref().map(str::trim) {
                None | Some("") => bad(
                    "bot.externalUrl",
                    "Enter the external bot's URL, e.g. http://localhost:5005/webhooks/rest/webhook for Rasa.".into(),
                ),
                Some(url) => {
                    if let Err(m) = check_external_url(url) {
                        bad("bot.externalUrl", m);
                    }
                }
            }
            if !EXTERNAL_TIMEOUT_MS_RANGE.contains(&settings.external_timeout_ms) {
                bad(
                    "bot.externalTimeoutMs",
                    format!(
                        "The time limit must be between {} and {} ms (one minute).",
                        EXTERNAL_TIMEOUT_MS_RANGE.start(),
                        EXTERNAL_TIMEOUT_MS_RANGE.end()
                    ),
                );
            }
        }
    }
    errors
}

/// http or https with a host. Plain http is allowed anywhere: a Rasa server usually runs
/// next to the relay or on a private network.
pub fn check_external_url(raw: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(raw.trim()).map_err(|e| {
        format!("The external bot URL is not a valid URL ({e}); use for example http://localhost:5005/webhooks/rest/webhook.")
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "The external bot URL must start with http:// or https://, not {}://.",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("The external bot URL needs a host name.".into());
    }
    Ok(url)
}

/// What happened in the conversation that the bot should answer.
#[derive(Debug, Clone, PartialEq)]
pub enum BotInput {
    /// The conversation became active: greet.
    Start,
    Text(String),
    /// The user picked one of the bot's quick replies.
    QuickReply {
        title: String,
        payload: String,
    },
    /// The user submitted a card (a form); its values are read as text.
    CardSubmit(Value),
}

/// One conversation's bot state, stored by the engine as JSON between turns.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BotSession {
    /// The conversation's id towards an external bot (Rasa's `sender`).
    pub sender_id: String,
    /// Messages in a row that no rule of the flow understood.
    pub fallbacks: u32,
    pub name: Option<String>,
    pub email: Option<String>,
    pub language: Option<String>,
    /// More about the user or the conversation, passed on in Rasa's `metadata`.
    pub metadata: serde_json::Map<String, Value>,
}

impl BotSession {
    pub fn new(sender_id: impl Into<String>) -> Self {
        Self {
            sender_id: sender_id.into(),
            ..Self::default()
        }
    }
}

/// The bot's answer to one input.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BotTurn {
    pub replies: Vec<BotReply>,
    /// Set when the conversation should go to a human agent: why, for the agent and the
    /// log (e.g. "asked for an agent"). The handover message is then the last reply.
    pub handover: Option<String>,
    /// What answered, for the agent's workspace: the rule's name (or "rule at line N"),
    /// "greeting", "fallback" or "handover". `None` for an external bot, which does not say.
    #[serde(default)]
    pub rule: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BotReply {
    pub text: String,
    #[serde(default)]
    pub quick_replies: Vec<QuickReply>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuickReply {
    pub title: String,
    pub payload: String,
}

/// A bot ready to answer: the flow parsed and its regexes compiled, or the external
/// bot's HTTP client built. Build it once per settings change and clone it freely; a
/// clone shares the compiled regexes and the connection pool.
#[derive(Debug, Clone)]
pub struct Bot {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    /// Boxed: a flow (its contact-center block most of all) is several times the size of
    /// the external bot's client.
    Builtin(Box<Flow>),
    #[cfg(feature = "external")]
    External(external::Rasa),
}

impl Bot {
    pub fn from_settings(settings: &BotSettings) -> Result<Bot, BotError> {
        let kind = match settings.kind {
            BotKind::Builtin => Kind::Builtin(Box::new(flow::parse(&settings.flow)?)),
            BotKind::External => {
                let url = settings
                    .external_url
                    .as_deref()
                    .map(str::trim)
                    .filter(|u| !u.is_empty())
                    .ok_or(BotError::NoExternalUrl)?;
                #[cfg(feature = "external")]
                {
                    Kind::External(external::Rasa::new(url, settings.external_timeout_ms)?)
                }
                #[cfg(not(feature = "external"))]
                {
                    let _ = url;
                    return Err(BotError::ExternalNotBuilt);
                }
            }
        };
        Ok(Bot { kind })
    }

    /// The built-in bot for a flow already parsed (the fuzz target checks the bot's
    /// answers against the flow it parsed, without parsing it twice).
    #[doc(hidden)]
    pub fn from_flow(flow: Flow) -> Bot {
        Bot {
            kind: Kind::Builtin(Box::new(flow)),
        }
    }

    /// The flow's contact-center checks, which replace the Handover settings' block
    /// whole; `None` for an external bot or a flow without the block (the settings'
    /// block applies).
    pub fn contact_center(
        &self,
    ) -> Option<&switchboard_types::contact_center::ContactCenterChecks> {
        match &self.kind {
            Kind::Builtin(flow) => flow.handover.contact_center.as_ref(),
            #[cfg(feature = "external")]
            Kind::External(_) => None,
        }
    }

    pub fn kind(&self) -> BotKind {
        match self.kind {
            Kind::Builtin(_) => BotKind::Builtin,
            #[cfg(feature = "external")]
            Kind::External(_) => BotKind::External,
        }
    }

    /// What the built-in flow says when it hands over; an external bot has none of its
    /// own (the Handover settings' message is said for it).
    pub fn handover_message(&self) -> Option<&str> {
        match &self.kind {
            Kind::Builtin(flow) => Some(&flow.handover.message),
            #[cfg(feature = "external")]
            Kind::External(_) => None,
        }
    }

    /// Answers one input. The built-in flow never fails; an external bot's timeout,
    /// outage or garbage comes back as a [`BotError`] to show in the conversation, and
    /// the session is left as it was.
    pub async fn respond(
        &self,
        session: &mut BotSession,
        input: BotInput,
    ) -> Result<BotTurn, BotError> {
        match &self.kind {
            Kind::Builtin(flow) => Ok(runner::respond(flow, session, input)),
            #[cfg(feature = "external")]
            Kind::External(rasa) => rasa.respond(session, input).await,
        }
    }
}

/// A submitted card as text the rules can match: the values of its `data` (or of the
/// whole submission when there is no `data`), in order, separated by spaces.
pub(crate) fn card_text(value: &Value) -> String {
    fn collect(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) if !s.trim().is_empty() => out.push(s.trim().to_string()),
            Value::Number(n) => out.push(n.to_string()),
            Value::Array(items) => items.iter().for_each(|i| collect(i, out)),
            Value::Object(map) => map.values().for_each(|i| collect(i, out)),
            _ => {}
        }
    }
    let data = value.get("data").unwrap_or(value);
    let mut parts = Vec::new();
    collect(data, &mut parts);
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_are_valid_and_use_the_default_flow() {
        let s = BotSettings::default();
        assert_eq!(s.kind, BotKind::Builtin);
        assert_eq!(s.flow, DEFAULT_FLOW);
        assert_eq!(validate(&s), vec![]);
        assert!(Bot::from_settings(&s).is_ok());
    }

    #[test]
    fn settings_json_is_camel_case_and_missing_fields_take_defaults() {
        let s: BotSettings =
            serde_json::from_value(json!({"kind": "external", "externalUrl": "http://x"})).unwrap();
        assert_eq!(s.kind, BotKind::External);
        assert_eq!(s.external_timeout_ms, DEFAULT_EXTERNAL_TIMEOUT_MS);
        assert_eq!(s.flow, DEFAULT_FLOW);
        let v = serde_json::to_value(BotSettings::default()).unwrap();
        assert_eq!(v["kind"], "builtin");
        assert_eq!(v["externalTimeoutMs"], 10_000);
        assert!(v.get("externalUrl").is_some());
    }

    #[test]
    fn a_bad_flow_is_a_bot_flow_error_with_its_line() {
        let s = BotSettings {
            flow: "greeting: Hi\nfallback: f\nhandover:\n  reply: h\n  regex: '['\n".into(),
            ..BotSettings::default()
        };
        let errors = validate(&s);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "bot.flow");
        assert!(
            errors[0].message.starts_with("line 5, column 10: "),
            "{}",
            errors[0].message
        );
        let e = Bot::from_settings(&s).unwrap_err();
        assert!(e.to_string().contains("line 5, column 10"), "{e}");
    }

    #[test]
    fn an_external_bot_needs_an_http_url_and_a_sane_time_limit() {
        let fields = |url: Option<&str>, ms: u32| {
            let s = BotSettings {
                kind: BotKind::External,
                external_url: url.map(String::from),
                external_timeout_ms: ms,
                flow: "not: [a flow".into(),
            };
            validate(&s)
                .into_iter()
                .map(|e| e.field)
                .collect::<Vec<_>>()
        };
        // The flow is not in use, so it is not checked.
        assert!(fields(Some("http://localhost:5005/webhooks/rest/webhook"), 10_000).is_empty());
        assert!(fields(Some("https://bot.example.com/hook?token=x"), 100).is_empty());
        assert_eq!(fields(None, 60_000), ["bot.externalUrl"]);
        assert_eq!(fields(Some("  "), 60_000), ["bot.externalUrl"]);
        assert_eq!(fields(Some("ftp://x"), 10_000), ["bot.externalUrl"]);
        assert_eq!(fields(Some("localhost:5005"), 10_000), ["bot.externalUrl"]);
        assert_eq!(fields(Some("http://x"), 99), ["bot.externalTimeoutMs"]);
        assert_eq!(fields(Some("http://x"), 60_001), ["bot.externalTimeoutMs"]);
        assert!(matches!(
            Bot::from_settings(&BotSettings {
                kind: BotKind::External,
                ..BotSettings::default()
            }),
            Err(BotError::NoExternalUrl)
        ));
        let e = Bot::from_settings(&BotSettings {
            kind: BotKind::External,
            external_url: Some("ftp://bot.example/hook?token=secret".into()),
            ..BotSettings::default()
        })
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "The external bot URL must start with http:// or https://, not ftp://."
        );
    }

    #[test]
    fn normalizing_turns_a_blank_url_into_none() {
        let s = BotSettings {
            external_url: Some("  ".into()),
            ..BotSettings::default()
        };
        assert_eq!(s.normalized().external_url, None);
        let s = BotSettings {
            external_url: Some(" http://x/hook ".into()),
            ..BotSettings::default()
        };
        assert_eq!(
            s.normalized().external_url.as_deref(),
            Some("http://x/hook")
        );
    }

    #[test]
    fn a_turn_can_run_on_a_spawned_task() {
        fn spawnable<T: Send + 'static>(_: &T) {}
        fn shareable<T: Send + Sync + Clone>(_: &T) {}
        let bot = Bot::from_settings(&BotSettings::default()).unwrap();
        shareable(&bot);
        spawnable(&async move {
            let mut session = BotSession::new("c");
            bot.respond(&mut session, BotInput::Start).await
        });
    }

    #[test]
    fn sessions_survive_a_json_round_trip() {
        let mut s = BotSession::new("conv-1");
        s.fallbacks = 1;
        s.name = Some("Ada".into());
        s.metadata.insert("channel".into(), json!("webchat"));
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<BotSession>(&text).unwrap(), s);
        // An older row without the newer fields still loads.
        let old: BotSession = serde_json::from_str(r#"{"senderId":"c"}"#).unwrap();
        assert_eq!(old, BotSession::new("c"));
    }

    #[test]
    fn a_card_reads_as_the_values_of_its_data() {
        assert_eq!(
            card_text(&json!({"data": {"topic": "billing", "order": 123456, "ok": true}})),
            "billing 123456"
        );
        assert_eq!(card_text(&json!({"choice": "agent"})), "agent");
        assert_eq!(card_text(&json!(null)), "");
    }
}
