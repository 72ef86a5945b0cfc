//! 8x8's webhook signing keys, fetched from the JWK endpoint of the configured Base URL
//! and cached by `kid`. A `kid` the cache has not seen is fetched (that is how a key
//! rotation arrives); a failed fetch is never cached — Cognigy's connector 4.58 cached
//! one and then rejected every event until restart. Fetches are async with a timeout,
//! so a slow 8x8 delays only the deliveries signed with a new key.
//!
//! The kid is the sender's choice, so the cache must not let anyone who can post to the
//! Endpoint URL hold up 8x8's own deliveries:
//! - fetches of different kids run side by side (at most [`MAX_FETCHES`] at once), so
//!   bogus kids against a slow JWK endpoint do not queue a genuine new kid behind them;
//! - deliveries waiting for the same kid share one fetch, and its outcome — a burst
//!   with a new kid makes one request, and a failure costs one timeout, not one each;
//!   a delivery that arrives after the fetch ended fetches again;
//! - a kid 8x8 does not know (404 on both paths) is remembered for [`UNKNOWN_FOR`], so
//!   repeating it costs nothing; a transient failure is never remembered;
//! - known kids are answered from the cache and never wait for any fetch.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

use tokio::sync::{OnceCell, Semaphore};
use url::Url;

use super::signature::{key_from_jwk, PublicKey, SignatureError};

pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Fetches in flight at once, across kids.
pub const MAX_FETCHES: usize = 32;
/// How long a kid 8x8 answered 404 for is taken as unknown without asking again: short,
/// so that a key published a moment after its first use is picked up on 8x8's retry.
pub const UNKNOWN_FOR: Duration = Duration::from_secs(10);
/// Unknown kids remembered at most; past that the memory starts over.
const UNKNOWN_CAP: usize = 4_096;

/// The v1 path (chat-gateway.md §3.2) and the legacy one the docs' samples still use (P15).
const PATHS: [&[&str]; 2] = [
    &["chat-gateway", "v1", "jwk"],
    &["vcc", "us", "chat", "v2", "jwk"],
];

type KeyResult = Result<Arc<PublicKey>, SignatureError>;
/// Base URL and kid: a key served by one 8x8 (or sandbox) vouches for nothing when the
/// Base URL changes.
type KidKey = (String, String);

pub struct JwkCache {
    http: reqwest::Client,
    keys: RwLock<HashMap<String, HashMap<String, Arc<PublicKey>>>>,
    /// The fetch of each kid in flight, shared by everyone waiting for that kid.
    in_flight: Mutex<HashMap<KidKey, Arc<OnceCell<KeyResult>>>>,
    /// Kids 8x8 said it does not know, and when.
    unknown: Mutex<HashMap<KidKey, Instant>>,
    fetches: Semaphore,
    timeout: Duration,
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
            in_flight: Mutex::new(HashMap::new()),
            unknown: Mutex::new(HashMap::new()),
            fetches: Semaphore::new(MAX_FETCHES),
            timeout,
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
        let id: KidKey = (base_url.to_string(), kid.to_string());
        if self.known_unknown(&id) {
            return Err(SignatureError::UnknownKid { kid: kid.into() });
        }
        let cell = self
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(id.clone())
            .or_default()
            .clone();
        let result = cell
            .get_or_init(|| self.fetch_bounded(base_url, kid))
            .await
            .clone();
        {
            // The first to finish retires the shared fetch: who comes later asks again.
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            if in_flight.get(&id).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
                in_flight.remove(&id);
            }
        }
        match &result {
            Ok(key) => {
                let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
                let for_base = keys.entry(base_url.to_string()).or_default();
                if !for_base.contains_key(kid) {
                    for_base.insert(kid.to_string(), key.clone());
                    tracing::info!(kid, "fetched a webhook signing key");
                }
            }
            Err(SignatureError::UnknownKid { .. }) => {
                let mut unknown = self.unknown.lock().unwrap_or_else(|e| e.into_inner());
                if unknown.len() >= UNKNOWN_CAP {
                    unknown.clear();
                }
                unknown.insert(id, Instant::now());
            }
            Err(_) => {}
        }
        result
    }

    fn known_unknown(&self, id: &KidKey) -> bool {
        let mut unknown = self.unknown.lock().unwrap_or_else(|e| e.into_inner());
        match unknown.get(id) {
            Some(since) if since.elapsed() < UNKNOWN_FOR => true,
            Some(_) => {
                unknown.remove(id);
                false
            }
            None => false,
        }
    }

    /// One fetch, once a place among the [`MAX_FETCHES`] is free (waiting no longer than
    /// a fetch may take).
    async fn fetch_bounded(&self, base_url: &str, kid: &str) -> KeyResult {
        let busy = || SignatureError::KeyUnavailable {
            kid: kid.into(),
            reason: "too many new signing keys are being fetched at once".into(),
        };
        let _permit = tokio::time::timeout(self.timeout, self.fetches.acquire())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        self.fetch(base_url, kid).await.map(Arc::new)
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

    /// A JWK endpoint that knows no kid: kids starting with "slow" are answered 503
    /// after `hold`, the others 404 at once. Counts requests.
    fn slow_and_fast_endpoint(hold: Duration) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let count = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let count = count.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream);
                    let mut request_line = String::new();
                    let _ = reader.read_line(&mut request_line);
                    let mut line = String::new();
                    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                        line.clear();
                    }
                    count.fetch_add(1, Ordering::SeqCst);
                    let answer: &[u8] = if request_line.contains("/slow") {
                        std::thread::sleep(hold);
                        b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    } else {
                        b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    };
                    let _ = reader.get_mut().write_all(answer);
                });
            }
        });
        (base_url, requests)
    }

    #[tokio::test]
    async fn bogus_kids_on_a_slow_endpoint_do_not_hold_up_another_kid() {
        let (base, _) = slow_and_fast_endpoint(Duration::from_secs(3));
        let cache = Arc::new(JwkCache::with_timeout(Duration::from_secs(10)));
        let bogus: Vec<_> = (0..10)
            .map(|i| {
                let (cache, base) = (cache.clone(), base.clone());
                tokio::spawn(async move { cache.get(&base, &format!("slow-{i}")).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        let other = cache.get(&base, "rotated").await;
        let took = started.elapsed();
        assert!(
            matches!(other, Err(SignatureError::UnknownKid { .. })),
            "{other:?}"
        );
        assert!(
            took < Duration::from_secs(1),
            "the other kid waited {took:?}"
        );
        for task in bogus {
            assert!(task.await.unwrap().unwrap_err().is_transient());
        }
    }

    #[tokio::test]
    async fn an_unknown_kid_is_remembered_for_a_while() {
        let (base, requests) = slow_and_fast_endpoint(Duration::ZERO);
        let cache = JwkCache::with_timeout(Duration::from_secs(5));
        for _ in 0..5 {
            let e = cache.get(&base, "never-published").await.unwrap_err();
            assert_eq!(e.code(), "unknown_kid");
        }
        assert_eq!(
            requests.load(Ordering::SeqCst),
            2,
            "one fetch (the v1 path, then the legacy one) for five deliveries"
        );
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
