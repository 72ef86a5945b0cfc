//! The relay's status as the first screen shows it: listeners, sandbox, keychain, store
//! (where, how big, what retention removed last).

use std::sync::{atomic::Ordering, Arc};

use axum::{extract::State, Json};
use serde::Serialize;
use ts_rs::TS;

use crate::relay::RelayState;
use crate::ui_assets;
use switchboard_settings::secrets::{Backend, SecretName};
use switchboard_store::{
    retention::{self, RetentionOn},
    DatabaseSize, RetentionPass,
};

/// `GET /api/status`: the relay as the first screen shows it.
#[derive(Debug, Serialize, TS)]
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
    /// Where this process writes its log.
    pub log: crate::log_destination::LogDestination,
    pub ui_built: bool,
}

#[derive(Debug, Serialize, TS)]
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

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AdminStatus {
    pub port: u16,
}

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SandboxStatus {
    /// Whether the endpoint role talks to the emulator now.
    pub active: bool,
    pub reason: String,
    /// The emulator's address while it runs (it stays available when not active).
    pub base_url: Option<String>,
    pub setup_problem: Option<String>,
}

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionStatus {
    /// Where 8x8 calls go now (the sandbox's address while it is active).
    pub effective_base_url: String,
    pub configured_base_url: String,
    pub tenant: Option<String>,
    pub api_key_set: bool,
    pub api_key_from_environment: bool,
}

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct KeychainStatus {
    pub backend: Backend,
    pub problem: Option<String>,
}

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseStatus {
    pub path: String,
    pub schema_version: usize,
    /// How big the database is on disk; absent when it could not be read.
    pub size: Option<DatabaseSize>,
    pub retention: RetentionStatus,
}

/// How long finished records are kept, and what the last pass removed.
#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RetentionStatus {
    pub deliveries_days: u32,
    pub outbox_days: u32,
    pub conversations_days: u32,
    /// The last pass over this database (kept across restarts); none yet on a new one.
    pub last_pass: Option<RetentionPass>,
}

pub async fn get_status(State(state): State<Arc<RelayState>>) -> Json<Status> {
    Json(build(&state).await)
}

pub async fn build(state: &RelayState) -> Status {
    let settings = state.settings();
    let (url, local_only) = state.endpoint_url(&settings);
    let key = SecretName::EndpointApiKey;
    let keychain = keychain_status(state).await;
    let api_key_set = state.key_presence().endpoint;
    let sandbox_active = state.sandbox_active(&settings, switchboard_settings::Role::Endpoint);
    let target = crate::connections::target(state, &settings);
    let size = retention::size_of(&state.db)
        .await
        .map_err(|e| tracing::warn!(error = %e, "the database's size could not be read"))
        .ok();
    let last_pass = RetentionOn::on(&state.db)
        .last_pass()
        .await
        .map_err(|e| tracing::warn!(error = %e, "the last retention pass could not be read"))
        .ok()
        .flatten();
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
            active: sandbox_active,
            reason: state.sandbox_reason(&settings),
            base_url: state.sandbox.as_ref().map(|s| s.base_url.clone()),
            setup_problem: state.sandbox_setup().problem,
        },
        connection: ConnectionStatus {
            effective_base_url: target.base_url,
            configured_base_url: settings.connection.base_url.clone(),
            tenant: settings.connection.tenant.clone(),
            api_key_set,
            api_key_from_environment: state.secrets.from_environment(key),
        },
        keychain,
        database: DatabaseStatus {
            path: state.db.location(),
            schema_version: state.db.schema_version(),
            size,
            retention: RetentionStatus {
                deliveries_days: settings.retention.deliveries_days,
                outbox_days: settings.retention.outbox_days,
                conversations_days: settings.retention.conversations_days,
                last_pass,
            },
        },
        settings_location: state.settings_store.location(),
        log: crate::log_destination::get(),
        ui_built: ui_assets::is_built(),
    }
}

/// The keychain's backend and, when it cannot be used, why.
pub async fn keychain_status(state: &RelayState) -> KeychainStatus {
    let problem = match state.secrets.unavailable_reason() {
        Some(reason) => Some(reason.to_string()),
        None => state
            .secrets
            .is_set(SecretName::EndpointApiKey)
            .await
            .err()
            .map(|e| e.to_string()),
    };
    KeychainStatus {
        backend: state.secrets.backend(),
        problem,
    }
}
