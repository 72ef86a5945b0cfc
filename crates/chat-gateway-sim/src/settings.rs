//! Behaviour switches of the emulator where 8x8's behaviour is unknown or slow (P4, P11),
//! changeable at run time through the control API so tests can run fast.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// Waits before attempts 2, 3, …; P11's default is 1 s, 10 s, 30 s, 90 s.
    pub retry_schedule_ms: Vec<u64>,
    /// Per-attempt timeout of a webhook delivery.
    pub delivery_timeout_ms: u64,
    /// Send WEB_HOOK_VERIFY on webhook create/update and fail with 400 if it fails (P4).
    pub verify_webhooks: bool,
    /// Sign the WEB_HOOK_VERIFY event (P4: unknown; default signed).
    pub sign_verify_events: bool,
    /// Echo every `POST …/messages` back as `MESSAGE isEcho:true` (P5, P6).
    pub echo_messages: bool,
    /// Delay between `created` and `active` (the asynchronous interaction creation).
    pub activation_delay_ms: u64,
    /// Length of a "minute" for the post-agent timers, so tests need not wait minutes.
    pub minute_ms: u64,
    /// Reject language codes outside the 21 documented ones (P19).
    pub strict_language: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            retry_schedule_ms: vec![1_000, 10_000, 30_000, 90_000],
            delivery_timeout_ms: 5_000,
            verify_webhooks: true,
            sign_verify_events: true,
            echo_messages: true,
            activation_delay_ms: 200,
            minute_ms: 60_000,
            strict_language: false,
        }
    }
}

impl Settings {
    /// Fast timings for tests: 50 ms retries, 1 s timeout, short activation.
    pub fn fast() -> Self {
        Self {
            retry_schedule_ms: vec![50, 50, 50],
            delivery_timeout_ms: 1_000,
            activation_delay_ms: 20,
            minute_ms: 100,
            ..Self::default()
        }
    }
}

/// Some fields of [`Settings`], for `PATCH /sim/settings`: the fields given replace the
/// current ones and the others stay (`None` fields are not sent).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct SettingsPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_schedule_ms: Option<Vec<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_timeout_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_webhooks: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_verify_events: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub echo_messages: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation_delay_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minute_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict_language: Option<bool>,
}

/// A patch that sets every field. Destructuring `Settings` here keeps the two field lists
/// in step: a field added to one and not the other does not compile.
impl From<Settings> for SettingsPatch {
    fn from(s: Settings) -> Self {
        let Settings {
            retry_schedule_ms,
            delivery_timeout_ms,
            verify_webhooks,
            sign_verify_events,
            echo_messages,
            activation_delay_ms,
            minute_ms,
            strict_language,
        } = s;
        Self {
            retry_schedule_ms: Some(retry_schedule_ms),
            delivery_timeout_ms: Some(delivery_timeout_ms),
            verify_webhooks: Some(verify_webhooks),
            sign_verify_events: Some(sign_verify_events),
            echo_messages: Some(echo_messages),
            activation_delay_ms: Some(activation_delay_ms),
            minute_ms: Some(minute_ms),
            strict_language: Some(strict_language),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_patch_names_the_same_fields_as_settings() {
        let full = serde_json::to_value(SettingsPatch::from(Settings::default())).unwrap();
        let settings = serde_json::to_value(Settings::default()).unwrap();
        assert_eq!(full, settings);
        assert_eq!(
            serde_json::to_value(SettingsPatch::default()).unwrap(),
            serde_json::json!({})
        );
    }
}
