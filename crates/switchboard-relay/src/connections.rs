//! Which 8x8 the relay talks to right now, per role: the embedded sandbox while that
//! role uses it (roles.rs decides), otherwise the role's Base URL, tenant and API key
//! from the keychain. Resolved per use, so a changed setting or key applies without a
//! restart. [`RelayConnections`] answers the engine's questions about it; the queue
//! figures and schedule states come through the cache of contact_center_cache.rs.

use std::sync::Weak;

use chat_gateway_client::{ChatGatewayClient, ClientError, Connection, RetryPolicy};
use futures_util::{future::BoxFuture, FutureExt};
use switchboard_engine::Connections;
use switchboard_settings::{Role, Settings};
use switchboard_types::contact_center::{QueueFigures, ScheduleState};

use crate::{admin::sandbox_setup, admin::setup_helpers, relay::RelayState};

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

/// The endpoint role's connection for outbound calls now.
pub async fn resolve(state: &RelayState) -> Result<Connection, ClientError> {
    resolve_for(state, Role::Endpoint).await
}

/// A role's connection now; an error when no key is set (outside the sandbox), which the
/// outbox treats as "try again later".
pub async fn resolve_for(state: &RelayState, role: Role) -> Result<Connection, ClientError> {
    let settings = state.settings();
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

/// The engine's view of the relay's connections. Weak: the engine lives inside the
/// relay's state and must not keep it alive after shutdown.
pub struct RelayConnections {
    state: Weak<RelayState>,
    /// One pool for the typing pulses: building a client (TLS roots and all) and opening
    /// a connection for each bot turn cost more than the turn (bench-whole-path).
    typing_http: reqwest::Client,
}

impl RelayConnections {
    pub fn new(state: Weak<RelayState>) -> Self {
        Self {
            state,
            typing_http: chat_gateway_client::http_client(&RetryPolicy::once()),
        }
    }
}

impl Connections for RelayConnections {
    fn copilot_link<'a>(
        &'a self,
        conversation: &'a switchboard_store::Conversation,
    ) -> BoxFuture<'a, Option<String>> {
        async move {
            let state = self.state.upgrade()?;
            crate::copilot_links::open_link(&state, conversation).await
        }
        .boxed()
    }

    fn typing<'a>(
        &'a self,
        role: Role,
        conversation_id: &'a str,
        author: &'a str,
    ) -> BoxFuture<'a, ()> {
        async move {
            let Some(state) = self.state.upgrade() else {
                return;
            };
            let Ok(conn) = resolve_for(&state, role).await else {
                return;
            };
            let client =
                ChatGatewayClient::with_http(self.typing_http.clone(), conn, RetryPolicy::once());
            if let Err(e) = client.typing(conversation_id, author).await {
                tracing::debug!(error = %e, "typing indicator not sent");
            }
        }
        .boxed()
    }

    fn handover_route(&self, settings: &Settings) -> (Option<String>, Option<String>) {
        let configured = (
            settings.handover.channel_id.clone(),
            settings.handover.queue_id.clone(),
        );
        match self.state.upgrade() {
            Some(state) if state.sandbox_active(settings, Role::Handover) => {
                let setup = state.sandbox_setup();
                (
                    configured.0.or(setup.channel_id),
                    configured.1.or(setup.queue_id),
                )
            }
            _ => configured,
        }
    }

    fn handback_webhook(&self) -> BoxFuture<'_, Option<String>> {
        async move {
            let state = self.state.upgrade()?;
            let settings = state.settings();
            if state.sandbox_active(&settings, Role::Handover) {
                if let Some(id) = state.sandbox_setup().webhook_id {
                    return Some(id);
                }
            }
            let w = setup_helpers::webhook_state(&state).await.ok()?;
            w.up_to_date.then_some(w.webhook.map(|h| h.id)).flatten()
        }
        .boxed()
    }

    fn queue_figures<'a>(
        &'a self,
        queue_id: &'a str,
    ) -> BoxFuture<'a, Result<QueueFigures, String>> {
        async move {
            let state = self.state.upgrade().ok_or_else(stopping)?;
            state
                .contact_center
                .queue(&state, queue_id)
                .await
                .map_err(|e| e.message)
        }
        .boxed()
    }

    fn schedule_state<'a>(
        &'a self,
        schedule_id: &'a str,
    ) -> BoxFuture<'a, Result<ScheduleState, String>> {
        async move {
            let state = self.state.upgrade().ok_or_else(stopping)?;
            state
                .contact_center
                .schedule_state(&state, schedule_id)
                .await
                .map_err(|e| e.message)
        }
        .boxed()
    }
}

fn stopping() -> String {
    "the relay is stopping".to_string()
}
