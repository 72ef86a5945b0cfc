//! A relay for a benchmark: a temporary database (or a PostgreSQL one), settings and keys
//! in memory, the sandbox off, pointed at `base_url` as 8x8.

use std::sync::Arc;

use switchboard_relay::{RelayConfig, RelayHandle, SandboxMode};
use switchboard_settings::secrets::{Secret, SecretName, Secrets};
use switchboard_settings::settings::{MemorySettings, Settings, SettingsStore};

use super::deliveries::TENANT;

/// `api_key`: the endpoint role's key, for a relay that calls 8x8 (none: it only
/// receives).
pub async fn start(base_url: &str, api_key: Option<&str>, dir: std::path::PathBuf) -> RelayHandle {
    start_on(base_url, api_key, dir, None).await
}

/// As [`start`], on the PostgreSQL `database_url` names when given (SQLite in `dir`
/// otherwise). Relays after the first on one database adopt its settings, so they share
/// its endpoint token.
pub async fn start_on(
    base_url: &str,
    api_key: Option<&str>,
    dir: std::path::PathBuf,
    database_url: Option<&str>,
) -> RelayHandle {
    let settings = MemorySettings::default();
    let mut s = Settings::default();
    s.connection.base_url = base_url.to_string();
    s.connection.tenant = Some(TENANT.into());
    s.endpoint.token = switchboard_types::token::generate();
    settings.save(&s).expect("memory settings save");
    let secrets = Secrets::in_memory();
    if let Some(key) = api_key {
        secrets
            .set(SecretName::EndpointApiKey, &Secret::new(key.to_string()))
            .await
            .expect("the in-memory key store takes the key");
    }
    let mut config = RelayConfig::for_tests(dir);
    config.settings_store = Arc::new(settings);
    config.secrets = Arc::new(secrets);
    config.sandbox = SandboxMode::Off;
    config.database_url = database_url.map(str::to_string);
    switchboard_relay::start(config)
        .await
        .expect("the relay starts")
}
