//! The relay's integration tests that need no bot, as one test binary (one link, one
//! process, one shared signing key) rather than one per file: each file is a module and
//! `support` holds the emulator/relay fixtures, the contract-checked 8x8 client and the
//! `eventually` polling helper.

mod analytics_api;
mod client_emulator;
mod contact_center;
mod contact_center_emulator;
mod docs_limits;
mod inbox_restart;
mod inbox_signatures;
mod outbox_delivery;
mod retention;
mod server_cli;
mod server_log_format;
mod server_scrape;
mod support;
