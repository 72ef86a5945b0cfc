//! 8x8's webhook signing keys, fetched from the JWK endpoint of the configured Base URL
//! and cached by `kid`. A `kid` the cache has not seen is fetched (that is how a key
//! rotation arrives); a failed fetch is never cached — Cognigy's connector 4.58 cached
//! one and then rejected every event until restart. Fetches are async with a timeout,
//! so a slow 8x8 delays only the deliveries signed with a new key.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::Duration,
};

use url::Url;

use super::signature::{key_from_jwk, PublicKey, SignatureError};

pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The v1 path (brief §3.2) and the legacy one the docs' samples still use (P15).
const PATHS: [&[&str]; 2] = [
    &["chat-gateway", "v1", "jwk"],
    &["vcc", "us", "chat", "v2", "jwk"],
];

pub struct JwkCache {
    http: reqwest::Client,
    /// Keyed by base URL and kid: a key served by one 8x8 (or sandbox) vouches for nothing
    /// when the Base URL changes.
    keys: RwLock<HashMap<String, HashMap<String, Arc<PublicKey>>>>,
    /// One fetch at a time: a burst of deliveries with a new kid makes one request.
    fetching: tokio::sync::Mutex<()>,
}

impl Default for JwkCache {
    fn default() -> Self {
        Self::new()
    }
}

impl JwkCache {
    pub fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(FETCH_TIMEOUT)
                .build()
                .expect("a plain reqwest client builds"),
            keys: RwLock::new(HashMap::new()),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    pub fn cached(&self, base_url: &str, kid: &str) -> Option<Arc<PublicKey>> {
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(base_url)
            .and_then(|keys| keys.get(kid))
            .cloned()
    }

    /// How many keys are cached (for tests and the status screen).
    pub fn len(&self) -> usize {
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(HashMap::len)
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The key for `kid`, from the cache or from 8x8.
    pub async fn get(&self, base_url: &str, kid: &str) -> Result<Arc<PublicKey>, SignatureError> {
        if let Some(key) = self.cached(base_url, kid) {
            return Ok(key);
        }
        let _one_at_a_time = self.fetching.lock().await;
        if let Some(key) = self.cached(base_url, kid) {
            return Ok(key);
        }
        let key = Arc::new(self.fetch(base_url, kid).await?);
        self.keys
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(base_url.to_string())
            .or_default()
            .insert(kid.to_string(), key.clone());
        tracing::info!(kid, "fetched a webhook signing key");
        Ok(key)
    }

    async fn fetch(&self, base_url: &str, kid: &str) -> Result<PublicKey, SignatureError> {
        let unavailable = |reason: String| SignatureError::KeyUnavailable {
            kid: kid.into(),
            reason,
        };
        for path in PATHS {
            let url = jwk_url(base_url, path, kid).map_err(unavailable)?;
            let response = self
                .http
                .get(url)
                .header("accept", "application/json")
                .send()
                .await
                .map_err(|e| unavailable(describe(e)))?;
            let status = response.status();
            if status == reqwest::StatusCode::NOT_FOUND {
                continue;
            }
            if !status.is_success() {
                return Err(unavailable(format!("the JWK endpoint answered {status}")));
            }
            let jwk: serde_json::Value = response
                .json()
                .await
                .map_err(|e| unavailable(format!("the JWK is not JSON: {e}")))?;
            return key_from_jwk(&jwk, kid);
        }
        Err(SignatureError::UnknownKid { kid: kid.into() })
    }
}

fn jwk_url(base_url: &str, prefix: &[&str], kid: &str) -> Result<Url, String> {
    let mut url = Url::parse(base_url).map_err(|e| format!("the Base URL is not valid: {e}"))?;
    url.path_segments_mut()
        .map_err(|_| "the Base URL cannot have a path".to_string())?
        .pop_if_empty()
        .extend(prefix)
        .push(kid)
        .push("public");
    Ok(url)
}

fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "the JWK endpoint did not answer in time".into()
    } else if e.is_connect() {
        "cannot connect to the JWK endpoint".into()
    } else {
        // Without the URL: it is the configured Base URL, shown elsewhere.
        e.without_url().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_escape_the_kid_and_keep_a_base_path() {
        assert_eq!(
            jwk_url("http://127.0.0.1:9/", PATHS[0], "a/b")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:9/chat-gateway/v1/jwk/a%2Fb/public"
        );
        assert_eq!(
            jwk_url("https://api.8x8.com/proxy", PATHS[1], "k1")
                .unwrap()
                .as_str(),
            "https://api.8x8.com/proxy/vcc/us/chat/v2/jwk/k1/public"
        );
    }
}
