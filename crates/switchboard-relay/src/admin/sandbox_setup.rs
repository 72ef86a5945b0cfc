//! Prepares the embedded emulator like an admin prepares a real tenant (chat-gateway.md §6.1): the
//! relay's webhook registered to its own Endpoint URL and a ChatAPI channel on the
//! sandbox queue, so a newcomer's first run works end to end. Failures are recorded and
//! shown; they never stop the relay.

use crate::relay::RelayState;
use crate::roles::SandboxSetup;
use chat_gateway_client::{
    types::{ChannelRequest, PageQuery, Webhook, WebhookRequest},
    ChatGatewayClient, ClientError, Connection,
};
use switchboard_settings::secrets::Secret;

pub const WEBHOOK_NAME: &str = "Switchboard relay";
const CHANNEL_NAME: &str = "Switchboard sandbox chat";

/// The connection to the emulator with the sandbox's own key and tenant.
pub fn connection(state: &RelayState) -> Option<Connection> {
    let sandbox = state.sandbox.as_ref()?;
    let key = sandbox.seed.api_keys.first()?;
    Some(Connection {
        base_url: sandbox.base_url.clone(),
        tenant: key.tenants.first().cloned(),
        api_key: Secret::new(key.key.clone()),
    })
}

pub async fn seed(state: &RelayState) {
    let result = try_seed(state).await;
    let setup = match result {
        Ok(setup) => setup,
        Err(e) => {
            tracing::warn!(error = %e, "the sandbox could not be prepared");
            SandboxSetup {
                problem: Some(format!("The sandbox could not be prepared: {e}")),
                ..SandboxSetup::default()
            }
        }
    };
    *state
        .sandbox_setup
        .write()
        .unwrap_or_else(|p| p.into_inner()) = setup;
}

async fn try_seed(state: &RelayState) -> Result<SandboxSetup, ClientError> {
    let conn = connection(state)
        .ok_or_else(|| ClientError::NotConfigured("the sandbox has no API key".into()))?;
    let queue_id = state
        .sandbox
        .as_ref()
        .and_then(|s| s.seed.queues.first())
        .map(|q| q.id.clone())
        .ok_or_else(|| ClientError::NotConfigured("the sandbox has no queue".into()))?;
    let client = ChatGatewayClient::new(conn);
    let url = state.endpoint_url(&state.settings()).0;
    let webhook = client
        .create_webhook(&WebhookRequest::new(WEBHOOK_NAME, url))
        .await?;
    let channel = client
        .create_channel(&ChannelRequest::chat_api(
            CHANNEL_NAME,
            &webhook.id,
            &queue_id,
        ))
        .await?;
    Ok(SandboxSetup {
        webhook_id: Some(webhook.id),
        channel_id: Some(channel.id),
        queue_id: Some(queue_id),
        problem: None,
    })
}

/// After the Endpoint URL changed (token regenerated, public URL set), point the
/// sandbox's webhook at it so the sandbox keeps delivering.
pub async fn follow_endpoint_url(state: &RelayState) -> Result<(), ClientError> {
    let (Some(conn), Some(id)) = (connection(state), state.sandbox_setup().webhook_id) else {
        return Ok(());
    };
    let url = state.endpoint_url(&state.settings()).0;
    let client = ChatGatewayClient::new(conn);
    // The emulator verifies the URL on update; a local URL always answers.
    client
        .update_webhook(&id, &WebhookRequest::new(WEBHOOK_NAME, url))
        .await
        .map(|_| ())
}

/// Lists every webhook (all pages), for registration and drift checks.
pub async fn all_webhooks(client: &ChatGatewayClient) -> Result<Vec<Webhook>, ClientError> {
    let mut out = Vec::new();
    let mut page = 0;
    loop {
        let p = client
            .list_webhooks(&PageQuery {
                size: Some(100),
                page: Some(page),
                sort: None,
            })
            .await?;
        let more = p.has_next();
        out.extend(p.items);
        if !more {
            return Ok(out);
        }
        page += 1;
    }
}
