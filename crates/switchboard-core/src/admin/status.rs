//! The relay's status as the first screen shows it: listeners, sandbox, keychain, store.

use std::sync::{atomic::Ordering, Arc};

use axum::{extract::State, Json};
use serde::Serialize;

use crate::{
    db::Db,
    relay::RelayState,
    secrets::{Backend, SecretName},
    ui_assets,
};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub version: &'static str,
    pub shell: String,
    pub started_at_ms: i64,
    pub endpoint: EndpointStatus,
    pub admin: AdminStatus,
    pub sandbox: SandboxStatus,
    pub connection: ConnectionStatus,
    pub keychain: KeychainStatus,
    pub database: DatabaseStatus,
    pub settings_location: String,
    pub ui_built: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointStatus {
    pub listen: String,
    pub port: u16,
    pub url: String,
    /// True when no public base URL is set: 8x8's cloud cannot reach a local address.
    pub local_only: bool,
    pub enabled: bool,
    pub verify_signatures: bool,
    pub rejected_token_count: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminStatus {
    pub port: u16,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SandboxStatus {
    pub active: bool,
    pub reason: String,
    pub base_url: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionStatus {
    /// Where 8x8 calls go now (the sandbox's address while it is active).
    pub effective_base_url: String,
    pub configured_base_url: String,
    pub tenant: Option<String>,
    pub api_key_set: bool,
    pub api_key_from_environment: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeychainStatus {
    pub backend: Backend,
    pub problem: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseStatus {
    pub path: String,
    pub schema_version: usize,
}

pub async fn get_status(State(state): State<Arc<RelayState>>) -> Json<Status> {
    Json(build(&state).await)
}

pub async fn build(state: &RelayState) -> Status {
    let settings = state.settings.read().await.clone();
    let (url, local_only) = state.endpoint_url(&settings);
    let key = SecretName::EndpointApiKey;
    let (api_key_set, keychain_problem) = match state.secrets.is_set(key).await {
        Ok(set) => (set, None),
        Err(e) => (false, Some(e.to_string())),
    };
    let sandbox = state.sandbox.as_ref();
    Status {
        version: env!("CARGO_PKG_VERSION"),
        shell: state.shell.clone(),
        started_at_ms: state.started_at_ms,
        endpoint: EndpointStatus {
            listen: state.endpoint_addr.to_string(),
            port: state.endpoint_addr.port(),
            url,
            local_only,
            enabled: settings.endpoint.enabled,
            verify_signatures: settings.endpoint.verify_signatures,
            rejected_token_count: state.rejected_token_count.load(Ordering::Relaxed),
        },
        admin: AdminStatus {
            port: state.admin_port,
        },
        sandbox: SandboxStatus {
            active: sandbox.is_some(),
            reason: state.sandbox_reason.clone(),
            base_url: sandbox.map(|s| s.base_url.clone()),
        },
        connection: ConnectionStatus {
            effective_base_url: sandbox
                .map(|s| s.base_url.clone())
                .unwrap_or_else(|| settings.connection.base_url.clone()),
            configured_base_url: settings.connection.base_url.clone(),
            tenant: settings.connection.tenant.clone(),
            api_key_set,
            api_key_from_environment: state.secrets.from_environment(key),
        },
        keychain: KeychainStatus {
            backend: state.secrets.backend(),
            problem: keychain_problem
                .or_else(|| state.secrets.unavailable_reason().map(str::to_string)),
        },
        database: DatabaseStatus {
            path: state.db.path().display().to_string(),
            schema_version: Db::schema_version(),
        },
        settings_location: state.settings_store.location(),
        ui_built: ui_assets::is_built(),
    }
}
