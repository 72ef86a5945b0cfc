//! Test support for the inbox, client and outbox tests: the 8x8 emulator on port 0, a
//! relay on port 0 with a temp database pointed at it (sandbox off, so the relay uses
//! the configured Base URL like it would with real 8x8), deliveries signed with the
//! emulator's own keyring, an 8x8 client whose every request is checked against 8x8's
//! OpenAPI document, and [`eventually`], the one way these tests wait.

use std::{
    fmt,
    path::Path,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use chat_gateway_client::{ChatGatewayClient, Connection, RetryPolicy, SentRequest};
use chat_gateway_sim::{Keyring, Seed, SimConfig, SimHandle};
use openapi_contract::Contract;
use switchboard_relay::RelayConfig;
use switchboard_relay::RelayHandle;
use switchboard_relay::SandboxMode;
use switchboard_settings::secrets::{Secret, SecretName, Secrets};
use switchboard_settings::settings::{JsonFileSettings, Settings, SettingsStore};

pub const KEY: &str = "sandbox-key";
pub const TENANT: &str = "sandbox-tenant";

/// One RSA key pair for the whole test binary: key generation is the slow part.
pub fn shared_keyring() -> Arc<Keyring> {
    static K: OnceLock<Arc<Keyring>> = OnceLock::new();
    K.get_or_init(|| Arc::new(Keyring::generate().expect("keygen")))
        .clone()
}

pub fn now_ms() -> i64 {
    switchboard_types::events::now_ms()
}

pub async fn start_sim() -> SimHandle {
    start_sim_at("127.0.0.1:0".parse().unwrap(), shared_keyring()).await
}

pub async fn start_sim_at(addr: std::net::SocketAddr, keyring: Arc<Keyring>) -> SimHandle {
    let mut config = SimConfig::new(addr, Seed::sandbox());
    config.settings = chat_gateway_sim::Settings::fast();
    config.keyring = Some(keyring);
    chat_gateway_sim::start(config)
        .await
        .expect("emulator starts")
}

pub fn settings_for(base_url: &str) -> Settings {
    let mut s = Settings::default();
    s.connection.base_url = base_url.to_string();
    s.connection.tenant = Some(TENANT.into());
    s.endpoint.token = switchboard_types::token::generate();
    s
}

/// A relay whose settings live in `dir/settings.json`, so a second start on the same
/// directory is the same relay after a restart.
pub async fn start_relay(dir: &Path, base_url: &str) -> RelayHandle {
    let store = JsonFileSettings::new(dir.join("settings.json"));
    if store.load().unwrap().is_none() {
        store.save(&settings_for(base_url)).unwrap();
    }
    let secrets = Secrets::in_memory();
    secrets
        .set(SecretName::EndpointApiKey, &Secret::new(KEY))
        .await
        .unwrap();
    let mut config = RelayConfig::for_tests(dir.to_path_buf());
    config.settings_store = Arc::new(store);
    config.secrets = Arc::new(secrets);
    config.sandbox = SandboxMode::Off;
    switchboard_relay::start(config)
        .await
        .expect("relay starts")
}

pub struct Env {
    pub sim: SimHandle,
    pub relay: RelayHandle,
    /// The relay's data directory, removed when the test ends.
    _dir: tempfile::TempDir,
    pub http: reqwest::Client,
    pub endpoint: String,
}

impl Env {
    pub async fn start() -> Env {
        let sim = start_sim().await;
        let dir = tempfile::tempdir().unwrap();
        let relay = start_relay(dir.path(), &sim.base_url()).await;
        let endpoint = relay.endpoint_url().await;
        Env {
            sim,
            relay,
            _dir: dir,
            http: reqwest::Client::new(),
            endpoint,
        }
    }

    pub fn inbox(&self) -> &switchboard_relay::endpoint::inbox::Inbox {
        &self.relay.state.inbox
    }

    /// The `x-8x8-*` headers of one delivery attempt, signed by the emulator's key.
    pub fn sign(&self, body: &[u8], event_id: &str, retry: u32, tt: i64) -> Vec<(String, String)> {
        sign_with(&self.sim.keyring(), body, event_id, retry, tt)
    }

    pub async fn post(&self, body: &[u8], headers: &[(String, String)]) -> reqwest::Response {
        post(&self.http, &self.endpoint, body, headers).await
    }

    pub async fn shutdown(self) {
        self.relay.shutdown().await;
        self.sim.shutdown().await;
    }
}

pub fn sign_with(
    keyring: &Keyring,
    body: &[u8],
    event_id: &str,
    retry: u32,
    tt: i64,
) -> Vec<(String, String)> {
    keyring
        .sign_delivery(body, TENANT, "sandbox-customer", event_id, retry, tt as u64)
        .pairs()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

pub async fn post(
    http: &reqwest::Client,
    url: &str,
    body: &[u8],
    headers: &[(String, String)],
) -> reqwest::Response {
    let mut req = http
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    req.send().await.expect("the relay answers")
}

pub fn message_body(conversation: &str, text: &str) -> Vec<u8> {
    serde_json::json!({
        "eventType": "MESSAGE",
        "conversationId": conversation,
        "timestamp": now_ms(),
        "data": {"isEcho": false, "sender": {"id": "agent-1", "type": "agent"}, "text": text}
    })
    .to_string()
    .into_bytes()
}

/// Statuses of a delivery that went to the conversation engine (queued, whether or not
/// an engine has taken it yet): the original of its event.
pub fn queued(status: &str) -> bool {
    matches!(status, "pending" | "processed" | "failed")
}

pub fn event_id() -> String {
    switchboard_types::token::generate()[..22].to_string()
}

/// A webhook receiver that answers 204 to everything: for tests where 8x8's events
/// must not reach the relay (its conversation engine would act on them and make API
/// calls of its own, racing the test's injected faults).
pub async fn noop_receiver() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(|| async { axum::http::StatusCode::NO_CONTENT });
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// Every request the client sends is checked against the OpenAPI document; failures
/// are collected and asserted empty by [`ContractLog::assert_clean`].
#[derive(Clone, Default)]
pub struct ContractLog {
    pub sent: Arc<Mutex<Vec<SentRequest>>>,
    pub violations: Arc<Mutex<Vec<String>>>,
}

impl ContractLog {
    pub fn client(&self, base_url: &str, policy: RetryPolicy) -> ChatGatewayClient {
        let log = self.clone();
        ChatGatewayClient::with_policy(
            Connection {
                base_url: base_url.into(),
                tenant: Some(TENANT.into()),
                api_key: Secret::new(KEY),
            },
            policy,
        )
        .observe(Arc::new(move |r: &SentRequest| log.check(r)))
    }

    pub fn check(&self, r: &SentRequest) {
        let body = match &r.body {
            // Multipart: only its presence can be checked.
            Some(serde_json::Value::Null) => Some(serde_json::json!({})),
            other => other.clone(),
        };
        let multipart = matches!(r.body, Some(serde_json::Value::Null));
        let result = if multipart {
            Contract::get()
                .find_operation(&r.method, &r.path)
                .map(|_| ())
                .ok_or_else(|| vec![format!("{} {} is not an operation", r.method, r.path)])
        } else {
            Contract::get().validate_request(&r.method, &r.path, body.as_ref())
        };
        if let Err(errors) = result {
            self.violations.lock().unwrap().extend(errors);
        }
        self.sent.lock().unwrap().push(r.clone());
    }

    pub fn assert_clean(&self) {
        let v = self.violations.lock().unwrap();
        assert!(
            v.is_empty(),
            "requests outside the OpenAPI contract: {v:#?}"
        );
        assert!(
            !self.sent.lock().unwrap().is_empty(),
            "no request was checked"
        );
    }
}

pub fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
        timeout: Duration::from_secs(5),
    }
}

/// The usual hang guard of a wait (never a speed bound).
pub const WAIT: Duration = Duration::from_secs(10);

/// How often [`eventually`] asks again.
const POLL_EVERY: Duration = Duration::from_millis(20);

/// Asks `f` until it answers `Some`, and returns that; panics with `what` once `timeout`
/// has passed without one. Every wait in these tests goes through here. `what` is
/// formatted only on timeout, so it may describe the state at that moment.
pub async fn eventually<T>(
    what: impl fmt::Display,
    timeout: Duration,
    f: impl AsyncFnMut() -> Option<T>,
) -> T {
    switchboard_testkit::eventually(what, timeout, POLL_EVERY, f).await
}
