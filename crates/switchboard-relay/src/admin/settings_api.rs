//! The admin API for the settings pages and setup helpers. Thin: the rules live in
//! settings_update.rs and setup_helpers.rs.

use std::sync::Arc;

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::error::{ApiError, BodyBytes, ErrorCode, JsonBody, QueryParams};
use crate::admin::settings_update::{self, KeyState, SaveRequest};
use crate::admin::setup_helpers::{
    self, ChannelChoice, Preview, Registration, TestOutcome, TestRequest, Warning, WarningCode,
    WebhookState,
};
use crate::relay::RelayState;
use switchboard_settings::secrets::SecretName;
use switchboard_settings::settings::Settings;
use switchboard_settings::Role;

pub fn router() -> Router<Arc<RelayState>> {
    Router::new()
        .route("/settings", get(get_settings).put(put_settings))
        .route("/settings/regenerate-token", post(regenerate_token))
        .route("/settings/export", get(export))
        .route("/settings/import", post(import))
        .route("/settings/import/preview", post(preview_import))
        .route("/handover/preview", post(preview))
        .route("/connection/test", post(test_connection))
        .route("/webhook", get(webhook_state))
        .route("/webhook/register", post(register_webhook))
        .route("/channels", get(channels))
}

/// `GET /api/settings`, and the answer of every change to them.
#[derive(Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    settings: Settings,
    keys: Keys,
    keychain: super::status::KeychainStatus,
    endpoint_url: String,
    local_only: bool,
    sandbox: SandboxView,
    warnings: Vec<Warning>,
}

/// Whether each API key is set; the keys themselves never leave the keychain.
#[derive(Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Keys {
    endpoint: KeyState,
    handover: KeyState,
    /// The Copilot link's JWT shared secret (made by `POST /api/copilot/jwt-secret`).
    copilot_jwt_secret: KeyState,
    /// The Copilot model's API key.
    copilot_model: KeyState,
}

#[derive(Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SandboxView {
    available: bool,
    forced: bool,
    endpoint_active: bool,
    handover_active: bool,
    base_url: Option<String>,
    channel_id: Option<String>,
    queue_id: Option<String>,
}

async fn view(state: &RelayState) -> SettingsView {
    let settings = state.settings();
    let (endpoint_url, local_only) = state.endpoint_url(&settings);
    let setup = state.sandbox_setup();
    let endpoint_active = state.sandbox_active(&settings, Role::Endpoint);
    let mut warnings = Vec::new();
    if !settings.endpoint.verify_signatures {
        warnings.push(Warning {
            code: WarningCode::SignaturesOff,
            message:
                "Signature verification is off: anyone who knows the Endpoint URL can post events."
                    .into(),
        });
    }
    if local_only && settings.endpoint.enabled && !endpoint_active {
        warnings.push(Warning {
            code: WarningCode::EndpointLocalOnly,
            message: "The Endpoint URL is a local address, which 8x8's cloud cannot reach: set the public base URL of your tunnel or reverse proxy.".into(),
        });
    }
    if let Some(problem) = setup.problem.clone() {
        warnings.push(Warning {
            code: WarningCode::SandboxSetupFailed,
            message: problem,
        });
    }
    warnings.extend(setup_helpers::channel_warnings(state).await);
    SettingsView {
        keys: Keys {
            endpoint: settings_update::key_state(state, SecretName::EndpointApiKey),
            handover: settings_update::key_state(state, SecretName::HandoverApiKey),
            copilot_jwt_secret: settings_update::key_state(state, SecretName::CopilotJwtSecret),
            copilot_model: settings_update::key_state(state, SecretName::CopilotModelApiKey),
        },
        keychain: super::status::keychain_status(state).await,
        endpoint_url,
        local_only,
        sandbox: SandboxView {
            available: state.sandbox.is_some(),
            forced: state.sandbox_forced.is_some(),
            endpoint_active,
            handover_active: state.sandbox_active(&settings, Role::Handover),
            base_url: state.sandbox.as_ref().map(|s| s.base_url.clone()),
            channel_id: setup.channel_id,
            queue_id: setup.queue_id,
        },
        warnings,
        settings: (*settings).clone(),
    }
}

async fn get_settings(State(state): State<Arc<RelayState>>) -> Json<SettingsView> {
    Json(view(&state).await)
}

async fn put_settings(
    State(state): State<Arc<RelayState>>,
    JsonBody(request): JsonBody<SaveRequest>,
) -> Result<Json<SettingsView>, ApiError> {
    settings_update::save(&state, request).await?;
    Ok(Json(view(&state).await))
}

async fn regenerate_token(
    State(state): State<Arc<RelayState>>,
) -> Result<Json<SettingsView>, ApiError> {
    settings_update::regenerate_token(&state).await?;
    Ok(Json(view(&state).await))
}

async fn export(State(state): State<Arc<RelayState>>) -> Response {
    let body = settings_update::export_file(&state.settings());
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"switchboard-settings.json\"",
            ),
        ],
        body,
    )
        .into_response()
}

async fn import(
    State(state): State<Arc<RelayState>>,
    BodyBytes(body): BodyBytes,
) -> Result<Json<SettingsView>, ApiError> {
    settings_update::import(&state, &body).await?;
    Ok(Json(view(&state).await))
}

/// `POST /api/settings/import/preview`: the settings an import of this file would save
/// (or why it would be refused); nothing changes.
async fn preview_import(
    State(state): State<Arc<RelayState>>,
    BodyBytes(body): BodyBytes,
) -> Result<Json<Settings>, ApiError> {
    Ok(Json(settings_update::preview_import(&state, &body).await?))
}

/// `POST /api/handover/preview`.
#[derive(Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PreviewRequest {
    json_properties: String,
    #[serde(default)]
    #[ts(optional = nullable)]
    handover_message: Option<String>,
}

async fn preview(
    State(state): State<Arc<RelayState>>,
    JsonBody(req): JsonBody<PreviewRequest>,
) -> Result<Json<Preview>, ApiError> {
    let message = match req.handover_message {
        Some(m) => m,
        None => state.settings().handover.handover_message.clone(),
    };
    setup_helpers::handover_preview(&req.json_properties, &message)
        .map(Json)
        .map_err(|m| ApiError::new(ErrorCode::InvalidJsonProperties, m))
}

async fn test_connection(
    State(state): State<Arc<RelayState>>,
    JsonBody(req): JsonBody<TestRequest>,
) -> Result<Json<TestOutcome>, ApiError> {
    setup_helpers::test_connection(&state, req)
        .await
        .map(Json)
        .map_err(ApiError::invalid)
}

async fn register_webhook(
    State(state): State<Arc<RelayState>>,
) -> Result<Json<Registration>, ApiError> {
    Ok(Json(setup_helpers::register_webhook(&state).await?))
}

async fn webhook_state(
    State(state): State<Arc<RelayState>>,
) -> Result<Json<WebhookState>, ApiError> {
    Ok(Json(setup_helpers::webhook_state(&state).await?))
}

#[derive(Deserialize)]
struct RoleQuery {
    role: Option<Role>,
}

/// `GET /api/channels`.
#[derive(Serialize, TS)]
pub struct ChannelList {
    channels: Vec<ChannelChoice>,
}

async fn channels(
    State(state): State<Arc<RelayState>>,
    QueryParams(q): QueryParams<RoleQuery>,
) -> Result<Json<ChannelList>, ApiError> {
    let channels = setup_helpers::channels(&state, q.role.unwrap_or(Role::Handover)).await?;
    Ok(Json(ChannelList { channels }))
}
