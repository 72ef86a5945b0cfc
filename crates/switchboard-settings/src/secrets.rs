//! API keys, kept only in the OS keychain (Secret Service on Linux) through the keyring
//! crate family. Nothing here ever prints a secret: [`Secret`]'s Debug is redacted and
//! errors carry only the name of the entry. Headless servers may supply keys through
//! environment variables instead, which then win over the keychain.

use std::{collections::HashMap, sync::Arc};

use keyring_core::{CredentialStore, Entry};

/// The keychain "service" under which every Switchboard entry is filed.
pub const SERVICE: &str = "dev.switchboard.app";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretName {
    /// The 8x8 API key used by the endpoint role (and by handover when it shares it).
    EndpointApiKey,
    /// A separate 8x8 API key for the handover role.
    HandoverApiKey,
}

impl SecretName {
    pub fn account(self) -> &'static str {
        match self {
            SecretName::EndpointApiKey => "endpoint-api-key",
            SecretName::HandoverApiKey => "handover-api-key",
        }
    }

    /// The environment variable a headless server reads this secret from.
    pub fn env_var(self) -> &'static str {
        match self {
            SecretName::EndpointApiKey => "SWITCHBOARD_API_KEY",
            SecretName::HandoverApiKey => "SWITCHBOARD_HANDOVER_API_KEY",
        }
    }
}

pub use chat_gateway_client::Secret;

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("the OS keychain is not available ({0}); on Linux a Secret Service (for example gnome-keyring) must be running and unlocked")]
    Unavailable(String),
    #[error("the OS keychain refused access to {account} ({detail})")]
    Access {
        account: &'static str,
        detail: String,
    },
    #[error("{0} comes from an environment variable and cannot be changed from the app")]
    FromEnvironment(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum Backend {
    SecretService,
    Memory,
    Unavailable,
}

/// The secrets interface the rest of the core uses.
pub struct Secrets {
    store: Result<Arc<CredentialStore>, String>,
    backend: Backend,
    env: HashMap<SecretName, Secret>,
}

impl Secrets {
    /// The OS keychain. If it cannot be reached the app still runs (on the sandbox) and
    /// the status screen says why keys cannot be stored.
    pub fn system() -> Self {
        match system_store() {
            Ok(store) => Self {
                store: Ok(store),
                backend: Backend::SecretService,
                env: HashMap::new(),
            },
            Err(reason) => Self {
                store: Err(reason),
                backend: Backend::Unavailable,
                env: HashMap::new(),
            },
        }
    }

    /// A store that forgets everything at exit, for tests.
    pub fn in_memory() -> Self {
        let store: Arc<CredentialStore> =
            keyring_core::mock::Store::new().expect("the mock store always builds");
        Self {
            store: Ok(store),
            backend: Backend::Memory,
            env: HashMap::new(),
        }
    }

    /// Take values from the process environment (headless servers).
    pub fn with_env_overrides(mut self) -> Self {
        for name in [SecretName::EndpointApiKey, SecretName::HandoverApiKey] {
            if let Ok(v) = std::env::var(name.env_var()) {
                if !v.is_empty() {
                    self.env.insert(name, Secret::new(v));
                }
            }
        }
        self
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Why the keychain is unavailable, if it is.
    pub fn unavailable_reason(&self) -> Option<&str> {
        self.store.as_ref().err().map(String::as_str)
    }

    pub fn from_environment(&self, name: SecretName) -> bool {
        self.env.contains_key(&name)
    }

    pub async fn get(&self, name: SecretName) -> Result<Option<Secret>, SecretsError> {
        if let Some(v) = self.env.get(&name) {
            return Ok(Some(v.clone()));
        }
        let entry = self.entry(name)?;
        blocking(move || match entry.get_password() {
            Ok(v) => Ok(Some(Secret::new(v))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(access(name, e)),
        })
        .await
    }

    pub async fn set(&self, name: SecretName, value: &Secret) -> Result<(), SecretsError> {
        if self.from_environment(name) {
            return Err(SecretsError::FromEnvironment(name.env_var()));
        }
        let entry = self.entry(name)?;
        let value = value.clone();
        blocking(move || {
            entry
                .set_password(value.expose())
                .map_err(|e| access(name, e))
        })
        .await
    }

    pub async fn delete(&self, name: SecretName) -> Result<(), SecretsError> {
        if self.from_environment(name) {
            return Err(SecretsError::FromEnvironment(name.env_var()));
        }
        let entry = self.entry(name)?;
        blocking(move || match entry.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(access(name, e)),
        })
        .await
    }

    pub async fn is_set(&self, name: SecretName) -> Result<bool, SecretsError> {
        Ok(self.get(name).await?.is_some())
    }

    fn entry(&self, name: SecretName) -> Result<Entry, SecretsError> {
        let store = self
            .store
            .as_ref()
            .map_err(|r| SecretsError::Unavailable(r.clone()))?;
        store
            .build(SERVICE, name.account(), None)
            .map_err(|e| access(name, e))
    }
}

fn access(name: SecretName, e: keyring_core::Error) -> SecretsError {
    // keyring errors never contain the secret itself, only what went wrong.
    SecretsError::Access {
        account: name.account(),
        detail: e.to_string(),
    }
}

/// A locked keyring can wait for an unlock prompt nobody will answer (no desktop);
/// past this the relay goes on as if no key were set and says why.
const KEYCHAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Keychain calls block on D-Bus; keep them off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SecretsError> + Send + 'static,
) -> Result<T, SecretsError> {
    match tokio::time::timeout(KEYCHAIN_TIMEOUT, tokio::task::spawn_blocking(f)).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(SecretsError::Unavailable(format!(
            "keychain task failed: {e}"
        ))),
        Err(_) => Err(SecretsError::Unavailable(format!(
            "the keychain did not answer within {} s (is it locked?)",
            KEYCHAIN_TIMEOUT.as_secs()
        ))),
    }
}

#[cfg(target_os = "linux")]
fn system_store() -> Result<Arc<CredentialStore>, String> {
    let store: Arc<CredentialStore> =
        zbus_secret_service_keyring_store::Store::new().map_err(|e| e.to_string())?;
    Ok(store)
}

#[cfg(not(target_os = "linux"))]
fn system_store() -> Result<Arc<CredentialStore>, String> {
    Err("only the Linux Secret Service is wired up in this build".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn set_get_delete_in_memory() {
        let s = Secrets::in_memory();
        let name = SecretName::EndpointApiKey;
        assert!(!s.is_set(name).await.unwrap());
        s.set(name, &Secret::new("k-123")).await.unwrap();
        assert_eq!(s.get(name).await.unwrap().unwrap().expose(), "k-123");
        assert!(!s.is_set(SecretName::HandoverApiKey).await.unwrap());
        s.delete(name).await.unwrap();
        assert!(!s.is_set(name).await.unwrap());
        // Deleting what is not there is not an error: the user asked for "not set".
        s.delete(name).await.unwrap();
    }

    #[test]
    fn debug_never_shows_the_value() {
        let shown = format!("{:?}", Secret::new("super-secret-value"));
        assert!(!shown.contains("super-secret-value"));
    }

    #[tokio::test]
    async fn an_unavailable_keychain_says_why() {
        let s = Secrets {
            store: Err("no session bus".into()),
            backend: Backend::Unavailable,
            env: HashMap::new(),
        };
        let err = s.get(SecretName::EndpointApiKey).await.unwrap_err();
        assert!(err.to_string().contains("no session bus"), "{err}");
    }
}
