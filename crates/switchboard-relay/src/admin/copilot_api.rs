//! The admin API for the agent's Copilot: a conversation's link (to show and open it),
//! revoking it, and generating the JWT shared secret for signed links.

use std::sync::Arc;

use axum::{
    extract::State,
    routing::{get, post},
    Json, Router,
};
use serde::Serialize;
use ts_rs::TS;

use super::error::{ApiError, ErrorCode, PathParams};
use crate::copilot_links;
use crate::relay::RelayState;
use switchboard_settings::secrets::SecretName;
use switchboard_types::{now_ms, RelayEvent};

pub fn router() -> Router<Arc<RelayState>> {
    Router::new()
        .route("/conversations/{id}/copilot", get(link))
        .route("/conversations/{id}/copilot/revoke", post(revoke))
        .route("/copilot/jwt-secret", post(generate_secret))
}

/// A conversation's Copilot session as the admin sees it.
#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CopilotLinkView {
    /// The link the agent got (and can open again); `null` once revoked, or when it can
    /// no longer be rebuilt (signed links without a JWT secret).
    pub link: Option<String>,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
    /// When the link stops working: the configured hours after the conversation ended;
    /// `null` while the conversation goes on.
    pub expires_at_ms: Option<i64>,
}

/// The JWT shared secret, in the one answer that ever shows it.
#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CopilotJwtSecret {
    /// 256 random bits, base64url: give it to the agent desktop that verifies the
    /// links' `auth` JWT (HS256). It is kept in the keychain and never shown again.
    pub secret: String,
}

fn no_session(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!("Conversation {id} has no Copilot link: it is made when the conversation is handed over with the Copilot on."),
    )
}

async fn view(state: &RelayState, id: &str) -> Result<CopilotLinkView, ApiError> {
    let conv = state
        .engine
        .store
        .get(id)
        .await?
        .ok_or_else(|| no_session(id))?;
    let session = copilot_links::sessions(state)
        .get(id)
        .await?
        .ok_or_else(|| no_session(id))?;
    let link = match session.revoked_at_ms {
        Some(_) => None,
        None => copilot_links::link_for(state, &conv, &session).await,
    };
    Ok(CopilotLinkView {
        link,
        created_at_ms: session.created_at_ms,
        revoked_at_ms: session.revoked_at_ms,
        expires_at_ms: copilot_links::expires_at_ms(
            &conv,
            state.settings().handover.copilot.expiry_hours,
        ),
    })
}

/// `GET /api/conversations/{id}/copilot`: the link, or 404 when the conversation has none.
async fn link(
    State(state): State<Arc<RelayState>>,
    PathParams(id): PathParams<String>,
) -> Result<Json<CopilotLinkView>, ApiError> {
    Ok(Json(view(&state, &id).await?))
}

/// `POST /api/conversations/{id}/copilot/revoke`: the link stops working at once (an
/// open page gets the invalid-link answer at its next request; its live stream ends).
/// A later handover of the conversation makes a new link.
async fn revoke(
    State(state): State<Arc<RelayState>>,
    PathParams(id): PathParams<String>,
) -> Result<Json<CopilotLinkView>, ApiError> {
    let conv = state
        .engine
        .store
        .get(&id)
        .await?
        .ok_or_else(|| no_session(&id))?;
    copilot_links::sessions(&state)
        .revoke(&id, now_ms())
        .await?;
    let answer = view(&state, &id).await?;
    // Open Copilot streams re-check their link on every change of their conversation.
    state.bus.publish(RelayEvent::ConversationChanged {
        conversation_id: id,
        phase: conv.phase.as_str(),
    });
    Ok(Json(answer))
}

/// `POST /api/copilot/jwt-secret`: a new shared secret for signed links, replacing any
/// earlier one (links signed with it stop verifying). Shown in this answer only.
async fn generate_secret(
    State(state): State<Arc<RelayState>>,
) -> Result<Json<CopilotJwtSecret>, ApiError> {
    let name = SecretName::CopilotJwtSecret;
    if state.secrets.from_environment(name) {
        return Err(ApiError::new(
            ErrorCode::KeyFromEnvironment,
            format!(
                "The Copilot JWT secret is set by {}, so it cannot be generated here.",
                name.env_var()
            ),
        ));
    }
    let secret = copilot_links::new_jwt_secret();
    state.secrets.set(name, &secret).await.map_err(|e| {
        ApiError::new(
            ErrorCode::KeychainFailed,
            format!("The JWT secret was not saved: {e}. Nothing was changed."),
        )
    })?;
    state.refresh_key_presence().await;
    state.bus.publish(RelayEvent::SettingsChanged);
    Ok(Json(CopilotJwtSecret {
        secret: secret.expose().to_string(),
    }))
}
