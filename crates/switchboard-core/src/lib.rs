//! Switchboard's core: everything the relay needs, with no dependency on Tauri, so the
//! desktop app, the headless server and the tests all run the same code.

pub mod admin;
pub mod bot;
pub mod client;
pub mod db;
pub mod endpoint;
pub mod engine;
pub mod events;
pub mod inbox;
pub mod inspector;
pub mod json_properties;
pub mod outbox;
pub mod relay;
pub mod roles;
pub mod sandbox_setup;
pub mod search_text;
pub mod secrets;
pub mod server_config;
pub mod settings;
pub mod settings_update;
pub mod setup_helpers;
pub mod token;
pub mod ui_assets;
pub(crate) mod write_unit;

pub use relay::{start, RelayConfig, RelayHandle};
