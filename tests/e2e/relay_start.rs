//! Starting the relay: what fails, how it says so, and what it leaves untouched.

use std::sync::Arc;

use switchboard_e2e::TestRelay;
use switchboard_relay::{RelayError, SandboxMode};
use switchboard_settings::secrets::{Secret, SecretName, Secrets};
use switchboard_settings::settings::{JsonFileSettings, SettingsStore};
use switchboard_settings::Role;

#[tokio::test]
async fn a_taken_endpoint_port_is_reported_by_name() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = switchboard_relay::RelayConfig::for_tests(dir.path().to_path_buf());
    config.endpoint_bind = addr;
    let err = switchboard_relay::start(config)
        .await
        .err()
        .expect("bind fails");
    assert!(matches!(
        err,
        RelayError::Bind {
            listener: "endpoint",
            ..
        }
    ));
    let text = err.to_string();
    assert!(
        text.contains(&addr.to_string()) && text.contains("--endpoint-bind"),
        "{text}"
    );
    // Nothing was created for a start that did not happen.
    assert!(!dir.path().join("switchboard.db").exists());
}

#[tokio::test]
async fn invalid_stored_settings_stop_the_start_and_stay_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.json");
    let original =
        r#"{"connection":{"baseUrl":"http://api.example.com"},"endpoint":{"token":"short"}}"#;
    std::fs::write(&path, original).unwrap();
    let mut config = switchboard_relay::RelayConfig::for_tests(dir.path().to_path_buf());
    config.settings_store = Arc::new(JsonFileSettings::new(&path));
    let err = switchboard_relay::start(config)
        .await
        .err()
        .expect("refused");
    let text = err.to_string();
    assert!(
        text.contains("connection.baseUrl") && text.contains("https"),
        "{text}"
    );
    assert!(text.contains("endpoint.token"), "{text}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original);
}

#[tokio::test]
async fn first_start_creates_settings_with_a_strong_token_that_later_starts_keep() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.json");
    let start = |path: std::path::PathBuf| {
        let mut config = switchboard_relay::RelayConfig::for_tests(dir.path().to_path_buf());
        config.settings_store = Arc::new(JsonFileSettings::new(path));
        switchboard_relay::start(config)
    };
    let first = start(path.clone()).await.unwrap();
    let url = first.endpoint_url().await;
    first.shutdown().await;
    let token = JsonFileSettings::new(&path)
        .load()
        .unwrap()
        .unwrap()
        .endpoint
        .token;
    assert!(token.len() >= 22);
    assert!(url.ends_with(&token));
    let second = start(path.clone()).await.unwrap();
    assert!(second.endpoint_url().await.ends_with(&token));
    second.shutdown().await;
}

#[tokio::test]
async fn the_sandbox_follows_the_api_key_and_the_run_flag() {
    let endpoint_uses_sandbox = |relay: &TestRelay| {
        let state = &relay.handle.state;
        let settings = state.settings();
        state.sandbox_active(&settings, Role::Endpoint)
    };
    // No key: the emulator runs and the relay uses it.
    let secrets = Arc::new(Secrets::in_memory());
    let relay = TestRelay::start_with(|c| c.secrets = secrets.clone()).await;
    assert!(endpoint_uses_sandbox(&relay));
    // A key set while running switches to 8x8 without a restart; the emulator stays up.
    secrets
        .set(SecretName::EndpointApiKey, &Secret::new("real-key"))
        .await
        .unwrap();
    relay.handle.state.refresh_key_presence().await;
    assert!(!endpoint_uses_sandbox(&relay));
    assert!(
        relay.handle.state.sandbox.is_some(),
        "the sandbox stays available"
    );
    relay.handle.shutdown().await;

    // --sandbox on wins over a set key; --sandbox off does not start the emulator.
    let forced = TestRelay::start_with(|c| {
        c.secrets = secrets.clone();
        c.sandbox = SandboxMode::On;
    })
    .await;
    assert!(endpoint_uses_sandbox(&forced));
    forced.handle.shutdown().await;

    let off = TestRelay::start_with(|c| c.sandbox = SandboxMode::Off).await;
    assert!(off.handle.state.sandbox.is_none());
    assert!(!endpoint_uses_sandbox(&off));
    off.handle.shutdown().await;
}
