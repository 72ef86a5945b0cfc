//! The real OS keychain (Secret Service through gnome-keyring). Needs a session bus and
//! an unlocked keyring, which scripts/test.sh provides with dbus-run-session; run alone
//! with `cargo test -p switchboard-e2e --test e2e -- --ignored keychain::` inside such a
//! session.

use switchboard_settings::secrets::{Backend, Secret, SecretName, Secrets};

#[tokio::test]
#[ignore = "needs a Secret Service session; scripts/test.sh runs it"]
async fn a_secret_round_trips_through_the_os_keychain() {
    let secrets = Secrets::system();
    assert_eq!(
        secrets.backend(),
        Backend::SecretService,
        "keychain unavailable: {:?}",
        secrets.unavailable_reason()
    );
    let name = SecretName::HandoverApiKey;
    let value = format!("key-{}", switchboard_types::token::generate());
    secrets.set(name, &Secret::new(&value)).await.unwrap();

    // A second, independent connection reads it back: it is in the keychain, not a cache.
    let other = Secrets::system();
    assert_eq!(other.get(name).await.unwrap().unwrap().expose(), value);

    other.delete(name).await.unwrap();
    assert!(!secrets.is_set(name).await.unwrap());
}
