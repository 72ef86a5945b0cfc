//! The settings as a file an admin can move to another machine, and back. An export
//! carries no API keys (they never leave the keychain) and no Endpoint URL token
//! (another machine must not take over this relay's URL); reading one only checks that
//! it is an export of a format this build knows — validation is the save's job.

use serde::Deserialize;

use crate::settings::Settings;

/// The format number written into every export.
pub const FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("This is not a Switchboard settings export ({0}).")]
    NotAnExport(String),
}

impl ExportError {
    /// Where the file went wrong, without the sentence around it.
    pub fn detail(&self) -> String {
        match self {
            ExportError::NotAnExport(d) => d.clone(),
        }
    }
}

pub fn export(settings: &Settings) -> serde_json::Value {
    let mut s = settings.clone();
    s.endpoint.token = String::new();
    serde_json::json!({ "switchboardSettings": FORMAT, "settings": s })
}

/// The settings inside an export file, not yet normalized or validated. Public so that
/// the fuzz target runs the import's own reading.
pub fn read_export(body: &[u8]) -> Result<Settings, ExportError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Export {
        switchboard_settings: u32,
        settings: Settings,
    }
    let export: Export = serde_json::from_slice(body).map_err(|e| {
        ExportError::NotAnExport(format!("line {}, column {}: {e}", e.line(), e.column()))
    })?;
    if export.switchboard_settings != FORMAT {
        return Err(ExportError::NotAnExport(format!(
            "format {} is newer than this Switchboard knows",
            export.switchboard_settings
        )));
    }
    Ok(export.settings)
}
