//! The two roles the relay plays towards 8x8, the endpoint and the handover, and which
//! 8x8 each talks to right now: the embedded emulator (sandbox) or the configured
//! tenant. Decided per use from the settings and which API keys are set, so a saved
//! change applies without a restart.

use serde::Serialize;

use crate::relay::RelayState;
use switchboard_settings::secrets::SecretName;
use switchboard_settings::{
    settings::{SandboxChoice, Settings},
    Role,
};

/// Which API keys are in the keychain (or environment), kept in memory so the hot path
/// never waits on the keychain; refreshed at start and after every save.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyPresence {
    pub endpoint: bool,
    pub handover: bool,
    /// The Copilot's JWT shared secret and its model's API key.
    pub copilot_jwt_secret: bool,
    pub copilot_model: bool,
}

/// What the relay set up in the sandbox at start: its webhook and a channel on it.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SandboxSetup {
    pub webhook_id: Option<String>,
    pub channel_id: Option<String>,
    pub queue_id: Option<String>,
    /// Why the setup failed, if it did.
    pub problem: Option<String>,
}

impl RelayState {
    pub fn key_presence(&self) -> KeyPresence {
        *self.keys.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads the keychain (off the async workers) and remembers which keys are set.
    pub async fn refresh_key_presence(&self) -> KeyPresence {
        let endpoint = matches!(
            self.secrets.is_set(SecretName::EndpointApiKey).await,
            Ok(true)
        );
        let handover = matches!(
            self.secrets.is_set(SecretName::HandoverApiKey).await,
            Ok(true)
        );
        let copilot_jwt_secret = matches!(
            self.secrets.is_set(SecretName::CopilotJwtSecret).await,
            Ok(true)
        );
        let copilot_model = matches!(
            self.secrets.is_set(SecretName::CopilotModelApiKey).await,
            Ok(true)
        );
        let presence = KeyPresence {
            endpoint,
            handover,
            copilot_jwt_secret,
            copilot_model,
        };
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = presence;
        presence
    }

    /// Whether `role` talks to the embedded emulator now.
    pub fn sandbox_active(&self, settings: &Settings, role: Role) -> bool {
        if self.sandbox.is_none() {
            return false;
        }
        if let Some(forced) = self.sandbox_forced {
            return forced;
        }
        match settings.sandbox {
            SandboxChoice::On => true,
            SandboxChoice::Off => false,
            SandboxChoice::Auto => {
                let keys = self.key_presence();
                match role.key_name(settings) {
                    SecretName::HandoverApiKey => !keys.handover,
                    _ => !keys.endpoint,
                }
            }
        }
    }

    /// In words, for the status screen.
    pub fn sandbox_reason(&self, settings: &Settings) -> String {
        if self.sandbox.is_none() {
            return "The sandbox is turned off for this run (--sandbox off).".into();
        }
        if self.sandbox_forced == Some(true) {
            return "The sandbox is forced on for this run (--sandbox on).".into();
        }
        match (
            settings.sandbox,
            self.sandbox_active(settings, Role::Endpoint),
        ) {
            (SandboxChoice::On, _) => "Sandbox chosen in the settings.".into(),
            (SandboxChoice::Off, _) => {
                "Sandbox turned off in the settings: the relay talks to 8x8.".into()
            }
            (SandboxChoice::Auto, true) => {
                "No 8x8 API key is set, so the relay talks to the built-in 8x8 emulator.".into()
            }
            (SandboxChoice::Auto, false) => {
                "An 8x8 API key is set, so the relay talks to 8x8.".into()
            }
        }
    }

    pub fn sandbox_setup(&self) -> SandboxSetup {
        self.sandbox_setup
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}
