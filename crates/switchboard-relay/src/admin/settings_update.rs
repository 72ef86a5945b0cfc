//! Changing the settings from the admin UI: validate everything first, then write the
//! keychain, then the settings store. If the store write fails the keychain change is
//! undone, so keys and settings never disagree and nothing already stored is lost.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::relay::RelayState;
use switchboard_settings::secrets::{Secret, SecretName, SecretsError};
use switchboard_settings::settings::{FieldError, Settings};
use switchboard_types::events::RelayEvent;
use switchboard_types::token;

/// What the admin asks for one API key; absent means "leave it as it is".
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase", tag = "action", deny_unknown_fields)]
pub enum KeyChange {
    Replace { value: String },
    Remove,
}

#[derive(Debug, Default, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(optional_fields)]
pub struct KeyChanges {
    pub endpoint: Option<KeyChange>,
    pub handover: Option<KeyChange>,
    /// The Copilot model's API key.
    pub copilot_model: Option<KeyChange>,
}

/// `PUT /api/settings`: the settings and any key change, saved together or not at all.
#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SaveRequest {
    pub settings: Settings,
    #[serde(default)]
    #[ts(as = "Option<KeyChanges>", optional)]
    pub keys: KeyChanges,
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("{} field(s) need attention", .0.len())]
    Invalid(Vec<FieldError>),
    #[error("The API key was not saved: {0}. Nothing was changed.")]
    Keychain(SecretsError),
    #[error(
        "{0} is set by an environment variable, so it cannot be changed here. Nothing was changed."
    )]
    FromEnvironment(&'static str),
    #[error("The settings could not be written ({0}); any API key change was undone and nothing was changed.")]
    Store(String),
}

/// Everything a key field may be told, for the admin API.
#[derive(Debug, Clone, Copy, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct KeyState {
    pub set: bool,
    pub from_environment: bool,
}

pub fn key_state(state: &RelayState, name: SecretName) -> KeyState {
    let keys = state.key_presence();
    KeyState {
        set: match name {
            SecretName::EndpointApiKey => keys.endpoint,
            SecretName::HandoverApiKey => keys.handover,
            SecretName::CopilotJwtSecret => keys.copilot_jwt_secret,
            SecretName::CopilotModelApiKey => keys.copilot_model,
            // Set by the operator in the server's environment, never from the admin UI.
            SecretName::MetricsToken => false,
        },
        from_environment: state.secrets.from_environment(name),
    }
}

fn check_key(field: &str, change: &Option<KeyChange>, errors: &mut Vec<FieldError>) {
    if let Some(KeyChange::Replace { value }) = change {
        let v = value.trim();
        if v.is_empty() || v.chars().any(char::is_whitespace) {
            errors.push(FieldError {
                field: field.into(),
                message: if field == "keys.copilotModel" {
                    "The model's API key is one word without spaces; paste it from your model provider.".into()
                } else {
                    "An 8x8 API key is one word without spaces; paste it from the 8x8 Admin Console (API Keys).".into()
                },
            });
        }
    }
}

/// A knowledge file the Copilot could not use is refused here, with the line to fix,
/// rather than saved and then searched as empty on every page. (The settings crate checks
/// its size; parsing it is the Copilot crate's, which sits beside it.)
fn check_knowledge(settings: &Settings, errors: &mut Vec<FieldError>) {
    const FIELD: &str = "handover.copilot.knowledge";
    let text = &settings.handover.copilot.knowledge;
    if text.trim().is_empty() || errors.iter().any(|e| e.field == FIELD) {
        return;
    }
    if let Err(message) = switchboard_copilot::Knowledge::parse(text) {
        errors.push(FieldError {
            field: FIELD.into(),
            message: format!("The Copilot cannot use this knowledge file: {message}"),
        });
    }
}

/// Applies a save from the admin UI. The Endpoint URL token is never changed here
/// (see [`regenerate_token`]).
pub async fn save(state: &RelayState, request: SaveRequest) -> Result<Settings, UpdateError> {
    let _one_at_a_time = state.settings_save.lock().await;
    let current = state.settings();
    let mut next = request.settings.normalized();
    next.endpoint.token = current.endpoint.token.clone();
    next.version = current.version;

    let mut errors = next.validate();
    check_knowledge(&next, &mut errors);
    check_key("keys.endpoint", &request.keys.endpoint, &mut errors);
    check_key("keys.handover", &request.keys.handover, &mut errors);
    check_key(
        "keys.copilotModel",
        &request.keys.copilot_model,
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(UpdateError::Invalid(errors));
    }

    let changes = [
        (SecretName::EndpointApiKey, request.keys.endpoint),
        (SecretName::HandoverApiKey, request.keys.handover),
        (SecretName::CopilotModelApiKey, request.keys.copilot_model),
    ];
    let mut undo: Vec<(SecretName, Option<Secret>)> = Vec::new();
    for (name, change) in changes {
        let Some(change) = change else { continue };
        if state.secrets.from_environment(name) {
            rollback(state, undo).await;
            return Err(UpdateError::FromEnvironment(name.env_var()));
        }
        let previous = match state.secrets.get(name).await {
            Ok(p) => p,
            Err(e) => {
                rollback(state, undo).await;
                return Err(UpdateError::Keychain(e));
            }
        };
        let result = match &change {
            KeyChange::Replace { value } => {
                state.secrets.set(name, &Secret::new(value.trim())).await
            }
            KeyChange::Remove => state.secrets.delete(name).await,
        };
        if let Err(e) = result {
            rollback(state, undo).await;
            return Err(UpdateError::Keychain(e));
        }
        undo.push((name, previous));
    }

    if let Err(e) = store(state, &next).await {
        rollback(state, undo).await;
        return Err(e);
    }
    commit(state, current, next.clone()).await;
    Ok(next)
}

/// A fresh Endpoint URL token; the old URL stops working at once.
pub async fn regenerate_token(state: &RelayState) -> Result<Settings, UpdateError> {
    let _one_at_a_time = state.settings_save.lock().await;
    let current = state.settings();
    let mut next = (*current).clone();
    next.endpoint.token = token::generate();
    store(state, &next).await?;
    commit(state, current, next.clone()).await;
    Ok(next)
}

pub use switchboard_settings::export::{export, export_file};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// What is wrong with the file, as a whole sentence.
    #[error("{0}")]
    NotAnExport(String),
    #[error(transparent)]
    Update(#[from] UpdateError),
}

/// Imports an export: validated like a save; this relay's token and keys stay.
pub async fn import(state: &RelayState, body: &[u8]) -> Result<Settings, ImportError> {
    Ok(save(
        state,
        SaveRequest {
            settings: read_export(body)?,
            keys: KeyChanges::default(),
        },
    )
    .await?)
}

/// What importing `body` would save — normalized, with this relay's token, validated
/// like a save — without saving it, so the admin sees the changes before they apply.
pub async fn preview_import(state: &RelayState, body: &[u8]) -> Result<Settings, ImportError> {
    let current = state.settings();
    let mut next = read_export(body)?.normalized();
    next.endpoint.token = current.endpoint.token.clone();
    next.version = current.version;
    let mut errors = next.validate();
    check_knowledge(&next, &mut errors);
    if !errors.is_empty() {
        return Err(UpdateError::Invalid(errors).into());
    }
    Ok(next)
}

/// The settings inside an export file, not yet normalized or validated (that is the
/// save's job).
pub fn read_export(body: &[u8]) -> Result<Settings, ImportError> {
    switchboard_settings::export::read_export(body)
        .map_err(|e| ImportError::NotAnExport(e.detail()))
}

/// Saves `next` to this relay's file and, on PostgreSQL, for every relay on it.
async fn store(state: &RelayState, next: &Settings) -> Result<(), UpdateError> {
    store_here(state, next).await?;
    crate::cluster::share_settings(state, next)
        .await
        .map_err(|e| {
            UpdateError::Store(format!(
                "the other relays cannot be given the settings: {e}"
            ))
        })
}

/// Applies settings another relay saved (PostgreSQL): kept in this relay's file too and
/// taken into use as a save here would be. Nothing happens when they are these already.
pub async fn take_shared(state: &RelayState, next: Settings) -> Result<(), UpdateError> {
    let _one_save = state.settings_save.lock().await;
    let before = state.settings.borrow().clone();
    if *before == next {
        return Ok(());
    }
    store_here(state, &next).await?;
    commit(state, before, next).await;
    Ok(())
}

async fn store_here(state: &RelayState, next: &Settings) -> Result<(), UpdateError> {
    let store = state.settings_store.clone();
    let next = next.clone();
    tokio::task::spawn_blocking(move || store.save(&next))
        .await
        .map_err(|e| UpdateError::Store(e.to_string()))?
        .map_err(|e| UpdateError::Store(e.to_string()))
}

async fn rollback(state: &RelayState, undo: Vec<(SecretName, Option<Secret>)>) {
    for (name, previous) in undo.into_iter().rev() {
        let result = match &previous {
            Some(v) => state.secrets.set(name, v).await,
            None => state.secrets.delete(name).await,
        };
        if let Err(e) = result {
            tracing::error!(account = name.account(), error = %e, "could not undo an API key change");
        }
    }
    state.refresh_key_presence().await;
}

async fn commit(state: &RelayState, before: Arc<Settings>, after: Settings) {
    let url_changed = state.endpoint_url(&before) != state.endpoint_url(&after);
    state.settings.send_replace(Arc::new(after));
    state.refresh_key_presence().await;
    if url_changed {
        if let Err(e) = crate::admin::sandbox_setup::follow_endpoint_url(state).await {
            tracing::warn!(error = %e, "the sandbox webhook could not follow the new Endpoint URL");
        }
    }
    state.bus.publish(RelayEvent::SettingsChanged);
    state.bus.publish(RelayEvent::StatusChanged);
}
