//! The end-to-end tests, as one test binary (one link, one process) rather than one per
//! file: each file is a module; the shared fixtures, the emulator's control client and
//! the `eventually` polling helper are in the `switchboard_e2e` library (support/).
//!
//! `keychain` needs the real OS keychain and is `#[ignore]`d; scripts/lib/in-session.sh
//! runs it on its own: `cargo test --test e2e -- --ignored keychain::`.

mod admin_api;
mod contact_center;
mod copilot;
mod engine;
mod failure_cluster;
mod failure_db_locked;
mod failure_disk_full;
mod failure_jwk;
mod failure_kill;
mod failure_load;
mod failure_outage;
mod inspector_api;
mod keychain;
mod metrics;
mod relay_start;
mod settings_api;
mod settings_workflow;
