//! 8x8's webhook signing keys, fetched from the JWK endpoint of the configured Base URL
//! and cached by `kid`. A `kid` the cache has not seen is fetched (that is how a key
//! rotation arrives); a failed fetch is never cached — Cognigy's connector 4.58 cached
//! one and then rejected every event until restart. Fetches are async with a timeout,
//! so a slow 8x8 delays only the deliveries signed with a new key.
//!
//! One fetch at a time, and its failure is shared with the deliveries that waited for
//! it: when the endpoint hangs, a burst of deliveries with a new kid waits for one
//! timeout, not for one timeout each in turn (which would outlast 8x8's own timeout and
//! turn every answer into a retry). A delivery that arrives after a failure fetches again.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use url::Url;

use super::signature::{key_from_jwk, PublicKey, SignatureError};

pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The v1 path (chat-gateway.md §3.2) and the legacy one the docs' samples still use (P15).
const PATHS: [&[&str]; 2] = [
    &["chat-gateway", "v1", "jwk"],
    &["vcc", "us", "chat", "v2", "jwk"],
];

pub struct JwkCache {
    http: reqwest::Client,
    /// Keyed by base URL and kid: a key served by one 8x8 (or sandbox) vouches for nothing
    /// when the Base URL changes.
    keys: RwLock<HashMap<String, HashMap<String, Arc<PublicKey>>>>,
    /// One fetch at a time: a burst of deliveries with a new kid makes one request. Holds
    /// the last failed fetch, for the deliveries that were waiting on it.
    fetching: tokio::sync::Mutex<Option<FailedFetch>>,
}

/// A fetch that failed, and when: only callers that started waiting before it ended
/// share it, so it is never a cached verdict.
struct FailedFetch {
    base_url: String,
    kid: String,
    ended: Instant,
    error: SignatureError,
}

impl Default for JwkCache {
    fn default() -> Self {
        Self::new()
    }
}

impl JwkCache {
    pub fn new() -> Self {
        Self::with_timeout(FETCH_TIMEOUT)
    }

    /// A cache whose fetches give up after `timeout` (tests shorten it).
    pub fn with_timeout(timeout: Duration) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .expect("a plain reqwest client builds"),
            keys: RwLock::new(HashMap::new()),
            fetching: tokio::sync::Mutex::new(None),
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
        let waiting_since = Instant::now();
        let mut last_failure = self.fetching.lock().await;
        if let Some(key) = self.cached(base_url, kid) {
            return Ok(key);
        }
        if let Some(failed) = last_failure.as_ref() {
            if failed.ended >= waiting_since && failed.base_url == base_url && failed.kid == kid {
                return Err(failed.error.clone());
            }
        }
        let key = match self.fetch(base_url, kid).await {
            Ok(key) => Arc::new(key),
            Err(error) => {
                *last_failure = Some(FailedFetch {
                    base_url: base_url.to_string(),
                    kid: kid.to_string(),
                    ended: Instant::now(),
                    error: error.clone(),
                });
                return Err(error);
            }
        };
        *last_failure = None;
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
    use std::{
        io::{BufRead, BufReader, Write},
        net::TcpListener,
        sync::{
            atomic::{AtomicUsize, Ordering},
            Condvar, Mutex,
        },
    };

    /// A JWK endpoint that holds every request until `open` is called, then answers 503.
    struct HeldEndpoint {
        base_url: String,
        requests: Arc<AtomicUsize>,
        gate: Arc<(Mutex<bool>, Condvar)>,
    }

    impl HeldEndpoint {
        fn start() -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let base_url = format!("http://{}", listener.local_addr().unwrap());
            let requests = Arc::new(AtomicUsize::new(0));
            let gate = Arc::new((Mutex::new(false), Condvar::new()));
            let (count, g) = (requests.clone(), gate.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming().map_while(Result::ok) {
                    let (count, g) = (count.clone(), g.clone());
                    std::thread::spawn(move || {
                        let mut reader = BufReader::new(stream);
                        let mut line = String::new();
                        while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                            line.clear();
                        }
                        count.fetch_add(1, Ordering::SeqCst);
                        let (open, cv) = &*g;
                        let mut is_open = open.lock().unwrap();
                        while !*is_open {
                            is_open = cv.wait(is_open).unwrap();
                        }
                        let _ = reader.get_mut().write_all(
                            b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                        );
                    });
                }
            });
            Self {
                base_url,
                requests,
                gate,
            }
        }

        fn open(&self) {
            *self.gate.0.lock().unwrap() = true;
            self.gate.1.notify_all();
        }

        fn requests(&self) -> usize {
            self.requests.load(Ordering::SeqCst)
        }
    }

    /// One runtime thread: the spawned lookups run only when the test awaits, so they are
    /// all waiting on the first fetch before the endpoint answers.
    #[tokio::test(flavor = "current_thread")]
    async fn a_burst_waiting_on_a_failed_fetch_shares_it_and_the_next_delivery_fetches_again() {
        let endpoint = HeldEndpoint::start();
        let cache = Arc::new(JwkCache::with_timeout(Duration::from_secs(60)));
        let lookup = |cache: &Arc<JwkCache>| {
            let (cache, base) = (cache.clone(), endpoint.base_url.clone());
            tokio::spawn(async move { cache.get(&base, "new-kid").await })
        };
        let first = lookup(&cache);
        for _ in 0..600 {
            if endpoint.requests() == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            endpoint.requests(),
            1,
            "the first fetch reached the endpoint"
        );
        let waiting: Vec<_> = (0..4).map(|_| lookup(&cache)).collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        endpoint.open();

        for task in std::iter::once(first).chain(waiting) {
            let err = task.await.unwrap().unwrap_err();
            assert!(err.is_transient(), "{err}");
            assert!(err.to_string().contains("503"), "{err}");
        }
        assert_eq!(endpoint.requests(), 1, "one fetch served the whole burst");
        // Not a cached verdict: the next delivery asks again.
        assert!(cache.get(&endpoint.base_url, "new-kid").await.is_err());
        assert_eq!(endpoint.requests(), 2);
        assert!(cache.is_empty());
    }

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
