//! The admin API for the settings pages and setup helpers. Thin: the rules live in
//! settings_update.rs and setup_helpers.rs.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{ApiError, JsonBody};
use crate::admin::settings_update::{self, ImportError, KeyState, SaveRequest, UpdateError};
use crate::admin::setup_helpers::{self, TestRequest, Warning};
use crate::relay::RelayState;
use chat_gateway_client::ClientError;
use switchboard_settings::secrets::SecretName;
use switchboard_settings::settings::{FieldError, Settings};
use switchboard_settings::Role;

pub fn router() -> Router<Arc<RelayState>> {
    Router::new()
        .route("/settings", get(get_settings).put(put_settings))
        .route("/settings/regenerate-token", post(regenerate_token))
        .route("/settings/export", get(export))
        .route("/settings/import", post(import))
        .route("/handover/preview", post(preview))
        .route("/connection/test", post(test_connection))
        .route("/webhook", get(webhook_state))
        .route("/webhook/register", post(register_webhook))
        .route("/channels", get(channels))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SettingsView {
    settings: Settings,
    keys: Keys,
    keychain: super::status::KeychainStatus,
    endpoint_url: String,
    local_only: bool,
    sandbox: SandboxView,
    warnings: Vec<Warning>,
}

#[derive(Serialize)]
struct Keys {
    endpoint: KeyState,
    handover: KeyState,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SandboxView {
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
            code: "signatures_off",
            message:
                "Signature verification is off: anyone who knows the Endpoint URL can post events."
                    .into(),
        });
    }
    if local_only && settings.endpoint.enabled && !endpoint_active {
        warnings.push(Warning {
            code: "endpoint_local_only",
            message: "The Endpoint URL is a local address, which 8x8's cloud cannot reach: set the public base URL of your tunnel or reverse proxy.".into(),
        });
    }
    if let Some(problem) = setup.problem.clone() {
        warnings.push(Warning {
            code: "sandbox_setup_failed",
            message: problem,
        });
    }
    warnings.extend(setup_helpers::channel_warnings(state).await);
    SettingsView {
        keys: Keys {
            endpoint: settings_update::key_state(state, SecretName::EndpointApiKey),
            handover: settings_update::key_state(state, SecretName::HandoverApiKey),
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

fn invalid(fields: Vec<FieldError>) -> Response {
    let message = match fields.as_slice() {
        [one] => one.message.clone(),
        many => format!("{} fields need attention.", many.len()),
    };
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({ "code": "invalid_settings", "message": message, "fields": fields })),
    )
        .into_response()
}

fn update_error(e: UpdateError) -> Response {
    match e {
        UpdateError::Invalid(fields) => invalid(fields),
        UpdateError::Keychain(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "keychain_failed",
            e.to_string(),
        )
        .into_response(),
        UpdateError::FromEnvironment(_) => {
            ApiError::new(StatusCode::CONFLICT, "key_from_environment", e.to_string())
                .into_response()
        }
        UpdateError::Store(_) => {
            tracing::error!(error = %e, "settings not saved");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "settings_not_saved",
                e.to_string(),
            )
            .into_response()
        }
    }
}

fn client_error(e: ClientError, state: &RelayState) -> Response {
    if let ClientError::NotConfigured(_) = e {
        return ApiError::new(
            StatusCode::CONFLICT,
            "8x8_not_configured",
            "No 8x8 API key is set for this connection: save one in the settings, or use the sandbox.",
        )
        .into_response();
    }
    let host = state
        .sandbox
        .as_ref()
        .map(|s| s.base_url.clone())
        .unwrap_or_default();
    let outcome = setup_helpers::explain(&e, &host);
    ApiError::new(StatusCode::BAD_GATEWAY, e.code(), outcome.message).into_response()
}

async fn get_settings(State(state): State<Arc<RelayState>>) -> Json<SettingsView> {
    Json(view(&state).await)
}

async fn put_settings(
    State(state): State<Arc<RelayState>>,
    JsonBody(request): JsonBody<SaveRequest>,
) -> Response {
    match settings_update::save(&state, request).await {
        Ok(_) => Json(view(&state).await).into_response(),
        Err(e) => update_error(e),
    }
}

async fn regenerate_token(State(state): State<Arc<RelayState>>) -> Response {
    match settings_update::regenerate_token(&state).await {
        Ok(_) => Json(view(&state).await).into_response(),
        Err(e) => update_error(e),
    }
}

async fn export(State(state): State<Arc<RelayState>>) -> Response {
    let body = settings_update::export(&state.settings());
    (
        [(
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"switchboard-settings.json\"",
        )],
        Json(body),
    )
        .into_response()
}

async fn import(State(state): State<Arc<RelayState>>, body: Bytes) -> Response {
    match settings_update::import(&state, &body).await {
        Ok(_) => Json(view(&state).await).into_response(),
        Err(ImportError::NotAnExport(m)) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_import",
            format!("This is not a Switchboard settings export ({m})."),
        )
        .into_response(),
        Err(ImportError::Update(e)) => update_error(e),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PreviewRequest {
    json_properties: String,
    handover_message: Option<String>,
}

async fn preview(
    State(state): State<Arc<RelayState>>,
    JsonBody(req): JsonBody<PreviewRequest>,
) -> Response {
    let message = match req.handover_message {
        Some(m) => m,
        None => state.settings().handover.handover_message.clone(),
    };
    match setup_helpers::handover_preview(&req.json_properties, &message) {
        Ok(p) => Json(p).into_response(),
        Err(m) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_json_properties",
            m,
        )
        .into_response(),
    }
}

async fn test_connection(
    State(state): State<Arc<RelayState>>,
    JsonBody(req): JsonBody<TestRequest>,
) -> Response {
    match setup_helpers::test_connection(&state, req).await {
        Ok(outcome) => Json(outcome).into_response(),
        Err(fields) => invalid(fields),
    }
}

async fn register_webhook(State(state): State<Arc<RelayState>>) -> Response {
    match setup_helpers::register_webhook(&state).await {
        Ok(r) => Json(r).into_response(),
        Err(e) => client_error(e, &state),
    }
}

async fn webhook_state(State(state): State<Arc<RelayState>>) -> Response {
    match setup_helpers::webhook_state(&state).await {
        Ok(w) => Json(w).into_response(),
        Err(e) => client_error(e, &state),
    }
}

#[derive(Deserialize)]
struct RoleQuery {
    role: Option<Role>,
}

async fn channels(State(state): State<Arc<RelayState>>, Query(q): Query<RoleQuery>) -> Response {
    match setup_helpers::channels(&state, q.role.unwrap_or(Role::Handover)).await {
        Ok(channels) => Json(json!({ "channels": channels })).into_response(),
        Err(e) => client_error(e, &state),
    }
}
