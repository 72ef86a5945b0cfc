//! Which 8x8 the relay talks to right now, per role: the embedded sandbox while that
//! role uses it (roles.rs decides), otherwise the role's Base URL, tenant and API key
//! from the keychain. Resolved per use, so a changed setting or key applies without a
//! restart.

use crate::{relay::RelayState, roles::Role, sandbox_setup, settings::Settings};

use super::error::ClientError;

/// Where 8x8 is, without the key: enough for the receiver (JWK fetches need no key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub base_url: String,
    pub tenant: Option<String>,
    pub sandbox: bool,
}

/// The endpoint role's target (what signs the webhooks the relay receives).
pub fn target(state: &RelayState, settings: &Settings) -> Target {
    target_for(state, settings, Role::Endpoint)
}

pub fn target_for(state: &RelayState, settings: &Settings, role: Role) -> Target {
    if state.sandbox_active(settings, role) {
        if let Some(conn) = sandbox_setup::connection(state) {
            return Target {
                base_url: conn.base_url,
                tenant: conn.tenant,
                sandbox: true,
            };
        }
    }
    let c = role.connection(settings);
    Target {
        base_url: c.base_url.trim_end_matches('/').to_string(),
        tenant: c.tenant.clone(),
        sandbox: false,
    }
}

/// Everything a call needs, key included.
#[derive(Debug, Clone)]
pub struct Connection {
    pub base_url: String,
    pub tenant: Option<String>,
    pub api_key: crate::secrets::Secret,
}

/// The endpoint role's connection for outbound calls now.
pub async fn resolve(state: &RelayState) -> Result<Connection, ClientError> {
    resolve_for(state, Role::Endpoint).await
}

/// A role's connection now; an error when no key is set (outside the sandbox), which the
/// outbox treats as "try again later".
pub async fn resolve_for(state: &RelayState, role: Role) -> Result<Connection, ClientError> {
    let settings = state.settings.read().await.clone();
    let target = target_for(state, &settings, role);
    if target.sandbox {
        if let Some(conn) = sandbox_setup::connection(state) {
            return Ok(conn);
        }
    }
    let api_key = state
        .secrets
        .get(role.key_name(&settings))
        .await
        .map_err(|e| ClientError::NotConfigured(e.to_string()))?
        .ok_or_else(|| ClientError::NotConfigured("no 8x8 API key is set".into()))?;
    Ok(Connection {
        base_url: target.base_url,
        tenant: target.tenant,
        api_key,
    })
}
