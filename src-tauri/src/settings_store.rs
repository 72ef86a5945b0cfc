//! The desktop app's settings live in tauri-plugin-store; this adapts it to the core's
//! one settings interface.

use std::sync::Arc;

use switchboard_settings::settings::{Settings, SettingsError, SettingsStore};
use tauri::{Runtime, Wry};
use tauri_plugin_store::Store;

const KEY: &str = "settings";

pub struct PluginStoreSettings<R: Runtime = Wry> {
    pub store: Arc<Store<R>>,
    pub location: String,
}

impl<R: Runtime> SettingsStore for PluginStoreSettings<R> {
    fn load(&self) -> Result<Option<Settings>, SettingsError> {
        self.store
            .get(KEY)
            .map(|value| {
                serde_json::from_value(value).map_err(|source| SettingsError::Parse {
                    path: self.location.clone(),
                    source,
                })
            })
            .transpose()
    }

    fn save(&self, settings: &Settings) -> Result<(), SettingsError> {
        let value = serde_json::to_value(settings).expect("settings always serialize");
        self.store.set(KEY, value);
        self.store
            .save()
            .map_err(|e| SettingsError::Backend(e.to_string()))
    }

    fn location(&self) -> String {
        self.location.clone()
    }
}
