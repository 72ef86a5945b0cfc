//! What the admin configures: the non-secret settings (validated as a whole, stored
//! behind [`settings::SettingsStore`] — tauri-plugin-store on the desktop, a JSON file on
//! a server) and the API keys, which live only in the OS keychain ([`secrets`]).

pub mod copilot;
pub mod export;
pub mod roles;
pub mod secrets;
pub mod settings;

pub use roles::Role;
pub use secrets::{Secret, SecretName, Secrets, SecretsError};
pub use settings::{
    AgentLeaves, FieldError, SandboxChoice, Settings, SettingsError, SettingsStore,
};
