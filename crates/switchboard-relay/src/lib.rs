//! Switchboard's relay: the wiring of the crates below it into a running program.
//! `start(config)` opens the store, loads the settings, starts the embedded sandbox when
//! there are no credentials, the conversation engine, the outbox worker and the retention
//! task ([`retention_task`]), and binds
//! the two listeners: the endpoint listener ([`endpoint`], the webhook receiver 8x8
//! reaches) and the admin listener ([`admin`], the UI and its API on loopback). The
//! desktop app, the headless server and the tests all run it the same way.
//!
//! Protocol citations: "chat-gateway.md §n" is docs/chat-gateway.md, "Pn" is a decision in
//! docs/decisions.md.

pub mod admin;
mod cluster;
pub mod connections;
pub mod contact_center_cache;
pub mod copilot_links;
mod data_dir;
pub mod endpoint;
pub mod listener;
pub mod log_destination;
pub mod metrics;
mod relay;
pub mod retention_task;
pub mod roles;
pub mod scrape;
pub mod server_config;
pub mod ui_assets;

pub use relay::{
    start, RelayConfig, RelayError, RelayHandle, RelayState, SandboxInfo, SandboxMode,
};
