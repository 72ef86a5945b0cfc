//! The admin's non-secret settings and the one interface through which they are loaded
//! and saved. The desktop app stores them with tauri-plugin-store, the headless server in
//! a JSON file; the relay sees only [`SettingsStore`]. API keys never live here.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use url::Url;

use chat_gateway_client::json_properties::MAX_ENTRIES;
use switchboard_types::token;
pub use switchboard_types::FieldError;

pub const DEFAULT_BASE_URL: &str = "https://api.8x8.com";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// Bumped when the shape changes, so that an old file can be migrated, not misread.
    pub version: u32,
    /// Whether the relay talks to the built-in 8x8 emulator instead of 8x8.
    pub sandbox: SandboxChoice,
    pub connection: ConnectionSettings,
    pub endpoint: EndpointSettings,
    pub handover: HandoverSettings,
    /// The bot: the built-in flow or an external bot by URL.
    pub bot: switchboard_bot::BotSettings,
    /// How long finished records are kept in the database; files saved before the
    /// section existed load with the defaults.
    pub retention: RetentionSettings,
}

/// How many days finished records are kept before the relay deletes them (in the
/// background, a few hundred rows at a time; see switchboard-store's `retention`).
/// Only what is done is ever deleted: deliveries the engine has finished with, outbox
/// calls 8x8 accepted or refused for good, and conversations that have ended (with their
/// transcripts), counted from their last change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", default)]
pub struct RetentionSettings {
    /// Webhook deliveries as received (the inspector's raw record), accepted or not.
    pub deliveries_days: u32,
    /// Outbox calls that were delivered to 8x8 or failed for good.
    pub outbox_days: u32,
    /// Ended conversations with their transcripts.
    pub conversations_days: u32,
}

/// The shortest and longest retention a setting takes, in days.
pub const RETENTION_DAYS: std::ops::RangeInclusive<u32> = 1..=3650;

impl Default for RetentionSettings {
    /// The raw deliveries are for debugging an integration and are the bulk of the
    /// database (each holds its whole body): two weeks. The outbox history explains what
    /// was sent to 8x8 for a month. Transcripts are what people look back at: a quarter.
    fn default() -> Self {
        Self {
            deliveries_days: 14,
            outbox_days: 30,
            conversations_days: 90,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum SandboxChoice {
    /// The sandbox while no 8x8 API key is set: a newcomer sees the whole loop at once.
    #[default]
    Auto,
    On,
    Off,
}

impl std::str::FromStr for SandboxChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "on" => Ok(Self::On),
            "off" => Ok(Self::Off),
            other => Err(format!("sandbox must be auto, on or off, not {other:?}")),
        }
    }
}

/// What the handover does when the agent leaves without a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum AgentLeaves {
    /// The bot takes the conversation back.
    #[default]
    ResumeBot,
    /// The conversation ends.
    Close,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", default)]
pub struct ConnectionSettings {
    /// The 8x8 API's base URL; the Chat Gateway lives under `/chat-gateway/v1`.
    pub base_url: String,
    /// Sent as `X-8x8-Tenant`; mandatory when the organisation has several tenants.
    pub tenant: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", default)]
pub struct EndpointSettings {
    pub enabled: bool,
    pub accept_conversation_active_event: bool,
    /// The public base URL of a tunnel or reverse proxy in front of the endpoint listener.
    pub public_base_url: Option<String>,
    /// The secret path segment of the Endpoint URL.
    pub token: String,
    pub verify_signatures: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", default)]
pub struct HandoverSettings {
    /// Use the endpoint's Base URL, tenant and API key (one 8x8 connection for both roles).
    pub use_endpoint_connection: bool,
    /// The handover's own connection, when it does not share the endpoint's.
    pub connection: ConnectionSettings,
    pub channel_id: Option<String>,
    pub queue_id: Option<String>,
    /// Custom JSON shown to the agent, kept as the admin typed it.
    pub json_properties: String,
    /// What the user is told when the bot hands over.
    pub handover_message: String,
    /// A handed-over conversation with no user message for this long is ended.
    pub inactivity_timeout_minutes: u32,
    pub when_agent_leaves: AgentLeaves,
    /// Ask 8x8 to route the conversation back to the bot after the agent (post-agent assignment).
    pub handback: bool,
    /// A native notification when a conversation is handed over or an agent replies.
    /// Only the desktop app shows them (the headless server has no desktop); files saved
    /// before the field existed load with it on, through the section's serde default.
    pub desktop_notifications: bool,
    /// What the handover checks in the contact center first (opening hours, agents,
    /// queue length) and what the customer is told while waiting. The flow's
    /// `handover.contact_center` block, when it has one, replaces this one.
    pub contact_center: switchboard_types::contact_center::ContactCenterChecks,
    /// The agent's Copilot link in every handover; files from before it load with the
    /// defaults (on, labelled "Copilot").
    #[serde(default)]
    pub copilot: crate::copilot::CopilotSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            version: 1,
            sandbox: SandboxChoice::Auto,
            connection: ConnectionSettings::default(),
            endpoint: EndpointSettings::default(),
            handover: HandoverSettings::default(),
            bot: switchboard_bot::BotSettings::default(),
            retention: RetentionSettings::default(),
        }
    }
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.into(),
            tenant: None,
        }
    }
}

impl Default for EndpointSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            accept_conversation_active_event: true,
            public_base_url: None,
            // Empty means "not generated yet"; the relay fills it in on first start.
            token: String::new(),
            verify_signatures: true,
        }
    }
}

impl Default for HandoverSettings {
    fn default() -> Self {
        Self {
            use_endpoint_connection: true,
            connection: ConnectionSettings::default(),
            channel_id: None,
            queue_id: None,
            json_properties: "{}".into(),
            handover_message: "One moment please, I am connecting you to an agent.".into(),
            inactivity_timeout_minutes: 30,
            when_agent_leaves: AgentLeaves::ResumeBot,
            handback: false,
            desktop_notifications: true,
            contact_center: Default::default(),
            copilot: Default::default(),
        }
    }
}

impl Settings {
    /// Every problem at once, so a form can mark all bad fields in one pass.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut bad = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.into(),
                message,
            })
        };
        if let Err(m) = check_base_url(&self.connection.base_url) {
            bad("connection.baseUrl", m);
        }
        if let Some(m) = check_tenant(self.connection.tenant.as_deref()) {
            bad("connection.tenant", m);
        }
        if let Some(url) = &self.endpoint.public_base_url {
            if let Err(m) = check_public_base_url(url) {
                bad("endpoint.publicBaseUrl", m);
            }
        }
        if !token::is_strong(&self.endpoint.token) {
            bad(
                "endpoint.token",
                "The Endpoint URL token must be at least 22 URL-safe characters; use Regenerate to make a new one.".into(),
            );
        }
        if !self.handover.use_endpoint_connection {
            if let Err(m) = check_base_url(&self.handover.connection.base_url) {
                bad("handover.connection.baseUrl", m);
            }
            if let Some(m) = check_tenant(self.handover.connection.tenant.as_deref()) {
                bad("handover.connection.tenant", m);
            }
        }
        for (field, value) in [
            ("handover.channelId", &self.handover.channel_id),
            ("handover.queueId", &self.handover.queue_id),
        ] {
            if let Some(v) = value {
                if v.is_empty() || v.chars().any(char::is_whitespace) {
                    bad(
                        field,
                        "An 8x8 id has no spaces; pick one from the list or leave it empty.".into(),
                    );
                }
            }
        }
        match chat_gateway_client::json_properties::parse(&self.handover.json_properties) {
            Err(m) => bad("handover.jsonProperties", m),
            // The Copilot link is one more entry of 8x8's 30.
            Ok(entries) if self.handover.copilot.enabled && entries.len() >= MAX_ENTRIES => {
                let n = entries.len();
                let over = n + 1 - MAX_ENTRIES;
                bad(
                    "handover.jsonProperties",
                    format!("With the Copilot link on, the JSON properties take at most {} entries (8x8 shows at most {MAX_ENTRIES} and the link is one); these have {n}, so remove {over} or turn the Copilot off.", MAX_ENTRIES - 1),
                );
                bad(
                    "handover.copilot.enabled",
                    format!("The Copilot link would be entry {} of 8x8's {MAX_ENTRIES}: remove {over} of the JSON properties first, or leave the Copilot off.", n + 1),
                );
            }
            Ok(_) => {}
        }
        for (path, message) in self.handover.copilot.problems() {
            bad(&format!("handover.copilot.{path}"), message);
        }
        if self.handover.handover_message.trim().is_empty() {
            bad(
                "handover.handoverMessage",
                "Say something to the user while they wait, e.g. \"Connecting you to an agent.\""
                    .into(),
            );
        }
        if !(1..=1440).contains(&self.handover.inactivity_timeout_minutes) {
            bad(
                "handover.inactivityTimeoutMinutes",
                "The inactivity timeout must be between 1 and 1440 minutes (24 hours).".into(),
            );
        }
        // The block's own rules, shared with the flow's `handover.contact_center`; they
        // bound its texts too, so the block is not in `text_fields`.
        for (path, message) in self.handover.contact_center.problems() {
            bad(&format!("handover.contactCenter.{path}"), message);
        }
        for (field, days, what) in [
            (
                "retention.deliveriesDays",
                self.retention.deliveries_days,
                "Webhook deliveries",
            ),
            (
                "retention.outboxDays",
                self.retention.outbox_days,
                "Finished outbox calls",
            ),
            (
                "retention.conversationsDays",
                self.retention.conversations_days,
                "Ended conversations",
            ),
        ] {
            if !RETENTION_DAYS.contains(&days) {
                bad(
                    field,
                    format!(
                        "{what} are kept between {} and {} days (10 years); {days} is outside that.",
                        RETENTION_DAYS.start(),
                        RETENTION_DAYS.end()
                    ),
                );
            }
        }
        for (field, value, max) in self.text_fields() {
            let length = value.chars().count();
            if length > max {
                bad(
                    field,
                    format!("This field takes at most {max} characters; it has {length}."),
                );
            }
        }
        errors.extend(switchboard_bot::validate(&self.bot));
        errors
    }

    /// Every free-text field with the most it may hold: generous for what an admin types,
    /// and small enough that an import cannot fill the settings file (or every handover
    /// message) with megabytes.
    fn text_fields(&self) -> Vec<(&'static str, &str, usize)> {
        let mut fields = vec![
            (
                "connection.baseUrl",
                self.connection.base_url.as_str(),
                MAX_URL,
            ),
            (
                "handover.connection.baseUrl",
                self.handover.connection.base_url.as_str(),
                MAX_URL,
            ),
            (
                "handover.jsonProperties",
                self.handover.json_properties.as_str(),
                MAX_JSON_PROPERTIES,
            ),
            (
                "handover.handoverMessage",
                self.handover.handover_message.as_str(),
                MAX_MESSAGE,
            ),
            ("bot.flow", self.bot.flow.as_str(), MAX_FLOW),
        ];
        for (field, value, max) in [
            ("connection.tenant", &self.connection.tenant, MAX_ID),
            (
                "handover.connection.tenant",
                &self.handover.connection.tenant,
                MAX_ID,
            ),
            ("handover.channelId", &self.handover.channel_id, MAX_ID),
            ("handover.queueId", &self.handover.queue_id, MAX_ID),
            (
                "endpoint.publicBaseUrl",
                &self.endpoint.public_base_url,
                MAX_URL,
            ),
            ("bot.externalUrl", &self.bot.external_url, MAX_URL),
        ] {
            if let Some(v) = value {
                fields.push((field, v.as_str(), max));
            }
        }
        fields
    }
}

/// The longest URL a setting takes.
pub const MAX_URL: usize = 2_048;
/// The longest 8x8 id or tenant name a setting takes.
pub const MAX_ID: usize = 256;
/// The longest message the bot says for the relay (e.g. the handover message).
pub const MAX_MESSAGE: usize = 2_000;
/// The JSON properties as typed: 30 entries of 8x8's longest values fit.
pub const MAX_JSON_PROPERTIES: usize = 64 * 1024;
/// The built-in flow as typed.
pub const MAX_FLOW: usize = 256 * 1024;

impl Settings {
    /// Form fields arrive as typed: trim them and turn empty optional fields into "none",
    /// so "" never reaches 8x8 as a tenant or an id.
    pub fn normalized(mut self) -> Self {
        fn opt(v: &mut Option<String>) {
            *v = v
                .take()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty());
        }
        self.connection.base_url = self.connection.base_url.trim().to_string();
        self.handover.connection.base_url = self.handover.connection.base_url.trim().to_string();
        opt(&mut self.connection.tenant);
        opt(&mut self.handover.connection.tenant);
        opt(&mut self.endpoint.public_base_url);
        opt(&mut self.handover.channel_id);
        opt(&mut self.handover.queue_id);
        self.bot = self.bot.normalized();
        self.handover.copilot = self.handover.copilot.normalized();
        self
    }
}

fn check_tenant(tenant: Option<&str>) -> Option<String> {
    let t = tenant?;
    (t.is_empty() || t.chars().any(char::is_whitespace)).then(|| {
        "The 8x8-Tenant has no spaces; leave it empty if your organisation has one tenant.".into()
    })
}

pub(crate) fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// https for real tenants; plain http only on loopback, where the sandbox runs.
pub fn check_base_url(raw: &str) -> Result<(), String> {
    let url = Url::parse(raw.trim()).map_err(|e| {
        format!("The Base URL is not a valid URL ({e}); use for example {DEFAULT_BASE_URL}.")
    })?;
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback_host(&url) => Ok(()),
        "http" => Err("The Base URL must use https (plain http is allowed only for localhost, where the sandbox runs).".into()),
        other => Err(format!("The Base URL must start with https://, not {other}://.")),
    }
}

pub fn check_public_base_url(raw: &str) -> Result<(), String> {
    let url = Url::parse(raw.trim()).map_err(|e| {
        format!("The public base URL is not a valid URL ({e}); use the https address of your tunnel or reverse proxy.")
    })?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err("The public base URL must start with https://.".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("The public base URL must not contain a query (?…) or fragment (#…).".into());
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read the settings at {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the settings at {path} are not valid JSON ({source}); fix or remove the file — it was left untouched")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error("cannot write the settings to {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("the settings store failed: {0}")]
    Backend(String),
}

/// Where the non-secret settings live. Implementations must write atomically: a crash
/// during save leaves either the old or the new settings, never a torn file.
pub trait SettingsStore: Send + Sync {
    fn load(&self) -> Result<Option<Settings>, SettingsError>;
    fn save(&self, settings: &Settings) -> Result<(), SettingsError>;
    /// A human description of where the settings are kept (shown in the status screen).
    fn location(&self) -> String;
}

/// Creates (or truncates) `path` readable and writable by its owner alone.
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        // `mode` applies only when the file is created; a leftover keeps its own.
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}

/// The headless server's settings: one JSON file.
pub struct JsonFileSettings {
    path: PathBuf,
}

impl JsonFileSettings {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl SettingsStore for JsonFileSettings {
    fn load(&self) -> Result<Option<Settings>, SettingsError> {
        let path = self.path.display().to_string();
        let text = match fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(SettingsError::Read { path, source }),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|source| SettingsError::Parse { path, source })
    }

    fn save(&self, settings: &Settings) -> Result<(), SettingsError> {
        let path = self.path.display().to_string();
        let write_err = |source| SettingsError::Write {
            path: path.clone(),
            source,
        };
        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir).map_err(write_err)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        let body = serde_json::to_vec_pretty(settings).expect("settings always serialize");
        // Owner-only: the file holds the Endpoint URL token (whoever has it can post
        // events), whatever the umask.
        let mut file = private_file(&tmp).map_err(write_err)?;
        file.write_all(&body).map_err(write_err)?;
        file.sync_all().map_err(write_err)?;
        fs::rename(&tmp, &self.path).map_err(write_err)
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }
}

/// Settings that live only as long as the process: for tests.
#[derive(Default)]
pub struct MemorySettings {
    inner: std::sync::Mutex<Option<Settings>>,
}

impl SettingsStore for MemorySettings {
    fn load(&self) -> Result<Option<Settings>, SettingsError> {
        Ok(self.inner.lock().expect("not poisoned").clone())
    }
    fn save(&self, settings: &Settings) -> Result<(), SettingsError> {
        *self.inner.lock().expect("not poisoned") = Some(settings.clone());
        Ok(())
    }
    fn location(&self) -> String {
        "memory (not persisted)".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_field_has_a_bound() {
        let mut s = Settings::default();
        s.endpoint.token = token::generate();
        assert!(s.validate().is_empty(), "{:?}", s.validate());
        s.handover.handover_message = "x".repeat(1_500_000);
        s.handover.queue_id = Some("q".repeat(MAX_ID + 1));
        let fields: Vec<_> = s.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["handover.handoverMessage", "handover.queueId"]);
        s.handover.handover_message = "é".repeat(MAX_MESSAGE);
        s.handover.queue_id = Some("q".repeat(MAX_ID));
        assert!(
            s.validate().is_empty(),
            "characters, not bytes, at the limit"
        );
    }

    fn valid() -> Settings {
        let mut s = Settings::default();
        s.endpoint.token = token::generate();
        s
    }

    #[test]
    fn defaults_with_a_token_are_valid() {
        assert_eq!(valid().validate(), vec![]);
    }

    #[test]
    fn base_url_rules() {
        assert!(check_base_url("https://api.8x8.com").is_ok());
        assert!(check_base_url("http://127.0.0.1:9000").is_ok());
        assert!(check_base_url("http://localhost:9000").is_ok());
        assert!(check_base_url("http://api.8x8.com")
            .unwrap_err()
            .contains("https"));
        assert!(check_base_url("ftp://x").unwrap_err().contains("ftp"));
        assert!(check_base_url("not a url")
            .unwrap_err()
            .contains("not a valid URL"));
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut s = valid();
        s.connection.base_url = "http://example.com".into();
        s.connection.tenant = Some(" ".into());
        s.endpoint.token = "x".into();
        s.handover.json_properties = "[1]".into();
        s.handover.use_endpoint_connection = false;
        s.handover.connection.base_url = "nope".into();
        s.handover.queue_id = Some("1 2".into());
        s.handover.handover_message = " ".into();
        s.handover.inactivity_timeout_minutes = 0;
        let fields: Vec<_> = s.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "connection.baseUrl",
                "connection.tenant",
                "endpoint.token",
                "handover.connection.baseUrl",
                "handover.queueId",
                "handover.jsonProperties",
                "handover.handoverMessage",
                "handover.inactivityTimeoutMinutes",
            ]
        );
    }

    #[test]
    fn file_round_trip_and_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = JsonFileSettings::new(dir.path().join("sub/settings.json"));
        assert_eq!(store.load().unwrap(), None);
        let s = valid();
        store.save(&s).unwrap();
        assert_eq!(store.load().unwrap(), Some(s));
    }

    #[test]
    fn a_corrupt_file_is_reported_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        fs::write(&path, "{ not json").unwrap();
        let err = JsonFileSettings::new(&path).load().unwrap_err();
        assert!(err.to_string().contains("not valid JSON"), "{err}");
        assert!(err.to_string().contains("line 1"), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "{ not json");
    }

    #[test]
    fn normalizing_turns_blank_optional_fields_into_none() {
        let mut s = valid();
        s.connection.tenant = Some("  ".into());
        s.endpoint.public_base_url = Some("".into());
        s.handover.channel_id = Some(" 25 ".into());
        s.connection.base_url = " https://api.8x8.com ".into();
        let n = s.normalized();
        assert_eq!(n.connection.tenant, None);
        assert_eq!(n.endpoint.public_base_url, None);
        assert_eq!(n.handover.channel_id.as_deref(), Some("25"));
        assert_eq!(n.connection.base_url, "https://api.8x8.com");
        assert_eq!(n.validate(), vec![]);
    }

    #[test]
    fn missing_fields_take_defaults() {
        let s: Settings = serde_json::from_str(r#"{"connection":{"tenant":"t1"}}"#).unwrap();
        assert_eq!(s.connection.base_url, DEFAULT_BASE_URL);
        assert_eq!(s.connection.tenant.as_deref(), Some("t1"));
        assert!(s.endpoint.verify_signatures);
    }

    #[test]
    fn retention_defaults_load_from_an_old_file_and_bad_days_are_named() {
        // A file saved before the retention section existed.
        let old: Settings = serde_json::from_str(r#"{"handover":{"queueId":"q1"}}"#).unwrap();
        assert_eq!(old.retention, RetentionSettings::default());
        assert_eq!(
            (
                old.retention.deliveries_days,
                old.retention.outbox_days,
                old.retention.conversations_days
            ),
            (14, 30, 90)
        );
        // A section with only some fields takes the defaults for the rest.
        let partial: Settings =
            serde_json::from_str(r#"{"retention":{"conversationsDays":365}}"#).unwrap();
        assert_eq!(partial.retention.conversations_days, 365);
        assert_eq!(partial.retention.deliveries_days, 14);

        let mut s = valid();
        s.retention = RetentionSettings {
            deliveries_days: 0,
            outbox_days: 3651,
            conversations_days: 3650,
        };
        let errors = s.validate();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["retention.deliveriesDays", "retention.outboxDays"]);
        assert_eq!(
            errors[0].message,
            "Webhook deliveries are kept between 1 and 3650 days (10 years); 0 is outside that."
        );
        s.retention.deliveries_days = 1;
        s.retention.outbox_days = 3650;
        assert_eq!(s.validate(), vec![], "both ends of the range are allowed");
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["retention"]["outboxDays"], 3650);
    }

    #[test]
    fn a_bad_contact_center_value_is_named_by_its_field() {
        use switchboard_types::contact_center::{OpeningHours, QueueLimit};
        let mut s = valid();
        let cc = &mut s.handover.contact_center;
        cc.opening_hours = Some(OpeningHours {
            schedule_id: String::new(),
            ..OpeningHours::default()
        });
        cc.queue_limit = Some(QueueLimit {
            max_waiting: Some(20_000),
            ..QueueLimit::default()
        });
        cc.queue_update_seconds = 5;
        cc.status.agent_joined = "{name} joined".into();
        let errors = s.validate();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "handover.contactCenter.openingHours.scheduleId",
                "handover.contactCenter.queueLimit.maxWaiting",
                "handover.contactCenter.queueUpdateSeconds",
                "handover.contactCenter.status.agentJoined",
            ]
        );
        assert_eq!(
            errors[3].message,
            "{name} is not filled in here; this message can use {agent}."
        );
    }

    #[test]
    fn a_settings_file_without_the_contact_center_block_loads_and_validates() {
        let mut old: Settings =
            serde_json::from_str(r#"{"handover":{"queueId":"q1","handback":true}}"#).unwrap();
        assert_eq!(
            old.handover.contact_center,
            switchboard_types::contact_center::ContactCenterChecks::default()
        );
        old.endpoint.token = token::generate();
        assert_eq!(old.validate(), vec![]);
    }

    #[test]
    fn desktop_notifications_default_on_and_round_trip_off() {
        // A handover section saved before the field existed.
        let old: Settings =
            serde_json::from_str(r#"{"handover":{"handback":true,"queueId":"q1"}}"#).unwrap();
        assert!(old.handover.desktop_notifications);
        assert!(old.handover.handback);
        let mut s = valid();
        s.handover.desktop_notifications = false;
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["handover"]["desktopNotifications"], false);
        let back: Settings = serde_json::from_value(json).unwrap();
        assert!(!back.handover.desktop_notifications);
    }
}
