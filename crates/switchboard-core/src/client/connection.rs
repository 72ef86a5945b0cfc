//! Which 8x8 the relay talks to right now: the embedded sandbox while it runs, otherwise
//! the configured Base URL, tenant and the API key from the keychain. Resolved per use,
//! so a changed setting or key applies without a restart.

use crate::{
    relay::RelayState,
    secrets::{Secret, SecretName},
    settings::Settings,
};

use super::error::ClientError;

/// Where 8x8 is, without the key: enough for the receiver (JWK fetches need no key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub base_url: String,
    pub tenant: Option<String>,
    pub sandbox: bool,
}

pub fn target(state: &RelayState, settings: &Settings) -> Target {
    match &state.sandbox {
        Some(sandbox) => Target {
            base_url: sandbox.base_url.clone(),
            tenant: sandbox_key(&sandbox.seed).and_then(|k| k.tenants.first().cloned()),
            sandbox: true,
        },
        None => Target {
            base_url: settings
                .connection
                .base_url
                .trim_end_matches('/')
                .to_string(),
            tenant: settings.connection.tenant.clone(),
            sandbox: false,
        },
    }
}

/// Everything a call needs, key included.
#[derive(Debug, Clone)]
pub struct Connection {
    pub base_url: String,
    pub tenant: Option<String>,
    pub api_key: Secret,
}

/// The connection for outbound calls now; an error when no key is set (outside the
/// sandbox), which the outbox treats as "try again later".
pub async fn resolve(state: &RelayState) -> Result<Connection, ClientError> {
    let target = target(state, &*state.settings.read().await);
    let api_key = match &state.sandbox {
        Some(sandbox) => Secret::new(
            sandbox_key(&sandbox.seed)
                .map(|k| k.key.clone())
                .unwrap_or_default(),
        ),
        None => state
            .secrets
            .get(SecretName::EndpointApiKey)
            .await
            .map_err(|e| ClientError::NotConfigured(e.to_string()))?
            .ok_or_else(|| ClientError::NotConfigured("no 8x8 API key is set".into()))?,
    };
    Ok(Connection {
        base_url: target.base_url,
        tenant: target.tenant,
        api_key,
    })
}

/// The sandbox's first API key is the relay's (the seed's others are for tests).
fn sandbox_key(seed: &chat_gateway_sim::Seed) -> Option<&chat_gateway_sim::ApiKeySeed> {
    seed.api_keys.first()
}
